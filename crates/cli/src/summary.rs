//! A sweep's summary, computed from the runs' `report.json` files alone (so it can be written
//! again at any time, from raw results): per grid point, every metric's spread over seeds, as a
//! text table, CSV and JSON, and box plots as SVG.

use crate::exit::{self, Failure};
use crate::sweep::{Definition, Point, SWEEP_FILE};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::Path;

fn fail(message: impl Into<String>) -> Failure {
    Failure::new(exit::USAGE, message)
}

/// A run's report, or `None` when the run has not finished.
pub fn read_report(run: &Path) -> Result<Option<Value>, Failure> {
    let path = run.join("report.json");
    match std::fs::read_to_string(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(fail(format!("cannot read {}: {e}", path.display()))),
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| fail(format!("{}: not a report ({e}); move the run away to train it again", path.display()))),
    }
}

/// A run's figures as `(dotted key, value)`, in the order tables show them.
pub fn metrics(report: &Value) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    let mut number = |key: String, v: &Value| {
        if let Some(x) = v.as_f64() {
            out.push((key, x));
        }
    };
    for key in ["task_accuracy", "macro_f1"] {
        number(key.to_string(), &report[key]);
    }
    for key in ["symbol_accuracy", "grid_accuracy", "balanced_accuracy"] {
        for (name, v) in report[key].as_object().into_iter().flatten() {
            number(format!("{key}.{name}"), v);
        }
    }
    for (name, shots) in report["shot_accuracy"].as_object().into_iter().flatten() {
        for shot in ["many", "medium", "few"] {
            number(format!("shot_accuracy.{name}.{shot}"), &shots[shot]);
        }
    }
    for c in report["constraints"].as_array().into_iter().flatten() {
        let name = c["name"].as_str().map_or_else(|| format!("#{}", c["index"]), str::to_string);
        for figure in ["satisfaction", "value"] {
            number(format!("constraints.{name}.{figure}"), &c[figure]);
        }
    }
    for key in ["per_class_accuracy", "per_class_f1"] {
        for (learnable, classes) in report[key].as_object().into_iter().flatten() {
            for (class, v) in classes.as_object().into_iter().flatten() {
                number(format!("{key}.{learnable}.{class}"), v);
            }
        }
    }
    let sizes = ["train_examples", "largest_diagram_nodes", "largest_cnf_literals"];
    for key in ["train_seconds", "grounding_seconds", "evaluation_seconds", "peak_rss_bytes"].into_iter().chain(sizes) {
        number(key.to_string(), &report[key]);
    }
    out
}

/// The metrics a table shows unless told otherwise: the task's, the learnables', the
/// constraints', the time to train and the memory.
fn shown_by_default(key: &str) -> bool {
    ["task_accuracy", "macro_f1", "train_seconds", "peak_rss_bytes"].contains(&key)
        || ["symbol_accuracy.", "grid_accuracy.", "constraints."].iter().any(|p| key.starts_with(p))
}

/// The spread of one metric over a point's runs.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Spread {
    pub n: usize,
    pub mean: f64,
    pub half_range: f64,
    /// The sample standard deviation (0 for one run).
    pub std: f64,
    /// Half the width of the 95% confidence interval of the mean (Student's t; 0 for one run).
    pub ci95: f64,
    pub min: f64,
    pub max: f64,
    pub values: Vec<f64>,
}

impl Spread {
    pub fn of(values: Vec<f64>) -> Spread {
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n.max(1) as f64;
        let min = values.iter().cloned().fold(f64::INFINITY, f64::min);
        let max = values.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let std = match n {
            0 | 1 => 0.0,
            _ => (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt(),
        };
        let ci95 = if n > 1 { t975(n - 1) * std / (n as f64).sqrt() } else { 0.0 };
        Spread { n, mean, half_range: (max - min) / 2.0, std, ci95, min, max, values }
    }
}

/// Student's t quantile at 0.975 for `df` degrees of freedom (tabulated to 30, then close to it).
fn t975(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];
    T.get(df.wrapping_sub(1)).copied().unwrap_or(1.96 + 2.4 / df as f64)
}

/// One grid point's finished runs.
struct Row<'d> {
    point: &'d Point,
    /// `(seed, metrics)` per finished run.
    runs: Vec<(u64, Vec<(String, f64)>)>,
}

impl Row<'_> {
    fn spread(&self, key: &str) -> Spread {
        Spread::of(self.runs.iter().filter_map(|(_, m)| m.iter().find(|(k, _)| k == key).map(|(_, v)| *v)).collect())
    }
}

