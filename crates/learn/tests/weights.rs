//! Weights as safetensors: the file holds PyTorch's names and layouts, which a forward pass
//! written from scratch here (plain loops, no burn) reads to the same logits as the network; a
//! file loaded into a network of the declared layers gives the same network back, and a file that
//! does not fit them is refused, naming the tensor.

use burn::prelude::*;
use skilang_lang::spec::{Activation, Layer};
use skilang_learn::input::InputShape;
use skilang_learn::model::Net;
use skilang_learn::weights::{self, Tensors};

fn layers() -> Vec<Layer> {
    vec![
        Layer::Conv2d { channels: 3, kernel: 3, stride: 1, padding: 1, activation: Some(Activation::Relu) },
        Layer::MaxPool { size: 2, stride: None },
        Layer::Conv2d { channels: 4, kernel: 2, stride: 2, padding: 0, activation: Some(Activation::Tanh) },
        Layer::Flatten,
        Layer::Linear { input: None, units: Some(5), activation: Some(Activation::Relu), dropout: None },
        Layer::Linear { input: None, units: None, activation: None, dropout: None },
    ]
}

const IMAGE: InputShape = InputShape::Image { channels: 2, height: 8, width: 8 };

/// `[c, h, w]` → `[out, h', w']`: a convolution as PyTorch defines it, from the file's tensors.
fn conv(
    x: &[f32],
    (c, h, w): (usize, usize, usize),
    t: &Tensors,
    name: &str,
    stride: usize,
    pad: usize,
) -> (Vec<f32>, (usize, usize, usize)) {
    let (shape, k) = &t[&format!("{name}.weight")];
    let (o, kc, kh, kw) = (shape[0], shape[1], shape[2], shape[3]);
    assert_eq!(kc, c);
    let bias = &t[&format!("{name}.bias")].1;
    let (oh, ow) = ((h + 2 * pad - kh) / stride + 1, (w + 2 * pad - kw) / stride + 1);
    let mut y = vec![0.0f32; o * oh * ow];
    for oc in 0..o {
        for i in 0..oh {
            for j in 0..ow {
                let mut s = bias[oc];
                for ic in 0..c {
                    for a in 0..kh {
                        for b in 0..kw {
                            let (r, q) =
                                ((i * stride + a) as isize - pad as isize, (j * stride + b) as isize - pad as isize);
                            if r >= 0 && q >= 0 && (r as usize) < h && (q as usize) < w {
                                s += k[((oc * c + ic) * kh + a) * kw + b] * x[(ic * h + r as usize) * w + q as usize];
                            }
                        }
                    }
                }
                y[(oc * oh + i) * ow + j] = s;
            }
        }
    }
    (y, (o, oh, ow))
}

fn maxpool(x: &[f32], (c, h, w): (usize, usize, usize)) -> (Vec<f32>, (usize, usize, usize)) {
    let (oh, ow) = (h / 2, w / 2);
    let mut y = vec![f32::NEG_INFINITY; c * oh * ow];
    for ch in 0..c {
        for i in 0..oh {
            for j in 0..ow {
                for (a, b) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                    let v = x[(ch * h + 2 * i + a) * w + 2 * j + b];
                    let cell = &mut y[(ch * oh + i) * ow + j];
                    *cell = cell.max(v);
                }
            }
        }
    }
    (y, (c, oh, ow))
}

/// `y = W x + b` with PyTorch's `[outputs, inputs]` weight.
fn linear(x: &[f32], t: &Tensors, name: &str) -> Vec<f32> {
    let (shape, w) = &t[&format!("{name}.weight")];
    assert_eq!(shape[1], x.len(), "{name}: PyTorch's layout is [outputs, inputs]");
    let b = &t[&format!("{name}.bias")].1;
    (0..shape[0]).map(|o| b[o] + (0..shape[1]).map(|i| w[o * shape[1] + i] * x[i]).sum::<f32>()).collect()
}

