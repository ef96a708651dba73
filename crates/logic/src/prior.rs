//! The hidden classes' ratios from weak labels alone (ALG1 of the imbalance paper, ALGORITHMS.md
//! §4). When every latent variable of a distribution is drawn i.i.d. from ratios r, the chance of
//! a weak label s is the probability of its grounded event, T_σ(r)_s — so the transition map is
//! the engine's, derived from the constraint, never written per task. The ratios maximise the
//! likelihood of the observed labels, Σ_s n_s log T_σ(r)_s; the paper climbs it by gradient steps
//! on softmax(θ), here by expectation–maximisation, whose step r_k ← (expected count of class k
//! among the latent values, given each label) / (values) never lowers the likelihood and needs no
//! step size.

use crate::engine::Inference;

/// One distinct weak label: its prepared event, the distribution each of its variables follows
/// (an index into the ratios), and how many examples carry it.
pub struct WeakLabel<'a> {
    pub event: &'a dyn Inference,
    pub distribution: Vec<usize>,
    pub count: f64,
}

/// The estimate and how the climb ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    /// Per distribution, its ratios.
    pub ratios: Vec<Vec<f64>>,
    /// The mean log-likelihood of a label under them.
    pub log_likelihood: f64,
    pub iterations: usize,
}

/// At most this many expectation–maximisation steps; the climb stops earlier once no ratio
/// moves by more than [`TOLERANCE`].
pub const MAX_STEPS: usize = 10_000;
pub const TOLERANCE: f64 = 1e-10;

/// Ratios of distributions of `classes[d]` classes, each starting uniform, that maximise the
/// likelihood of `labels`. Labels impossible under every ratio are left out.
///
/// Plain EM crawls where a label says little about a class (MAX-M's smallest digits are seen
/// only through r_0^M), so the steps are accelerated by SQUAREM (Varadhan & Roland, 2008): two
/// steps give a direction and its curvature, the ratios jump along it, one more step settles
/// them, and the jump is kept only if the likelihood did not fall.
pub fn estimate(labels: &[WeakLabel], classes: &[usize]) -> Estimate {
    let mut r: Vec<f64> = classes.iter().flat_map(|&k| vec![1.0 / k.max(1) as f64; k]).collect();
    let step = |r: &[f64]| em_step(labels, classes, r);
    let mut steps = 0;
    let (mut log_likelihood, mut settled) = (f64::NEG_INFINITY, false);
    while !settled && steps + 3 <= MAX_STEPS {
        let (r1, l0) = step(&r);
        let (r2, l1) = step(&r1);
        steps += 2;
        let d1: Vec<f64> = r1.iter().zip(&r).map(|(a, b)| a - b).collect();
        let d2: Vec<f64> = r2.iter().zip(&r1).zip(&d1).map(|((a, b), d)| a - b - d).collect();
        let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
        log_likelihood = l1.max(l0);
        if d1.iter().all(|d| d.abs() <= TOLERANCE) {
            r = r1;
            settled = true;
            continue;
        }
        let alpha = (-norm(&d1) / norm(&d2).max(f64::MIN_POSITIVE)).min(-1.0);
        let jumped: Vec<f64> =
            r.iter().zip(&d1).zip(&d2).map(|((r, a), b)| r - 2.0 * alpha * a + alpha * alpha * b).collect();
        let feasible = jumped.iter().all(|x| x.is_finite() && *x >= 0.0);
        let (settled_jump, l_jump) = step(&normalised(if feasible { jumped } else { r2.clone() }, classes));
        steps += 1;
        r = if l_jump >= l1 { settled_jump } else { r2 };
    }
    let mut ratios = Vec::new();
    let mut rest = r.as_slice();
    for &k in classes {
        let (head, tail) = rest.split_at(k);
        ratios.push(head.to_vec());
        rest = tail;
    }
    Estimate { ratios, log_likelihood, iterations: steps }
}

/// Each distribution's ratios scaled to sum to 1.
fn normalised(mut r: Vec<f64>, classes: &[usize]) -> Vec<f64> {
    let mut at = 0;
    for &k in classes {
        let part = &mut r[at..at + k];
        let mass: f64 = part.iter().sum();
        if mass > 0.0 {
            part.iter_mut().for_each(|x| *x /= mass);
        }
        at += k;
    }
    r
}

