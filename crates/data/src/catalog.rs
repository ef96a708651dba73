//! Where each built-in source lives: its folder in the data directory, and the canonical files it is
//! downloaded from, pinned to the checksums their publishers give (torchvision's for MNIST and
//! Fashion-MNIST, the authors' page for CIFAR-10, the UCI files' own for Adult and Poker Hand).

use crate::error::{DataError, Result};
use crate::fetch::{download, untar, write_atomically, Checksum, Timeouts};
use skilang_lang::spec::BuiltinSource;
use std::io::Read;
use std::path::Path;

/// One file to download, and what it becomes in the source's folder.
pub struct Remote {
    pub url: &'static str,
    pub checksum: Checksum,
    /// The most bytes read from a server for it: the published file's size, checked again by the
    /// checksum (for Poker Hand, 25,010 rows of the longest form the UCI layout allows).
    pub size: u64,
    pub unpack: Unpack,
}

pub enum Unpack {
    /// Stored as downloaded, under this name.
    As(&'static str),
    /// A gzipped tar archive: each (member, name) is stored under its name.
    TarGz(&'static [(&'static str, &'static str)]),
}

impl Unpack {
    fn names(&self) -> Vec<&'static str> {
        match self {
            Unpack::As(name) => vec![name],
            Unpack::TarGz(members) => members.iter().map(|(_, name)| *name).collect(),
        }
    }
}

/// The folder of `source` in the data directory.
pub fn folder(source: BuiltinSource) -> &'static str {
    match source {
        BuiltinSource::Mnist => "mnist",
        BuiltinSource::FashionMnist => "fashion-mnist",
        BuiltinSource::Cifar10 => "cifar10",
        BuiltinSource::Adult => "adult",
        BuiltinSource::PokerHand => "poker_hand",
        BuiltinSource::Sudoku => "sudoku",
        BuiltinSource::Visudo4 | BuiltinSource::Visudo9 => "visudo",
        BuiltinSource::Warcraft12 | BuiltinSource::Warcraft30 => "warcraft",
    }
}

/// The source whose files `source` is made from, when they are missing: itself, or MNIST for
/// the visual Sudoku puzzles generated from its digits.
pub fn made_from(source: BuiltinSource) -> BuiltinSource {
    match source {
        BuiltinSource::Visudo4 | BuiltinSource::Visudo9 => BuiltinSource::Mnist,
        s => s,
    }
}

macro_rules! idx_files {
    ($base:literal, $($name:literal => $md5:literal, $size:literal),+ $(,)?) => {
        &[$(Remote {
            url: concat!($base, $name, ".gz"),
            checksum: Checksum::Md5($md5),
            size: $size,
            unpack: Unpack::As(concat!($name, ".gz")),
        }),+]
    };
}

const CIFAR_MEMBERS: &[(&str, &str)] = &[
    ("cifar-10-batches-bin/data_batch_1.bin", "data_batch_1.bin"),
    ("cifar-10-batches-bin/data_batch_2.bin", "data_batch_2.bin"),
    ("cifar-10-batches-bin/data_batch_3.bin", "data_batch_3.bin"),
    ("cifar-10-batches-bin/data_batch_4.bin", "data_batch_4.bin"),
    ("cifar-10-batches-bin/data_batch_5.bin", "data_batch_5.bin"),
    ("cifar-10-batches-bin/test_batch.bin", "test_batch.bin"),
];

/// The canonical files of `source`.
pub fn remotes(source: BuiltinSource) -> &'static [Remote] {
    match source {
        BuiltinSource::Mnist => idx_files!("https://ossci-datasets.s3.amazonaws.com/mnist/",
            "train-images-idx3-ubyte" => "f68b3c2dcbeaaa9fbdd348bbdeb94873", 9_912_422,
            "train-labels-idx1-ubyte" => "d53e105ee54ea40749a09fcbcd1e9432", 28_881,
            "t10k-images-idx3-ubyte" => "9fb629c4189551a2d022fa330f9573f3", 1_648_877,
            "t10k-labels-idx1-ubyte" => "ec29112dd5afa0611ce80d1b7f02629c", 4_542,
        ),
        BuiltinSource::FashionMnist => idx_files!("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "train-images-idx3-ubyte" => "8d4fb7e6c68d591d4c3dfef9ec88bf0d", 26_421_880,
            "train-labels-idx1-ubyte" => "25c81989df183df01b3e8a0aad5dffbe", 29_515,
            "t10k-images-idx3-ubyte" => "bef4ecab320f06d8554ea6380940ec79", 4_422_102,
            "t10k-labels-idx1-ubyte" => "bb300cfdad3c16e7a12a480ee83cd310", 5_148,
        ),
        BuiltinSource::Cifar10 => &[Remote {
            url: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
            checksum: Checksum::Sha256("c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"),
            size: 170_052_171,
            unpack: Unpack::TarGz(CIFAR_MEMBERS),
        }],
        BuiltinSource::Adult => &[
            Remote {
                url: "https://archive.ics.uci.edu/ml/machine-learning-databases/adult/adult.data",
                checksum: Checksum::Sha256("5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d"),
                size: 3_974_305,
                unpack: Unpack::As("adult.data"),
            },
            Remote {
                url: "https://archive.ics.uci.edu/ml/machine-learning-databases/adult/adult.test",
                checksum: Checksum::Sha256("a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05"),
                size: 2_003_153,
                unpack: Unpack::As("adult.test"),
            },
        ],
        // The UCI test file is not fetched: without it, Poker is tested on generated hands.
        BuiltinSource::PokerHand => &[Remote {
            url: "https://archive.ics.uci.edu/ml/machine-learning-databases/poker/poker-hand-training-true.data",
            checksum: Checksum::Sha256("37becdf87d5f8cbf2b91d6471e965a25b86cb4a6d878c0f94a4025969fca464f"),
            size: 25_010 * 33,
            unpack: Unpack::As("poker-hand-training-true.data"),
        }],
        // Generated here, when absent (`skilang data sudoku`, `visudo-4`, `warcraft-12`, …); the
        // published Warcraft maps are read when a user puts them in `warcraft/`.
        BuiltinSource::Sudoku
        | BuiltinSource::Visudo4
        | BuiltinSource::Visudo9
        | BuiltinSource::Warcraft12
        | BuiltinSource::Warcraft30 => &[],
    }
}

