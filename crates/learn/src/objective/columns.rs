//! Column-wise constraints as an objective (ALGORITHMS.md §5): their fuzzy truth on the batch's
//! rows, computed on tensors ([`crate::columnwise`]), so the loss is a tensor on this batch's
//! logits.

use super::{fuzzy::penalty_tensor, Batch, Objective, Signal, Stats, Total};
use crate::columnwise::{scalar_value, Columns};
use crate::examples::WeakError;
use burn::prelude::*;
use burn::tensor::{activation, TensorData};
use skilang_lang::spec::TruthLoss;
use skilang_logic::Logic;

/// Σ weight · loss(truth) of the column-wise constraints on each batch's rows.
pub struct ColumnWise<'a> {
    pub columns: Columns<'a>,
    pub logic: Logic,
    pub loss: TruthLoss,
}

impl Objective for ColumnWise<'_> {
    fn reads_columns(&self) -> bool {
        true
    }

    fn signal(&self, batch: &Batch) -> Result<Signal, WeakError> {
        let at = batch.rows;
        let probs = batch
            .logits
            .iter()
            .zip(&at.column_at)
            .map(|(l, positions)| {
                let positions = positions.iter().map(|&p| p as i64).collect::<Vec<_>>();
                let n = positions.len();
                let index = Tensor::<1, Int>::from_data(TensorData::new(positions, [n]), batch.device);
                Some(activation::softmax(l.clone(), 1).select(0, index))
            })
            .collect();
        let (mut total, mut stats) = (Total::default(), Stats::default());
        for (c, share, outcome) in self.columns.outcomes(self.logic, &at.dataset_rows, probs, batch.device)? {
            let Some(o) = outcome else { continue };
            let truth = scalar_value(o.truth.clone());
            let penalty = penalty_tensor(self.loss, o.truth);
            // Held on the batch as a whole: its value counts once per example, as the others' do.
            stats.loss += share * scalar_value(penalty.clone()) * batch.examples.len() as f64;
            stats.violated(c, 1.0 - truth, 1);
            total.add(penalty * share as f32);
        }
        Ok(Signal { targets: None, loss: total.0, stats })
    }
}
