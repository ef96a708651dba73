//! The binary's build (`cargo build`, the wheel) must resolve every shared dependency with the
//! features the tests' build resolves, or CI compiles the whole burn tree twice. The workspace's
//! Cargo.toml names the features the dev-dependencies add; this test fails when they drift apart.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// Package ("name vX.Y.Z") → its enabled features, as `cargo tree` resolves them.
fn resolved(args: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
    let workspace = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let output = Command::new(env!("CARGO"))
        .current_dir(workspace)
        // The host's target, which both builds are for: features turned on by other platforms'
        // dependencies do not matter here.
        .args(["tree", "--offline", "--locked", "--prefix", "none"])
        .args(["--format", "{p}|{f}"])
        .args(args)
        .output()
        .expect("cargo runs");
    assert!(output.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&output.stderr));
    let mut packages = BTreeMap::<String, BTreeSet<String>>::new();
    for line in String::from_utf8(output.stdout).unwrap().lines() {
        // A package already listed is marked " (*)".
        let line = line.trim_end_matches(" (*)");
        let Some((package, features)) = line.split_once('|') else {
            continue;
        };
        let id = package.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
        let features = features.split(',').filter(|f| !f.is_empty());
        packages.entry(id).or_default().extend(features.map(str::to_owned));
    }
    packages
}

#[test]
fn the_binary_and_the_tests_resolve_the_same_features() {
    let binary = resolved(&["--package", "skilang", "--edges", "normal,build"]);
    let tests = resolved(&["--workspace", "--edges", "normal,build,dev"]);
    let drifted: Vec<String> = binary
        .iter()
        .filter_map(|(package, features)| {
            let in_tests = tests.get(package)?;
            (in_tests != features).then(|| {
                let only_tests: Vec<_> = in_tests.difference(features).collect();
                format!("{package}: the tests add {only_tests:?}")
            })
        })
        .collect();
    assert!(
        drifted.is_empty(),
        "name these features in the workspace's feature-unification dependencies:\n{}",
        drifted.join("\n")
    );
}
