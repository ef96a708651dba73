//! `shortest_path` as an event: the sampler evaluates it as a black box and converges to the
//! posterior enumeration gives; the engines that need an event's structure refuse it by name.

use proptest::prelude::*;
use skilang_lang::path;
use skilang_lang::spec::Kernel;
use skilang_logic::engine::{bp::Bp, enumerate::Enumerate, exact::Exact, sample::Sample, topk::TopK};
use skilang_logic::{Atom, Cost, Engine, Event, Formula, TooLarge};

mod common;
use common::*;

const PALETTE: [i64; 5] = [8, 12, 53, 77, 92];

/// A 3×3 grid with 2–5 latent cells of 2–4 costs each (the others fixed), compared with the
/// path one assignment of the latent costs gives (so that the event has models).
fn path_event() -> impl Strategy<Value = Event> {
    (proptest::sample::subsequence((0..9).collect::<Vec<_>>(), 2..=5), prop::collection::vec(0usize..5, 9))
        .prop_flat_map(|(latent, fixed)| {
            let n = latent.len();
            let tables = prop::collection::vec(prop::collection::vec(0usize..5, 2..=4), n);
            (Just(latent), Just(fixed), tables, prop::collection::vec(0usize..4, n))
        })
        .prop_map(|(latent, fixed, tables, chosen)| {
            let mut costs: Vec<Cost> = fixed.iter().map(|&c| Cost::Fixed(PALETTE[c])).collect();
            let mut truth: Vec<i64> = fixed.iter().map(|&c| PALETTE[c]).collect();
            for (v, (&cell, table)) in latent.iter().zip(&tables).enumerate() {
                costs[cell] = Cost::Var(v, table.iter().map(|&c| PALETTE[c]).collect());
                truth[cell] = PALETTE[table[chosen[v] % table.len()]];
            }
            Event {
                domains: tables.iter().map(Vec::len).collect(),
                atoms: vec![Atom::Path { costs, on_path: path::shortest(&truth, 3) }],
                formula: Formula::Atom(0),
            }
        })
}

fn path_and_weights() -> impl Strategy<Value = (Event, Vec<Vec<f64>>)> {
    path_event().prop_flat_map(|e| {
        let w = weights(&e.domains);
        (Just(e), w)
    })
}

/// The cells where the path of assignment `z` differs from the event's.
fn hamming(event: &Event, z: &[usize]) -> f64 {
    let Atom::Path { costs, on_path } = &event.atoms[0] else { unreachable!() };
    let c: Vec<i64> = costs
        .iter()
        .map(|c| match c {
            Cost::Fixed(x) => *x,
            Cost::Var(v, t) => t[z[*v]],
        })
        .collect();
    path::shortest(&c, 3).iter().zip(on_path).filter(|(a, b)| a != b).count() as f64
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Enumeration evaluates the path like any atom, and rejection sampling converges to it: at
    /// 10⁴ samples, where P(event) ≥ 0.1, every marginal is within 0.08 in total variation.
    #[test]
    fn sampling_a_path_converges_to_enumeration((event, logw) in path_and_weights()) {
        let (total, joint) = reference(&event, &logw);
        let exact = Enumerate { limit: 1 << 20 }.prepare(&event).unwrap().posterior(&logw).unwrap();
        prop_assert!((exact.log_prob - total.ln()).abs() < 1e-9);
        if total < 0.1 {
            return Ok(());
        }
        let sampler = Sample { samples: 10_000, kernel: Kernel::Indicator, bandwidth: 1.0 }.prepare(&event).unwrap();
        let p = sampler.posterior(&logw).unwrap();
        for (m, j) in p.marginals.iter().zip(&joint) {
            let exact: Vec<f64> = j.iter().map(|x| x / total).collect();
            prop_assert!(total_variation(m, &exact) < 0.08, "{m:?} vs {exact:?}");
        }
    }

    /// The exp kernel weighs a sample by exp(−d / bandwidth), d the cells its path gets wrong:
    /// at 10⁴ samples its marginals are within 0.08 of that weighting computed by enumeration.
    #[test]
    fn the_exp_kernel_weighs_paths_by_the_cells_they_miss((event, logw) in path_and_weights()) {
        let bandwidth = 1.5;
        let mut total = 0.0;
        let mut joint: Vec<Vec<f64>> = event.domains.iter().map(|&d| vec![0.0; d]).collect();
        for z in assignments(&event.domains) {
            let w = z.iter().zip(&logw).map(|(&x, l)| l[x]).sum::<f64>().exp() * (-hamming(&event, &z) / bandwidth).exp();
            total += w;
            z.iter().enumerate().for_each(|(v, &x)| joint[v][x] += w);
        }
        let sampler = Sample { samples: 10_000, kernel: Kernel::Exp, bandwidth }.prepare(&event).unwrap();
        let p = sampler.posterior(&logw).unwrap();
        prop_assert!((p.log_prob - total.ln()).abs() < 0.15, "log weight {} vs {}", p.log_prob, total.ln());
        for (m, j) in p.marginals.iter().zip(&joint) {
            let exact: Vec<f64> = j.iter().map(|x| x / total).collect();
            prop_assert!(total_variation(m, &exact) < 0.08, "{m:?} vs {exact:?}");
        }
    }
}

#[test]
fn engines_that_need_structure_refuse_a_path_by_name() {
    let costs = (0..144).map(|v| Cost::Var(v, PALETTE.to_vec())).collect();
    let event = Event {
        domains: vec![5; 144],
        atoms: vec![Atom::Path { costs, on_path: path::shortest(&[12; 144], 12) }],
        formula: Formula::Atom(0),
    };
    let engines: [Box<dyn Engine>; 3] = [
        Box::new(Exact { limit: 1000 }),
        Box::new(Bp { iterations: 10, damping: 0.5, tolerance: 1e-6, limit: 1000 }),
        Box::new(TopK { k: 3, expansions: 1000 }),
    ];
    for engine in engines {
        let refused = engine.prepare(&event).unwrap_err();
        assert_eq!(refused, TooLarge::BlackBox { variables: 144 }, "{}", engine.name());
        assert!(refused.to_string().contains("inference: sample"), "{refused}");
    }
    // The sampler answers: on a 12×12 grid of uniformly likely costs, costs that put the path on
    // the diagonal (cheap on it) are the likelier given it.
    let logw = vec![vec![(0.2f64).ln(); 5]; 144];
    let sampler = Sample { samples: 2000, kernel: Kernel::Exp, bandwidth: 1.0 }.prepare(&event).unwrap();
    let p = sampler.posterior(&logw).unwrap();
    let cheap = |cell: usize| p.marginals[cell][0] + p.marginals[cell][1];
    let on_diagonal = (1..11).map(|k| cheap(13 * k)).sum::<f64>() / 10.0;
    let beside = (1..11).map(|k| cheap(13 * k - 1)).sum::<f64>() / 10.0;
    assert!(on_diagonal > 0.5 && on_diagonal > beside + 0.1, "cheap on the diagonal {on_diagonal}, beside it {beside}");
}
