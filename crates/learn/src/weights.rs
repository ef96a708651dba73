//! A network's weights as safetensors with PyTorch's names and layouts, so that other tools read
//! them, and weights from such a file (PyTorch's, or a previous run's `model/`) put into a network
//! the spec declares, checked tensor by tensor.
//!
//! Names: convolutions `c1`, `c2`, …, linear layers `f1`, `f2`, …, batch norms `b1`, … in the
//! order the network applies them (LeNet's are those of `peers/lenet_mnist_torch.py`), each with
//! `.weight` and `.bias` (batch norms also `.running_mean` and `.running_var`); structuring's rule
//! units `rules.units.N` and `rules.links`. Linear weights are `[outputs, inputs]`, convolution
//! weights `[out channels, in channels, height, width]`, as `torch.nn` keeps them.

use crate::model::{Block, Net};
use crate::task::{Inputs, Task};
use burn::module::{Param, RunningState};
use burn::nn::Linear;
use burn::prelude::*;
use safetensors::{Dtype, SafeTensors};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A named tensor in PyTorch's layout.
pub struct Named {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().iter::<f32>().collect()
}

fn linear(out: &mut Vec<Named>, prefix: &str, l: &Linear) {
    // burn keeps `[inputs, outputs]`; PyTorch `[outputs, inputs]`.
    let w = l.weight.val().transpose();
    out.push(Named { name: format!("{prefix}.weight"), shape: w.dims().to_vec(), values: values(w) });
    if let Some(b) = &l.bias {
        let b = b.val();
        out.push(Named { name: format!("{prefix}.bias"), shape: b.dims().to_vec(), values: values(b) });
    }
}

/// Every tensor of `net`, named and laid out as PyTorch's.
pub fn named(net: &Net) -> Vec<Named> {
    let mut out = Vec::new();
    let (mut c, mut f, mut b) = (0, 0, 0);
    let push = |out: &mut Vec<Named>, name: String, t: Tensor<1>| {
        out.push(Named { name, shape: t.dims().to_vec(), values: values(t) })
    };
    for block in net.blocks() {
        match block {
            Block::Conv(conv) => {
                c += 1;
                let w = conv.weight.val();
                out.push(Named { name: format!("c{c}.weight"), shape: w.dims().to_vec(), values: values(w) });
                if let Some(bias) = &conv.bias {
                    push(&mut out, format!("c{c}.bias"), bias.val());
                }
            }
            Block::Linear(l) => {
                f += 1;
                linear(&mut out, &format!("f{f}"), l);
            }
            Block::Norm(n) => {
                b += 1;
                push(&mut out, format!("b{b}.weight"), n.gamma.val());
                push(&mut out, format!("b{b}.bias"), n.beta.val());
                push(&mut out, format!("b{b}.running_mean"), n.running_mean.value());
                push(&mut out, format!("b{b}.running_var"), n.running_var.value());
            }
            Block::MaxPool(_) | Block::AvgPool(_) | Block::Dropout(_) => {}
        }
    }
    if let Some(r) = net.rules() {
        for (i, u) in r.units.iter().enumerate() {
            linear(&mut out, &format!("rules.units.{i}"), u);
        }
        linear(&mut out, "rules.links", &r.links);
    }
    out
}

/// A file's tensors by name: shape and values.
pub type Tensors = BTreeMap<String, (Vec<usize>, Vec<f32>)>;

/// What a reader needs beside the weights, as the file's metadata: the class of each output, and
/// for images the per-channel mean and standard deviation the inputs were standardised with
/// (`(pixel / 255 − mean) / std`).
pub fn metadata(task: &Task) -> Vec<(String, String)> {
    let list = |v: &[f32]| format!("[{}]", v.iter().map(f32::to_string).collect::<Vec<_>>().join(", "));
    let mut m = vec![("classes".to_string(), serde_json::to_string(&task.classes).unwrap_or_default())];
    if let Inputs::Images { mean, std, .. } = &task.train.inputs {
        m.push(("input_mean".to_string(), list(mean)));
        m.push(("input_std".to_string(), list(std)));
    }
    m
}

/// Writes `net`'s tensors to `path` as safetensors (float32, little-endian), with `metadata`.
pub fn save(net: &Net, path: &Path, metadata: &[(String, String)]) -> Result<(), String> {
    let tensors = named(net);
    let bytes: Vec<Vec<u8>> = tensors.iter().map(|t| t.values.iter().flat_map(|x| x.to_le_bytes()).collect()).collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = tensors
        .iter()
        .zip(&bytes)
        .map(|(t, b)| {
            safetensors::tensor::TensorView::new(Dtype::F32, t.shape.clone(), b)
                .map(|v| (t.name.clone(), v))
                .map_err(|e| format!("{}: {e}", t.name))
        })
        .collect::<Result<_, _>>()?;
    let mut metadata: std::collections::HashMap<String, String> = metadata.iter().cloned().collect();
    metadata.insert("format".to_string(), "pt".to_string());
    safetensors::serialize_to_file(views, Some(metadata), path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The tensors of a safetensors file, as float32 (from float32, float64, float16 or bfloat16).
pub fn read(path: &Path) -> Result<Tensors, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let file =
        SafeTensors::deserialize(&bytes).map_err(|e| format!("{} is not a safetensors file: {e}", path.display()))?;
    let mut out = BTreeMap::new();
    for (name, view) in file.tensors() {
        let data = view.data();
        let values: Vec<f32> = match view.dtype() {
            Dtype::F32 => data.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect(),
            Dtype::F64 => {
                data.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])) as f32).collect()
            }
            Dtype::F16 => data.chunks_exact(2).map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]]))).collect(),
            Dtype::BF16 => data
                .chunks_exact(2)
                .map(|c| f32::from_bits(u32::from(u16::from_le_bytes([c[0], c[1]])) << 16))
                .collect(),
            other => {
                return Err(format!(
                    "{}: tensor `{name}` holds {other:?}; only floating-point weights are read",
                    path.display()
                ))
            }
        };
        out.insert(name, (view.shape().to_vec(), values));
    }
    Ok(out)
}

