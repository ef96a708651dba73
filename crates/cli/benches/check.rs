//! How long `skilang check` takes on each example: the front end alone (read, parse, resolve, type)
//! and the whole command as a user runs it (process start, file read, summary output); then how
//! the time grows with a spec's size (a category of 20,000 and 200,000 values: linear is 10x).
//!
//! Run: `cargo bench -p skilang --bench check`

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    println!("{:<24} {:>7} {:>16} {:>16}", "example", "bytes", "front end (med)", "command (med)");
    for file in &files {
        let bytes = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
        let in_process: Vec<Duration> = (0..200)
            .map(|_| {
                let t = Instant::now();
                let outcome = skilang_lang::check_file(file).expect("readable");
                assert!(outcome.is_valid());
                t.elapsed()
            })
            .collect();
        let command: Vec<Duration> = (0..30)
            .map(|_| {
                let t = Instant::now();
                let out = Command::new(env!("CARGO_BIN_EXE_skilang")).arg("check").arg(file).output().expect("runs");
                assert!(out.status.success());
                t.elapsed()
            })
            .collect();
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        println!(
            "{name:<24} {bytes:>7} {:>13.3} ms {:>13.3} ms",
            median(in_process).as_secs_f64() * 1e3,
            median(command).as_secs_f64() * 1e3
        );
    }
    println!("\n{:<10} {:>14} {:>14} {:>7}", "values as", "20,000 (med)", "200,000 (med)", "ratio");
    let scratch = std::env::temp_dir().join(format!("skilang-bench-check-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("a scratch folder");
    for (shape, n) in [("list", 0), ("map", 1), ("accents", 2)] {
        let time = |count: usize| {
            let path = scratch.join(format!("{shape}{count}.yaml"));
            std::fs::write(&path, large_spec(count, n)).expect("written");
            let runs: Vec<Duration> = (0..3)
                .map(|_| {
                    let t = Instant::now();
                    let out =
                        Command::new(env!("CARGO_BIN_EXE_skilang")).arg("check").arg(&path).output().expect("runs");
                    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
                    t.elapsed()
                })
                .collect();
            median(runs).as_secs_f64()
        };
        let (small, large) = (time(20_000), time(200_000));
        println!("{shape:<10} {:>11.3} s {:>11.3} s {:>6.1}x", small, large, large / small);
    }
    std::fs::remove_dir_all(&scratch).ok();
}

/// A CSV dataset whose target has `count` values, written as a flow list (0), a mapping to codes
/// (1) or names with accents (2).
fn large_spec(count: usize, shape: usize) -> String {
    let items: Vec<String> = (0..count)
        .map(|i| match shape {
            0 => i.to_string(),
            1 => format!("v{i}: {i}"),
            _ => format!("é{i}"),
        })
        .collect();
    let values = if shape == 1 { format!("{{{}}}", items.join(", ")) } else { format!("[{}]", items.join(", ")) };
    format!("data:\n  t:\n    training: {{file: rows.csv, format: csv}}\n    features:\n      - {{name: u, type: int}}\n    targets:\n      - {{name: y, values: {values}}}\nlearnables:\n  f: {{input: t.u, output: t.y, architecture: mlp}}\n")
}
