//! One run of a checked spec, as a library: its data and each learnable's task, its networks,
//! training by the plan `check` made, and the typed [`Report`]. The CLI adds what a person needs
//! (downloads, progress bars, files); the benchmarks call this directly.

use crate::batch::Reader;
use crate::checkpoint::{Checkpoints, Phase};
use crate::columnwise::columns;
use crate::emp::{self, MovingRatios};
use crate::evaluate::{satisfaction, Satisfaction};
use crate::examples::{examples, Examples, Prepare, WeakError};
use crate::input::InputShape;
use crate::metrics::{from_predictions, predict, shots};
use crate::model::{expand, Net};
use crate::objective;
use crate::objective::lp::Ratios;
use crate::report::{ConstraintReport, FuzzySettings, Grounding, Report, Source, TrainingFigures};
use crate::rules::{attach_leaves, embed, leaf_values, RuleLayer};
use crate::settings::Settings;
use crate::supervised::Supervised;
use crate::task::{task, Split, Task};
use crate::test_time;
use crate::train::{fit, Epoch, Learner, Progress, State, TrainError};
use crate::weak::Constrained;
use burn::module::Module;
use burn::prelude::Device;
use skilang_data::rng::Rng;
use skilang_data::{Data, Values};
use skilang_lang::check::{ConstraintInfo, Engine, Program, Reasoning, Training};
use skilang_lang::source::Span;
use skilang_lang::spec::{Column, Dataset, Injection, Model, Prior, Spec};
use skilang_logic::rulenet::rule_net;
use skilang_logic::{Formulas, Logic, RuleNet};
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

/// Why a run cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A problem at a place in the spec.
    #[error("{message}")]
    Located { span: Span, message: String },
    /// A dataset could not be read.
    #[error("{0}")]
    Data(String),
    /// The spec does not fit its data, or asks what its data cannot give.
    #[error("{0}")]
    Invalid(String),
}

impl From<TrainError> for RunError {
    fn from(e: TrainError) -> RunError {
        match e {
            TrainError::Learn(e) => e.into(),
            TrainError::Checkpoint(m) => RunError::Data(m),
        }
    }
}

impl From<WeakError> for RunError {
    fn from(e: WeakError) -> RunError {
        match e {
            WeakError::Ground(g) => RunError::Located { span: g.span, message: g.message },
            e => RunError::Invalid(e.to_string()),
        }
    }
}

/// What a person should know as a run goes: data notes, the rules a run injects, grounding.
pub enum Note<'a> {
    Data(&'a str),
    Rules { injection: &'static str, leaves: usize, units: usize, guards: usize },
    Grounded { train: usize, test: usize, seconds: f64, largest_diagram: Option<usize> },
}

/// A checked spec with its data and each learnable's task, ready to train or evaluate.
pub struct Run {
    pub spec: Spec,
    pub program: Program,
    pub settings: Settings,
    pub tasks: Vec<Task>,
    /// Every dataset a learnable reads, by name.
    pub data: HashMap<String, Data>,
    /// Structuring's rule network (its leaves already end each task's inputs).
    structure: Option<RuleNet>,
    /// Embedding: the rules' truth values that end each task's inputs.
    embedded: usize,
}

/// The networks a run trained and what training measured.
pub struct Trained<'a> {
    pub nets: Vec<Net>,
    pub figures: TrainingFigures,
    /// Learning from constraints: its examples (the test ones are evaluated by [`Run::report`]).
    pub examples: Option<Examples<'a>>,
}

