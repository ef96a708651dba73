//! What the sweeping benchmarks share: the data folder, one training run read back as its
//! report, lists from the environment and spreads over seeds.
// Each benchmark uses a subset of these.
#![allow(dead_code)]

use std::ffi::OsString;
use std::process::Command;

/// `SKILANG_DATA`, or exit saying which dataset the benchmark needs.
pub fn data_dir(folder: &str) -> OsString {
    std::env::var_os("SKILANG_DATA").unwrap_or_else(|| {
        eprintln!("set SKILANG_DATA to the folder with {folder}/ to run this benchmark");
        std::process::exit(2);
    })
}

/// Runs `skilang train SPEC ARGS...` on `data` into a scratch folder named after `run`, and
/// returns its report (the folder is removed).
pub fn train(run: &str, spec: &str, data: &OsString, args: &[String]) -> serde_json::Value {
    let out = std::env::temp_dir().join(format!("skilang-bench-{run}"));
    let status = Command::new(env!("CARGO_BIN_EXE_skilang"))
        .args(["train", spec, "--out"])
        .arg(&out)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .status()
        .expect("skilang runs");
    assert!(status.success(), "{run} failed");
    let report =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).expect("report")).expect("JSON");
    std::fs::remove_dir_all(&out).ok();
    report
}

/// `--set KEY=VALUE` as arguments.
pub fn set(key: &str, value: impl std::fmt::Display) -> [String; 2] {
    ["--set".into(), format!("{key}={value}")]
}

/// A comma-separated list from the environment variable `var`, if set.
pub fn list<T: std::str::FromStr>(var: &str) -> Option<Vec<T>> {
    std::env::var(var).ok().map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
}

/// Mean and half the range.
pub fn stats(xs: &[f64]) -> (f64, f64) {
    let mean = xs.iter().sum::<f64>() / xs.len().max(1) as f64;
    let lo = xs.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = xs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    (mean, (hi - lo) / 2.0)
}

/// `mean ± half the range`, to four places.
pub fn cell(xs: Vec<f64>) -> String {
    let (m, s) = stats(&xs);
    format!("{m:.4} ± {s:.4}")
}
