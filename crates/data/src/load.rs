//! Materialises a dataset declared in a spec from the data directory.

use crate::dir::{find_all, read_bytes};
use crate::error::{DataError, Result};
use crate::rng::Rng;
use crate::table::{Data, Table, Tuples, Values};
use crate::{catalog, cifar, csv, idx, imbalance, npz, poker, sudoku, visudo, warcraft};
use skilang_lang::spec::{BuiltinSource, Column, ColumnType, DataFile, Dataset, FileFormat, Imbalance};
use std::path::{Path, PathBuf};

/// Loads `dataset` from `dir`; `seed` draws the `fraction`, the `labelled` rows, the `sampled`
/// inputs and the `split` of a single file.
pub fn load(dataset: &Dataset, dir: &Path, seed: u64) -> Result<Data> {
    let name = dataset.name.name.clone();
    let columns: Vec<&Column> = dataset.features.iter().chain(&dataset.targets).collect();
    let mut notes = Vec::new();
    let format = dataset.training.as_ref().and_then(|f| f.format.as_ref()).map(|f| f.value);
    let visudo_files = format == Some(FileFormat::Visudo);
    let (train, test, tuples) = match (&dataset.source, &dataset.training) {
        (Some(source), _) if source.value.visudo_dim().is_some() => {
            let dim = source.value.visudo_dim().unwrap_or(4);
            visudo_builtin(dim, &name, &columns, dir, &mut notes)?
        }
        (Some(source), _) if source.value.warcraft_side().is_some() => {
            let side = source.value.warcraft_side().unwrap_or(12);
            warcraft_builtin(side, &name, &columns, dir, &mut notes)?
        }
        (None, Some(training)) if format == Some(FileFormat::Warcraft) => {
            let (train, valid, test) = published_splits(dataset, training, dir, ["val_maps.npy", "test_maps.npy"])?;
            let valid = valid.map(|v| warcraft_split(&v)).transpose()?;
            warcraft_tables(&columns, warcraft_split(&train)?, valid, warcraft_split(&test)?, &name)?
        }
        (None, Some(training)) if visudo_files => {
            let names = ["valid_puzzle_pixels.txt", "test_puzzle_pixels.txt"];
            let (train, valid, test) = published_splits(dataset, training, dir, names)?;
            let valid = valid.map(|v| visudo_split(&v)).transpose()?;
            visudo_tables(&columns, visudo_split(&train)?, valid, visudo_split(&test)?, &name)?
        }
        (Some(source), _) => {
            let (train, test) = builtin(source.value, &name, &columns, dir, &mut notes)?;
            (train, test, None)
        }
        (None, Some(training)) => {
            let train = file(training, &columns, dir, &name, &mut notes)?;
            let (train, test) = match &dataset.test {
                Some(test) => (train, file(test, &columns, dir, &name, &mut notes)?),
                None => split_off_test(train, dataset, seed, &name)?,
            };
            (train, test, None)
        }
        (None, None) => return Err(schema(&name, "no `source` and no `training` file")),
    };
    // Data that fixes its examples keeps a share of them (puzzles), not of its rows (cells).
    let (mut train, tuples) = match (&dataset.fraction, tuples) {
        (Some(f), Some(mut t)) if f.value < 1.0 => {
            let kept = seeded_share(t.train.len(), f.value, seed ^ 0xF4AC);
            t.train = kept.into_iter().map(|i| t.train[i].clone()).collect();
            (train, Some(t))
        }
        (Some(f), None) if f.value < 1.0 => (train.select(&seeded_share(train.rows, f.value, seed ^ 0xF4AC)), None),
        (_, tuples) => (train, tuples),
    };
    if tuples.is_some() && (dataset.labelled.is_some() || dataset.sampled.is_some() || dataset.imbalance.is_some()) {
        return Err(schema(
            &name,
            "its examples are fixed puzzles: `labelled`, `sampled` and `imbalance` do not apply",
        ));
    }
    let mut test = test;
    if let Some(imbalance) = &dataset.imbalance {
        let imbalance = imbalance.value;
        train = long_tailed(train, dataset, &imbalance, seed ^ 0x7A11)?;
        if imbalance.test {
            test = long_tailed(test, dataset, &imbalance, seed ^ 0x7E57_7A11)?;
        }
        notes.push(format!(
            "{name}: long-tailed ({}, ratio {}): {} training rows{}",
            imbalance.profile.name(),
            imbalance.ratio,
            train.rows,
            if imbalance.test { format!(", {} test rows", test.rows) } else { String::new() }
        ));
    }
    let mut labelled =
        dataset.labelled.as_ref().filter(|l| l.value < 1.0).map(|l| seeded_share(train.rows, l.value, seed ^ 0x1ABE));
    if let Some(n) = &dataset.sampled {
        labelled = Some(labelled.unwrap_or_else(|| (0..train.rows).collect()));
        train =
            train.append(sampled(dataset, n.value as usize, seed ^ 0x5A3D)?).map_err(|reason| schema(&name, reason))?;
        notes.push(format!(
            "{name}: {} training inputs drawn uniformly from the features' declared values, without targets (`sampled`)",
            n.value
        ));
    }
    Ok(Data { name, train, test, labelled, notes, tuples })
}

