//! Constraints as losses through straight-through estimators (CL-STE, ALGORITHMS.md §3): each
//! grounded constraint's CNF (`skilang_logic::cnf`) under the networks' binarised outputs, the
//! loss `alpha · L_cnf + beta · L_bound`, with `L_cnf = L_unsat + L_sat + L_deduce` per grounded
//! constraint (weighted by its share of the section), averaged over the batch's examples, and
//! its gradient passed straight through the binarisation.

use super::{per_constraint, Batch, Objective, Signal, Targets, Total};
use crate::examples::{Prepared, WeakError};
use skilang_lang::spec::{Binarize, Estimator};
use skilang_logic::cnf::{Assessment, ClauseWeights, Cnf};

pub struct Ste {
    pub binarize: Binarize,
    pub estimator: Estimator,
    pub alpha: f64,
    pub beta: f64,
    pub normalize: bool,
}

impl Ste {
    /// What network atom `z == k` binarises: its probability, or its logit.
    fn input(&self, p: f64, logit: impl Fn() -> f64) -> f64 {
        match self.binarize {
            Binarize::Probability => p,
            Binarize::Logit => logit(),
        }
    }

    fn bit(&self, x: f64) -> bool {
        match self.binarize {
            Binarize::Probability => x >= 0.5,
            Binarize::Logit => x >= 0.0,
        }
    }

    /// The estimator's factor on the gradient at input `x`.
    fn pass(&self, x: f64) -> f64 {
        match self.estimator {
            Estimator::Identity => 1.0,
            Estimator::Saturated => (-1.0..=1.0).contains(&x) as u8 as f64,
        }
    }
}

impl Objective for Ste {
    fn signal(&self, batch: &Batch) -> Result<Signal, WeakError> {
        // The logits as numbers, where they are what is binarised.
        let logits: Vec<Vec<Vec<f64>>> = batch
            .logits
            .iter()
            .filter(|_| self.binarize == Binarize::Logit)
            .map(|t| {
                let [n, k] = t.dims();
                let flat: Vec<f32> = t.clone().into_data().try_to_vec::<f32>().unwrap_or_default();
                (0..n).map(|i| flat[i * k..(i + 1) * k].iter().map(|&x| x as f64).collect()).collect()
            })
            .collect();
        let assess = |cnf: &Cnf, at: &[(usize, usize)]| -> Assessment {
            let x = |v: usize, k: usize| {
                let (l, i) = at[v];
                self.input(batch.logp[l][i][k].exp(), || logits[l][i][k])
            };
            cnf.assess(|v, k| self.bit(x(v, k)), |v, k| batch.logp[at[v].0][at[v].1][k].exp())
        };
        let (targets, stats) = per_constraint(batch, |c, at, weighted, stats| {
            let Prepared::Cnf(cnf) = &*c.prepared else {
                unreachable!("examples trained with ste are prepared as CNF")
            };
            let a = assess(cnf, at);
            // L_unsat and L_sat are means over this grounding's violated and satisfied clauses
            // (CL-STE's published runs train on one example per step, where the batch's clauses
            // are the example's; over a whole batch, the few satisfied clauses early in training
            // would take the weight of all the violated ones, and reinforce lucky guesses).
            let violated = a.violated();
            let w = ClauseWeights {
                unsat: 1.0 / violated.max(1) as f64,
                sat: 1.0 / (a.violated.len() - violated).max(1) as f64,
                normalize: self.normalize,
            };
            stats.loss += self.alpha * c.share * ((violated > 0) as u8 as f64 + a.deduced(cnf) as f64);
            let constraint_violated = a.violated[..cnf.constraint_clauses].iter().any(|&v| v);
            stats.violated(c.constraint, constraint_violated as u8 as f64, 1);
            for (v, k, g) in cnf.gradient(&a, w) {
                let (l, i) = at[v];
                let x = self.input(batch.logp[l][i][k].exp(), || logits[l][i][k]);
                let mut t = vec![0.0; batch.logp[l][i].len()];
                t[k] = g * self.pass(x);
                weighted.push((l, i, self.alpha * c.share, t));
            }
            Some(())
        });
        // L_bound: the mean squared logit keeps them bounded.
        let mut bound = Total::default();
        for t in batch.logits.iter().filter(|t| t.dims()[0] > 0) {
            bound.add(t.clone().powf_scalar(2.0).mean() * self.beta as f32);
        }
        let targets = match self.binarize {
            Binarize::Probability => Targets::Gradients(targets),
            Binarize::Logit => Targets::LogitGradients(targets),
        };
        Ok(Signal { targets: Some(targets), loss: bound.0, stats })
    }
}
