//! A run's checkpoint: the state of training at the end of its last epoch, kept where the run's
//! unfinished output lives, so that a killed run continues exactly where it stopped.
//!
//! A plan trains in phases: one per network when each learns from its own labels, one for all
//! of them when they learn from constraints together. `state.json` is written last, by a rename,
//! and names the files it needs (`p{phase}-e{epoch}-net{i}.bpk`, `…-optim{i}.bpk`): a run killed
//! while writing leaves the previous checkpoint whole.

use crate::model::Net;
use crate::report::Source;
use crate::settings::Settings;
use crate::train::{optimizer, Epoch, State};
use burn::module::Module;
use burn::optim::OptimizerRecord;
use serde::{Deserialize, Serialize};
use skilang_data::rng::Rng;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const FORMAT: u32 = 1;
const STATE: &str = "state.json";

/// A phase of training that has ended.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Phase {
    /// The learnable, or learnables joined by `+`, that it trained.
    pub name: String,
    pub epochs: Vec<Epoch>,
    /// The epoch whose networks were kept.
    pub kept: usize,
    /// Training examples skipped as impossible in its last epoch.
    pub impossible: usize,
    /// How many networks it trained.
    pub nets: usize,
}

/// The phase under way at the last epoch's end.
#[derive(Serialize, Deserialize)]
struct Current {
    name: String,
    epochs: Vec<Epoch>,
    rng: u64,
    /// The best validation score and its epoch.
    best: Option<(f64, usize)>,
    impossible: usize,
    done: bool,
    nets: usize,
}

#[derive(Serialize, Deserialize)]
struct Saved {
    format: u32,
    spec_sha256: String,
    overrides: Vec<String>,
    /// Seconds of training up to this checkpoint.
    train_seconds: f64,
    finished: Vec<Phase>,
    current: Option<Current>,
}

/// Where a run keeps its checkpoint, and the one it resumes from.
pub struct Checkpoints {
    dir: PathBuf,
    source: Source,
    saved: Option<Saved>,
}

fn net_file(phase: usize, epoch: usize, i: usize) -> String {
    format!("p{phase}-e{epoch}-net{i}.bpk")
}

fn optim_file(phase: usize, epoch: usize, i: usize) -> String {
    format!("p{phase}-e{epoch}-optim{i}.bpk")
}

impl Checkpoints {
    /// Checkpoints of a new run of `source`, written into `dir`.
    pub fn new(dir: &Path, source: &Source) -> Checkpoints {
        Checkpoints { dir: dir.to_path_buf(), source: source.clone(), saved: None }
    }

    /// The checkpoint in `dir`, refused when it was written for another spec text or other
    /// overrides than `source`'s.
    pub fn resume(dir: &Path, source: &Source) -> Result<Checkpoints, String> {
        let path = dir.join(STATE);
        let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let saved: Saved =
            serde_json::from_str(&text).map_err(|e| format!("{} is not a checkpoint: {e}", path.display()))?;
        if saved.format != FORMAT {
            return Err(format!(
                "{}: checkpoint format {} (this skilang reads {FORMAT})",
                path.display(),
                saved.format
            ));
        }
        if saved.spec_sha256 != source.spec_sha256 {
            return Err(format!(
                "the checkpoint in {} was written for another text of the spec; a resumed run must train the same spec",
                dir.display()
            ));
        }
        if saved.overrides != source.overrides {
            return Err(format!(
                "the checkpoint in {} was written with the settings [{}], not [{}]; resume with the same --set and flags",
                dir.display(),
                saved.overrides.join(" "),
                source.overrides.join(" ")
            ));
        }
        Ok(Checkpoints { dir: dir.to_path_buf(), source: source.clone(), saved: Some(saved) })
    }

    /// Every epoch the checkpoint holds, with the name of what it trained, in order.
    pub fn epochs(&self) -> Vec<(String, Epoch)> {
        let Some(saved) = &self.saved else { return Vec::new() };
        let finished = saved.finished.iter().map(|p| (&p.name, &p.epochs));
        let current = saved.current.iter().map(|c| (&c.name, &c.epochs));
        finished.chain(current).flat_map(|(n, es)| es.iter().map(move |e| (n.clone(), e.clone()))).collect()
    }

    /// Seconds of training before the checkpoint.
    pub fn seconds_before(&self) -> f64 {
        self.saved.as_ref().map_or(0.0, |s| s.train_seconds)
    }

    /// Phase `phase`, when the checkpoint holds it finished.
    pub(crate) fn finished(&self, phase: usize) -> Option<&Phase> {
        self.saved.as_ref().and_then(|s| s.finished.get(phase))
    }

