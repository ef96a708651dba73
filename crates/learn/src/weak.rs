//! Learning from constraints, one batch at a time: the networks give a distribution per latent
//! application (`digit(x3)`), each objective turns the batch into a signal
//! ([`crate::objective`]), and the optimisers step. Gold classes of training instances are never
//! read: inputs go to the networks, and observed values reach training only through grounded
//! events.

use crate::batch::{forward_parts_all, log_probs, BatchRows, Reader};
use crate::evaluate::{satisfied, task_accuracy};
use crate::examples::{Example, WeakError};
use crate::model::Net;
use crate::objective::{Batch, Objective, Stats, Targets, Total};
use crate::train::{Epoch, Learner, Measured};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use skilang_data::rng::Rng;

/// Every network, trained together on the examples' constraints with the plan's objectives.
pub struct Constrained<'a> {
    pub readers: &'a [Reader<'a>],
    pub train: &'a [Example],
    /// Scored each epoch by the share whose constraints all hold.
    pub valid: &'a [Example],
    pub objectives: &'a [Box<dyn Objective + 'a>],
    pub device: &'a Device,
}

impl Learner for Constrained<'_> {
    fn items(&self) -> usize {
        self.train.len()
    }

    fn step(
        &self,
        mut nets: Vec<Net>,
        optims: &mut [ModuleOptimizer],
        learning_rate: f64,
        index: &[usize],
        draws: &mut Rng,
    ) -> Result<(Vec<Net>, Measured), WeakError> {
        let device = self.device;
        let examples: Vec<&Example> = index.iter().map(|&i| &self.train[i]).collect();
        let reads_columns = self.objectives.iter().any(|o| o.reads_columns());
        let steps = self.objectives.iter().map(|o| o.steps()).max().unwrap_or(1);
        let cells: Vec<usize> = self.readers.iter().map(|r| r.cells).collect();
        let rows = BatchRows::new(&examples, &cells, reads_columns);
        let (mut stats, mut correct) = (Stats::default(), 0);
        let mut held: Vec<Targets> = Vec::new();
        for step in 0..steps {
            // Every step of a batch sees the images moved alike, those its targets were held on.
            let (logits, features): (Vec<_>, Vec<_>) =
                forward_parts_all(&nets, self.readers, &rows.rows, device, &mut draws.clone()).into_iter().unzip();
            let mut loss = Total::default();
            if step == 0 {
                // RECORDS: a tracking network's feature mean moves with the batch, and the
                // objectives turn its debiased distributions into targets for its own logits.
                nets = nets
                    .into_iter()
                    .zip(features)
                    .map(|(n, f)| match f {
                        Some(f) => n.track(f),
                        None => n,
                    })
                    .collect();
                let debiased: Vec<Tensor<2>> = nets.iter().zip(&logits).map(|(n, l)| n.debias(l.clone())).collect();
                let logp = log_probs(&debiased);
                correct = examples.iter().zip(&rows.at).filter(|(e, at)| satisfied(e, at, &logp)).count();
                let batch = Batch { examples: &examples, rows: &rows, logits: &logits, logp: &logp, device };
                for objective in self.objectives {
                    let signal = objective.signal(&batch)?;
                    stats.add(signal.stats);
                    held.extend(signal.targets);
                    if let Some(l) = signal.loss {
                        loss.add(l);
                    }
                }
            }
            for targets in &held {
                if let Some(l) = targets.loss(&logits, examples.len(), device) {
                    loss.add(l);
                }
            }
            let Some(loss) = loss.0 else { break };
            let mut grads = loss.backward();
            nets = nets
                .into_iter()
                .zip(optims.iter_mut())
                .map(|(net, optim)| {
                    let g = GradientsParams::from_module(&mut grads, &net);
                    optim.step(learning_rate, net, g)
                })
                .collect();
        }
        Ok((nets, Measured { stats, correct }))
    }

    fn end_epoch(&self, nets: &[Net]) -> Option<Vec<Vec<f64>>> {
        let moving = self.objectives.iter().find_map(|o| o.moving_ratios())?;
        Some(moving.update(&crate::emp::shares(nets, self.readers, self.train, self.device)))
    }

    fn resume(&self, last: &Epoch) {
        let moving = self.objectives.iter().find_map(|o| o.moving_ratios());
        if let (Some(moving), Some(ratios)) = (moving, &last.prior_ratios) {
            moving.restore(ratios.clone());
        }
    }

    fn validate(&self, nets: &[Net]) -> Option<f64> {
        (!self.valid.is_empty()).then(|| {
            let v: Vec<Net> = nets.iter().map(|n| n.valid()).collect();
            task_accuracy(&v, self.readers, self.valid, self.device)
        })
    }
}
