//! Supervised learning: a network trained with cross-entropy on its task's gold classes.

use crate::examples::WeakError;
use crate::input::input_tensor;
use crate::metrics::evaluate;
use crate::model::Net;
use crate::objective::Stats;
use crate::settings::Settings;
use crate::task::{Split, Task};
use crate::train::{Learner, Measured};
use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::TensorData;
use skilang_data::rng::Rng;

/// One network's labelled training rows, less the validation share.
pub struct Supervised<'a> {
    task: &'a Task,
    fit: Split,
    valid: Option<Split>,
    loss: CrossEntropyLoss,
    device: &'a Device,
}

impl<'a> Supervised<'a> {
    /// The task's labelled training rows, with the validation share drawn by `rng` (a split
    /// needs at least one row on each side).
    pub fn new(task: &'a Task, s: &Settings, rng: &mut Rng, device: &'a Device) -> Supervised<'a> {
        let train = task.labelled_train();
        let (fit, valid) = if s.validation > 0.0 && train.len() >= 2 {
            let order = rng.permutation(train.len());
            let n_valid = ((train.len() as f64 * s.validation).round() as usize).clamp(1, train.len() - 1);
            let (v, f) = order.split_at(n_valid);
            (train.select(f), Some(train.select(v)))
        } else {
            (train, None)
        };
        Supervised { task, fit, valid, loss: CrossEntropyLossConfig::new().init(device), device }
    }
}

impl Learner for Supervised<'_> {
    fn items(&self) -> usize {
        self.fit.len()
    }

    fn step(
        &self,
        nets: Vec<Net>,
        optims: &mut [ModuleOptimizer],
        learning_rate: f64,
        index: &[usize],
        draws: &mut Rng,
    ) -> Result<(Vec<Net>, Measured), WeakError> {
        let (values, labels) = self.fit.batch(index, self.task.augment.as_ref().map(|a| (a, draws)));
        let x = input_tensor(self.task.input, values, index.len(), self.device);
        // A grid's cells are one row of logits each; a row counts as right when all its cells are.
        let (n, cells) = (index.len(), self.fit.cells);
        let y = Tensor::<1, Int>::from_data(TensorData::new(labels, [n * cells]), self.device);
        let (Ok([net]), [optim]) = (<[Net; 1]>::try_from(nets), optims) else {
            unreachable!("a supervised learner trains one network")
        };
        let logits = net.forward(x);
        let right = logits.clone().argmax(1).reshape([n * cells]).equal(y.clone()).int();
        let correct = right.reshape([n, cells]).min_dim(1).sum();
        let correct = correct.into_scalar::<i64>() as usize;
        let loss = self.loss.forward(logits, y);
        let stats = Stats { loss: loss.clone().into_scalar::<f32>() as f64 * index.len() as f64, ..Stats::default() };
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        let net = optim.step(learning_rate, net, grads);
        let measured = Measured { stats, correct };
        Ok((vec![net], measured))
    }

    fn validate(&self, nets: &[Net]) -> Option<f64> {
        let v = self.valid.as_ref()?;
        Some(evaluate(&nets[0].valid(), self.task, v, self.device).accuracy)
    }
}
