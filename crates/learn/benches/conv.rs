//! The convolution passes of a training step, ours against burn-flex's, on LeNet's two layers:
//! milliseconds per batch (median of repeats) for the forward pass, the weight gradient and the
//! input gradient, at batch 64 and 256, on every instruction-set level this CPU has.
//!
//! Run: `cargo bench -p skilang-learn --bench conv`

use burn::backend::ops::ModuleOps;
use burn::backend::Flex;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Distribution, IntDType, Tensor, TensorData};
use skilang_learn::ops::conv::{self as kernels, Geometry, Simd};
use skilang_learn::ops::pool::{self, Pooling};
use std::time::Instant;

/// LeNet's layers: (channels, input side, out channels, kernel).
const LAYERS: [(usize, usize, usize, usize); 2] = [(1, 28, 6, 5), (6, 12, 16, 5)];

fn median_ms(mut f: impl FnMut()) -> f64 {
    f();
    let mut times: Vec<f64> = (0..15)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn random(shape: [usize; 4]) -> Vec<f32> {
    let t = Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), &burn::tensor::Device::flex());
    t.into_data().iter::<f32>().collect()
}

fn flex(values: &[f32], shape: [usize; 4]) -> burn::backend::flex::FlexTensor {
    burn::backend::flex::FlexTensor::from_data(TensorData::new(values.to_vec(), shape))
}

fn main() {
    println!("{:>5} {:>6} {:>10} {:>10} {:>10} {:>10}", "batch", "layer", "pass", "flex ms", "ours ms", "level");
    for batch in [64, 256] {
        for (layer, &(c, side, o, k)) in LAYERS.iter().enumerate() {
            let out = side - k + 1;
            let g = Geometry {
                batch,
                channels: c,
                input: [side, side],
                out_channels: o,
                kernel: [k, k],
                stride: [1, 1],
                padding: [0, 0],
                dilation: [1, 1],
                out: [out, out],
            };
            let (x_shape, w_shape, y_shape) = ([batch, c, side, side], [o, c, k, k], [batch, o, out, out]);
            let (x, w, dy, b) = (random(x_shape), random(w_shape), random(y_shape), vec![0.1f32; o]);
            let options = ConvOptions::new([1, 1], [0, 0], [1, 1], 1);
            let bias = || burn::backend::flex::FlexTensor::from_data(TensorData::new(b.clone(), [o]));
            let theirs = [
                median_ms(|| {
                    Flex::conv2d(flex(&x, x_shape), flex(&w, w_shape), Some(bias()), options.clone());
                }),
                median_ms(|| {
                    Flex::conv2d_weight_backward(
                        flex(&x, x_shape),
                        flex(&w, w_shape),
                        flex(&dy, y_shape),
                        options.clone(),
                    );
                }),
                median_ms(|| {
                    Flex::conv2d_x_backward(flex(&x, x_shape), flex(&w, w_shape), flex(&dy, y_shape), options.clone());
                }),
            ];
            for simd in Simd::available() {
                let ours = [
                    median_ms(|| drop(kernels::forward(simd, &g, &x, &w, &b))),
                    median_ms(|| drop(kernels::weight_grad(simd, &g, &x, &dy))),
                    median_ms(|| drop(kernels::input_grad(simd, &g, &w, &dy))),
                ];
                for (pass, (t, u)) in ["forward", "weight", "input"].iter().zip(theirs.iter().zip(ours)) {
                    println!("{batch:>5} {:>6} {pass:>10} {t:>10.3} {u:>10.3} {:>10}", layer + 1, simd.name());
                }
            }
            // The 2×2 max pooling after the layer's convolution.
            let p = Pooling { planes: batch * o, input: [out, out], kernel: [2, 2], stride: [2, 2] };
            let [ph, pw] = p.out().expect("fits");
            let (y, dp) = (random(y_shape), random([batch, o, ph, pw]));
            let theirs = [
                median_ms(|| {
                    Flex::max_pool2d(flex(&y, y_shape), [2, 2], [2, 2], [0, 0], [1, 1], false);
                }),
                median_ms(|| {
                    let i = Flex::max_pool2d_with_indices(
                        flex(&y, y_shape),
                        [2, 2],
                        [2, 2],
                        [0, 0],
                        [1, 1],
                        false,
                        IntDType::I64,
                    );
                    Flex::max_pool2d_with_indices_backward(
                        flex(&y, y_shape),
                        [2, 2],
                        [2, 2],
                        [0, 0],
                        [1, 1],
                        false,
                        flex(&dp, [batch, o, ph, pw]),
                        i.indices,
                    );
                }),
            ];
            let ours =
                [median_ms(|| drop(pool::max_forward(&p, &y))), median_ms(|| drop(pool::max_backward(&p, &y, &dp)))];
            for (pass, (t, u)) in ["pool", "pool grad"].iter().zip(theirs.iter().zip(ours)) {
                println!("{batch:>5} {:>6} {pass:>10} {t:>10.3} {u:>10.3} {:>10}", layer + 1, "plain");
            }
        }
    }
}
