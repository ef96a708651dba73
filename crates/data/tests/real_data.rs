//! Reading the real datasets in `SKILANG_DATA` (CI: `../shared/data`) as the examples declare them,
//! and refusing damaged copies of them.

use skilang_data::{load, DataError, Values};
use skilang_lang::spec::Dataset;
use std::path::{Path, PathBuf};

fn data_dir() -> PathBuf {
    let dir = std::env::var_os("SKILANG_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    assert!(
        dir.is_dir(),
        "these tests read real data: set SKILANG_DATA to the data folder ({} is missing)",
        dir.display()
    );
    dir
}

fn dataset(example: &str) -> Dataset {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples").join(example);
    let outcome = skilang_lang::check_file(&path).expect("readable");
    assert!(outcome.is_valid());
    outcome.spec.expect("spec").datasets.remove(0)
}

#[test]
fn mnist_has_60000_training_and_10000_test_digits() {
    let data = load(&dataset("mnist-sum.yaml"), &data_dir(), 1).unwrap();
    assert_eq!((data.train.rows, data.test.rows), (60_000, 10_000));
    let Some(Values::Categories(labels)) = data.train.column("value") else { panic!("labels") };
    assert_eq!(&labels[..5], &[5, 0, 4, 1, 9], "the first MNIST training labels");
    let Some(Values::Images { shape, pixels }) = data.test.column("image") else { panic!("images") };
    assert_eq!((*shape, pixels.len()), ([1, 28, 28], 10_000 * 784));
}

#[test]
fn adult_reads_the_uci_layout_with_its_test_file_quirks() {
    let data = load(&dataset("adult-fairness.yaml"), &data_dir(), 1).unwrap();
    assert_eq!((data.train.rows, data.test.rows), (32_561, 16_281));
    let Some(Values::Categories(income)) = data.test.column("income") else { panic!("income") };
    let rich = income.iter().filter(|&&c| c == 1).count();
    assert_eq!(rich, 3_846, "test rows with income >50K.");
    let Some(Values::Numbers(age)) = data.train.column("age") else { panic!("age") };
    assert_eq!(age[0], 39.0);
}

#[test]
fn poker_without_its_test_file_says_which_file_to_place_where() {
    let err = load(&dataset("poker-hand.yaml"), &data_dir(), 1).unwrap_err();
    let DataError::Missing { files, .. } = &err else { panic!("{err}") };
    assert_eq!(files, "poker_hand/poker-hand-testing.data[.gz]");
}

#[test]
fn damaged_mnist_files_are_refused() {
    let src = data_dir().join("mnist");
    let dir = std::env::temp_dir().join(format!("skilang-damaged-{}", std::process::id()));
    let mnist = dir.join("mnist");
    std::fs::create_dir_all(&mnist).unwrap();
    for f in ["train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
        std::fs::copy(src.join(f), mnist.join(f)).unwrap();
    }
    // A download cut short: the first 100 kB of the gzip stream.
    let images = std::fs::read(src.join("train-images-idx3-ubyte.gz")).unwrap();
    std::fs::write(mnist.join("train-images-idx3-ubyte.gz"), &images[..100_000]).unwrap();
    let err = load(&dataset("mnist-sum.yaml"), &dir, 1).unwrap_err().to_string();
    assert!(err.contains("train-images-idx3-ubyte.gz") && err.contains("gzip"), "{err}");
    // An unpacked file that lost its tail.
    std::fs::remove_file(mnist.join("train-images-idx3-ubyte.gz")).unwrap();
    std::fs::write(mnist.join("train-images-idx3-ubyte"), [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2])
        .unwrap();
    let err = load(&dataset("mnist-sum.yaml"), &dir, 1).unwrap_err().to_string();
    assert!(err.contains("truncated"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
