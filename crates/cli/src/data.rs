//! `skilang data`: writes datasets that are generated rather than downloaded.

use crate::exit;
use crate::exit::Failure;
use crate::train::data_dir;
use skilang_data::poker;
use std::path::{Path, PathBuf};

/// Writes `hands` poker hands (UCI layout, rule labels) to `out`, never over an existing file.
pub fn poker_hand(
    hands: Option<usize>,
    seed: Option<u64>,
    out: Option<PathBuf>,
    dir: Option<&Path>,
) -> Result<(), Failure> {
    let out = match out {
        Some(out) => out,
        None => data_dir(dir)?.join("poker_hand").join("poker-hand-testing.data"),
    };
    if out.exists() {
        return Err(Failure::new(exit::USAGE, format!("{} exists; remove it first or choose --out", out.display())));
    }
    let (n, seed) = (hands.unwrap_or(poker::TEST_HANDS), seed.unwrap_or(poker::TEST_SEED));
    let drawn = poker::draw(n, seed);
    let mut counts = [0usize; 10];
    for h in &drawn {
        counts[poker::class(h) as usize] += 1;
    }
    let io = |e: std::io::Error, p: &Path| Failure::new(exit::USAGE, format!("cannot write {}: {e}", p.display()));
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| io(e, parent))?;
    }
    // Written beside its place and renamed: an interrupted run leaves no truncated file behind.
    let tmp = out.with_extension(format!("partial-{}", std::process::id()));
    std::fs::write(&tmp, poker::csv(&drawn)).map_err(|e| io(e, &tmp))?;
    std::fs::rename(&tmp, &out).map_err(|e| {
        std::fs::remove_file(&tmp).ok();
        io(e, &out)
    })?;
    let counts: Vec<String> = counts.iter().map(|c| c.to_string()).collect();
    eprintln!("wrote {n} hands drawn with seed {seed} to {} (classes 0–9: {})", out.display(), counts.join(" / "));
    Ok(())
}
