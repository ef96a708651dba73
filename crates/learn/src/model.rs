//! A learnable's network, built from its `architecture` or `layers`, with every shape inferred
//! from the data schema and the output type.

use crate::input::InputShape;
use crate::rules::RuleLayer;
use burn::module::{ModuleVisitor, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AvgPool2d, AvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation;
use sha2::{Digest, Sha256};
use skilang_lang::spec::{Activation, Architecture, Layer, Model};

#[derive(Debug, thiserror::Error)]
#[error("learnable `{learnable}`, layer {layer} ({kind}): {reason}")]
pub struct ShapeError {
    pub learnable: String,
    pub layer: usize,
    pub kind: String,
    pub reason: String,
}

/// A layer with parameters (or training-time behaviour).
#[derive(Module, Debug)]
pub enum Block {
    Linear(Linear),
    Conv(Conv2d),
    MaxPool(MaxPool2d),
    AvgPool(AvgPool2d),
    Norm(BatchNorm),
    Dropout(Dropout),
}

/// One step of the forward pass.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Step {
    Block(usize),
    Activation(Activation),
    Flatten,
    /// Structuring: the rule units join the features here.
    Join,
}

#[derive(Module, Debug)]
pub struct Net {
    blocks: Vec<Block>,
    #[module(skip)]
    plan: Vec<Step>,
    /// Structuring's logic units, over the leaf conditions at the end of the input.
    rules: Option<RuleLayer>,
    /// The input values that are features (the rest are leaf conditions for `rules`).
    #[module(skip)]
    features: usize,
    /// The cells it scores per input: 1, or a grid output's cells (each row of the logits is
    /// then one cell's).
    #[module(skip)]
    cells: usize,
    /// RECORDS: the momentum mean of the features the last linear layer reads, whose prior
    /// softmax(W·μ + b) debiases the network's logits; saved with the weights, never trained.
    feature_mean: Option<Param<Tensor<1>>>,
}

/// RECORDS' momentum: μ ← m·μ + (1 − m)·mean(features).
const RECORDS_MOMENTUM: f32 = 0.9;

/// The layers of a named architecture, as if written out.
pub fn expand(model: &Model) -> Vec<Layer> {
    let relu = Some(Activation::Relu);
    match model {
        Model::Layers(layers) => layers.iter().map(|l| l.value.clone()).collect(),
        Model::Architecture { name, hidden } => match name.value {
            Architecture::Lenet => vec![
                Layer::Conv2d { channels: 6, kernel: 5, stride: 1, padding: 0, activation: relu },
                Layer::MaxPool { size: 2, stride: None },
                Layer::Conv2d { channels: 16, kernel: 5, stride: 1, padding: 0, activation: relu },
                Layer::MaxPool { size: 2, stride: None },
                Layer::Flatten,
                Layer::Linear { input: None, units: Some(120), activation: relu, dropout: None },
                Layer::Linear { input: None, units: Some(84), activation: relu, dropout: None },
                Layer::Linear { input: None, units: None, activation: None, dropout: None },
            ],
            Architecture::Mlp => {
                let sizes: Vec<u32> =
                    if hidden.is_empty() { vec![100, 50] } else { hidden.iter().map(|h| h.value).collect() };
                let mut layers: Vec<Layer> = sizes
                    .iter()
                    .map(|&u| Layer::Linear { input: None, units: Some(u), activation: relu, dropout: None })
                    .collect();
                layers.push(Layer::Linear { input: None, units: None, activation: None, dropout: None });
                layers
            }
        },
    }
}

impl Net {
    /// Builds the network; its output has `classes` logits for each of `cells` cells (a trailing
    /// softmax is left to the loss).
    pub fn new(
        learnable: &str,
        layers: &[Layer],
        input: InputShape,
        classes: usize,
        cells: usize,
        device: &Device,
    ) -> Result<Net, ShapeError> {
        Net::build(learnable, layers, input, (classes, cells), None, 0, device)
    }

    /// Embedding: the network of [`Net::new`] over `input` values whose last `embedded` are the
    /// rules' truth values, which the spec's layers do not count (its first layer's `input`
    /// states the features alone).
    pub fn embedded(
        learnable: &str,
        layers: &[Layer],
        input: usize,
        classes: usize,
        embedded: usize,
        device: &Device,
    ) -> Result<Net, ShapeError> {
        Net::build(learnable, layers, InputShape::Vector(input), (classes, 1), None, embedded, device)
    }