/// A published layout's split files: the training file, the validation file beside it when there
/// is one, and the test file `test` names, else the one beside the training file (as published).
fn published_splits(
    dataset: &Dataset,
    training: &DataFile,
    dir: &Path,
    [valid, test]: [&str; 2],
) -> Result<(PathBuf, Option<PathBuf>, PathBuf)> {
    let name = &dataset.name.name;
    let train = locate(training, dir).ok_or_else(|| missing(training, dir, name))?;
    let beside = |file: &str| Some(train.with_file_name(file)).filter(|p| p.is_file() && *p != train);
    let test = match &dataset.test {
        Some(f) => locate(f, dir).ok_or_else(|| missing(f, dir, name))?,
        None => beside(test).ok_or_else(|| {
            schema(name, format!("no `test` file is named and there is no {test} beside {}", train.display()))
        })?,
    };
    let valid = beside(valid);
    Ok((train, valid, test))
}

/// `n` rows whose features are drawn uniformly and independently from their declared values; the
/// targets are placeholders, since no row drawn is labelled.
fn sampled(dataset: &Dataset, n: usize, seed: u64) -> Result<Table> {
    let mut rng = Rng::new(seed);
    let mut columns = Vec::new();
    for c in &dataset.features {
        let values = match &c.ty {
            ColumnType::Category(declared) => {
                Values::Categories((0..n).map(|_| rng.below(declared.len()) as u32).collect())
            }
            ColumnType::Bool => Values::Numbers((0..n).map(|_| rng.below(2) as f32).collect()),
            _ => {
                return Err(schema(
                    &dataset.name.name,
                    format!("`sampled` needs declared values, and `{}` has none", c.name.name),
                ))
            }
        };
        columns.push((c.name.name.clone(), values));
    }
    for c in &dataset.targets {
        let placeholder = match c.ty {
            ColumnType::Category(_) => Values::Categories(vec![0; n]),
            _ => Values::Numbers(vec![f32::NAN; n]),
        };
        columns.push((c.name.name.clone(), placeholder));
    }
    Ok(Table { rows: n, columns })
}

/// The rows of `table` a long-tailed profile keeps, by the classes of the dataset's categorical
/// target (the reader makes sure there is one).
fn long_tailed(table: Table, dataset: &Dataset, imbalance: &Imbalance, seed: u64) -> Result<Table> {
    let target = dataset.targets.iter().find_map(|c| match &c.ty {
        ColumnType::Category(values) => Some((c.name.name.as_str(), values.len())),
        _ => None,
    });
    let Some((column, classes)) = target else {
        return Err(schema(&dataset.name.name, "`imbalance` needs a categorical target"));
    };
    let Some(Values::Categories(labels)) = table.column(column) else {
        return Err(schema(&dataset.name.name, format!("`imbalance`: target `{column}` holds no classes")));
    };
    Ok(table.select(&imbalance::keep(labels, classes, imbalance, seed)))
}

/// A seeded `share` of `rows` row numbers (at least one), in order.
fn seeded_share(rows: usize, share: f64, seed: u64) -> Vec<usize> {
    let mut index = Rng::new(seed).permutation(rows);
    index.truncate(((rows as f64 * share).round() as usize).max(1));
    index.sort_unstable();
    index
}

fn schema(dataset: &str, reason: impl Into<String>) -> DataError {
    DataError::Schema { dataset: dataset.to_string(), reason: reason.into() }
}

