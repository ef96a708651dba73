//! Learning imbalances (ALGORITHMS.md §4; Tsamoura, Wang, Roth, NeurIPS 2025): MAX-M and SUM-M
//! (`examples/max-m.yaml`, `sum-m.yaml`: 3,000 training tuples, LeNet, Adam 1e-3, batch 64) on
//! long-tailed pools (`expr` for MAX, `exp` for SUM, ratio ρ), balanced test set, 3 seeds. The
//! methods: the semantic loss (SL, exact inference), SL + RECORDS, and LP pseudo-labels (the
//! relaxation, over top-3 proofs) towards ALG1's, EMP's or the gold class ratios, each fine-tuned
//! from its seed's SL model for as many epochs again, as the published scripts start LP from the
//! SL checkpoint (from scratch, an untrained network's pseudo-labels lock in a wrong labelling
//! that satisfies the training tuples). Every trained model is then evaluated as it is and with
//! the test-time corrections LA and CAROT, towards ALG1's ratios and towards the gold ones (an
//! oracle). Per method: digit accuracy, balanced accuracy and many / medium / few-shot accuracy,
//! mean ± half the range over the seeds, and seconds per epoch; each evaluation's report is kept
//! beside its run (`eval-CORRECTION-PRIOR.json`), and box plots of balanced and few-shot
//! accuracy per ρ (corrections towards ALG1's ratios) go to `imbalance-TASK-MM-COMMIT.svg`
//! beside the runs.
//!
//! Run: `cargo bench -p skilang --bench imbalance` (defaults: MAX, M = 3 as the published MAX
//! scripts, ρ = 15 and 50, 100 epochs, seeds 1, 2, 3, every method; `SKILANG_BENCH_TASKS=max,sum`,
//! `SKILANG_BENCH_M=5`, `SKILANG_BENCH_RATIOS=5,50`, `SKILANG_BENCH_EPOCHS=20`,
//! `SKILANG_BENCH_SEEDS=1`, `SKILANG_BENCH_METHODS=sl,records,lp-alg1,lp-emp,lp-gold` change them;
//! an LP method trains SL first).

#[path = "../src/boxplot.rs"]
#[allow(dead_code, unused_imports)]
mod boxplot;
mod common;

use common::{data_dir, flag, joined, list, out_path, root, set, sweep};
use serde_json::Value;
use skilang_lang::spec::BuiltinSource;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The corrections each trained model is evaluated with, and the ratios they aim at.
const EVALUATIONS: [(&str, &str); 5] =
    [("none", "alg1"), ("la", "alg1"), ("carot", "alg1"), ("la", "gold"), ("carot", "gold")];

/// A way of training: its key in `SKILANG_BENCH_METHODS`, its name in the tables, its settings,
/// and whether it fine-tunes its seed's SL model.
struct Method {
    key: &'static str,
    name: &'static str,
    sets: &'static [(&'static str, &'static str)],
    from_sl: bool,
}

const SL: &[(&str, &str)] = &[("optimization.injection", "semantic_loss")];

const METHODS: [Method; 5] = [
    Method { key: "sl", name: "SL", sets: SL, from_sl: false },
    Method {
        key: "records",
        name: "SL + RECORDS",
        sets: &[("optimization.injection", "semantic_loss"), ("optimization.records", "true")],
        from_sl: false,
    },
    Method {
        key: "lp-alg1",
        name: "SL → LP(ALG1)",
        sets: &[("optimization.injection", "lp"), ("optimization.prior", "alg1")],
        from_sl: true,
    },
    Method {
        key: "lp-emp",
        name: "SL → LP(EMP)",
        sets: &[("optimization.injection", "lp"), ("optimization.prior", "emp")],
        from_sl: true,
    },
    Method {
        key: "lp-gold",
        name: "SL → LP(gold)",
        sets: &[("optimization.injection", "lp"), ("optimization.prior", "gold")],
        from_sl: true,
    },
];

