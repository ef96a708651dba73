//! The one training loop, for every plan: seeded shuffling, mini-batches, the optimiser steps,
//! validation each epoch, early stopping that keeps the best networks, and the state at each
//! epoch's end, from which a killed run continues exactly. What a batch trains is the plan's
//! [`Learner`]: the labelled rows ([`crate::supervised`]) or the examples' constraints
//! ([`crate::weak`]).

use crate::examples::WeakError;
use crate::model::Net;
use crate::objective::{Propagation, Stats};
use crate::settings::Settings;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, AdamWConfig, ModuleOptimizer, SgdConfig};
use burn::prelude::*;
use skilang_data::rng::Rng;
use skilang_lang::spec::Optimizer;
use std::collections::BTreeMap;

/// What one epoch measured.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Epoch {
    pub epoch: usize,
    pub loss: f64,
    pub train_accuracy: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation_accuracy: Option<f64>,
    pub seconds: f64,
    /// Fuzzy training: per constraint (its index, from 1), the mean violation 1 − truth.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub constraint_violations: BTreeMap<usize, f64>,
    /// `inference: bp`: how its message passing ended over the epoch's examples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub propagation: Option<Propagation>,
    /// `prior: emp`: per learnable, the class ratios EMP moved to at this epoch's end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior_ratios: Option<Vec<Vec<f64>>>,
}

/// Progress reported while training, for a progress bar.
pub enum Progress<'a> {
    Batch { epoch: usize, done: usize, total: usize, loss: f64 },
    Epoch(&'a Epoch),
}

pub(crate) fn optimizer(s: &Settings) -> ModuleOptimizer {
    let decay = (s.weight_decay > 0.0).then(|| WeightDecayConfig::new(s.weight_decay as f32));
    match s.optimizer {
        Optimizer::Adam => AdamConfig::new().with_weight_decay(decay).init(),
        Optimizer::AdamW => AdamWConfig::new().with_weight_decay(s.weight_decay as f32).init(),
        Optimizer::Sgd => SgdConfig::new()
            .with_weight_decay(decay)
            .with_momentum(
                (s.momentum > 0.0).then(|| MomentumConfig::new().with_momentum(s.momentum).with_dampening(0.0)),
            )
            .init(),
    }
}

/// What one batch measured.
#[derive(Default)]
pub struct Measured {
    pub stats: Stats,
    /// Items the networks got right (labelled rows predicted, examples whose constraints hold).
    pub correct: usize,
}

/// What a plan trains on, one batch at a time: the loop's only seam.
pub trait Learner {
    /// The items an epoch visits (labelled rows, or examples).
    fn items(&self) -> usize;

    /// Trains `nets` (one optimiser each) on the items `batch`, drawing from `draws` what is
    /// random in a step (the moves of augmented images).
    fn step(
        &self,
        nets: Vec<Net>,
        optims: &mut [ModuleOptimizer],
        learning_rate: f64,
        batch: &[usize],
        draws: &mut Rng,
    ) -> Result<(Vec<Net>, Measured), WeakError>;

    /// The validation accuracy of `nets`, when the plan holds a validation split out.
    fn validate(&self, nets: &[Net]) -> Option<f64>;

    /// What the learner carries into the next epoch, updated at an epoch's end from `nets` and
    /// recorded with the epoch: EMP's class ratios.
    fn end_epoch(&self, _nets: &[Net]) -> Option<Vec<Vec<f64>>> {
        None
    }

    /// Back to what an epoch's end recorded, when a run resumes after it.
    fn resume(&self, _last: &Epoch) {}
}

/// Everything training has reached at the end of an epoch: what a checkpoint saves, and what a
/// resumed run starts from.
#[derive(Clone)]
pub struct State {
    pub nets: Vec<Net>,
    pub optims: Vec<ModuleOptimizer>,
    /// The shuffling generator, where the next epoch draws its order.
    pub rng: Rng,
    pub epochs: Vec<Epoch>,
    pub best: Best<Vec<Net>>,
    /// Training examples skipped as impossible in the last epoch.
    pub impossible: usize,
    /// The last epoch ran, or patience ran out.
    pub done: bool,
}

impl State {
    /// Before the first epoch.
    pub fn new(nets: Vec<Net>, rng: Rng, s: &Settings) -> State {
        let optims = nets.iter().map(|_| optimizer(s)).collect();
        State { nets, optims, rng, epochs: Vec::new(), best: Best::new(s.patience), impossible: 0, done: s.epochs == 0 }
    }

    /// The networks to keep (the best on validation, else the last) and their epoch.
    pub fn kept(self) -> (Vec<Net>, usize) {
        let epochs = self.epochs.len();
        self.best.kept(self.nets, epochs)
    }
}

