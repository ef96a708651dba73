//! Every inference engine on every task, in one table with the published figures beside ours
//! (ALGORITHMS.md §2, EM-NeSy's table): MNIST addition N = 4, 15, 100, visual Sudoku 4×4 and 9×9,
//! Warcraft 12×12 and 30×30, each by the exact semantic loss, BP-std (the semantic loss through BP), BP-EM,
//! ABC-EM (EM through sampling) and the top-k proofs. A pair `skilang check` refuses (exact
//! inference on a 9×9 board, BP on a black-box shortest path) is shown refused, with check's reason.
//!
//! Each cell is the sweep the task's own benchmark runs (same name, spec and settings: seeds 1–3),
//! so their raw reports are shared. By default a cell reuses the newest completed sweep of that name
//! in `benchmarks/runs/` at whatever commit it was measured (the table says which), and runs only
//! the cells that have none; `SKILANG_BENCH_FRESH=1` runs every cell at this commit (hours: N = 100
//! alone is 8 minutes per seed and method), `SKILANG_BENCH_MISSING=skip` runs none and shows the
//! missing cells as such. `SKILANG_BENCH_ONLY=Sudoku,BP-std,addition-em-bp-N100` keeps the tasks
//! and methods whose names contain one of these, and the cells whose sweep is named so.
//!
//! Run: `cargo bench -p skilang --bench engines`

mod common;

use common::{addition, data_dir, flag, joined, list, root, set, sweep};
use skilang_lang::spec::BuiltinSource;
use std::path::{Path, PathBuf};
use std::process::Command;

/// How a method trains: injection, inference, and what else it sets on a task (ABC's kernel).
struct Method {
    name: &'static str,
    injection: &'static str,
    inference: &'static str,
}

/// Accuracy as the task's benchmark reports it; on Warcraft, the published metric: the predicted
/// costs' path has the optimal true cost (the spec's measured constraint).
const TASK: &str = "task_accuracy";
const OPTIMAL_PATH: &str = "constraints.optimal_cost.satisfaction";

const METHODS: [Method; 5] = [
    Method { name: "SL (exact)", injection: "semantic_loss", inference: "exact" },
    Method { name: "BP-std", injection: "semantic_loss", inference: "bp" },
    Method { name: "BP-EM", injection: "em", inference: "bp" },
    Method { name: "ABC-EM", injection: "em", inference: "sample" },
    Method { name: "top-k (Scallop)", injection: "semantic_loss", inference: "topk" },
];

/// A task: how its benchmark names and configures its sweeps, and the published figures per
/// method (accuracy %, GPU minutes where published) in the order of [`METHODS`].
struct Task {
    name: &'static str,
    /// The sweep's name for a method: `{prefix}-{injection}-{inference}{suffix}`.
    prefix: &'static str,
    suffix: &'static str,
    spec: &'static str,
    source: BuiltinSource,
    sets: Vec<String>,
    /// What ABC-EM's sampling sets on this task beyond `inference: sample`.
    sampling: Vec<String>,
    published: [Option<(f64, Option<f64>)>; 5],
    best: &'static str,
    /// The summary's metric that the published accuracy is compared with.
    metric: &'static str,
}