/// Where `remote` is fetched from: its canonical address, or the same file name under `mirror`.
pub fn location(remote: &Remote, mirror: Option<&str>) -> String {
    match mirror {
        Some(base) => {
            let name = remote.url.rsplit('/').next().unwrap_or(remote.url);
            format!("{}/{name}", base.trim_end_matches('/'))
        }
        None => remote.url.to_string(),
    }
}

/// Downloads each canonical file of `source` that `dir` lacks (plain or gzipped), checks it against
/// its published checksum and stores it in the source's folder; a file that fails the check is
/// never written. Reports (address, bytes so far, total when known) while downloading, and returns
/// how many files were written.
pub fn install(
    source: BuiltinSource,
    dir: &Path,
    mirror: Option<&str>,
    timeouts: Timeouts,
    progress: &mut dyn FnMut(&str, u64, Option<u64>),
) -> Result<usize> {
    let target = dir.join(folder(source));
    let present = |name: &str| crate::dir::find(dir, folder(source), name.trim_end_matches(".gz")).is_some();
    let mut written = 0;
    for remote in remotes(source) {
        let names = remote.unpack.names();
        if names.iter().all(|n| present(n)) {
            continue;
        }
        let url = location(remote, mirror);
        let bytes = download(&url, remote.size, timeouts, &mut |done, total| progress(&url, done, total))?;
        remote.checksum.verify(&bytes).map_err(|reason| DataError::Download {
            url: url.clone(),
            reason: format!("{reason}; nothing was written (a damaged download, or the file changed at its source)"),
        })?;
        std::fs::create_dir_all(&target).map_err(|source| DataError::Io { path: target.clone(), source })?;
        match &remote.unpack {
            Unpack::As(name) => write_atomically(&target.join(name), &bytes)?,
            Unpack::TarGz(members) => {
                let mut tar = Vec::new();
                flate2::read::GzDecoder::new(bytes.as_slice()).read_to_end(&mut tar).map_err(|e| {
                    DataError::Download { url: url.clone(), reason: format!("not a gzipped tar archive ({e})") }
                })?;
                let files = untar(&tar);
                for (member, name) in members.iter() {
                    let (_, content) = files.iter().find(|(n, _)| n == member).ok_or_else(|| DataError::Download {
                        url: url.clone(),
                        reason: format!("the archive has no {member}"),
                    })?;
                    write_atomically(&target.join(name), content)?;
                }
            }
        }
        written += names.len();
    }
    Ok(written)
}

/// Makes sure each of `sources` is in `dir`, downloading what is missing from its canonical
/// files (`SKILANG_MIRROR` is honoured), or says which dataset could not be had and where its
/// files belong: for tests and benchmarks, which have no progress bar to show.
pub fn ensure(sources: &[BuiltinSource], dir: &Path) -> std::result::Result<(), String> {
    let mirror = std::env::var("SKILANG_MIRROR").ok().filter(|m| !m.is_empty());
    for &source in sources {
        install(source, dir, mirror.as_deref(), Timeouts::default(), &mut |_, _, _| {}).map_err(|e| {
            format!(
                "{}: not in {} and not downloadable here ({e}); place its files in {}/ or point SKILANG_DATA at a folder that has them",
                source.name(),
                dir.display(),
                dir.join(folder(source)).display()
            )
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mirror_keeps_the_file_name() {
        let remote = &remotes(BuiltinSource::Adult)[1];
        assert_eq!(location(remote, None), remote.url);
        assert_eq!(location(remote, Some("http://host/copies/")), "http://host/copies/adult.test");
    }

    #[test]
    fn every_source_stores_the_files_its_loader_reads() {
        let stored = |s| remotes(s).iter().flat_map(|r| r.unpack.names()).collect::<Vec<_>>().join(" ");
        assert!(stored(BuiltinSource::Mnist).contains("train-images-idx3-ubyte.gz"));
        assert_eq!(stored(BuiltinSource::Adult), "adult.data adult.test");
        assert_eq!(stored(BuiltinSource::PokerHand), "poker-hand-training-true.data");
        assert!(stored(BuiltinSource::Cifar10).ends_with("data_batch_5.bin test_batch.bin"));
    }
}
