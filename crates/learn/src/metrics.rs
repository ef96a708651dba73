//! Accuracy, per-class and balanced accuracy, many/medium/few-shot accuracy and the confusion
//! matrix of predictions against gold classes.

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
    /// The mean of the per-class accuracies of the classes present: what a balanced test set's
    /// accuracy would be.
    pub balanced_accuracy: f64,
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
    let per_class_accuracy: Vec<(String, Option<f64>)> = classes
        .iter()
        .enumerate()
        .map(|(c, name)| {
            let total: u64 = confusion[c].iter().sum();
            (name.clone(), (total > 0).then(|| confusion[c][c] as f64 / total as f64))
        })
        .collect();
    let balanced_accuracy = mean_present(per_class_accuracy.iter().map(|(_, a)| *a)).unwrap_or(0.0);
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
    let macro_f1 = mean_present(per_class_f1.iter().map(|(_, f)| *f)).unwrap_or(0.0);
    Metrics {
        accuracy: right as f64 / gold.len().max(1) as f64,
        per_class_accuracy,
        balanced_accuracy,
        per_class_f1,
        macro_f1,
        confusion,
    }
}

/// The mean per-class accuracy of the most, the middling and the least frequent classes in
/// training (the long-tail literature's many / medium / few-shot accuracy).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Shots {
    pub many: Option<f64>,
    pub medium: Option<f64>,
    pub few: Option<f64>,
}

/// Shot accuracies from the per-class accuracies and each class's training count: the three
/// most frequent classes are "many", the three least "few" (a third each when there are fewer
/// than nine classes), ties broken by class order; `None` below three classes.
pub fn shots(per_class_accuracy: &[Option<f64>], train_counts: &[usize]) -> Option<Shots> {
    let k = per_class_accuracy.len();
    let group = (k / 3).min(3);
    if group == 0 {
        return None;
    }
    let mut by_frequency: Vec<usize> = (0..k).collect();
    by_frequency.sort_by_key(|&c| std::cmp::Reverse(train_counts.get(c).copied().unwrap_or(0)));
    let mean = |classes: &[usize]| mean_present(classes.iter().map(|&c| per_class_accuracy[c]));
    Some(Shots {
        many: mean(&by_frequency[..group]),
        medium: mean(&by_frequency[group..k - group]),
        few: mean(&by_frequency[k - group..]),
    })
}

/// The mean of the figures that are there; `None` when none is.
fn mean_present(figures: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let present: Vec<f64> = figures.flatten().collect();
    (!present.is_empty()).then(|| present.iter().sum::<f64>() / present.len() as f64)
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

/// The most likely class of `net` on each of `rows` of `inputs` (each cell's, for a grid).
pub fn most_likely(net: &Net, shape: InputShape, inputs: &Inputs, rows: &[usize], device: &Device) -> Vec<usize> {
    log_probabilities(net, shape, inputs, rows, device).iter().map(|p| skilang_logic::argmax(p)).collect()
}

/// The log-probabilities of `net`'s classes on each of `rows` of `inputs` (each cell's, for a
/// grid), in chunks run in parallel (a small network's forward pass on one chunk keeps one
/// core busy).
pub fn log_probabilities(
    net: &Net,
    shape: InputShape,
    inputs: &Inputs,
    rows: &[usize],
    device: &Device,
) -> Vec<Vec<f64>> {
    let chunks: Vec<Vec<Vec<f64>>> = rows
        .par_chunks(1000)
        .map(|chunk| {
            let logits = net.forward(input_tensor(shape, inputs.rows(chunk), chunk.len(), device));
            crate::batch::log_probs(&[logits]).pop().unwrap_or_default()
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
        // a 0.5 and b 1.0 present; c has no test example.
        assert_eq!(m.balanced_accuracy, 0.75);
    }

    #[test]
    fn shots_group_classes_by_training_frequency() {
        let acc: Vec<Option<f64>> = (0..10).map(|c| Some(c as f64 / 10.0)).collect();
        // Class c seen 100 − c times: 0–2 many, 3–6 medium, 7–9 few.
        let counts: Vec<usize> = (0..10).map(|c| 100 - c).collect();
        let s = shots(&acc, &counts).unwrap();
        assert!((s.many.unwrap() - 0.1).abs() < 1e-12);
        assert!((s.medium.unwrap() - 0.45).abs() < 1e-12);
        assert!((s.few.unwrap() - 0.8).abs() < 1e-12);
        // Reversed frequencies swap the groups; classes without test examples are left out.
        let mut acc = acc;
        acc[0] = None;
        let s = shots(&acc, &counts.iter().rev().copied().collect::<Vec<_>>()).unwrap();
        assert!((s.few.unwrap() - 0.15).abs() < 1e-12);
        assert!((s.many.unwrap() - 0.8).abs() < 1e-12);
        // Four classes: one each for many and few, two medium.
        let s = shots(&[Some(1.0), Some(0.5), Some(0.0), None], &[4, 3, 2, 1]).unwrap();
        assert_eq!((s.many, s.medium, s.few), (Some(1.0), Some(0.25), None));
        assert_eq!(shots(&[Some(1.0), Some(0.0)], &[1, 2]), None);
    }
}
