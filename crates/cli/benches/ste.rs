//! CL-STE against the exact semantic loss on MNIST addition (ALGORITHMS.md §3):
//! `examples/mnist-addition.yaml` with `--set optimization.injection=ste` or `semantic_loss`, the
//! same LeNet, seed and batch, one epoch.
//! - N = 1 and 2 digits per number, on the whole training set, seeds 1, 2, 3: sum and digit
//!   accuracy (mean ± half the range) and seconds, one sweep per N and injection.
//! - N = 4, 15, 100, one seed, on `SKILANG_BENCH_FRACTION` of the training set (default 0.1): the
//!   seconds to prepare the examples (compile their diagrams, or encode their CNF) and to train
//!   one epoch, and the largest prepared form, as N grows.
//!
//! Run: `cargo bench -p skilang --bench ste`
//! (`SKILANG_BENCH_N=1,15` and `SKILANG_BENCH_SEEDS=1` run a subset).

mod common;

use common::{data_dir, flag, joined, list, set, sweep};
use skilang_lang::spec::BuiltinSource;

const SPEC: &str = "examples/mnist-addition.yaml";

/// The compared injections: semantic loss alone, STE with and without normalised violated clauses.
/// And the size of what each prepares per example: a decision diagram, or a CNF.
const VARIANTS: [(&str, Option<&str>, &str); 2] =
    [("semantic_loss", None, "largest_diagram_nodes"), ("ste", Some("false,true"), "largest_cnf_literals")];

fn main() {
    let data = data_dir(BuiltinSource::Mnist);
    let only = list::<usize>("SKILANG_BENCH_N");
    let seeds = list::<u64>("SKILANG_BENCH_SEEDS").unwrap_or(vec![1, 2, 3]);
    let fraction: f64 = std::env::var("SKILANG_BENCH_FRACTION").ok().and_then(|f| f.parse().ok()).unwrap_or(0.1);
    let wanted = |n: usize| only.as_ref().is_none_or(|o| o.contains(&n));
    let variant = |injection: &str, normalize: Option<&str>| {
        let grid = normalize.map(|n| flag("--grid", format!("optimization.ste.normalize={n}")));
        [set("optimization.injection", injection), grid.unwrap_or_default()].concat()
    };

    println!("MNIST addition, one epoch, LeNet, CPU (burn flex): semantic loss (exact inference) vs CL-STE");
    for (n, batch) in [(1usize, 32usize), (2, 16)].into_iter().filter(|(n, _)| wanted(*n)) {
        for (injection, normalize, _) in VARIANTS {
            let args = [
                flag("--epochs", 1),
                flag("--seeds", joined(&seeds)),
                set("data.mnist.instances.a", n),
                set("optimization.batch_size", batch),
                variant(injection, normalize),
                flag("--metrics", "task_accuracy,symbol_accuracy,train_seconds"),
            ]
            .concat();
            let swept = sweep(&format!("ste-N{n}-{injection}"), SPEC, Some(&data), &args);
            println!("\nN = {n}, {injection}, batch {batch}:\n{}", swept.table);
        }
    }

    println!(
        "\nOne epoch on {:.0}% of the training images, seed {}: preparing the examples and training",
        fraction * 100.0,
        seeds[0]
    );
    for n in [4usize, 15, 100].into_iter().filter(|&n| wanted(n)) {
        for (injection, normalize, largest) in VARIANTS {
            let args = [
                flag("--epochs", 1),
                flag("--seeds", seeds[0]),
                set("data.mnist.instances.a", n),
                set("data.mnist.fraction", fraction),
                set("optimization.batch_size", 1),
                variant(injection, normalize),
                flag("--metrics", format!("train_examples,grounding_seconds,train_seconds,task_accuracy,{largest}")),
            ]
            .concat();
            let swept = sweep(&format!("ste-N{n}-{fraction}-{injection}"), SPEC, Some(&data), &args);
            println!("\nN = {n}, {injection}:\n{}", swept.table);
        }
    }
}