/// Writes `summary.{txt,csv,json,svg}` and `runs.csv` into the sweep folder `dir` from the
/// reports there; returns the text table. `chosen` names the metrics of the table and plots
/// (keys or their prefixes, e.g. `symbol_accuracy`); the CSV and JSON have every metric.
pub fn write(dir: &Path, chosen: &[String]) -> Result<String, Failure> {
    let path = dir.join(SWEEP_FILE);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| fail(format!("{} is not a sweep's folder ({}: {e})", dir.display(), path.display())))?;
    let d: Definition = serde_json::from_str(&text).map_err(|e| fail(format!("{}: {e}", path.display())))?;
    let mut rows = Vec::new();
    let mut provenance = BTreeSet::new();
    for point in &d.points {
        let mut runs = Vec::new();
        for &seed in &d.seeds {
            if let Some(report) = read_report(&d.run_dir(dir, point, seed))? {
                let p = &report["provenance"];
                if p.is_object() {
                    let text = |k: &str| p[k].as_str().unwrap_or("?").to_string();
                    provenance.insert(format!("commit {}, {} ({} cores)", text("commit"), text("cpu"), p["cores"]));
                }
                runs.push((seed, metrics(&report)));
            }
        }
        rows.push(Row { point, runs });
    }
    let mut keys: Vec<String> = Vec::new();
    for (_, m) in rows.iter().flat_map(|r| &r.runs) {
        for (k, _) in m {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
    }
    let shown: Vec<String> = match chosen {
        [] => keys.iter().filter(|k| shown_by_default(k)).cloned().collect(),
        chosen => {
            let mut shown = Vec::new();
            for c in chosen {
                let matching: Vec<&String> =
                    keys.iter().filter(|k| *k == c || k.starts_with(&format!("{c}."))).collect();
                if matching.is_empty() && !keys.is_empty() {
                    return Err(fail(format!("--metrics {c}: no run reports it; the metrics are {}", keys.join(", "))));
                }
                shown.extend(matching.into_iter().filter(|k| !shown.contains(*k)).cloned().collect::<Vec<_>>());
            }
            shown
        }
    };
    let table = text_table(&d, &rows, &shown, &provenance);
    let io = |e: std::io::Error, name: &str| fail(format!("cannot write {}: {e}", dir.join(name).display()));
    std::fs::write(dir.join("summary.txt"), &table).map_err(|e| io(e, "summary.txt"))?;
    std::fs::write(dir.join("summary.csv"), summary_csv(&d, &rows, &keys)).map_err(|e| io(e, "summary.csv"))?;
    std::fs::write(dir.join("runs.csv"), runs_csv(&d, &rows, &keys)).map_err(|e| io(e, "runs.csv"))?;
    let json = serde_json::to_string_pretty(&summary_json(&d, &rows, &keys)).unwrap_or_default() + "\n";
    std::fs::write(dir.join("summary.json"), json).map_err(|e| io(e, "summary.json"))?;
    let panels: Vec<crate::boxplot::Panel> = shown
        .iter()
        .map(|k| crate::boxplot::Panel {
            title: heading(k),
            boxes: rows
                .iter()
                .map(|r| (r.point.label(), r.spread(k).values.iter().map(|&v| scale(k, v)).collect()))
                .collect(),
        })
        .collect();
    let title = format!("{}: {} seed(s) per point", d.spec, d.seeds.len());
    std::fs::write(dir.join("summary.svg"), crate::boxplot::svg(&title, &panels)).map_err(|e| io(e, "summary.svg"))?;
    Ok(table)
}

/// A column's heading: the key, with memory in MiB.
fn heading(key: &str) -> String {
    match key {
        "peak_rss_bytes" => "peak MiB".to_string(),
        k => k.to_string(),
    }
}

/// A value in the unit its heading names.
fn scale(key: &str, v: f64) -> f64 {
    if key == "peak_rss_bytes" {
        v / 1_048_576.0
    } else {
        v
    }
}

/// `mean ± half the range`, with the places the metric deserves.
fn cell(key: &str, s: &Spread) -> String {
    if s.n == 0 {
        return "-".to_string();
    }
    let (mean, half) = (scale(key, s.mean), scale(key, s.half_range));
    match key {
        "peak_rss_bytes" => format!("{mean:.0} ± {half:.0}"),
        k if k.ends_with("_seconds") => format!("{mean:.1} ± {half:.1}"),
        _ => format!("{mean:.4} ± {half:.4}"),
    }
}

fn text_table(d: &Definition, rows: &[Row], shown: &[String], provenance: &BTreeSet<String>) -> String {
    let seeds: Vec<String> = d.seeds.iter().map(u64::to_string).collect();
    let mut out = format!(
        "{}: {} point(s), seeds {}; mean ± half the range over the finished runs\n",
        d.spec,
        rows.len(),
        seeds.join(", ")
    );
    for p in provenance {
        let _ = writeln!(out, "ran at {p}");
    }
    let first = if d.axes.is_empty() { "point".to_string() } else { d.axes.join(", ") };
    let mut columns: Vec<Vec<String>> =
        vec![std::iter::once(first).chain(rows.iter().map(|r| r.point.label())).collect()];
    columns.push(std::iter::once("runs".to_string()).chain(rows.iter().map(|r| r.runs.len().to_string())).collect());
    for k in shown {
        columns.push(std::iter::once(heading(k)).chain(rows.iter().map(|r| cell(k, &r.spread(k)))).collect());
    }
    let widths: Vec<usize> = columns.iter().map(|c| c.iter().map(|s| s.chars().count()).max().unwrap_or(0)).collect();
    for line in 0..=rows.len() {
        let cells: Vec<String> = columns
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, &w))| if i == 0 { format!("{:<w$}", c[line]) } else { format!("{:>w$}", c[line]) })
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    out
}

