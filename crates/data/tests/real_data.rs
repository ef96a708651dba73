//! Reading the real datasets (`SKILANG_DATA`, else `../shared/data`, else the checked downloads)
//! as the examples declare them, and refusing damaged copies of them.

use skilang_data::{load, poker, Values};
use skilang_lang::spec::{BuiltinSource, Dataset};
use std::path::{Path, PathBuf};

/// The data directory as the tests resolve it, with MNIST, Adult and Poker Hand in it.
fn data_dir() -> PathBuf {
    let dir = skilang_data::dir::for_checkout(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")));
    let sources = [BuiltinSource::Mnist, BuiltinSource::Adult, BuiltinSource::PokerHand];
    skilang_data::catalog::ensure(&sources, &dir).unwrap_or_else(|e| panic!("{e}"));
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

/// The rules of poker in `skilang_data::poker` give every UCI training hand its published class.
#[test]
fn poker_classes_agree_with_the_uci_training_labels() {
    let data = load(&dataset("poker-hand.yaml"), &data_dir(), 1).unwrap();
    assert_eq!(data.train.rows, 25_010);
    let column = |t: &skilang_data::Table, name: &str| match t.column(name) {
        // Suits and ranks are declared as the codes 1..; a category's index is its code - 1.
        Some(Values::Categories(v)) => v.iter().map(|&c| c as u8 + 1).collect::<Vec<u8>>(),
        other => panic!("{name}: {other:?}"),
    };
    let cards: Vec<(Vec<u8>, Vec<u8>)> =
        (1..=5).map(|i| (column(&data.train, &format!("s{i}")), column(&data.train, &format!("c{i}")))).collect();
    let labels = column(&data.train, "hand");
    for (row, &label) in labels.iter().enumerate() {
        let hand: [poker::Card; 5] = std::array::from_fn(|i| (cards[i].0[row], cards[i].1[row]));
        assert_eq!(poker::class(&hand), label - 1, "hand {row}: {hand:?}");
    }
}

/// Without the UCI test file, the test split is the generated million hands, with a note.
#[test]
fn poker_without_its_test_file_tests_on_generated_hands() {
    let dir = std::env::temp_dir().join(format!("skilang-poker-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("poker_hand")).unwrap();
    let train = "poker-hand-training-true.data.gz";
    std::fs::copy(data_dir().join("poker_hand").join(train), dir.join("poker_hand").join(train)).unwrap();
    let data = load(&dataset("poker-hand.yaml"), &dir, 1);
    std::fs::remove_dir_all(&dir).ok();
    let data = data.unwrap();
    assert_eq!((data.train.rows, data.test.rows), (25_010, poker::TEST_HANDS));
    assert!(data.notes.iter().any(|n| n.contains("skilang data poker-hand")), "{:?}", data.notes);
    let Some(Values::Categories(classes)) = data.test.column("hand") else { panic!("classes") };
    assert!(classes.contains(&9), "a million draws hold a royal flush (expected 1.5)");
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

/// `labelled` keeps a seeded share of the training rows' targets and every row; `fraction` keeps
/// a share of the rows themselves, and `labelled` applies to what it keeps.
#[test]
fn labelled_marks_a_seeded_share_of_the_training_rows() {
    let mut adult = dataset("adult-fairness.yaml");
    let at = |share: f64| Some(skilang_lang::source::Spanned { value: share, span: adult.name.span });
    adult.labelled = at(0.01);
    let data = load(&adult, &data_dir(), 1).unwrap();
    let labelled = data.labelled.clone().expect("a share is labelled");
    assert_eq!((data.train.rows, labelled.len()), (32_561, 326));
    assert!(labelled.windows(2).all(|w| w[0] < w[1]) && labelled[325] < 32_561);
    assert_eq!(load(&adult, &data_dir(), 1).unwrap().labelled, Some(labelled.clone()), "seeded");
    assert_ne!(load(&adult, &data_dir(), 2).unwrap().labelled, Some(labelled));
    adult.fraction = at(0.1);
    let data = load(&adult, &data_dir(), 1).unwrap();
    assert_eq!((data.train.rows, data.labelled.map(|l| l.len())), (3_256, Some(33)));
    adult.labelled = at(1.0);
    assert_eq!(load(&adult, &data_dir(), 1).unwrap().labelled, None, "all rows labelled");
}

/// `sampled` appends seeded draws from the features' declared values after the real rows, and
/// only the real rows (here the `labelled` share of them) keep their targets.
#[test]
fn sampled_inputs_follow_the_training_rows_without_labels() {
    // The UCI training file split 80/20, rather than the source's million generated test hands.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/poker-hand.yaml");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "    source: poker-hand\n",
        "    training: {file: poker_hand/poker-hand-training-true.data.gz, format: csv, separator: ','}\n    sampled: 5000\n",
    );
    let mut poker = skilang_lang::check_source(&path, text).spec.expect("valid").datasets.remove(0);
    let data = load(&poker, &data_dir(), 1).unwrap();
    let real = 20_008;
    assert_eq!(data.train.rows, real + 5_000);
    assert_eq!(data.labelled, Some((0..real).collect()));
    let Some(Values::Categories(suits)) = data.train.column("s1") else { panic!("s1 is categorical") };
    let Some(Values::Categories(ranks)) = data.train.column("c1") else { panic!("c1 is categorical") };
    let drawn = (&suits[real..], &ranks[real..]);
    assert!(drawn.0.iter().all(|&s| s < 4) && drawn.1.iter().all(|&r| r < 13));
    for value in 0..13 {
        let n = drawn.1.iter().filter(|&&r| r == value).count();
        assert!((300..470).contains(&n), "rank {value} drawn {n} times of 5,000");
    }
    assert!(data.notes.iter().any(|n| n.contains("5000 training inputs drawn")), "{:?}", data.notes);
    let drawn_ranks = |seed| match load(&poker, &data_dir(), seed).unwrap().train.column("c1") {
        Some(Values::Categories(ranks)) => ranks[real..].to_vec(),
        _ => unreachable!(),
    };
    assert_eq!(drawn_ranks(1), drawn.1, "seeded");
    assert_ne!(drawn_ranks(2), drawn.1);

    poker.labelled = Some(skilang_lang::source::Spanned { value: 0.1, span: poker.name.span });
    let labelled = load(&poker, &data_dir(), 1).unwrap().labelled.expect("a share is labelled");
    assert!(labelled.len() == 2_001 && labelled.iter().all(|&r| r < real));
}
