//! `skilang sweep`: one spec trained over a grid of settings and seeds, each run a `skilang train`
//! of its own (its folder, report and peak memory its own), as many at once as the cores allow,
//! then one summary. The sweep's folder only ever grows: a run whose report is there is not run
//! again, a killed run is resumed from its checkpoint, and nothing is deleted.

use crate::exit::{self, Failure};
use crate::summary;
use skilang_lang::overrides::Override;
use skilang_learn::report::Source;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Mutex};

/// What a sweep's folder may hold besides its runs: anything else means it is someone else's.
pub const SWEEP_FILE: &str = "sweep.json";
/// Holds the process id of the sweep writing the folder.
const LOCK_FILE: &str = ".lock";
const OWN_ENTRIES: &[&str] =
    &[SWEEP_FILE, LOCK_FILE, "runs", "summary.txt", "summary.csv", "summary.json", "summary.svg", "runs.csv"];
/// Set for the runs a sweep starts: its process id. A run whose sweep has ended stops, leaving its
/// checkpoint for the next sweep, rather than finishing unseen and colliding with it.
pub const PARENT_VAR: &str = "SKILANG_SWEEP_PID";

/// Seeds: `1..5` (both ends included), `1..=5`, `7`, or a comma-separated mix.
#[derive(Clone, Debug, PartialEq)]
pub struct Seeds(pub Vec<u64>);

impl std::str::FromStr for Seeds {
    type Err = String;

    fn from_str(s: &str) -> Result<Seeds, String> {
        let mut seeds = Vec::new();
        for part in s.split(',').map(str::trim) {
            let number = |n: &str| n.trim().parse::<u64>().map_err(|_| format!("`{n}` in `{s}` is not a seed"));
            match part.split_once("..") {
                Some((lo, hi)) => {
                    let (lo, hi) = (number(lo)?, number(hi.strip_prefix('=').unwrap_or(hi))?);
                    if lo > hi {
                        return Err(format!("`{part}`: the range is empty (write LOW..HIGH)"));
                    }
                    seeds.extend(lo..=hi);
                }
                None => seeds.push(number(part)?),
            }
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(twice) = seeds.iter().find(|s| !seen.insert(**s)) {
            return Err(format!("seed {twice} is named twice in `{s}`"));
        }
        Ok(Seeds(seeds))
    }
}

/// One `--grid KEY=V1,V2,...`: a spec key and the values it takes.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub key: String,
    pub values: Vec<String>,
}

impl std::str::FromStr for Axis {
    type Err = String;

    fn from_str(s: &str) -> Result<Axis, String> {
        let o: Override = s.parse()?;
        let values = split_values(&o.value);
        if values.iter().any(String::is_empty) {
            return Err(format!("`{s}`: expected KEY=V1,V2,... with no empty value"));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(twice) = values.iter().find(|v| !seen.insert(v.as_str())) {
            return Err(format!("`{s}`: the value {twice} is named twice"));
        }
        Ok(Axis { key: o.path.join("."), values })
    }
}

/// Splits at the commas that are not inside a YAML list, mapping or quotes (`[64, 32],[128]`).
fn split_values(text: &str) -> Vec<String> {
    let (mut values, mut current, mut depth, mut quote) = (Vec::new(), String::new(), 0i32, None);
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '\'' | '"') => quote = Some(c),
            (None, '[' | '{') => depth += 1,
            (None, ']' | '}') => depth -= 1,
            (None, ',') if depth == 0 => {
                values.push(current.trim().to_string());
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    values.push(current.trim().to_string());
    values
}

pub struct SweepArgs {
    pub spec: PathBuf,
    pub seeds: Option<Seeds>,
    pub grid: Vec<Axis>,
    pub out: Option<PathBuf>,
    pub jobs: Option<usize>,
    pub metrics: Vec<String>,
    pub epochs: Option<u64>,
    pub data_dir: Option<PathBuf>,
    pub set: Vec<Override>,
}

/// A grid point: one value per axis, in the axes' order.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Point {
    /// Its folder under `runs/`.
    pub folder: String,
    /// `(key, value)` per axis.
    pub settings: Vec<(String, String)>,
}

impl Point {
    /// How tables name it: the values, or `key=value` pairs when there are several axes.
    pub fn label(&self) -> String {
        match self.settings.as_slice() {
            [(_, v)] => v.clone(),
            _ => self.name(),
        }
    }