/// A CSV field, quoted when it needs to be.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv_line(fields: impl IntoIterator<Item = String>) -> String {
    fields.into_iter().map(|f| field(&f)).collect::<Vec<_>>().join(",") + "\n"
}

/// One line per grid point and metric.
fn summary_csv(d: &Definition, rows: &[Row], keys: &[String]) -> String {
    let stats = ["n", "mean", "half_range", "std", "ci95", "min", "max"];
    let mut out = csv_line(d.axes.iter().cloned().chain(["metric".to_string()]).chain(stats.map(String::from)));
    for r in rows {
        for k in keys {
            let s = r.spread(k);
            if s.n == 0 {
                continue;
            }
            let numbers = [s.mean, s.half_range, s.std, s.ci95, s.min, s.max].map(|x| x.to_string());
            let values = r.point.settings.iter().map(|(_, v)| v.clone());
            out += &csv_line(values.chain([k.clone(), s.n.to_string()]).chain(numbers));
        }
    }
    out
}

/// One line per run, one column per metric: the raw figures, for a notebook.
fn runs_csv(d: &Definition, rows: &[Row], keys: &[String]) -> String {
    let mut out = csv_line(d.axes.iter().cloned().chain(["seed".to_string()]).chain(keys.iter().cloned()));
    for r in rows {
        for (seed, m) in &r.runs {
            let figures =
                keys.iter().map(|k| m.iter().find(|(x, _)| x == k).map_or(String::new(), |(_, v)| v.to_string()));
            let values = r.point.settings.iter().map(|(_, v)| v.clone());
            out += &csv_line(values.chain([seed.to_string()]).chain(figures));
        }
    }
    out
}

fn summary_json(d: &Definition, rows: &[Row], keys: &[String]) -> Value {
    let points: Vec<Value> = rows
        .iter()
        .map(|r| {
            let metrics: serde_json::Map<String, Value> = keys
                .iter()
                .map(|k| (k.clone(), r.spread(k)))
                .filter(|(_, s)| s.n > 0)
                .map(|(k, s)| (k, serde_json::to_value(s).unwrap_or_default()))
                .collect();
            let settings: serde_json::Map<String, Value> =
                r.point.settings.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
            let seeds: Vec<u64> = r.runs.iter().map(|(s, _)| *s).collect();
            json!({"settings": settings, "folder": r.point.folder, "seeds": seeds, "metrics": metrics})
        })
        .collect();
    json!({"spec": d.spec, "spec_sha256": d.spec_sha256, "sets": d.sets, "seeds": d.seeds, "axes": d.axes, "points": points})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_match_hand_computed_figures() {
        let s = Spread::of(vec![0.80, 0.84, 0.82]);
        assert!((s.mean - 0.82).abs() < 1e-12 && (s.half_range - 0.02).abs() < 1e-12);
        assert!((s.std - 0.02).abs() < 1e-12);
        assert!((s.ci95 - 4.303 * 0.02 / 3f64.sqrt()).abs() < 1e-12);
        let one = Spread::of(vec![0.5]);
        assert_eq!((one.std, one.ci95, one.half_range), (0.0, 0.0, 0.0));
        assert!((t975(60) - 2.0).abs() < 0.01 && (t975(120) - 1.98).abs() < 0.01);
    }

    #[test]
    fn reports_flatten_to_dotted_keys() {
        let report = json!({
            "task_accuracy": 0.9, "macro_f1": 0.8, "symbol_accuracy": {"digit": 0.95},
            "constraints": [{"index": 1, "name": null, "satisfaction": 1.0}, {"index": 2, "name": "fairness", "value": 0.01, "satisfaction": 0.0}],
            "per_class_f1": {"net": {">50K": 0.6, "<=50K": null}}, "train_seconds": 3.5, "peak_rss_bytes": 1048576, "seed": 7
        });
        let keys: Vec<String> = metrics(&report).into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            [
                "task_accuracy",
                "macro_f1",
                "symbol_accuracy.digit",
                "constraints.#1.satisfaction",
                "constraints.fairness.satisfaction",
                "constraints.fairness.value",
                "per_class_f1.net.>50K",
                "train_seconds",
                "peak_rss_bytes"
            ]
        );
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(cell("peak_rss_bytes", &Spread::of(vec![1048576.0 * 100.0])), "100 ± 0");
    }
}
