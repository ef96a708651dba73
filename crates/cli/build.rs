//! Stamps the binary with the git commit it was built from, so that every report says which code
//! produced its figures (`-dirty` when the tree had uncommitted changes; `unknown` outside git).

use std::process::Command;

fn main() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    // Rebuilt when a commit is made, the index changes, or any crate's source is edited.
    for watched in [".git/HEAD", ".git/refs", ".git/index", "crates", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={root}/{watched}");
    }
    let git =
        |args: &[&str]| Command::new("git").arg("-C").arg(root).args(args).output().ok().filter(|o| o.status.success());
    let commit = match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(o) => {
            let hash = String::from_utf8_lossy(&o.stdout).trim().to_string();
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|o| !o.stdout.is_empty());
            if dirty {
                format!("{hash}-dirty")
            } else {
                hash
            }
        }
        None => "unknown".to_string(),
    };
    println!("cargo:rustc-env=SKILANG_COMMIT={commit}");
}
