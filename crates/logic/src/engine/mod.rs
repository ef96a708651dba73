//! The inference seam: an [`Engine`] prepares a grounded [`Event`] once (or refuses it as too
//! large, saying what it would need), and the prepared [`Inference`] then answers, under
//! per-variable log weights, `log P(event)`, the posterior marginals and MAP.
//!
//! Adding an engine is one file here that implements both traits, one variant of
//! `skilang_lang::check::Engine`, and its arm in [`engine`].

mod atoms;
pub mod bp;
pub mod enumerate;
pub mod exact;
pub mod sample;
pub mod topk;

pub use crate::event::{Gradient, Posterior, TooLarge};

use crate::event::Event;

/// Prepares grounded events for inference.
pub trait Engine: Sync {
    /// Its name in `optimization.inference`.
    fn name(&self) -> &'static str;

    fn prepare(&self, event: &Event) -> Result<Box<dyn Inference>, TooLarge>;
}

/// A prepared event. `logw[v][value]` are each variable's (normalised) log-probabilities.
pub trait Inference: Send + Sync + std::fmt::Debug {
    fn log_prob(&self, logw: &[Vec<f64>]) -> f64;

    /// `log P(event)` and the posterior marginals; `None` when the event has probability 0.
    fn posterior(&self, logw: &[Vec<f64>]) -> Option<Posterior>;

    /// `log P(event)` and its derivative in each `logw[v][value]`. Where log P is the probability
    /// of an event computed exactly (exact, enumeration, top-k's disjunction of proofs), that is
    /// the posterior marginal; belief propagation differentiates its own estimate through the
    /// rounds it ran (BP-std).
    fn gradient(&self, logw: &[Vec<f64>]) -> Option<Gradient> {
        let p = self.posterior(logw)?;
        Some(Gradient { log_prob: p.log_prob, d_logw: p.marginals, convergence: p.convergence })
    }

    /// The most probable assignment satisfying the event, with its log-probability; `None` when
    /// nothing satisfies it.
    fn map(&self, logw: &[Vec<f64>]) -> Option<(Vec<usize>, f64)>;

    /// How large the prepared form is (decision nodes, satisfying assignments), for reports.
    fn size(&self) -> usize;

    /// The event's most probable proofs, each the values it gives the variables the event
    /// depends on, as `(variable, value)`; `None` from engines that do not search for proofs,
    /// and no proof when nothing satisfies the event.
    fn proofs(&self, _logw: &[Vec<f64>]) -> Option<Vec<Vec<(usize, usize)>>> {
        None
    }
}

/// The engine a training plan names, with its default limits.
pub fn engine(plan: skilang_lang::check::Engine) -> Box<dyn Engine> {
    use skilang_lang::check::Engine as Plan;
    match plan {
        Plan::Exact => Box::new(exact::Exact { limit: crate::compile::NODE_LIMIT }),
        Plan::Enumerate => Box::new(enumerate::Enumerate { limit: enumerate::ENUMERATION_LIMIT }),
        Plan::Sample { samples, kernel, bandwidth } => {
            Box::new(sample::Sample { samples: samples as usize, kernel, bandwidth })
        }
        Plan::TopK { k } => Box::new(topk::TopK { k: k as usize, expansions: topk::EXPANSION_LIMIT }),
        Plan::Bp { iterations, damping, tolerance } => {
            Box::new(bp::Bp { iterations: iterations as usize, damping, tolerance, limit: bp::STATE_LIMIT })
        }
    }
}

// What the approximate engines share: they reason over the variables the formula depends on
// (`Event::relevant`); the others are independent of it, their posterior their prior.

/// Completes an assignment of the relevant variables with every other variable's most probable
/// value; the score is the whole assignment's log-probability.
fn complete(mut z: Vec<usize>, relevant: &[usize], logw: &[Vec<f64>]) -> (Vec<usize>, f64) {
    let mut is_relevant = vec![false; logw.len()];
    relevant.iter().for_each(|&v| is_relevant[v] = true);
    for (v, w) in logw.iter().enumerate().filter(|(v, _)| !is_relevant[*v]) {
        z[v] = (0..w.len()).max_by(|&a, &b| w[a].total_cmp(&w[b])).unwrap_or(0);
    }
    let score = z.iter().zip(logw).map(|(&x, w)| w[x]).sum();
    (z, score)
}

/// Marginals from weighted assignments of the relevant variables (weights summing to `total`),
/// and the prior for the rest.
fn marginals<'a>(
    weighted: impl Iterator<Item = (&'a [usize], f64)>,
    total: f64,
    relevant: &[usize],
    logw: &[Vec<f64>],
) -> Vec<Vec<f64>> {
    let mut m: Vec<Vec<f64>> = logw.iter().map(|w| w.iter().map(|x| x.exp()).collect()).collect();
    relevant.iter().for_each(|&v| m[v].iter_mut().for_each(|x| *x = 0.0));
    for (z, w) in weighted {
        relevant.iter().for_each(|&v| m[v][z[v]] += w / total);
    }
    m
}