impl Run {
    /// Reads every dataset a learnable reads through `load`, builds each learnable's task and,
    /// for embedding and structuring, appends the rules over observed inputs to its inputs.
    pub fn new(
        spec: Spec,
        program: Program,
        load: &mut dyn FnMut(&Dataset, u64) -> Result<Data, String>,
        note: &mut dyn FnMut(Note),
    ) -> Result<Run, RunError> {
        let injection = program.training.injection();
        let rules = match injection {
            Injection::Embedding | Injection::Structuring => Some(
                rule_net(&spec, &program, injection.name())
                    .map_err(|e| RunError::Located { span: e.span, message: e.to_string() })?,
            ),
            _ => None,
        };
        let settings = Settings::from_spec(&spec.optimization);
        let mut data: HashMap<String, Data> = HashMap::new();
        let mut tasks = Vec::new();
        for (learnable, info) in spec.learnables.iter().zip(&program.learnables) {
            let d = info.output_column.dataset(&spec);
            if !data.contains_key(&d.name.name) {
                let loaded = load(d, settings.seed).map_err(RunError::Data)?;
                loaded.notes.iter().for_each(|n| note(Note::Data(n)));
                data.insert(d.name.name.clone(), loaded);
            }
            let inputs: Vec<&Column> = info.input_columns.iter().map(|c| c.column(&spec)).collect();
            let t = task(learnable, d, &data[&d.name.name], &inputs, info.output_column.column(&spec))
                .map_err(|e| RunError::Invalid(e.to_string()))?;
            tasks.push(t);
        }
        let (mut structure, mut embedded) = (None, 0);
        if let Some(rules) = rules {
            let grounder = Formulas::new(&spec, &program);
            for (t, info) in tasks.iter_mut().zip(&program.learnables) {
                let d = info.output_column.dataset;
                let loaded = &data[&spec.datasets[d].name.name];
                let leaves = |table| {
                    leaf_values(&rules, &grounder, &spec, d, table)
                        .map_err(|e| RunError::Located { span: e.span, message: e.message })
                };
                let (train, test) = (leaves(&loaded.train)?, leaves(&loaded.test)?);
                let extend = if injection == Injection::Embedding { embed } else { attach_leaves };
                extend(t, &rules, &train, &test)
                    .map_err(|reason| RunError::Invalid(format!("learnable `{}`: {reason}", t.learnable)))?;
            }
            note(Note::Rules {
                injection: injection.name(),
                leaves: rules.leaves.len(),
                units: rules.units.len(),
                guards: rules.guards.len(),
            });
            match injection {
                Injection::Embedding => embedded = rules.units.len(),
                _ => structure = Some(rules),
            }
        }
        // The tasks hold their own copy of the images; formulas never read pixels, so the
        // datasets the grounder keeps need not hold them twice (55 MB for MNIST).
        for table in data.values_mut().flat_map(|d| [&mut d.train, &mut d.test]) {
            table.columns.retain(|(_, values)| !matches!(values, Values::Images { .. }));
        }
        Ok(Run { spec, program, settings, tasks, data, structure, embedded })
    }

    /// Each learnable's network, initialised on `device`.
    pub fn build(&self, device: &Device) -> Result<Vec<Net>, RunError> {
        let nets = self.spec.learnables.iter().zip(&self.tasks).enumerate().map(|(i, (l, t))| {
            let layers = expand(&l.model);
            let classes = t.classes.len();
            match (&self.structure, t.input) {
                (Some(rules), InputShape::Vector(width)) => {
                    let units = RuleLayer::new(rules, i, classes, device);
                    Net::structured(&l.name.name, &layers, width, classes, units, rules.leaves.len(), device)
                }
                (None, InputShape::Vector(width)) if self.embedded > 0 => {
                    Net::embedded(&l.name.name, &layers, width, classes, self.embedded, device)
                }
                _ => Net::new(&l.name.name, &layers, t.input, classes, t.cells, device).map(|n| {
                    if self.settings.records {
                        n.with_records(device)
                    } else {
                        n
                    }
                }),
            }
            .map_err(|e| match &l.model {
                Model::Layers(written) if e.layer <= written.len() => {
                    RunError::Located { span: written[e.layer - 1].span, message: e.to_string() }
                }
                _ => RunError::Invalid(e.to_string()),
            })
        });
        nets.collect()
    }

