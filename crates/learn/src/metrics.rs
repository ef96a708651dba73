//! Accuracy, per-class accuracy and the confusion matrix of predictions against gold classes.

use crate::model::Net;
use crate::task::{Split, Task};
use burn::prelude::*;

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Metrics {
    pub accuracy: f64,
    /// Per class (by value name): the share of its examples predicted right; null when absent.
    pub per_class_accuracy: Vec<(String, Option<f64>)>,
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
    Metrics { accuracy: right as f64 / gold.len().max(1) as f64, per_class_accuracy, confusion }
}

pub fn evaluate(net: &Net, task: &Task, split: &Split, device: &Device) -> Metrics {
    let predicted = crate::train::predict(net, task, split, device);
    from_predictions(&task.classes, &split.labels, &predicted)
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
    }
}
