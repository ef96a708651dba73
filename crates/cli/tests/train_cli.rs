//! `skilang train` and `skilang eval` on real data, as a user runs them.

use skilang_lang::spec::BuiltinSource;
use std::path::{Path, PathBuf};
use std::process::Command;

fn skilang(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_skilang")).args(args).output().expect("the binary runs");
    (
        out.status.code().expect("exited normally"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The data directory as the tests resolve it, with MNIST and Adult in it.
fn data_dir() -> String {
    let dir = skilang_data::dir::for_checkout(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")));
    skilang_data::catalog::ensure(&[BuiltinSource::Mnist, BuiltinSource::Adult], &dir)
        .unwrap_or_else(|e| panic!("{e}"));
    dir.to_string_lossy().into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("skilang-test-{}-{name}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `skilang train SPEC --data-dir DATA --out OUT ARGS...` on the real data: exit status and stderr.
fn train(spec: impl AsRef<Path>, out: &Path, args: &[&str]) -> (i32, String) {
    let data = data_dir();
    let spec = spec.as_ref().to_str().unwrap();
    let (code, _, stderr) =
        skilang(&[&["train", spec, "--data-dir", &data, "--out", out.to_str().unwrap()], args].concat());
    (code, stderr)
}

fn report(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).expect("report.json")).expect("JSON")
}

/// The report without what depends on the machine's speed and memory, and on the time of day.
fn without_timings(mut r: serde_json::Value) -> serde_json::Value {
    for key in ["train_seconds", "grounding_seconds", "evaluation_seconds", "peak_rss_bytes"] {
        r.as_object_mut().unwrap().remove(key);
    }
    r["provenance"].as_object_mut().expect("a report says which build made it").remove("date");
    for curve in r["curves"].as_object_mut().unwrap().values_mut() {
        for epoch in curve.as_array_mut().unwrap() {
            epoch.as_object_mut().unwrap().remove("seconds");
        }
    }
    r
}

const MNIST_SLICE: &[&str] =
    &["--epochs", "1", "--set", "data.mnist.fraction=0.1", "--set", "optimization.batch_size=32"];

#[test]
fn lenet_learns_mnist_from_a_small_slice_deterministically() {
    let dir = scratch("mnist");
    let data = data_dir();
    let (a, b) = (dir.join("a"), dir.join("b"));
    for out in [&a, &b] {
        let (code, stderr) = train("../../examples/mnist-supervised.yaml", out, MNIST_SLICE);
        assert_eq!(code, 0, "{stderr}");
    }
    let ra = report(&a);
    // 6,000 training digits, one epoch (measured: 0.927).
    let accuracy = ra["task_accuracy"].as_f64().unwrap();
    assert!(accuracy >= 0.90, "test accuracy {accuracy}");
    assert_eq!(ra["symbol_accuracy"]["digit"].as_f64(), Some(accuracy));
    assert_eq!(ra["test_examples"], 10_000);
    assert_eq!(ra["per_class_accuracy"]["digit"].as_object().unwrap().len(), 10);
    assert_eq!(ra["epochs"], 1);
    assert!(ra["peak_rss_bytes"].as_u64().unwrap() > 0);
    assert_eq!(ra["spec_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(ra["provenance"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        !ra["provenance"]["commit"].as_str().unwrap().is_empty()
            && !ra["provenance"]["cpu"].as_str().unwrap().is_empty()
    );
    assert_eq!(without_timings(ra.clone()), without_timings(report(&b)), "one seed, one result");
    assert!(std::fs::read_to_string(a.join("curves.svg")).unwrap().starts_with("<svg"));

    // Moved images and a one-cycle rate train another network, nearly as well in one epoch
    // (measured: 0.901).
    let moved = dir.join("moved");
    let augmented = [
        MNIST_SLICE,
        &["--set", "learnables.digit.augment={shift: 2, rotate: 10}", "--set", "optimization.schedule=one_cycle"],
    ]
    .concat();
    let (code, stderr) = train("../../examples/mnist-supervised.yaml", &moved, &augmented);
    assert_eq!(code, 0, "{stderr}");
    let rm = report(&moved);
    let moved_accuracy = rm["task_accuracy"].as_f64().unwrap();
    assert!(moved_accuracy >= 0.85, "test accuracy {moved_accuracy} with moved images");
    assert_ne!(rm["weights_sha256"], ra["weights_sha256"]);

    // The saved model evaluates to the same accuracy.
    let model = a.join("model");
    let (code, stdout, stderr) = skilang(&[
        "eval",
        "../../examples/mnist-supervised.yaml",
        "--model",
        model.to_str().unwrap(),
        "--data-dir",
        &data,
    ]);
    assert_eq!(code, 0, "{stderr}");
    let evaluated: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(evaluated["task_accuracy"].as_f64(), Some(accuracy));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn adult_mlp_learns_income() {
    let dir = scratch("adult");
    let out = dir.join("run");
    let (code, stderr) = train(
        "../../examples/adult-fairness.yaml",
        &out,
        &["--epochs", "3", "--set", "optimization.injection=supervised", "--set", "optimization.patience=1"],
    );
    assert_eq!(code, 0, "{stderr}");
    let r = report(&out);
    let accuracy = r["task_accuracy"].as_f64().unwrap();
    assert!(accuracy >= 0.84, "Adult test accuracy {accuracy}");
    // Early stopping validates every epoch on 10% of the training rows and keeps the best network.
    let curve = r["curves"]["over50k"].as_array().unwrap();
    assert!(curve.iter().all(|e| e["validation_accuracy"].as_f64().is_some()));
    let kept = r["kept_epoch"]["over50k"].as_u64().unwrap() as usize;
    let best = curve.iter().map(|e| e["validation_accuracy"].as_f64().unwrap()).fold(0.0, f64::max);
    assert_eq!(curve[kept - 1]["validation_accuracy"].as_f64(), Some(best));
    std::fs::remove_dir_all(&dir).ok();
}

/// Serves `files` (name → bytes) over HTTP on a free local port, as a dataset mirror does.
fn mirror(files: Vec<(&'static str, Vec<u8>)>) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut request = String::new();
            BufReader::new(&stream).read_line(&mut request).ok();
            let path = request.split_whitespace().nth(1).unwrap_or("").trim_start_matches('/').to_string();
            let response = match files.iter().find(|(name, _)| *name == path) {
                Some((_, body)) => [
                    format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())
                        .into_bytes(),
                    body.clone(),
                ]
                .concat(),
                None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
            };
            stream.write_all(&response).ok();
        }
    });
    address
}

/// A missing source is downloaded (here from a local mirror) and checked against its published
/// sha256 before it is written; a tampered file is refused and nothing is written.
#[test]
fn a_missing_dataset_is_downloaded_and_checked() {
    let dir = scratch("download");
    let (data, out) = (dir.join("data"), dir.join("run"));
    std::fs::create_dir_all(&data).unwrap();
    // The UCI files end with a blank line that the copies in the test data lack.
    let uci = |name: &str| {
        let mut bytes = skilang_data::dir::read_bytes(&Path::new(&data_dir()).join("adult").join(name)).unwrap();
        bytes.push(b'\n');
        bytes
    };
    let mut tampered = uci("adult.test.gz");
    tampered[100] ^= 1;
    let run = |mirror: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_skilang"))
            .args(["train", "../../examples/adult-fairness.yaml", "--data-dir", data.to_str().unwrap()])
            .args(["--out", out.to_str().unwrap(), "--epochs", "1", "--set", "optimization.injection=supervised"])
            .env("SKILANG_MIRROR", mirror)
            .env_remove("SKILANG_OFFLINE")
            .output()
            .unwrap();
        (out.status.code().unwrap(), String::from_utf8_lossy(&out.stderr).into_owned())
    };

    let (code, stderr) = run(&mirror(vec![("adult.data", uci("adult.data.gz")), ("adult.test", tampered)]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("adult.test: its sha256 is"), "{stderr}");
    assert!(stderr.contains("not the published a2a9044b"), "{stderr}");
    assert!(!data.join("adult/adult.test").exists() && !out.exists(), "nothing unchecked is written");

    let (code, stderr) = run(&mirror(vec![("adult.test", uci("adult.test.gz"))]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("wrote 1 checked files"), "adult.data was kept from the first try: {stderr}");
    // The downloaded files train exactly as the copies they were made from.
    let copies = dir.join("copies");
    let (code, stderr) = train(
        "../../examples/adult-fairness.yaml",
        &copies,
        &["--epochs", "1", "--set", "optimization.injection=supervised"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report(&out)["task_accuracy"], report(&copies)["task_accuracy"]);
    std::fs::remove_dir_all(&dir).ok();
}

/// A column-wise formula outside what tensors evaluate: a located error before anything is written.
#[test]
fn unsupported_column_wise_formulas_are_located() {
    let dir = scratch("columnwise");
    let spec = dir.join("spec.yaml");
    let text = std::fs::read_to_string("../../examples/adult-fairness.yaml").unwrap().replace(
        "always: SP(adult.race == White, over50k(adult) == '>50K') <= 0.01",
        "always: len(adult.race) >= mean(over50k(adult) == '>50K')",
    );
    std::fs::write(&spec, text).unwrap();
    let out = dir.join("run");
    let (code, stderr) = train(&spec, &out, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("error: `len` with 1 argument(s) is not available in column-wise constraints"), "{stderr}");
    assert!(stderr.contains("spec.yaml:67:13"), "{stderr}");
    assert!(!stderr.contains("error: error"), "{stderr}");
    assert!(!out.exists());
    std::fs::remove_dir_all(&dir).ok();
}

/// The SKI-lang paper's fairness experiment: statistical parity as a weighted column-wise
/// knowledge rule, under fuzzy constraining, on the UCI test set. Without the constraint the
/// gap stays at the data's ~0.09; with weight 1 it falls under 0.01 at almost no accuracy cost
/// (measured, seed 1: 0.856 at SP 0.094; 0.853 at SP 0.007).
///
/// The constrained run's spec names no injection: a spec with constraints trains them by default.
#[test]
fn statistical_parity_is_learned_as_a_column_wise_constraint() {
    let dir = scratch("fairness");
    let text = std::fs::read_to_string("../../examples/adult-fairness.yaml").unwrap();
    assert!(text.contains("  injection: fuzzy\n"));
    let default_injection = dir.join("adult.yaml");
    std::fs::write(&default_injection, text.replace("  injection: fuzzy\n", "")).unwrap();
    let run = |weight: &str| {
        let out = dir.join(format!("w{weight}"));
        let set = format!("constraints.1.weight={weight}");
        let spec = if weight == "0" { Path::new("../../examples/adult-fairness.yaml") } else { &default_injection };
        let (code, stderr) = train(spec, &out, &["--set", &set]);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(weight != "0", stderr.contains("training with `injection: fuzzy`, the default"), "{stderr}");
        let r = report(&out);
        assert_eq!(r["injection"], "fuzzy");
        assert_eq!(r["constraints"][1]["trained"], true);
        let fairness = &r["constraints"][1];
        assert_eq!(fairness["source"], "always: SP(adult.race == White, over50k(adult) == '>50K') <= 0.01");
        (r["task_accuracy"].as_f64().unwrap(), fairness["value"].as_f64().unwrap(), r)
    };
    let (accuracy, sp, r) = run("0");
    assert!(accuracy >= 0.85 && sp >= 0.05, "unconstrained: accuracy {accuracy}, SP {sp}");
    assert!(r["macro_f1"].as_f64().unwrap() > 0.75, "{}", r["macro_f1"]);
    assert_eq!(r["constraints"][1]["satisfaction"], 0.0);
    let (accuracy, sp, r) = run("1");
    assert!(accuracy >= 0.845 && sp <= 0.01, "constrained: accuracy {accuracy}, SP {sp}");
    assert_eq!(r["constraints"][1]["satisfaction"], 1.0);
    assert_eq!(r["fuzzy"]["semantics"], "product");
    // The curves follow each constraint's violation per epoch.
    let last = r["curves"]["over50k"].as_array().unwrap().last().unwrap().clone();
    assert!(last["constraint_violations"]["2"].as_f64().unwrap() < 0.05, "{last}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_input_fails_clearly_and_writes_nothing() {
    let dir = scratch("bad");
    let out = dir.join("run");
    let out_s = out.to_str().unwrap().to_string();
    let spec = "../../examples/mnist-supervised.yaml";

    let (code, _, stderr) = skilang(&["train", spec, "--data-dir", "/no/such/folder", "--out", &out_s]);
    assert_eq!(code, 2);
    assert!(stderr.contains("data directory /no/such/folder does not exist"), "{stderr}");

    let truncated = dir.join("data");
    std::fs::create_dir_all(truncated.join("mnist")).unwrap();
    let src = Path::new(&data_dir()).join("mnist");
    for f in ["train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
        std::fs::copy(src.join(f), truncated.join("mnist").join(f)).unwrap();
    }
    std::fs::write(
        truncated.join("mnist/train-images-idx3-ubyte"),
        [0, 0, 8, 3, 0, 0, 0, 9, 0, 0, 0, 28, 0, 0, 0, 28, 0],
    )
    .unwrap();
    let (code, _, stderr) = skilang(&["train", spec, "--data-dir", truncated.to_str().unwrap(), "--out", &out_s]);
    assert_eq!(code, 2);
    assert!(stderr.contains("train-images-idx3-ubyte: IDX file truncated"), "{stderr}");

    let csv_spec = dir.join("csv.yaml");
    std::fs::write(dir.join("rows.csv"), "1, 2, a\n3, 4, b\n5, b\n").unwrap();
    std::fs::write(
        &csv_spec,
        "data:\n  t:\n    training: {file: rows.csv, format: csv}\n    features:\n      - {name: u, type: int}\n      - {name: v, type: int}\n    targets:\n      - {name: y, values: [a, b]}\nlearnables:\n  f: {input: t.features, output: t.y, architecture: mlp}\n",
    )
    .unwrap();
    let (code, _, stderr) =
        skilang(&["train", csv_spec.to_str().unwrap(), "--data-dir", dir.to_str().unwrap(), "--out", &out_s]);
    assert_eq!(code, 2);
    assert!(stderr.contains("rows.csv:3: 2 values, but the spec declares 3 columns (u, v, y)"), "{stderr}");

    let shapes = dir.join("shapes.yaml");
    let text = std::fs::read_to_string(spec).unwrap().replace(
        "    architecture: lenet",
        "    layers:\n      - conv2d: {channels: 4, kernel: 30}\n      - linear: {activation: softmax}",
    );
    std::fs::write(&shapes, text).unwrap();
    let (code, _, stderr) = skilang(&["train", shapes.to_str().unwrap(), "--data-dir", &data_dir(), "--out", &out_s]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("learnable `digit`, layer 1 (conv2d): a 30×30 kernel does not fit a 28×28 input"),
        "{stderr}"
    );

    assert!(!out.exists(), "a failed run left {} behind", out.display());
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("partial"))
        .collect();
    assert!(leftovers.is_empty());
    std::fs::remove_dir_all(&dir).ok();
}

/// The digit classifier learns from the sums of pairs alone (the constraint's observed side); the
/// saved model evaluates to the same task accuracy.
#[test]
fn digits_are_learned_from_sums_with_the_semantic_loss() {
    let dir = scratch("sum");
    let data = data_dir();
    let out = dir.join("run");
    let (code, stderr) = train("../../examples/mnist-sum.yaml", &out, &["--set", "data.mnist.fraction=0.2"]);
    assert_eq!(code, 0, "{stderr}");
    let r = report(&out);
    assert_eq!(r["injection"], "semantic_loss");
    assert_eq!(r["train_examples"], 6000, "12,000 images make 6,000 disjoint pairs");
    assert_eq!(r["test_examples"], 5000);
    // Measured: 0.860 sum accuracy, 0.927 digit accuracy after this one epoch.
    let (sum, digit) = (r["task_accuracy"].as_f64().unwrap(), r["symbol_accuracy"]["digit"].as_f64().unwrap());
    assert!(sum >= 0.8 && digit >= 0.88, "sum accuracy {sum}, digit accuracy {digit}");
    let model = out.join("model");
    let (code, stdout, stderr) =
        skilang(&["eval", "../../examples/mnist-sum.yaml", "--model", model.to_str().unwrap(), "--data-dir", &data]);
    assert_eq!(code, 0, "{stderr}");
    let evaluated: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(evaluated["task_accuracy"], r["task_accuracy"]);
    std::fs::remove_dir_all(&dir).ok();
}

/// CL-STE: the sum's CNF under binarised outputs, through a straight-through estimator, with no
/// inference, learns the digits too; the report names the injection.
#[test]
fn digits_are_learned_from_sums_through_straight_through_estimators() {
    let dir = scratch("ste");
    let out = dir.join("run");
    let set = ["--set", "data.mnist.fraction=0.2", "--set", "optimization.injection=ste"];
    let (code, stderr) = train("../../examples/mnist-sum.yaml", &out, &set);
    assert_eq!(code, 0, "{stderr}");
    let r = report(&out);
    assert_eq!(r["injection"], "ste");
    assert!(r.get("inference").is_none_or(|i| i.is_null()), "no engine runs: {}", r["inference"]);
    // Measured: 0.806 sum accuracy, 0.897 digit accuracy after this one epoch (the semantic
    // loss: 0.860 / 0.927).
    let (sum, digit) = (r["task_accuracy"].as_f64().unwrap(), r["symbol_accuracy"]["digit"].as_f64().unwrap());
    assert!(sum >= 0.7 && digit >= 0.85, "sum accuracy {sum}, digit accuracy {digit}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Sudoku from its rules alone: `skilang data sudoku` writes puzzles in the published layout, a
/// network predicting the whole grid learns from the rules through STE (never the solutions), and
/// iterative decoding keeps every given; the report scores cells and whole boards.
#[test]
fn sudoku_is_learned_from_its_rules_and_decoded_iteratively() {
    let dir = scratch("sudoku");
    let data = dir.join("data");
    let (code, _, stderr) =
        skilang(&["data", "sudoku", "--count", "1000", "--out", data.join("sudoku").to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let out = dir.join("run");
    let (code, _, stderr) = skilang(&[
        "train",
        "../../examples/sudoku.yaml",
        "--data-dir",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--epochs",
        "3",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let r = report(&out);
    let cells = r["symbol_accuracy"]["solve"].as_f64().unwrap();
    assert!(r["grid_accuracy"]["solve"].is_number(), "{r}");
    // Decoding fills only the empty cells: every given holds.
    assert_eq!(r["constraints"][0]["name"], "givens");
    assert_eq!(r["constraints"][0]["satisfaction"], 1.0);
    // Measured: 0.567 of the cells (the 36 givens are 0.444; a random digit in the others
    // would add 0.062). Whole boards take more puzzles: README, Sudoku.
    assert!(cells >= 0.52, "cell accuracy {cells}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Enumeration computes what the decision diagrams compute, so it trains the same digit
/// classifier, and the report names the engine that ran; beyond its limit, `check` and `train`
/// refuse it alike, saying how many assignments it would visit.
#[test]
fn enumeration_trains_what_exact_inference_trains() {
    let dir = scratch("enumerate");
    let mut accuracies = Vec::new();
    for inference in ["exact", "enumerate"] {
        let out = dir.join(inference);
        let set = format!("optimization.inference={inference}");
        let (code, stderr) =
            train("../../examples/mnist-sum.yaml", &out, &["--set", "data.mnist.fraction=0.05", "--set", &set]);
        assert_eq!(code, 0, "{stderr}");
        let r = report(&out);
        assert_eq!(r["inference"], inference);
        accuracies.push(r["task_accuracy"].as_f64().unwrap());
    }
    assert!((accuracies[0] - accuracies[1]).abs() <= 0.005, "{accuracies:?}");
    // metrics.jsonl: one line per epoch, as the report's curve has it.
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(dir.join("exact").join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let curve = report(&dir.join("exact"))["curves"]["digit"].clone();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["learnable"], "digit");
    assert_eq!((&lines[0]["epoch"], &lines[0]["loss"]), (&curve[0]["epoch"], &curve[0]["loss"]));
    let set = ["--set", "optimization.inference=enumerate"];
    let (code, out, err) = skilang(&[&["check", "../../examples/mnist-addition.yaml"][..], &set].concat());
    let check = out + &err;
    let (train_code, stderr) = train("../../examples/mnist-addition.yaml", &dir.join("addition"), &set);
    assert_eq!((code, train_code), (1, 1), "{check}\n{stderr}");
    let message = "could visit 100000000 assignments for constraint 1, more than its limit of 100000";
    assert!(check.contains(message) && stderr.contains(message), "{check}\n{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}

/// The approximate engines learn digits from sums as exact inference does: belief propagation is
/// exact on the one factor a sum makes, and top-k, with k covering every model of a sum of two
/// digits (at most 10), computes what exact inference computes;
/// rejection sampling with the default 1,000 samples comes within 2 points (0.860 exact, 0.857
/// sampled measured), skipping the examples none of its samples satisfies.
#[test]
fn approximate_engines_train_what_exact_inference_trains() {
    let dir = scratch("approximate");
    let run = |inference: &str, extra: &[&str]| {
        let out = dir.join(inference);
        let set = format!("optimization.inference={inference}");
        let args = [&["--set", "data.mnist.fraction=0.2", "--set", &set][..], extra].concat();
        let (code, stderr) = train("../../examples/mnist-sum.yaml", &out, &args);
        assert_eq!(code, 0, "{stderr}");
        let r = report(&out);
        assert_eq!(r["inference"], inference);
        r
    };
    let exact = run("exact", &[])["task_accuracy"].as_f64().unwrap();
    let top = run("topk", &["--set", "optimization.top_k=10"])["task_accuracy"].as_f64().unwrap();
    let bp = run("bp", &[]);
    let belief = bp["task_accuracy"].as_f64().unwrap();
    // The report says how propagation ended, per epoch: a sum of two digits is one factor, a
    // tree, where messages settle at once.
    let propagation = &bp["curves"]["digit"][0]["propagation"];
    assert!(propagation["queries"].as_u64().unwrap() >= 1000, "{propagation}");
    assert_eq!(propagation["unsettled"], 0, "{propagation}");
    assert!(propagation["mean_iterations"].as_f64().unwrap() <= 3.0, "{propagation}");
    let sampled = run("sample", &[]);
    let accuracy = sampled["task_accuracy"].as_f64().unwrap();
    assert!(exact >= 0.8 && (top - exact).abs() <= 0.005, "exact {exact}, top-10 {top}");
    assert!((belief - exact).abs() <= 0.005, "exact {exact}, bp {belief}");
    assert!((accuracy - exact).abs() <= 0.02, "exact {exact}, sampled {accuracy}");
    assert!(sampled["impossible_train_examples"].as_u64().unwrap() < 100, "{}", sampled["impossible_train_examples"]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn reasoning_that_is_not_available_is_refused_clearly() {
    let dir = scratch("refused");
    let out = dir.join("run");
    let cases = [
        ("../../examples/mnist-sum.yaml", "optimization.injection=lp", "which `topk` gives, not `exact`"),
        ("../../examples/adult-fairness.yaml", "optimization.injection=semantic_loss", "column-wise"),
    ];
    for (spec, set, message) in cases {
        let (code, stderr) = train(spec, &out, &["--set", set]);
        assert_eq!(code, 1, "{stderr}");
        assert!(stderr.contains(message), "{stderr}");
        assert!(!out.exists());
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Writes `dir/poker.yaml`: `examples/poker-hand.yaml` reading the UCI training file alone (a
/// seeded 80/20 split), so that the test needs neither the UCI test file nor a million generated hands.
fn write_poker_spec(dir: &Path) {
    let text = std::fs::read_to_string("../../examples/poker-hand.yaml").unwrap().replace(
        "    source: poker-hand\n",
        "    training: {file: poker_hand/poker-hand-training-true.data.gz, format: csv, separator: ','}\n",
    );
    std::fs::write(dir.join("poker.yaml"), text).unwrap();
}

/// Trains the Poker spec in `dir` for `epochs` with `injection` and one more `--set`: its accuracy,
/// macro-F1 and what it printed.
fn poker_run(dir: &Path, epochs: &str, injection: &str, set: &str) -> (f64, f64, String) {
    let out = dir.join(injection);
    let injection = format!("optimization.injection={injection}");
    let (code, stderr) = train(dir.join("poker.yaml"), &out, &["--epochs", epochs, "--set", &injection, "--set", set]);
    assert_eq!(code, 0, "{injection}: {stderr}");
    let r = report(&out);
    (r["symbol_accuracy"]["classify"].as_f64().unwrap(), r["macro_f1"].as_f64().unwrap(), stderr)
}

/// One spec, the injection chosen with `--set` alone. With 1% of the training hands (200) and 10
/// epochs, supervision alone predicts the common classes (measured: 0.485 accuracy, macro-F1
/// 0.07); structuring's rule units classify every test hand (1.000 / 1.000); embedding on 10% of
/// the hands reaches 0.991 accuracy.
#[test]
fn poker_rules_are_injected_by_structuring_and_embedding_from_one_spec() {
    let dir = scratch("poker");
    write_poker_spec(&dir);
    let run =
        |injection: &str, fraction: &str| poker_run(&dir, "10", injection, &format!("data.poker.fraction={fraction}"));
    let (_, supervised_f1, _) = run("supervised", "0.01");
    let (accuracy, f1, _) = run("structuring", "0.01");
    assert!(accuracy >= 0.99 && f1 >= supervised_f1 + 0.2, "structuring: {accuracy} / {f1} vs {supervised_f1}");
    let (accuracy, _, _) = run("embedding", "0.1");
    assert!(accuracy >= 0.98, "embedding: {accuracy}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Embedding and structuring refuse, located, a spec whose constraints are not rules over
/// observed inputs (Adult's fairness constraint is column-wise; its supervision constraint is
/// what they train by anyway), and write nothing.
/// With labels on 2% of the hands, supervision learns from 400 hands; constraining also learns
/// from the rules on the other 19,600, whose labels `labelled` hides (the supervision constraint
/// reads a label, so it applies to the labelled hands only).
#[test]
fn constraining_learns_from_the_rules_on_hands_without_labels() {
    let dir = scratch("poker-labelled");
    write_poker_spec(&dir);
    let (supervised, supervised_f1, _) = poker_run(&dir, "15", "supervised", "data.poker.labelled=0.02");
    let (constrained, constrained_f1, _) = poker_run(&dir, "15", "constraining", "data.poker.labelled=0.02");
    assert!(
        constrained >= supervised + 0.2 && constrained_f1 >= supervised_f1 + 0.1,
        "constraining {constrained} / {constrained_f1} against supervised {supervised} / {supervised_f1}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// With every training hand labelled, the rules add nothing the labels lack, except on hands the
/// data does not have: `sampled` draws 20,000 more without labels, which supervision skips and the
/// guarded rules classify, so the rare classes are learned (measured after 10 epochs: macro-F1
/// 0.61 against supervision's 0.38).
#[test]
fn constraining_reaches_hands_the_data_lacks_through_sampled_inputs() {
    let dir = scratch("poker-sampled");
    write_poker_spec(&dir);
    let (_, supervised, stderr) = poker_run(&dir, "10", "supervised", "data.poker.sampled=20000");
    assert!(stderr.contains("20000 training inputs drawn uniformly"), "{stderr}");
    let (_, constrained, _) = poker_run(&dir, "10", "constraining", "data.poker.sampled=20000");
    assert!(constrained >= supervised + 0.15, "macro-F1: constraining {constrained}, supervised {supervised}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn structuring_refuses_constraints_it_cannot_build_units_from() {
    let dir = scratch("structuring-refused");
    let out = dir.join("run");
    let (code, stderr) =
        train("../../examples/adult-fairness.yaml", &out, &["--set", "optimization.injection=structuring"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("error: constraint 2: it is column-wise"), "{stderr}");
    assert!(stderr.contains("adult-fairness.yaml:66:5"), "{stderr}");
    assert!(!out.exists());
    std::fs::remove_dir_all(&dir).ok();
}

/// A spec in the SKI-lang prototype's dialect (`learnable`, `inputs`/`outputs`, `uri`/`unpack`,
/// `type: csv(',')`, `mapping`, `target`, sized `linear` layers, `loss`, `metrics`) trains like
/// ours; a stated layer size that is wrong is refused at the layer, before anything is written.
/// Measured: 0.789 accuracy after 5 epochs on the 20% test split.
#[test]
fn a_spec_in_the_prototype_dialect_trains() {
    let dir = scratch("prototype");
    let out = dir.join("run");
    let spec = "tests/prototype/poker-hand.yaml";
    let (code, stderr) = train(spec, &out, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("macro-F1"), "`metrics: [accuracy, f1]` prints both: {stderr}");
    let r = report(&out);
    assert_eq!(r["fuzzy"]["loss"], "log");
    assert!(r["task_accuracy"].as_f64().unwrap() >= 0.7, "{}", r["task_accuracy"]);

    let wrong = dir.join("wrong.yaml");
    let text = std::fs::read_to_string(spec).unwrap().replace("{input: 128, output: 10", "{input: 64, output: 10");
    std::fs::write(&wrong, text).unwrap();
    let out = dir.join("wrong");
    let (code, stderr) = train(&wrong, &out, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("layer 3 (linear): its `input` says 64, but it receives 128 values"), "{stderr}");
    assert!(stderr.contains("wrong.yaml:49:9"), "{stderr}");
    assert!(!out.exists());
    std::fs::remove_dir_all(&dir).ok();
}

/// A run killed after its first epoch and resumed with `--resume` ends with the report of the
/// uninterrupted run: the same curves, accuracy and weights (early stopping's best networks and
/// the optimiser's moments come back from the checkpoint too). Resuming needs a killed run of the
/// same spec and settings.
#[test]
fn a_killed_run_resumed_gives_the_uninterrupted_report() {
    let dir = scratch("resume");
    let spec = "../../examples/mnist-sum.yaml";
    // Augmented images and a schedule that moves every batch: both drawn again exactly.
    let args = [
        "--epochs",
        "3",
        "--set",
        "data.mnist.fraction=0.1",
        "--set",
        "optimization.patience=5",
        "--set",
        "learnables.digit.augment={shift: 1.5, rotate: 8}",
        "--set",
        "optimization.schedule={kind: cosine, warmup: 0.5}",
        "--seed",
        "4",
    ];
    let (code, stderr) = train(spec, &dir.join("whole"), &args);
    assert_eq!(code, 0, "{stderr}");

    let out = dir.join("killed");
    let data = data_dir();
    let mut child = Command::new(env!("CARGO_BIN_EXE_skilang"))
        .args([&["train", spec, "--data-dir", &data, "--out", out.to_str().unwrap()], &args[..]].concat())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let checkpoint = dir.join(format!(".killed.partial-{}/checkpoint/state.json", child.id()));
    while !checkpoint.exists() {
        assert!(child.try_wait().unwrap().is_none(), "the run ended before its first checkpoint");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(child.try_wait().unwrap().is_none(), "the run ended before it was killed");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!out.exists(), "a killed run writes nothing in place");

    let (code, stderr) = train(spec, &out, &[&args[..], &["--resume", "--set", "optimization.batch_size=32"]].concat());
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("resume with the same --set"), "{stderr}");
    let (code, stderr) = train(spec, &dir.join("other"), &[&args[..], &["--resume"]].concat());
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no killed run of --out"), "{stderr}");

    let (code, stderr) = train(spec, &out, &[&args[..], &["--resume"]].concat());
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("resuming after digit epoch"), "{stderr}");
    let (whole, resumed) = (report(&dir.join("whole")), report(&out));
    assert_eq!(without_timings(resumed.clone()), without_timings(whole.clone()));
    assert_eq!(resumed["weights_sha256"]["digit"].as_str().map(str::len), Some(64));
    let metrics = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap();
    assert_eq!(metrics.lines().count(), 3, "one line per epoch: {metrics}");
    let names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().all(|n| !n.starts_with('.')), "no staging folder left: {names:?}");
    assert!(!out.join("checkpoint").exists(), "the checkpoint goes with the run's end");
    std::fs::remove_dir_all(&dir).ok();
}

/// `--out` never deletes what a run did not write: the current folder, a folder with a user's
/// file and a place that cannot be written are refused before any data is read; a previous run is
/// replaced only with `--force`.
#[test]
fn out_folders_are_claimed_without_losing_anything() {
    let dir = scratch("out");
    let spec = std::fs::canonicalize("../../examples/mnist-supervised.yaml").unwrap();
    let spec = spec.to_str().unwrap();
    let data = data_dir();
    let run = |cwd: &Path, out: &str, more: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_skilang"))
            .current_dir(cwd)
            .args([&["train", spec, "--data-dir", &data, "--out", out], MNIST_SLICE, more].concat())
            .output()
            .unwrap();
        (out.status.code().unwrap(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let (code, stderr) = run(&dir, ".", &["--force"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("current folder"), "{stderr}");
    std::fs::create_dir(dir.join("work")).unwrap();
    std::fs::write(dir.join("work/thesis.tex"), "mine").unwrap();
    let (code, stderr) = run(&dir, "work", &["--force"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not a previous run (it holds thesis.tex)"), "{stderr}");
    let (code, stderr) = run(&dir, "notes.txt/run", &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("cannot write notes.txt/run") && !stderr.contains("epoch"),
        "refused before training: {stderr}"
    );
    assert_eq!(std::fs::read_to_string(dir.join("notes.txt")).unwrap(), "mine");
    assert_eq!(std::fs::read_to_string(dir.join("work/thesis.tex")).unwrap(), "mine");

    let (code, stderr) = run(&dir, "run", &[]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stderr) = run(&dir, "run", &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("holds a previous run; add --force"), "{stderr}");
    std::fs::write(dir.join("run/report.json"), "old").unwrap();
    let (code, stderr) = run(&dir, "run", &["--force"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(report(&dir.join("run"))["task_accuracy"].as_f64().is_some(), "replaced by the new run");
    let names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().all(|n| !n.starts_with('.')), "no staging folder left: {names:?}");
    std::fs::remove_dir_all(&dir).ok();
}

/// A mirror that accepts the connection and then sends nothing fails within the timeout, naming
/// the server and the way out, and writes nothing.
#[test]
fn a_stalled_mirror_fails_within_its_timeout() {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten().take(4) {
            stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nabc").ok();
            std::thread::sleep(std::time::Duration::from_secs(8));
        }
    });
    let dir = scratch("stalled");
    let (data, out) = (dir.join("data"), dir.join("run"));
    std::fs::create_dir_all(&data).unwrap();
    let started = std::time::Instant::now();
    let result = Command::new(env!("CARGO_BIN_EXE_skilang"))
        .args(["train", "../../examples/adult-fairness.yaml", "--data-dir", data.to_str().unwrap()])
        .args(["--out", out.to_str().unwrap()])
        .env("SKILANG_MIRROR", &address)
        .env("SKILANG_DOWNLOAD_TIMEOUT", "1")
        .env_remove("SKILANG_OFFLINE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(6), "took {:?}", started.elapsed());
    assert!(stderr.contains(&address) && stderr.contains("sent nothing for 1 s"), "{stderr}");
    assert!(stderr.contains("SKILANG_OFFLINE") && stderr.contains("--data-dir"), "{stderr}");
    assert!(!out.exists() && std::fs::read_dir(&data).unwrap().count() == 0, "nothing written");
    std::fs::remove_dir_all(&dir).ok();
}

/// No constraint is silently ignored: a supervised run warns at each constraint it does not train
/// and reports it (`trained: false`). (That a spec naming no injection trains its constraints is
/// shown by the fairness test.)
#[test]
fn a_supervised_run_reports_the_constraints_it_did_not_train() {
    let dir = scratch("supervised-constraints");
    let out = dir.join("run");
    let (code, stderr) = train(
        "../../examples/adult-fairness.yaml",
        &out,
        &["--epochs", "1", "--set", "optimization.injection=supervised"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stderr.matches("warning: this constraint is not trained").count(), 1, "{stderr}");
    let r = report(&out);
    assert_eq!(r["constraints"][0]["trained"], true, "the supervision constraint is what supervised learning does");
    assert_eq!(r["constraints"][1]["trained"], false);
    std::fs::remove_dir_all(&dir).ok();
}

/// The SKI-lang prototype's Adult spec, in its own dialect and without `injection`, trains its
/// parity constraint (measured, 2-core CPU: accuracy 0.826, SP 0.010 after 10 epochs; the
/// prototype's default supervised-only run leaves SP near 0.09). Rows with UCI's `?` in a column
/// that does not list it are left out, and the run says so.
#[test]
fn a_prototype_adult_spec_trains_its_parity_constraint() {
    let dir = scratch("prototype-adult");
    let out = dir.join("run");
    let (code, stderr) = train("tests/prototype/adult.yaml", &out, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("2399 rows with a missing value (`?`)"), "{stderr}");
    let r = report(&out);
    assert_eq!(r["injection"], "fuzzy");
    assert!(r["task_accuracy"].as_f64().unwrap() >= 0.8, "{}", r["task_accuracy"]);
    let parity = &r["constraints"][2];
    assert_eq!(parity["trained"], true);
    assert!(parity["value"].as_f64().unwrap() <= 0.02, "{parity}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Two networks in one constraint, the first frozen at a previous run's weights.
const TWO_NETS: &str = "
data:
  mnist:
    source: mnist
    features:
      - name: image
        type: image[28x28]
    targets:
      - name: value
        values: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    instances: [a, b]
optimization:
  injection: semantic_loss
  seed: 1
learnables:
  known:
    input: mnist.image
    output: mnist.value
    architecture: lenet
    weights: first/model/digit.safetensors
    frozen: true
  learnt:
    input: mnist.image
    output: mnist.value
    architecture: lenet
constraints:
  - always: known(a) + learnt(b) == a.value + b.value
";

/// A learnable may start from saved weights (a previous run's `model/`, or any safetensors file of
/// the same layers, PyTorch's names), then be fine-tuned or kept frozen.
#[test]
fn pretrained_weights_are_fine_tuned_or_kept_frozen() {
    let dir = scratch("pretrained");
    let (code, stderr) = train("../../examples/mnist-supervised.yaml", &dir.join("first"), MNIST_SLICE);
    assert_eq!(code, 0, "{stderr}");
    let first = report(&dir.join("first"));
    assert!(dir.join("first/model/digit.safetensors").is_file());
    let text = std::fs::read_to_string("../../examples/mnist-supervised.yaml").unwrap();
    assert!(text.contains("    architecture: lenet\n"));
    let spec = |name: &str, extra: &str| {
        let path = dir.join(format!("{name}.yaml"));
        std::fs::write(&path, text.replace("    architecture: lenet\n", &format!("    architecture: lenet\n{extra}")))
            .unwrap();
        path
    };
    // Frozen: the weights stay those of the file, and so do the test figures.
    let (code, stderr) =
        train(spec("frozen", "    weights: first/model\n    frozen: true\n"), &dir.join("frozen"), MNIST_SLICE);
    assert_eq!(code, 0, "{stderr}");
    let frozen = report(&dir.join("frozen"));
    assert_eq!(frozen["weights_sha256"], first["weights_sha256"]);
    assert_eq!(frozen["task_accuracy"], first["task_accuracy"]);
    assert_eq!(frozen["epochs"], 0);
    // Fine-tuned: trained on from there (a run's folder names its model/ too).
    let (code, stderr) = train(spec("tuned", "    weights: first\n"), &dir.join("tuned"), MNIST_SLICE);
    assert_eq!(code, 0, "{stderr}");
    let tuned = report(&dir.join("tuned"));
    assert_ne!(tuned["weights_sha256"], first["weights_sha256"]);
    let (before, after) = (first["task_accuracy"].as_f64().unwrap(), tuned["task_accuracy"].as_f64().unwrap());
    assert!(after > before, "a second epoch from the first's weights: {before} -> {after}");
    // Frozen beside a trained network in one constraint: the frozen one's weights stay the file's,
    // and the other learns its digits from the sum alone.
    let two = dir.join("two.yaml");
    std::fs::write(&two, TWO_NETS).unwrap();
    let (code, stderr) = train(&two, &dir.join("two"), MNIST_SLICE);
    assert_eq!(code, 0, "{stderr}");
    let both = report(&dir.join("two"));
    assert_eq!(both["weights_sha256"]["known"], first["weights_sha256"]["digit"]);
    assert_ne!(both["weights_sha256"]["learnt"], first["weights_sha256"]["digit"]);
    let learnt = both["symbol_accuracy"]["learnt"].as_f64().unwrap();
    assert!(learnt > 0.5, "the trained network beside the frozen one reads {learnt} of its digits");
    // The saved model is evaluated from its own weights: the ones it started from are not read.
    std::fs::rename(dir.join("first"), dir.join("first-moved")).unwrap();
    let tuned_spec = dir.join("tuned.yaml");
    let model = dir.join("tuned/model");
    let data = data_dir();
    let (code, stdout, stderr) =
        skilang(&["eval", tuned_spec.to_str().unwrap(), "--model", model.to_str().unwrap(), "--data-dir", &data]);
    assert_eq!(code, 0, "{stderr}");
    let evaluated: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(evaluated["task_accuracy"], tuned["task_accuracy"]);
    // Weights of other layers are refused at the key, naming the tensor; nothing is written.
    let (code, stderr) = train("../../examples/adult-fairness.yaml", &dir.join("adult"), &["--epochs", "1"]);
    assert_eq!(code, 0, "{stderr}");
    let wrong = spec("wrong", "    weights: adult/model/over50k.safetensors\n");
    let (code, stderr) = train(&wrong, &dir.join("wrong"), MNIST_SLICE);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("it has no tensor `c1.weight` (shape [6, 1, 5, 5])") && stderr.contains("wrong.yaml:27:14"),
        "{stderr}"
    );
    assert!(!dir.join("wrong").exists());
    // Frozen without weights means nothing: `check` refuses it.
    let (code, _, stderr) = skilang(&["check", spec("bare", "    frozen: true\n").to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(stderr.contains("learnable `digit` is frozen but names no `weights`"), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Warcraft shortest path on generated maps in the published layout (`skilang data warcraft-12`,
/// read with `format: warcraft`): a network reading single tiles learns their costs from the maps'
/// shortest paths alone, by ABC-EM through Dijkstra as a black box, so that the path its costs
/// give is the labelled one on most unseen maps.
#[test]
fn warcraft_paths_are_learnt_through_a_black_box() {
    let dir = scratch("warcraft");
    let files = dir.join("files");
    let write = || skilang(&["data", "warcraft-12", "--count", "1000", "--out", files.to_str().unwrap()]);
    let (code, _, stderr) = write();
    assert_eq!(code, 0, "{stderr}");
    let text = std::fs::read_to_string("../../examples/warcraft-12.yaml").unwrap();
    let source = "    source: warcraft-12\n";
    assert!(text.contains(source));
    let spec = dir.join("files.yaml");
    // The test and validation maps are found beside the training ones, as published.
    let files_instead = "    training: {file: train.npy, format: warcraft}\n";
    std::fs::write(&spec, text.replace(source, files_instead)).unwrap();
    let train_file = format!("data.warcraft.training.file={}", files.join("12x12/train_maps.npy").display());
    let args = ["--epochs", "4", "--set", &train_file];
    let (code, stderr) = train(&spec, &dir.join("trained"), &args);
    assert_eq!(code, 0, "{stderr}");
    let trained = report(&dir.join("trained"));
    let accuracy = trained["task_accuracy"].as_f64().unwrap();
    assert!(accuracy >= 0.6, "test maps whose path is the labelled one: {accuracy}");
    assert_eq!(trained["test_examples"], 100);
    // The published metric, measured and never trained: a path of optimal true cost, which the
    // labelled path is — so it holds at least wherever the task does — and not in the task accuracy.
    let optimal = &trained["constraints"][1];
    assert_eq!(
        (&optimal["name"], &optimal["trained"], &optimal["examples"]),
        (&"optimal_cost".into(), &false.into(), &100.into())
    );
    let optimal = optimal["satisfaction"].as_f64().unwrap();
    assert!(optimal >= accuracy, "optimal cost {optimal}, labelled path {accuracy}");
    // No cost was ever shown, yet the cheap terrains (on paths) are read.
    for cheap in ["8", "12"] {
        let read = trained["per_class_accuracy"]["tile_cost"][cheap].as_f64().unwrap();
        assert!(read >= 0.9, "cost {cheap}: {read}");
    }
    // Nothing is written over maps already there.
    let (code, _, stderr) = write();
    assert_eq!(code, 2);
    assert!(stderr.contains("holds maps already"), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Visual Sudoku 4×4 (ViSudo-PC's split 01, generated from MNIST as the published generator does):
/// a network reading single cells learns from the boards' validity alone to classify unseen boards
/// (chance: 50%). `skilang data visudo-4` writes the same split in the published layout, and a spec
/// reading those files (`format: visudo`) trains to the same report.
#[test]
fn visual_sudoku_boards_are_classified_from_their_validity_alone() {
    let dir = scratch("visudo");
    let epochs = ["--epochs", "15"];
    let (code, stderr) = train("../../examples/visual-sudoku-4.yaml", &dir.join("builtin"), &epochs);
    assert_eq!(code, 0, "{stderr}");
    let builtin = report(&dir.join("builtin"));
    let accuracy = builtin["task_accuracy"].as_f64().unwrap();
    assert!(accuracy >= 0.75, "test boards classified: {accuracy}");
    let files = dir.join("files");
    let (code, _, stderr) = skilang(&["data", "visudo-4", "--out", files.to_str().unwrap(), "--data-dir", &data_dir()]);
    assert_eq!(code, 0, "{stderr}");
    let split = files.join(skilang_data::visudo::Config::standard(4, 1).folder());
    for name in ["train_puzzle_pixels.txt", "valid_cell_labels.txt", "test_puzzle_notes.txt", "options.json"] {
        assert!(split.join(name).is_file(), "{name}");
    }
    let text = std::fs::read_to_string("../../examples/visual-sudoku-4.yaml").unwrap();
    let spec = dir.join("files.yaml");
    let source = "    source: visudo-4\n";
    assert!(text.contains(source));
    let files_instead = "    training: {file: train.txt, format: visudo}\n    test: {file: test.txt, format: visudo}\n";
    std::fs::write(&spec, text.replace(source, files_instead)).unwrap();
    // Absolute paths are given on the command line.
    let set = |key: &str, s: &str| {
        format!("data.visudo.{key}.file={}", split.join(format!("{s}_puzzle_pixels.txt")).display())
    };
    let (train_file, test_file) = (set("training", "train"), set("test", "test"));
    let args = [&epochs[..], &["--set", &train_file, "--set", &test_file]].concat();
    let (code, stderr) = train(&spec, &dir.join("from-files"), &args);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report(&dir.join("from-files"))["task_accuracy"], builtin["task_accuracy"]);
    // A second time over the same split is refused: nothing is overwritten.
    let (code, _, stderr) = skilang(&["data", "visudo-4", "--out", files.to_str().unwrap(), "--data-dir", &data_dir()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("holds this split already"), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}
