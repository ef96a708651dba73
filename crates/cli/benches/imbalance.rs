//! Learning imbalances (ALGORITHMS.md §4; Tsamoura, Wang, Roth, NeurIPS 2025): MAX-M and SUM-M
//! (`examples/max-m.yaml`, `sum-m.yaml`: 3,000 training tuples, LeNet, Adam 1e-3, batch 64) on
//! long-tailed pools (`expr` for MAX, `exp` for SUM, ratio ρ), balanced test set, trained over 3
//! seeds with the semantic loss (SL, exact inference), then fine-tuned from each seed's SL model
//! with LP pseudo-labels towards ALG1's estimated class ratios for as many epochs again (LP(ALG1):
//! the relaxation, over top-3 proofs; the published scripts start LP from the SL checkpoint too:
//! from scratch, pseudo-labels of an untrained network lock in a wrong labelling that satisfies
//! the training tuples); every trained model is then evaluated as it is and with the test-time corrections LA and CAROT, towards ALG1's ratios
//! and towards the gold ones (an oracle). Per method: digit accuracy, balanced accuracy and many /
//! medium / few-shot accuracy, mean ± half the range over the seeds, and seconds per epoch. Each
//! evaluation's report is kept beside its run (`eval-CORRECTION-PRIOR.json`).
//!
//! Run: `cargo bench -p skilang --bench imbalance` (defaults: MAX, M = 3 as the published MAX
//! scripts, ρ = 15 and 50, 100 epochs, seeds 1, 2, 3; `SKILANG_BENCH_TASKS=max,sum`,
//! `SKILANG_BENCH_M=5`, `SKILANG_BENCH_RATIOS=5,50`, `SKILANG_BENCH_EPOCHS=20`,
//! `SKILANG_BENCH_SEEDS=1`, `SKILANG_BENCH_INJECTIONS=semantic_loss` change them).

mod common;

use common::{data_dir, flag, joined, list, root, set, sweep};
use serde_json::Value;
use skilang_lang::spec::BuiltinSource;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The corrections each trained model is evaluated with, and the ratios they aim at.
const EVALUATIONS: [(&str, &str); 5] =
    [("none", "alg1"), ("la", "alg1"), ("carot", "alg1"), ("la", "gold"), ("carot", "gold")];

/// How each method trains, and its name in the tables.
const INJECTIONS: [(&str, &str); 2] = [("semantic_loss", "SL"), ("lp", "SL → LP(ALG1)")];