    /// Its settings as `--set` values, `key=value`.
    fn sets(&self) -> impl Iterator<Item = String> + '_ {
        self.settings.iter().map(|(k, v)| format!("{k}={v}"))
    }

    /// Its settings as `key=value` pairs.
    pub fn name(&self) -> String {
        match self.settings.as_slice() {
            [] => "spec as written".to_string(),
            _ => self.sets().collect::<Vec<_>>().join(", "),
        }
    }
}

/// The sweep as `sweep.json` keeps it: enough to resume it and to summarise it again.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Definition {
    pub spec: String,
    pub spec_sha256: String,
    /// The `--set`s every run shares.
    pub sets: Vec<String>,
    pub epochs: Option<u64>,
    pub seeds: Vec<u64>,
    pub axes: Vec<String>,
    pub points: Vec<Point>,
}

impl Definition {
    pub fn run_dir(&self, dir: &Path, point: &Point, seed: u64) -> PathBuf {
        dir.join("runs").join(&point.folder).join(format!("seed-{seed}"))
    }

    /// The overrides `skilang train` reports for this run: the shared sets, the point's, then the
    /// flags that stand for sets, in the order `train` applies them.
    fn overrides(&self, point: &Point, seed: u64) -> Vec<String> {
        let mut all = self.sets.clone();
        all.extend(point.sets());
        all.extend(self.epochs.map(|e| format!("optimization.epochs={e}")));
        all.push(format!("optimization.seed={seed}"));
        all
    }
}

fn fail(code: u8, message: impl Into<String>) -> Failure {
    Failure::new(code, message)
}

/// The grid's points: every combination of the axes' values, the first axis varying slowest.
fn points(axes: &[Axis]) -> Result<Vec<Point>, Failure> {
    let mut settings: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for axis in axes {
        settings = settings
            .into_iter()
            .flat_map(|s| {
                axis.values.iter().map(move |v| {
                    let mut s = s.clone();
                    s.push((axis.key.clone(), v.clone()));
                    s
                })
            })
            .collect();
    }
    let mut folders = std::collections::HashSet::new();
    settings
        .into_iter()
        .map(|settings| {
            let folder = match settings.is_empty() {
                true => "spec".to_string(),
                false => settings.iter().map(|(k, v)| format!("{k}={}", file_safe(v))).collect::<Vec<_>>().join(","),
            };
            if !folders.insert(folder.clone()) {
                return Err(fail(exit::USAGE, format!("two grid points would share the folder runs/{folder}; use values that differ in letters or digits")));
            }
            Ok(Point { folder, settings })
        })
        .collect()
}

/// A value as part of a folder name: letters, digits and `.-+_` kept, anything else `_`.
fn file_safe(value: &str) -> String {
    value.chars().map(|c| if c.is_ascii_alphanumeric() || ".-+_".contains(c) { c } else { '_' }).collect()
}

