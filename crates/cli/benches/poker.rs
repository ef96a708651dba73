//! Poker hand (ALGORITHMS.md §5): one spec, `examples/poker-hand.yaml`, trained with supervision
//! only and with its rules injected by constraining, embedding and structuring, on all 25,010
//! UCI training hands and on seeded 10% and 1% of them (`data.poker.fraction`), over 3 seeds.
//! With `SKILANG_BENCH_SHARE=labelled` the shares are of labelled hands (`data.poker.labelled`)
//! and the other training hands stay as inputs without labels, which only the rules read.
//! `SKILANG_BENCH_SAMPLED=N` adds N hands drawn from the declared suits and ranks, without labels
//! (`data.poker.sampled`), to every run.
//! Tested on the UCI test file when present, else on the 1,000,000 generated hands. One table of
//! accuracy and macro-F1 (mean ± half the range over seeds, from `skilang sweep`) beside the
//! reference figures.
//!
//! Run: `cargo bench -p skilang --bench poker`
//! (`SKILANG_BENCH_INJECTIONS=supervised,structuring`, `SKILANG_BENCH_FRACTIONS=0.01` and
//! `SKILANG_BENCH_SEEDS=1` run a subset).

mod common;

use common::{data_dir, flag, joined, list, set, sweep};
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
    let args = [
        flag("--seeds", joined(&seeds)),
        flag("--grid", format!("data.poker.{share}={}", joined(&fractions))),
        flag("--grid", format!("optimization.injection={}", joined(&injections))),
        flag("--metrics", "symbol_accuracy,macro_f1,train_seconds,evaluation_seconds,peak_rss_bytes"),
        sampled.iter().flat_map(|n| set("data.poker.sampled", n)).collect(),
    ]
    .concat();
    let name = match &sampled {
        Some(n) => format!("poker-{share}-sampled{n}"),
        None => format!("poker-{share}"),
    };
    let swept = sweep(&name, "examples/poker-hand.yaml", Some(&data), &args);
    println!("Poker hand, 3×128 MLP on one-hot suits and ranks, 30 epochs; one spec, the injection set with --set;");
    if let Some(n) = &sampled {
        println!("{n} hands drawn from the declared suits and ranks, without labels, added to the training hands;");
    }
    println!("tested on the UCI test file when present, else on 1,000,000 generated hands; CPU (burn flex)");
    print!("{}", swept.table);
    println!("\nReference figures (ALGORITHMS.md §5), all training hands: method — accuracy — macro-F1");
    for (method, accuracy, f1) in PEERS {
        println!("  {method} — {accuracy} — {f1}");
    }
    println!("\nruns and reports: {}", swept.dir.display());
}
