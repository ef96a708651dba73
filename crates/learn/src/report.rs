//! The typed report of a run (`report.json`) or of an evaluation: what was trained and how, the
//! test figures, each constraint's satisfaction, and the run's own measurements.

use crate::train::Epoch;
use serde::Serialize;
use sha2::{Digest, Sha256};
use skilang_lang::overrides::Override;
use std::collections::BTreeMap;

/// Per learnable, a figure per class (`None` where the class has no test example).
pub type PerClass = BTreeMap<String, BTreeMap<String, Option<f64>>>;

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    #[serde(flatten)]
    pub source: Source,
    pub seed: u64,
    pub injection: &'static str,
    /// The inference engine that ran (`None` for the injections that do not reason).
    pub inference: Option<&'static str>,
    pub fuzzy: Option<FuzzySettings>,
    /// Supervised: the mean of the learnables' test accuracies. Learning from constraints: the
    /// share of test examples whose constraints all hold under the most likely classes.
    pub task_accuracy: f64,
    /// Per learnable, its accuracy on its output column (per cell, for a grid).
    pub symbol_accuracy: BTreeMap<String, f64>,
    /// Per learnable that predicts a grid: the share of test rows with every cell right (a
    /// Sudoku's whole-board accuracy).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub grid_accuracy: BTreeMap<String, f64>,
    pub macro_f1: f64,
    /// Per learnable, the mean of its per-class accuracies.
    pub balanced_accuracy: BTreeMap<String, f64>,
    /// Per learnable (of three classes or more): its per-class accuracy averaged over the most,
    /// middling and least frequent classes of its training rows.
    pub shot_accuracy: BTreeMap<String, crate::metrics::Shots>,
    pub per_class_accuracy: PerClass,
    pub per_class_f1: PerClass,
    /// The test-time correction the figures above are after, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correction: Option<CorrectionReport>,
    /// Per learnable, the SHA-256 of its weights' values ([`crate::model::Net::checksum`]).
    pub weights_sha256: BTreeMap<String, String>,
    pub constraints: Vec<ConstraintReport>,
    pub test_examples: usize,
    pub device: &'static str,
    /// Seconds the test figures took: the networks' predictions, and every test example's
    /// constraints under them.
    pub evaluation_seconds: f64,
    pub peak_rss_bytes: Option<u64>,
    /// What training measured (absent from an evaluation).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub training: Option<TrainingFigures>,
    /// The saved model an evaluation read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The build and machine that produced the figures (set by the program that ran them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
}

/// Which build ran where and when: a figure means little without them.
#[derive(Clone, Debug, Serialize)]
pub struct Provenance {
    pub version: String,
    /// The git commit built, `-dirty` when the tree had uncommitted changes, or `unknown`.
    pub commit: String,
    /// When the report was written, UTC, ISO 8601.
    pub date: String,
    pub cpu: String,
    /// The cores the process may use.
    pub cores: usize,
}

impl Provenance {
    /// This process, now.
    pub fn here(version: &str, commit: &str) -> Provenance {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, name)| name.trim().to_string())
            })
            .unwrap_or_else(|| std::env::consts::ARCH.to_string());
        Provenance {
            version: version.to_string(),
            commit: commit.to_string(),
            date: utc_now(),
            cpu,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

fn utc_now() -> String {
    iso8601(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()))
}

/// Seconds since 1970 as `YYYY-MM-DDTHH:MM:SSZ`.
fn iso8601(secs: u64) -> String {
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rest / 3600, rest / 60 % 60, rest % 60)
}

/// The spec a report is about, as the user gave it.
#[derive(Clone, Debug, Serialize)]
pub struct Source {
    /// The spec's path.
    pub spec: String,
    pub spec_sha256: String,
    /// `--set` and the flags that stand for one, as `key=value`.
    pub overrides: Vec<String>,
}

impl Source {
    /// The spec at `path` whose text was `text`, with the overrides it was read with.
    pub fn new(path: &std::path::Path, text: &str, overrides: &[Override]) -> Source {
        Source {
            spec: path.display().to_string(),
            spec_sha256: Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect(),
            overrides: overrides.iter().map(|o| o.to_string()).collect(),
        }
    }
}

/// What a test-time correction chose, and the figures it changed.
#[derive(Clone, Debug, Serialize)]
pub struct CorrectionReport {
    pub correction: &'static str,
    pub prior: &'static str,
    /// Per learnable, the classes' ratios the correction aims at.
    pub ratios: BTreeMap<String, Vec<f64>>,
    pub tau: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eta: Option<f64>,
    pub validation_examples: usize,
    /// The share of the validation examples whose constraints hold under the corrected
    /// predictions (the partial-label accuracy that chose τ and η), and under the uncorrected.
    pub validation_satisfied: f64,
    pub uncorrected_validation_satisfied: f64,
    /// The test figures without the correction.
    pub uncorrected_symbol_accuracy: BTreeMap<String, f64>,
    pub uncorrected_balanced_accuracy: BTreeMap<String, f64>,
    pub seconds: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct FuzzySettings {
    pub semantics: &'static str,
    pub implication: &'static str,
    pub loss: &'static str,
}

/// One constraint on the test set, under the networks' most likely classes.
#[derive(Clone, Debug, Serialize)]
pub struct ConstraintReport {
    /// Its position in the spec, from 1.
    pub index: usize,
    pub name: Option<String>,
    /// The constraint as written, e.g. `if: Pair(h), then: classify(h) == one_pair`.
    pub source: String,
    pub weight: f64,
    /// Whether the injection trained it.
    pub trained: bool,
    /// Only measured (`train: false`): never trained, and not part of the task accuracy.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub measured: bool,
    /// Instance-wise: the test examples it applies to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub examples: Option<usize>,
    /// The share of those where it holds; column-wise: 1 or 0 on the whole test set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub satisfaction: Option<f64>,
    /// Column-wise: the left-hand side of its comparison on the test set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Option<f64>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct TrainingFigures {
    /// Epochs run (the most of any learnable's).
    pub epochs: usize,
    /// Per learnable, the epoch whose network was kept (the best on validation, else the last).
    pub kept_epoch: BTreeMap<String, usize>,
    pub train_seconds: f64,
    /// Per learnable (or `a+b` for networks trained together), every epoch's figures.
    pub curves: BTreeMap<String, Vec<Epoch>>,
    /// Learning from constraints: its examples and their grounding.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub grounding: Option<Grounding>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Grounding {
    pub train_examples: usize,
    /// Training examples whose constraints no assignment satisfies (skipped).
    pub impossible_train_examples: usize,
    pub grounding_seconds: f64,
    /// The exact engine's largest decision diagram.
    pub largest_diagram_nodes: Option<usize>,
    /// `ste`: the largest CNF, in literal occurrences.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub largest_cnf_literals: Option<usize>,
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_are_civil_utc() {
        for (secs, date) in [
            (0, "1970-01-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_795_858_496, "2026-11-28T09:34:56Z"),
            (4_107_542_399, "2100-02-28T23:59:59Z"),
        ] {
            assert_eq!(super::iso8601(secs), date);
        }
    }
}
