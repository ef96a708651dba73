//! Visual Sudoku puzzle classification (ViSudo-PC, Augustine et al. 2022): d×d grids of MNIST
//! digits, labelled by whether their digits make a valid Sudoku. Generated as the published
//! generator does it (linqs/visual-sudoku-puzzle-classification, `generate-split.py` with the
//! `simple` strategy), and read and written in its layout, so that its published splits load too.
//!
//! The generator, per split (train, test, valid): each label's images are shuffled and cut into
//! three disjoint slices, one per split; every correct puzzle is a board filled row by row with
//! random digits (restarted when a cell has none left) whose cells take the split's next image of
//! their digit; it is followed by one corruption of itself, by replacement (a cell's image becomes
//! one of another digit) or by swaps of two cells, the first always and each further one with
//! probability `corrupt_chance`, up to 10 replacements or min(10, d²/2) swaps, redrawn until the
//! board is no longer valid.

use crate::rng::Rng;
use std::fmt::Write;
use std::path::PathBuf;

const CORRUPTION_MAX: usize = 10;
pub const PIXELS: usize = 28 * 28;
/// The splits, in the order the generator fills them.
pub const SPLITS: [&str; 3] = ["train", "test", "valid"];

/// One configuration of the published grid (strategy `simple`, MNIST, no overlap).
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// 4 or 9.
    pub dim: usize,
    /// Correct puzzles per split; as many corrupted ones follow them.
    pub puzzles: usize,
    pub corrupt_chance: f64,
    /// 1–11 in the published data; it seeds the generator here.
    pub split: u32,
}

impl Config {
    /// The setting A-NeSI and EM-NeSy report: 100 correct + 100 corrupted puzzles per split.
    pub fn standard(dim: usize, split: u32) -> Config {
        Config { dim, puzzles: 100, corrupt_chance: 0.5, split }
    }

    /// Where the published generator writes this configuration, under its output folder.
    pub fn folder(&self) -> PathBuf {
        let n = self.puzzles;
        PathBuf::from(format!(
            "dimension::{}/datasets::mnist/strategy::simple/numTrain::{n:05}/numTest::{n:05}/numValid::{n:05}/corruptChance::{:04.2}/overlap::0.00/split::{:02}",
            self.dim, self.corrupt_chance, self.split
        ))
    }

    fn seed(&self) -> u64 {
        0x5D0C_0000 ^ ((self.dim as u64) << 32) ^ u64::from(self.split)
    }
}

/// A puzzle: each cell's image (an index into the pooled images) and digit, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Puzzle {
    pub images: Vec<usize>,
    pub digits: Vec<u8>,
    pub valid: bool,
    /// `solved`, `replace(N)` or `swap(N)`, as the published notes say.
    pub note: String,
}

/// Whether every row, column and box of a d×d board holds d different digits.
pub fn is_valid(digits: &[u8], dim: usize) -> bool {
    let block = (dim as f64).sqrt() as usize;
    let distinct = |cell: &dyn Fn(usize) -> usize| {
        let seen = (0..dim).fold(0u64, |seen, k| seen | 1 << digits[cell(k)]);
        seen.count_ones() as usize == dim
    };
    (0..dim).all(|i| {
        let (br, bc) = (i / block * block, i % block * block);
        distinct(&|c| i * dim + c)
            && distinct(&|r| r * dim + i)
            && distinct(&|k| (br + k / block) * dim + bc + k % block)
    })
}

/// A valid board, filled row by row with a random digit among those its row, column and box
/// leave; restarted when a cell has none left (no backtracking, as published).
fn board(rng: &mut Rng, dim: usize) -> Vec<u8> {
    let block = (dim as f64).sqrt() as usize;
    'restart: loop {
        let mut options = vec![(1u32 << dim) - 1; dim * dim];
        let mut digits = vec![0u8; dim * dim];
        for cell in 0..dim * dim {
            let choices: Vec<u8> = (0..dim as u8).filter(|&d| options[cell] & (1 << d) != 0).collect();
            if choices.is_empty() {
                continue 'restart;
            }
            let d = choices[rng.below(choices.len())];
            digits[cell] = d;
            let (r, c) = (cell / dim, cell % dim);
            for (other, o) in options.iter_mut().enumerate() {
                let (r2, c2) = (other / dim, other % dim);
                if r2 == r || c2 == c || (r2 / block == r / block && c2 / block == c / block) {
                    *o &= !(1 << d);
                }
            }
        }
        return digits;
    }
}