/// A dataset given as one file is split by `split.test` (default 20%) with the seed.
fn split_off_test(all: Table, dataset: &Dataset, seed: u64, name: &str) -> Result<(Table, Table)> {
    let share = dataset.split.as_ref().map_or(0.2, |s| s.value.test);
    let n_test = (all.rows as f64 * share).round() as usize;
    if n_test == 0 || n_test >= all.rows {
        return Err(schema(
            name,
            format!("a split with {:.0}% test data of {} rows leaves a split empty", share * 100.0, all.rows),
        ));
    }
    let index = Rng::new(seed ^ 0x5917).permutation(all.rows);
    let (test, train) = index.split_at(n_test);
    let (mut train, mut test) = (train.to_vec(), test.to_vec());
    train.sort_unstable();
    test.sort_unstable();
    Ok((all.select(&train), all.select(&test)))
}

/// Where a data file is: its path in the data directory, else (for the prototype's `uri` specs,
/// which name the file inside the archive's folder) in the folder `unpack` names or in a built-in
/// source's folder (`adult.data` is `adult/adult.data`); plain or gzipped.
fn locate(f: &DataFile, dir: &Path) -> Option<PathBuf> {
    let written = Path::new(&f.path.value);
    // `dir.join` keeps an absolute path as it is.
    let path = dir.join(written);
    let gzipped = PathBuf::from(format!("{}.gz", path.display()));
    let found = [path, gzipped].into_iter().find(|p| p.is_file());
    if found.is_some() || written.components().count() != 1 {
        return found;
    }
    let unpacked = f.unpack.iter().filter_map(|u| Path::new(u).file_name()?.to_str());
    let builtin = BuiltinSource::SPELLINGS.iter().map(|&(_, source)| catalog::folder(source));
    unpacked.chain(builtin).find_map(|folder| crate::dir::find(dir, folder, &f.path.value))
}

fn missing(f: &DataFile, dir: &Path, name: &str) -> DataError {
    DataError::Missing {
        dataset: name.to_string(),
        dir: dir.to_path_buf(),
        files: match &f.origin {
            Some(origin) => format!("{} (from {origin})", f.path.value),
            None => f.path.value.clone(),
        },
    }
}

fn file(f: &DataFile, columns: &[&Column], dir: &Path, name: &str, notes: &mut Vec<String>) -> Result<Table> {
    let Some(path) = locate(f, dir) else { return Err(missing(f, dir, name)) };
    match f.format.as_ref().map_or(FileFormat::Csv, |f| f.value) {
        FileFormat::Csv => read_csv(&path, columns, f.separator.as_ref().map_or(",", |s| s.value.as_str()), notes),
        FileFormat::CifarBinary => {
            let (labels, pixels) = cifar::parse(&read_bytes(&path)?, &path)?;
            image_table(columns, [3, 32, 32], labels, pixels, name)
        }
        FileFormat::Npz => npz::parse(&read_bytes(&path)?, &path, columns),
        FileFormat::Visudo => Err(schema(name, "ViSudo-PC data is read from its `training` and `test` files together")),
        FileFormat::Warcraft => {
            Err(schema(name, "Warcraft data is read from its `training` and `test` files together"))
        }
        FileFormat::Idx => Err(schema(
            name,
            "IDX data comes in pairs of files (images and labels): use `source: mnist` or `source: fashion-mnist`",
        )),
    }
}

/// A CSV file (plain or gzip) read by the declared columns.
fn read_csv(path: &Path, columns: &[&Column], separator: &str, notes: &mut Vec<String>) -> Result<Table> {
    let text = String::from_utf8(read_bytes(path)?)
        .map_err(|_| DataError::Corrupt { path: path.to_path_buf(), reason: "not UTF-8 text".into() })?;
    let (table, skipped) = csv::parse(&text, path, columns, separator)?;
    notes.extend(skipped.note(path));
    Ok(table)
}

/// An image dataset's table: one image feature and one label target of 10 values.
fn image_table(columns: &[&Column], shape: [usize; 3], labels: Vec<u8>, pixels: Vec<u8>, name: &str) -> Result<Table> {
    let [c, h, w] = shape;
    let ok = columns.len() == 2
        && matches!(columns[0].ty, ColumnType::Image { channels, height, width } if (channels as usize, height as usize, width as usize) == (c, h, w))
        && matches!(&columns[1].ty, ColumnType::Category(v) if v.len() == 10);
    if !ok {
        let ty = if c == 1 { format!("image[{h}x{w}]") } else { format!("image[{c}x{h}x{w}]") };
        return Err(schema(name, format!("this data has one feature of type `{ty}` and one target with 10 values, in that order; declare them so")));
    }
    let rows = labels.len();
    Ok(Table {
        rows,
        columns: vec![
            (columns[0].name.name.clone(), Values::Images { shape, pixels }),
            (columns[1].name.name.clone(), Values::Categories(labels.into_iter().map(u32::from).collect())),
        ],
    })
}

