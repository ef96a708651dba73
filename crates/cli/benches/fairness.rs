//! Fair income prediction on UCI Adult (ALGORITHMS.md §5): `examples/adult-fairness.yaml` under
//! fuzzy constraining, sweeping the weight of the statistical-parity constraint over 3 seeds.
//! One table (accuracy, macro-F1, F1 of `>50K`, SP on the UCI test set: mean ± spread over seeds)
//! beside the reference figures measured on the same split, and one SVG of the accuracy–fairness
//! trade-off.
//!
//! Run: `cargo bench -p skilang --bench fairness`
//! (`SKILANG_BENCH_WEIGHTS=0,1` and `SKILANG_BENCH_SEEDS=1` run a subset; the plot goes to
//! `SKILANG_BENCH_SVG`, default `target/fairness.svg`).

use std::fmt::Write;
mod common;

use common::{cell, data_dir, list, set, stats, train};
use skilang_lang::spec::BuiltinSource;

const WEIGHTS: [f64; 6] = [0.0, 1.0, 3.0, 10.0, 30.0, 100.0];
const SEEDS: [u64; 3] = [1, 2, 3];

/// Measured on a machine like ours (ALGORITHMS.md §5): method, test accuracy, SP.
const PEERS: [(&str, &str, &str); 6] = [
    ("MLP (100, 50), no constraint", "0.854 / 0.857", "0.101 / 0.093"),
    ("histogram gradient boosting", "0.873", "0.098"),
    ("fairlearn ExponentiatedGradient(logistic regression), DP ≤ 0.01", "0.850", "0.010"),
    ("fairlearn ExponentiatedGradient(gradient boosting), DP ≤ 0.01", "0.871", "0.008"),
    ("fairlearn ThresholdOptimizer(MLP), reads race at test time", "0.854", "0.002"),
    ("MLP + λ·|SP_batch| (numpy), λ = 0.25 / 1 / 4", "0.855 / 0.854 / 0.846", "0.006 / 0.002 / 0.031"),
];

struct Run {
    accuracy: f64,
    macro_f1: f64,
    f1_positive: f64,
    sp: f64,
    seconds: f64,
    peak_mib: f64,
}

fn main() {
    let data = data_dir(BuiltinSource::Adult);
    let weights = list::<f64>("SKILANG_BENCH_WEIGHTS").unwrap_or(WEIGHTS.to_vec());
    let seeds = list::<u64>("SKILANG_BENCH_SEEDS").unwrap_or(SEEDS.to_vec());
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/adult-fairness.yaml");
    let mut table: Vec<(f64, Vec<Run>)> = Vec::new();
    for &w in &weights {
        let mut runs = Vec::new();
        for &seed in &seeds {
            let args = [vec!["--seed".to_string(), seed.to_string()], set("constraints.1.weight", w).to_vec()].concat();
            let report = train(&format!("fairness-{w}-{seed}"), spec, &data, &args);
            let fairness = report["constraints"]
                .as_array()
                .and_then(|cs| cs.iter().find(|c| c["name"] == "fairness"))
                .expect("the fairness constraint is reported");
            runs.push(Run {
                accuracy: report["task_accuracy"].as_f64().unwrap_or(f64::NAN),
                macro_f1: report["macro_f1"].as_f64().unwrap_or(f64::NAN),
                f1_positive: report["per_class_f1"]["over50k"][">50K"].as_f64().unwrap_or(f64::NAN),
                sp: fairness["value"].as_f64().unwrap_or(f64::NAN),
                seconds: report["train_seconds"].as_f64().unwrap_or(f64::NAN),
                peak_mib: report["peak_rss_bytes"].as_f64().unwrap_or(0.0) / 1048576.0,
            });
        }
        table.push((w, runs));
    }
    println!(
        "UCI Adult, income from 14 features, MLP (100, 50), fuzzy constraining (product), SP(race: White vs rest) <= 0.01;"
    );
    println!("UCI test set (16,281 people), {} seed(s): mean ± half the range; CPU (burn flex)", seeds.len());
    println!(
        "{:>6}  {:>15}  {:>15}  {:>15}  {:>15}  {:>9}  {:>8}",
        "weight", "accuracy", "macro-F1", "F1 >50K", "SP", "train s", "peak MiB"
    );
    for (w, runs) in &table {
        println!(
            "{w:>6}  {:>15}  {:>15}  {:>15}  {:>15}  {:>9.1}  {:>8.0}",
            cell(runs.iter().map(|r| r.accuracy).collect()),
            cell(runs.iter().map(|r| r.macro_f1).collect()),
            cell(runs.iter().map(|r| r.f1_positive).collect()),
            cell(runs.iter().map(|r| r.sp).collect()),
            stats(&runs.iter().map(|r| r.seconds).collect::<Vec<_>>()).0,
            runs.iter().map(|r| r.peak_mib).fold(0.0, f64::max),
        );
    }
    println!("\nReference figures on the same split (ALGORITHMS.md §5): method — accuracy — SP");
    for (method, accuracy, sp) in PEERS {
        println!("  {method} — {accuracy} — {sp}");
    }
    let svg_path = std::env::var("SKILANG_BENCH_SVG")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/fairness.svg").to_string());
    std::fs::write(&svg_path, plot(&table)).expect("write the plot");
    println!("\nplot: {svg_path}");
}

