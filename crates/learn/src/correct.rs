//! Test-time corrections of the networks' predictions towards the hidden classes' ratios r̂
//! (ALGORITHMS.md §4), on a trained model, without retraining: logit adjustment moves each
//! class's score by −τ log r̂_k; CAROT solves, per batch of predictions, a robust semi-constrained
//! optimal transport whose column marginals are held near n·r̂. Their settings are chosen on
//! weakly labelled validation examples by how many of them the corrected predictions satisfy:
//! no gold label is read.

use rayon::prelude::*;
use skilang_lang::spec::Correction;
use skilang_logic::argmax;

/// A correction of a batch of predictions.
pub trait Correct: Sync + std::fmt::Debug {
    /// The corrected class of each row of `logp` (log-probabilities), under log ratios `log_r`.
    fn classes(&self, logp: &[Vec<f64>], log_r: &[f64]) -> Vec<usize>;
    /// τ, and η where the correction has one.
    fn settings(&self) -> (f64, Option<f64>);
}

/// Logit adjustment: argmax_k log p_k − τ log r̂_k (log p is the logits less a per-row constant).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogitAdjustment {
    pub tau: f64,
}

impl Correct for LogitAdjustment {
    fn classes(&self, logp: &[Vec<f64>], log_r: &[f64]) -> Vec<usize> {
        logp.iter()
            .map(|row| argmax(&row.iter().zip(log_r).map(|(p, r)| p - self.tau * r).collect::<Vec<_>>()))
            .collect()
    }

    fn settings(&self) -> (f64, Option<f64>) {
        (self.tau, None)
    }
}

/// CAROT: min over P ≥ 0 with P1 = 1 of ⟨C, P⟩ + τ·KL(Pᵀ1 ‖ n r̂) − η·H(P), C = −log p, by the
/// robust semi-Sinkhorn iteration. In log space each half-step is closed-form in the other
/// potential: u_i = −η·LSE_k((v_k − C_ik)/η) and v_k = ητ/(η+τ)·(log(n r̂_k) − LSE_i((u_i −
/// C_ik)/η)), so no exponential overflows at small η. The plan's rows are then
/// exp((u_i + v_k − C_ik)/η): row i's class is argmax_k log p_ik + v_k.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Carot {
    pub tau: f64,
    pub eta: f64,
}

/// The published iteration count (half-steps, alternating u and v); it stops sooner once v
/// settles.
pub const SINKHORN_STEPS: usize = 500;

impl Carot {
    /// The column potentials v after the iteration.
    pub fn potentials(&self, logp: &[Vec<f64>], log_r: &[f64]) -> Vec<f64> {
        let (n, k) = (logp.len(), log_r.len());
        let log_b: Vec<f64> = log_r.iter().map(|r| r + (n as f64).ln()).collect();
        let (mut u, mut v) = (vec![0.0; n], vec![0.0; k]);
        let eta = self.eta;
        let shrink = eta * self.tau / (eta + self.tau);
        let mut column = vec![0.0; n];
        for _ in 0..SINKHORN_STEPS / 2 {
            for (u, row) in u.iter_mut().zip(logp) {
                *u = -eta * lse(row.iter().zip(&v).map(|(p, v)| (v + p) / eta));
            }
            let mut moved: f64 = 0.0;
            for (j, v) in v.iter_mut().enumerate() {
                column.iter_mut().zip(&u).zip(logp).for_each(|((c, u), row)| *c = (u + row[j]) / eta);
                let next = shrink * (log_b[j] - lse(column.iter().copied()));
                moved = moved.max((next - *v).abs());
                *v = next;
            }
            if moved <= 1e-10 * (1.0 + v.iter().fold(0.0f64, |m, x| m.max(x.abs()))) {
                break;
            }
        }
        v
    }
}

impl Correct for Carot {
    fn classes(&self, logp: &[Vec<f64>], log_r: &[f64]) -> Vec<usize> {
        if logp.is_empty() {
            return Vec::new();
        }
        let v = self.potentials(logp, log_r);
        logp.iter().map(|row| argmax(&row.iter().zip(&v).map(|(p, v)| p + v).collect::<Vec<_>>())).collect()
    }

    fn settings(&self) -> (f64, Option<f64>) {
        (self.tau, Some(self.eta))
    }
}

/// log Σ exp(x), stable; −∞ for none.
fn lse(xs: impl Iterator<Item = f64> + Clone) -> f64 {
    let max = xs.clone().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return max;
    }
    max + xs.map(|x| (x - max).exp()).sum::<f64>().ln()
}

/// 10^(lo + (hi − lo)·i/(n − 1)) for i < n: NumPy's `logspace(lo, hi, n)`.
fn logspace(lo: f64, hi: f64, n: usize) -> impl Iterator<Item = f64> {
    (0..n).map(move |i| 10f64.powf(lo + (hi - lo) * i as f64 / (n - 1) as f64))
}

