//! `skilang data`: writes datasets that are generated rather than downloaded.

use crate::exit;
use crate::exit::Failure;
use crate::train::data_dir;
use skilang_data::{catalog, poker, sudoku, visudo, warcraft};
use skilang_lang::spec::BuiltinSource;
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
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| cannot_write(e, parent))?;
    }
    write_file(&out, poker::csv(&drawn))?;
    let counts: Vec<String> = counts.iter().map(|c| c.to_string()).collect();
    eprintln!("wrote {n} hands drawn with seed {seed} to {} (classes 0–9: {})", out.display(), counts.join(" / "));
    Ok(())
}

/// Writes `count` training puzzles and a tenth as many test puzzles (at least 100) to
/// `out/train.csv` and `out/test.csv`, never over existing files.
pub fn sudoku(
    count: Option<usize>,
    givens: &str,
    seed: Option<u64>,
    out: Option<PathBuf>,
    dir: Option<&Path>,
) -> Result<(), Failure> {
    let usage = |m: String| Failure::new(exit::USAGE, m);
    let givens = parse_givens(givens).ok_or_else(|| {
        usage(format!(
            "--givens {givens}: write `easy`, `hard`, a number of givens (17–81), or a range such as `24-30`"
        ))
    })?;
    let out = match out {
        Some(out) => out,
        None => data_dir(dir)?.join("sudoku"),
    };
    let train_n = count.unwrap_or(sudoku::TRAIN_PUZZLES);
    let test_n = (train_n / 10).max(100);
    let files = [
        ("train.csv", train_n, seed.unwrap_or(sudoku::TRAIN_SEED)),
        ("test.csv", test_n, seed.map_or(sudoku::TEST_SEED, |s| s ^ 0x7E57)),
    ];
    if let Some((name, ..)) = files.iter().find(|(name, ..)| out.join(name).exists()) {
        return Err(usage(format!("{} exists; remove it first or choose --out", out.join(name).display())));
    }
    std::fs::create_dir_all(&out).map_err(|e| cannot_write(e, &out))?;
    for (name, n, seed) in files {
        let started = std::time::Instant::now();
        let puzzles = sudoku::generate(n, givens, seed);
        let path = out.join(name);
        write_file(&path, sudoku::csv(&puzzles))?;
        let counts: Vec<usize> = puzzles.iter().map(|p| sudoku::count_givens(&p.quiz)).collect();
        let (lo, hi) = (counts.iter().min().unwrap_or(&0), counts.iter().max().unwrap_or(&0));
        let mean = counts.iter().sum::<usize>() as f64 / counts.len().max(1) as f64;
        eprintln!(
            "wrote {n} puzzles drawn with seed {seed} to {} (givens {lo}–{hi}, mean {mean:.1}; {:.1} s)",
            path.display(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// Writes the three splits (train, test, valid) of a visual Sudoku configuration in ViSudo-PC's
/// published layout under `out` (default: the data directory's visudo/), from the data
/// directory's MNIST (fetched when missing), never over an existing split.
pub fn visudo(
    dim: usize,
    count: Option<usize>,
    split: u32,
    out: Option<PathBuf>,
    dir: Option<&Path>,
) -> Result<(), Failure> {
    let usage = |m: String| Failure::new(exit::USAGE, m);
    let data = data_dir(dir)?;
    let config = visudo::Config { puzzles: count.unwrap_or(100), ..visudo::Config::standard(dim, split) };
    let folder = out.unwrap_or_else(|| data.join("visudo")).join(config.folder());
    if folder.join("options.json").exists() {
        return Err(usage(format!("{} holds this split already; remove it first or choose --out", folder.display())));
    }
    catalog::ensure(&[BuiltinSource::Mnist], &data).map_err(usage)?;
    let (labels, pixels) = skilang_data::load::mnist_pool(&data).map_err(|e| usage(e.to_string()))?;
    let splits = visudo::generate(&config, &labels).map_err(usage)?;
    std::fs::create_dir_all(&folder).map_err(|e| cannot_write(e, &folder))?;
    for (name, puzzles) in visudo::SPLITS.iter().zip(&splits) {
        for (file, text) in visudo::files(name, puzzles, &pixels) {
            write_file(&folder.join(file), &text)?;
        }
    }
    // Written last: its presence says the split is complete.
    write_file(&folder.join("options.json"), visudo::options(&config))?;
    eprintln!(
        "wrote split {split:02} of {dim}×{dim} visual Sudoku ({} valid + {} corrupted puzzles each for train, test and valid) to {}",
        config.puzzles,
        config.puzzles,
        folder.display()
    );
    Ok(())
}

/// Writes Warcraft-like maps of `side` tiles in the published layout (`{k}x{k}/{train,val,test}_
/// {maps,shortest_paths,vertex_weights}.npy`) under `out` (default: the data directory's
/// warcraft/), never over existing maps.
pub fn warcraft(
    side: usize,
    count: Option<usize>,
    seed: Option<u64>,
    out: Option<PathBuf>,
    dir: Option<&Path>,
) -> Result<(), Failure> {
    let standard = warcraft::Config::standard(side);
    let train = count.unwrap_or(standard.maps[0]).max(1);
    let held = (train / 10).max(1);
    let config = warcraft::Config { maps: [train, held, held], seed: seed.unwrap_or(standard.seed), ..standard };
    let folder = match out {
        Some(out) => out,
        None => data_dir(dir)?.join("warcraft"),
    }
    .join(config.folder());
    if warcraft::SPLITS.iter().any(|s| folder.join(format!("{s}_maps.npy")).exists()) {
        return Err(Failure::new(
            exit::USAGE,
            format!("{} holds maps already; remove them first or choose --out", folder.display()),
        ));
    }
    std::fs::create_dir_all(&folder).map_err(|e| cannot_write(e, &folder))?;
    for (name, split) in warcraft::SPLITS.iter().zip(&warcraft::generate(&config)) {
        // The maps go last: a split is read from its maps file, so it is there only when complete.
        for (file, bytes) in warcraft::files(name, split).into_iter().rev() {
            write_file(&folder.join(file), &bytes)?;
        }
    }
    eprintln!(
        "wrote {side}×{side} Warcraft-like maps ({train} training, {held} validation, {held} test) to {}",
        folder.display()
    );
    Ok(())
}

/// `easy`, `hard`, `N` or `LO-HI`, within 17–81 (no 9×9 puzzle with fewer givens has a unique
/// solution).
fn parse_givens(text: &str) -> Option<sudoku::Givens> {
    let n = |t: &str| t.trim().parse::<usize>().ok().filter(|n| (17..=81).contains(n));
    match text.trim() {
        "easy" => Some(sudoku::Givens::EASY),
        "hard" => Some(sudoku::Givens::HARD),
        t => match t.split_once('-') {
            Some((lo, hi)) => Some(sudoku::Givens::Between(n(lo)?, n(hi)?))
                .filter(|g| matches!(g, sudoku::Givens::Between(a, b) if a <= b)),
            None => Some(sudoku::Givens::Exactly(n(t)?)),
        },
    }
}

fn cannot_write(e: std::io::Error, path: &Path) -> Failure {
    Failure::new(exit::USAGE, format!("cannot write {}: {e}", path.display()))
}

/// Writes `text` beside `path` and renames it there: an interrupted run leaves no truncated file.
fn write_file(path: &Path, text: impl AsRef<[u8]>) -> Result<(), Failure> {
    let tmp = path.with_extension(format!("partial-{}", std::process::id()));
    std::fs::write(&tmp, text).map_err(|e| cannot_write(e, &tmp))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        std::fs::remove_file(&tmp).ok();
        cannot_write(e, path)
    })
}
