//! The imbalance methods on the specs as shipped (`examples/max-m.yaml`, `sum-m.yaml`): the
//! transition map the engine derives from their constraints is the closed form, and a trained
//! model's test-time corrections are chosen on weak labels and reported.

use skilang_lang::check::Engine;
use skilang_lang::overrides::Override;
use skilang_lang::spec::BuiltinSource;
use skilang_learn::examples::{Prepare, Prepared};
use skilang_learn::run::Run;
use std::path::{Path, PathBuf};
use std::process::Command;

fn data_dir() -> PathBuf {
    let dir = skilang_data::dir::for_checkout(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")));
    skilang_data::catalog::ensure(&[BuiltinSource::Mnist], &dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}

/// The example spec `name`, with `sets`, checked and with its data loaded.
fn run_of(name: &str, sets: &[String]) -> Run {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../examples/{name}.yaml"));
    let overrides: Vec<Override> = sets.iter().map(|s| s.parse().unwrap()).collect();
    let outcome = skilang_lang::check_file_with(&path, &overrides).unwrap();
    assert!(outcome.is_valid(), "{name}: {:?}", outcome.diagnostics);
    let (spec, program) = (outcome.spec.unwrap(), outcome.program.unwrap());
    let data = data_dir();
    let mut load =
        |d: &skilang_lang::spec::Dataset, seed| skilang_data::load(d, &data, seed).map_err(|e| e.to_string());
    Run::new(spec, program, &mut load, &mut |_| {}).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_transition_map_the_engine_derives_from_the_specs_is_the_closed_form() {
    // Arbitrary ratios: T(r) = P(σ(y) = s) for y i.i.d. r.
    let r: Vec<f64> = (0..10).map(|c| (c + 1) as f64 / 55.0).collect();
    let cdf = |k: usize| r[..=k].iter().sum::<f64>();
    let convolution = |m: usize| {
        let mut t = vec![1.0];
        for _ in 0..m {
            let mut next = vec![0.0; t.len() + 9];
            t.iter().enumerate().for_each(|(i, a)| r.iter().enumerate().for_each(|(j, b)| next[i + j] += a * b));
            t = next;
        }
        t
    };
    for (task, m) in [("max-m", 3), ("max-m", 4), ("sum-m", 3)] {
        let sets = [format!("data.mnist.instances.xs={m}"), "data.mnist.examples=200".into()];
        let run = run_of(task, &sets);
        let drawn = run.examples(Some(&Prepare::Infer(skilang_logic::engine(Engine::Exact)))).unwrap();
        let gold = &run.tasks[0].train.labels;
        let sums = convolution(m);
        let logw = vec![r.iter().map(|x| x.ln()).collect::<Vec<f64>>(); m];
        assert_eq!(drawn.train.len(), 200);
        for e in &drawn.train {
            let digits: Vec<usize> = e.rows.iter().map(|&row| gold[row] as usize).collect();
            let Prepared::Inference(event) = &*e.constraints[0].prepared else { panic!("prepared for inference") };
            let want = match task {
                "max-m" => {
                    let s = *digits.iter().max().unwrap();
                    cdf(s).powi(m as i32) - if s == 0 { 0.0 } else { cdf(s - 1).powi(m as i32) }
                }
                _ => sums[digits.iter().sum::<usize>()],
            };
            let got = event.log_prob(&logw).exp();
            assert!((got - want).abs() < 1e-12, "{task}, M = {m}, digits {digits:?}: {got} vs {want}");
        }
    }
}

fn skilang(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_skilang")).args(args).output().expect("the binary runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().expect("exited normally"), text(&out.stdout), text(&out.stderr))
}

#[test]
fn corrections_are_chosen_on_weak_labels_towards_the_estimated_or_gold_ratios() {
    let dir = std::env::temp_dir().join(format!("skilang-test-{}-imbalance", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let data = data_dir();
    let data = data.to_str().unwrap();
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/max-m.yaml");
    let out = dir.join("run");
    let sets = ["data.mnist.imbalance.ratio=15", "data.mnist.examples=1000", "evaluation.correction=la"];
    let sets: Vec<&str> = sets.iter().flat_map(|s| ["--set", *s]).collect();
    let args =
        [&["train", spec, "--epochs", "2", "--data-dir", data, "--out", out.to_str().unwrap()][..], &sets].concat();
    let (code, _, stderr) = skilang(&args);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("long-tailed (expr, ratio 15)"), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let shots = &report["shot_accuracy"]["digit"];
    assert!(["many", "medium", "few"].iter().all(|s| shots[s].is_number()), "{shots}");
    assert!(report["balanced_accuracy"]["digit"].is_number());
    // LA's settings start at τ = 0, no correction: what it chooses satisfies at least as many.
    let la = &report["correction"];
    assert_eq!((la["correction"].as_str(), la["prior"].as_str()), (Some("la"), Some("alg1")));
    assert_eq!(la["validation_examples"], 256);
    assert!(la["validation_satisfied"].as_f64() >= la["uncorrected_validation_satisfied"].as_f64(), "{la}");
    let model = out.join("model");
    let eval = |correction: &str, prior: &str| -> serde_json::Value {
        let args = ["eval", spec, "--model", model.to_str().unwrap(), "--data-dir", data];
        let (code, stdout, stderr) = skilang(&[&args[..], &["--correction", correction, "--prior", prior]].concat());
        assert_eq!(code, 0, "{stderr}");
        serde_json::from_str(&stdout).unwrap()
    };
    let carot = eval("carot", "gold");
    let ratios = |r: &serde_json::Value| -> Vec<f64> {
        r["correction"]["ratios"]["digit"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
    };
    let gold = ratios(&carot);
    assert!((gold.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    // expr at ρ = 15: class 9 is 15 times class 0.
    assert!((gold[9] / gold[0] - 15.0).abs() < 0.2, "{gold:?}");
    assert!(carot["correction"]["eta"].is_number());
    // MAX sees class k's share only through F(k)^M: from 1,000 labels the upper CDF is
    // estimated within a few points, the rare small digits hardly at all.
    let estimated = ratios(&report);
    let cdf = |r: &[f64], k: usize| r[..=k].iter().sum::<f64>();
    for k in 5..10 {
        assert!((cdf(&estimated, k) - cdf(&gold, k)).abs() < 0.06, "F({k}): ALG1 {estimated:?} vs gold {gold:?}");
    }
    // Without a correction, the evaluation is the training run's own report.
    let plain = eval("none", "alg1");
    assert!(plain["correction"].is_null());
    assert_eq!(plain["symbol_accuracy"], la["uncorrected_symbol_accuracy"]);
    std::fs::remove_dir_all(&dir).ok();
}

/// LP(EMP): the ratios start uniform, move by the moving average each epoch (a step of at most
/// γ = 0.05 while pre-estimating, 0.01 after), are carried from the pre-estimation into the
/// training that follows, and each step is towards the shares of the networks' own predictions,
/// which `eval --prior emp` reads from the trained model.
#[test]
fn emp_moves_the_ratios_towards_the_networks_predictions_each_epoch() {
    let dir = std::env::temp_dir().join(format!("skilang-test-{}-emp", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let data = data_dir();
    let data = data.to_str().unwrap();
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/max-m.yaml");
    let out = dir.join("run");
    let sets = [
        "data.mnist.imbalance.ratio=15",
        "data.mnist.examples=600",
        "optimization.injection=lp",
        "optimization.prior=emp",
    ];
    let sets: Vec<&str> = sets.iter().flat_map(|s| ["--set", *s]).collect();
    let args =
        [&["train", spec, "--epochs", "3", "--data-dir", data, "--out", out.to_str().unwrap()][..], &sets].concat();
    let (code, _, stderr) = skilang(&args);
    assert_eq!(code, 0, "{stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let curve = |name: &str| -> Vec<Vec<f64>> {
        let epochs = report["curves"][name].as_array().unwrap_or_else(|| panic!("{name}: {report}"));
        let ratios = epochs.iter().map(|e| e["prior_ratios"][0].as_array().unwrap().iter());
        ratios.map(|r| r.map(|x| x.as_f64().unwrap()).collect()).collect()
    };
    let (pre, main) = (curve("digit (EMP pre-estimation)"), curve("digit"));
    assert_eq!((pre.len(), main.len()), (3, 3), "the pre-estimation runs as many epochs as training, up to 20");
    let uniform = vec![0.1; 10];
    let steps = std::iter::once((&uniform, &pre[0], 0.05))
        .chain(pre.windows(2).map(|w| (&w[0], &w[1], 0.05)))
        .chain(std::iter::once((&pre[2], &main[0], 0.01)))
        .chain(main.windows(2).map(|w| (&w[0], &w[1], 0.01)));
    for (before, after, gamma) in steps {
        assert!((after.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{after:?}");
        // r ← γ·shares + (1 − γ)·r with shares in [0, 1] moves each ratio by at most γ.
        let moved = before.iter().zip(after).map(|(b, a)| (a - b).abs()).fold(0.0, f64::max);
        assert!(moved > 0.0 && moved <= gamma + 1e-12, "γ = {gamma}: {before:?} → {after:?}");
    }
    // The last step's shares are the kept (last) model's predictions, as `eval --prior emp` counts them.
    let shares: Vec<f64> = main[2].iter().zip(&main[1]).map(|(a, b)| (a - 0.99 * b) / 0.01).collect();
    let model = out.join("model");
    let eval = ["eval", spec, "--model", model.to_str().unwrap(), "--data-dir", data, "--correction", "la"];
    let (code, stdout, stderr) = skilang(&[&eval[..], &["--prior", "emp"], &sets].concat());
    assert_eq!(code, 0, "{stderr}");
    let evaluated: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let counted = evaluated["correction"]["ratios"]["digit"].as_array().unwrap();
    for (s, c) in shares.iter().zip(counted) {
        assert!((s - c.as_f64().unwrap()).abs() < 1e-6, "{shares:?} vs {counted:?}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// SL + RECORDS: the network's momentum feature mean is trained along and saved with its
/// weights, so that evaluating the saved model gives the run's (debiased) figures; `check`
/// refuses RECORDS where no objective reads the networks' distributions.
#[test]
fn records_debias_predictions_with_a_feature_mean_saved_in_the_model() {
    let dir = std::env::temp_dir().join(format!("skilang-test-{}-records", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let data = data_dir();
    let data = data.to_str().unwrap();
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/max-m.yaml");
    let out = dir.join("run");
    let sets = ["data.mnist.imbalance.ratio=50", "data.mnist.examples=1000", "optimization.records=true"];
    let sets: Vec<&str> = sets.iter().flat_map(|s| ["--set", *s]).collect();
    let args =
        [&["train", spec, "--epochs", "2", "--data-dir", data, "--out", out.to_str().unwrap()][..], &sets].concat();
    let (code, _, stderr) = skilang(&args);
    assert_eq!(code, 0, "{stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let model = out.join("model");
    let eval = |sets: &[&str]| -> serde_json::Value {
        let args = ["eval", spec, "--model", model.to_str().unwrap(), "--data-dir", data];
        let (code, stdout, stderr) = skilang(&[&args[..], sets].concat());
        assert_eq!(code, 0, "{stderr}");
        serde_json::from_str(&stdout).unwrap()
    };
    let again = eval(&sets);
    for key in ["symbol_accuracy", "balanced_accuracy", "per_class_accuracy", "task_accuracy", "weights_sha256"] {
        assert_eq!(again[key], report[key], "{key}");
    }
    let wrong = ["--set", "optimization.injection=lp", "--set", "optimization.records=true"];
    let (code, _, stderr) = skilang(&[&["check", spec][..], &wrong].concat());
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("`records` debiases the distributions semantic loss and EM reason from"), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}

/// LP(EMP) killed at its first checkpoint and resumed ends where the uninterrupted run ends: the
/// same weights and, epoch by epoch, the same losses and ratios (restored from the checkpoint's
/// last epoch, then carried into the training that follows the pre-estimation).
#[test]
fn lp_emp_killed_and_resumed_moves_its_ratios_as_the_uninterrupted_run() {
    let dir = std::env::temp_dir().join(format!("skilang-test-{}-emp-resume", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    let data = data_dir();
    let data = data.to_str().unwrap();
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/max-m.yaml");
    let sets = [
        "data.mnist.imbalance.ratio=15",
        "data.mnist.examples=300",
        "optimization.injection=lp",
        "optimization.prior=emp",
    ];
    let sets: Vec<&str> = sets.iter().flat_map(|s| ["--set", *s]).collect();
    let args = |out: &Path| -> Vec<String> {
        let head = ["train", spec, "--epochs", "3", "--data-dir", data, "--out", out.to_str().unwrap()];
        head.iter().chain(&sets).map(|s| s.to_string()).collect()
    };
    let whole = dir.join("whole");
    let (code, _, stderr) = skilang(&args(&whole).iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{stderr}");
    let out = dir.join("killed");
    let mut child = Command::new(env!("CARGO_BIN_EXE_skilang"))
        .args(args(&out))
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let checkpoint = dir.join(format!(".killed.partial-{}/checkpoint/state.json", child.id()));
    while !checkpoint.exists() {
        assert!(child.try_wait().unwrap().is_none(), "the run ended before its first checkpoint");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let resumed: Vec<String> = args(&out).into_iter().chain(["--resume".to_string()]).collect();
    let (code, _, stderr) = skilang(&resumed.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{stderr}");
    let read = |d: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(d.join("report.json")).unwrap()).unwrap()
    };
    let (a, b) = (read(&whole), read(&out));
    assert_eq!(a["weights_sha256"], b["weights_sha256"]);
    for phase in ["digit (EMP pre-estimation)", "digit"] {
        let epochs = |r: &serde_json::Value| -> Vec<(f64, serde_json::Value)> {
            let curve = r["curves"][phase].as_array().unwrap_or_else(|| panic!("{phase}: {r}"));
            curve.iter().map(|e| (e["loss"].as_f64().unwrap(), e["prior_ratios"].clone())).collect()
        };
        let (whole, resumed) = (epochs(&a), epochs(&b));
        assert_eq!(whole.len(), resumed.len(), "{phase}");
        for ((l, r), (l2, r2)) in whole.iter().zip(&resumed) {
            assert_eq!(r, r2, "{phase}");
            // A resumed run's first batch tries ε = 0.99 before searching (the run it continues
            // had learnt to search first): the same program, its cost equal to the last bits.
            assert!((l - l2).abs() <= 1e-12 * l.abs(), "{phase}: {l} vs {l2}");
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}
