//! Visual Sudoku puzzle classification (ViSudo-PC, ALGORITHMS.md §6) against the published figures
//! (ALGORITHMS.md §2): `examples/visual-sudoku-4.yaml` by exact semantic loss and by BP-EM, and
//! `examples/visual-sudoku-9.yaml` by BP-EM (exact inference cannot compile a 9×9 board), on split
//! 01 generated from MNIST as the published generator does, training seeds 1, 2, 3. Per run: board
//! classification accuracy on the 200 test boards, seconds and peak memory; trained on the 200
//! training boards for up to 50 epochs, the epoch kept chosen on the split's 200 validation boards
//! (`validation`, `patience` in the specs), as published. The published figures average splits 01–10; these
//! vary the training seed on split 01.
//!
//! Run: `cargo bench -p skilang --bench visudo` (`SKILANG_BENCH_SEEDS=1` runs one seed).

mod common;

use common::{data_dir, flag, joined, list, set, sweep};
use skilang_lang::spec::BuiltinSource;

fn main() {
    let data = data_dir(BuiltinSource::Mnist);
    let seeds = list::<u64>("SKILANG_BENCH_SEEDS").unwrap_or(vec![1, 2, 3]);
    let metrics = flag("--metrics", "task_accuracy,train_seconds,peak_rss_bytes");
    let runs = [
        ("visudo-4-semantic_loss-exact", "examples/visual-sudoku-4.yaml", vec![]),
        (
            "visudo-4-em-bp",
            "examples/visual-sudoku-4.yaml",
            [set("optimization.injection", "em"), set("optimization.inference", "bp")].concat(),
        ),
        ("visudo-9-em-bp", "examples/visual-sudoku-9.yaml", vec![]),
    ];
    println!("Visual Sudoku (ViSudo-PC split 01, 200 training and 200 test boards), LeNet, CPU (burn flex)");
    println!("published (accuracy %): 4x4 SL exact 86.70, BP-EM 89.70, A-NeSI 87.20, Scallop 75.00; 9x9 BP-EM 50.0, A-NeSI 59.20");
    for (name, spec, extra) in runs {
        let args = [flag("--seeds", joined(&seeds)), extra, metrics.clone()].concat();
        let swept = sweep(name, spec, Some(&data), &args);
        println!("\n{name}:\n{}", swept.table);
    }
}