fn tasks() -> Vec<Task> {
    let metrics = flag("--metrics", "task_accuracy,train_seconds,peak_rss_bytes");
    let exp_kernel = [set("optimization.kernel", "exp"), set("optimization.bandwidth", 0.5)].concat();
    // As the Warcraft benchmark measures it, with the published metric.
    let warcraft_metrics =
        flag("--metrics", format!("task_accuracy,{OPTIMAL_PATH},symbol_accuracy,train_seconds,peak_rss_bytes"));
    vec![
        Task {
            name: "MNIST addition N=4",
            prefix: "addition",
            suffix: "-N4",
            spec: "examples/mnist-addition.yaml",
            source: BuiltinSource::Mnist,
            sets: addition(4),
            sampling: vec![],
            published: [None, Some((92.16, Some(2.21))), Some((92.53, Some(1.33))), None, Some((92.3, Some(74.0)))],
            best: "DeepProofLog 94.0 (25 min)",
            metric: TASK,
        },
        Task {
            name: "MNIST addition N=15",
            prefix: "addition",
            suffix: "-N15",
            spec: "examples/mnist-addition.yaml",
            source: BuiltinSource::Mnist,
            sets: addition(15),
            sampling: vec![],
            published: [None, Some((72.79, Some(7.93))), Some((74.85, Some(1.95))), None, None],
            best: "DeepProofLog 80.8 (42 min); Scallop T/O",
            metric: TASK,
        },
        Task {
            name: "MNIST addition N=100",
            prefix: "addition",
            suffix: "-N100",
            spec: "examples/mnist-addition.yaml",
            source: BuiltinSource::Mnist,
            sets: addition(100),
            sampling: vec![],
            published: [None, Some((11.60, Some(36.26))), Some((9.20, Some(8.51))), None, None],
            best: "DeepProofLog 37.8 (106 min); A-NeSI overflow",
            metric: TASK,
        },
        Task {
            name: "Visual Sudoku 4x4",
            prefix: "visudo-4",
            suffix: "",
            spec: "examples/visual-sudoku-4.yaml",
            source: BuiltinSource::Mnist,
            sets: metrics.clone(),
            sampling: exp_kernel.clone(),
            published: [
                Some((86.70, None)),
                Some((87.80, Some(38.23))),
                Some((89.70, Some(21.23))),
                Some((86.30, Some(1.40))),
                Some((75.00, Some(1.52))),
            ],
            best: "A-NeSI 87.20 (46 min)",
            metric: TASK,
        },
        Task {
            name: "Visual Sudoku 9x9",
            prefix: "visudo-9",
            suffix: "",
            spec: "examples/visual-sudoku-9.yaml",
            source: BuiltinSource::Mnist,
            sets: metrics.clone(),
            sampling: exp_kernel,
            published: [None, Some((50.0, None)), Some((50.0, None)), Some((53.30, Some(8.24))), None],
            best: "A-NeSI 59.20 (73 min); exact SL and Scallop T/O",
            metric: TASK,
        },
        Task {
            name: "Warcraft 12x12 (analogue)",
            prefix: "warcraft-12",
            suffix: "",
            spec: "examples/warcraft-12.yaml",
            source: BuiltinSource::Warcraft12,
            sets: warcraft_metrics.clone(),
            sampling: vec![],
            published: [None, None, None, Some((98.80, Some(7.26))), None],
            best: "A-NeSI 98.96 (439 min), I-MLE 95.34 (26.8 min); on the original maps",
            metric: OPTIMAL_PATH,
        },
        Task {
            name: "Warcraft 30x30 (analogue)",
            prefix: "warcraft-30",
            suffix: "",
            spec: "examples/warcraft-12.yaml",
            source: BuiltinSource::Warcraft30,
            sets: [
                set("data.warcraft.source", "warcraft-30"),
                set("data.warcraft.instances.tiles", 900),
                warcraft_metrics,
            ]
            .concat(),
            sampling: vec![],
            published: [None, None, None, Some((69.60, Some(8.37))), None],
            best: "I-MLE 93.40 (228 min), EXAL 80.85 (84.3 min); on the original maps",
            metric: OPTIMAL_PATH,
        },
    ]
}

fn main() {
    let seeds = list::<u64>("SKILANG_BENCH_SEEDS").unwrap_or(vec![1, 2, 3]);
    let fresh = std::env::var("SKILANG_BENCH_FRESH").is_ok_and(|v| v == "1");
    let skip_missing = std::env::var("SKILANG_BENCH_MISSING").is_ok_and(|v| v == "skip");
    let only = list::<String>("SKILANG_BENCH_ONLY");
    let chosen = |task: &str, method: &str, sweep: &str| {
        only.as_ref()
            .is_none_or(|o| o.iter().any(|p| p == sweep || task.contains(p.as_str()) || method.contains(p.as_str())))
    };
    let (mut rows, mut notes) = (Vec::new(), Vec::new());
    for task in tasks() {
        for (method, published) in METHODS.iter().zip(&task.published) {
            let name = format!("{}-{}-{}{}", task.prefix, method.injection, method.inference, task.suffix);
            if !chosen(task.name, method.name, &name) {
                continue;
            }
            let data = data_dir(task.source);
            let mut sets = [
                set("optimization.injection", method.injection),
                set("optimization.inference", method.inference),
                task.sets.clone(),
            ]
            .concat();
            if method.inference == "sample" {
                sets.extend(task.sampling.iter().cloned());
            }
            let cell = match refusal(&task, &sets) {
                Some(reason) => Cell::Refused(reason),
                None => match (!fresh).then(|| newest(&name)).flatten() {
                    Some(dir) => Cell::Measured(Measured::read(&dir, task.metric)),
                    None if skip_missing => Cell::Missing(name),
                    None => {
                        let args = [flag("--seeds", joined(&seeds)), sets].concat();
                        Cell::Measured(Measured::read(&sweep(&name, task.spec, Some(&data), &args).dir, task.metric))
                    }
                },
            };
            rows.push((task.name, method.name, *published, cell));
        }
        if rows.last().is_some_and(|r| r.0 == task.name) {
            notes.push(format!("{}: {}", task.name, task.best));
        }
    }
    println!("Every engine on every task: ours on 2 CPU cores (mean ± half the range over the seeds) beside the published GPU figures");
    println!("(accuracy: of the task's benchmark; on Warcraft the published metric, a path of optimal true cost)");
    println!("| task | method | ours: accuracy | train s | peak memory | seeds | raw reports (benchmarks/runs/) | published (acc %, GPU min) | ratio |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for (task, method, published, cell) in rows {
        let shown = |p: Option<(f64, Option<f64>)>| match p {
            Some((a, Some(m))) => format!("{a:.2}% ({m} min)"),
            Some((a, None)) => format!("{a:.2}%"),
            None => "—".into(),
        };
        match cell {
            Cell::Missing(name) => {
                println!("| {task} | {method} | not measured yet | | | | `{name}` | {} | |", shown(published))
            }
            Cell::Refused(reason) => {
                println!("| {task} | {method} | refused by check: {reason} | | | | | {} | |", shown(published))
            }
            Cell::Measured(m) => {
                let ratio = published.map_or("—".into(), |(a, _)| format!("{:.2}×", 100.0 * m.accuracy.0 / a));
                println!(
                    "| {task} | {method} | {:.2} ± {:.2}% | {:.1} | {:.0} MiB | {} | `{}` | {} | {ratio} |",
                    100.0 * m.accuracy.0,
                    100.0 * m.accuracy.1,
                    m.seconds,
                    m.peak_mib,
                    m.seeds,
                    m.folder,
                    shown(published),
                )
            }
        }
    }
    println!("\nBest published figures per task (accuracy %, minutes):");
    notes.iter().for_each(|n| println!("- {n}"));
}