/// One EM step from ratios `r` (the distributions' concatenated): the next ratios, and the mean
/// log-likelihood of a label under `r`.
fn em_step(labels: &[WeakLabel], classes: &[usize], r: &[f64]) -> (Vec<f64>, f64) {
    let starts: Vec<usize> = classes.iter().scan(0, |at, &k| Some(std::mem::replace(at, *at + k))).collect();
    let mut expected = vec![0.0; r.len()];
    let (mut total, mut seen) = (0.0, 0.0);
    for label in labels {
        // A class at ratio 0 stays there: its log weight is −∞, which the engines accept.
        let logw: Vec<Vec<f64>> = label
            .distribution
            .iter()
            .map(|&d| r[starts[d]..starts[d] + classes[d]].iter().map(|x| x.ln()).collect())
            .collect();
        let Some(posterior) = label.event.posterior(&logw) else { continue };
        total += label.count * posterior.log_prob;
        seen += label.count;
        for (&d, q) in label.distribution.iter().zip(&posterior.marginals) {
            expected[starts[d]..].iter_mut().zip(q).for_each(|(e, q)| *e += label.count * q);
        }
    }
    let next = normalised(expected.clone(), classes);
    // A distribution no label reaches keeps its ratios.
    let next = next.iter().zip(&expected).zip(r).map(|((n, e), r)| if *e == 0.0 && *n == 0.0 { *r } else { *n });
    (next.collect(), total / seen.max(f64::MIN_POSITIVE))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{exact::Exact, Engine};
    use crate::event::{Atom, Cmp, Event, Formula};
    use crate::NODE_LIMIT;
    use num_bigint::BigInt;

    /// `M` variables of 10 classes whose maximum is `s`, as a relation.
    fn max_is(m: u32, s: usize) -> Event {
        let rows = 10usize.pow(m);
        let allowed = (0..rows)
            .map(|mut i| {
                let mut max = 0;
                for _ in 0..m {
                    max = max.max(i % 10);
                    i /= 10;
                }
                max == s
            })
            .collect();
        let atoms = vec![Atom::Table { vars: (0..m as usize).collect(), allowed }];
        Event { domains: vec![10; m as usize], atoms, formula: Formula::Atom(0) }
    }

    /// `M` digits summing to `s`, as a linear atom.
    fn sum_is(m: usize, s: usize) -> Event {
        let digits: Vec<BigInt> = (0..10).map(BigInt::from).collect();
        let atoms =
            vec![Atom::Sum { terms: (0..m).map(|v| (v, digits.clone())).collect(), cmp: Cmp::Eq, rhs: s.into() }];
        Event { domains: vec![10; m], atoms, formula: Formula::Atom(0) }
    }

    fn prepared(events: &[Event]) -> Vec<Box<dyn Inference>> {
        events.iter().map(|e| Exact { limit: NODE_LIMIT }.prepare(e).unwrap()).collect()
    }

    /// The published long-tailed profile `expr` at ρ = 50, normalised.
    fn long_tailed() -> Vec<f64> {
        let n: Vec<f64> = (0..10).map(|c| 50f64.powf(-(10.0 - c as f64) / 9.0)).collect();
        let total: f64 = n.iter().sum();
        n.iter().map(|x| x / total).collect()
    }

    fn chance(i: &dyn Inference, m: usize, r: &[f64]) -> f64 {
        let logw = vec![r.iter().map(|x| x.ln()).collect::<Vec<_>>(); m];
        i.log_prob(&logw).exp()
    }

    #[test]
    fn the_engines_transition_map_is_the_closed_form() {
        let r = long_tailed();
        let cdf = |k: usize| r[..=k].iter().sum::<f64>();
        for m in [3u32, 5] {
            let events: Vec<Event> = (0..10).map(|s| max_is(m, s)).collect();
            for (s, i) in prepared(&events).iter().enumerate() {
                let below = if s == 0 { 0.0 } else { cdf(s - 1).powi(m as i32) };
                assert!((chance(i.as_ref(), m as usize, &r) - (cdf(s).powi(m as i32) - below)).abs() < 1e-12);
            }
        }
        // SUM: the M-fold convolution of r with itself.
        let m = 3;
        let mut conv = vec![1.0];
        for _ in 0..m {
            let mut next = vec![0.0; conv.len() + 9];
            for (i, a) in conv.iter().enumerate() {
                r.iter().enumerate().for_each(|(j, b)| next[i + j] += a * b);
            }
            conv = next;
        }
        let events: Vec<Event> = (0..=9 * m).map(|s| sum_is(m, s)).collect();
        for (s, i) in prepared(&events).iter().enumerate() {
            assert!((chance(i.as_ref(), m, &r) - conv[s]).abs() < 1e-12);
        }
    }

    #[test]
    fn recovers_known_ratios_from_their_label_histogram() {
        let r = long_tailed();
        for (m, events) in [
            (3, (0..10).map(|s| max_is(3, s)).collect::<Vec<_>>()),
            (3, (0..=27).map(|s| sum_is(3, s)).collect::<Vec<_>>()),
        ] {
            let prepared = prepared(&events);
            // A large sample's histogram: each label's expected count among a million.
            let labels: Vec<WeakLabel> = prepared
                .iter()
                .map(|i| WeakLabel {
                    event: i.as_ref(),
                    distribution: vec![0; m],
                    count: 1e6 * chance(i.as_ref(), m, &r),
                })
                .collect();
            let e = estimate(&labels, &[10]);
            for (got, want) in e.ratios[0].iter().zip(&r) {
                assert!((got - want).abs() < 1e-5, "M = {m}: {:?} vs {r:?} after {} steps", e.ratios[0], e.iterations);
            }
        }
    }
}
