//! A spec's optimisation settings, every default in one place.

use crate::schedule::Schedule;
use skilang_lang::spec::{Optimization, Optimizer};

/// The optimisation settings of a spec, with defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub schedule: Schedule,
    pub optimizer: Optimizer,
    pub weight_decay: f64,
    pub momentum: f64,
    pub seed: u64,
    /// Share of the training split held out to validate each epoch.
    pub validation: f64,
    /// Stop after this many epochs without a better validation accuracy.
    pub patience: Option<usize>,
    /// RECORDS: the networks track their feature means and read their distributions debiased.
    pub records: bool,
}

impl Settings {
    pub fn from_spec(o: &Optimization) -> Settings {
        let patience = o.patience.as_ref().map(|p| p.value as usize);
        Settings {
            epochs: o.epochs.as_ref().map_or(Optimization::DEFAULT_EPOCHS, |e| e.value) as usize,
            batch_size: o.batch_size.as_ref().map_or(64, |b| b.value as usize),
            learning_rate: o.learning_rate.as_ref().map_or(1e-3, |l| l.value),
            schedule: Schedule::from_spec(o.schedule.as_ref().map(|s| &s.value)),
            optimizer: o.optimizer.as_ref().map_or(Optimizer::Adam, |x| x.value),
            weight_decay: o.weight_decay.as_ref().map_or(0.0, |w| w.value),
            momentum: o.momentum.as_ref().map_or(0.0, |m| m.value),
            seed: o.seed.as_ref().map_or(1, |s| s.value),
            // Early stopping needs a validation split; 10% unless the spec says otherwise.
            validation: o.validation.as_ref().map_or(if patience.is_some() { 0.1 } else { 0.0 }, |v| v.value),
            patience,
            records: o.records.as_ref().is_some_and(|r| r.value),
        }
    }
}
