//! The folder a training run writes: claimed before any data is read, filled in a staging folder
//! beside it, and moved into place only when the run succeeds. A run never deletes what it did not
//! write: an existing folder is replaced only when it holds nothing but a previous run, and only
//! when the user asked for that with `--force`. The staging folder holds the run's checkpoint: a
//! killed run leaves it behind, and `--resume` claims it again.

use crate::exit;
use crate::exit::Failure;
use std::path::{Path, PathBuf};

/// What a run writes into its folder; a folder holding anything else is not a previous run.
const RUN_FILES: &[&str] = &["report.json", "metrics.jsonl", "curves.svg", "model"];
const MODEL_FILES: &[&str] = &["spec.yaml", "overrides.json"];

/// A claimed output folder: the staging folder exists (so the place is writable) and is removed
/// again unless the run is committed.
pub struct Staging {
    out: PathBuf,
    tmp: PathBuf,
    /// Folders above `out` that the claim created, deepest first: removed with the staging folder.
    created: Vec<PathBuf>,
    replace: bool,
    committed: bool,
    /// A resumed run keeps its staging folder when it fails: the checkpoint can be resumed again.
    keep: bool,
}

fn refuse(message: String) -> Failure {
    Failure::new(exit::USAGE, message)
}

fn io(e: std::io::Error, what: &Path) -> Failure {
    refuse(format!("cannot write {}: {e}", what.display()))
}

/// Claims `out` for a run of `spec`. Refused: the current folder or one above it, the spec's
/// folder or one above it, the home folder, a file, and a non-empty folder that is not a previous
/// run; a previous run unless `force`. Creates the staging folder, proving that `out` is writable.
pub fn claim(out: &Path, spec: &Path, force: bool) -> Result<Staging, Failure> {
    let (absolute, replace) = allowed(out, spec, force)?;
    if let Some(killed) = killed_runs(&absolute).first() {
        eprintln!(
            "note: {} holds the checkpoint of a killed run of {}; `--resume` continues it",
            killed.display(),
            out.display()
        );
    }
    let mut created = Vec::new();
    let mut missing = absolute.parent();
    while let Some(dir) = missing.filter(|d| !d.exists()) {
        created.push(dir.to_path_buf());
        missing = dir.parent();
    }
    let shown = out.display();
    if let Some(parent) = absolute.parent() {
        std::fs::create_dir_all(parent).map_err(|e| {
            refuse(format!("--out {shown}: cannot create {} ({e}); nothing was trained", parent.display()))
        })?;
    }
    let tmp = staging_name(&absolute, std::process::id());
    let staging = Staging { out: absolute, tmp, created, replace, committed: false, keep: false };
    std::fs::create_dir(&staging.tmp)
        .map_err(|e| refuse(format!("--out {shown}: cannot write there ({e}); nothing was trained")))?;
    Ok(staging)
}

/// Claims `out` again for the killed run whose staging folder beside it holds a checkpoint (the
/// latest, when several do), on the terms of [`claim`].
pub fn resume(out: &Path, spec: &Path, force: bool) -> Result<Staging, Failure> {
    let (absolute, replace) = allowed(out, spec, force)?;
    let Some(killed) = killed_runs(&absolute).into_iter().next() else {
        return Err(refuse(format!(
            "--resume: no killed run of --out {} to continue (a run keeps its checkpoint in {}PID beside it until it ends)",
            out.display(),
            staging_prefix(&absolute)
        )));
    };
    let tmp = staging_name(&absolute, std::process::id());
    std::fs::rename(&killed, &tmp).map_err(|e| io(e, &killed))?;
    Ok(Staging { out: absolute, tmp, created: Vec::new(), replace, committed: false, keep: true })
}

/// The staging folder of process `pid` for `out`.
fn staging_name(out: &Path, pid: u32) -> PathBuf {
    out.with_file_name(format!("{}{pid}", staging_prefix(out)))
}

/// The name of `out`'s staging folders, before the process id.
fn staging_prefix(out: &Path) -> String {
    format!(".{}.partial-", out.file_name().map_or("run".into(), |n| n.to_string_lossy()))
}

