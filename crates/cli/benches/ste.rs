//! CL-STE against the exact semantic loss on MNIST addition (ALGORITHMS.md §3):
//! `examples/mnist-addition.yaml` with `--set optimization.injection=ste` or `semantic_loss`, the
//! same LeNet, seed and batch, one epoch.
//! - N = 1 and 2 digits per number, on the whole training set, seeds 1, 2, 3: sum and digit
//!   accuracy (mean ± half the range) and seconds.
//! - N = 4, 15, 100, one seed, on `SKILANG_BENCH_FRACTION` of the training set (default 0.1): the
//!   seconds to prepare the examples (compile their diagrams, or encode their CNF) and to train
//!   one epoch, and the largest prepared form, as N grows.
//!
//! Run: `cargo bench -p skilang --bench ste`
//! (`SKILANG_BENCH_N=1,15` and `SKILANG_BENCH_SEEDS=1` run a subset).

mod common;

use common::{cell, data_dir, list, set, train};
use skilang_lang::spec::BuiltinSource;

/// What is compared: a label, the injection, and whether STE normalises violated clauses.
const VARIANTS: [(&str, &str, bool); 3] =
    [("semantic_loss", "semantic_loss", false), ("ste", "ste", false), ("ste normalize", "ste", true)];

fn main() {
    let data = data_dir(BuiltinSource::Mnist);
    let only = list::<usize>("SKILANG_BENCH_N");
    let seeds = list::<u64>("SKILANG_BENCH_SEEDS").unwrap_or(vec![1, 2, 3]);
    let fraction: f64 = std::env::var("SKILANG_BENCH_FRACTION").ok().and_then(|f| f.parse().ok()).unwrap_or(0.1);
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/mnist-addition.yaml");
    let wanted = |n: usize| only.as_ref().is_none_or(|o| o.contains(&n));
    let seconds = |r: &serde_json::Value, key: &str| r[key].as_f64().unwrap_or(f64::NAN);

    println!("MNIST addition, one epoch, LeNet, CPU (burn flex): semantic loss (exact inference) vs CL-STE");
    println!("{:>4} {:>14} {:>16} {:>16} {:>9}", "N", "injection", "sum acc", "digit acc", "train s");
    for (n, batch) in [(1usize, 32usize), (2, 16)].into_iter().filter(|(n, _)| wanted(*n)) {
        for (label, injection, normalize) in VARIANTS {
            let (mut sums, mut digits, mut secs) = (Vec::new(), Vec::new(), Vec::new());
            for &seed in &seeds {
                let args = [
                    vec!["--epochs".to_string(), "1".into(), "--seed".into(), seed.to_string()],
                    set("data.mnist.instances.a", n).to_vec(),
                    set("optimization.batch_size", batch).to_vec(),
                    set("optimization.injection", injection).to_vec(),
                    set("optimization.ste.normalize", normalize).to_vec(),
                ]
                .concat();
                let r = train(&format!("{label}-{n}-{seed}"), spec, &data, &args);
                sums.push(r["task_accuracy"].as_f64().unwrap_or(f64::NAN));
                digits.push(r["symbol_accuracy"]["digit"].as_f64().unwrap_or(f64::NAN));
                secs.push(seconds(&r, "train_seconds"));
            }
            let mean = secs.iter().sum::<f64>() / secs.len().max(1) as f64;
            println!("{n:>4} {label:>14} {:>16} {:>16} {mean:>9.1}", cell(sums), cell(digits));
        }
    }

    println!();
    println!(
        "One epoch on {:.0}% of the training images, seed {}: preparing the examples and training",
        fraction * 100.0,
        seeds[0]
    );
    println!(
        "{:>4} {:>14} {:>9} {:>10} {:>9} {:>9} {:>16}",
        "N", "injection", "examples", "prepare s", "train s", "sum acc", "largest form"
    );
    for n in [4usize, 15, 100].into_iter().filter(|&n| wanted(n)) {
        for (label, injection, normalize) in VARIANTS {
            let args = [
                vec!["--epochs".to_string(), "1".into(), "--seed".into(), seeds[0].to_string()],
                set("data.mnist.instances.a", n).to_vec(),
                set("data.mnist.fraction", fraction).to_vec(),
                set("optimization.batch_size", 1).to_vec(),
                set("optimization.injection", injection).to_vec(),
                set("optimization.ste.normalize", normalize).to_vec(),
            ]
            .concat();
            let r = train(&format!("{label}-{n}"), spec, &data, &args);
            let largest = match injection {
                "ste" => format!("{} literals", r["largest_cnf_literals"].as_u64().unwrap_or(0)),
                _ => format!("{} nodes", r["largest_diagram_nodes"].as_u64().unwrap_or(0)),
            };
            println!(
                "{n:>4} {label:>14} {:>9} {:>10.1} {:>9.1} {:>9.4} {largest:>16}",
                r["train_examples"].as_u64().unwrap_or(0),
                seconds(&r, "grounding_seconds"),
                seconds(&r, "train_seconds"),
                r["task_accuracy"].as_f64().unwrap_or(f64::NAN),
            );
        }
    }
}