pub fn sweep(args: SweepArgs) -> Result<(), Failure> {
    for axis in &args.grid {
        if args.grid.iter().filter(|a| a.key == axis.key).count() > 1 {
            return Err(fail(exit::USAGE, format!("--grid {} is given twice; list every value in one", axis.key)));
        }
        if args.set.iter().any(|o| o.path.join(".") == axis.key) {
            return Err(fail(exit::USAGE, format!("{} is both set (--set) and swept (--grid); keep one", axis.key)));
        }
        let flag = match axis.key.as_str() {
            "optimization.seed" => Some("--seeds"),
            "optimization.epochs" if args.epochs.is_some() => Some("--epochs"),
            _ => None,
        };
        if let Some(flag) = flag {
            return Err(fail(exit::USAGE, format!("--grid {}: the sweep's {flag} sets it", axis.key)));
        }
    }
    let points = points(&args.grid)?;
    // Every point is checked before anything trains: a sweep that would fail at its fifth point
    // fails now, at the spec's line and column.
    let mut spec_text = None;
    let mut spec_seed = 1;
    for point in &points {
        let mut overrides = args.set.clone();
        let settings = point.sets();
        let flags = args.epochs.map(|e| format!("optimization.epochs={e}"));
        for o in settings.chain(flags) {
            overrides.push(o.parse().map_err(|e: String| fail(exit::USAGE, e))?);
        }
        let outcome = crate::train::checked(&args.spec, &overrides)?;
        if !outcome.is_valid() {
            for d in &outcome.diagnostics {
                eprintln!("{}", d.render(&outcome.file));
            }
            let at = if point.settings.is_empty() { String::new() } else { format!(" at {}", point.name()) };
            return Err(fail(exit::INVALID, format!("{}: invalid spec{at}; nothing was trained", args.spec.display())));
        }
        spec_seed = outcome.spec.as_ref().and_then(|s| s.optimization.seed.as_ref()).map_or(1, |s| s.value);
        spec_text = Some(outcome.file.text().to_string());
    }
    let text = spec_text.unwrap_or_default();
    let seeds = args.seeds.map_or(vec![spec_seed], |s| s.0);
    let sets: Vec<String> = args.set.iter().map(Override::to_string).collect();
    let definition = Definition {
        spec: args.spec.display().to_string(),
        spec_sha256: Source::new(&args.spec, &text, &[]).spec_sha256,
        sets,
        epochs: args.epochs,
        seeds,
        axes: args.grid.iter().map(|a| a.key.clone()).collect(),
        points,
    };
    let stem = args.spec.file_stem().map_or("sweep".into(), |s| s.to_string_lossy().into_owned());
    let dir = args.out.unwrap_or_else(|| PathBuf::from("sweeps").join(stem));
    claim(&dir)?;
    let todo = pending(&definition, &dir)?;
    std::fs::write(dir.join(SWEEP_FILE), serde_json::to_string_pretty(&definition).unwrap_or_default() + "\n")
        .map_err(|e| fail(exit::USAGE, format!("cannot write {}: {e}", dir.join(SWEEP_FILE).display())))?;

    let total = definition.points.len() * definition.seeds.len();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs = args.jobs.unwrap_or((cores / 2).max(1)).clamp(1, todo.len().max(1));
    eprintln!(
        "sweep of {}: {} point(s) × {} seed(s) = {total} run(s), {} done before; {jobs} at a time; in {}",
        definition.spec,
        definition.points.len(),
        definition.seeds.len(),
        total - todo.len(),
        dir.display()
    );
    let launcher = Launcher {
        exe: std::env::current_exe().map_err(|e| fail(exit::USAGE, format!("cannot find the skilang binary: {e}")))?,
        definition: &definition,
        dir: &dir,
        data_dir: args.data_dir.as_deref(),
        threads: (jobs > 1 && std::env::var_os("RAYON_NUM_THREADS").is_none()).then(|| (cores / jobs).max(1)),
    };
    let failed = launcher.run_all(todo, jobs, total);
    std::fs::remove_file(dir.join(LOCK_FILE)).ok();
    let written = summary::write(&dir, &args.metrics);
    match (failed, written) {
        (Some(f), _) => Err(f),
        (None, Err(f)) => Err(f),
        (None, Ok(table)) => crate::print_all(&table, "the summary"),
    }
}

/// Makes `dir` the sweep's folder: new, empty, or a sweep's folder already (then resumed).
fn claim(dir: &Path) -> Result<(), Failure> {
    let shown = dir.display();
    match std::fs::read_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(fail(exit::USAGE, format!("--out {shown}: {e}"))),
        Ok(entries) => {
            for entry in entries.flatten() {
                let name = entry.file_name();
                if !OWN_ENTRIES.iter().any(|own| name.as_os_str() == *own) {
                    return Err(fail(
                        exit::USAGE,
                        format!(
                            "--out {shown} is not a sweep's folder (it holds {}); nothing was changed, name a new folder",
                            name.to_string_lossy()
                        ),
                    ));
                }
            }
        }
    }
    let lock = dir.join(LOCK_FILE);
    if let Some(pid) = std::fs::read_to_string(&lock).ok().and_then(|t| t.trim().parse::<u32>().ok()) {
        if crate::out::is_running(pid) {
            return Err(fail(exit::USAGE, format!("--out {shown}: another sweep (process {pid}) is writing it")));
        }
        // A killed sweep's runs notice within half a second and stop, leaving their checkpoints.
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    std::fs::create_dir_all(dir.join("runs")).map_err(|e| fail(exit::USAGE, format!("cannot create {shown}: {e}")))?;
    std::fs::write(&lock, std::process::id().to_string())
        .map_err(|e| fail(exit::USAGE, format!("cannot write {}: {e}", lock.display())))
}

