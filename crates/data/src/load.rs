//! Materialises a dataset declared in a spec from the data directory.

use crate::dir::{find_all, read_bytes};
use crate::error::{DataError, Result};
use crate::rng::Rng;
use crate::table::{Data, Table, Values};
use crate::{catalog, cifar, csv, idx, npz, poker, sudoku};
use skilang_lang::spec::{BuiltinSource, Column, ColumnType, DataFile, Dataset, FileFormat};
use std::path::{Path, PathBuf};

/// Loads `dataset` from `dir`; `seed` draws the `fraction`, the `labelled` rows, the `sampled`
/// inputs and the `split` of a single file.
pub fn load(dataset: &Dataset, dir: &Path, seed: u64) -> Result<Data> {
    let name = dataset.name.name.clone();
    let columns: Vec<&Column> = dataset.features.iter().chain(&dataset.targets).collect();
    let mut notes = Vec::new();
    let (train, test) = match (&dataset.source, &dataset.training) {
        (Some(source), _) => builtin(source.value, &name, &columns, dir, &mut notes)?,
        (None, Some(training)) => {
            let train = file(training, &columns, dir, &name, &mut notes)?;
            match &dataset.test {
                Some(test) => (train, file(test, &columns, dir, &name, &mut notes)?),
                None => split_off_test(train, dataset, seed, &name)?,
            }
        }
        (None, None) => return Err(schema(&name, "no `source` and no `training` file")),
    };
    let mut train = match &dataset.fraction {
        Some(f) if f.value < 1.0 => train.select(&seeded_share(train.rows, f.value, seed ^ 0xF4AC)),
        _ => train,
    };
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
    Ok(Data { name, train, test, labelled, notes })
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

fn file(f: &DataFile, columns: &[&Column], dir: &Path, name: &str, notes: &mut Vec<String>) -> Result<Table> {
    let Some(path) = locate(f, dir) else {
        return Err(DataError::Missing {
            dataset: name.to_string(),
            dir: dir.to_path_buf(),
            files: match &f.origin {
                Some(origin) => format!("{} (from {origin})", f.path.value),
                None => f.path.value.clone(),
            },
        });
    };
    match f.format.as_ref().map_or(FileFormat::Csv, |f| f.value) {
        FileFormat::Csv => read_csv(&path, columns, f.separator.as_ref().map_or(",", |s| s.value.as_str()), notes),
        FileFormat::CifarBinary => {
            let (labels, pixels) = cifar::parse(&read_bytes(&path)?, &path)?;
            image_table(columns, [3, 32, 32], labels, pixels, name)
        }
        FileFormat::Npz => npz::parse(&read_bytes(&path)?, &path, columns),
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
            let names = [
                "train-images-idx3-ubyte",
                "train-labels-idx1-ubyte",
                "t10k-images-idx3-ubyte",
                "t10k-labels-idx1-ubyte",
            ];
            let paths = find_all(source.name(), dir, folder, &names)?;
            let split = |images: &Path, labels: &Path| -> Result<Table> {
                let im = idx::read(images)?;
                let lb = idx::read(labels)?;
                if im.dims.len() != 3 || lb.dims.len() != 1 || im.dims[0] != lb.dims[0] {
                    return Err(DataError::Corrupt {
                        path: images.to_path_buf(),
                        reason: format!("images {:?} and labels {:?} do not match", im.dims, lb.dims),
                    });
                }
                if let Some(bad) = lb.data.iter().find(|&&l| l > 9) {
                    return Err(DataError::Corrupt {
                        path: labels.to_path_buf(),
                        reason: format!("label {bad} is not a digit"),
                    });
                }
                image_table(columns, [1, im.dims[1], im.dims[2]], lb.data, im.data, name)
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