/// The training and test splits of a built-in source, and a note when the test split was generated.
fn builtin(
    source: BuiltinSource,
    name: &str,
    columns: &[&Column],
    dir: &Path,
    notes: &mut Vec<String>,
) -> Result<(Table, Table)> {
    let folder = catalog::folder(source);
    match source {
        BuiltinSource::Mnist | BuiltinSource::FashionMnist => {
            let paths = find_all(source.name(), dir, folder, &MNIST_FILES)?;
            let split = |images: &Path, labels: &Path| -> Result<Table> {
                let (labels, pixels, [h, w]) = idx_digits(images, labels)?;
                image_table(columns, [1, h, w], labels, pixels, name)
            };
            Ok((split(&paths[0], &paths[1])?, split(&paths[2], &paths[3])?))
        }
        BuiltinSource::Cifar10 => {
            let test = find_all("cifar10", dir, folder, &["test_batch.bin"])?;
            let batches: Vec<PathBuf> =
                (1..=5).filter_map(|i| crate::dir::find(dir, folder, &format!("data_batch_{i}.bin"))).collect();
            if batches.is_empty() {
                return Err(DataError::Missing {
                    dataset: "cifar10".into(),
                    dir: dir.to_path_buf(),
                    files: format!("{folder}/data_batch_1.bin[.gz] (to data_batch_5)"),
                });
            }
            let (mut labels, mut pixels) = (Vec::new(), Vec::new());
            for b in &batches {
                let (l, p) = cifar::parse(&read_bytes(b)?, b)?;
                labels.extend(l);
                pixels.extend(p);
            }
            let (tl, tp) = cifar::parse(&read_bytes(&test[0])?, &test[0])?;
            Ok((
                image_table(columns, [3, 32, 32], labels, pixels, name)?,
                image_table(columns, [3, 32, 32], tl, tp, name)?,
            ))
        }
        BuiltinSource::Adult => {
            let paths = find_all("adult", dir, folder, &["adult.data", "adult.test"])?;
            Ok((read_csv(&paths[0], columns, ",", notes)?, read_csv(&paths[1], columns, ",", notes)?))
        }
        BuiltinSource::PokerHand => {
            let train = find_all("poker-hand", dir, folder, &["poker-hand-training-true.data"])?;
            let train = read_csv(&train[0], columns, ",", notes)?;
            match crate::dir::find(dir, folder, "poker-hand-testing.data") {
                Some(test) => Ok((train, read_csv(&test, columns, ",", notes)?)),
                None => {
                    let hands = poker::draw(poker::TEST_HANDS, poker::TEST_SEED);
                    let text = poker::csv(&hands);
                    let (test, _) = csv::parse(&text, Path::new("<generated poker hands>"), columns, ",")?;
                    notes.push(format!(
                        "poker-hand: {}/poker_hand/poker-hand-testing.data is absent; testing on {} hands drawn uniformly with seed {} and labelled by the rules of poker (`skilang data poker-hand` writes them)",
                        dir.display(),
                        poker::TEST_HANDS,
                        poker::TEST_SEED
                    ));
                    Ok((train, test))
                }
            }
        }
        BuiltinSource::Visudo4 | BuiltinSource::Visudo9 | BuiltinSource::Warcraft12 | BuiltinSource::Warcraft30 => {
            unreachable!("visual Sudoku and Warcraft fix their examples: read by `visudo_builtin`, `warcraft_builtin`")
        }
        BuiltinSource::Sudoku => {
            let split = |file: &str, n: usize, seed: u64, notes: &mut Vec<String>| match crate::dir::find(
                dir, folder, file,
            ) {
                Some(path) => read_csv(&path, columns, ",", notes),
                None => {
                    let puzzles = sudoku::generate(n, sudoku::Givens::EASY, seed);
                    let (table, _) =
                        csv::parse(&sudoku::csv(&puzzles), Path::new("<generated sudoku puzzles>"), columns, ",")?;
                    notes.push(format!(
                        "sudoku: {}/sudoku/{file} is absent; using {n} 'easy' puzzles (36 givens) generated with seed {seed} (`skilang data sudoku` writes them)",
                        dir.display()
                    ));
                    Ok(table)
                }
            };
            let train = split("train.csv", sudoku::TRAIN_PUZZLES, sudoku::TRAIN_SEED, notes)?;
            Ok((train, split("test.csv", sudoku::TEST_PUZZLES, sudoku::TEST_SEED, notes)?))
        }
    }
}