/// Stops this process when the sweep that started it has ended (checked twice a second).
pub fn stop_with_parent() {
    let Some(parent) = std::env::var(PARENT_VAR).ok().and_then(|p| p.parse::<u32>().ok()) else { return };
    #[cfg(unix)]
    std::thread::spawn(move || loop {
        if std::os::unix::process::parent_id() != parent {
            eprintln!("the sweep that started this run has ended; stopping (running the sweep again resumes it)");
            std::process::exit(130);
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    });
}

/// The runs still to do. A finished run of other settings in a run's place stops the sweep before
/// it starts: its figures would be summarised as this sweep's.
fn pending<'d>(d: &'d Definition, dir: &Path) -> Result<Vec<(&'d Point, u64)>, Failure> {
    let mut todo = Vec::new();
    for point in &d.points {
        for &seed in &d.seeds {
            let run = d.run_dir(dir, point, seed);
            let Some(report) = summary::read_report(&run)? else {
                todo.push((point, seed));
                continue;
            };
            let overrides: Vec<String> = report["overrides"]
                .as_array()
                .map(|o| o.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            if report["spec_sha256"] != d.spec_sha256.as_str() || overrides != d.overrides(point, seed) {
                return Err(fail(
                    exit::USAGE,
                    format!(
                        "{} holds a run of another spec or other settings ({} with {}); nothing was trained, name a new --out",
                        run.display(),
                        report["spec"].as_str().unwrap_or("?"),
                        overrides.join(" ")
                    ),
                ));
            }
        }
    }
    Ok(todo)
}

/// Starts `skilang train` for each run and reports each as it ends.
struct Launcher<'a> {
    exe: PathBuf,
    definition: &'a Definition,
    dir: &'a Path,
    data_dir: Option<&'a Path>,
    /// Threads per run when several share the cores.
    threads: Option<usize>,
}

/// How one run ended.
struct Ended<'p> {
    point: &'p Point,
    seed: u64,
    result: Result<serde_json::Value, Failure>,
}

impl Launcher<'_> {
    /// Runs `todo`, `jobs` at a time. After a failure no new run starts (most failures, such as
    /// missing data or memory, would repeat); the first one is returned.
    fn run_all(&self, todo: Vec<(&Point, u64)>, jobs: usize, total: usize) -> Option<Failure> {
        let before = total - todo.len();
        let queue = Mutex::new(VecDeque::from(todo));
        let stop = std::sync::atomic::AtomicBool::new(false);
        let (tx, rx) = mpsc::channel::<Ended>();
        let mut failure = None;
        std::thread::scope(|scope| {
            for _ in 0..jobs {
                let (tx, queue, stop) = (tx.clone(), &queue, &stop);
                scope.spawn(move || loop {
                    if stop.load(std::sync::atomic::Ordering::SeqCst) {
                        break;
                    }
                    let Some((point, seed)) = queue.lock().ok().and_then(|mut q| q.pop_front()) else { break };
                    let result = self.run(point, seed);
                    if result.is_err() {
                        stop.store(true, std::sync::atomic::Ordering::SeqCst);
                    }
                    if tx.send(Ended { point, seed, result }).is_err() {
                        break;
                    }
                });
            }
            drop(tx);
            for (n, ended) in rx.iter().enumerate() {
                let name = format!("[{}/{total}] {} seed {}", before + n + 1, ended.point.name(), ended.seed);
                match ended.result {
                    Ok(report) => eprintln!("{name}: {}", brief(&report)),
                    Err(f) => {
                        eprintln!("{name}: failed");
                        failure.get_or_insert(f);
                    }
                }
            }
        });
        failure.map(|f| {
            fail(
                f.code,
                format!("{}\nthe sweep stopped; run the same command again to resume it", f.message.trim_end()),
            )
        })
    }

    /// One `skilang train`, its output in `seed-N.log` beside its folder.
    fn run(&self, point: &Point, seed: u64) -> Result<serde_json::Value, Failure> {
        let d = self.definition;
        let out = d.run_dir(self.dir, point, seed);
        let log_path = out.with_extension("log");
        let io = |e: std::io::Error, p: &Path| fail(exit::USAGE, format!("cannot write {}: {e}", p.display()));
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(e, parent))?;
        }
        // Appended to: a resumed run's log keeps what the killed one wrote.
        let log =
            std::fs::OpenOptions::new().create(true).append(true).open(&log_path).map_err(|e| io(e, &log_path))?;
        let mut command = Command::new(&self.exe);
        command.arg("train").arg(&d.spec).arg("--out").arg(&out).args(["--seed", &seed.to_string()]);
        if let Some(e) = d.epochs {
            command.args(["--epochs", &e.to_string()]);
        }
        if let Some(data) = self.data_dir {
            command.arg("--data-dir").arg(data);
        }
        for set in d.sets.iter().cloned().chain(point.sets()) {
            command.arg("--set").arg(set);
        }
        if crate::out::has_killed_run(&out) {
            command.arg("--resume");
        }
        command.env(PARENT_VAR, std::process::id().to_string());
        if let Some(threads) = self.threads {
            command.env("RAYON_NUM_THREADS", threads.to_string());
        }
        let mut stderr = log.try_clone().map_err(|e| io(e, &log_path))?;
        std::io::Write::write_all(&mut stderr, format!("$ {command:?}\n").as_bytes()).map_err(|e| io(e, &log_path))?;
        let status = command
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(stderr)
            .status()
            .map_err(|e| fail(exit::USAGE, format!("cannot start {}: {e}", self.exe.display())))?;
        if !status.success() {
            let text = std::fs::read_to_string(&log_path).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(12)..].join("\n");
            let code = status.code().and_then(|c| u8::try_from(c).ok()).filter(|&c| c != 0).unwrap_or(exit::USAGE);
            return Err(fail(
                code,
                format!("{} failed ({status}); the end of {}:\n{tail}", out.display(), log_path.display()),
            ));
        }
        summary::read_report(&out)?.ok_or_else(|| fail(exit::USAGE, format!("{} wrote no report.json", out.display())))
    }
}