/// The settings a correction chooses among, in the published grids' order (earlier wins a tie):
/// LA's τ from 0 (no correction) then logspace(−5, 4, 20); CAROT's η over logspace(−5, 4, 10),
/// each with τ over logspace(−5, 4, 20).
pub fn candidates(kind: Correction) -> Vec<Box<dyn Correct>> {
    match kind {
        Correction::None => Vec::new(),
        Correction::La => std::iter::once(0.0)
            .chain(logspace(-5.0, 4.0, 20))
            .map(|tau| Box::new(LogitAdjustment { tau }) as Box<dyn Correct>)
            .collect(),
        Correction::Carot => logspace(-5.0, 4.0, 10)
            .flat_map(|eta| logspace(-5.0, 4.0, 20).map(move |tau| Box::new(Carot { tau, eta }) as Box<dyn Correct>))
            .collect(),
    }
}

/// The candidate whose score is highest (the first of equals), and that score; `score` runs on
/// every candidate in parallel.
pub fn choose(
    candidates: Vec<Box<dyn Correct>>,
    score: impl Fn(&dyn Correct) -> f64 + Sync,
) -> Option<(Box<dyn Correct>, f64)> {
    let scores: Vec<f64> = candidates.par_iter().map(|c| score(c.as_ref())).collect();
    let mut best: Option<(usize, f64)> = None;
    for (i, &s) in scores.iter().enumerate() {
        if best.is_none_or(|(_, b)| s > b) {
            best = Some((i, s));
        }
    }
    let (i, s) = best?;
    candidates.into_iter().nth(i).map(|c| (c, s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n: usize, seed: u64) -> Vec<Vec<f64>> {
        let mut rng = skilang_data::rng::Rng::new(seed);
        (0..n)
            .map(|_| {
                let z: Vec<f64> = (0..4).map(|_| 3.0 * rng.unit()).collect();
                let l = lse(z.iter().copied());
                z.iter().map(|x| x - l).collect()
            })
            .collect()
    }

    #[test]
    fn carot_plan_has_the_requested_marginals() {
        // With τ large the column marginals are held at n·r̂; every row sums to 1 after a u step.
        let logp = rows(200, 3);
        let r = [0.1, 0.2, 0.3, 0.4];
        let log_r: Vec<f64> = r.iter().map(|x: &f64| x.ln()).collect();
        let c = Carot { tau: 1e6, eta: 0.5 };
        let v = c.potentials(&logp, &log_r);
        let u: Vec<f64> =
            logp.iter().map(|row| -c.eta * lse(row.iter().zip(&v).map(|(p, v)| (v + p) / c.eta))).collect();
        let plan: Vec<Vec<f64>> = logp
            .iter()
            .zip(&u)
            .map(|(row, u)| row.iter().zip(&v).map(|(p, v)| ((u + v + p) / c.eta).exp()).collect())
            .collect();
        for row in &plan {
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        }
        for (k, r) in r.iter().enumerate() {
            let column: f64 = plan.iter().map(|row| row[k]).sum();
            assert!((column - 200.0 * r).abs() < 1e-3 * 200.0, "class {k}: {column} vs {}", 200.0 * r);
        }
        // A small η makes the plan nearly hard: the predicted classes' counts move to n·r̂.
        let off = |classes: &[usize]| -> f64 {
            r.iter()
                .enumerate()
                .map(|(k, r)| (classes.iter().filter(|&&c| c == k).count() as f64 - 200.0 * r).abs())
                .sum()
        };
        let plain: Vec<usize> = logp.iter().map(|row| argmax(row)).collect();
        let corrected = Carot { tau: 1e6, eta: 0.05 }.classes(&logp, &log_r);
        assert!(off(&corrected) < 0.25 * off(&plain), "{} vs {}", off(&corrected), off(&plain));
    }

    #[test]
    fn la_moves_predictions_away_from_frequent_classes() {
        let logp = vec![vec![0.6f64.ln(), 0.4f64.ln()]];
        let log_r = [0.9f64.ln(), 0.1f64.ln()];
        assert_eq!(LogitAdjustment { tau: 0.0 }.classes(&logp, &log_r), [0]);
        assert_eq!(LogitAdjustment { tau: 1.0 }.classes(&logp, &log_r), [1]);
        // Ties go to the earlier candidate.
        let (best, score) = choose(candidates(Correction::La), |c| c.settings().0.min(1.0)).unwrap();
        assert_eq!(score, 1.0);
        assert!(best.settings().0 >= 1.0 && best.settings().0 < 2.0);
        assert_eq!(candidates(Correction::Carot).len(), 200);
    }
}