/// Whether process `pid` is running, where the system lists its processes (else: no). A process
/// that has ended but not been reaped yet (a zombie) is not running.
pub fn is_running(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    // `pid (name) state ...`: the name may hold spaces and parentheses, the state follows the last `)`.
    let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next());
    !matches!(state, Some('Z' | 'X'))
}

/// Whether a killed run of `out` left a checkpoint that `--resume` continues.
pub fn has_killed_run(out: &Path) -> bool {
    std::path::absolute(out).is_ok_and(|o| !killed_runs(&o).is_empty())
}

/// The staging folders of `out` that hold a checkpoint and whose process has ended, the latest
/// first.
fn killed_runs(out: &Path) -> Vec<PathBuf> {
    let prefix = staging_prefix(out);
    let Some(parent) = out.parent() else { return Vec::new() };
    let Ok(entries) = std::fs::read_dir(parent) else { return Vec::new() };
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let pid: u32 = name.strip_prefix(&prefix)?.parse().ok()?;
            // Where the system lists its processes, one still running is not a killed run.
            let running = is_running(pid);
            let state = e.path().join("checkpoint/state.json");
            let written = std::fs::metadata(&state).and_then(|m| m.modified()).ok()?;
            (!running).then(|| (written, e.path()))
        })
        .collect();
    found.sort_by_key(|(written, _)| std::cmp::Reverse(*written));
    found.into_iter().map(|(_, p)| p).collect()
}

/// Where `out` may be written, and whether a previous run there is replaced.
fn allowed(out: &Path, spec: &Path, force: bool) -> Result<(PathBuf, bool), Failure> {
    let shown = out.display();
    let absolute = std::path::absolute(out).map_err(|e| io(e, out))?;
    let here = std::env::current_dir().ok().and_then(|d| d.canonicalize().ok());
    let spec_dir = spec.canonicalize().ok().and_then(|s| s.parent().map(Path::to_path_buf));
    let home = std::env::var_os("HOME").map(PathBuf::from).and_then(|h| h.canonicalize().ok());
    if let Ok(real) = absolute.canonicalize() {
        let holds = |inner: &Option<PathBuf>| inner.as_ref().is_some_and(|d| d.starts_with(&real));
        let reason = if holds(&here) {
            Some("it is the current folder or holds it")
        } else if holds(&spec_dir) {
            Some("it holds the spec")
        } else if home.as_ref() == Some(&real) {
            Some("it is the home folder")
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(refuse(format!(
                "--out {shown}: {reason}; a run writes its own folder, name a new one (e.g. --out runs/NAME)"
            )));
        }
    }
    let replace = match std::fs::symlink_metadata(&absolute) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(io(e, out)),
        Ok(m) if !m.is_dir() => {
            return Err(refuse(format!("--out {shown} is a file, not a folder; name a new folder")));
        }
        Ok(_) => match stray_entry(&absolute).map_err(|e| io(e, out))? {
            Stray::Empty => false,
            Stray::None if force => true,
            Stray::None => {
                return Err(refuse(format!(
                    "--out {shown} holds a previous run; add --force to replace it, or name a new folder"
                )))
            }
            Stray::Found(name) => {
                return Err(refuse(format!(
                    "--out {shown} is not empty and is not a previous run (it holds {}); nothing was changed, name a new folder",
                    name.display()
                )))
            }
        },
    };
    Ok((absolute, replace))
}

enum Stray {
    Empty,
    /// Only what a run writes.
    None,
    /// The first entry a run would not have written.
    Found(PathBuf),
}

fn stray_entry(dir: &Path) -> std::io::Result<Stray> {
    let names = |dir: &Path| -> std::io::Result<Vec<std::ffi::OsString>> {
        std::fs::read_dir(dir)?.map(|e| e.map(|e| e.file_name())).collect()
    };
    let top = names(dir)?;
    if top.is_empty() {
        return Ok(Stray::Empty);
    }
    if let Some(n) = top.iter().find(|n| !RUN_FILES.iter().any(|f| n.as_os_str() == *f)) {
        return Ok(Stray::Found(n.into()));
    }
    let model = dir.join("model");
    if !model.is_dir() || !dir.join("report.json").is_file() {
        return Ok(Stray::Found(if model.is_dir() { "model/ without report.json".into() } else { "model".into() }));
    }
    let learned = |n: &std::ffi::OsString| {
        let p = Path::new(n);
        MODEL_FILES.iter().any(|f| n.as_os_str() == *f)
            || p.extension().is_some_and(|e| e == "bpk" || e == "safetensors")
    };
    Ok(match names(&model)?.into_iter().find(|n| !learned(n)) {
        Some(n) => Stray::Found(Path::new("model").join(n)),
        None => Stray::None,
    })
}

