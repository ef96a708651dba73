//! The training loop of learning from constraints: per batch, the networks give a distribution
//! per latent application (`digit(x3)`), each objective turns the batch into a signal
//! ([`crate::objective`]), and the optimisers step. Gold classes of training instances are never
//! read: inputs go to the networks, and observed values reach training only through grounded
//! events.

use crate::batch::{forward_all, log_probs, BatchRows, Reader};
use crate::evaluate::{satisfied, task_accuracy};
use crate::examples::{Example, WeakError};
use crate::model::Net;
use crate::objective::{Batch, Objective, Stats, Targets, Total};
use crate::train::{optimizer, Best, Epoch, Progress, Settings};
use burn::optim::GradientsParams;
use burn::prelude::*;
use skilang_data::rng::Rng;

pub struct TrainedWeak {
    pub nets: Vec<Net>,
    pub epochs: Vec<Epoch>,
    pub kept: usize,
    /// Training examples whose constraints could not hold (skipped).
    pub impossible: usize,
}

/// Trains every network on the `train` examples with `objectives` (validated on the `valid`
/// examples, if any).
#[allow(clippy::too_many_arguments)]
pub fn train_weak(
    readers: &[Reader],
    mut nets: Vec<Net>,
    train: &[Example],
    valid: &[Example],
    objectives: &[Box<dyn Objective + '_>],
    s: &Settings,
    device: &Device,
    progress: &mut dyn FnMut(Progress),
) -> Result<TrainedWeak, WeakError> {
    let mut rng = Rng::new(s.seed);
    let mut optims: Vec<_> = nets.iter().map(|_| optimizer(s)).collect();
    let mut epochs = Vec::new();
    let mut best = Best::new(s.patience);
    let batches = train.len().div_ceil(s.batch_size);
    let reads_columns = objectives.iter().any(|o| o.reads_columns());
    let steps = objectives.iter().map(|o| o.steps()).max().unwrap_or(1);
    let mut impossible = 0;
    for epoch in 1..=s.epochs {
        let start = std::time::Instant::now();
        let order = rng.permutation(train.len());
        let (mut stats, mut satisfied_count, mut seen) = (Stats::default(), 0usize, 0usize);
        for (b, index) in order.chunks(s.batch_size).enumerate() {
            let examples: Vec<&Example> = index.iter().map(|&i| &train[i]).collect();
            let rows = BatchRows::new(&examples, nets.len(), reads_columns);
            let mut held: Vec<Targets> = Vec::new();
            for step in 0..steps {
                let logits = forward_all(&nets, readers, &rows.rows, device);
                let mut loss = Total::default();
                if step == 0 {
                    let logp = log_probs(&logits);
                    satisfied_count += examples.iter().zip(&rows.at).filter(|(e, at)| satisfied(e, at, &logp)).count();
                    let batch = Batch { examples: &examples, rows: &rows, logits: &logits, logp: &logp, device };
                    for objective in objectives {
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
                        optim.step(s.learning_rate, net, g)
                    })
                    .collect();
            }
            seen += index.len();
            progress(Progress::Batch { epoch, done: b + 1, total: batches, loss: stats.loss / seen as f64 });
        }
        impossible = stats.impossible;
        let validation_accuracy = (!valid.is_empty()).then(|| {
            let v: Vec<Net> = nets.iter().map(|n| n.valid()).collect();
            task_accuracy(&v, readers, valid, device)
        });
        let record = Epoch {
            epoch,
            loss: stats.loss / train.len().max(1) as f64,
            train_accuracy: satisfied_count as f64 / train.len().max(1) as f64,
            validation_accuracy,
            seconds: start.elapsed().as_secs_f64(),
            constraint_violations: stats
                .violations
                .into_iter()
                .map(|(c, (v, n))| (c.number(), v / n.max(1) as f64))
                .collect(),
        };
        progress(Progress::Epoch(&record));
        epochs.push(record);
        if best.stop_after(epoch, validation_accuracy, &nets) {
            break;
        }
    }
    let (nets, kept) = best.kept(nets, epochs.len());
    Ok(TrainedWeak { nets, epochs, kept, impossible })
}