    /// Structuring: the network of [`Net::new`] over the first `input − leaves` values, with the
    /// rule units over the last `leaves` values joining its first hidden layer and linked to its
    /// logits.
    pub fn structured(
        learnable: &str,
        layers: &[Layer],
        input: usize,
        classes: usize,
        rules: RuleLayer,
        leaves: usize,
        device: &Device,
    ) -> Result<Net, ShapeError> {
        Net::build(learnable, layers, InputShape::Vector(input - leaves), (classes, 1), Some(rules), 0, device)
    }

    fn build(
        learnable: &str,
        layers: &[Layer],
        input: InputShape,
        (classes, cells): (usize, usize),
        rules: Option<RuleLayer>,
        embedded: usize,
        device: &Device,
    ) -> Result<Net, ShapeError> {
        let scores = classes * cells;
        let features = match input {
            InputShape::Vector(n) => n,
            InputShape::Image { .. } => 0,
        };
        let mut join = rules.as_ref().map(RuleLayer::guards);
        let mut shape = input;
        // Values the first linear layer receives beyond those the spec describes.
        let mut joined = embedded;
        let mut blocks = Vec::new();
        let mut plan = Vec::new();
        let last_linear = layers.iter().rposition(|l| matches!(l, Layer::Linear { .. }));
        for (i, layer) in layers.iter().enumerate() {
            let fail = |reason: String| ShapeError {
                learnable: learnable.to_string(),
                layer: i + 1,
                kind: kind(layer).to_string(),
                reason,
            };
            let spatial = |shape: InputShape| match shape {
                InputShape::Image { channels, height, width } => Ok((channels, height, width)),
                InputShape::Vector(n) => Err(fail(format!("needs an image, but its input is a vector of {n} numbers"))),
            };
            let out = |size: usize, kernel: usize, stride: usize, pad: usize| {
                (size + 2 * pad).checked_sub(kernel).map(|d| d / stride + 1).filter(|&s| s > 0)
            };
            match layer {
                Layer::Conv2d { channels, kernel, stride, padding, activation } => {
                    let (c, h, w) = spatial(shape)?;
                    let (k, s, p) = (*kernel as usize, *stride as usize, *padding as usize);
                    let (Some(oh), Some(ow)) = (out(h, k, s, p), out(w, k, s, p)) else {
                        return Err(fail(format!("a {k}×{k} kernel does not fit a {h}×{w} input")));
                    };
                    let conv = Conv2dConfig::new([c, *channels as usize], [k, k])
                        .with_stride([s, s])
                        .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
                        .init(device);
                    plan.push(Step::Block(blocks.len()));
                    blocks.push(Block::Conv(conv));
                    plan.extend(activation.map(Step::Activation));
                    shape = InputShape::Image { channels: *channels as usize, height: oh, width: ow };
                }
                Layer::MaxPool { size, stride } | Layer::AvgPool { size, stride } => {
                    let (c, h, w) = spatial(shape)?;
                    let (k, s) = (*size as usize, stride.unwrap_or(*size) as usize);
                    let (Some(oh), Some(ow)) = (out(h, k, s, 0), out(w, k, s, 0)) else {
                        return Err(fail(format!("a {k}×{k} pool does not fit a {h}×{w} input")));
                    };
                    let block = if matches!(layer, Layer::MaxPool { .. }) {
                        Block::MaxPool(MaxPool2dConfig::new([k, k]).with_strides([s, s]).init())
                    } else {
                        Block::AvgPool(AvgPool2dConfig::new([k, k]).with_strides([s, s]).init())
                    };
                    plan.push(Step::Block(blocks.len()));
                    blocks.push(block);
                    shape = InputShape::Image { channels: c, height: oh, width: ow };
                }
                Layer::Flatten => {
                    if let InputShape::Image { channels, height, width } = shape {
                        plan.push(Step::Flatten);
                        shape = InputShape::Vector(channels * height * width);
                    }
                }
                Layer::Linear { input, units, activation, dropout } => {
                    if let InputShape::Image { channels, height, width } = shape {
                        plan.push(Step::Flatten);
                        shape = InputShape::Vector(channels * height * width);
                    }
                    let InputShape::Vector(n) = shape else { unreachable!("flattened above") };
                    // Structuring's units and embedding's rule values are not part of the network
                    // the spec describes.
                    let described = n - std::mem::take(&mut joined);
                    if let Some(stated) = input.filter(|&s| s as usize != described) {
                        return Err(fail(format!("its `input` says {stated}, but it receives {described} values")));
                    }
                    let size = match units {
                        Some(u) => *u as usize,
                        None if Some(i) == last_linear => scores,
                        None => return Err(fail("only the last linear layer may leave out `units`".into())),
                    };
                    if Some(i) == last_linear && size != scores {
                        return Err(fail(format!(
                            "the output layer has {size} units, but the output has {scores} values"
                        )));
                    }
                    if let Some(p) = dropout {
                        plan.push(Step::Block(blocks.len()));
                        blocks.push(Block::Dropout(DropoutConfig::new(*p).init()));
                    }
                    plan.push(Step::Block(blocks.len()));
                    blocks.push(Block::Linear(LinearConfig::new(n, size).init(device)));
                    // The loss takes logits: a softmax at the very end is the loss's business.
                    let is_output = Some(i) == last_linear;
                    plan.extend(activation.filter(|a| !(is_output && *a == Activation::Softmax)).map(Step::Activation));
                    shape = InputShape::Vector(size);
                    // The rule units join the first hidden layer's output.
                    if let Some(g) = join.take_if(|_| !is_output) {
                        plan.push(Step::Join);
                        shape = InputShape::Vector(size + g);
                        joined = g;
                    }
                }
                Layer::Dropout(p) => {
                    plan.push(Step::Block(blocks.len()));
                    blocks.push(Block::Dropout(DropoutConfig::new(*p).init()));
                }
                Layer::BatchNorm => {
                    let features = match shape {
                        InputShape::Image { channels, .. } => channels,
                        InputShape::Vector(n) => n,
                    };
                    plan.push(Step::Block(blocks.len()));
                    blocks.push(Block::Norm(BatchNormConfig::new(features).init(device)));
                }
                Layer::Activation(a) => plan.push(Step::Activation(*a)),
            }
        }
        // A grid's cells are scored by a last linear layer (cells × classes units) or by a
        // feature map of one channel per class over the grid.
        let grid_map = matches!(shape, InputShape::Image { channels, height, width }
            if cells > 1 && channels == classes && height * width == cells);
        if shape != InputShape::Vector(scores) && !grid_map {
            let wanted = if cells == 1 {
                format!("the {classes} class scores")
            } else {
                format!("the {classes} class scores of {cells} cells")
            };
            return Err(ShapeError {
                learnable: learnable.to_string(),
                layer: layers.len(),
                kind: "output".into(),
                reason: format!("the network ends with {shape:?}, not {wanted}"),
            });
        }
        Ok(Net { blocks, plan, rules, features, cells, feature_mean: None }.initialized())
    }

