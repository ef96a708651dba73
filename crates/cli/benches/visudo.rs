//! Visual Sudoku puzzle classification (ViSudo-PC, ALGORITHMS.md §6) against the published figures
//! (ALGORITHMS.md §2): `examples/visual-sudoku-4.yaml` by exact semantic loss and by BP-EM, and
//! `examples/visual-sudoku-9.yaml` by BP-EM (exact inference cannot compile a 9×9 board), on split
//! 01 generated from MNIST as the published generator does, training seeds 1, 2, 3. Per run: board
//! classification accuracy on the 200 test boards, seconds and peak memory; trained on the 200
//! training boards for up to 50 epochs, the epoch kept chosen on the split's 200 validation boards
//! (`validation`, `patience` in the specs), as published. The published figures average splits 01–10; these
//! vary the training seed on split 01.
//!
//! Also the 4×4 spec by BP-std (the semantic loss through BP), through sampling (ABC-EM) and top-k
//! proofs.
//!
//! Run: `cargo bench -p skilang --bench visudo` (`SKILANG_BENCH_SEEDS=1` runs one seed,
//! `SKILANG_BENCH_ONLY=sample,topk` the rows whose names contain one of these).
//! `SKILANG_BENCH_SPLITS=1,2,...,10` runs the 4×4 rows instead over those splits, as published
//! (each written once by `skilang data visudo-4 --split K`, read with `format: visudo`), one seed.

mod common;

use common::{data_dir, flag, joined, list, set, sweep};
use skilang_lang::spec::BuiltinSource;
use std::path::Path;
use std::process::Command;

fn main() {
    let data = data_dir(BuiltinSource::Mnist);
    if let Some(splits) = list::<u32>("SKILANG_BENCH_SPLITS") {
        return over_splits(&data, &splits);
    }
    let seeds = list::<u64>("SKILANG_BENCH_SEEDS").unwrap_or(vec![1, 2, 3]);
    let metrics = flag("--metrics", "task_accuracy,train_seconds,peak_rss_bytes");
    let runs = [
        ("visudo-4-semantic_loss-exact", "examples/visual-sudoku-4.yaml", vec![]),
        (
            "visudo-4-em-bp",
            "examples/visual-sudoku-4.yaml",
            [set("optimization.injection", "em"), set("optimization.inference", "bp")].concat(),
        ),
        // BP-std: the semantic loss through BP, differentiated through its rounds.
        ("visudo-4-semantic_loss-bp", "examples/visual-sudoku-4.yaml", set("optimization.inference", "bp")),
        ("visudo-9-em-bp", "examples/visual-sudoku-9.yaml", vec![]),
        // The same spec through the other approximate engines: sampling (ABC-EM, its kernel the
        // constraints a sampled board breaks) and the top-k proofs.
        (
            "visudo-4-em-sample",
            "examples/visual-sudoku-4.yaml",
            [
                set("optimization.injection", "em"),
                set("optimization.inference", "sample"),
                set("optimization.kernel", "exp"),
                set("optimization.bandwidth", 0.5),
            ]
            .concat(),
        ),
        ("visudo-4-semantic_loss-topk", "examples/visual-sudoku-4.yaml", set("optimization.inference", "topk")),
    ];
    println!("Visual Sudoku (ViSudo-PC split 01, 200 training and 200 test boards), LeNet, CPU (burn flex)");
    println!("published (accuracy %): 4x4 SL exact 86.70, BP-EM 89.70, BP-std 87.80, ABC-EM 86.30, A-NeSI 87.20, Scallop 75.00; 9x9 BP-EM 50.0, ABC-EM 53.30, A-NeSI 59.20");
    for (name, spec, extra) in runs.into_iter().filter(|(name, ..)| chosen(name)) {
        let args = [flag("--seeds", joined(&seeds)), extra, metrics.clone()].concat();
        let swept = sweep(name, spec, Some(&data), &args);
        println!("\n{name}:\n{}", swept.table);
    }
}

/// `SKILANG_BENCH_ONLY=sample,topk` runs the rows whose names contain one of these.
fn chosen(name: &str) -> bool {
    list::<String>("SKILANG_BENCH_ONLY").is_none_or(|o| o.iter().any(|p| name.contains(p.as_str())))
}

/// The 4×4 rows over published-style splits: one grid point per split's training file.
fn over_splits(data: &Path, splits: &[u32]) {
    let mut files = Vec::new();
    for &k in splits {
        let folder = data.join("visudo").join(skilang_data::visudo::Config::standard(4, k).folder());
        if !folder.join("options.json").is_file() {
            let status = Command::new(env!("CARGO_BIN_EXE_skilang"))
                .args(["data", "visudo-4", "--split", &k.to_string(), "--data-dir"])
                .arg(data)
                .status()
                .expect("the skilang binary runs");
            assert!(status.success(), "skilang data visudo-4 --split {k}");
        }
        files.push(folder.join("train_puzzle_pixels.txt").display().to_string());
    }
    // The example, reading a split's files (the test and validation files beside the training one).
    let text = std::fs::read_to_string(common::root().join("examples/visual-sudoku-4.yaml")).expect("the example");
    let spec = std::env::temp_dir().join("skilang-bench-visudo-4-files.yaml");
    let files_instead = "    training: {file: train_puzzle_pixels.txt, format: visudo}\n";
    std::fs::write(&spec, text.replace("    source: visudo-4\n", files_instead)).expect("a temporary spec");
    let spec = spec.display().to_string();
    let grid = flag("--grid", format!("data.visudo.training.file={}", files.join(",")));
    let metrics = flag("--metrics", "task_accuracy,train_seconds,peak_rss_bytes");
    println!("Visual Sudoku 4x4 over splits {} (200 training and 200 test boards each), LeNet, seed 1", joined(splits));
    println!("published (accuracy %, mean over splits 01-10): SL exact 86.70, BP-EM 89.70, BP-std 87.80, A-NeSI 87.20");
    let runs = [
        ("visudo-4-splits-semantic_loss-exact", vec![]),
        ("visudo-4-splits-em-bp", [set("optimization.injection", "em"), set("optimization.inference", "bp")].concat()),
        ("visudo-4-splits-semantic_loss-bp", set("optimization.inference", "bp")),
    ];
    for (name, extra) in runs.into_iter().filter(|(name, _)| chosen(name)) {
        let args = [flag("--seeds", 1), grid.clone(), extra, metrics.clone()].concat();
        let swept = sweep(name, &spec, Some(data), &args);
        println!("\n{name}:\n{}", swept.table);
        let points = swept.summary["points"].as_array().expect("points");
        let accuracy: Vec<f64> = points.iter().filter_map(|p| p["metrics"]["task_accuracy"]["mean"].as_f64()).collect();
        let mean = accuracy.iter().sum::<f64>() / accuracy.len() as f64;
        let sd =
            (accuracy.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / (accuracy.len() as f64 - 1.0).max(1.0)).sqrt();
        let (lo, hi) = accuracy.iter().fold((f64::MAX, f64::MIN), |(l, h), &a| (l.min(a), h.max(a)));
        println!("over {} splits: task accuracy {mean:.4} (sd {sd:.4}; {lo:.3}-{hi:.3})", accuracy.len());
    }
}
