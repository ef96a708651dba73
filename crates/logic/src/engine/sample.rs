//! Inference by sampling (`inference: sample`; ABC as EM-NeSy uses it): `samples` assignments
//! are drawn from the networks' distributions and each is weighed by how well it satisfies the
//! event, judged as a black box from the grounded formula:
//! - `indicator`: 1 when it holds, else 0 (rejection sampling: the weighted marginals converge to
//!   the exact posterior, and the mean weight to P(event));
//! - `share`: the share of the event's conjuncts it satisfies;
//! - `exp`: exp(−d / bandwidth), d its distance from satisfying the event (a linear atom's gap to
//!   its bound, 1 for any other atom that fails; conjunctions add, disjunctions take the least).
//!
//! The weighted samples give the posterior marginals and their mean weight estimates P(event).
//! The draws are seeded by the weights themselves, so the same inputs give the same answer.

use super::atoms::Atoms;
use super::{complete, marginals, Engine, Inference, Posterior, TooLarge};
use crate::event::{Event, Formula};
use skilang_lang::rng::Rng;
use skilang_lang::spec::Kernel;

/// Draws `samples` assignments per query and weighs them with `kernel`.
pub struct Sample {
    pub samples: usize,
    pub kernel: Kernel,
    pub bandwidth: f64,
}

impl Engine for Sample {
    fn name(&self) -> &'static str {
        "sample"
    }

    fn prepare(&self, event: &Event) -> Result<Box<dyn Inference>, TooLarge> {
        Ok(Box::new(Sampler {
            domains: event.domains.clone(),
            relevant: event.relevant(),
            formula: event.formula.clone(),
            atoms: Atoms::new(event),
            samples: self.samples.max(1),
            kernel: self.kernel,
            bandwidth: self.bandwidth,
        }))
    }
}

#[derive(Debug)]
struct Sampler {
    domains: Vec<usize>,
    relevant: Vec<usize>,
    formula: Formula,
    atoms: Atoms,
    samples: usize,
    kernel: Kernel,
    bandwidth: f64,
}

/// Drawn assignments (over all variables; only the relevant ones are drawn) and their log weights.
struct Draws {
    z: Vec<usize>,
    log_weights: Vec<f64>,
    width: usize,
}

impl Draws {
    fn get(&self, s: usize) -> &[usize] {
        &self.z[s * self.width..(s + 1) * self.width]
    }
}

impl Sampler {
    fn draw(&self, logw: &[Vec<f64>]) -> Draws {
        let mut rng = Rng::new(seed(logw));
        let width = self.domains.len();
        let probs: Vec<Vec<f64>> = logw.iter().map(|w| w.iter().map(|x| x.exp()).collect()).collect();
        let mut draws =
            Draws { z: vec![0; width * self.samples], log_weights: Vec::with_capacity(self.samples), width };
        for s in 0..self.samples {
            let z = &mut draws.z[s * width..(s + 1) * width];
            for &v in &self.relevant {
                z[v] = categorical(&probs[v], rng.unit());
            }
            draws.log_weights.push(self.log_weight(z));
        }
        draws
    }

    fn holds(&self, f: &Formula, z: &[usize]) -> bool {
        f.decide(&|a| self.atoms.decide(a, &|v| Some(z[v]))).unwrap_or(false)
    }

    fn log_weight(&self, z: &[usize]) -> f64 {
        match self.kernel {
            Kernel::Indicator => match self.holds(&self.formula, z) {
                true => 0.0,
                false => f64::NEG_INFINITY,
            },
            Kernel::Share => {
                let parts = match &self.formula {
                    Formula::And(parts) => parts.as_slice(),
                    f => std::slice::from_ref(f),
                };
                let held = parts.iter().filter(|f| self.holds(f, z)).count();
                (held as f64 / parts.len() as f64).ln()
            }
            Kernel::Exp => -self.distance(&self.formula, z) / self.bandwidth,
        }
    }

    fn distance(&self, f: &Formula, z: &[usize]) -> f64 {
        match f {
            Formula::Const(b) => (!b) as u8 as f64,
            Formula::Atom(a) => self.atoms.distance(*a, z),
            Formula::Not(_) => (!self.holds(f, z)) as u8 as f64,
            Formula::And(parts) => parts.iter().map(|p| self.distance(p, z)).sum(),
            Formula::Or(parts) => parts.iter().map(|p| self.distance(p, z)).fold(f64::INFINITY, f64::min),
        }
    }
}

/// The index `u` (uniform in [0, 1)) falls on in the distribution `p` (which sums to about 1).
fn categorical(p: &[f64], u: f64) -> usize {
    let target = u * p.iter().sum::<f64>();
    let mut acc = 0.0;
    for (i, &x) in p.iter().enumerate() {
        acc += x;
        if target < acc {
            return i;
        }
    }
    // Rounding left `target` at the end: the last value with any probability.
    p.iter().rposition(|&x| x > 0.0).unwrap_or(0)
}

/// A seed from the weights' bits (FNV-1a).
fn seed(logw: &[Vec<f64>]) -> u64 {
    logw.iter().flatten().fold(0xcbf2_9ce4_8422_2325, |h, x| (h ^ x.to_bits()).wrapping_mul(0x0100_0000_01b3))
}

impl Inference for Sampler {
    fn log_prob(&self, logw: &[Vec<f64>]) -> f64 {
        self.posterior(logw).map_or(f64::NEG_INFINITY, |p| p.log_prob)
    }

    fn posterior(&self, logw: &[Vec<f64>]) -> Option<Posterior> {
        let draws = self.draw(logw);
        let m = draws.log_weights.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if m == f64::NEG_INFINITY {
            return None;
        }
        let w: Vec<f64> = draws.log_weights.iter().map(|l| (l - m).exp()).collect();
        let total: f64 = w.iter().sum();
        let weighted = (0..self.samples).map(|s| (draws.get(s), w[s]));
        Some(Posterior {
            log_prob: m + (total / self.samples as f64).ln(),
            marginals: marginals(weighted, total, &self.relevant, logw),
            convergence: None,
        })
    }

    fn map(&self, logw: &[Vec<f64>]) -> Option<(Vec<usize>, f64)> {
        let draws = self.draw(logw);
        let score = |z: &[usize]| self.relevant.iter().map(|&v| logw[v][z[v]]).sum::<f64>();
        let best = (0..self.samples).filter(|&s| draws.log_weights[s] > f64::NEG_INFINITY).max_by(|&a, &b| {
            let key = |s: usize| (draws.log_weights[s], score(draws.get(s)));
            key(a).partial_cmp(&key(b)).unwrap_or(std::cmp::Ordering::Equal)
        })?;
        Some(complete(draws.get(best).to_vec(), &self.relevant, logw))
    }

    fn size(&self) -> usize {
        self.samples
    }
}