    /// The network with every parameter drawn now. burn draws a parameter at its first use;
    /// drawn here, initialisation depends on the seed alone, not on what else draws from the
    /// device's generator before training starts (the loop reseeds it every epoch).
    fn initialized(self) -> Net {
        struct Draw;
        impl ModuleVisitor for Draw {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                param.val();
            }
        }
        self.visit(&mut Draw);
        self
    }

    /// A SHA-256 of every parameter's values, in the network's order: networks with the same
    /// weights have the same checksum, whatever their parameters' ids.
    pub fn checksum(&self) -> String {
        struct Hash(Sha256);
        impl ModuleVisitor for Hash {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                for x in param.val().into_data().iter::<f32>() {
                    self.0.update(x.to_le_bytes());
                }
            }
        }
        let mut hash = Hash(Sha256::new());
        self.visit(&mut hash);
        hash.0.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Its layers with parameters, in the order it applies them.
    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    /// Structuring's rule units, if it has them.
    pub fn rules(&self) -> Option<&RuleLayer> {
        self.rules.as_ref()
    }

    /// The network with each block, and its rule units, replaced by what `block` and `rules` make
    /// of them (the same kinds and shapes: the plan is kept).
    pub fn map_blocks(self, block: impl FnMut(Block) -> Block, rules: impl FnOnce(RuleLayer) -> RuleLayer) -> Net {
        Net { blocks: self.blocks.into_iter().map(block).collect(), rules: self.rules.map(rules), ..self }
    }

    /// The network with RECORDS' feature mean, from zero (`check` lets only networks that end
    /// in a linear layer have one).
    pub fn with_records(self, device: &Device) -> Net {
        let width = self.last_linear().map_or(0, |l| l.weight.dims()[0]);
        let mean = Param::from_tensor(Tensor::zeros([width], device)).set_require_grad(false);
        Net { feature_mean: Some(mean), ..self }
    }

    fn last_linear(&self) -> Option<&Linear> {
        self.blocks.iter().rev().find_map(|b| match b {
            Block::Linear(l) => Some(l),
            _ => None,
        })
    }

    /// The network with RECORDS' feature mean moved towards the mean of a batch's `features`.
    pub fn track(self, features: Tensor<2>) -> Net {
        let Some(mean) = self.feature_mean else { return self };
        let batch = features.detach().mean_dim(0).squeeze::<1>();
        let moved = mean.map(|m| m * RECORDS_MOMENTUM + batch * (1.0 - RECORDS_MOMENTUM));
        Net { feature_mean: Some(moved.set_require_grad(false)), ..self }
    }

    /// `logits` less RECORDS' log-prior log softmax(W·μ + b), a constant to the gradients; the
    /// logits themselves without a feature mean.
    pub fn debias(&self, logits: Tensor<2>) -> Tensor<2> {
        let (Some(mean), Some(last)) = (&self.feature_mean, self.last_linear()) else { return logits };
        let [width] = mean.dims();
        let prior = last.forward(mean.val().reshape([1, width]));
        logits - activation::log_softmax(prior, 1).detach()
    }

    /// Class logits for a batch of images `[batch, c, h, w]` or vectors `[batch, n]` (as rank 4),
    /// as predictions read them (debiased by RECORDS' prior where the network has one).
    pub fn forward(&self, input: Tensor<4>) -> Tensor<2> {
        let (logits, _) = self.forward_parts(input);
        self.debias(logits)
    }

    /// The logits before any debiasing and, for RECORDS, the features the last linear layer read.
    pub fn forward_parts(&self, input: Tensor<4>) -> (Tensor<2>, Option<Tensor<2>>) {
        let last =
            self.blocks.iter().rposition(|b| matches!(b, Block::Linear(_))).filter(|_| self.feature_mean.is_some());
        let mut features = None;
        let (input, rules) = match &self.rules {
            None => (input, None),
            Some(r) => {
                let [b, n, _, _] = input.dims();
                let x = input.reshape([b, n]);
                let (guards, links) = r.forward(x.clone().narrow(1, self.features, n - self.features));
                (x.narrow(1, 0, self.features).reshape([b, self.features, 1, 1]), Some((guards, links)))
            }
        };
        let mut x4 = Some(input);
        let mut x2: Option<Tensor<2>> = None;
        for step in &self.plan {
            match *step {
                Step::Join => {
                    if let (Some(x), Some((guards, _))) = (x2.take(), &rules) {
                        x2 = Some(Tensor::cat(vec![x, guards.clone()], 1));
                    }
                }
                Step::Flatten => {
                    if let Some(x) = x4.take() {
                        x2 = Some(x.flatten(1, 3));
                    }
                }
                Step::Activation(a) => {
                    if let Some(x) = x4.take() {
                        x4 = Some(apply(a, x));
                    } else if let Some(x) = x2.take() {
                        x2 = Some(apply(a, x));
                    }
                }
                Step::Block(b) => match (&self.blocks[b], x4.take(), x2.take()) {
                    (Block::Linear(l), x4_in, x2_in) if Some(b) == last => {
                        let x = x2_in.or(x4_in.map(|x| x.flatten(1, 3))).expect("the forward pass holds a value");
                        features = Some(x.clone());
                        x2 = Some(l.forward(x));
                    }
                    (Block::Conv(c), Some(x), _) => x4 = Some(crate::ops::conv2d(c, x)),
                    (Block::MaxPool(p), Some(x), _) => x4 = Some(crate::ops::max_pool2d(p, x)),
                    (Block::AvgPool(p), Some(x), _) => x4 = Some(p.forward(x)),
                    (Block::Norm(n), Some(x), _) => x4 = Some(n.forward(x)),
                    (Block::Dropout(d), Some(x), _) => x4 = Some(d.forward(x)),
                    (Block::Linear(l), Some(x), _) => x2 = Some(l.forward(x.flatten(1, 3))),
                    (Block::Linear(l), None, Some(x)) => x2 = Some(l.forward(x)),
                    (Block::Norm(n), None, Some(x)) => x2 = Some(n.forward(x)),
                    (Block::Dropout(d), None, Some(x)) => x2 = Some(d.forward(x)),
                    (_, a, b) => {
                        x4 = a;
                        x2 = b;
                    }
                },
            }
        }
        let logits = match (x2, x4) {
            (Some(x), _) if self.cells > 1 => {
                let [b, n] = x.dims();
                x.reshape([b * self.cells, n / self.cells])
            }
            (Some(x), _) => x,
            // A map of class channels over the grid: one row of scores per cell, row-major.
            (None, Some(x)) if self.cells > 1 => {
                let [b, c, h, w] = x.dims();
                x.permute([0, 2, 3, 1]).reshape([b * h * w, c])
            }
            (None, Some(x)) => x.flatten(1, 3),
            (None, None) => unreachable!("the forward pass always holds a value"),
        };
        let logits = match rules {
            Some((_, links)) => logits + links,
            None => logits,
        };
        (logits, features)
    }
}

