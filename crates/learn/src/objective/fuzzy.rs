//! Fuzzy constraining (ALGORITHMS.md §5): each grounded constraint's truth degree under the
//! networks' distributions (`skilang_logic::fuzzy`) and its gradient; the loss is
//! Σ weight · (1 − truth), or Σ weight · −log truth (`loss: log`: 1 − t stalls where t is small,
//! as mean absolute error does, while −log t keeps its gradient; on a supervision constraint it
//! is the cross-entropy).

use super::{per_constraint, Batch, Objective, Signal, Targets};
use crate::examples::{Prepared, WeakError};
use burn::prelude::*;
use skilang_lang::spec::TruthLoss;
use skilang_logic::Logic;

/// Σ weight · loss(truth) of the instance-wise constraints, with `logic`'s connectives.
pub struct Fuzzy {
    pub logic: Logic,
    pub loss: TruthLoss,
}

impl Objective for Fuzzy {
    fn signal(&self, batch: &Batch) -> Result<Signal, WeakError> {
        let (targets, stats) = per_constraint(batch, |c, at, weighted, stats| {
            let Prepared::Fuzzy(f) = &*c.prepared else {
                unreachable!("examples trained with fuzzy truth are prepared for it")
            };
            let p: Vec<Vec<f64>> =
                at.iter().map(|&(l, i)| batch.logp[l][i].iter().map(|x| x.exp()).collect()).collect();
            let t = f.truth(self.logic, &p);
            let (l_t, dl_dt) = penalty(self.loss, t.value);
            stats.loss += c.share * l_t;
            stats.violated(c.constraint, 1.0 - t.value, 1);
            weighted.extend(at.iter().zip(t.grad).map(|(&(l, i), g)| (l, i, c.share * dl_dt, g)));
            Some(())
        });
        Ok(Signal { targets: Some(Targets::Gradients(targets)), loss: None, stats })
    }
}

/// Truth degrees below this count as this, so that −log t stays finite.
const MIN_TRUTH: f64 = 1e-7;

/// The loss of a truth degree and its derivative.
fn penalty(loss: TruthLoss, t: f64) -> (f64, f64) {
    match loss {
        TruthLoss::Linear => (1.0 - t, -1.0),
        TruthLoss::Log if t < MIN_TRUTH => (-MIN_TRUTH.ln(), 0.0),
        TruthLoss::Log => (-t.ln(), -1.0 / t),
    }
}

/// [`penalty`] on a tensor of truth degrees.
pub(super) fn penalty_tensor(loss: TruthLoss, t: Tensor<1>) -> Tensor<1> {
    match loss {
        TruthLoss::Linear => t.neg() + 1.0,
        TruthLoss::Log => t.clamp_min(MIN_TRUTH as f32).log().neg(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    /// Both losses and their derivatives, against central finite differences; −log t stays
    /// finite (and flat) below the smallest truth it counts.
    #[test]
    fn truth_losses_and_their_derivatives() {
        for loss in [TruthLoss::Linear, TruthLoss::Log] {
            for t in [0.01, 0.3, 0.9, 1.0 - 1e-4] {
                let (_, d) = penalty(loss, t);
                let h = 1e-6;
                let numeric = (penalty(loss, t + h).0 - penalty(loss, t - h).0) / (2.0 * h);
                assert!((d - numeric).abs() < 1e-4 * d.abs().max(1.0), "{loss:?} at {t}: {d} vs {numeric}");
            }
        }
        assert_eq!(penalty(TruthLoss::Log, 1.0).0, 0.0);
        assert_eq!(penalty(TruthLoss::Log, 0.0), (-MIN_TRUTH.ln(), 0.0));
        let device = Device::default();
        let t = Tensor::<1>::from_data(TensorData::new(vec![0.5f32, 0.0], [2]), &device);
        let v: Vec<f32> = penalty_tensor(TruthLoss::Log, t).into_data().try_to_vec::<f32>().unwrap();
        assert!((v[0] - 2f32.ln()).abs() < 1e-6 && (v[1] - (-(MIN_TRUTH as f32).ln())).abs() < 1e-3, "{v:?}");
    }
}
