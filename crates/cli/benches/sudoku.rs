//! Sudoku 9×9 learned from its rules alone (CL-STE, ALGORITHMS.md §3) against the same network
//! trained on the solutions: `examples/sudoku.yaml` under `injection: ste` and `supervised`, the
//! same seeds, batch and epochs, and the supervised network again with five times the epochs (about
//! STE's wall time), on generated 'easy' puzzles (36 givens, unique solutions). Prints per run the
//! cell and whole-board accuracy on the test puzzles (iterative decoding), seconds and peak memory.
//!
//! Run: `cargo bench -p skilang --bench sudoku` (needs no data: the puzzles are generated into
//! `target/sudoku-bench/`). `SKILANG_BENCH_PUZZLES` (default 20000 training puzzles; the test set
//! is a twentieth), `SKILANG_BENCH_EPOCHS` (default 6), `SKILANG_BENCH_SEEDS` (default 1,2,3) and
//! `SKILANG_BENCH_BATCH` (default 8) change the budget.

mod common;

use common::{cell, list, set, train};
use skilang_data::sudoku::{csv, generate, Givens};

fn main() {
    let env = |var: &str, default: usize| std::env::var(var).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let (puzzles, epochs, batch) =
        (env("SKILANG_BENCH_PUZZLES", 20_000), env("SKILANG_BENCH_EPOCHS", 6), env("SKILANG_BENCH_BATCH", 8));
    let seeds = list::<u64>("SKILANG_BENCH_SEEDS").unwrap_or(vec![1, 2, 3]);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/sudoku-bench");
    let folder = dir.join("sudoku");
    std::fs::create_dir_all(&folder).expect("a folder for the puzzles");
    for (file, n, seed) in [("train.csv", puzzles, 9_000), ("test.csv", (puzzles / 20).max(100), 9_001)] {
        std::fs::write(folder.join(file), csv(&generate(n, Givens::EASY, seed))).expect("puzzles written");
    }
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/sudoku.yaml");
    println!("Sudoku 9x9, {puzzles} 'easy' training puzzles, seeds {seeds:?}, batch {batch}, CPU (burn flex)");
    println!(
        "{:>16} {:>7} {:>16} {:>16} {:>9} {:>9}",
        "injection", "epochs", "cell acc", "board acc", "train s", "peak MiB"
    );
    for (injection, epochs) in [("ste", epochs), ("supervised", epochs), ("supervised", 5 * epochs)] {
        let (mut cells, mut boards, mut secs, mut peak) = (Vec::new(), Vec::new(), Vec::new(), 0.0f64);
        for &seed in &seeds {
            let args = [
                vec!["--epochs".to_string(), epochs.to_string(), "--seed".into(), seed.to_string()],
                set("optimization.batch_size", batch).to_vec(),
                set("optimization.injection", injection).to_vec(),
            ]
            .concat();
            let r = train(&format!("{injection}-{epochs}-{seed}"), spec, &dir.clone().into_os_string(), &args);
            cells.push(r["symbol_accuracy"]["solve"].as_f64().unwrap_or(f64::NAN));
            boards.push(r["grid_accuracy"]["solve"].as_f64().unwrap_or(f64::NAN));
            secs.push(r["train_seconds"].as_f64().unwrap_or(f64::NAN));
            peak = peak.max(r["peak_rss_bytes"].as_f64().unwrap_or(0.0) / (1 << 20) as f64);
        }
        let mean = secs.iter().sum::<f64>() / secs.len().max(1) as f64;
        println!("{injection:>16} {epochs:>7} {:>16} {:>16} {mean:>9.0} {peak:>9.0}", cell(cells), cell(boards));
    }
}
