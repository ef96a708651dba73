//! The networks' 2-D convolution and max pooling, computed by our own code on the CPU.
//!
//! burn-flex has no convolution backward pass of its own: burn's generic one computes the weight
//! gradient as a convolution over swapped batch and channel axes, which for the shapes of this
//! field (one to sixteen channels, batches of tens of images) runs on one thread through strided
//! copies and a batch-sized patch matrix; and its pooling works out each window's bounds per
//! output value, and its bias gradient copies the output gradient transposed before summing it.
//! [`TrainOps`] is a burn backend extension: on Flex its passes are [`conv`]'s and
//! [`pool`]'s; on any other backend, burn's own.

pub mod conv;
pub mod pool;

use burn::backend::autodiff::checkpoint::{base::Checkpointer, strategy::CheckpointStrategy};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::{Autodiff, NodeId};
use burn::backend::flex::FlexTensor;
use burn::backend::ops::ModuleOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Backend, Dispatch, Flex, TensorMetadata};
use burn::nn::conv::Conv2d;
use burn::nn::pool::MaxPool2d;
use burn::nn::PaddingConfig2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{DType, IntDType, Shape, Tensor, TensorData};
use conv::{Geometry, Simd};
use pool::Pooling;

/// A convolution and a max pooling whose passes the backend may provide.
#[backend_extension(Autodiff, Flex)]
pub trait TrainOps: Backend {
    fn train_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        Self::conv2d(x, weight, Some(bias), options)
    }

    fn train_conv2d_weight_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        Self::conv2d_weight_backward(x, weight, grad, options)
    }

    fn train_conv2d_input_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        Self::conv2d_x_backward(x, weight, grad, options)
    }

    fn train_conv2d_bias_grad(
        x: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        Self::conv2d_bias_backward(x, bias, grad)
    }

    fn train_max_pool2d(x: FloatTensor<Self>, kernel: [usize; 2], stride: [usize; 2]) -> FloatTensor<Self> {
        Self::max_pool2d(x, kernel, stride, [0, 0], [1, 1], false)
    }

    fn train_max_pool2d_backward(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        kernel: [usize; 2],
        stride: [usize; 2],
    ) -> FloatTensor<Self> {
        burn_max_pool2d_backward::<Self>(x, grad, kernel, stride)
    }
}

/// burn's own max-pooling gradient, through the indices of each window's maximum.
fn burn_max_pool2d_backward<B: Backend>(
    x: FloatTensor<B>,
    grad: FloatTensor<B>,
    kernel: [usize; 2],
    stride: [usize; 2],
) -> FloatTensor<B> {
    let indices = B::max_pool2d_with_indices(x.clone(), kernel, stride, [0, 0], [1, 1], false, IntDType::I64);
    B::max_pool2d_with_indices_backward(x, kernel, stride, [0, 0], [1, 1], false, grad, indices.indices).x_grad
}

/// `conv` applied to `x`, as `conv.forward(x)` computes it.
pub fn conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    // The networks' convolutions have a bias and explicit padding; burn's own takes the rest.
    let (Some(bias), PaddingConfig2d::Explicit(top, left, bottom, right)) = (&conv.bias, &conv.padding) else {
        return conv.forward(x);
    };
    let options =
        ConvOptions::new_with_padding(conv.stride, [(*top, *bottom), (*left, *right)], conv.dilation, conv.groups);
    Tensor::from_dispatch(Dispatch::train_conv2d(
        x.into_dispatch(),
        conv.weight.val().into_dispatch(),
        bias.val().into_dispatch(),
        options,
    ))
}

/// `pool` applied to `x`, as `pool.forward(x)` computes it.
pub fn max_pool2d(pool: &MaxPool2d, x: Tensor<4>) -> Tensor<4> {
    // The networks' pooling has no padding, dilation or ceiling; burn's own takes the rest.
    if pool.padding != PaddingConfig2d::Valid || pool.dilation != [1, 1] || pool.ceil_mode {
        return pool.forward(x);
    }
    Tensor::from_dispatch(Dispatch::train_max_pool2d(x.into_dispatch(), pool.kernel_size, pool.stride))
}

