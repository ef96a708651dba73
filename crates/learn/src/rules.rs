//! Embedding and structuring (ALGORITHMS.md §5): rules over a learnable's observed inputs, as
//! extra input features or as trainable logic units inside its network.
//!
//! Both start from the spec's [`RuleNet`]: the leaf conditions are computed from each row's
//! observed values once, before training. Embedding appends every unit's crisp truth to the
//! row's features. Structuring (KBANN / KINS) appends the leaves instead and builds the units as
//! sigmoid neurons whose weights start at the rule ([`RuleNet::initial_weights`]); the guards'
//! units join the first hidden layer, and each guarded constraint `if: R(x)` `then: net(x) == c`
//! starts as a strong link from R's unit to class c's logit. Every weight stays trainable.

use crate::observations::Observations;
use crate::task::{Inputs, Task};
use burn::module::Param;
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation;
use rayon::prelude::*;
use skilang_data::Table;
use skilang_lang::check::ColumnId;
use skilang_lang::spec::Spec;
use skilang_logic::{Formulas, GroundError, Node, RuleNet};

/// The weight scale of a unit's inputs: σ(±ω/2) ≈ 0.98 / 0.02 for a rule that holds or not.
pub const OMEGA: f32 = 8.0;
/// A guard's initial link to its class's logit: enough to outweigh an untrained network.
pub const LINK: f32 = 8.0;

/// The leaves' truths for every row of `table`, row after row (computed in parallel).
pub fn leaf_values(
    rules: &RuleNet,
    grounder: &Formulas,
    spec: &Spec,
    dataset: usize,
    table: &Table,
) -> Result<Vec<f32>, GroundError> {
    let observations = Observations::new(spec, dataset, table, None);
    let rows: Vec<Vec<f32>> = (0..table.rows)
        .into_par_iter()
        .map(|row| rules.leaf_values(grounder, &|_, column: ColumnId| observations.value(row, column)))
        .collect::<Result<_, _>>()?;
    Ok(rows.concat())
}

/// Appends `extra` values per row (`width` of them) to a split's features.
pub fn append(inputs: &mut Inputs, extra: &[f32], width: usize) -> Result<(), String> {
    let Inputs::Vectors { width: w, values } = inputs else {
        return Err("its input is an image; rule features can only join a vector of features".into());
    };
    let rows = values.len() / (*w).max(1);
    let mut out = Vec::with_capacity(rows * (*w + width));
    for (row, ex) in values.chunks_exact(*w).zip(extra.chunks_exact(width.max(1))) {
        out.extend_from_slice(row);
        out.extend_from_slice(&ex[..width]);
    }
    *values = out;
    *w += width;
    Ok(())
}

/// Embedding: every unit's crisp truth joins the features of both splits.
pub fn embed(task: &mut Task, rules: &RuleNet, train_leaves: &[f32], test_leaves: &[f32]) -> Result<(), String> {
    let truths = |leaves: &[f32]| -> Vec<f32> {
        leaves.chunks_exact(rules.leaves.len().max(1)).flat_map(|l| rules.unit_values(l)).collect()
    };
    extend(task, &truths(train_leaves), &truths(test_leaves), rules.units.len())
}

/// Structuring: the leaves follow the features of both splits, for [`RuleLayer`] to read.
pub fn attach_leaves(
    task: &mut Task,
    rules: &RuleNet,
    train_leaves: &[f32],
    test_leaves: &[f32],
) -> Result<(), String> {
    extend(task, train_leaves, test_leaves, rules.leaves.len())
}

fn extend(task: &mut Task, train: &[f32], test: &[f32], width: usize) -> Result<(), String> {
    append(&mut task.train.inputs, train, width)?;
    append(&mut task.test.inputs, test, width)?;
    task.input = crate::input::InputShape::Vector(task.train.inputs.width());
    Ok(())
}

/// The logic units of structuring, over the leaves at the end of the network's input.
#[derive(Module, Debug)]
pub struct RuleLayer {
    pub(crate) units: Vec<Linear>,
    /// Guards' units → class logits.
    pub(crate) links: Linear,
    /// Each unit's inputs, as positions among [leaves, units].
    #[module(skip)]
    wiring: Vec<Vec<usize>>,
    /// The unit of each guard of this learnable.
    #[module(skip)]
    guards: Vec<usize>,
}

impl RuleLayer {
    /// The units of `rules`, and links from the guards that name a class of `learnable`.
    pub fn new(rules: &RuleNet, learnable: usize, classes: usize, device: &Device) -> RuleLayer {
        let leaves = rules.leaves.len();
        let mut units = Vec::with_capacity(rules.units.len());
        let mut wiring = Vec::with_capacity(rules.units.len());
        for (k, unit) in rules.units.iter().enumerate() {
            let (w, b) = rules.initial_weights(k, OMEGA);
            let mut linear = LinearConfig::new(w.len(), 1).init(device);
            linear.weight = Param::from_data(TensorData::new(w.clone(), [w.len(), 1]), device);
            linear.bias = Some(Param::from_data(TensorData::new(vec![b], [1]), device));
            units.push(linear);
            wiring.push(
                unit.inputs
                    .iter()
                    .map(|(n, _)| match *n {
                        Node::Leaf(i) => i,
                        Node::Unit(u) => leaves + u,
                    })
                    .collect(),
            );
        }
        let mine: Vec<_> = rules.guards.iter().filter(|g| g.learnable == learnable).collect();
        let mut link = vec![0.0; mine.len() * classes];
        for (i, g) in mine.iter().enumerate() {
            link[i * classes + g.class] = LINK;
        }
        let mut links = LinearConfig::new(mine.len(), classes).with_bias(false).init(device);
        links.weight = Param::from_data(TensorData::new(link, [mine.len(), classes]), device);
        RuleLayer { units, links, wiring, guards: mine.iter().map(|g| g.unit).collect() }
    }

    /// Units that join the first hidden layer.
    pub fn guards(&self) -> usize {
        self.guards.len()
    }

    /// The guards' units `[batch, guards]` and their links to the logits `[batch, classes]`.
    pub fn forward(&self, leaves: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let [_, n] = leaves.dims();
        let mut values: Vec<Tensor<2>> = (0..n).map(|i| leaves.clone().narrow(1, i, 1)).collect();
        for (unit, wiring) in self.units.iter().zip(&self.wiring) {
            let inputs = Tensor::cat(wiring.iter().map(|&i| values[i].clone()).collect(), 1);
            values.push(activation::sigmoid(unit.forward(inputs)));
        }
        let guards = Tensor::cat(self.guards.iter().map(|&u| values[n + u].clone()).collect(), 1);
        let links = self.links.forward(guards.clone());
        (guards, links)
    }
}
