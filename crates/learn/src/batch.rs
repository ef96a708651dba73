//! A batch of examples as the networks see it: which rows each network runs on, where each
//! grounded variable's row sits among them, and the networks' outputs there.

use crate::augment::Augment;
use crate::examples::Example;
use crate::input::input_tensor;
use crate::input::InputShape;
use crate::model::Net;
use crate::task::Inputs;
use burn::prelude::*;
use burn::tensor::activation;
use skilang_data::rng::Rng;
use skilang_logic::VarRef;
use std::collections::{HashMap, HashSet};

/// What one network reads: the shape and values of its inputs, and nothing else (no gold class),
/// so that learning from constraints cannot see a label.
#[derive(Clone, Copy)]
pub struct Reader<'a> {
    pub shape: InputShape,
    pub inputs: &'a Inputs,
    pub classes: usize,
    /// Cells scored per row (a grid output's; 1 otherwise).
    pub cells: usize,
    /// How its training images move, where they do.
    pub augment: Option<Augment>,
}

/// The rows each learnable reads in a batch, and where each variable's row sits among them.
pub struct BatchRows {
    /// Per learnable, the rows to run it on.
    pub rows: Vec<Vec<usize>>,
    /// Per example, per constraint, per variable: (learnable, row of its logits), the logits
    /// having `cells[learnable]` rows per row of `rows[learnable]`.
    pub at: Vec<Vec<Vec<(usize, usize)>>>,
    /// The dataset rows of the batch, for column-wise constraints (empty without them).
    pub dataset_rows: Vec<usize>,
    /// Per learnable, the position of each of `dataset_rows` in `rows[learnable]`.
    pub column_at: Vec<Vec<usize>>,
}

impl BatchRows {
    /// The rows of `examples` for learnables scoring `cells[l]` cells per row; with `columns`,
    /// every learnable also runs on every dataset row of the batch, for column-wise constraints
    /// (which `check` allows only over learnables that score one class per row).
    pub fn new(examples: &[&Example], cells: &[usize], columns: bool) -> BatchRows {
        let learnables = cells.len();
        let mut rows = vec![Vec::new(); learnables];
        let mut seen: Vec<HashMap<usize, usize>> = vec![Default::default(); learnables];
        let mut position = |l: usize, row: usize| {
            let next = rows[l].len();
            let pos = *seen[l].entry(row).or_insert(next);
            if pos == next {
                rows[l].push(row);
            }
            pos
        };
        let at = examples
            .iter()
            .map(|e| {
                e.constraints
                    .iter()
                    .map(|c| {
                        let mut at = |v: &VarRef| position(v.learnable, e.rows[v.slot]) * cells[v.learnable] + v.cell;
                        c.grounded.vars.iter().map(|v| (v.learnable, at(v))).collect()
                    })
                    .collect()
            })
            .collect();
        let mut dataset_rows = Vec::new();
        let mut column_at = vec![Vec::new(); learnables];
        if columns {
            let mut distinct = HashSet::new();
            dataset_rows =
                examples.iter().flat_map(|e| e.rows.iter().copied()).filter(|r| distinct.insert(*r)).collect();
            for (l, at) in column_at.iter_mut().enumerate() {
                *at = dataset_rows.iter().map(|&r| position(l, r)).collect();
            }
        }
        BatchRows { rows, at, dataset_rows, column_at }
    }
}

/// Each network's logits on its training rows, as predictions read them ([`Net::forward`]),
/// the images of augmented networks moved by draws from `draws`.
pub fn forward_all(
    nets: &[Net],
    readers: &[Reader],
    rows: &[Vec<usize>],
    device: &Device,
    draws: &mut Rng,
) -> Vec<Tensor<2>> {
    let parts = forward_parts_all(nets, readers, rows, device, draws);
    nets.iter().zip(parts).map(|(net, (logits, _))| net.debias(logits)).collect()
}

/// [`forward_all`]'s logits before RECORDS' debiasing, with the features it tracks
/// ([`Net::forward_parts`]).
pub fn forward_parts_all(
    nets: &[Net],
    readers: &[Reader],
    rows: &[Vec<usize>],
    device: &Device,
    draws: &mut Rng,
) -> Vec<(Tensor<2>, Option<Tensor<2>>)> {
    nets.iter()
        .zip(readers)
        .zip(rows)
        .map(|((net, r), rows)| {
            if rows.is_empty() {
                return (Tensor::zeros([0, r.classes], device), None);
            }
            let values = r.inputs.augmented_rows(rows, r.augment.as_ref().map(|a| (a, &mut *draws)));
            // One row of logits per cell: `cells` per input row.
            net.forward_parts(input_tensor(r.shape, values, rows.len(), device))
        })
        .collect()
}

/// Each learnable's log-probabilities on its rows, as plain numbers.
pub fn log_probs(logits: &[Tensor<2>]) -> Vec<Vec<Vec<f64>>> {
    logits
        .iter()
        .map(|l| {
            let [n, k] = l.dims();
            let flat: Vec<f64> =
                activation::log_softmax(l.clone().detach(), 1).into_data().iter::<f32>().map(f64::from).collect();
            (0..n).map(|i| flat[i * k..(i + 1) * k].to_vec()).collect()
        })
        .collect()
}