fn main() {
    let data = data_dir(BuiltinSource::Mnist);
    let words = |var: &str, default: &[&str]| -> Vec<String> {
        std::env::var(var).map_or(default.iter().map(|s| s.to_string()).collect(), |t| {
            t.split(',').map(|s| s.trim().to_string()).collect()
        })
    };
    let tasks = words("SKILANG_BENCH_TASKS", &["max"]);
    let chosen = words("SKILANG_BENCH_METHODS", &METHODS.map(|m| m.key));
    if let Some(unknown) = chosen.iter().find(|c| METHODS.iter().all(|m| m.key != c.as_str())) {
        eprintln!("SKILANG_BENCH_METHODS: no method `{unknown}` (known: {})", METHODS.map(|m| m.key).join(", "));
        std::process::exit(2);
    }
    let m = list::<usize>("SKILANG_BENCH_M").and_then(|m| m.first().copied()).unwrap_or(3);
    let ratios = list::<f64>("SKILANG_BENCH_RATIOS").unwrap_or(vec![15.0, 50.0]);
    let epochs = list::<usize>("SKILANG_BENCH_EPOCHS").and_then(|e| e.first().copied()).unwrap_or(100);
    let seeds = list::<u64>("SKILANG_BENCH_SEEDS").unwrap_or(vec![1, 2, 3]);
    println!("Learning imbalances: LeNet, {epochs} epochs, seeds {}, CPU (burn flex)", joined(&seeds));
    println!("published: LP(ALG1) beats SL, and LP(ALG1) + CAROT beats SL + LA, by up to 14 points");
    for task in &tasks {
        let spec = format!("examples/{task}-m.yaml");
        let mut panels = Vec::new();
        for &ratio in &ratios {
            println!("\n{task}-M, M = {m}, ρ = {ratio}, {}", profile(task));
            let head = ["accuracy", "balanced", "many", "medium", "few"];
            println!(
                "{:<30} {:>15} {:>15} {:>15} {:>15} {:>15} {:>9}",
                "method", head[0], head[1], head[2], head[3], head[4], "s/epoch"
            );
            let (mut balanced, mut few) = (Vec::new(), Vec::new());
            let shared =
                [flag("--epochs", epochs), set("data.mnist.instances.xs", m), set("data.mnist.imbalance.ratio", ratio)];
            let point = |key: &str| format!("imbalance-{task}-M{m}-rho{ratio}-{key}");
            // SL: one sweep over the seeds, which the LP methods start from.
            let train = |method: &Method| -> Vec<PathBuf> {
                let sets: Vec<String> = method.sets.iter().flat_map(|(k, v)| set(k, v)).collect();
                let swept = sweep(
                    &point(method.key),
                    &spec,
                    Some(&data),
                    &[flag("--seeds", joined(&seeds)), shared.concat(), sets].concat(),
                );
                seeds.iter().map(|seed| swept.dir.join(format!("runs/spec/seed-{seed}"))).collect()
            };
            let wanted = |m: &Method| chosen.iter().any(|c| c == m.key);
            let sl_runs = METHODS.iter().any(|m| m.from_sl && wanted(m)).then(|| train(&METHODS[0]));
            for method in METHODS.iter().filter(|m| wanted(m)) {
                let runs: Vec<PathBuf> = match (&sl_runs, method.from_sl) {
                    (Some(sl), true) => seeds
                        .iter()
                        .zip(sl)
                        .map(|(seed, sl)| {
                            let weights = sl.join("model/digit.safetensors");
                            let sets: Vec<String> = method.sets.iter().flat_map(|(k, v)| set(k, v)).collect();
                            let args = [
                                flag("--seeds", seed),
                                shared.concat(),
                                sets,
                                set("learnables.digit.weights", weights.display()),
                            ]
                            .concat();
                            let swept =
                                sweep(&format!("{}-from-sl-seed{seed}", point(method.key)), &spec, Some(&data), &args);
                            swept.dir.join(format!("runs/spec/seed-{seed}"))
                        })
                        .collect(),
                    (Some(sl), false) if method.key == "sl" => sl.clone(),
                    _ => train(method),
                };
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
                    let values = |read: &dyn Fn(&Value) -> Option<f64>| -> Vec<f64> {
                        reports.iter().filter_map(read).map(|x| 100.0 * x).collect()
                    };
                    let read_balanced = |r: &Value| r["balanced_accuracy"]["digit"].as_f64();
                    let read_few = |r: &Value| r["shot_accuracy"]["digit"]["few"].as_f64();
                    let (method_name, time) = match correction {
                        "none" => (
                            method.name.to_string(),
                            format!("{:.1}", per_epoch.iter().sum::<f64>() / per_epoch.len() as f64),
                        ),
                        c => (format!("{} + {} ({prior})", method.name, c.to_uppercase()), String::new()),
                    };
                    if prior == "alg1" {
                        let label = match correction {
                            "none" => method.name.to_string(),
                            c => format!("{} + {}", method.name, c.to_uppercase()),
                        };
                        balanced.push((label.clone(), values(&read_balanced)));
                        few.push((label, values(&read_few)));
                    }
                    println!(
                        "{method_name:<30} {:>15} {:>15} {:>15} {:>15} {:>15} {time:>9}",
                        spread(values(&|r| r["symbol_accuracy"]["digit"].as_f64())),
                        spread(values(&read_balanced)),
                        spread(values(&|r| r["shot_accuracy"]["digit"]["many"].as_f64())),
                        spread(values(&|r| r["shot_accuracy"]["digit"]["medium"].as_f64())),
                        spread(values(&read_few)),
                    );
                }
                println!(
                    "  runs and reports: {}",
                    runs.iter().map(|r| r.display().to_string()).collect::<Vec<_>>().join(", ")
                );
            }
            panels.push(boxplot::Panel { title: format!("ρ = {ratio}: balanced accuracy (%)"), boxes: balanced });
            panels.push(boxplot::Panel { title: format!("ρ = {ratio}: few-shot accuracy (%)"), boxes: few });
        }
        let title = format!("{task}-M, M = {m}, {} pool, {epochs} epochs, seeds {}", profile(task), joined(&seeds));
        let plot = out_path(&format!("imbalance-{task}-M{m}")).with_extension("svg");
        std::fs::create_dir_all(plot.parent().expect("a folder")).expect("the benchmark folder is writable");
        std::fs::write(&plot, boxplot::svg(&title, &panels)).expect("the benchmark folder is writable");
        println!("\nplot: {}", plot.display());
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
    format!("{mean:.2} ± {:.2}", (hi - lo) / 2.0)
}