fn main() {
    let data = data_dir(BuiltinSource::Mnist);
    let words = |var: &str, default: &[&str]| -> Vec<String> {
        std::env::var(var).map_or(default.iter().map(|s| s.to_string()).collect(), |t| {
            t.split(',').map(|s| s.trim().to_string()).collect()
        })
    };
    let tasks = words("SKILANG_BENCH_TASKS", &["max"]);
    let injections = words("SKILANG_BENCH_INJECTIONS", &["semantic_loss", "lp"]);
    let m = list::<usize>("SKILANG_BENCH_M").and_then(|m| m.first().copied()).unwrap_or(3);
    let ratios = list::<f64>("SKILANG_BENCH_RATIOS").unwrap_or(vec![15.0, 50.0]);
    let epochs = list::<usize>("SKILANG_BENCH_EPOCHS").and_then(|e| e.first().copied()).unwrap_or(100);
    let seeds = list::<u64>("SKILANG_BENCH_SEEDS").unwrap_or(vec![1, 2, 3]);
    println!("Learning imbalances: LeNet, {epochs} epochs, seeds {}, CPU (burn flex)", joined(&seeds));
    println!("published: LP(ALG1) beats SL, and LP(ALG1) + CAROT beats SL + LA, by up to 14 points");
    for task in &tasks {
        let spec = format!("examples/{task}-m.yaml");
        for &ratio in &ratios {
            println!("\n{task}-M, M = {m}, ρ = {ratio}, {}", profile(task));
            let head = ["accuracy", "balanced", "many", "medium", "few"];
            println!(
                "{:<30} {:>15} {:>15} {:>15} {:>15} {:>15} {:>9}",
                "method", head[0], head[1], head[2], head[3], head[4], "s/epoch"
            );
            let mut sl_runs = Vec::new();
            for (injection, name) in INJECTIONS.iter().filter(|(i, _)| injections.iter().any(|x| x == i)) {
                let shared = [
                    flag("--epochs", epochs),
                    set("optimization.injection", injection),
                    set("data.mnist.instances.xs", m),
                    set("data.mnist.imbalance.ratio", ratio),
                ]
                .concat();
                let point = format!("imbalance-{task}-M{m}-rho{ratio}-{injection}");
                // SL: one sweep over the seeds. LP: per seed, from that seed's SL model.
                let runs: Vec<PathBuf> = match (*injection, sl_runs.as_slice()) {
                    ("lp", [_, ..]) => seeds
                        .iter()
                        .zip(&sl_runs)
                        .map(|(seed, sl): (&u64, &PathBuf)| {
                            let weights = sl.join("model/digit.safetensors");
                            let args = [
                                flag("--seeds", seed),
                                shared.clone(),
                                set("learnables.digit.weights", weights.display()),
                            ]
                            .concat();
                            let swept = sweep(&format!("{point}-from-sl-seed{seed}"), &spec, Some(&data), &args);
                            swept.dir.join(format!("runs/spec/seed-{seed}"))
                        })
                        .collect(),
                    _ => {
                        let swept =
                            sweep(&point, &spec, Some(&data), &[flag("--seeds", joined(&seeds)), shared].concat());
                        seeds.iter().map(|seed| swept.dir.join(format!("runs/spec/seed-{seed}"))).collect()
                    }
                };
                if *injection == "semantic_loss" {
                    sl_runs = runs.clone();
                }
                let per_epoch: Vec<f64> = runs
                    .iter()
                    .map(|run| {
                        let r = report(&run.join("report.json"));
                        r["train_seconds"].as_f64().unwrap_or(f64::NAN) / r["epochs"].as_f64().unwrap_or(f64::NAN)
                    })
                    .collect();
                for (correction, prior) in EVALUATIONS {
                    let reports: Vec<Value> =
                        runs.iter().map(|run| evaluated(run, &spec, &data, correction, prior)).collect();
                    let figure =
                        |read: &dyn Fn(&Value) -> Option<f64>| spread(reports.iter().filter_map(read).collect());
                    let (method, time) = match correction {
                        "none" => {
                            (name.to_string(), format!("{:.1}", per_epoch.iter().sum::<f64>() / per_epoch.len() as f64))
                        }
                        c => (format!("{name} + {} ({prior})", c.to_uppercase()), String::new()),
                    };
                    println!(
                        "{method:<30} {:>15} {:>15} {:>15} {:>15} {:>15} {time:>9}",
                        figure(&|r| r["symbol_accuracy"]["digit"].as_f64()),
                        figure(&|r| r["balanced_accuracy"]["digit"].as_f64()),
                        figure(&|r| r["shot_accuracy"]["digit"]["many"].as_f64()),
                        figure(&|r| r["shot_accuracy"]["digit"]["medium"].as_f64()),
                        figure(&|r| r["shot_accuracy"]["digit"]["few"].as_f64()),
                    );
                }
                println!(
                    "  runs and reports: {}",
                    runs.iter().map(|r| r.display().to_string()).collect::<Vec<_>>().join(", ")
                );
            }
        }
    }
}

fn profile(task: &str) -> &'static str {
    if task == "max" {
        "expr (the smallest digits rarest)"
    } else {
        "exp (the largest digits rarest)"
    }
}

/// The report of the model trained in `run`, evaluated with `correction` towards `prior`'s
/// ratios: kept in the run's folder, so a second benchmark run reads it instead.
fn evaluated(run: &Path, spec: &str, data: &Path, correction: &str, prior: &str) -> Value {
    let kept = run.join(format!("eval-{correction}-{prior}.json"));
    if !kept.exists() {
        let out = Command::new(env!("CARGO_BIN_EXE_skilang"))
            .current_dir(root())
            .args(["eval", spec, "--correction", correction, "--prior", prior, "--model"])
            .arg(run.join("model"))
            .arg("--data-dir")
            .arg(data)
            .stderr(std::process::Stdio::null())
            .output()
            .expect("the skilang binary runs");
        if !out.status.success() {
            eprintln!("{}: evaluation failed ({})", run.display(), out.status);
            std::process::exit(out.status.code().unwrap_or(2));
        }
        std::fs::write(&kept, &out.stdout).expect("the run's folder is writable");
    }
    report(&kept)
}

fn report(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .expect("a report is JSON")
}

/// Percentages as `mean ± half-range`.
fn spread(xs: Vec<f64>) -> String {
    if xs.is_empty() {
        return "n/a".into();
    }
    let mean = xs.iter().sum::<f64>() / xs.len() as f64;
    let (lo, hi) = xs.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| (l.min(x), h.max(x)));
    format!("{:.2} ± {:.2}", 100.0 * mean, 50.0 * (hi - lo))
}