    /// `nets` (as [`Run::build`] made them) with the weights each learnable names put in, and the
    /// frozen ones kept from training. Training calls it; evaluating a saved model does not, as
    /// the model's own weights replace these.
    pub fn start_from_weights(&self, nets: Vec<Net>, device: &Device) -> Result<Vec<Net>, RunError> {
        let nets = self.spec.learnables.iter().zip(nets).map(|(l, net)| {
            let Some(w) = &l.weights else { return Ok(net) };
            let file = crate::weights::file_for(&w.value, &l.name.name);
            let tensors = crate::weights::read(&file).map_err(|m| RunError::Located { span: w.span, message: m })?;
            let net = crate::weights::load(net, &tensors, device).map_err(|m| RunError::Located {
                span: w.span,
                message: format!("the weights of `{}` in {}: {m}", l.name.name, file.display()),
            })?;
            Ok(if l.frozen { net.no_grad() } else { net })
        });
        nets.collect()
    }

    /// Whether the plan learns from the constraints of examples (and is scored on them).
    pub fn learns_from_constraints(&self) -> bool {
        self.program.training.learns_from_constraints()
    }

    /// The examples of learning from constraints, the training ones prepared as `train_as` says
    /// (`None`: the test examples alone).
    pub fn examples(&self, train_as: Option<&Prepare>) -> Result<Examples<'_>, RunError> {
        examples(&self.spec, &self.program, &self.data, &self.settings, train_as).map_err(|e| match e {
            // An example too large for the engine is the constraint's: point at it.
            WeakError::TooLarge { constraint, reason } => RunError::Located {
                span: self.spec.constraints[constraint.position()].span,
                message: format!("constraint {constraint} grounds an example too large to prepare: {reason}"),
            },
            e => e.into(),
        })
    }

    /// Grounds the training examples as training would (nothing for the plans without them), and
    /// how many there are.
    pub fn ground(&self) -> Result<Option<usize>, RunError> {
        match objective::of(self.program.training, None, None) {
            Some((prepare, _)) => Ok(Some(self.examples(Some(&prepare))?.train.len())),
            None => Ok(None),
        }
    }

    /// Trains `nets` by the plan: each on its output column, or all together from the examples'
    /// constraints with the plan's objectives. With `checkpoints`, every epoch's end is saved
    /// there, and training continues from the checkpoint they were resumed from.
    pub fn train(
        &self,
        nets: Vec<Net>,
        device: &Device,
        progress: &mut dyn FnMut(&str, Progress),
        note: &mut dyn FnMut(Note),
        checkpoints: Option<&mut Checkpoints>,
    ) -> Result<Trained<'_>, RunError> {
        let before = checkpoints.as_ref().map_or(0.0, |c| c.seconds_before());
        let s = &self.settings;
        let mut phases = Phases { device, finished: Vec::new(), checkpoints, started: Instant::now(), before };
        let prior = match self.program.training {
            Training::Reasoned { objective: Reasoning::Lp { prior, .. }, .. } => Some(prior),
            _ => None,
        };
        let classes: Vec<usize> = self.tasks.iter().map(|t| t.classes.len()).collect();
        let ratios = match prior {
            Some(Prior::Emp) => Some(Ratios::Moving(MovingRatios::new(emp::uniform(&classes), emp::PRE_GAMMA))),
            Some(prior) => Some(Ratios::Fixed(test_time::ratios(self, prior, &nets, device)?)),
            None => None,
        };
        let plan_with = |ratios| {
            objective::of(self.program.training, columns(&self.spec, &self.program, &self.data, false), ratios)
        };
        let Some((prepare, objectives)) = plan_with(ratios) else {
            let mut trained = Vec::new();
            for ((t, net), l) in self.tasks.iter().zip(nets).zip(&self.spec.learnables) {
                // A frozen network keeps the weights it was given.
                if l.frozen {
                    trained.push(net);
                    continue;
                }
                let mut rng = Rng::new(self.settings.seed);
                let learner = Supervised::new(t, s, &mut rng, device);
                let name = &t.learnable;
                trained.extend(phases.run(s, &learner, name, vec![net], rng, &mut |e| progress(name, e))?);
            }
            let kept = phases.finished.iter().map(|p| (p.name.clone(), p.kept)).collect();
            let figures = phases.figures(kept, None);
            return Ok(Trained { nets: trained, figures, examples: None });
        };
        let grounding = Instant::now();
        let examples = self.examples(Some(&prepare))?;
        let grounding_seconds = grounding.elapsed().as_secs_f64();
        // Only decision diagrams have nodes; enumeration's size is its satisfying assignments.
        let diagrams = matches!(self.program.training, Training::Reasoned { engine: Engine::Exact, .. });
        let sizes = examples.train.iter().flat_map(|e| e.constraints.iter().map(|c| c.size())).max().filter(|&n| n > 0);
        let largest = sizes.filter(|_| diagrams);
        note(Note::Grounded {
            train: examples.train.len(),
            test: examples.test.len(),
            seconds: grounding_seconds,
            largest_diagram: largest,
        });
        let name = self.tasks.iter().map(|t| t.learnable.as_str()).collect::<Vec<_>>().join("+");
        let readers: Vec<Reader> = self.tasks.iter().map(|t| reader(t, &t.train)).collect();
        let learner = |objectives| Constrained {
            readers: &readers,
            train: &examples.train,
            valid: &examples.valid,
            objectives,
            device,
        };
        let rng = Rng::new(s.seed);
        let nets = if prior == Some(Prior::Emp) {
            // EMP pre-estimates the ratios by training from uniform ones with a larger step,
            // then trains again from the starting networks, the ratios carried over.
            let pre = Settings { epochs: emp::PRE_EPOCHS.min(s.epochs), ..s.clone() };
            let pre_name = format!("{name} (EMP pre-estimation)");
            phases.run(&pre, &learner(&objectives), &pre_name, nets.clone(), rng.clone(), &mut |e| {
                progress(&pre_name, e)
            })?;
            let estimated = phases.finished[0].epochs.last().and_then(|e| e.prior_ratios.clone());
            let moving = MovingRatios::new(estimated.unwrap_or_else(|| emp::uniform(&classes)), emp::GAMMA);
            let (_, objectives) = plan_with(Some(Ratios::Moving(moving))).expect("LP learns from constraints");
            phases.run(s, &learner(&objectives), &name, nets, rng, &mut |e| progress(&name, e))?
        } else {
            phases.run(s, &learner(&objectives), &name, nets, rng, &mut |e| progress(&name, e))?
        };
        let phase = phases.finished.last().expect("a phase has trained");
        let kept = self.tasks.iter().map(|t| (t.learnable.clone(), phase.kept)).collect();
        let grounding = Grounding {
            train_examples: examples.train.len(),
            impossible_train_examples: phase.impossible,
            grounding_seconds,
            largest_diagram_nodes: largest,
            largest_cnf_literals: sizes.filter(|_| matches!(self.program.training, Training::Ste { .. })),
        };
        let figures = phases.figures(kept, Some(grounding));
        Ok(Trained { nets, figures, examples: Some(examples) })
    }

    /// The test figures of `nets`, and each constraint's satisfaction on the test set (`test`:
    /// the examples training drew, when it did).
    pub fn report(
        &self,
        source: Source,
        nets: &[Net],
        test: Option<&Examples>,
        device: &Device,
    ) -> Result<Report, RunError> {
        let started = Instant::now();
        let (mut symbol, mut per_class, mut per_class_f1) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
        let (mut balanced, mut shot) = (BTreeMap::new(), BTreeMap::new());
        let (mut accuracies, mut macro_f1s) = (Vec::new(), Vec::new());
        let by_class = |values: &[(String, Option<f64>)]| values.iter().cloned().collect::<BTreeMap<_, _>>();
        let valid: Vec<Net> = nets.iter().map(|n| n.valid()).collect();
        // Each network's most likely class on every test row: its metrics, and the constraints'.
        let mut predicted: Vec<Vec<u32>> =
            self.tasks.iter().zip(&valid).map(|(t, n)| predict(n, t, &t.test, device)).collect();
        let mut correction = None;
        if let Some(plan) = &self.program.correction {
            let (corrected, mut report) = test_time::correct(self, plan, &valid, device)?;
            for (t, plain) in self.tasks.iter().zip(&predicted) {
                let m = from_predictions(&t.classes, &t.test.labels, plain);
                report.uncorrected_symbol_accuracy.insert(t.learnable.clone(), m.accuracy);
                report.uncorrected_balanced_accuracy.insert(t.learnable.clone(), m.balanced_accuracy);
            }
            predicted = corrected;
            correction = Some(report);
        }
        let mut grid = BTreeMap::new();
        for (t, predicted) in self.tasks.iter().zip(&predicted) {
            let m = from_predictions(&t.classes, &t.test.labels, predicted);
            if t.cells > 1 {
                let rows = t.test.labels.chunks(t.cells).zip(predicted.chunks(t.cells));
                let right = rows.filter(|(gold, guess)| gold == guess).count();
                grid.insert(t.learnable.clone(), right as f64 / t.test.len().max(1) as f64);
            }
            accuracies.push(m.accuracy);
            macro_f1s.push(m.macro_f1);
            symbol.insert(t.learnable.clone(), m.accuracy);
            balanced.insert(t.learnable.clone(), m.balanced_accuracy);
            // Training frequency is the pool's: examples draw their instances from it uniformly.
            let accuracies: Vec<Option<f64>> = m.per_class_accuracy.iter().map(|(_, a)| *a).collect();
            if let Some(s) = shots(&accuracies, &class_counts(&t.train.labels, t.classes.len())) {
                shot.insert(t.learnable.clone(), s);
            }
            per_class.insert(t.learnable.clone(), by_class(&m.per_class_accuracy));
            per_class_f1.insert(t.learnable.clone(), by_class(&m.per_class_f1));
        }
        let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len().max(1) as f64;
        // The constraints on the test set, under the networks' most likely classes. A supervised
        // run reports them when its spec's constraints can be grounded (it does not need them).
        let reasons = self.learns_from_constraints();
        let grounded = match test {
            Some(_) => None,
            None if reasons => Some(self.examples(None)?),
            None => self.examples(None).ok(),
        };
        let test = test.or(grounded.as_ref());
        let satisfied = match test {
            Some(test) => {
                let logic = match self.program.training {
                    Training::Fuzzy { semantics, implication, .. } => Logic::new(semantics, implication),
                    _ => Logic::product(),
                };
                let cols = columns(&self.spec, &self.program, &self.data, true);
                let cols = cols.as_ref().map(|c| (c, logic));
                let classes: Vec<usize> = self.tasks.iter().map(|t| t.classes.len()).collect();
                let cells: Vec<usize> = self.tasks.iter().map(|t| t.cells).collect();
                Some(satisfaction(&predicted, (&classes, &cells), &test.test, cols, device)?)
            }
            None => None,
        };
        let constraints = match &satisfied {
            Some(s) => self.program.constraints.iter().map(|c| constraint_report(c, s)).collect(),
            None => Vec::new(),
        };
        // Supervised: the task is predicting each learnable's output column. Otherwise: test
        // examples whose constraints all hold under the networks' most likely classes.
        let (task_accuracy, test_examples) = match (reasons, &satisfied, test) {
            (true, Some(s), Some(t)) => (s.task_accuracy, t.test.len()),
            _ => (mean(&accuracies), self.tasks.first().map_or(0, |t| t.test.len())),
        };
        let (inference, fuzzy) = match self.program.training {
            Training::Reasoned { engine, .. } => (Some(engine.name()), None),
            Training::Fuzzy { semantics, implication, loss } => {
                let implication = Logic::new(semantics, implication).implication.name();
                (None, Some(FuzzySettings { semantics: semantics.name(), implication, loss: loss.name() }))
            }
            _ => (None, None),
        };
        Ok(Report {
            source,
            seed: self.settings.seed,
            injection: self.program.training.injection().name(),
            inference,
            fuzzy,
            task_accuracy,
            symbol_accuracy: symbol,
            grid_accuracy: grid,
            macro_f1: mean(&macro_f1s),
            balanced_accuracy: balanced,
            shot_accuracy: shot,
            per_class_accuracy: per_class,
            per_class_f1,
            correction,
            weights_sha256: self.tasks.iter().zip(nets).map(|(t, n)| (t.learnable.clone(), n.checksum())).collect(),
            constraints,
            test_examples,
            device: "cpu (burn flex)",
            evaluation_seconds: started.elapsed().as_secs_f64(),
            peak_rss_bytes: peak_rss_bytes(),
            training: None,
            model: None,
            provenance: None,
        })
    }
}

