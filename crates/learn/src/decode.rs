//! Iterative decoding of a grid (`decode: iterative`, Park's inference trick for Sudoku as
//! CL-STE tests it): the network sees the board, the most confident of its empty cells takes its
//! most likely class, and the board with that cell filled goes back to the network, until no cell
//! is empty. The input's given cells keep their values.

use crate::input::input_tensor;
use crate::model::Net;
use crate::task::{Inputs, Split, Task};
use burn::prelude::*;
use burn::tensor::activation;
use rayon::prelude::*;
use skilang_data::table::gather;

/// Which input value marks an empty cell, and the input value of each output class (positions
/// among the input column's declared values).
#[derive(Clone, Debug, PartialEq)]
pub struct Refill {
    pub empty: usize,
    pub fill: Vec<usize>,
}

/// The classes of every cell of every row of `split`, decoded iteratively; `None` where the
/// inputs are not one-hot grid planes.
pub fn predict(net: &Net, task: &Task, split: &Split, refill: &Refill, device: &Device) -> Option<Vec<u32>> {
    let Inputs::Images { shape, pixels, mean, std } = &split.inputs else { return None };
    let [values, h, w] = *shape;
    let cells = h * w;
    let rows: Vec<usize> = (0..split.len()).collect();
    let chunks: Vec<Vec<u32>> = rows
        .par_chunks(500)
        .map(|chunk| {
            let mut planes = gather(pixels, values * cells, chunk);
            let value_at = |planes: &[u8], r: usize, cell: usize| {
                (0..values).find(|&v| planes[(r * values + v) * cells + cell] != 0).unwrap_or(refill.empty)
            };
            let mut out = vec![0u32; chunk.len() * cells];
            for r in 0..chunk.len() {
                for cell in 0..cells {
                    let v = value_at(&planes, r, cell);
                    out[r * cells + cell] = refill.fill.iter().position(|&f| f == v).unwrap_or(0) as u32;
                }
            }
            loop {
                let empty: Vec<Vec<usize>> = (0..chunk.len())
                    .map(|r| (0..cells).filter(|&c| value_at(&planes, r, c) == refill.empty).collect())
                    .collect();
                if empty.iter().all(Vec::is_empty) {
                    break;
                }
                let board =
                    Inputs::Images { shape: *shape, pixels: planes.clone(), mean: mean.clone(), std: std.clone() };
                let all: Vec<usize> = (0..chunk.len()).collect();
                let x = input_tensor(task.input, board.rows(&all), chunk.len(), device);
                let probs: Vec<f32> =
                    activation::softmax(net.forward(x).detach(), 1).into_data().iter::<f32>().collect();
                let k = task.classes.len();
                for (r, empty) in empty.iter().enumerate() {
                    let best = empty.iter().flat_map(|&c| (0..k).map(move |j| (c, j))).max_by(|a, b| {
                        probs[(r * cells + a.0) * k + a.1].total_cmp(&probs[(r * cells + b.0) * k + b.1])
                    });
                    let Some((cell, class)) = best else { continue };
                    planes[(r * values + refill.empty) * cells + cell] = 0;
                    planes[(r * values + refill.fill[class]) * cells + cell] = 255;
                    out[r * cells + cell] = class as u32;
                }
            }
            out
        })
        .collect();
    Some(chunks.concat())
}
