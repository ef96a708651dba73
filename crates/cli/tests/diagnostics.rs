//! Golden tests: every spec under `tests/diagnostics/` is checked by the real binary, and its
//! stderr and exit status must match `NAME.stderr` exactly. Specs named `warn-*` are valid (exit
//! 0) and show warnings; all others are malformed (exit 1). `BLESS=1 cargo test` rewrites goldens.

use std::path::Path;
use std::process::Command;

fn run_check(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_skilang")).args(args).output().expect("the binary runs");
    let code = out.status.code().expect("exited, not killed by a signal");
    (code, String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn malformed_specs_match_their_golden_diagnostics() {
    let dir = Path::new("tests/diagnostics");
    let mut specs: Vec<_> = std::fs::read_dir(dir)
        .expect("the corpus exists")
        .map(|e| e.expect("a readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    specs.sort();
    assert!(specs.len() >= 40, "the corpus has {} specs", specs.len());
    let bless = std::env::var_os("BLESS").is_some();
    let mut failures = Vec::new();
    for spec in &specs {
        let rel = spec.to_str().expect("UTF-8 path");
        let (code, stdout, stderr) = run_check(&["check", rel]);
        let warn_only = spec.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("warn-"));
        let expected_code = if warn_only { 0 } else { 1 };
        if code != expected_code {
            failures.push(format!("{rel}: exit {code}, expected {expected_code}\n{stderr}"));
        }
        if !warn_only && !stdout.is_empty() {
            failures.push(format!("{rel}: an invalid spec printed a summary:\n{stdout}"));
        }
        let golden = spec.with_extension("stderr");
        if bless {
            std::fs::write(&golden, &stderr).expect("golden written");
            continue;
        }
        match std::fs::read_to_string(&golden) {
            Ok(expected) if expected == stderr => {}
            Ok(expected) => {
                failures.push(format!("{rel}: stderr differs\n--- expected\n{expected}\n--- actual\n{stderr}"))
            }
            Err(_) => failures.push(format!("{rel}: no golden file {}", golden.display())),
        }
    }
    assert!(failures.is_empty(), "{} of {} specs failed:\n\n{}", failures.len(), specs.len(), failures.join("\n\n"));
}
