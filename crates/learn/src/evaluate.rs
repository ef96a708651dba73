//! How examples meet their constraints under the networks' most likely classes: the validation
//! score of learning from constraints, and the report's task accuracy and satisfaction.

use crate::batch::{BatchRows, Reader};
use crate::columnwise::{scalar_value, Columns};
use crate::examples::{Constraint, Example, TestExamples, WeakError};
use crate::metrics::most_likely;
use crate::model::Net;
use burn::prelude::*;
use burn::tensor::TensorData;
use skilang_lang::check::ConstraintId;
use skilang_logic::{argmax, Logic};
use std::collections::BTreeMap;

/// Whether an example's constraints all hold under each network's most likely classes.
pub(crate) fn satisfied(e: &Example, at: &[Vec<(usize, usize)>], logp: &[Vec<Vec<f64>>]) -> bool {
    e.constraints.iter().zip(at).all(|(c, at)| holds(c, at, |l, i| argmax(&logp[l][i])))
}

/// Whether a constraint holds when each variable (learnable, position) takes `class(l, i)`.
pub(crate) fn holds(c: &Constraint, at: &[(usize, usize)], class: impl Fn(usize, usize) -> usize) -> bool {
    let z: Vec<usize> = at.iter().map(|&(l, i)| class(l, i)).collect();
    c.grounded.event.holds(&z)
}

/// How the test set meets the constraints under the networks' most likely classes.
pub struct Satisfaction {
    /// Share of test examples whose instance-wise constraints all hold (the measured-only ones aside).
    pub task_accuracy: f64,
    /// Per instance-wise constraint: examples it was grounded for, and where it holds.
    pub instance: BTreeMap<ConstraintId, (usize, usize)>,
    /// Per column-wise constraint: whether it holds on the whole test set, and its comparison's
    /// left-hand side.
    pub column: BTreeMap<ConstraintId, (bool, Option<f64>)>,
}

/// Evaluates the constraints on the test examples (and the column-wise ones on the whole test
/// set, under `logic`), each network taking its most likely class: `predicted[learnable]` holds
/// `cells[learnable]` classes per row of the test split (out of `classes[learnable]`).
pub fn satisfaction(
    predicted: &[Vec<u32>],
    (classes, cells): (&[usize], &[usize]),
    test: &TestExamples,
    columns: Option<(&Columns, Logic)>,
    device: &Device,
) -> Result<Satisfaction, WeakError> {
    let class = |l: usize, row: usize, cell: usize| predicted[l][row * cells[l] + cell] as usize;
    let tally = test.fold(
        &class,
        |tally: &mut Tally, outcomes| {
            tally.record(outcomes.iter().filter_map(|&(c, holds)| holds.map(|h| (c, h))), test.measured());
        },
        Tally::join,
    )?;
    let task_accuracy = tally.accuracy();
    let instance = tally.per_constraint();
    let mut column = BTreeMap::new();
    if let Some((cols, logic)) = columns.filter(|(c, _)| !c.constraints.is_empty()) {
        let rows: Vec<usize> = (0..predicted.first().map_or(0, Vec::len)).collect();
        let probs = predicted.iter().zip(classes).map(|(p, &k)| Some(one_hot(p, k, device))).collect();
        for (c, _, outcome) in cols.outcomes(logic, &rows, probs, device)? {
            let (truth, lhs) = match outcome {
                Some(o) => (scalar_value(o.truth), o.lhs),
                None => (1.0, None),
            };
            column.insert(c, (truth >= 1.0 - 1e-6, lhs));
        }
    }
    Ok(Satisfaction { task_accuracy, instance, column })
}

/// Classes `predicted` as one-hot distributions over `classes`.
fn one_hot(predicted: &[u32], classes: usize, device: &Device) -> Tensor<2> {
    let onehot = predicted.iter().flat_map(|&best| (0..classes).map(move |j| (j == best as usize) as u8 as f32));
    Tensor::<2>::from_data(TensorData::new(onehot.collect(), [predicted.len(), classes]), device)
}

/// Examples whose constraints all hold under each network's most likely classes, and per
/// constraint (by its position) the examples it was grounded for and where it holds.
#[derive(Default)]
struct Tally {
    examples: usize,
    hits: usize,
    per_constraint: Vec<(usize, usize)>,
}

impl Tally {
    /// Records an example: whether each constraint grounded for it holds (the `measured` ones
    /// are counted apart from the task).
    fn record(&mut self, outcomes: impl Iterator<Item = (ConstraintId, bool)>, measured: &[ConstraintId]) {
        let mut all = true;
        for (c, ok) in outcomes {
            let entry = self.at(c.position());
            entry.0 += 1;
            entry.1 += ok as usize;
            all &= ok || measured.contains(&c);
        }
        self.hits += all as usize;
        self.examples += 1;
    }

    fn at(&mut self, position: usize) -> &mut (usize, usize) {
        if self.per_constraint.len() <= position {
            self.per_constraint.resize(position + 1, (0, 0));
        }
        &mut self.per_constraint[position]
    }

    fn join(mut self, other: Tally) -> Tally {
        self.examples += other.examples;
        self.hits += other.hits;
        for (position, (n, holds)) in other.per_constraint.into_iter().enumerate() {
            let entry = self.at(position);
            entry.0 += n;
            entry.1 += holds;
        }
        self
    }

    /// The constraints grounded for some example.
    fn per_constraint(&self) -> BTreeMap<ConstraintId, (usize, usize)> {
        let grounded = self.per_constraint.iter().enumerate().filter(|(_, (n, _))| *n > 0);
        grounded.map(|(position, &counts)| (ConstraintId::at(position), counts)).collect()
    }

    fn accuracy(&self) -> f64 {
        self.hits as f64 / self.examples.max(1) as f64
    }
}

/// Share of examples whose constraints all hold under each network's most likely classes.
pub fn task_accuracy(nets: &[Net], readers: &[Reader], examples: &[Example], device: &Device) -> f64 {
    let refs: Vec<&Example> = examples.iter().collect();
    let cells: Vec<usize> = readers.iter().map(|r| r.cells).collect();
    let at = BatchRows::new(&refs, &cells, false);
    let classes: Vec<Vec<usize>> = nets
        .iter()
        .zip(readers)
        .zip(&at.rows)
        .map(|((net, r), rows)| most_likely(net, r.shape, r.inputs, rows, device))
        .collect();
    let mut tally = Tally::default();
    for (e, at) in examples.iter().zip(&at.at) {
        let outcomes = e.constraints.iter().zip(at).map(|(c, at)| {
            let z: Vec<usize> = at.iter().map(|&(l, i)| classes[l][i]).collect();
            (c.constraint, c.grounded.event.holds(&z))
        });
        tally.record(outcomes, &[]);
    }
    tally.accuracy()
}