/// The shapes of a convolution of `x` by `weight`, when [`conv`] can compute it (`f32`, one
/// group).
fn geometry(x: &FlexTensor, weight: &FlexTensor, options: &ConvOptions<2>) -> Option<Geometry> {
    let [batch, channels, h, w] = x.shape().dims();
    let [out_channels, weight_channels, kh, kw] = weight.shape().dims();
    if x.dtype() != DType::F32 || weight.dtype() != DType::F32 || options.groups != 1 || weight_channels != channels {
        return None;
    }
    let out = |axis: usize, input: usize, kernel: usize| {
        Geometry::out_size(input, kernel, options.stride[axis], options.padding[axis], options.dilation[axis])
    };
    Some(Geometry {
        batch,
        channels,
        input: [h, w],
        out_channels,
        kernel: [kh, kw],
        stride: options.stride,
        padding: options.padding_begin(),
        dilation: options.dilation,
        out: [out(0, h, kh)?, out(1, w, kw)?],
    })
}

fn values(t: &FlexTensor) -> std::borrow::Cow<'_, [f32]> {
    match t.as_slice::<f32>() {
        Some(s) => s.into(),
        None => t.to_contiguous().as_slice::<f32>().expect("contiguous f32").to_vec().into(),
    }
}

fn tensor(values: Vec<f32>, shape: Shape) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

impl TrainOps for Flex {
    fn train_conv2d(x: FlexTensor, weight: FlexTensor, bias: FlexTensor, options: ConvOptions<2>) -> FlexTensor {
        let Some(g) = geometry(&x, &weight, &options) else {
            return Self::conv2d(x, weight, Some(bias), options);
        };
        let y = conv::forward(Simd::best(), &g, &values(&x), &values(&weight), &values(&bias));
        tensor(y, Shape::new([g.batch, g.out_channels, g.out[0], g.out[1]]))
    }

    fn train_conv2d_weight_grad(
        x: FlexTensor,
        weight: FlexTensor,
        grad: FlexTensor,
        options: ConvOptions<2>,
    ) -> FlexTensor {
        let Some(g) = geometry(&x, &weight, &options) else {
            return Self::conv2d_weight_backward(x, weight, grad, options);
        };
        tensor(conv::weight_grad(Simd::best(), &g, &values(&x), &values(&grad)), weight.shape())
    }

    fn train_conv2d_input_grad(
        x: FlexTensor,
        weight: FlexTensor,
        grad: FlexTensor,
        options: ConvOptions<2>,
    ) -> FlexTensor {
        let Some(g) = geometry(&x, &weight, &options) else {
            return Self::conv2d_x_backward(x, weight, grad, options);
        };
        tensor(conv::input_grad(Simd::best(), &g, &values(&weight), &values(&grad)), x.shape())
    }

    /// The output gradient summed per channel (burn's generic pass first copies it transposed).
    fn train_conv2d_bias_grad(x: FlexTensor, bias: FlexTensor, grad: FlexTensor) -> FlexTensor {
        if grad.dtype() != DType::F32 {
            return Self::conv2d_bias_backward(x, bias, grad);
        }
        let [_, channels, h, w] = grad.shape().dims();
        let mut sums = vec![0.0f32; channels];
        for (k, plane) in values(&grad).chunks_exact(h * w).enumerate() {
            sums[k % channels] += plane.iter().sum::<f32>();
        }
        tensor(sums, bias.shape())
    }

    fn train_max_pool2d(x: FlexTensor, kernel: [usize; 2], stride: [usize; 2]) -> FlexTensor {
        let Some(p) = pooling(&x, kernel, stride) else {
            return Self::max_pool2d(x, kernel, stride, [0, 0], [1, 1], false);
        };
        let [batch, channels, _, _] = x.shape().dims();
        let [oh, ow] = p.out().expect("checked by `pooling`");
        tensor(pool::max_forward(&p, &values(&x)), Shape::new([batch, channels, oh, ow]))
    }