impl Staging {
    /// Where the run's files go until it is committed.
    pub fn dir(&self) -> &Path {
        &self.tmp
    }

    /// Moves the staged run into place. A previous run being replaced is first moved aside, so
    /// that a failure between the two renames loses neither.
    pub fn commit(mut self) -> Result<(), Failure> {
        let aside = self.tmp.with_extension("previous");
        if self.replace {
            std::fs::rename(&self.out, &aside).map_err(|e| io(e, &self.out))?;
        }
        if let Err(e) = std::fs::rename(&self.tmp, &self.out) {
            if self.replace {
                std::fs::rename(&aside, &self.out).ok();
            }
            return Err(io(e, &self.out));
        }
        self.committed = true;
        if self.replace {
            // Holds only a run's own files: checked when the folder was claimed.
            std::fs::remove_dir_all(&aside).map_err(|e| io(e, &aside))?;
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed && !self.keep {
            std::fs::remove_dir_all(&self.tmp).ok();
            for dir in &self.created {
                // Only while empty: something else may have been put there meanwhile.
                std::fs::remove_dir(dir).ok();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("skilang-out-{name}-{}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn previous_run(dir: &Path) {
        std::fs::create_dir_all(dir.join("model")).unwrap();
        std::fs::write(dir.join("report.json"), "{}").unwrap();
        std::fs::write(dir.join("model/net.bpk"), "w").unwrap();
    }

    #[test]
    fn a_folder_with_a_users_file_is_refused_and_kept() {
        let dir = scratch("user");
        let out = dir.join("work");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("thesis.tex"), "mine").unwrap();
        for force in [false, true] {
            let e = claim(&out, Path::new("spec.yaml"), force).err().expect("refused");
            assert!(e.message.contains("not a previous run") && e.message.contains("thesis.tex"), "{}", e.message);
        }
        assert_eq!(std::fs::read_to_string(out.join("thesis.tex")).unwrap(), "mine");
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_previous_run_is_replaced_only_with_force() {
        let dir = scratch("previous");
        let out = dir.join("run");
        previous_run(&out);
        let e = claim(&out, Path::new("spec.yaml"), false).err().expect("refused");
        assert!(e.message.contains("--force"), "{}", e.message);
        let staging = claim(&out, Path::new("spec.yaml"), true).ok().expect("claimed");
        std::fs::write(staging.dir().join("report.json"), "new").unwrap();
        staging.commit().ok().expect("committed");
        assert_eq!(std::fs::read_to_string(out.join("report.json")).unwrap(), "new");
        assert!(!out.join("model").exists(), "the previous run is gone");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no staging folder left beside it");
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn folders_above_the_spec_and_home_are_refused() {
        let dir = scratch("above");
        let spec = dir.join("specs/s.yaml");
        std::fs::create_dir_all(spec.parent().unwrap()).unwrap();
        std::fs::write(&spec, "").unwrap();
        for out in [dir.join("specs"), dir.clone()] {
            let e = claim(&out, &spec, true).err().expect("refused");
            assert!(e.message.contains("holds the spec"), "{}", e.message);
        }
        let e = claim(Path::new("."), &spec, true).err().expect("refused");
        assert!(e.message.contains("current folder"), "{}", e.message);
        if let Some(home) = std::env::var_os("HOME").filter(|h| Path::new(h).is_dir()) {
            assert!(claim(Path::new(&home), &spec, true).is_err());
        }
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn an_abandoned_run_leaves_nothing_it_created() {
        let dir = scratch("abandoned");
        let out = dir.join("a/b/run");
        let staging = claim(&out, Path::new("spec.yaml"), false).ok().expect("claimed");
        assert!(staging.dir().is_dir());
        drop(staging);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        std::fs::remove_dir_all(dir).ok();
    }
}