    /// Phase `phase`'s state at the checkpoint, when it was under way (its networks loaded into
    /// `nets`); else a fresh state.
    pub(crate) fn state(&self, phase: usize, nets: Vec<Net>, rng: Rng, s: &Settings) -> Result<State, String> {
        let current =
            self.saved.as_ref().filter(|saved| saved.finished.len() == phase).and_then(|s| s.current.as_ref());
        let Some(c) = current else { return Ok(State::new(nets, rng, s)) };
        let last = c.epochs.len();
        let mut state = State::new(self.load_nets(phase, last, nets.clone())?, Rng::resumed(c.rng), s);
        for (i, optim) in state.optims.iter_mut().enumerate() {
            let file = self.dir.join(optim_file(phase, last, i));
            let record = OptimizerRecord::load(&file).map_err(|e| format!("cannot read {}: {e:?}", file.display()))?;
            *optim = optimizer(s).load_record(record);
        }
        if let Some((score, epoch)) = c.best {
            state.best.best = Some((score, self.load_nets(phase, epoch, nets)?, epoch));
        }
        state.epochs = c.epochs.clone();
        state.impossible = c.impossible;
        state.done = c.done;
        Ok(state)
    }

    /// The networks phase `phase` had at the end of `epoch`, loaded into `nets`.
    pub(crate) fn load_nets(&self, phase: usize, epoch: usize, nets: Vec<Net>) -> Result<Vec<Net>, String> {
        let load = |(i, net): (usize, Net)| {
            let file = self.dir.join(net_file(phase, epoch, i));
            net.try_load_file(&file).map_err(|e| format!("cannot read {}: {e:?}", file.display()))
        };
        nets.into_iter().enumerate().map(load).collect()
    }

    /// Saves the end of an epoch: the phases `finished` (their networks were saved when they
    /// ran), and `state` of phase `name`, after `train_seconds` of training.
    pub(crate) fn save(
        &mut self,
        finished: &[Phase],
        name: &str,
        state: &State,
        train_seconds: f64,
    ) -> Result<(), String> {
        let io = |e: std::io::Error, what: &Path| format!("cannot write the checkpoint {}: {e}", what.display());
        std::fs::create_dir_all(&self.dir).map_err(|e| io(e, &self.dir))?;
        let (phase, epoch) = (finished.len(), state.epochs.len());
        for (i, net) in state.nets.iter().enumerate() {
            let file = self.dir.join(net_file(phase, epoch, i));
            net.clone().save_file(&file).map_err(|e| format!("cannot write {}: {e:?}", file.display()))?;
        }
        for (i, optim) in state.optims.iter().enumerate() {
            let file = self.dir.join(optim_file(phase, epoch, i));
            optim.to_record().save(&file).map_err(|e| format!("cannot write {}: {e:?}", file.display()))?;
        }
        let saved = Saved {
            format: FORMAT,
            spec_sha256: self.source.spec_sha256.clone(),
            overrides: self.source.overrides.clone(),
            train_seconds,
            finished: finished.to_vec(),
            current: Some(Current {
                name: name.to_string(),
                epochs: state.epochs.clone(),
                rng: state.rng.state(),
                best: state.best.best.as_ref().map(|(score, _, epoch)| (*score, *epoch)),
                impossible: state.impossible,
                done: state.done,
                nets: state.nets.len(),
            }),
        };
        let path = self.dir.join(STATE);
        let next = self.dir.join("state.json.next");
        std::fs::write(&next, serde_json::to_string(&saved).unwrap_or_default()).map_err(|e| io(e, &next))?;
        std::fs::rename(&next, &path).map_err(|e| io(e, &path))?;
        // Only now are the files of earlier epochs no longer needed.
        let needed = saved.needed();
        for entry in std::fs::read_dir(&self.dir).map_err(|e| io(e, &self.dir))?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".bpk") && !needed.contains(&name) {
                std::fs::remove_file(entry.path()).ok();
            }
        }
        self.saved = Some(saved);
        Ok(())
    }
}

impl Saved {
    /// The files this checkpoint reads.
    fn needed(&self) -> BTreeSet<String> {
        let mut files = BTreeSet::new();
        for (phase, p) in self.finished.iter().enumerate() {
            files.extend((0..p.nets).map(|i| net_file(phase, p.kept, i)));
        }
        if let Some(c) = &self.current {
            let (phase, last) = (self.finished.len(), c.epochs.len());
            for i in 0..c.nets {
                files.insert(net_file(phase, last, i));
                files.insert(optim_file(phase, last, i));
                files.extend(c.best.map(|(_, epoch)| net_file(phase, epoch, i)));
            }
        }
        files
    }
}
