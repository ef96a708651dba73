//! The objective seam: from the networks' distributions over a batch, the training signal.
//!
//! An [`Objective`] sees a whole [`Batch`] (its examples, where their variables sit, the networks'
//! logits and log-probabilities) and returns a [`Signal`]: per-row targets that the loop holds
//! fixed for [`Objective::steps`] optimiser steps, and/or a loss tensor on this batch's logits.
//! Batch level, because some objectives solve one problem over all of a batch's examples.
//!
//! Adding an objective is one file here, one variant of `skilang_lang::check::Training`, and its
//! arm in [`of`].

pub mod columns;
pub mod fuzzy;
pub mod lp;
pub mod reasoned;
pub mod ste;

use crate::batch::BatchRows;
use crate::columnwise::Columns;
use crate::examples::{Constraint, Example, Prepare, WeakError};
use burn::prelude::*;
use burn::tensor::{activation, TensorData};
use rayon::prelude::*;
use skilang_lang::check::{ConstraintId, Reasoning, Training};
use skilang_logic::Logic;
use std::collections::BTreeMap;

/// One batch as objectives see it.
pub struct Batch<'a> {
    pub examples: &'a [&'a Example],
    pub rows: &'a BatchRows,
    /// Per learnable, its logits on `rows.rows[learnable]`, in the autodiff graph.
    pub logits: &'a [Tensor<2>],
    /// The same as log-probabilities, as plain numbers: what targets are made of (debiased by
    /// RECORDS' prior where a network tracks one, while `logits` stay the network's own).
    pub logp: &'a [Vec<Vec<f64>>],
    pub device: &'a Device,
}

/// What an objective makes of a batch.
#[derive(Default)]
pub struct Signal {
    /// Targets per learnable and row, held fixed for the objective's steps.
    pub targets: Option<Targets>,
    /// A loss on this batch's logits, for the first step.
    pub loss: Option<Tensor<1>>,
    pub stats: Stats,
}

/// Per learnable, per row of the batch, one number per class.
pub type PerRow = Vec<Vec<Vec<f64>>>;

/// A zero for every class of every row of the batch: targets to add to.
pub(crate) fn zeros(batch: &Batch) -> PerRow {
    batch.logp.iter().map(|rows| rows.iter().map(|r| vec![0.0; r.len()]).collect()).collect()
}

/// Per-row targets and the loss they stand for.
pub enum Targets {
    /// A cross-entropy towards these weighted distributions, −Σ t · log p: its gradient on the
    /// logits is (Σ t) p − t per row.
    Distributions(PerRow),
    /// The objective's derivative ∂loss/∂p, as the loss Σ g · p: through the softmax, it has the
    /// objective's gradient.
    Gradients(PerRow),
    /// The objective's derivative in the logits themselves, as the loss Σ g · logit.
    LogitGradients(PerRow),
}

impl Targets {
    /// The loss, averaged over the batch's `examples`, on `logits` (those of the batch's rows).
    pub fn loss(&self, logits: &[Tensor<2>], examples: usize, device: &Device) -> Option<Tensor<1>> {
        let (Targets::Distributions(t) | Targets::Gradients(t) | Targets::LogitGradients(t)) = self;
        let mut total = Total::default();
        for (logits, t) in logits.iter().zip(t) {
            let [n, k] = logits.dims();
            if n == 0 {
                continue;
            }
            let flat: Vec<f32> = t.iter().flatten().map(|&x| x as f32).collect();
            let t = Tensor::<2>::from_data(TensorData::new(flat, [n, k]), device);
            total.add(
                match self {
                    Targets::Distributions(_) => (activation::log_softmax(logits.clone(), 1) * t).sum().neg(),
                    Targets::Gradients(_) => (activation::softmax(logits.clone(), 1) * t).sum(),
                    Targets::LogitGradients(_) => (logits.clone() * t).sum(),
                } / examples as f32,
            );
        }
        total.0
    }
}

/// A sum of losses, of which there may be none.
#[derive(Default)]
pub(crate) struct Total(pub(crate) Option<Tensor<1>>);

impl Total {
    pub(crate) fn add(&mut self, x: Tensor<1>) {
        self.0 = Some(match self.0.take() {
            Some(t) => t + x,
            None => x,
        })
    }
}

/// What a batch's signal measured.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    /// The objective's value, summed over the batch's examples.
    pub loss: f64,
    /// Examples whose constraints have probability 0 (contradictory observations): skipped.
    pub impossible: usize,
    /// Per constraint: the summed violation 1 − truth, and over how many groundings.
    pub violations: BTreeMap<ConstraintId, (f64, usize)>,
    /// How belief propagation ended on the batch's queries (none for other engines).
    pub propagation: Propagation,
}

/// Belief propagation's queries of an epoch: how many, their rounds, how far from settled.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Propagation {
    pub queries: usize,
    pub mean_iterations: f64,
    /// The largest change of a message in a query's last round.
    pub max_residual: f64,
    /// Queries the iteration cap stopped before their messages settled.
    pub unsettled: usize,
}

