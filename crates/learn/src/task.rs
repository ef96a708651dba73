//! A learnable's supervised task: its inputs as tensors-to-be and its output's gold classes, per split.

use crate::augment::Augment;
use crate::decode::Refill;
use crate::input::InputShape;
use skilang_data::encode::Encoder;
use skilang_data::rng::Rng;
use skilang_data::table::gather;
use skilang_data::{Data, Table, Values};
use skilang_lang::check::refill;
use skilang_lang::spec::{Column, ColumnType, Dataset, Decode, Learnable};

/// The inputs of one split, ready to batch.
#[derive(Clone, Debug)]
pub enum Inputs {
    /// Bytes of `shape` per row, standardised per channel when batched (`(p/255 - mean) / std`,
    /// with the training split's statistics).
    Images { shape: [usize; 3], pixels: Vec<u8>, mean: Vec<f32>, std: Vec<f32> },
    /// Encoded features, `width` per row.
    Vectors { width: usize, values: Vec<f32> },
}

impl Inputs {
    /// Rows in the split.
    pub fn len(&self) -> usize {
        match self {
            Inputs::Images { shape, pixels, .. } => pixels.len() / shape.iter().product::<usize>().max(1),
            Inputs::Vectors { width, values } => values.len() / (*width).max(1),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values per row.
    pub fn width(&self) -> usize {
        match self {
            Inputs::Images { shape, .. } => shape.iter().product(),
            Inputs::Vectors { width, .. } => *width,
        }
    }

    /// Per channel, the value a black pixel reads as (what an augmented image is filled with).
    pub fn fill(&self) -> Vec<f32> {
        match self {
            Inputs::Images { mean, std, .. } => mean.iter().zip(std).map(|(m, s)| -m / s).collect(),
            Inputs::Vectors { .. } => Vec::new(),
        }
    }

    /// The input values of rows `index`, moved by `augment` with `draws` where given.
    pub fn augmented_rows(&self, index: &[usize], augment: Option<(&Augment, &mut Rng)>) -> Vec<f32> {
        let mut values = self.rows(index);
        if let (Some((augment, draws)), Inputs::Images { shape, .. }) = (augment, self) {
            augment.apply(&mut values, *shape, &self.fill(), draws);
        }
        values
    }

    /// The input values of rows `index`, ready for a tensor.
    pub fn rows(&self, index: &[usize]) -> Vec<f32> {
        match self {
            Inputs::Images { shape, pixels, mean, std } => {
                let n: usize = shape.iter().product();
                let plane = shape[1] * shape[2];
                // One lookup table per channel: a byte's standardised value.
                let tables: Vec<[f32; 256]> =
                    (0..shape[0]).map(|c| std::array::from_fn(|b| (b as f32 / 255.0 - mean[c]) / std[c])).collect();
                let mut v = Vec::with_capacity(index.len() * n);
                for &i in index {
                    for (c, table) in tables.iter().enumerate() {
                        let start = i * n + c * plane;
                        v.extend(pixels[start..start + plane].iter().map(|&p| table[p as usize]));
                    }
                }
                v
            }
            Inputs::Vectors { width, values } => gather(values, *width, index),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Split {
    pub inputs: Inputs,
    /// `cells` gold classes per row (a grid output's, row-major).
    pub labels: Vec<u32>,
    pub cells: usize,
}

impl Split {
    /// Rows in the split.
    pub fn len(&self) -> usize {
        self.labels.len() / self.cells
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Rows `index`, as a batch's input values (moved by `augment` where given) and labels
    /// (`cells` per row).
    pub fn batch(&self, index: &[usize], augment: Option<(&Augment, &mut Rng)>) -> (Vec<f32>, Vec<i64>) {
        let labels = gather(&self.labels, self.cells, index);
        (self.inputs.augmented_rows(index, augment), labels.into_iter().map(i64::from).collect())
    }

    pub fn select(&self, index: &[usize]) -> Split {
        let labels = gather(&self.labels, self.cells, index);
        let inputs = match &self.inputs {
            Inputs::Images { shape, pixels, mean, std } => Inputs::Images {
                shape: *shape,
                pixels: gather(pixels, shape.iter().product(), index),
                mean: mean.clone(),
                std: std.clone(),
            },
            Inputs::Vectors { width, values } => {
                Inputs::Vectors { width: *width, values: gather(values, *width, index) }
            }
        };
        Split { inputs, labels, cells: self.cells }
    }
}

/// A learnable with its data: what it reads and the classes it predicts.
#[derive(Clone, Debug)]
pub struct Task {
    pub learnable: String,
    pub input: InputShape,
    /// The names of the output's values, in class order.
    pub classes: Vec<String>,
    /// The cells it predicts a class for per row: 1, or a grid output's cells.
    pub cells: usize,
    /// How a grid is decoded iteratively, where the spec asks for it.
    pub refill: Option<Refill>,
    /// How its training images move, where the spec asks for it.
    pub augment: Option<Augment>,
    /// Every training row; supervision reads only the `labelled` ones.
    pub train: Split,
    /// The training rows whose labels are known, when not all are.
    pub labelled: Option<Vec<usize>>,
    pub test: Split,
}

impl Task {
    /// The training rows supervision may learn from.
    pub fn labelled_train(&self) -> Split {
        match &self.labelled {
            Some(rows) => self.train.select(rows),
            None => self.train.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("learnable `{learnable}`: {reason}")]
pub struct TaskError {
    pub learnable: String,
    pub reason: String,
}

/// Builds the task of `learnable`, which reads `dataset` (already loaded as `data`).
pub fn task(
    learnable: &Learnable,
    dataset: &Dataset,
    data: &Data,
    inputs: &[&Column],
    output: &Column,
) -> Result<Task, TaskError> {
    let fail = |reason: String| TaskError { learnable: learnable.name.name.clone(), reason };
    let Some(values) = output.ty.categories() else {
        return Err(fail(format!("`{}` is not categorical", output.name.name)));
    };
    let cells = output.ty.cells();
    let output_column = output;
    let output = output.name.name.as_str();
    let classes: Vec<String> = values.iter().map(|v| v.value.to_string()).collect();
    let labels = |t: &Table| match t.column(output) {
        Some(Values::Categories(v)) if cells == 1 => Ok(v.clone()),
        Some(Values::Grid { cells: n, codes }) if *n == cells => Ok(codes.clone()),
        _ => Err(fail(format!("the data has no labels for `{output}`"))),
    };
    let images = matches!(inputs, [c] if matches!(c.ty, ColumnType::Image { .. }));
    let grid = match inputs {
        [c] => match &c.ty {
            ColumnType::Grid { shape, values } if shape.len() == 2 => Some((c, [shape[0], shape[1]], values.len())),
            _ => None,
        },
        _ => None,
    };
    let (input, train_inputs, test_inputs) = if let Some((column, [h, w], classes)) = grid {
        // A 2-D grid reads as an image with one channel per value, one-hot: convolutions see
        // the board, and a linear layer its flattened one-hot cells.
        let planes = |t: &Table| match t.column(&column.name.name) {
            Some(Values::Grid { codes, .. }) => Ok(one_hot_planes(codes, classes, (h * w) as usize)),
            _ => Err(fail(format!("the data has no grid for `{}`", column.name.name))),
        };
        let shape = [classes, h as usize, w as usize];
        let train_pixels = planes(&data.train)?;
        let (mean, std) = channel_statistics(shape, &train_pixels);
        let test_pixels = planes(&data.test)?;
        (
            InputShape::Image { channels: classes, height: h as usize, width: w as usize },
            Inputs::Images { shape, pixels: train_pixels, mean: mean.clone(), std: std.clone() },
            Inputs::Images { shape, pixels: test_pixels, mean, std },
        )
    } else if images {
        let images = |t: &Table| match t.column(&inputs[0].name.name) {
            Some(Values::Images { shape, pixels }) => Ok((*shape, pixels.clone())),
            _ => Err(fail(format!("the data has no images for `{}`", inputs[0].name.name))),
        };
        let (shape, train_pixels) = images(&data.train)?;
        let (mean, std) = channel_statistics(shape, &train_pixels);
        let (_, test_pixels) = images(&data.test)?;
        let [c, h, w] = shape;
        (
            InputShape::Image { channels: c, height: h, width: w },
            Inputs::Images { shape, pixels: train_pixels, mean: mean.clone(), std: std.clone() },
            Inputs::Images { shape, pixels: test_pixels, mean, std },
        )
    } else {
        let mut described = Vec::new();
        for c in inputs {
            let name = &c.name.name;
            match &c.ty {
                ColumnType::Category(v) => described.push((name.clone(), Some(v.len()))),
                ColumnType::Int | ColumnType::Real | ColumnType::Bool => described.push((name.clone(), None)),
                _ => {
                    return Err(fail(format!(
                        "`{name}` is an image, a vector or a grid; it can only be a learnable's single input"
                    )))
                }
            }
        }
        let encoder = Encoder::fit(&data.train, &described, &learnable.chosen_encodings(dataset));
        let width = encoder.width();
        (
            InputShape::Vector(width),
            Inputs::Vectors { width, values: encoder.encode(&data.train) },
            Inputs::Vectors { width, values: encoder.encode(&data.test) },
        )
    };
    Ok(Task {
        learnable: learnable.name.name.clone(),
        input,
        classes,
        cells,
        refill: match learnable.decode.as_ref().map(|d| d.value) {
            Some(Decode::Iterative) => {
                let (empty, fill) =
                    refill(inputs, output_column).map_err(|r| fail(format!("`decode: iterative` needs {r}")))?;
                Some(Refill { empty, fill })
            }
            _ => None,
        },
        augment: learnable.augment.as_ref().and_then(|a| Augment::from_spec(&a.value)),
        train: Split { inputs: train_inputs, labels: labels(&data.train)?, cells },
        labelled: data.labelled.clone(),
        test: Split { inputs: test_inputs, labels: labels(&data.test)?, cells },
    })
}

/// Grids of `cells` codes per row as one-hot planes: per row, `classes` planes of `cells` bytes
/// (255 where the cell holds that class).
fn one_hot_planes(codes: &[u32], classes: usize, cells: usize) -> Vec<u8> {
    let mut pixels = vec![0u8; codes.len() * classes];
    for (row, grid) in codes.chunks_exact(cells).enumerate() {
        for (cell, &code) in grid.iter().enumerate() {
            pixels[(row * classes + code as usize) * cells + cell] = 255;
        }
    }
    pixels
}

/// Mean and standard deviation of each channel's pixel values (scaled to [0, 1]).
fn channel_statistics(shape: [usize; 3], pixels: &[u8]) -> (Vec<f32>, Vec<f32>) {
    let [c, h, w] = shape;
    let plane = h * w;
    let n = c * plane;
    (0..c)
        .map(|ch| {
            let mut counts = [0u64; 256];
            for image in pixels.chunks_exact(n) {
                for &p in &image[ch * plane..(ch + 1) * plane] {
                    counts[p as usize] += 1;
                }
            }
            let total = counts.iter().sum::<u64>().max(1) as f64;
            let mean = counts.iter().enumerate().map(|(b, &k)| b as f64 / 255.0 * k as f64).sum::<f64>() / total;
            let var =
                counts.iter().enumerate().map(|(b, &k)| (b as f64 / 255.0 - mean).powi(2) * k as f64).sum::<f64>()
                    / total;
            (mean as f32, if var > 0.0 { var.sqrt() as f32 } else { 1.0 })
        })
        .unzip()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_statistics_of_two_planes() {
        // Two 1×2 images with two channels: channel 0 is always 0, channel 1 is 0 or 255.
        let pixels = [0, 0, 0, 255, 0, 0, 255, 0];
        let (mean, std) = channel_statistics([2, 1, 2], &pixels);
        assert_eq!(mean, [0.0, 0.5]);
        assert_eq!(std, [1.0, 0.5]);
    }
}
