//! The inference seam: an [`Engine`] prepares a grounded [`Event`] once (or refuses it as too
//! large, saying what it would need), and the prepared [`Inference`] then answers, under
//! per-variable log weights, `log P(event)`, the posterior marginals and MAP.
//!
//! Adding an engine is one file here that implements both traits, one variant of
//! `skilang_lang::check::Engine`, and its arm in [`engine`].

pub mod enumerate;
pub mod exact;

pub use crate::event::{Posterior, TooLarge};

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

    /// The most probable assignment satisfying the event, with its log-probability; `None` when
    /// nothing satisfies it.
    fn map(&self, logw: &[Vec<f64>]) -> Option<(Vec<usize>, f64)>;

    /// How large the prepared form is (decision nodes, satisfying assignments), for reports.
    fn size(&self) -> usize;
}

/// The engine a training plan names, with its default limits.
pub fn engine(plan: skilang_lang::check::Engine) -> Box<dyn Engine> {
    use skilang_lang::check::Engine as Plan;
    match plan {
        Plan::Exact => Box::new(exact::Exact { limit: crate::compile::NODE_LIMIT }),
        Plan::Enumerate => Box::new(enumerate::Enumerate { limit: enumerate::ENUMERATION_LIMIT }),
    }
}
