//! The training loop: seeded shuffling and initialisation, mini-batches, the optimiser step,
//! validation each epoch, early stopping that keeps the best network.

use crate::input::input_tensor;
use crate::metrics::evaluate;
use crate::model::Net;
use crate::task::{Split, Task};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, AdamWConfig, GradientsParams, ModuleOptimizer, SgdConfig};
use burn::prelude::*;
use burn::tensor::TensorData;
use skilang_data::rng::Rng;
use skilang_lang::spec::{Optimization, Optimizer};
use std::collections::BTreeMap;

/// The optimisation settings of a spec, with defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub optimizer: Optimizer,
    pub weight_decay: f64,
    pub momentum: f64,
    pub seed: u64,
    /// Share of the training split held out to validate each epoch.
    pub validation: f64,
    /// Stop after this many epochs without a better validation accuracy.
    pub patience: Option<usize>,
}

impl Settings {
    pub fn from_spec(o: &Optimization) -> Settings {
        let patience = o.patience.as_ref().map(|p| p.value as usize);
        Settings {
            epochs: o.epochs.as_ref().map_or(10, |e| e.value as usize),
            batch_size: o.batch_size.as_ref().map_or(64, |b| b.value as usize),
            learning_rate: o.learning_rate.as_ref().map_or(1e-3, |l| l.value),
            optimizer: o.optimizer.as_ref().map_or(Optimizer::Adam, |x| x.value),
            weight_decay: o.weight_decay.as_ref().map_or(0.0, |w| w.value),
            momentum: o.momentum.as_ref().map_or(0.0, |m| m.value),
            seed: o.seed.as_ref().map_or(1, |s| s.value),
            // Early stopping needs a validation split; 10% unless the spec says otherwise.
            validation: o.validation.as_ref().map_or(if patience.is_some() { 0.1 } else { 0.0 }, |v| v.value),
            patience,
        }
    }
}

/// What one epoch measured.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Epoch {
    pub epoch: usize,
    pub loss: f64,
    pub train_accuracy: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation_accuracy: Option<f64>,
    pub seconds: f64,
    /// Fuzzy training: per constraint (its index, from 1), the mean violation 1 − truth.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub constraint_violations: BTreeMap<usize, f64>,
}

/// Progress reported while training, for a progress bar.
pub enum Progress<'a> {
    Batch { epoch: usize, done: usize, total: usize, loss: f64 },
    Epoch(&'a Epoch),
}

pub struct Trained {
    pub net: Net,
    pub epochs: Vec<Epoch>,
    /// The epoch whose network was kept (the best on validation, else the last).
    pub kept: usize,
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

/// Trains `net` on the task's labelled training rows with cross-entropy on the gold classes.
pub fn train_supervised(
    task: &Task,
    mut net: Net,
    s: &Settings,
    device: &Device,
    progress: &mut dyn FnMut(Progress),
) -> Trained {
    let mut rng = Rng::new(s.seed);
    // A validation split needs at least one row on each side.
    let train = task.labelled_train();
    let (fit, valid): (Split, Option<Split>) = if s.validation > 0.0 && train.len() >= 2 {
        let order = rng.permutation(train.len());
        let n_valid = ((train.len() as f64 * s.validation).round() as usize).clamp(1, train.len() - 1);
        let (v, f) = order.split_at(n_valid);
        (train.select(f), Some(train.select(v)))
    } else {
        (train, None)
    };
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let mut optim = optimizer(s);
    let mut epochs = Vec::new();
    let mut best = Best::new(s.patience);
    let batches = fit.len().div_ceil(s.batch_size);
    for epoch in 1..=s.epochs {
        let start = std::time::Instant::now();
        let order = rng.permutation(fit.len());
        let (mut loss_sum, mut correct) = (0.0, 0usize);
        for (b, index) in order.chunks(s.batch_size).enumerate() {
            let (values, labels) = fit.batch(index);
            let x = input_tensor(task.input, values, index.len(), device);
            let y = Tensor::<1, Int>::from_data(TensorData::new(labels, [index.len()]), device);
            let logits = net.forward(x);
            let hits =
                logits.clone().argmax(1).reshape([index.len()]).equal(y.clone()).int().sum().into_scalar::<i64>();
            correct += hits as usize;
            let loss = loss_fn.forward(logits, y);
            let value = loss.clone().into_scalar::<f32>() as f64;
            loss_sum += value * index.len() as f64;
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            net = optim.step(s.learning_rate, net, grads);
            progress(Progress::Batch {
                epoch,
                done: b + 1,
                total: batches,
                loss: loss_sum / ((b * s.batch_size + index.len()) as f64),
            });
        }
        let validation_accuracy = valid.as_ref().map(|v| evaluate(&net.valid(), task, v, device).accuracy);
        let record = Epoch {
            epoch,
            loss: loss_sum / fit.len() as f64,
            train_accuracy: correct as f64 / fit.len() as f64,
            validation_accuracy,
            seconds: start.elapsed().as_secs_f64(),
            constraint_violations: BTreeMap::new(),
        };
        progress(Progress::Epoch(&record));
        epochs.push(record);
        if best.stop_after(epoch, validation_accuracy, &net) {
            break;
        }
    }
    let (net, kept) = best.kept(net, epochs.len());
    Trained { net, epochs, kept }
}

/// Early stopping: keeps what was trained at the best validation epoch.
pub(crate) struct Best<T> {
    best: Option<(f64, T, usize)>,
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