impl Propagation {
    pub fn add(&mut self, c: skilang_logic::Convergence) {
        self.merge(Propagation {
            queries: 1,
            mean_iterations: c.iterations as f64,
            max_residual: c.residual,
            unsettled: usize::from(!c.settled),
        });
    }

    fn merge(&mut self, o: Propagation) {
        let queries = self.queries + o.queries;
        if queries > 0 {
            self.mean_iterations =
                (self.mean_iterations * self.queries as f64 + o.mean_iterations * o.queries as f64) / queries as f64;
        }
        self.queries = queries;
        self.max_residual = self.max_residual.max(o.max_residual);
        self.unsettled += o.unsettled;
    }
}

impl Stats {
    /// Adds `n` groundings of constraint `c` with summed violation `v`.
    pub fn violated(&mut self, c: ConstraintId, v: f64, n: usize) {
        let entry = self.violations.entry(c).or_default();
        entry.0 += v;
        entry.1 += n;
    }

    pub fn add(&mut self, other: Stats) {
        self.loss += other.loss;
        self.impossible += other.impossible;
        self.propagation.merge(other.propagation);
        for (c, (v, n)) in other.violations {
            self.violated(c, v, n);
        }
    }
}

/// Turns a batch into a training signal.
pub trait Objective: Sync {
    /// Optimiser steps per batch with the targets held fixed (EM's M-steps).
    fn steps(&self) -> usize {
        1
    }

    /// Whether every learnable must also run on every dataset row of the batch.
    fn reads_columns(&self) -> bool {
        false
    }

    /// The class ratios it holds, when EMP moves them with the networks' predictions.
    fn moving_ratios(&self) -> Option<&crate::emp::MovingRatios> {
        None
    }

    fn signal(&self, batch: &Batch) -> Result<Signal, WeakError>;
}

/// (learnable, row, weight, target) of one grounded variable.
pub(crate) type Weighted = (usize, usize, f64, Vec<f64>);

/// Every example's grounded constraints through `each` (in parallel over the examples), which
/// adds each one's weighted targets and statistics, or returns `None` when the example is
/// impossible (it is then skipped and counted); the batch's targets are their weighted sums.
pub(crate) fn per_constraint(
    batch: &Batch,
    each: impl Fn(&Constraint, &[(usize, usize)], &mut Vec<Weighted>, &mut Stats) -> Option<()> + Sync,
) -> (PerRow, Stats) {
    let parts: Vec<Option<(Vec<Weighted>, Stats)>> = batch
        .examples
        .par_iter()
        .zip(&batch.rows.at)
        .map(|(e, at)| {
            let (mut weighted, mut stats) = (Vec::new(), Stats::default());
            for (c, at) in e.constraints.iter().zip(at) {
                each(c, at, &mut weighted, &mut stats)?;
            }
            Some((weighted, stats))
        })
        .collect();
    let mut targets = zeros(batch);
    let mut stats = Stats::default();
    for part in parts {
        let Some((weighted, s)) = part else {
            stats.impossible += 1;
            continue;
        };
        for (learnable, row, weight, t) in weighted {
            for (a, b) in targets[learnable][row].iter_mut().zip(t) {
                *a += weight * b;
            }
        }
        stats.add(s);
    }
    (targets, stats)
}

/// What a training plan that learns from constraints prepares its training examples for, and
/// the objectives it minimises; `None` for the plans that do not reason over examples. `ratios`
/// are the prior's per learnable, which LP holds the classes' counts near.
pub fn of(
    training: Training,
    columns: Option<Columns>,
    ratios: Option<lp::Ratios>,
) -> Option<(Prepare, Vec<Box<dyn Objective + '_>>)> {
    let mut objectives: Vec<Box<dyn Objective>> = Vec::new();
    let prepare = match training {
        Training::Supervised | Training::Embedding | Training::Structuring => return None,
        Training::Reasoned { objective, engine } => {
            objectives.push(match objective {
                Reasoning::SemanticLoss => Box::new(reasoned::SemanticLoss),
                Reasoning::Em { hard, m_steps } => Box::new(reasoned::Em { hard, m_steps: m_steps as usize }),
                Reasoning::Lp { hard, .. } => Box::new(lp::Lp {
                    ratios: ratios.unwrap_or(lp::Ratios::Fixed(Vec::new())),
                    hard,
                    widened: Default::default(),
                }),
            });
            Prepare::Infer(skilang_logic::engine(engine))
        }
        Training::Fuzzy { semantics, implication, loss } => {
            let logic = Logic::new(semantics, implication);
            objectives.push(Box::new(fuzzy::Fuzzy { logic, loss }));
            if let Some(columns) = columns.filter(|c| !c.constraints.is_empty()) {
                objectives.push(Box::new(columns::ColumnWise { columns, logic, loss }));
            }
            Prepare::Fuzzy
        }
        Training::Ste { binarize, estimator, alpha, beta, normalize } => {
            objectives.push(Box::new(ste::Ste { binarize, estimator, alpha, beta, normalize }));
            // Binarised logits are not exclusive: their exactly-one clauses join the loss.
            Prepare::Cnf { exactly_one: binarize == skilang_lang::spec::Binarize::Logit }
        }
    };
    Some((prepare, objectives))
}
