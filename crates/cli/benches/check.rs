//! How long `skilang check` takes on each example: the front end alone (read, parse, resolve, type)
//! and the whole command as a user runs it (process start, file read, summary output).
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
}
