//! Sudoku 9×9 learned from its rules alone (CL-STE, ALGORITHMS.md §3) against the same network
//! trained on the solutions: `examples/sudoku.yaml` under `injection: ste` and `supervised`, the
//! same seeds, batch and epochs, and the supervised network again with five times the epochs (about
//! STE's wall time), on generated 'easy' puzzles (36 givens, unique solutions). Two sweeps; per
//! injection the cell and whole-board accuracy on the test puzzles (iterative decoding), seconds
//! and peak memory (each run is its own process).
//!
//! Run: `cargo bench -p skilang --bench sudoku` (needs no data: the puzzles are generated into
//! `target/sudoku-bench/`). `SKILANG_BENCH_PUZZLES` (default 20000 training puzzles; the test set
//! is a twentieth), `SKILANG_BENCH_EPOCHS` (default 6), `SKILANG_BENCH_SEEDS` (default 1,2,3) and
//! `SKILANG_BENCH_BATCH` (default 8) change the budget.

mod common;

use common::{flag, joined, list, root, set, sweep};
use skilang_data::sudoku::{csv, generate, Givens};

fn main() {
    let env = |var: &str, default: usize| std::env::var(var).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let (puzzles, epochs, batch) =
        (env("SKILANG_BENCH_PUZZLES", 20_000), env("SKILANG_BENCH_EPOCHS", 6), env("SKILANG_BENCH_BATCH", 8));
    let seeds = list::<u64>("SKILANG_BENCH_SEEDS").unwrap_or(vec![1, 2, 3]);
    let dir = root().join("target/sudoku-bench");
    let folder = dir.join("sudoku");
    std::fs::create_dir_all(&folder).expect("a folder for the puzzles");
    for (file, n, seed) in [("train.csv", puzzles, 9_000), ("test.csv", (puzzles / 20).max(100), 9_001)] {
        std::fs::write(folder.join(file), csv(&generate(n, Givens::EASY, seed))).expect("puzzles written");
    }
    let spec = "examples/sudoku.yaml";
    let shared = [
        flag("--seeds", joined(&seeds)),
        set("optimization.batch_size", batch),
        flag("--metrics", "symbol_accuracy,grid_accuracy,train_seconds,peak_rss_bytes"),
    ]
    .concat();
    let name = format!("sudoku-{puzzles}");
    let both = [shared.clone(), flag("--epochs", epochs), flag("--grid", "optimization.injection=ste,supervised")];
    let longer = [shared, flag("--epochs", 5 * epochs), set("optimization.injection", "supervised")];
    let same = sweep(&format!("{name}-{epochs}ep"), spec, Some(&dir), &both.concat());
    let long = sweep(&format!("{name}-supervised-{}ep", 5 * epochs), spec, Some(&dir), &longer.concat());
    println!("Sudoku 9x9, {puzzles} 'easy' training puzzles, batch {batch}, CPU (burn flex)");
    println!("\n{epochs} epochs:\n{}", same.table);
    println!("supervised, {} epochs:\n{}", 5 * epochs, long.table);
    println!("runs and reports: {} and {}", same.dir.display(), long.dir.display());
}