    fn train_max_pool2d_backward(
        x: FlexTensor,
        grad: FlexTensor,
        kernel: [usize; 2],
        stride: [usize; 2],
    ) -> FlexTensor {
        let Some(p) = pooling(&x, kernel, stride) else {
            return burn_max_pool2d_backward::<Self>(x, grad, kernel, stride);
        };
        tensor(pool::max_backward(&p, &values(&x), &values(&grad)), x.shape())
    }
}

/// The pooling of `x`, when [`pool`] can compute it (`f32`, a window that fits).
fn pooling(x: &FlexTensor, kernel: [usize; 2], stride: [usize; 2]) -> Option<Pooling> {
    let [batch, channels, h, w] = x.shape().dims();
    let p = Pooling { planes: batch * channels, input: [h, w], kernel, stride };
    (x.dtype() == DType::F32 && p.out().is_some()).then_some(p)
}

/// The backward step of [`TrainOps::train_conv2d`] under autodiff.
#[derive(Debug)]
struct ConvBackward;

impl<B: TrainOps> Backward<B, 3> for ConvBackward {
    type State = (NodeId, NodeId, NodeId, ConvOptions<2>);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_x, node_weight, node_bias] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x, weight, bias, options) = ops.state;
        let x: FloatTensor<B> = checkpointer.retrieve_node_output(x);
        let weight: FloatTensor<B> = checkpointer.retrieve_node_output(weight);
        let bias: FloatTensor<B> = checkpointer.retrieve_node_output(bias);
        // The network's first layer reads data, which is not tracked: no input gradient there.
        if let Some(node) = node_x {
            let dx = B::train_conv2d_input_grad(x.clone(), weight.clone(), grad.clone(), options.clone());
            grads.register::<B>(node.id, dx);
        }
        if let Some(node) = node_weight {
            let dw = B::train_conv2d_weight_grad(x.clone(), weight, grad.clone(), options);
            grads.register::<B>(node.id, dw);
        }
        if let Some(node) = node_bias {
            grads.register::<B>(node.id, B::train_conv2d_bias_grad(x, bias, grad));
        }
    }
}

/// The backward step of [`TrainOps::train_max_pool2d`] under autodiff.
#[derive(Debug)]
struct PoolBackward;

impl<B: TrainOps> Backward<B, 1> for PoolBackward {
    type State = (NodeId, [usize; 2], [usize; 2]);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_x] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x, kernel, stride) = ops.state;
        if let Some(node) = node_x {
            let x: FloatTensor<B> = checkpointer.retrieve_node_output(x);
            grads.register::<B>(node.id, B::train_max_pool2d_backward(x, grad, kernel, stride));
        }
    }
}

