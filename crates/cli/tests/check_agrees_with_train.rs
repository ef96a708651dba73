//! `skilang check` and `skilang train` never disagree about a spec: every example, golden and
//! prototype spec, under every injection and every inference the language has, is either
//! accepted by both (training starts: `train --dry-run` loads the data, builds the networks and
//! grounds the examples) or refused by both with the same diagnostics. A setting that leaves an
//! accepted spec's plan as another setting made it is not trained twice.

use skilang_lang::spec::BuiltinSource;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const INJECTIONS: [&str; 8] = ["supervised", "semantic_loss", "em", "ste", "fuzzy", "lp", "embedding", "structuring"];
const INFERENCES: [&str; 5] = ["exact", "enumerate", "bp", "sample", "topk"];

/// Exit status, stdout and stderr.
fn skilang(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_skilang")).args(args).output().expect("the binary runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().expect("exited normally"), text(&out.stdout), text(&out.stderr))
}

/// The injection `check` plans for an accepted spec.
fn planned_injection(spec: &str, extra: &[&str]) -> String {
    let (_, json, _) = skilang(&[&["check", spec, "--format", "json"][..], extra].concat());
    let summary: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    summary["files"][0]["summary"]["injection"].as_str().expect("an injection").to_string()
}

fn specs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut specs = Vec::new();
    for dir in ["../../examples", "tests/diagnostics", "tests/prototype"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "yaml") {
                specs.push(path);
            }
        }
    }
    specs.sort();
    specs
}

/// Everything but the last line (the verdict, which each command words its own way).
fn diagnostics(stderr: &str) -> &str {
    stderr.trim_end().rsplit_once('\n').map_or("", |(d, _)| d)
}

/// A data directory like `data` whose Sudoku puzzles and Warcraft maps are few: without files,
/// every dry run of such a spec would generate the built-in 11,000 puzzles or 12,000 maps, to show
/// nothing more.
fn with_few_puzzles(data: &Path) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("check-agrees-data");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(data).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != "sudoku" && entry.file_name() != "warcraft" {
            std::os::unix::fs::symlink(entry.path().canonicalize().unwrap(), dir.join(entry.file_name())).unwrap();
        }
    }
    let out = dir.join("sudoku");
    let (status, _, err) = skilang(&["data", "sudoku", "--count", "10", "--out", out.to_str().unwrap()]);
    assert_eq!(status, 0, "{err}");
    // The test file gets at least 100 puzzles; ten are enough here.
    let test = out.join("test.csv");
    let lines: Vec<String> =
        std::fs::read_to_string(&test).unwrap().lines().take(11).map(|l| format!("{l}\n")).collect();
    std::fs::write(test, lines.concat()).unwrap();
    let maps = dir.join("warcraft");
    let (status, _, err) = skilang(&["data", "warcraft-12", "--count", "10", "--out", maps.to_str().unwrap()]);
    assert_eq!(status, 0, "{err}");
    dir
}

#[test]
fn check_and_train_agree_on_every_spec_under_every_plan() {
    let data = skilang_data::dir::for_checkout(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")));
    let sources = [BuiltinSource::Mnist, BuiltinSource::Adult, BuiltinSource::PokerHand];
    skilang_data::catalog::ensure(&sources, &data).unwrap_or_else(|e| panic!("{e}"));
    let data = with_few_puzzles(&data);
    let data = data.to_str().unwrap();
    let settings: Vec<Option<String>> = std::iter::once(None)
        .chain(INJECTIONS.iter().map(|i| Some(format!("optimization.injection={i}"))))
        .chain(INFERENCES.iter().map(|i| Some(format!("optimization.inference={i}"))))
        .collect();
    // Each case is processes run one after another: two workers keep both cores busy.
    let specs = specs();
    let (accepted, refused) = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..2)
            .map(|w| {
                let (specs, settings) = (&specs, &settings);
                scope.spawn(move || agree(specs.iter().skip(w).step_by(2), settings, data))
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    });
    // The examples train under several plans, and every golden mistake is refused by both.
    assert!(accepted >= 25 && refused >= 1000, "{accepted} accepted, {refused} refused");
}

/// Checks and dry-trains each spec under each setting; (accepted, refused) cases.
fn agree<'a>(specs: impl Iterator<Item = &'a PathBuf>, settings: &[Option<String>], data: &str) -> (usize, usize) {
    let (mut accepted, mut refused) = (0, 0);
    let mut plans = HashSet::new();
    for spec in specs {
        let spec = spec.to_str().unwrap();
        for set in settings {
            let mut extra: Vec<&str> = set.iter().flat_map(|s| ["--set", s.as_str()]).collect();
            if std::fs::read_to_string(spec).is_ok_and(|text| text.contains("source: sudoku")) {
                // Every training example is grounded in a dry run; twenty puzzles show as much.
                extra.extend(["--set", "data.sudoku.examples=20"]);
            }
            let (check, _, check_err) = skilang(&[&["check", spec][..], &extra].concat());
            if check == 0 {
                // An inference matters to the injections that reason; the others ignore it.
                let injection = planned_injection(spec, &extra);
                let inference = match (injection.as_str(), set) {
                    ("semantic_loss" | "em", Some(s)) if s.contains("inference") => s.clone(),
                    _ => String::new(),
                };
                if !plans.insert((spec.to_string(), injection, inference)) {
                    continue;
                }
            }
            let (train, _, train_err) =
                skilang(&[&["train", spec, "--dry-run", "--data-dir", data][..], &extra].concat());
            let case = format!("{spec} {set:?}");
            match check {
                0 => {
                    assert_eq!(train, 0, "{case}: check accepts, train refuses:\n{train_err}");
                    assert!(train_err.contains("dry run:"), "{case}: {train_err}");
                    accepted += 1;
                }
                _ => {
                    assert_eq!(train, check, "{case}: check refuses ({check}), train gives {train}:\n{train_err}");
                    let said = diagnostics(&check_err);
                    assert!(
                        train_err.starts_with(said),
                        "{case}: train refuses differently:\n{check_err}\n---\n{train_err}"
                    );
                    refused += 1;
                }
            }
        }
    }
    (accepted, refused)
}