/// Why training stopped early.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Learn(#[from] WeakError),
    #[error("{0}")]
    Checkpoint(String),
}

/// The training loop: from `state` (a fresh one, or a checkpoint's) to the end of training.
/// `checkpoint` sees the state at every epoch's end.
pub fn fit(
    learner: &dyn Learner,
    mut state: State,
    s: &Settings,
    device: &Device,
    progress: &mut dyn FnMut(Progress),
    checkpoint: &mut dyn FnMut(&State) -> Result<(), String>,
) -> Result<State, TrainError> {
    let items = learner.items();
    let batches = items.div_ceil(s.batch_size);
    if let Some(last) = state.epochs.last() {
        learner.resume(last);
    }
    while !state.done {
        let epoch = state.epochs.len() + 1;
        let start = std::time::Instant::now();
        // Dropout draws from the device's generator: seeded per epoch, a resumed run draws what
        // the uninterrupted one drew.
        device.seed(s.seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let order = state.rng.permutation(items);
        let (mut stats, mut correct, mut seen) = (Stats::default(), 0usize, 0usize);
        for (b, index) in order.chunks(s.batch_size).enumerate() {
            let at = |b: usize| (epoch - 1) as f64 + b as f64 / batches as f64;
            let rate = s.schedule.rate(s.learning_rate, at(b), at(b + 1), s.epochs);
            // Seeded per batch, as dropout per epoch: a resumed run draws the same moves.
            let mut draws = Rng::new(s.seed ^ ((epoch * batches + b) as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
            let (nets, measured) =
                learner.step(std::mem::take(&mut state.nets), &mut state.optims, rate, index, &mut draws)?;
            state.nets = nets;
            stats.add(measured.stats);
            correct += measured.correct;
            seen += index.len();
            progress(Progress::Batch { epoch, done: b + 1, total: batches, loss: stats.loss / seen as f64 });
        }
        let validation_accuracy = learner.validate(&state.nets);
        let record = Epoch {
            epoch,
            loss: stats.loss / items.max(1) as f64,
            train_accuracy: correct as f64 / items.max(1) as f64,
            validation_accuracy,
            seconds: start.elapsed().as_secs_f64(),
            constraint_violations: stats
                .violations
                .into_iter()
                .map(|(c, (v, n))| (c.number(), v / n.max(1) as f64))
                .collect(),
            propagation: (stats.propagation.queries > 0).then_some(stats.propagation),
            prior_ratios: learner.end_epoch(&state.nets),
        };
        progress(Progress::Epoch(&record));
        state.epochs.push(record);
        state.impossible = stats.impossible;
        state.done = state.best.stop_after(epoch, validation_accuracy, &state.nets) || epoch >= s.epochs;
        checkpoint(&state).map_err(TrainError::Checkpoint)?;
    }
    Ok(state)
}

/// Early stopping: keeps what was trained at the best validation epoch.
#[derive(Clone)]
pub struct Best<T> {
    /// The best validation score, what was trained then, and its epoch.
    pub(crate) best: Option<(f64, T, usize)>,
    patience: Option<usize>,
}

impl<T: Clone> Best<T> {
    pub(crate) fn new(patience: Option<usize>) -> Best<T> {
        Best { best: None, patience }
    }

    /// Records an epoch's validation score; true when patience has run out.
    pub(crate) fn stop_after(&mut self, epoch: usize, score: Option<f64>, current: &T) -> bool {
        let Some(score) = score else { return false };
        match &self.best {
            Some((b, _, at)) if score <= *b => self.patience.is_some_and(|p| epoch - at >= p),
            _ => {
                self.best = Some((score, current.clone(), epoch));
                false
            }
        }
    }

    /// The best epoch's state and number, else the last.
    pub(crate) fn kept(self, last: T, epochs: usize) -> (T, usize) {
        match self.best {
            Some((_, best, at)) => (best, at),
            None => (last, epochs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Best;

    #[test]
    fn early_stopping_keeps_the_best_epoch_and_waits_for_patience() {
        let mut best = Best::new(Some(2));
        let scores = [0.5, 0.7, 0.6, 0.7, 0.9];
        let mut stopped = None;
        for (i, &s) in scores.iter().enumerate() {
            if best.stop_after(i + 1, Some(s), &(i + 1)) {
                stopped = Some(i + 1);
                break;
            }
        }
        assert_eq!(stopped, Some(4), "two epochs without beating 0.7");
        assert_eq!(best.kept(99, 4), (2, 2));
        assert_eq!(Best::<usize>::new(None).kept(7, 3), (7, 3), "without validation, the last");
    }
}
