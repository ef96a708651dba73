//! Poker hand (ALGORITHMS.md §5): one spec, `examples/poker-hand.yaml`, trained with supervision
//! only and with its rules injected by constraining, embedding and structuring, on all 25,010
//! UCI training hands and on seeded 10% and 1% of them (`data.poker.fraction`), over 3 seeds.
//! With `SKILANG_BENCH_SHARE=labelled` the shares are of labelled hands (`data.poker.labelled`)
//! and the other training hands stay as inputs without labels, which only the rules read.
//! `SKILANG_BENCH_SAMPLED=N` adds N hands drawn from the declared suits and ranks, without labels
//! (`data.poker.sampled`), to every run.
//! Tested on the UCI test file when present, else on the 1,000,000 generated hands. One table of
//! accuracy and macro-F1 (mean ± half the range over seeds) beside the reference figures.
//!
//! Run: `cargo bench -p skilang --bench poker`
//! (`SKILANG_BENCH_INJECTIONS=supervised,structuring`, `SKILANG_BENCH_FRACTIONS=0.01` and
//! `SKILANG_BENCH_SEEDS=1` run a subset).

mod common;

use common::{cell, data_dir, list, set, stats, train};
use skilang_lang::spec::BuiltinSource;

const INJECTIONS: [&str; 4] = ["supervised", "constraining", "embedding", "structuring"];
const FRACTIONS: [f64; 3] = [1.0, 0.1, 0.01];
const SEEDS: [u64; 3] = [1, 2, 3];

/// Measured on a machine like ours (ALGORITHMS.md §5), trained on all 25,010 hands and tested on
/// 1,000,000 generated ones: method, accuracy, macro-F1.
const PEERS: [(&str, &str, &str); 4] = [
    ("one-hot MLP (scikit-learn), 3 seeds", "0.991–0.993", "0.59–0.63"),
    ("gradient boosting on rule-derived features", "1.000", "0.89"),
    ("PSyKI: uneducated 3×128 MLP, raw integers (UCI test file)", "0.962", "0.51"),
    ("PSyKI: KINS rule modules (UCI test file)", "0.9997", "0.82"),
];

struct Run {
    accuracy: f64,
    macro_f1: f64,
    seconds: f64,
    /// Evaluating the test hands: predictions and every hand's constraints.
    eval_seconds: f64,
    peak_mib: f64,
}

fn main() {
    let data = data_dir(BuiltinSource::PokerHand);
    let injections = list::<String>("SKILANG_BENCH_INJECTIONS").unwrap_or(INJECTIONS.map(String::from).to_vec());
    let fractions = list::<f64>("SKILANG_BENCH_FRACTIONS").unwrap_or(FRACTIONS.to_vec());
    let seeds = list::<u64>("SKILANG_BENCH_SEEDS").unwrap_or(SEEDS.to_vec());
    let share = match std::env::var("SKILANG_BENCH_SHARE").as_deref() {
        Ok("labelled") => "labelled",
        _ => "fraction",
    };
    let sampled = std::env::var("SKILANG_BENCH_SAMPLED").ok().filter(|n| !n.is_empty());
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/poker-hand.yaml");
    let mut rows = Vec::new();
    let mut test_hands = 0;
    for &fraction in &fractions {
        for injection in &injections {
            let mut runs = Vec::new();
            for &seed in &seeds {
                let args = [
                    vec!["--seed".to_string(), seed.to_string()],
                    set("optimization.injection", injection).to_vec(),
                    set(&format!("data.poker.{share}"), fraction).to_vec(),
                    sampled.iter().flat_map(|n| set("data.poker.sampled", n)).collect(),
                ]
                .concat();
                let report = train(&format!("poker-{injection}-{share}-{fraction}-{seed}"), spec, &data, &args);
                test_hands = report["test_examples"].as_u64().unwrap_or(0);
                runs.push(Run {
                    accuracy: report["symbol_accuracy"]["classify"].as_f64().unwrap_or(f64::NAN),
                    macro_f1: report["macro_f1"].as_f64().unwrap_or(f64::NAN),
                    seconds: report["train_seconds"].as_f64().unwrap_or(f64::NAN),
                    eval_seconds: report["evaluation_seconds"].as_f64().unwrap_or(f64::NAN),
                    peak_mib: report["peak_rss_bytes"].as_f64().unwrap_or(0.0) / 1048576.0,
                });
            }
            rows.push((fraction, injection.clone(), runs));
        }
    }
    println!("Poker hand, 3×128 MLP on one-hot suits and ranks, 30 epochs; one spec, the injection set with --set;");
    if let Some(n) = &sampled {
        println!("{n} hands drawn from the declared suits and ranks, without labels, added to the training hands;");
    }
    println!("tested on {test_hands} hands, {} seed(s): mean ± half the range; CPU (burn flex)", seeds.len());
    println!(
        "{:>8}  {:>12}  {:>15}  {:>15}  {:>9}  {:>8}  {:>8}",
        share, "injection", "accuracy", "macro-F1", "train s", "test s", "peak MiB"
    );
    for (fraction, injection, runs) in &rows {
        println!(
            "{fraction:>8}  {injection:>12}  {:>15}  {:>15}  {:>9.1}  {:>8.1}  {:>8.0}",
            cell(runs.iter().map(|r| r.accuracy).collect()),
            cell(runs.iter().map(|r| r.macro_f1).collect()),
            stats(&runs.iter().map(|r| r.seconds).collect::<Vec<_>>()).0,
            stats(&runs.iter().map(|r| r.eval_seconds).collect::<Vec<_>>()).0,
            runs.iter().map(|r| r.peak_mib).fold(0.0, f64::max),
        );
    }
    println!("\nReference figures (ALGORITHMS.md §5), all training hands: method — accuracy — macro-F1");
    for (method, accuracy, f1) in PEERS {
        println!("  {method} — {accuracy} — {f1}");
    }
}
