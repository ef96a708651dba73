//! What the benchmarks share: the data folder, and `skilang sweep` run as a user runs it, its raw
//! reports kept so that every table can be written again from them (`skilang summary DIR`).
// Each benchmark uses a subset of these.
#![allow(dead_code)]

use skilang_lang::spec::BuiltinSource;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace, where the benchmarks run their sweeps from: reports name `examples/…`.
pub fn root() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).canonicalize().expect("the workspace")
}

/// The data directory as the tests resolve it, with `source` in it, or exit saying where the
/// dataset belongs.
pub fn data_dir(source: BuiltinSource) -> PathBuf {
    let dir = skilang_data::dir::for_checkout(&root());
    if let Err(e) = skilang_data::catalog::ensure(&[source], &dir) {
        eprintln!("{e}");
        std::process::exit(2);
    }
    dir
}

/// A finished sweep: its folder, and its summary as `summary.json` has it.
pub struct Swept {
    pub dir: PathBuf,
    pub table: String,
    pub summary: serde_json::Value,
}

impl Swept {
    /// The report of one run.
    pub fn report(&self, folder: &str, seed: u64) -> serde_json::Value {
        let path = self.dir.join("runs").join(folder).join(format!("seed-{seed}/report.json"));
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
            .expect("a report is JSON")
    }

    /// The mean of `metric` at the grid point whose folder is `folder`.
    pub fn mean(&self, folder: &str, metric: &str) -> f64 {
        let points = self.summary["points"].as_array().expect("points");
        let point = points.iter().find(|p| p["folder"] == folder).unwrap_or_else(|| panic!("no point {folder}"));
        point["metrics"][metric]["mean"].as_f64().unwrap_or(f64::NAN)
    }
}

/// `skilang sweep SPEC ARGS... --out DIR` from the workspace (`spec` relative to it), its progress
/// shown as it goes. DIR is [`out_path`]`(NAME)`: a benchmark run again at the same commit resumes there, and the runs' raw reports (which name
/// the commit, CPU, cores and date) stay beside the table they make. Exits when the sweep fails.
pub fn sweep(name: &str, spec: &str, data: Option<&Path>, args: &[String]) -> Swept {
    let dir = out_path(name);
    let mut command = Command::new(env!("CARGO_BIN_EXE_skilang"));
    command.current_dir(root()).arg("sweep").arg(spec).arg("--out").arg(&dir).args(args);
    if let Some(data) = data {
        command.arg("--data-dir").arg(data);
    }
    let out = command.stderr(std::process::Stdio::inherit()).output().expect("the skilang binary runs");
    if !out.status.success() {
        eprintln!("{name}: the sweep failed ({})", out.status);
        std::process::exit(out.status.code().unwrap_or(2));
    }
    let summary = std::fs::read_to_string(dir.join("summary.json")).expect("the sweep wrote summary.json");
    Swept {
        table: String::from_utf8_lossy(&out.stdout).into_owned(),
        summary: serde_json::from_str(&summary).expect("summary.json is JSON"),
        dir,
    }
}

/// Where a benchmark keeps what it names `name`: `$SKILANG_BENCH_OUT/NAME-COMMIT`, else
/// `benchmarks/runs/NAME-COMMIT`.
pub fn out_path(name: &str) -> PathBuf {
    let base = std::env::var_os("SKILANG_BENCH_OUT").map_or_else(|| root().join("benchmarks/runs"), PathBuf::from);
    base.join(format!("{name}-{}", env!("SKILANG_COMMIT")))
}

/// `--set KEY=VALUE` as arguments.
pub fn set(key: &str, value: impl std::fmt::Display) -> Vec<String> {
    vec!["--set".into(), format!("{key}={value}")]
}

/// A flag and its value as arguments.
pub fn flag(name: &str, value: impl std::fmt::Display) -> Vec<String> {
    vec![name.into(), value.to_string()]
}

/// A comma-separated list from the environment variable `var`, if set.
pub fn list<T: std::str::FromStr>(var: &str) -> Option<Vec<T>> {
    std::env::var(var).ok().map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
}

/// `items` as a comma-separated list, for `--seeds` and `--grid`.
pub fn joined<T: std::fmt::Display>(items: &[T]) -> String {
    items.iter().map(T::to_string).collect::<Vec<_>>().join(",")
}

/// How the addition benchmark trains N-digit numbers (and the engines table, as it does). Longer
/// numbers carry more information per example but make fewer examples: they learn best from one
/// example per step (measured: N = 15 at batch 4 stays at 0% for 8 epochs; at batch 1 it takes off
/// at once). N = 15 anneals its rate over 10 epochs, chosen on a validation split (BP-EM, seed 1,
/// 200 held-out tuples: 0.765 at best over 10 epochs of a constant rate, 0.805 with the cosine;
/// moving the images as well, 0.81, and with 2-pixel moves none took off: not kept).
pub struct Addition {
    pub epochs: usize,
    /// Examples per batch.
    pub batch: usize,
    pub schedule: &'static str,
}

impl Addition {
    pub fn of(n: usize) -> Addition {
        let (epochs, batch, schedule) = match n {
            1 => (1, 32, "constant"),
            2 => (1, 16, "constant"),
            4 => (6, 8, "constant"),
            15 => (10, 1, "cosine"),
            _ => (35, 1, "constant"),
        };
        Addition { epochs, batch, schedule }
    }
}

/// The sweep arguments of N-digit addition, with its metrics.
pub fn addition(n: usize) -> Vec<String> {
    let Addition { epochs, batch, schedule } = Addition::of(n);
    [
        flag("--epochs", epochs),
        set("data.mnist.instances.a", n),
        set("optimization.batch_size", batch),
        set("optimization.schedule", schedule),
        flag("--metrics", "task_accuracy,symbol_accuracy,train_seconds,peak_rss_bytes"),
    ]
    .concat()
}