fn f16_to_f32(h: u16) -> f32 {
    let (sign, exp, frac) = ((h >> 15) as u32, ((h >> 10) & 0x1f) as u32, (h & 0x3ff) as u32);
    let bits = match (exp, frac) {
        (0, 0) => sign << 31,
        (0, f) => {
            // A subnormal: normalise it.
            let shift = f.leading_zeros() - 21;
            (sign << 31) | ((113 - shift) << 23) | (((f << shift) & 0x3ff) << 13)
        }
        (31, f) => (sign << 31) | (0xff << 23) | (f << 13),
        (e, f) => (sign << 31) | ((e + 112) << 23) | (f << 13),
    };
    f32::from_bits(bits)
}

/// The safetensors file `weights` names for learnable `name`: the file itself, or in a folder its
/// `NAME.safetensors`, or that of its `model/` (a previous run's folder).
pub fn file_for(weights: &Path, name: &str) -> PathBuf {
    let file = format!("{name}.safetensors");
    match weights.is_dir() {
        true if !weights.join(&file).exists() && weights.join("model").join(&file).exists() => {
            weights.join("model").join(file)
        }
        true => weights.join(file),
        false => weights.to_path_buf(),
    }
}

/// `net` with the tensors of `file` in place of its own. Every tensor the network has must be in
/// the file with the same shape, and the file may hold no other: the error names the first
/// difference.
pub fn load(net: Net, file: &Tensors, device: &Device) -> Result<Net, String> {
    let expected = named(&net);
    for t in &expected {
        match file.get(&t.name) {
            None => return Err(format!("it has no tensor `{}` (shape {:?})", t.name, t.shape)),
            Some((shape, _)) if *shape != t.shape => {
                return Err(format!("its `{}` has shape {shape:?}, the declared layers make {:?}", t.name, t.shape))
            }
            Some(_) => {}
        }
    }
    if let Some(extra) = file.keys().find(|k| !expected.iter().any(|t| &t.name == *k)) {
        let names: Vec<&str> = expected.iter().map(|t| t.name.as_str()).collect();
        return Err(format!(
            "it holds `{extra}`, which no declared layer has (the network's tensors: {})",
            names.join(", ")
        ));
    }
    let get = |name: &str| &file[name];
    let tensor1 = |name: &str| {
        let (shape, v) = get(name);
        Tensor::<1>::from_data(TensorData::new(v.clone(), shape.clone()), device)
    };
    let load_linear = |l: Linear, prefix: &str| {
        let (shape, v) = get(&format!("{prefix}.weight"));
        let w = Tensor::<2>::from_data(TensorData::new(v.clone(), shape.clone()), device).transpose();
        Linear {
            weight: Param::from_tensor(w),
            bias: l.bias.map(|_| Param::from_tensor(tensor1(&format!("{prefix}.bias")))),
        }
    };
    let (mut c, mut f, mut b) = (0, 0, 0);
    Ok(net.map_blocks(
        |block| match block {
            Block::Conv(mut conv) => {
                c += 1;
                let (shape, v) = get(&format!("c{c}.weight"));
                conv.weight =
                    Param::from_tensor(Tensor::<4>::from_data(TensorData::new(v.clone(), shape.clone()), device));
                conv.bias = conv.bias.map(|_| Param::from_tensor(tensor1(&format!("c{c}.bias"))));
                Block::Conv(conv)
            }
            Block::Linear(l) => {
                f += 1;
                Block::Linear(load_linear(l, &format!("f{f}")))
            }
            Block::Norm(mut n) => {
                b += 1;
                n.gamma = Param::from_tensor(tensor1(&format!("b{b}.weight")));
                n.beta = Param::from_tensor(tensor1(&format!("b{b}.bias")));
                n.running_mean = RunningState::new(tensor1(&format!("b{b}.running_mean")));
                n.running_var = RunningState::new(tensor1(&format!("b{b}.running_var")));
                Block::Norm(n)
            }
            other => other,
        },
        |mut rules| {
            rules.units = std::mem::take(&mut rules.units)
                .into_iter()
                .enumerate()
                .map(|(i, u)| load_linear(u, &format!("rules.units.{i}")))
                .collect();
            let links = rules.links.clone();
            rules.links = load_linear(links, "rules.links");
            rules
        },
    ))
}