/// The three splits (train, test, valid) of `config`, from pooled images whose digits are
/// `labels`; an error when a digit has too few images for three disjoint slices.
pub fn generate(config: &Config, labels: &[u8]) -> Result<[Vec<Puzzle>; 3], String> {
    let (dim, n) = (config.dim, config.puzzles);
    let mut rng = Rng::new(config.seed());
    let per_split = n * dim;
    let mut pools: Vec<Vec<usize>> =
        (0..dim as u8).map(|d| (0..labels.len()).filter(|&i| labels[i] == d).collect()).collect();
    for (d, pool) in pools.iter_mut().enumerate() {
        if pool.len() < 3 * per_split {
            return Err(format!(
                "{dim}×{dim} puzzles need {} images of each digit 0–{} ({n} correct puzzles × {dim} per split, three splits); digit {d} has {}",
                3 * per_split,
                dim - 1,
                pool.len()
            ));
        }
        rng.shuffle(pool);
    }
    let mut splits: [Vec<Puzzle>; 3] = Default::default();
    for (s, out) in splits.iter_mut().enumerate() {
        let slices: Vec<&[usize]> = pools.iter().map(|p| &p[s * per_split..(s + 1) * per_split]).collect();
        let mut next = vec![0; dim];
        for _ in 0..n {
            let digits = board(&mut rng, dim);
            let images = digits
                .iter()
                .map(|&d| {
                    next[d as usize] += 1;
                    slices[d as usize][next[d as usize] - 1]
                })
                .collect();
            let correct = Puzzle { images, digits, valid: true, note: "solved".into() };
            let corrupted = corrupt(&mut rng, &correct, config, &slices);
            out.push(correct);
            out.push(corrupted);
        }
    }
    Ok(splits)
}

/// One corruption of a correct puzzle: by replacement or swaps, the method drawn once, the
/// whole corruption redrawn until the board is invalid.
fn corrupt(rng: &mut Rng, puzzle: &Puzzle, config: &Config, slices: &[&[usize]]) -> Puzzle {
    let cells = config.dim * config.dim;
    let replace = rng.below(2) == 1;
    let most = if replace { CORRUPTION_MAX.min(cells) } else { CORRUPTION_MAX.min(cells / 2) };
    loop {
        let mut p = Puzzle { valid: false, ..puzzle.clone() };
        let mut used = vec![false; cells];
        let mut fresh_cell = |rng: &mut Rng| loop {
            let c = rng.below(cells);
            if !used[c] {
                used[c] = true;
                return c;
            }
        };
        let mut count = 0;
        while count < most && (count == 0 || rng.unit() < config.corrupt_chance) {
            if replace {
                let cell = fresh_cell(rng);
                let digit = loop {
                    let d = rng.below(config.dim) as u8;
                    if d != p.digits[cell] {
                        break d;
                    }
                };
                let pool = slices[digit as usize];
                p.digits[cell] = digit;
                p.images[cell] = pool[rng.below(pool.len())];
            } else {
                let (a, b) = (fresh_cell(rng), fresh_cell(rng));
                p.digits.swap(a, b);
                p.images.swap(a, b);
            }
            count += 1;
        }
        if !is_valid(&p.digits, config.dim) {
            p.note = format!("{}({count})", if replace { "replace" } else { "swap" });
            return p;
        }
    }
}