/// The phases a run has trained, and where it saves them.
struct Phases<'r> {
    device: &'r Device,
    finished: Vec<Phase>,
    checkpoints: Option<&'r mut Checkpoints>,
    started: Instant,
    /// Seconds trained before the checkpoint this run resumed from.
    before: f64,
}

impl Phases<'_> {
    /// Trains `nets` with `learner` as the next phase, from the checkpoint when it holds this
    /// phase; the networks kept.
    fn run(
        &mut self,
        s: &Settings,
        learner: &dyn Learner,
        name: &str,
        nets: Vec<Net>,
        rng: Rng,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Vec<Net>, RunError> {
        let phase = self.finished.len();
        let state = match self.checkpoints.as_deref() {
            Some(c) => match c.finished(phase) {
                Some(done) => {
                    let nets = c.load_nets(phase, done.kept, nets).map_err(RunError::Invalid)?;
                    self.finished.push(done.clone());
                    return Ok(nets);
                }
                None => c.state(phase, nets, rng, s).map_err(RunError::Invalid)?,
            },
            None => State::new(nets, rng, s),
        };
        let (finished, started, before) = (&self.finished, self.started, self.before);
        let mut checkpoints = self.checkpoints.as_deref_mut();
        let mut save = |state: &State| match checkpoints.as_deref_mut() {
            Some(c) => c.save(finished, name, state, before + started.elapsed().as_secs_f64()),
            None => Ok(()),
        };
        let state = fit(learner, state, s, self.device, progress, &mut save)?;
        let (epochs, impossible) = (state.epochs.clone(), state.impossible);
        let (nets, kept) = state.kept();
        self.finished.push(Phase { name: name.to_string(), epochs, kept, impossible, nets: nets.len() });
        Ok(nets)
    }

    fn figures(self, kept_epoch: BTreeMap<String, usize>, grounding: Option<Grounding>) -> TrainingFigures {
        let curves: BTreeMap<String, Vec<Epoch>> = self.finished.into_iter().map(|p| (p.name, p.epochs)).collect();
        let epochs = curves.values().map(Vec::len).max().unwrap_or(0);
        let train_seconds = self.before + self.started.elapsed().as_secs_f64();
        TrainingFigures { epochs, kept_epoch, train_seconds, curves, grounding }
    }
}