const MNIST_FILES: [&str; 4] =
    ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

/// A pair of IDX files of digit images and their labels: labels, pixels, image height and width.
fn idx_digits(images: &Path, labels: &Path) -> Result<(Vec<u8>, Vec<u8>, [usize; 2])> {
    let im = idx::read(images)?;
    let lb = idx::read(labels)?;
    if im.dims.len() != 3 || lb.dims.len() != 1 || im.dims[0] != lb.dims[0] {
        return Err(DataError::Corrupt {
            path: images.to_path_buf(),
            reason: format!("images {:?} and labels {:?} do not match", im.dims, lb.dims),
        });
    }
    if let Some(bad) = lb.data.iter().find(|&&l| l > 9) {
        return Err(DataError::Corrupt { path: labels.to_path_buf(), reason: format!("label {bad} is not a digit") });
    }
    Ok((lb.data, im.data, [im.dims[1], im.dims[2]]))
}

/// MNIST's training and test digits together (as ViSudo-PC pools them): labels and 28×28 pixels.
pub fn mnist_pool(dir: &Path) -> Result<(Vec<u8>, Vec<u8>)> {
    let paths = find_all("mnist", dir, catalog::folder(BuiltinSource::Mnist), &MNIST_FILES)?;
    let (mut labels, mut pixels, shape) = idx_digits(&paths[0], &paths[1])?;
    let (test_labels, test_pixels, test_shape) = idx_digits(&paths[2], &paths[3])?;
    if let Some(odd) = [shape, test_shape].into_iter().zip([&paths[0], &paths[2]]).find(|(s, _)| *s != [28, 28]) {
        return Err(DataError::Corrupt {
            path: odd.1.clone(),
            reason: format!("images of {:?} pixels, not 28×28", odd.0),
        });
    }
    labels.extend(test_labels);
    pixels.extend(test_pixels);
    Ok((labels, pixels))
}

/// A ViSudo-PC split from its published files: `{split}_puzzle_pixels.txt`, with its
/// `_cell_labels.txt` and `_puzzle_labels.txt` beside it (plain or gzipped).
fn visudo_split(pixels: &Path) -> Result<visudo::Split> {
    let corrupt = |path: &Path, reason: String| DataError::Corrupt { path: path.to_path_buf(), reason };
    let name = pixels.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let Some(prefix) = name.trim_end_matches(".gz").strip_suffix("_puzzle_pixels.txt") else {
        return Err(corrupt(
            pixels,
            "ViSudo-PC data is read from a split's `{split}_puzzle_pixels.txt`, with its `_cell_labels.txt` and `_puzzle_labels.txt` beside it".into(),
        ));
    };
    let sibling = |suffix: &str| {
        let plain = pixels.with_file_name(format!("{prefix}{suffix}"));
        let gzipped = pixels.with_file_name(format!("{prefix}{suffix}.gz"));
        [plain.clone(), gzipped].into_iter().find(|p| p.is_file()).ok_or_else(|| DataError::Missing {
            dataset: "visudo".into(),
            dir: pixels.parent().unwrap_or(Path::new(".")).to_path_buf(),
            files: format!("{prefix}{suffix} (beside {name})"),
        })
    };
    let paths = [pixels.to_path_buf(), sibling("_cell_labels.txt")?, sibling("_puzzle_labels.txt")?];
    let texts = paths
        .iter()
        .map(|p| String::from_utf8(read_bytes(p)?).map_err(|_| corrupt(p, "not UTF-8 text".into())))
        .collect::<Result<Vec<String>>>()?;
    let named = |k: usize| (paths[k].to_str().unwrap_or_default(), texts[k].as_str());
    visudo::parse(named(0), named(1), named(2)).map_err(|(path, line, reason)| DataError::Row {
        path: PathBuf::from(path),
        line,
        reason,
    })
}