impl<B: TrainOps, C: CheckpointStrategy> TrainOps for Autodiff<B, C> {
    fn train_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        match ConvBackward.prepare::<C>([x.node(), weight.node(), bias.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let state = (prep.checkpoint(&x), prep.checkpoint(&weight), prep.checkpoint(&bias), options.clone());
                prep.finish(
                    state,
                    B::train_conv2d(x.into_primitive(), weight.into_primitive(), bias.into_primitive(), options),
                )
            }
            OpsKind::UnTracked(prep) => prep.finish(B::train_conv2d(
                x.into_primitive(),
                weight.into_primitive(),
                bias.into_primitive(),
                options,
            )),
        }
    }

    fn train_max_pool2d(x: FloatTensor<Self>, kernel: [usize; 2], stride: [usize; 2]) -> FloatTensor<Self> {
        match PoolBackward.prepare::<C>([x.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let state = (prep.checkpoint(&x), kernel, stride);
                prep.finish(state, B::train_max_pool2d(x.into_primitive(), kernel, stride))
            }
            OpsKind::UnTracked(prep) => prep.finish(B::train_max_pool2d(x.into_primitive(), kernel, stride)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;
    use skilang_lang::rng::Rng;

    fn random(rng: &mut Rng, n: usize) -> Vec<f32> {
        (0..n).map(|_| rng.unit() as f32 * 2.0 - 1.0).collect()
    }

    fn flex(values: &[f32], shape: [usize; 4]) -> FlexTensor {
        tensor(values.to_vec(), Shape::new(shape))
    }

    fn assert_close(ours: &[f32], theirs: FlexTensor, what: &str) {
        let theirs: Vec<f32> = theirs.into_data().iter::<f32>().collect();
        assert_eq!(ours.len(), theirs.len(), "{what}: length");
        let scale = theirs.iter().fold(1e-3f32, |m, v| m.max(v.abs()));
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert!((a - b).abs() <= 1e-4 * scale, "{what}: element {i}, ours {a}, burn's {b}");
        }
    }

    /// A random convolution: batch 1–70, channels 1–20, kernels 1–7, stride 1–2, padding 0–3,
    /// inputs 5–40 pixels (kept small enough together for a quick test).
    fn random_geometry(rng: &mut Rng) -> Option<(Geometry, ConvOptions<2>)> {
        let batch = 1 + rng.below(70);
        let (channels, out_channels) = (1 + rng.below(20), 1 + rng.below(20));
        let side = 5 + rng.below(36);
        let kernel = [1 + rng.below(7), 1 + rng.below(7)];
        let stride = [1 + rng.below(2), 1 + rng.below(2)];
        let padding = [rng.below(4), rng.below(4)];
        let input = [side, 5 + rng.below(36)];
        if batch * channels * input[0] * input[1] > 400_000 {
            return None;
        }
        let options = ConvOptions::new(stride, padding, [1, 1], 1);
        let out = [0, 1].map(|a| Geometry::out_size(input[a], kernel[a], stride[a], (padding[a], padding[a]), 1));
        let out = [out[0]?, out[1]?];
        let g = Geometry { batch, channels, input, out_channels, kernel, stride, padding, dilation: [1, 1], out };
        Some((g, options))
    }

    #[test]
    fn convolution_and_its_gradients_equal_burns_on_every_instruction_set() {
        let mut rng = Rng::new(7);
        let mut tried = 0;
        while tried < 24 {
            let Some((g, options)) = random_geometry(&mut rng) else { continue };
            tried += 1;
            let x_shape = [g.batch, g.channels, g.input[0], g.input[1]];
            let w_shape = [g.out_channels, g.channels, g.kernel[0], g.kernel[1]];
            let y_shape = [g.batch, g.out_channels, g.out[0], g.out[1]];
            let (x, w) = (random(&mut rng, g.input_len()), random(&mut rng, g.weight_len()));
            let (b, dy) = (random(&mut rng, g.out_channels), random(&mut rng, g.output_len()));
            let bias = tensor(b.clone(), Shape::new([g.out_channels]));
            let y = Flex::conv2d(flex(&x, x_shape), flex(&w, w_shape), Some(bias), options.clone());
            let dw =
                Flex::conv2d_weight_backward(flex(&x, x_shape), flex(&w, w_shape), flex(&dy, y_shape), options.clone());
            let dx = Flex::conv2d_x_backward(flex(&x, x_shape), flex(&w, w_shape), flex(&dy, y_shape), options.clone());
            for simd in Simd::available() {
                let what = |pass: &str| format!("{pass}, {g:?}, {}", simd.name());
                assert_close(&conv::forward(simd, &g, &x, &w, &b), y.clone(), &what("forward"));
                assert_close(&conv::weight_grad(simd, &g, &x, &dy), dw.clone(), &what("weight gradient"));
                assert_close(&conv::input_grad(simd, &g, &w, &dy), dx.clone(), &what("input gradient"));
            }
        }
    }

    #[test]
    fn max_pooling_and_its_gradient_equal_burns() {
        let mut rng = Rng::new(11);
        for _ in 0..30 {
            let (batch, channels) = (1 + rng.below(8), 1 + rng.below(6));
            let input = [2 + rng.below(20), 2 + rng.below(20)];
            let kernel = [1 + rng.below(3), 1 + rng.below(3)];
            let stride = [1 + rng.below(3), 1 + rng.below(3)];
            let p = Pooling { planes: batch * channels, input, kernel, stride };
            let Some([oh, ow]) = p.out() else { continue };
            let shape = [batch, channels, input[0], input[1]];
            // Few distinct values, so that windows have ties: the first maximum takes the gradient.
            let x: Vec<f32> = (0..p.planes * input[0] * input[1]).map(|_| rng.below(4) as f32).collect();
            let dy = random(&mut rng, p.planes * oh * ow);
            let theirs =
                Flex::max_pool2d_with_indices(flex(&x, shape), kernel, stride, [0, 0], [1, 1], false, IntDType::I64);
            assert_close(&pool::max_forward(&p, &x), theirs.output, &format!("pooling, {p:?}"));
            let dx = Flex::max_pool2d_with_indices_backward(
                flex(&x, shape),
                kernel,
                stride,
                [0, 0],
                [1, 1],
                false,
                flex(&dy, [batch, channels, oh, ow]),
                theirs.indices,
            );
            assert_close(&pool::max_backward(&p, &x, &dy), dx.x_grad, &format!("pooling gradient, {p:?}"));
        }
    }

    /// Through autodiff, a small network's parameter gradients equal those of burn's own layers.
    #[test]
    fn network_gradients_equal_burns_own_layers() {
        use burn::nn::conv::Conv2dConfig;
        use burn::nn::pool::MaxPool2dConfig;
        let device = Device::flex().autodiff();
        let conv = Conv2dConfig::new([3, 5], [3, 3]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)).init(&device);
        let second = Conv2dConfig::new([5, 4], [2, 2]).with_stride([2, 1]).init(&device);
        let pool = MaxPool2dConfig::new([2, 2]).init();
        let x = Tensor::<4>::random([6, 3, 11, 9], burn::tensor::Distribution::Default, &device).require_grad();
        let ours = max_pool2d(&pool, conv2d(&second, max_pool2d(&pool, conv2d(&conv, x.clone()))));
        let theirs = pool.forward(second.forward(pool.forward(conv.forward(x.clone()))));
        let weights = Tensor::<4>::random(ours.dims(), burn::tensor::Distribution::Default, &device);
        let ours = (ours * weights.clone()).sum().backward();
        let theirs = (theirs * weights).sum().backward();
        let bias = |c: &Conv2d| c.bias.as_ref().expect("a bias").val();
        let pairs = [
            ("input", x.grad(&ours), x.grad(&theirs)),
            ("first weight", conv.weight.val().grad(&ours), conv.weight.val().grad(&theirs)),
            ("second weight", second.weight.val().grad(&ours), second.weight.val().grad(&theirs)),
        ]
        .map(|(name, a, b)| (name, a.expect("a gradient").into_data(), b.expect("a gradient").into_data()));
        let biases = [("first bias", &conv), ("second bias", &second)].map(|(name, c)| {
            (
                name,
                bias(c).grad(&ours).expect("a gradient").into_data(),
                bias(c).grad(&theirs).expect("a gradient").into_data(),
            )
        });
        for (name, a, b) in pairs.into_iter().chain(biases) {
            let (a, b): (Vec<f32>, Vec<f32>) = (a.iter::<f32>().collect(), b.iter::<f32>().collect());
            let scale = b.iter().fold(1e-3f32, |m, v| m.max(v.abs()));
            assert!(a.iter().zip(&b).all(|(a, b)| (a - b).abs() <= 1e-4 * scale), "{name}: {a:?} vs {b:?}");
        }
    }
}
