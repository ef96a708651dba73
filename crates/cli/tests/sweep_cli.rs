//! `skilang sweep` and `skilang summary` on real data, as a user runs them.

use serde_json::Value;
use skilang_lang::spec::BuiltinSource;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SPEC: &str = "../../examples/adult-fairness.yaml";

/// The data directory as the tests resolve it, with Adult in it.
fn data_dir() -> String {
    let dir = skilang_data::dir::for_checkout(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")));
    skilang_data::catalog::ensure(&[BuiltinSource::Adult], &dir).unwrap_or_else(|e| panic!("{e}"));
    dir.to_string_lossy().into_owned()
}

fn skilang(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_skilang"));
    c.args(args).env("SKILANG_DATA", data_dir()).env("SKILANG_OFFLINE", "1");
    c
}

fn run(args: &[&str]) -> (i32, String, String) {
    let Output { status, stdout, stderr } = skilang(args).output().expect("the binary runs");
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    (status.code().expect("exited normally"), text(stdout), text(stderr))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("skilang-sweep-{}-{name}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn json(path: impl AsRef<Path>) -> Value {
    let path = path.as_ref();
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

fn sweep_args<'a>(out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let base = ["sweep", SPEC, "--epochs", "2", "--seeds", "1..2", "--grid", "constraints.1.weight=0,1", "--out", out];
    [&base[..], extra].concat()
}

#[test]
fn a_sweep_trains_every_point_and_seed_and_summarises_them() {
    let dir = scratch("grid");
    let out = dir.join("s");
    let o = out.to_str().unwrap();
    let (code, stdout, stderr) = run(&sweep_args(o, &[]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("2 point(s) × 2 seed(s) = 4 run(s), 0 done before"), "{stderr}");
    assert!(stdout.contains("constraints.1.weight  runs") && stdout.contains("constraints.fairness.value"), "{stdout}");
    assert_eq!(stdout, std::fs::read_to_string(out.join("summary.txt")).unwrap());

    // The summary's figures are the runs' own.
    let summary = json(out.join("summary.json"));
    for (p, weight) in ["0", "1"].iter().enumerate() {
        let point = &summary["points"][p];
        assert_eq!(point["settings"]["constraints.1.weight"], *weight);
        let reports: Vec<Value> = (1..=2)
            .map(|s| json(out.join(format!("runs/constraints.1.weight={weight}/seed-{s}/report.json"))))
            .collect();
        let sp: Vec<f64> =
            reports.iter().map(|r| r["constraints"][1]["value"].as_f64().expect("the fairness gap")).collect();
        let m = &point["metrics"]["constraints.fairness.value"];
        assert_eq!(m["n"], 2);
        assert!((m["mean"].as_f64().unwrap() - (sp[0] + sp[1]) / 2.0).abs() < 1e-12, "{m}");
        assert!((m["half_range"].as_f64().unwrap() - (sp[0] - sp[1]).abs() / 2.0).abs() < 1e-12, "{m}");
        for r in &reports {
            assert_eq!(
                r["provenance"]["cores"].as_u64(),
                std::thread::available_parallelism().ok().map(|n| n.get() as u64)
            );
            assert!(r["provenance"]["date"].as_str().unwrap().ends_with('Z'), "{}", r["provenance"]);
        }
    }
    let runs_csv = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    assert_eq!(runs_csv.lines().count(), 5, "{runs_csv}");
    assert!(runs_csv.starts_with("constraints.1.weight,seed,task_accuracy,"), "{runs_csv}");
    let svg = std::fs::read_to_string(out.join("summary.svg")).unwrap();
    let panels = stdout.lines().nth(2).unwrap().split("  ").filter(|c| !c.trim().is_empty()).count() - 2;
    assert_eq!(svg.matches("<circle").count(), 4 * panels, "one dot per run and metric shown");

    // A run of the sweep is the run `skilang train` makes with the same settings.
    let alone = dir.join("alone");
    let (code, _, stderr) = run(&[
        "train",
        SPEC,
        "--epochs",
        "2",
        "--seed",
        "2",
        "--set",
        "constraints.1.weight=1",
        "--out",
        alone.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let swept = json(out.join("runs/constraints.1.weight=1/seed-2/report.json"));
    assert_eq!(json(alone.join("report.json"))["weights_sha256"], swept["weights_sha256"]);

    // Run again: only what is missing is trained; the finished runs are not touched.
    let kept = out.join("runs/constraints.1.weight=0/seed-1/report.json");
    let before = std::fs::metadata(&kept).unwrap().modified().unwrap();
    std::fs::remove_dir_all(out.join("runs/constraints.1.weight=1/seed-2")).unwrap();
    let (code, _, stderr) = run(&sweep_args(o, &[]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("3 done before") && stderr.contains("[4/4] constraints.1.weight=1 seed 2"), "{stderr}");
    assert_eq!(stderr.matches("task accuracy").count(), 1, "{stderr}");
    assert_eq!(std::fs::metadata(&kept).unwrap().modified().unwrap(), before);
    assert_eq!(
        json(out.join("runs/constraints.1.weight=1/seed-2/report.json"))["weights_sha256"],
        swept["weights_sha256"]
    );

    // The summary again, from the reports alone, with the metrics asked for.
    let (code, stdout, stderr) = run(&["summary", o, "--metrics", "task_accuracy,constraints.fairness"]);
    assert_eq!(code, 0, "{stderr}");
    let header = stdout.lines().nth(2).unwrap();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        [
            "constraints.1.weight",
            "runs",
            "task_accuracy",
            "constraints.fairness.satisfaction",
            "constraints.fairness.value"
        ]
    );
    let (code, _, stderr) = run(&["summary", o, "--metrics", "accuracy"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--metrics accuracy: no run reports it; the metrics are task_accuracy,"), "{stderr}");

    // Other settings in the same folder would mix two experiments: refused, nothing trained.
    let (code, _, stderr) = run(&sweep_args(o, &["--set", "optimization.learning_rate=0.01"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("holds a run of another spec or other settings"), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_bad_sweep_is_refused_before_anything_trains() {
    let dir = scratch("bad");
    let out = dir.join("s");
    let o = out.to_str().unwrap();
    // A grid value the checker refuses: located in the spec, named by its grid point.
    let (code, _, stderr) = run(&sweep_args(o, &["--grid", "optimization.injection=fuzzy,sideways"]));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("adult-fairness.yaml:") && stderr.contains("sideways"), "{stderr}");
    assert!(stderr.contains("invalid spec at constraints.1.weight=0, optimization.injection=sideways"), "{stderr}");
    assert!(!out.exists(), "nothing was written");
    for (args, message) in [
        (vec!["--grid", "constraints.1.weight=2"], "--grid constraints.1.weight is given twice"),
        (vec!["--set", "constraints.1.weight=2"], "both set (--set) and swept (--grid)"),
        (vec!["--grid", "optimization.seed=1,2"], "the sweep's --seeds sets it"),
    ] {
        let (code, _, stderr) = run(&sweep_args(o, &args));
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains(message), "{stderr}");
    }
    let (code, _, stderr) = run(&["sweep", SPEC, "--seeds", "3..1", "--out", o]);
    assert_eq!(code, 2);
    assert!(stderr.contains("the range is empty"), "{stderr}");
    assert!(!out.exists(), "nothing was written");
    // A folder that is not a sweep's is left alone.
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let (code, _, stderr) = run(&sweep_args(o, &[]));
    assert_eq!(code, 2);
    assert!(stderr.contains("is not a sweep's folder (it holds notes.txt)"), "{stderr}");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
    std::fs::remove_dir_all(&dir).ok();
}

/// Killed in the middle of a run, the sweep's next call continues that run from its last epoch and
/// ends with the figures of an uninterrupted sweep.
#[test]
fn a_killed_sweep_resumes_where_it_stopped() {
    let dir = scratch("killed");
    let out = dir.join("s");
    let o = out.to_str().unwrap();
    let args = ["sweep", SPEC, "--epochs", "12", "--seeds", "1..2", "--out", o];
    let mut sweep =
        skilang(&args).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
    let point = out.join("runs/spec");
    let checkpointed = || {
        std::fs::read_dir(&point).into_iter().flatten().flatten().any(|e| {
            e.file_name().to_string_lossy().starts_with(".seed-2.partial-")
                && e.path().join("checkpoint/state.json").exists()
        })
    };
    let started = std::time::Instant::now();
    while !checkpointed() {
        assert!(started.elapsed().as_secs() < 300, "the second run never saved a checkpoint");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    sweep.kill().unwrap();
    sweep.wait().unwrap();
    assert!(point.join("seed-1/report.json").exists() && !point.join("seed-2/report.json").exists());
    let (code, _, stderr) = run(&args);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("1 done before") && stderr.contains("[2/2]"), "{stderr}");
    let log = std::fs::read_to_string(point.join("seed-2.log")).unwrap();
    assert!(log.contains("the sweep that started this run has ended"), "{log}");
    assert!(log.contains("\"--resume\"") && log.contains("resuming after over50k epoch"), "{log}");
    let (code, _, stderr) =
        run(&["train", SPEC, "--epochs", "12", "--seed", "2", "--out", dir.join("alone").to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        json(dir.join("alone/report.json"))["weights_sha256"],
        json(point.join("seed-2/report.json"))["weights_sha256"]
    );
    std::fs::remove_dir_all(&dir).ok();
}