fn reference(image: &[f32], t: &Tensors) -> Vec<f32> {
    let (x, s) = conv(image, (2, 8, 8), t, "c1", 1, 1);
    let x: Vec<f32> = x.into_iter().map(|v| v.max(0.0)).collect();
    let (x, s) = maxpool(&x, s);
    let (x, _) = conv(&x, s, t, "c2", 2, 0);
    let x: Vec<f32> = x.into_iter().map(f32::tanh).collect();
    let x: Vec<f32> = linear(&x, t, "f1").into_iter().map(|v| v.max(0.0)).collect();
    linear(&x, t, "f2")
}

fn scratch(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("skilang-weights-{}-{name}.safetensors", std::process::id()))
}

#[test]
fn a_forward_pass_written_from_the_file_gives_the_networks_logits() {
    let device = skilang_learn::device(11);
    let net = Net::new("net", &layers(), IMAGE, 6, 1, &device).unwrap();
    let path = scratch("forward");
    weights::save(&net, &path, &[]).unwrap();
    let file = weights::read(&path).unwrap();
    let names: Vec<&str> = file.keys().map(String::as_str).collect();
    assert_eq!(names, ["c1.bias", "c1.weight", "c2.bias", "c2.weight", "f1.bias", "f1.weight", "f2.bias", "f2.weight"]);
    assert_eq!(file["c1.weight"].0, [3, 2, 3, 3]);
    assert_eq!(file["f1.weight"].0, [5, 16]);
    assert_eq!(file["f2.weight"].0, [6, 5]);
    let mut rng = skilang_data::rng::Rng::new(3);
    let images: Vec<f32> = (0..3 * 2 * 64).map(|_| rng.below(1000) as f32 / 1000.0 - 0.5).collect();
    let x = Tensor::<4>::from_data(TensorData::new(images.clone(), [3, 2, 8, 8]), &device);
    let ours: Vec<f32> = net.forward(x).into_data().iter::<f32>().collect();
    for (i, image) in images.chunks(128).enumerate() {
        let expected = reference(image, &file);
        for (k, e) in expected.iter().enumerate() {
            let got = ours[i * 6 + k];
            assert!((got - e).abs() < 1e-5, "image {i}, class {k}: the network says {got}, the file's weights {e}");
        }
    }
    std::fs::remove_file(&path).ok();
}

#[test]
fn a_file_loads_into_the_declared_layers_or_is_refused_by_name() {
    let device = skilang_learn::device(12);
    let with_norm = [&layers()[..2], &[Layer::BatchNorm], &layers()[2..]].concat();
    let trained = Net::new("net", &with_norm, IMAGE, 6, 1, &device).unwrap();
    let path = scratch("load");
    weights::save(&trained, &path, &[]).unwrap();
    let file = weights::read(&path).unwrap();
    assert_eq!(file["b1.running_var"].0, [3]);
    let fresh = Net::new("net", &with_norm, IMAGE, 6, 1, &device).unwrap();
    assert_ne!(fresh.checksum(), trained.checksum());
    let loaded = weights::load(fresh, &file, &device).unwrap();
    assert_eq!(loaded.checksum(), trained.checksum());

    let refused = |file: &Tensors| {
        weights::load(Net::new("net", &with_norm, IMAGE, 6, 1, &device).unwrap(), file, &device).err().unwrap()
    };
    let mut missing = file.clone();
    missing.remove("c2.bias");
    assert_eq!(refused(&missing), "it has no tensor `c2.bias` (shape [4])");
    let other = Net::new("net", &with_norm, IMAGE, 7, 1, &device).unwrap();
    let path7 = scratch("seven");
    weights::save(&other, &path7, &[]).unwrap();
    let message = refused(&weights::read(&path7).unwrap());
    assert_eq!(message, "its `f2.weight` has shape [7, 5], the declared layers make [6, 5]");
    let mut extra = file.clone();
    extra.insert("f3.weight".into(), (vec![1], vec![0.0]));
    assert!(refused(&extra).starts_with("it holds `f3.weight`, which no declared layer has"), "{}", refused(&extra));
    std::fs::write(&path7, b"not a tensor file").unwrap();
    assert!(weights::read(&path7).unwrap_err().contains("is not a safetensors file"));
    for p in [path, path7] {
        std::fs::remove_file(p).ok();
    }
}