enum Cell {
    Refused(String),
    /// No completed sweep of this name, and `SKILANG_BENCH_MISSING=skip`.
    Missing(String),
    Measured(Measured),
}

/// A completed sweep's figures.
struct Measured {
    /// Mean and half the range.
    accuracy: (f64, f64),
    seconds: f64,
    peak_mib: f64,
    seeds: usize,
    folder: String,
}

impl Measured {
    fn read(dir: &Path, metric: &str) -> Measured {
        let text = std::fs::read_to_string(dir.join("summary.json")).expect("a completed sweep has summary.json");
        let summary: serde_json::Value = serde_json::from_str(&text).expect("summary.json is JSON");
        let metrics = &summary["points"][0]["metrics"];
        let get = |m: &str, what: &str| metrics[m][what].as_f64().unwrap_or(f64::NAN);
        Measured {
            accuracy: (get(metric, "mean"), get(metric, "half_range")),
            seconds: get("train_seconds", "mean"),
            peak_mib: get("peak_rss_bytes", "max") / (1024.0 * 1024.0),
            seeds: metrics[metric]["n"].as_u64().unwrap_or(0) as usize,
            folder: dir.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
        }
    }
}

/// Check's reason when it refuses the task with these settings.
fn refusal(task: &Task, sets: &[String]) -> Option<String> {
    // Check takes the spec's own keys; the sweep's flags are not its business.
    let keys: Vec<&String> =
        sets.chunks(2).filter(|pair| pair[0] == "--set").flat_map(|pair| [&pair[0], &pair[1]]).collect();
    let out = Command::new(env!("CARGO_BIN_EXE_skilang"))
        .current_dir(root())
        .arg("check")
        .arg(task.spec)
        .args(keys)
        .output()
        .expect("the skilang binary runs");
    let text = String::from_utf8_lossy(&out.stderr) + String::from_utf8_lossy(&out.stdout);
    (!out.status.success()).then(|| {
        let line = text.lines().find_map(|l| l.strip_prefix("error: ")).unwrap_or("refused");
        line.trim().replace('|', "\\|")
    })
}

/// The newest completed sweep named `name` (at any commit), by its first report's date.
fn newest(name: &str) -> Option<PathBuf> {
    let runs = root().join("benchmarks/runs");
    let is_commit = |s: &str| {
        let s = s.strip_suffix("-dirty").unwrap_or(s);
        s.len() == 12 && s.chars().all(|c| c.is_ascii_hexdigit())
    };
    let date = |dir: &Path| -> Option<String> {
        let report = std::fs::read_dir(dir.join("runs"))
            .ok()?
            .flatten()
            .find_map(|point| std::fs::read_to_string(point.path().join("seed-1/report.json")).ok())?;
        let report: serde_json::Value = serde_json::from_str(&report).ok()?;
        report["provenance"]["date"].as_str().map(str::to_owned)
    };
    std::fs::read_dir(&runs)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let file = p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
            file.strip_prefix(name).and_then(|rest| rest.strip_prefix('-')).is_some_and(is_commit)
                && p.join("summary.json").is_file()
        })
        .filter_map(|p| Some((date(&p)?, p)))
        .max()
        .map(|(_, p)| p)
}