/// A finished run in one line: its task accuracy and training time.
fn brief(report: &serde_json::Value) -> String {
    let number = |key: &str| report[key].as_f64().map_or("n/a".to_string(), |v| format!("{v:.4}"));
    let seconds = report["train_seconds"].as_f64().map_or(String::new(), |s| format!(" after {s:.1} s"));
    format!("task accuracy {}{seconds}", number("task_accuracy"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_ranges_or_lists() {
        assert_eq!("1..3".parse::<Seeds>(), Ok(Seeds(vec![1, 2, 3])));
        assert_eq!("1..=2,7".parse::<Seeds>(), Ok(Seeds(vec![1, 2, 7])));
        assert_eq!("5".parse::<Seeds>(), Ok(Seeds(vec![5])));
        assert!("3..1".parse::<Seeds>().unwrap_err().contains("empty"));
        assert!("1..3,2".parse::<Seeds>().unwrap_err().contains("seed 2 is named twice"));
        assert!("a".parse::<Seeds>().is_err());
    }

    #[test]
    fn grid_values_split_outside_brackets_and_quotes() {
        let axis: Axis = "learnables.net.hidden=[64, 32],[128],'a,b'".parse().unwrap();
        assert_eq!(axis.key, "learnables.net.hidden");
        assert_eq!(axis.values, ["[64, 32]", "[128]", "'a,b'"]);
        assert!("k=1,,2".parse::<Axis>().is_err());
        assert!("k=1,1".parse::<Axis>().unwrap_err().contains("twice"));
        assert!("nokey".parse::<Axis>().is_err());
    }

    #[test]
    fn points_are_the_product_of_the_axes() {
        let axes = vec![
            Axis { key: "a".into(), values: vec!["1".into(), "2".into()] },
            Axis { key: "b.c".into(), values: vec!["x y".into(), "z".into()] },
        ];
        let p = points(&axes).ok().unwrap();
        let folders: Vec<&str> = p.iter().map(|p| p.folder.as_str()).collect();
        assert_eq!(folders, ["a=1,b.c=x_y", "a=1,b.c=z", "a=2,b.c=x_y", "a=2,b.c=z"]);
        assert_eq!(p[1].label(), "a=1, b.c=z");
        let clash = vec![Axis { key: "a".into(), values: vec!["x y".into(), "x/y".into()] }];
        assert!(points(&clash).is_err());
        assert_eq!(points(&[]).ok().unwrap()[0].folder, "spec");
    }
}
