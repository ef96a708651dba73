//! Fair income prediction on UCI Adult (ALGORITHMS.md §5): `examples/adult-fairness.yaml` under
//! fuzzy constraining, the weight of the statistical-parity constraint swept over 3 seeds by
//! `skilang sweep`. Its table (accuracy, macro-F1, F1 of `>50K`, SP on the UCI test set: mean ±
//! half the range over seeds; train seconds, peak memory) beside the reference figures measured
//! on the same split; its box plots in the sweep's `summary.svg`.
//!
//! Run: `cargo bench -p skilang --bench fairness`
//! (`SKILANG_BENCH_WEIGHTS=0,1` and `SKILANG_BENCH_SEEDS=1` run a subset).

mod common;

use common::{data_dir, flag, joined, list, sweep};
use skilang_lang::spec::BuiltinSource;

const WEIGHTS: [f64; 6] = [0.0, 1.0, 3.0, 10.0, 30.0, 100.0];
const SEEDS: [u64; 3] = [1, 2, 3];

/// Measured on a machine like ours (ALGORITHMS.md §5): method, test accuracy, SP.
const PEERS: [(&str, &str, &str); 6] = [
    ("MLP (100, 50), no constraint", "0.854 / 0.857", "0.101 / 0.093"),
    ("histogram gradient boosting", "0.873", "0.098"),
    ("fairlearn ExponentiatedGradient(logistic regression), DP ≤ 0.01", "0.850", "0.010"),
    ("fairlearn ExponentiatedGradient(gradient boosting), DP ≤ 0.01", "0.871", "0.008"),
    ("fairlearn ThresholdOptimizer(MLP), reads race at test time", "0.854", "0.002"),
    ("MLP + λ·|SP_batch| (numpy), λ = 0.25 / 1 / 4", "0.855 / 0.854 / 0.846", "0.006 / 0.002 / 0.031"),
];

fn main() {
    let data = data_dir(BuiltinSource::Adult);
    let weights = list::<f64>("SKILANG_BENCH_WEIGHTS").unwrap_or(WEIGHTS.to_vec());
    let seeds = list::<u64>("SKILANG_BENCH_SEEDS").unwrap_or(SEEDS.to_vec());
    let args = [
        flag("--seeds", joined(&seeds)),
        flag("--grid", format!("constraints.1.weight={}", joined(&weights))),
        flag(
            "--metrics",
            "task_accuracy,macro_f1,per_class_f1.over50k.>50K,constraints.fairness.value,train_seconds,peak_rss_bytes",
        ),
    ]
    .concat();
    let swept = sweep("fairness", "examples/adult-fairness.yaml", Some(&data), &args);
    println!("UCI Adult, income from 14 features, MLP (100, 50), fuzzy constraining (product), SP(race: White vs rest) <= 0.01;");
    println!("UCI test set (16,281 people); CPU (burn flex)");
    print!("{}", swept.table);
    println!("\nReference figures on the same split (ALGORITHMS.md §5): method — accuracy — SP");
    for (method, accuracy, sp) in PEERS {
        println!("  {method} — {accuracy} — {sp}");
    }
    println!("\nruns, reports and box plots: {}", swept.dir.display());
}