/// An activation; dimension 1 holds the channels or the features, so softmax runs over it.
fn apply<const D: usize>(a: Activation, x: Tensor<D>) -> Tensor<D> {
    match a {
        Activation::Relu => activation::relu(x),
        Activation::LeakyRelu => activation::leaky_relu(x, 0.01),
        Activation::Sigmoid => activation::sigmoid(x),
        Activation::Tanh => activation::tanh(x),
        Activation::Softmax => activation::softmax(x, 1),
    }
}

fn kind(layer: &Layer) -> &'static str {
    match layer {
        Layer::Linear { .. } => "linear",
        Layer::Conv2d { .. } => "conv2d",
        Layer::MaxPool { .. } => "maxpool",
        Layer::AvgPool { .. } => "avgpool",
        Layer::Dropout(_) => "dropout",
        Layer::BatchNorm => "batchnorm",
        Layer::Flatten => "flatten",
        Layer::Activation(_) => "activation",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::optim::{AdamConfig, GradientsParams};
    use burn::tensor::TensorData;

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().iter::<f32>().collect()
    }

    #[test]
    fn records_tracks_the_feature_mean_and_debiases_by_the_last_layers_prior() {
        let device = crate::device(3);
        let relu = Some(Activation::Relu);
        let layers = [
            Layer::Linear { input: None, units: Some(6), activation: relu, dropout: None },
            Layer::Linear { input: None, units: None, activation: None, dropout: None },
        ];
        let net = Net::new("n", &layers, InputShape::Vector(5), 4, 1, &device).unwrap().with_records(&device);
        let x: Vec<f32> = (0..15).map(|i| (i as f32 * 0.37).sin()).collect();
        let input = || Tensor::<4>::from_data(TensorData::new(x.clone(), [3, 5, 1, 1]), &device);
        let (raw, features) = net.forward_parts(input());
        let features = features.expect("a tracking network gives the last layer's features");
        assert_eq!(features.dims(), [3, 6]);
        let batch_mean = values(features.clone().mean_dim(0));
        let net = net.track(features);
        let mean = values(net.feature_mean.as_ref().unwrap().val());
        for (m, b) in mean.iter().zip(&batch_mean) {
            assert!((m - 0.1 * b).abs() < 1e-6, "μ starts at 0: 0.9·0 + 0.1·mean");
        }
        // The prior by hand: softmax(W·μ + b) of the last linear layer.
        let last = net.last_linear().unwrap();
        let (w, b) = (values(last.weight.val()), values(last.bias.as_ref().unwrap().val()));
        let scores: Vec<f32> = (0..4).map(|k| b[k] + (0..6).map(|i| mean[i] * w[i * 4 + k]).sum::<f32>()).collect();
        let log_z = scores.iter().map(|s| s.exp()).sum::<f32>().ln();
        let debiased = values(net.forward(input()));
        for (i, (d, r)) in debiased.iter().zip(values(raw)).enumerate() {
            assert!((d - (r - (scores[i % 4] - log_z))).abs() < 1e-5, "row {}, class {}", i / 4, i % 4);
        }
        // The optimiser trains the weights, never the mean.
        let loss = net.forward(input()).powf_scalar(2.0).sum();
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        let stepped = AdamConfig::new().init().step(0.1, net.clone(), grads);
        assert_eq!(values(stepped.feature_mean.as_ref().unwrap().val()), mean);
        assert_ne!(values(stepped.last_linear().unwrap().weight.val()), w);
    }
}
