//! MNIST addition (ALGORITHMS.md §2): `examples/mnist-addition.yaml` for
//! N = 1, 2, 4, 15, 100 digits per number, trained on the MNIST training set split into disjoint
//! tuples and tested on tuples of the MNIST test set; one sweep per N (its epochs and batch).
//! Per N: sum accuracy, digit accuracy, epochs, wall minutes and peak memory, beside the
//! published figures.
//!
//! Run: `cargo bench -p skilang --bench addition`
//! (`SKILANG_BENCH_N=4,15` runs a subset; `SKILANG_BENCH_INJECTION=em` compares EM,
//! `SKILANG_BENCH_INFERENCE=topk` or `sample` another engine than `exact`;
//! `SKILANG_BENCH_SEEDS=1` fewer seeds than the default 1, 2, 3.)

mod common;

use common::{addition, data_dir, flag, joined, list, set, sweep, Addition};
use skilang_lang::spec::BuiltinSource;

/// Per N (as `common::addition` trains it), the published figures as text.
const PUBLISHED: [(usize, &str); 5] = [
    (1, "2-core peers, 1 epoch: DeepStochLog 95.2 (30 s), Scallop 96.8 (94 s), DeepProbLog 93.6 (499 s)"),
    (2, "2-core peers, 1 epoch: DeepStochLog 89.6 (40 s), Scallop 92.8 (746 s, 0.81 epoch)"),
    (4, "BP-EM 92.53 (1.33 GPU min), DeepProofLog 94.0 (25 min), 2-core DeepStochLog 70.1 (1 epoch, 87 s)"),
    (15, "BP-EM 74.85 (1.95 GPU min), DeepProofLog 80.8 (42 min), A-NeSI 76.84"),
    (100, "BP-EM 9.20 (8.51 GPU min), DeepProofLog 37.8 (106 min), A-NeSI overflow"),
];

fn main() {
    let data = data_dir(BuiltinSource::Mnist);
    let only = list::<usize>("SKILANG_BENCH_N");
    let seeds = list::<u64>("SKILANG_BENCH_SEEDS").unwrap_or(vec![1, 2, 3]);
    let injection = std::env::var("SKILANG_BENCH_INJECTION").unwrap_or_else(|_| "semantic_loss".into());
    let inference = std::env::var("SKILANG_BENCH_INFERENCE").unwrap_or_else(|_| "exact".into());
    println!("MNIST addition, {injection}, {inference} inference, LeNet, CPU (burn flex)");
    for (n, published) in PUBLISHED {
        let Addition { epochs, batch, schedule } = Addition::of(n);
        if only.as_ref().is_some_and(|o| !o.contains(&n)) {
            continue;
        }
        let args = [
            flag("--seeds", joined(&seeds)),
            addition(n),
            set("optimization.injection", &injection),
            set("optimization.inference", &inference),
        ]
        .concat();
        let swept = sweep(
            &format!("addition-{injection}-{inference}-N{n}"),
            "examples/mnist-addition.yaml",
            Some(&data),
            &args,
        );
        println!(
            "\nN = {n}, {epochs} epoch(s), batch {batch}, {schedule} rate; published (sum acc %, time): {published}"
        );
        print!("{}", swept.table);
        println!("runs and reports: {}", swept.dir.display());
    }
}
