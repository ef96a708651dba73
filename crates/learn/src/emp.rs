//! EMP's estimate of the hidden classes' ratios (ALGORITHMS.md §4): the shares of the classes
//! the networks predict on the training examples' instances, no label read, and the moving
//! average r ← γ·shares + (1 − γ)·r that LP(EMP) holds its counts near, epoch after epoch.

use crate::batch::{BatchRows, Reader};
use crate::examples::Example;
use crate::metrics::most_likely;
use crate::model::Net;
use burn::module::Module;
use burn::prelude::Device;
use std::collections::HashSet;
use std::sync::Mutex;

/// Epochs of the pre-estimation phase, after which the networks start again from where they
/// started (the published code's `est_epochs`).
pub const PRE_EPOCHS: usize = 20;
/// γ while pre-estimating, and in the training that follows (the published `--gamma 0.05,0.01`).
pub const PRE_GAMMA: f64 = 0.05;
pub const GAMMA: f64 = 0.01;

/// Per learnable, the shares of its predicted classes over the instances of `examples`: one
/// count per instance per example that reads it (as the published estimate counts every
/// position of every training tuple), each learnable's shares summing to 1.
pub fn shares(nets: &[Net], readers: &[Reader], examples: &[Example], device: &Device) -> Vec<Vec<f64>> {
    let cells: Vec<usize> = readers.iter().map(|r| r.cells).collect();
    let refs: Vec<&Example> = examples.iter().collect();
    let rows = BatchRows::new(&refs, &cells, false);
    let predicted: Vec<Vec<usize>> = nets
        .iter()
        .zip(readers)
        .zip(&rows.rows)
        .map(|((net, r), rows)| most_likely(&net.valid(), r.shape, r.inputs, rows, device))
        .collect();
    let mut counts: Vec<Vec<f64>> = readers.iter().map(|r| vec![0.0; r.classes]).collect();
    for at in &rows.at {
        let instances: HashSet<(usize, usize)> = at.iter().flatten().copied().collect();
        for (l, i) in instances {
            counts[l][predicted[l][i]] += 1.0;
        }
    }
    for c in &mut counts {
        let total: f64 = c.iter().sum();
        let k = c.len() as f64;
        // A learnable no example reads has no evidence: uniform.
        c.iter_mut().for_each(|x| *x = if total > 0.0 { *x / total } else { 1.0 / k });
    }
    counts
}

/// Ratios an objective holds, which EMP moves at each epoch's end.
pub struct MovingRatios {
    current: Mutex<Vec<Vec<f64>>>,
    /// The step towards the epoch's shares.
    gamma: f64,
}

impl MovingRatios {
    pub fn new(start: Vec<Vec<f64>>, gamma: f64) -> MovingRatios {
        MovingRatios { current: Mutex::new(start), gamma }
    }

    /// The ratios now.
    pub fn get(&self) -> Vec<Vec<f64>> {
        self.lock().clone()
    }

    /// One step towards `shares`; the ratios after it.
    pub fn update(&self, shares: &[Vec<f64>]) -> Vec<Vec<f64>> {
        let mut current = self.lock();
        for (r, s) in current.iter_mut().zip(shares) {
            r.iter_mut().zip(s).for_each(|(r, s)| *r = self.gamma * s + (1.0 - self.gamma) * *r);
        }
        current.clone()
    }

    /// Back to ratios a checkpoint recorded.
    pub fn restore(&self, ratios: Vec<Vec<f64>>) {
        *self.lock() = ratios;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Vec<f64>>> {
        // Nothing panics while holding the lock; a poisoned one still holds whole ratios.
        self.current.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Every learnable's classes equally likely: where EMP starts.
pub fn uniform(classes: &[usize]) -> Vec<Vec<f64>> {
    classes.iter().map(|&k| vec![1.0 / k as f64; k]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_moving_average_steps_gamma_towards_the_shares_and_restores() {
        let m = MovingRatios::new(uniform(&[4]), 0.05);
        let target = vec![vec![0.7, 0.1, 0.1, 0.1]];
        let mut last = m.get();
        for _ in 0..200 {
            let next = m.update(&target);
            // Each step closes 5% of the gap to the shares, and keeps a distribution.
            for (n, (l, t)) in next[0].iter().zip(last[0].iter().zip(&target[0])) {
                assert!((n - (l + 0.05 * (t - l))).abs() < 1e-12);
            }
            assert!((next[0].iter().sum::<f64>() - 1.0).abs() < 1e-12);
            last = next;
        }
        assert!((last[0][0] - 0.7).abs() < 1e-4, "0.95^200 of the gap remains: {:?}", last[0]);
        m.restore(vec![vec![0.25; 4]]);
        assert_eq!(m.get(), uniform(&[4]));
    }
}