/// ViSudo-PC's standard split 01 from the data directory, or generated from MNIST when absent.
fn visudo_builtin(
    dim: usize,
    name: &str,
    columns: &[&Column],
    dir: &Path,
    notes: &mut Vec<String>,
) -> Result<(Table, Table, Option<Tuples>)> {
    let config = visudo::Config::standard(dim, 1);
    let folder = dir.join("visudo").join(config.folder());
    let published = ["train", "valid", "test"].map(|s| folder.join(format!("{s}_puzzle_pixels.txt")));
    if published.iter().all(|p| p.is_file()) {
        let [train, valid, test] = published.map(|p| visudo_split(&p));
        return visudo_tables(columns, train?, Some(valid?), test?, name);
    }
    let (labels, pixels) = mnist_pool(dir)?;
    let [train, test, valid] = visudo::generate(&config, &labels).map_err(|reason| schema(name, reason))?;
    notes.push(format!(
        "{name}: {} is absent; using ViSudo-PC's split 01 ({dim}×{dim}, 100 valid + 100 corrupted puzzles per split) generated from MNIST (`skilang data visudo` writes it)",
        folder.display()
    ));
    let split = |puzzles: &[visudo::Puzzle]| visudo::split_of(puzzles, &pixels);
    visudo_tables(columns, split(&train), Some(split(&valid)), split(&test), name)
}

/// The tables of ViSudo-PC splits, a row per cell (its image, digit and puzzle's validity), and
/// each puzzle's cells as an example; the validation boards' rows follow the training ones.
fn visudo_tables(
    columns: &[&Column],
    mut train: visudo::Split,
    valid: Option<visudo::Split>,
    test: visudo::Split,
    name: &str,
) -> Result<(Table, Table, Option<Tuples>)> {
    let cells = train.cells_per_puzzle;
    let dim = (cells as f64).sqrt() as usize;
    let ok = BuiltinSource::visudo_columns(columns, dim);
    let sizes_differ = test.cells_per_puzzle != cells || valid.as_ref().is_some_and(|v| v.cells_per_puzzle != cells);
    if !ok || sizes_differ {
        return Err(schema(
            name,
            format!(
                "{dim}×{dim} ViSudo-PC data has a feature `image[28x28]` (a cell's image) and two targets, in that order: the cell's digit (`values: [0, ..., {}]`) and its puzzle's validity (`type: bool`); declare them so{}",
                dim - 1,
                if sizes_differ { format!(" (and its splits' boards differ in size: {cells} cells in training, {} in test)", test.cells_per_puzzle) } else { String::new() }
            ),
        ));
    }
    let table = |s: visudo::Split| {
        let valid = s.valid.iter().flat_map(|&v| std::iter::repeat_n(if v { 1.0 } else { 0.0 }, cells)).collect();
        Table {
            rows: s.digits.len(),
            columns: vec![
                (columns[0].name.name.clone(), Values::Images { shape: [1, 28, 28], pixels: s.pixels }),
                (columns[1].name.name.clone(), Values::Categories(s.digits.into_iter().map(u32::from).collect())),
                (columns[2].name.name.clone(), Values::Numbers(valid)),
            ],
        }
    };
    let trained = train.digits.len();
    let valid = valid.map(|v| {
        train.pixels.extend(v.pixels);
        train.digits.extend(v.digits);
        train.valid.extend(v.valid);
        train.digits.len() - trained
    });
    let (train, test) = (table(train), table(test));
    let tuples = fixed_tuples(cells, trained, valid, test.rows);
    Ok((train, test, Some(tuples)))
}

/// Examples of `cells` consecutive rows each: the training table's first `trained` rows, then
/// `valid` rows of the data's own validation examples; the test table's `tested`.
fn fixed_tuples(cells: usize, trained: usize, valid: Option<usize>, tested: usize) -> Tuples {
    let examples =
        |rows: std::ops::Range<usize>| rows.step_by(cells.max(1)).map(|p| (p..p + cells).collect()).collect();
    Tuples {
        train: examples(0..trained),
        valid: valid.map(|v| examples(trained..trained + v)),
        test: examples(0..tested),
    }
}

