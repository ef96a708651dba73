//! `skilang check` as a user runs it: the examples' summaries, JSON output, exit statuses.

use std::path::Path;
use std::process::Command;

fn skilang(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_skilang")).args(args).output().expect("the binary runs");
    let code = out.status.code().expect("exited normally");
    (code, String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn examples() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir("../../examples")
        .expect("examples")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    names.sort();
    names
}

#[test]
fn every_example_checks_and_its_summary_matches_the_golden_file() {
    let names = examples();
    assert!(names.len() >= 5);
    let bless = std::env::var_os("BLESS").is_some();
    for name in names {
        let path = format!("../../examples/{name}");
        let (code, stdout, stderr) = skilang(&["check", &path]);
        assert_eq!(code, 0, "{name}: {stderr}");
        assert!(stderr.is_empty(), "{name} has diagnostics:\n{stderr}");
        let golden = Path::new("tests/summaries").join(name.replace(".yaml", ".txt"));
        if bless {
            std::fs::write(&golden, &stdout).expect("written");
        } else {
            let expected =
                std::fs::read_to_string(&golden).unwrap_or_else(|_| panic!("no golden {}", golden.display()));
            assert_eq!(stdout, expected, "{name}: summary differs");
        }
    }
}

#[test]
fn json_output_carries_summary_and_located_diagnostics() {
    let (code, stdout, _) = skilang(&[
        "check",
        "--format",
        "json",
        "../../examples/mnist-sum.yaml",
        "tests/diagnostics/resolve-unknown-name.yaml",
    ]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("valid JSON");
    let files = v["files"].as_array().expect("files");
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["valid"], true);
    let summary = &files[0]["summary"];
    assert_eq!(summary["learnables"][0]["name"], "digit");
    assert_eq!(summary["learnables"][0]["classes"], 10);
    assert_eq!(summary["constraints"][0]["scope"], "instance-wise");
    assert_eq!(summary["constraints"][0]["latent"], serde_json::json!(["digit(x1)", "digit(x2)"]));
    assert_eq!(files[1]["valid"], false);
    let d = &files[1]["diagnostics"][0];
    assert_eq!(d["severity"], "error");
    assert_eq!((d["line"].as_u64(), d["column"].as_u64(), d["end_column"].as_u64()), (Some(21), Some(13), Some(17)));
    assert_eq!(d["help"], "did you mean `digit`?");
    assert!(files[1].get("summary").is_none());
}

#[test]
fn io_and_usage_errors_exit_2() {
    let (code, _, stderr) = skilang(&["check", "no/such/spec.yaml"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot read no/such/spec.yaml"), "{stderr}");
    let (code, _, stderr) = skilang(&["check", "tests"]);
    assert_eq!(code, 2, "a folder is not a spec");
    assert!(stderr.contains("tests: a folder"), "{stderr}");
    let (code, _, stderr) = skilang(&["check", "/dev/zero"]);
    assert_eq!(code, 2, "a device is not read until memory runs out");
    assert!(stderr.contains("/dev/zero: not a regular file"), "{stderr}");
    let big = std::env::temp_dir().join(format!("skilang-big-{}.yaml", std::process::id()));
    let file = std::fs::File::create(&big).unwrap();
    file.set_len(skilang_lang::MAX_SPEC_BYTES + 1).unwrap();
    let (code, _, stderr) = skilang(&["check", big.to_str().unwrap()]);
    std::fs::remove_file(&big).ok();
    assert_eq!(code, 2);
    assert!(stderr.contains("a spec may be at most 16 MiB") && stderr.lines().count() == 1, "{stderr}");
    assert_eq!(skilang(&["check"]).0, 2);
    assert_eq!(skilang(&["frobnicate"]).0, 2);
    assert_eq!(skilang(&["--help"]).0, 0);
}

#[test]
fn the_worst_status_of_several_files_wins() {
    let (code, stdout, _) = skilang(&["check", "../../examples/mnist-sum.yaml", "tests/diagnostics/yaml-empty.yaml"]);
    assert_eq!(code, 1);
    assert!(stdout.contains("mnist-sum.yaml: ok"));
    let (code, _, _) = skilang(&["check", "tests/diagnostics/yaml-empty.yaml", "missing.yaml"]);
    assert_eq!(code, 2);
}

#[test]
fn set_overrides_are_checked_like_written_values() {
    let (code, stdout, _) = skilang(&[
        "check",
        "--set",
        "constraints.0.weight=3",
        "--set",
        "data.mnist.fraction=0.1",
        "../../examples/mnist-sum.yaml",
    ]);
    assert_eq!(code, 0);
    assert!(stdout.contains("weight 3 (100%)"), "{stdout}");
    let (code, _, stderr) = skilang(&["check", "--set", "optimization.epochs=0", "../../examples/mnist-sum.yaml"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("mnist-sum.yaml:17:11") && stderr.contains("set by --set optimization.epochs=0"),
        "{stderr}"
    );
    let (code, _, stderr) = skilang(&["check", "--set", "constraints.7.weight=1", "../../examples/mnist-sum.yaml"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("there is no item 7"), "{stderr}");
    assert_eq!(skilang(&["check", "--set", "novalue", "../../examples/mnist-sum.yaml"]).0, 2);
}

/// A reader that stops early (`| head -1`) ends the output quietly, as with other tools.
#[test]
fn a_closed_stdout_is_not_an_error() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_skilang"))
        .args(std::iter::once("check").chain(std::iter::repeat_n("../../examples/poker-hand.yaml", 300)))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("it ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Specs far larger than written by hand (a category of 200,000 values as a list, as a mapping,
/// with non-ASCII names) are read and checked; `cargo bench --bench check` measures that the time
/// grows linearly.
#[test]
fn large_specs_are_checked() {
    let dir = std::env::temp_dir().join(format!("skilang-large-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (shape, values) in large_category_values(200_000) {
        let path = dir.join(format!("{shape}.yaml"));
        std::fs::write(&path, spec_with_values(&values)).unwrap();
        let (code, stdout, stderr) = skilang(&["check", path.to_str().unwrap()]);
        assert_eq!(code, 0, "{shape}: {stderr}");
        assert!(stdout.contains("category of 200000"), "{shape}: {stdout}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// A CSV dataset whose target has the given `values`.
fn spec_with_values(values: &str) -> String {
    format!("data:\n  t:\n    training: {{file: rows.csv, format: csv}}\n    features:\n      - {{name: u, type: int}}\n    targets:\n      - {{name: y, values: {values}}}\nlearnables:\n  f: {{input: t.u, output: t.y, architecture: mlp}}\n")
}

/// `n` category values written as a flow list, as a mapping to codes, and with accents.
fn large_category_values(n: usize) -> [(&'static str, String); 3] {
    let join = |items: Vec<String>| items.join(", ");
    [
        ("list", format!("[{}]", join((0..n).map(|i| i.to_string()).collect()))),
        ("map", format!("{{{}}}", join((0..n).map(|i| format!("v{i}: {i}")).collect()))),
        ("accents", format!("[{}]", join((0..n).map(|i| format!("é{i}")).collect()))),
    ]
}

/// The summary says which injection a spec trains with when it names none, and which constraints
/// the injection it names does not train.
#[test]
fn the_summary_says_what_training_will_do() {
    let (code, stdout, _) = skilang(&["check", "tests/prototype/adult.yaml"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("injection: fuzzy (the default for a spec with constraints)"), "{stdout}");
    let (code, stdout, stderr) = skilang(&["check", "tests/diagnostics/warn-supervised-ignores-constraint.yaml"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stdout.contains("injection:"), "written, so not repeated: {stdout}");
    assert!(stdout.contains("#1 always, instance-wise, weight 1 (50%)\n"), "{stdout}");
    assert!(stdout.contains("#2 always, instance-wise, weight 1 (50%), not trained\n"), "{stdout}");
}

/// `shortest_path` over latent costs is a black box: `check` refuses every way of training that
/// would need more than its answer (exact, BP, top-k, fuzzy, CNF), and any use of it but a
/// comparison with an observed path, each at the call.
#[test]
fn a_latent_shortest_path_is_sampled_and_compared_whole() {
    let spec = "../../examples/warcraft-12.yaml";
    let call = "warcraft-12.yaml:51:13";
    for (key, refused) in [
        ("optimization.inference=exact", "`inference: exact` cannot reason through `shortest_path`"),
        ("optimization.inference=bp", "`inference: bp` cannot reason through `shortest_path`"),
        ("optimization.injection=fuzzy", "`injection: fuzzy` cannot reason through `shortest_path`"),
    ] {
        let (code, _, stderr) = skilang(&["check", "--set", key, spec]);
        assert_eq!(code, 1, "{key}");
        assert!(stderr.contains(refused) && stderr.contains(call), "{key}: {stderr}");
    }
    let text = std::fs::read_to_string(spec).unwrap();
    let dir = std::env::temp_dir().join(format!("skilang-check-path-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let compared = "shortest_path([tile_cost(t) for t in tiles]) == [t.on_path for t in tiles]";
    assert!(text.contains(compared));
    for (other, message) in [
        ("sum(shortest_path([tile_cost(t) for t in tiles])) == 23", "can only be compared with an observed path"),
        (
            "shortest_path([tile_cost(t) for t in tiles]) == shortest_path([tile_cost(t) for t in tiles[::-1]])",
            "can only be compared with an observed path",
        ),
        (
            "shortest_path([tile_cost(t) for t in tiles]) <= [t.on_path for t in tiles]",
            "can only be compared with an observed path",
        ),
        ("shortest_path([t.tile for t in tiles]) == [t.on_path for t in tiles]", "`shortest_path` needs integer costs"),
    ] {
        let path = dir.join("spec.yaml");
        std::fs::write(&path, text.replace(compared, other)).unwrap();
        let (code, _, stderr) = skilang(&["check", path.to_str().unwrap()]);
        assert_eq!(code, 1, "{other}: {stderr}");
        assert!(stderr.contains(message) && stderr.contains("spec.yaml:51:"), "{other}: {stderr}");
    }
    // Observed costs are evaluated directly: nothing latent to refuse.
    std::fs::write(
        dir.join("spec.yaml"),
        text.replace(compared, "shortest_path([t.cost for t in tiles]) == [t.on_path for t in tiles]"),
    )
    .unwrap();
    let (code, _, stderr) = skilang(&["check", dir.join("spec.yaml").to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = skilang(&["check", "--set", "data.warcraft.instances.tiles=100", spec]);
    assert_eq!(code, 1);
    assert!(stderr.contains("an example of `warcraft` is one map: 144 cells"), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}

/// A visual Sudoku source fixes its examples (a board's cells): `check` refuses an example of
/// another size, other columns, and the keys that draw rows, each at its place.
#[test]
fn visual_sudoku_examples_are_whole_boards() {
    let spec = "../../examples/visual-sudoku-4.yaml";
    let (code, _, stderr) = skilang(&["check", "--set", "data.visudo.instances.cells=15", spec]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("an example of `visudo` is one board: 16 cells")
            && stderr.contains("visual-sudoku-4.yaml:27:14"),
        "{stderr}"
    );
    let (code, _, stderr) = skilang(&["check", "--set", "data.visudo.source=visudo-9", spec]);
    assert_eq!(code, 1);
    assert!(stderr.contains("declares other columns") && stderr.contains("one board: 81 cells"), "{stderr}");
    // Exact inference cannot compile a 9×9 board: refused here, not after grounding.
    let (code, _, stderr) =
        skilang(&["check", "--set", "optimization.inference=exact", "../../examples/visual-sudoku-9.yaml"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("cannot reason over the 81 cells of a 9×9 board") && stderr.contains("9.yaml:25:14"),
        "{stderr}"
    );
    let (code, _, stderr) = skilang(&["check", "--set", "data.visudo.sampled=100", spec]);
    assert_eq!(code, 1);
    assert!(stderr.contains("`sampled` does not apply to `visudo`: its examples are fixed boards"), "{stderr}");
}

/// A constraint with `train: false` is only measured: a latent `shortest_path` may stand anywhere
/// in it (it is evaluated on the predictions, never grounded for training), a `weight` on it is
/// said to be unused, and a spec whose constraints are all measured has nothing to train.
#[test]
fn measured_constraints_are_evaluated_never_trained() {
    let spec = "../../examples/warcraft-12.yaml";
    let (code, out, stderr) = skilang(&["check", spec]);
    assert_eq!(code, 0, "{stderr}");
    assert!(out.contains("#2 optimal_cost always, instance-wise, weight 0 (0%), measured only"), "{out}");
    let text = std::fs::read_to_string(spec).unwrap();
    let dir = std::env::temp_dir().join(format!("skilang-check-measured-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let measured = "    train: false\n";
    let trained = "  - always: shortest_path([tile_cost(t) for t in tiles]) == [t.on_path for t in tiles]\n";
    assert!(text.contains(measured) && text.contains(trained));
    for (from, to, code, message) in [
        (measured, "    train: false\n    weight: 2\n", 0, "`weight` is not used: this constraint is only measured"),
        (measured, "    train: true\n", 1, "can only be compared with an observed path"),
        (trained, "", 1, "injection `em` needs constraints to train, and every one is `train: false`"),
    ] {
        let path = dir.join("spec.yaml");
        std::fs::write(&path, text.replace(from, to)).unwrap();
        let (got, _, stderr) = skilang(&["check", path.to_str().unwrap()]);
        assert_eq!(got, code, "{to}: {stderr}");
        assert!(stderr.contains(message), "{to}: {stderr}");
    }
    std::fs::remove_dir_all(&dir).ok();
}