/// A pixel as the published files print it: value / 255 rounded to 4 decimals, as Python's
/// `str(float)` writes it (`0.0`, `0.3294`, `1.0`).
fn pixel(byte: u8) -> String {
    let v = (f64::from(byte) / 255.0 * 1e4).round() / 1e4;
    if v.fract() == 0.0 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

/// The four files of one split, in the published layout: `(name, text)`.
pub fn files(split: &str, puzzles: &[Puzzle], images: &[u8]) -> Vec<(String, String)> {
    let (mut pixels, mut cells, mut labels, mut notes) = (String::new(), String::new(), String::new(), String::new());
    let values: Vec<String> = (0..=255u8).map(pixel).collect();
    for p in puzzles {
        let row: Vec<&str> = p
            .images
            .iter()
            .flat_map(|&i| images[i * PIXELS..(i + 1) * PIXELS].iter().map(|&b| values[b as usize].as_str()))
            .collect();
        pixels.push_str(&row.join("\t"));
        pixels.push('\n');
        let digits: Vec<String> = p.digits.iter().map(|d| format!("mnist_{d}")).collect();
        cells.push_str(&digits.join("\t"));
        cells.push('\n');
        labels.push_str(if p.valid { "1\t0\n" } else { "0\t1\n" });
        let _ = writeln!(notes, "{}", p.note);
    }
    vec![
        (format!("{split}_puzzle_pixels.txt"), pixels),
        (format!("{split}_cell_labels.txt"), cells),
        (format!("{split}_puzzle_labels.txt"), labels),
        (format!("{split}_puzzle_notes.txt"), notes),
    ]
}

/// The generator's record of a configuration, as the published `options.json` has it.
pub fn options(config: &Config) -> String {
    format!(
        "{{\n    \"dimension\": {},\n    \"datasets\": [\n        \"mnist\"\n    ],\n    \"strategy\": \"simple\",\n    \"numTrain\": {n},\n    \"numTest\": {n},\n    \"numValid\": {n},\n    \"corruptChance\": {},\n    \"overlap\": 0.0,\n    \"splitId\": \"{:02}\",\n    \"seed\": {},\n    \"generator\": \"skilang data visudo\"\n}}\n",
        config.dim,
        config.corrupt_chance,
        config.split,
        config.seed(),
        n = config.puzzles
    )
}

/// One split as read from the published files: every cell's image and digit, puzzle after
/// puzzle, and each puzzle's label.
#[derive(Debug, PartialEq)]
pub struct Split {
    pub cells_per_puzzle: usize,
    pub pixels: Vec<u8>,
    pub digits: Vec<u8>,
    pub valid: Vec<bool>,
}

/// Reads `{split}_puzzle_pixels.txt`, `_cell_labels.txt` and `_puzzle_labels.txt` (texts given
/// with their names for messages); an error names the file, line and what is wrong.
pub fn parse(
    pixels: (&str, &str),
    cells: (&str, &str),
    labels: (&str, &str),
) -> Result<Split, (String, usize, String)> {
    fn lines<'t>((name, text): (&str, &'t str)) -> Vec<(String, usize, &'t str)> {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| (name.to_string(), i + 1, l))
            .collect()
    }
    let (pixel_rows, cell_rows, label_rows) = (lines(pixels), lines(cells), lines(labels));
    if pixel_rows.len() != cell_rows.len() || cell_rows.len() != label_rows.len() {
        return Err((
            pixels.0.to_string(),
            0,
            format!(
                "{} puzzles here, {} in {} and {} in {}: the three files list the same puzzles",
                pixel_rows.len(),
                cell_rows.len(),
                cells.0,
                label_rows.len(),
                labels.0
            ),
        ));
    }
    let mut out = Split { cells_per_puzzle: 0, pixels: Vec::new(), digits: Vec::new(), valid: Vec::new() };
    for ((p, c), l) in pixel_rows.into_iter().zip(cell_rows).zip(label_rows) {
        let fail = |(name, line, _): &(String, usize, &str), why: String| Err((name.clone(), *line, why));
        let digits: Vec<u8> =
            match c.2.split('\t').map(|f| f.trim().trim_start_matches("mnist_").parse::<u8>()).collect() {
                Ok(d) => d,
                Err(_) => return fail(&c, "a cell label is not `mnist_<digit>`".into()),
            };
        let dim = (digits.len() as f64).sqrt() as usize;
        if dim * dim != digits.len() || !(dim == 4 || dim == 9) || digits.iter().any(|&d| d as usize >= dim) {
            return fail(
                &c,
                format!("{} cell labels, not a 4×4 or 9×9 board of digits 0–{}", digits.len(), dim.max(1) - 1),
            );
        }
        if out.cells_per_puzzle != 0 && out.cells_per_puzzle != digits.len() {
            return fail(&c, format!("{} cells, where the puzzles before have {}", digits.len(), out.cells_per_puzzle));
        }
        out.cells_per_puzzle = digits.len();
        let values: Vec<&str> = p.2.split('\t').collect();
        if values.len() != digits.len() * PIXELS {
            return fail(&p, format!("{} pixel values for {} cells of 28×28", values.len(), digits.len()));
        }
        for v in values {
            match v.trim().parse::<f32>() {
                Ok(x) if (0.0..=1.0).contains(&x) => out.pixels.push((x * 255.0).round() as u8),
                _ => return fail(&p, format!("`{v}` is not a pixel value in [0, 1]")),
            }
        }
        out.valid.push(match l.2.split('\t').map(str::trim).collect::<Vec<_>>()[..] {
            ["1", "0"] => true,
            ["0", "1"] => false,
            _ => return fail(&l, "a puzzle label is `1\t0` (valid) or `0\t1` (corrupted)".into()),
        });
        out.digits.extend(digits);
    }
    Ok(out)
}