/// Accuracy against SP, one point per weight with bars over seeds, the peers as crosses.
fn plot(table: &[(f64, Vec<Run>)]) -> String {
    let (w, h, pad) = (640.0, 400.0, 56.0);
    let sp_max = table.iter().flat_map(|(_, r)| r.iter().map(|r| r.sp)).fold(0.11f64, f64::max);
    let acc: Vec<f64> = table.iter().flat_map(|(_, r)| r.iter().map(|r| r.accuracy)).collect();
    let (acc_lo, acc_hi) = (acc.iter().cloned().fold(0.84f64, f64::min) - 0.005, 0.88);
    let x = |sp: f64| pad + (w - 2.0 * pad) * sp / sp_max;
    let y = |a: f64| h - pad - (h - 2.0 * pad) * (a - acc_lo) / (acc_hi - acc_lo);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/>"#
    );
    let _ = writeln!(
        s,
        r#"<text x="{pad}" y="24" font-size="14">Adult: accuracy vs statistical parity (UCI test set)</text><line x1="{pad}" y1="{}" x2="{}" y2="{}" stroke="black"/><line x1="{pad}" y1="{pad}" x2="{pad}" y2="{}" stroke="black"/><text x="{}" y="{}">SP (White vs rest)</text><text x="8" y="{pad}">accuracy</text>"#,
        h - pad,
        w - pad,
        h - pad,
        h - pad,
        w / 2.0 - 40.0,
        h - 16.0
    );
    for tick in [0.0, sp_max / 2.0, sp_max] {
        let _ = writeln!(s, r#"<text x="{}" y="{}" text-anchor="middle">{tick:.3}</text>"#, x(tick), h - pad + 16.0);
    }
    for tick in [acc_lo, (acc_lo + acc_hi) / 2.0, acc_hi] {
        let _ = writeln!(s, r#"<text x="{}" y="{}" text-anchor="end">{tick:.3}</text>"#, pad - 4.0, y(tick) + 4.0);
    }
    let peers = [(0.101, 0.854, "MLP"), (0.010, 0.850, "EG(LR)"), (0.008, 0.871, "EG(GB)"), (0.098, 0.873, "GB")];
    for (sp, a, name) in peers {
        let (px, py) = (x(sp), y(a));
        let _ = writeln!(
            s,
            r##"<path d="M{} {} l8 8 M{} {} l-8 8" stroke="#888"/><text x="{}" y="{}" fill="#888">{name}</text>"##,
            px - 4.0,
            py - 4.0,
            px + 4.0,
            py - 4.0,
            px + 7.0,
            py - 6.0
        );
    }
    let mut line = Vec::new();
    for (weight, runs) in table {
        let (sp, sp_spread) = stats(&runs.iter().map(|r| r.sp).collect::<Vec<_>>());
        let (a, a_spread) = stats(&runs.iter().map(|r| r.accuracy).collect::<Vec<_>>());
        let (px, py) = (x(sp), y(a));
        line.push(format!("{px:.1},{py:.1}"));
        let _ = writeln!(
            s,
            r##"<line x1="{}" y1="{py}" x2="{}" y2="{py}" stroke="#1f77b4"/><line x1="{px}" y1="{}" x2="{px}" y2="{}" stroke="#1f77b4"/><circle cx="{px}" cy="{py}" r="4" fill="#1f77b4"/><text x="{}" y="{}" fill="#1f77b4">w={weight}</text>"##,
            x(sp - sp_spread),
            x(sp + sp_spread),
            y(a - a_spread),
            y(a + a_spread),
            px + 6.0,
            py + 14.0
        );
    }
    let _ =
        writeln!(s, r##"<polyline points="{}" fill="none" stroke="#1f77b4" stroke-dasharray="4 3"/>"##, line.join(" "));
    s.push_str("</svg>\n");
    s
}
