//! Accuracy, per-class accuracy and the confusion matrix of predictions against gold classes.

use crate::input::{input_tensor, InputShape};
use crate::model::Net;
use crate::task::{Inputs, Split, Task};
use burn::prelude::*;
use rayon::prelude::*;

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Metrics {
    pub accuracy: f64,
    /// Per class (by value name): the share of its examples predicted right; null when absent.
    pub per_class_accuracy: Vec<(String, Option<f64>)>,
    /// Per class: F1 = 2·tp / (2·tp + fp + fn); null for a class neither in the gold classes nor
    /// predicted.
    pub per_class_f1: Vec<(String, Option<f64>)>,
    /// The mean F1 over the classes that occur in the gold classes or the predictions (as
    /// scikit-learn's `f1_score(average="macro")`).
    pub macro_f1: f64,
    /// `confusion[gold][predicted]`.
    pub confusion: Vec<Vec<u64>>,
}

pub fn from_predictions(classes: &[String], gold: &[u32], predicted: &[u32]) -> Metrics {
    let k = classes.len();
    let mut confusion = vec![vec![0u64; k]; k];
    for (&g, &p) in gold.iter().zip(predicted) {
        confusion[g as usize][(p as usize).min(k - 1)] += 1;
    }
    let right: u64 = (0..k).map(|c| confusion[c][c]).sum();
    let per_class_accuracy = classes
        .iter()
        .enumerate()
        .map(|(c, name)| {
            let total: u64 = confusion[c].iter().sum();
            (name.clone(), (total > 0).then(|| confusion[c][c] as f64 / total as f64))
        })
        .collect();
    let per_class_f1: Vec<(String, Option<f64>)> = classes
        .iter()
        .enumerate()
        .map(|(c, name)| {
            let tp = confusion[c][c];
            let gold: u64 = confusion[c].iter().sum();
            let predicted: u64 = confusion.iter().map(|row| row[c]).sum();
            (name.clone(), (gold + predicted > 0).then(|| 2.0 * tp as f64 / (gold + predicted) as f64))
        })
        .collect();
    let present: Vec<f64> = per_class_f1.iter().filter_map(|(_, f)| *f).collect();
    let macro_f1 = present.iter().sum::<f64>() / present.len().max(1) as f64;
    Metrics { accuracy: right as f64 / gold.len().max(1) as f64, per_class_accuracy, per_class_f1, macro_f1, confusion }
}

pub fn evaluate(net: &Net, task: &Task, split: &Split, device: &Device) -> Metrics {
    let predicted = predict(net, task, split, device);
    from_predictions(&task.classes, &split.labels, &predicted)
}

/// Class predictions of `net` for a whole split (every cell of a grid), decoded as the task says.
pub fn predict(net: &Net, task: &Task, split: &Split, device: &Device) -> Vec<u32> {
    if let Some(decoded) = task.refill.as_ref().and_then(|r| crate::decode::predict(net, task, split, r, device)) {
        return decoded;
    }
    let all: Vec<usize> = (0..split.len()).collect();
    most_likely(net, task.input, &split.inputs, &all, device).into_iter().map(|c| c as u32).collect()
}

/// The most likely class of `net` on each of `rows` of `inputs`, in chunks run in parallel (a
/// small network's forward pass on one chunk keeps one core busy).
pub fn most_likely(net: &Net, shape: InputShape, inputs: &Inputs, rows: &[usize], device: &Device) -> Vec<usize> {
    let chunks: Vec<Vec<usize>> = rows
        .par_chunks(1000)
        .map(|chunk| {
            let logits = net.forward(input_tensor(shape, inputs.rows(chunk), chunk.len(), device)).detach();
            logits.argmax(1).into_data().iter::<i64>().map(|c| c as usize).collect()
        })
        .collect();
    chunks.concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_per_class_and_confusion() {
        let classes = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        let m = from_predictions(&classes, &[0, 0, 1, 1], &[0, 1, 1, 1]);
        assert_eq!(m.accuracy, 0.75);
        assert_eq!(m.per_class_accuracy[0], ("a".to_string(), Some(0.5)));
        assert_eq!(m.per_class_accuracy[2], ("c".to_string(), None));
        assert_eq!(m.confusion[0], [1, 1, 0]);
        // a: tp 1, gold 2, predicted 1 → 2/3; b: tp 2, gold 2, predicted 3 → 4/5; c absent.
        assert!((m.per_class_f1[0].1.unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.per_class_f1[1].1.unwrap() - 0.8).abs() < 1e-12);
        assert_eq!(m.per_class_f1[2].1, None);
        assert!((m.macro_f1 - (2.0 / 3.0 + 0.8) / 2.0).abs() < 1e-12);
    }
}