/// A generated split as the files would give it: every cell's image (from the pooled `images`,
/// 784 bytes each) and digit, and each puzzle's validity.
pub fn split_of(puzzles: &[Puzzle], images: &[u8]) -> Split {
    Split {
        cells_per_puzzle: puzzles.first().map_or(0, |p| p.digits.len()),
        pixels: puzzles
            .iter()
            .flat_map(|p| &p.images)
            .flat_map(|&i| &images[i * PIXELS..(i + 1) * PIXELS])
            .copied()
            .collect(),
        digits: puzzles.iter().flat_map(|p| p.digits.iter().copied()).collect(),
        valid: puzzles.iter().map(|p| p.valid).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_follow_the_published_generator() {
        // 1,300 images of each digit: enough for three disjoint 4×4 splits of 100 puzzles.
        let labels: Vec<u8> = (0..13_000).map(|i| (i % 10) as u8).collect();
        let config = Config::standard(4, 1);
        let splits = generate(&config, &labels).unwrap();
        let mut seen = std::collections::HashSet::new();
        let mut corruptions = [0usize; 2];
        for split in &splits {
            assert_eq!(split.len(), 200);
            for (k, p) in split.iter().enumerate() {
                assert_eq!(p.valid, k % 2 == 0, "a correct puzzle, then its corruption");
                assert_eq!(is_valid(&p.digits, 4), p.valid);
                assert!(p.images.iter().zip(&p.digits).all(|(&i, &d)| labels[i] == d));
                assert!(p.digits.iter().all(|&d| d < 4), "digits 0-3 only");
                if p.valid {
                    // Every image of a split's correct puzzles is its own, used once.
                    assert!(p.images.iter().all(|&i| seen.insert(i)));
                } else {
                    corruptions[usize::from(p.note.starts_with("replace"))] += 1;
                }
            }
        }
        assert!(corruptions.iter().all(|&c| c > 100), "both methods, about half each: {corruptions:?}");
        assert!(splits.iter().flatten().any(|p| p.note == "swap(2)"));
        assert_eq!(generate(&config, &labels).unwrap(), splits, "seeded");
        assert!(generate(&Config::standard(9, 1), &labels).unwrap_err().contains("digit 0 has 1300"));
    }

    #[test]
    fn files_round_trip_in_the_published_layout() {
        let labels: Vec<u8> = (0..13_000).map(|i| (i % 10) as u8).collect();
        let images: Vec<u8> = (0..13_000 * PIXELS).map(|i| (i * 7 % 256) as u8).collect();
        let config = Config { puzzles: 3, ..Config::standard(4, 2) };
        let [train, ..] = generate(&config, &labels).unwrap();
        let files = files("train", &train, &images);
        assert_eq!(files[0].1.lines().next().unwrap().split('\t').count(), 16 * PIXELS);
        assert!(files[1].1.starts_with("mnist_"));
        assert_eq!(pixel(0), "0.0");
        assert_eq!(pixel(255), "1.0");
        assert_eq!(pixel(84), "0.3294");
        let named = |k: usize| (files[k].0.as_str(), files[k].1.as_str());
        let read = parse(named(0), named(1), named(2)).unwrap();
        assert_eq!(read.cells_per_puzzle, 16);
        assert_eq!(read.valid, train.iter().map(|p| p.valid).collect::<Vec<_>>());
        assert_eq!(read.digits, train.iter().flat_map(|p| p.digits.clone()).collect::<Vec<_>>());
        let expected: Vec<u8> = train
            .iter()
            .flat_map(|p| p.images.iter().flat_map(|&i| images[i * PIXELS..(i + 1) * PIXELS].to_vec()))
            .collect();
        assert_eq!(read.pixels, expected);
        let broken = files[2].1.replacen("1\t0", "1\t1", 1);
        let err = parse(named(0), named(1), ("train_puzzle_labels.txt", &broken)).unwrap_err();
        assert_eq!((err.0.as_str(), err.1), ("train_puzzle_labels.txt", 1));
    }
}
