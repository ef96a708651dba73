//! What a network reads, and its inputs as a tensor.

use burn::prelude::*;
use burn::tensor::TensorData;

/// What a network reads: images (channels, height, width) or a vector of encoded features.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputShape {
    Image { channels: usize, height: usize, width: usize },
    Vector(usize),
}

pub fn input_tensor(input: InputShape, values: Vec<f32>, rows: usize, device: &Device) -> Tensor<4> {
    let shape = match input {
        InputShape::Image { channels, height, width } => [rows, channels, height, width],
        InputShape::Vector(n) => [rows, n, 1, 1],
    };
    Tensor::from_data(TensorData::new(values, shape), device)
}
