//! Learning from constraints through inference (ALGORITHMS.md §1): the semantic loss and EM.
//!
//! Per example, the engine gives log P(φ) and its derivative q in each grounded variable's
//! log-probabilities — the posterior marginals where log P is exact — and the cross-entropy
//! towards q has the semantic loss's gradient (Σq)·p − q. Through belief propagation q is the
//! derivative of the Bethe estimate through the rounds run (BP-std). EM holds the posterior (BP's
//! beliefs: BP-EM) fixed for `m_steps` steps, or the MAP assignment (`hard`).

use super::{per_constraint, Batch, Objective, Signal, Targets};
use crate::examples::{Prepared, WeakError};
use skilang_logic::{Convergence, Inference};

/// −log P(φ): one step per batch.
pub struct SemanticLoss;

/// The posterior marginals (or the MAP assignment, `hard`) as fixed targets for `m_steps` steps.
pub struct Em {
    pub hard: bool,
    pub m_steps: usize,
}

impl Objective for SemanticLoss {
    fn signal(&self, batch: &Batch) -> Result<Signal, WeakError> {
        Ok(reason(batch, |i, logw| i.gradient(logw).map(|g| (g.log_prob, g.d_logw, g.convergence))))
    }
}

impl Objective for Em {
    fn steps(&self) -> usize {
        self.m_steps.max(1)
    }

    fn signal(&self, batch: &Batch) -> Result<Signal, WeakError> {
        if !self.hard {
            return Ok(reason(batch, |i, logw| i.posterior(logw).map(|p| (p.log_prob, p.marginals, p.convergence))));
        }
        Ok(reason(batch, |i, logw| {
            let (z, _) = i.map(logw)?;
            let one_hot = z.iter().zip(logw).map(|(&k, w)| (0..w.len()).map(|j| (j == k) as u8 as f64).collect());
            Some((i.log_prob(logw), one_hot.collect(), None))
        }))
    }
}

/// Per example, `target` gives log P(φ) and a target per variable (`None`: P = 0);
/// the loss is −log P(φ), weighted by each constraint's share.
fn reason(
    batch: &Batch,
    target: impl Fn(&dyn Inference, &[Vec<f64>]) -> Option<(f64, Vec<Vec<f64>>, Option<Convergence>)> + Sync,
) -> Signal {
    let (targets, stats) = per_constraint(batch, |c, at, weighted, stats| {
        let Prepared::Inference(inference) = &*c.prepared else {
            unreachable!("examples trained through inference are prepared by an engine")
        };
        let logw: Vec<Vec<f64>> = at.iter().map(|&(l, i)| batch.logp[l][i].clone()).collect();
        let (log_prob, q, convergence) = target(inference.as_ref(), &logw)?;
        convergence.into_iter().for_each(|c| stats.propagation.add(c));
        stats.loss -= c.share * log_prob;
        weighted.extend(at.iter().zip(q).map(|(&(l, i), q)| (l, i, c.share, q)));
        Some(())
    });
    Signal { targets: Some(Targets::Distributions(targets)), loss: None, stats }
}