/// A Warcraft split from its published files: `{split}_maps.npy`, with its `_shortest_paths.npy`
/// and `_vertex_weights.npy` beside it.
fn warcraft_split(maps: &Path) -> Result<warcraft::Split> {
    let name = maps.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let Some(prefix) = name.strip_suffix("_maps.npy") else {
        return Err(DataError::Corrupt {
            path: maps.to_path_buf(),
            reason: "Warcraft data is read from a split's `{split}_maps.npy`, with its `_shortest_paths.npy` and `_vertex_weights.npy` beside it".into(),
        });
    };
    let sibling = |suffix: &str| {
        let path = maps.with_file_name(format!("{prefix}{suffix}"));
        match path.is_file() {
            true => read_bytes(&path),
            false => Err(DataError::Missing {
                dataset: "warcraft".into(),
                dir: maps.parent().unwrap_or(Path::new(".")).to_path_buf(),
                files: format!("{prefix}{suffix} (beside {name})"),
            }),
        }
    };
    let (paths, weights) = (sibling("_shortest_paths.npy")?, sibling("_vertex_weights.npy")?);
    warcraft::parse(&read_bytes(maps)?, &paths, &weights)
        .map_err(|reason| DataError::Corrupt { path: maps.to_path_buf(), reason })
}

/// Warcraft maps of `side` tiles from the data directory's `warcraft/{side}x{side}/` (the
/// published files, or those `skilang data warcraft-{side}` wrote), else generated.
fn warcraft_builtin(
    side: usize,
    name: &str,
    columns: &[&Column],
    dir: &Path,
    notes: &mut Vec<String>,
) -> Result<(Table, Table, Option<Tuples>)> {
    let config = warcraft::Config::standard(side);
    let folder = dir.join("warcraft").join(config.folder());
    let published = warcraft::SPLITS.map(|s| folder.join(format!("{s}_maps.npy")));
    if published.iter().all(|p| p.is_file()) {
        let [train, valid, test] = published.map(|p| warcraft_split(&p));
        return warcraft_tables(columns, train?, Some(valid?), test?, name);
    }
    let [train, valid, test] = warcraft::generate(&config);
    notes.push(format!(
        "{name}: {} is absent; using generated {side}×{side} terrain maps (10,000 / 1,000 / 1,000), an analogue of the published Warcraft maps (`skilang data warcraft-{side}` writes them)",
        folder.display()
    ));
    warcraft_tables(columns, train, Some(valid), test, name)
}

/// The tables of Warcraft splits, a row per tile (its image, cost and whether it is on the
/// shortest path), and each map's tiles as an example; the validation maps' rows follow the
/// training ones.
fn warcraft_tables(
    columns: &[&Column],
    train: warcraft::Split,
    valid: Option<warcraft::Split>,
    test: warcraft::Split,
    name: &str,
) -> Result<(Table, Table, Option<Tuples>)> {
    let side = train.side;
    let sides_differ = test.side != side || valid.as_ref().is_some_and(|v| v.side != side);
    if !BuiltinSource::warcraft_columns(columns) || sides_differ {
        return Err(schema(
            name,
            format!(
                "Warcraft data has a feature `image[3x8x8]` (a tile) and two targets, in that order: the tile's cost in tenths (`values: [8, 12, 53, 77, 92]`) and whether it is on the shortest path (`type: bool`); declare them so{}",
                if sides_differ { format!(" (and its splits' maps differ in size: {side} tiles a side in training, {} in test)", test.side) } else { String::new() }
            ),
        ));
    }
    let table = |splits: Vec<warcraft::Split>| {
        let rows = splits.iter().map(|s| s.terrain.len()).sum();
        let terrain = splits.iter().flat_map(|s| s.terrain.iter().map(|&t| u32::from(t))).collect();
        let on_path = splits.iter().flat_map(|s| s.on_path.iter().map(|&b| b as u8 as f32)).collect();
        // Each split's pixels become its tiles in place, and are freed as they are appended.
        let pixels = splits.into_iter().map(warcraft::Split::into_tiles).reduce(|mut all, tiles| {
            all.extend_from_slice(&tiles);
            all
        });
        Table {
            rows,
            columns: vec![
                (columns[0].name.name.clone(), Values::Images { shape: [3, 8, 8], pixels: pixels.unwrap_or_default() }),
                (columns[1].name.name.clone(), Values::Categories(terrain)),
                (columns[2].name.name.clone(), Values::Numbers(on_path)),
            ],
        }
    };
    let trained = train.terrain.len();
    let valid_rows = valid.as_ref().map(|v| v.terrain.len());
    let train_table = table([Some(train), valid].into_iter().flatten().collect());
    let test_table = table(vec![test]);
    let tuples = fixed_tuples(side * side, trained, valid_rows, test_table.rows);
    Ok((train_table, test_table, Some(tuples)))
}
