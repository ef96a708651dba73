//! What the benchmarks share: the data folder, one training run through the library and its
//! report, lists from the environment and spreads over seeds.
// Each benchmark uses a subset of these.
#![allow(dead_code)]

use skilang_lang::overrides::Override;
use skilang_lang::spec::BuiltinSource;
use skilang_learn::report::Source;
use skilang_learn::run::Run;
use std::ffi::OsString;
use std::path::Path;

/// The data directory as the tests resolve it, with `source` in it, or exit saying where the
/// dataset belongs.
pub fn data_dir(source: BuiltinSource) -> OsString {
    let dir = skilang_data::dir::for_checkout(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")));
    if let Err(e) = skilang_data::catalog::ensure(&[source], &dir) {
        eprintln!("{e}");
        std::process::exit(2);
    }
    dir.into_os_string()
}

/// Trains `spec` on `data` through the library, as `skilang train SPEC ARGS...` would (`ARGS`:
/// `--set KEY=VALUE`, `--epochs N`, `--seed N`), and returns its report as `report.json` has it.
/// The peak memory it reports is this run's: the process's high-water mark is reset first.
pub fn train(run: &str, spec: &str, data: &OsString, args: &[String]) -> serde_json::Value {
    let overrides: Vec<Override> = args
        .chunks(2)
        .map(|pair| match pair {
            [flag, v] if flag == "--epochs" => format!("optimization.epochs={v}"),
            [flag, v] if flag == "--seed" => format!("optimization.seed={v}"),
            [flag, v] if flag == "--set" => v.clone(),
            other => panic!("{run}: unexpected arguments {other:?}"),
        })
        .map(|o| o.parse().expect("KEY=VALUE"))
        .collect();
    let outcome = skilang_lang::check_file_with(Path::new(spec), &overrides).expect("the spec reads");
    let (Some(checked), Some(program), true) = (outcome.spec.clone(), outcome.program.clone(), outcome.is_valid())
    else {
        panic!("{run}: the spec is invalid: {:?}", outcome.diagnostics);
    };
    // Linux: "5" resets the peak resident set size to the current one.
    std::fs::write("/proc/self/clear_refs", "5").ok();
    let dir = Path::new(data);
    let mut load = |d: &skilang_lang::spec::Dataset, seed| skilang_data::load(d, dir, seed).map_err(|e| e.to_string());
    let r = Run::new(checked, program, &mut load, &mut |_| {}).unwrap_or_else(|e| panic!("{run}: {e}"));
    let device = skilang_learn::device(r.settings.seed);
    let nets = r.build(&device).unwrap_or_else(|e| panic!("{run}: {e}"));
    let trained = r.train(nets, &device, &mut |_, _| {}, &mut |_| {}, None).unwrap_or_else(|e| panic!("{run}: {e}"));
    let source = Source::new(Path::new(spec), outcome.file.text(), &overrides);
    let mut report =
        r.report(source, &trained.nets, trained.examples.as_ref(), &device).unwrap_or_else(|e| panic!("{run}: {e}"));
    report.training = Some(trained.figures);
    serde_json::to_value(&report).expect("a report is JSON")
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
