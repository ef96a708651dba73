//! Exact inference alone on MNIST addition: `examples/mnist-addition.yaml` grounded for random
//! N-digit numbers (N = 4, 15, 100, 1000), compiled, then log P and the posterior marginals from
//! random network outputs. Time and diagram size should grow linearly in N.
//!
//! Run: `cargo bench -p skilang-logic --bench inference`

use skilang_lang::check::{ColumnId, ConstraintId};
use skilang_lang::overrides::Override;
use skilang_logic::{compile, Formulas, Observed, NODE_LIMIT};
use std::time::Instant;

/// A small deterministic generator, so that runs compare.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn main() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/mnist-addition.yaml");
    let text = std::fs::read_to_string(path).expect("the example spec");
    println!(
        "{:>5} {:>10} {:>12} {:>14} {:>14} {:>16}",
        "N", "variables", "nodes", "nodes / digit", "compile ms", "posterior ms"
    );
    let mut rng = SplitMix(1);
    for n in [4usize, 15, 100, 1000] {
        let set: Override = format!("data.mnist.instances.a={n}").parse().expect("override");
        let outcome = skilang_lang::check_source_with(path, text.clone(), &[set]).expect("applies");
        let (spec, program) = (outcome.spec.expect("reads"), outcome.program.expect("checks"));
        let grounder = Formulas::new(&spec, &program);
        let examples = if n >= 1000 { 5 } else { 20 };
        let (mut nodes, mut compile_s, mut posterior_s) = (0, 0.0, 0.0);
        for _ in 0..examples {
            let digits: Vec<i64> = (0..2 * n).map(|_| (rng.next() % 10) as i64).collect();
            let observe = |slot: usize, _: ColumnId| Some(Observed::Int(digits[slot]));
            let grounded = grounder.ground(ConstraintId::at(0), &observe).expect("grounds").expect("applies");
            let logw: Vec<Vec<f64>> = (0..2 * n)
                .map(|_| {
                    let w: Vec<f64> = (0..10).map(|_| 0.05 + (rng.next() % 1000) as f64 / 1000.0).collect();
                    let z: f64 = w.iter().sum();
                    w.iter().map(|x| (x / z).ln()).collect()
                })
                .collect();
            let t = Instant::now();
            let d = compile(&grounded.event, NODE_LIMIT).expect("compiles");
            compile_s += t.elapsed().as_secs_f64();
            let t = Instant::now();
            let post = d.posterior(&logw).expect("satisfiable");
            posterior_s += t.elapsed().as_secs_f64();
            assert!(post.log_prob.is_finite());
            nodes += d.size();
        }
        let k = examples as f64;
        println!(
            "{n:>5} {:>10} {:>12.0} {:>14.1} {:>14.3} {:>16.3}",
            2 * n,
            nodes as f64 / k,
            nodes as f64 / k / n as f64,
            compile_s / k * 1e3,
            posterior_s / k * 1e3
        );
    }
}
