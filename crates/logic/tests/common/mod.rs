//! Random small events and distributions for the engines' property tests.
#![allow(dead_code)]

use num_bigint::BigInt;
use proptest::prelude::*;
use skilang_logic::{Atom, Cmp, Event, Formula};

pub fn atom(domains: Vec<usize>) -> impl Strategy<Value = Atom> {
    let n = domains.len();
    let sum = (
        proptest::sample::subsequence((0..n).collect::<Vec<_>>(), 1..=n),
        prop::sample::select(vec![Cmp::Eq, Cmp::Ne, Cmp::Le, Cmp::Ge]),
        -6i64..12,
        prop::sample::select(vec![1i64, 1, 2, 3, 10]),
    )
        .prop_flat_map({
            let domains = domains.clone();
            move |(vars, cmp, rhs, scale)| {
                let tables: Vec<_> =
                    vars.iter().map(|&v| prop::collection::vec(-2i64..4, domains[v]).boxed()).collect();
                (Just(vars), tables, Just(cmp), Just(rhs), Just(scale))
            }
        })
        .prop_map(|(vars, tables, cmp, rhs, scale)| Atom::Sum {
            terms: vars
                .into_iter()
                .zip(tables)
                .map(|(v, t)| (v, t.into_iter().map(|x| BigInt::from(x * scale)).collect()))
                .collect(),
            cmp,
            rhs: BigInt::from(rhs),
        });
    let table = proptest::sample::subsequence((0..n).collect::<Vec<_>>(), 0..=n.min(3))
        .prop_flat_map(move |mut vars| {
            // Tables list their variables in any order.
            vars.reverse();
            let rows: usize = vars.iter().map(|&v| domains[v]).product();
            (Just(vars), prop::collection::vec(prop::bool::weighted(0.6), rows))
        })
        .prop_map(|(vars, allowed)| Atom::Table { vars, allowed });
    prop_oneof![sum, table]
}

pub fn formula(atoms: usize) -> impl Strategy<Value = Formula> {
    let leaf = prop_oneof![(0..atoms).prop_map(Formula::Atom), any::<bool>().prop_map(Formula::Const)];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|f| Formula::Not(Box::new(f))),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Formula::And),
            prop::collection::vec(inner, 2..4).prop_map(Formula::Or),
        ]
    })
}

pub fn event() -> impl Strategy<Value = Event> {
    prop::collection::vec(1usize..5, 1..6)
        .prop_flat_map(|domains| {
            let atoms = prop::collection::vec(atom(domains.clone()), 1..4);
            (Just(domains), atoms).prop_flat_map(|(domains, atoms)| {
                let n = atoms.len();
                (Just(domains), Just(atoms), formula(n))
            })
        })
        .prop_map(|(domains, atoms, formula)| Event { domains, atoms, formula })
}

/// Normalised log-probabilities from arbitrary logits.
pub fn log_softmax(logits: &[f64]) -> Vec<f64> {
    let m = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let z = logits.iter().map(|l| (l - m).exp()).sum::<f64>().ln() + m;
    logits.iter().map(|l| l - z).collect()
}

pub fn weights(domains: &[usize]) -> impl Strategy<Value = Vec<Vec<f64>>> {
    let per: Vec<_> = domains.iter().map(|&d| prop::collection::vec(-4.0f64..4.0, d)).collect();
    per.prop_map(|ls| ls.iter().map(|l| log_softmax(l)).collect())
}

pub fn event_and_weights() -> impl Strategy<Value = (Event, Vec<Vec<f64>>)> {
    event().prop_flat_map(|e| {
        let w = weights(&e.domains);
        (Just(e), w)
    })
}

/// Every complete assignment of `domains`, in lexicographic order: the tests' own reference,
/// independent of the engines.
pub fn assignments(domains: &[usize]) -> impl Iterator<Item = Vec<usize>> + '_ {
    let total: usize = domains.iter().product();
    (0..total).map(move |mut k| {
        let mut z = vec![0; domains.len()];
        for (v, &d) in domains.iter().enumerate().rev() {
            z[v] = k % d;
            k /= d;
        }
        z
    })
}

/// `P(event)` and the unnormalised marginals `P(event, z_v = x)`, by summing over assignments.
pub fn reference(event: &Event, logw: &[Vec<f64>]) -> (f64, Vec<Vec<f64>>) {
    let mut total = 0.0;
    let mut joint: Vec<Vec<f64>> = event.domains.iter().map(|&d| vec![0.0; d]).collect();
    for z in assignments(&event.domains).filter(|z| event.holds(z)) {
        let p: f64 = z.iter().enumerate().map(|(v, &x)| logw[v][x]).sum::<f64>().exp();
        total += p;
        for (v, &x) in z.iter().enumerate() {
            joint[v][x] += p;
        }
    }
    (total, joint)
}

/// The best score of a satisfying assignment, by enumeration.
pub fn reference_map_score(event: &Event, logw: &[Vec<f64>]) -> Option<f64> {
    assignments(&event.domains)
        .filter(|z| event.holds(z))
        .map(|z| z.iter().enumerate().map(|(v, &x)| logw[v][x]).sum::<f64>())
        .reduce(f64::max)
}

/// The largest difference between two distributions' probabilities of one set of values.
pub fn total_variation(p: &[f64], q: &[f64]) -> f64 {
    p.iter().zip(q).map(|(a, b)| (a - b).abs()).sum::<f64>() / 2.0
}