/// How often each of `classes` classes occurs in `labels`.
pub(crate) fn class_counts(labels: &[u32], classes: usize) -> Vec<usize> {
    let mut counts = vec![0; classes];
    labels.iter().filter(|&&c| (c as usize) < classes).for_each(|&c| counts[c as usize] += 1);
    counts
}

/// A split's inputs, without its labels, for learning from constraints.
fn reader<'a>(t: &Task, split: &'a Split) -> Reader<'a> {
    Reader { shape: t.input, inputs: &split.inputs, classes: t.classes.len(), cells: t.cells, augment: t.augment }
}

/// One constraint's line of the report, from how the test set meets it.
fn constraint_report(c: &ConstraintInfo, s: &Satisfaction) -> ConstraintReport {
    let source = match (c.kind, c.formulas.as_slice()) {
        ("if-then", [a, b]) => format!("if: {a}, then: {b}"),
        ("iff", [a, b]) => format!("iff: [{a}, {b}]"),
        (kind, f) => format!("{kind}: {}", f.join(", ")),
    };
    let mut r = ConstraintReport {
        index: c.id.number(),
        name: c.name.clone(),
        source,
        weight: c.weight,
        trained: c.trained,
        measured: c.measured,
        examples: None,
        satisfaction: None,
        value: None,
    };
    if let Some(&(n, holds)) = s.instance.get(&c.id) {
        r.examples = Some(n);
        r.satisfaction = Some(holds as f64 / n.max(1) as f64);
    } else if let Some(&(holds, lhs)) = s.column.get(&c.id) {
        r.satisfaction = Some(holds as u8 as f64);
        r.value = Some(lhs);
    }
    r
}

/// Peak resident memory of this process, where the system reports it.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
