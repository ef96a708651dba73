//! Exact inference by knowledge compilation: the decision diagrams of [`crate::compile`].

use super::{Engine, Inference, Posterior, TooLarge};
use crate::compile::{compile, Diagram};
use crate::event::Event;

/// Compiles events into decision diagrams of at most `limit` nodes.
pub struct Exact {
    pub limit: usize,
}

impl Engine for Exact {
    fn name(&self) -> &'static str {
        "exact"
    }

    fn prepare(&self, event: &Event) -> Result<Box<dyn Inference>, TooLarge> {
        Ok(Box::new(compile(event, self.limit)?))
    }
}

impl Inference for Diagram {
    fn log_prob(&self, logw: &[Vec<f64>]) -> f64 {
        Diagram::log_prob(self, logw)
    }

    fn posterior(&self, logw: &[Vec<f64>]) -> Option<Posterior> {
        Diagram::posterior(self, logw)
    }

    fn map(&self, logw: &[Vec<f64>]) -> Option<(Vec<usize>, f64)> {
        Diagram::map(self, logw)
    }

    fn size(&self) -> usize {
        Diagram::size(self)
    }
}
