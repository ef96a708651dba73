//! Tabular features as numbers for a network: categories one-hot (or ordinal), numbers
//! standardised (or raw). Fitted on the training split only, then applied to every split.

use crate::table::{Table, Values};
use skilang_lang::spec::Encoding;

#[derive(Clone, Debug, PartialEq)]
enum Part {
    OneHot { column: String, classes: usize },
    Ordinal { column: String, classes: usize },
    Standard { column: String, mean: f32, std: f32 },
    Raw { column: String },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Encoder {
    parts: Vec<Part>,
}

impl Encoder {
    /// `inputs`: the feature columns and their number of classes (None for numbers), in order;
    /// `chosen`: encodings the spec asks for, by column.
    pub fn fit(train: &Table, inputs: &[(String, Option<usize>)], chosen: &[(String, Encoding)]) -> Encoder {
        let parts = inputs
            .iter()
            .map(|(column, classes)| {
                let wanted = chosen.iter().find(|(c, _)| c == column).map(|(_, e)| *e);
                let column = column.clone();
                match (*classes, wanted) {
                    (Some(classes), Some(Encoding::Ordinal)) => Part::Ordinal { column, classes },
                    (Some(classes), Some(Encoding::Raw)) => Part::Ordinal { column, classes },
                    (Some(classes), _) => Part::OneHot { column, classes },
                    (None, Some(Encoding::Raw | Encoding::OneHot | Encoding::Ordinal)) => Part::Raw { column },
                    (None, _) => {
                        let values = match train.column(&column) {
                            Some(Values::Numbers(v)) => v.as_slice(),
                            _ => &[],
                        };
                        let n = values.len().max(1) as f64;
                        let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n;
                        let var = values.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
                        // A constant column stays constant (0) instead of dividing by zero.
                        let std = if var > 0.0 { var.sqrt() } else { 1.0 };
                        Part::Standard { column, mean: mean as f32, std: std as f32 }
                    }
                }
            })
            .collect();
        Encoder { parts }
    }

    pub fn width(&self) -> usize {
        self.parts.iter().map(|p| if let Part::OneHot { classes, .. } = p { *classes } else { 1 }).sum()
    }

    /// Row-major `rows × width` values of `table`.
    pub fn encode(&self, table: &Table) -> Vec<f32> {
        let width = self.width();
        let mut out = vec![0.0f32; table.rows * width];
        let mut offset = 0;
        for part in &self.parts {
            let (column, span) = match part {
                Part::OneHot { column, classes } => (column, *classes),
                Part::Ordinal { column, .. } | Part::Standard { column, .. } | Part::Raw { column } => (column, 1),
            };
            match (part, table.column(column)) {
                (Part::OneHot { .. }, Some(Values::Categories(v))) => {
                    for (r, &c) in v.iter().enumerate() {
                        out[r * width + offset + c as usize] = 1.0;
                    }
                }
                (Part::Ordinal { classes, .. }, Some(Values::Categories(v))) => {
                    let scale = (*classes as f32 - 1.0).max(1.0);
                    for (r, &c) in v.iter().enumerate() {
                        out[r * width + offset] = c as f32 / scale;
                    }
                }
                (Part::Standard { mean, std, .. }, Some(Values::Numbers(v))) => {
                    for (r, &x) in v.iter().enumerate() {
                        out[r * width + offset] = (x - mean) / std;
                    }
                }
                (Part::Raw { .. }, Some(Values::Numbers(v))) => {
                    for (r, &x) in v.iter().enumerate() {
                        out[r * width + offset] = x;
                    }
                }
                _ => {}
            }
            offset += span;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitted_on_training_data_applied_to_any_split() {
        let train = Table {
            rows: 2,
            columns: vec![("a".into(), Values::Numbers(vec![1.0, 3.0])), ("c".into(), Values::Categories(vec![0, 2]))],
        };
        let inputs = [("a".to_string(), None), ("c".to_string(), Some(3))];
        let enc = Encoder::fit(&train, &inputs, &[]);
        assert_eq!(enc.width(), 4);
        assert_eq!(enc.encode(&train), [-1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0]);
        let test = Table {
            rows: 1,
            columns: vec![("a".into(), Values::Numbers(vec![5.0])), ("c".into(), Values::Categories(vec![1]))],
        };
        assert_eq!(enc.encode(&test), [3.0, 0.0, 1.0, 0.0]);
        let ordinal = Encoder::fit(&train, &inputs, &[("c".into(), Encoding::Ordinal)]);
        assert_eq!(ordinal.encode(&test), [3.0, 0.5]);
    }
}
