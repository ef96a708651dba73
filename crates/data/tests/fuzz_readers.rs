//! Damaged and random data files fed to every reader (IDX, CIFAR binary, CSV, gzip, NumPy): whatever the
//! bytes, a reader returns the table or an error naming the file, and never panics. Inputs start
//! from valid files and are mutated (bytes flipped, cut, inserted, header fields set to extremes).
//! `SKILANG_FUZZ_CASES=100000` runs a long campaign.

mod common;

use proptest::prelude::*;
use skilang_data::{cifar, csv, dir, idx, npz};
use skilang_lang::formula::Ident;
use skilang_lang::source::Span;
use skilang_lang::spec::{CategoryValue, Column, ColumnType, Value};
use std::io::Write;
use std::path::Path;

fn cases() -> u32 {
    std::env::var("SKILANG_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000)
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Cut(usize),
    Insert(usize, Vec<u8>),
    /// A big-endian u32 written at an offset: IDX dimensions and counts.
    Word(usize, u32),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::Flip(at, b)),
        any::<usize>().prop_map(Mutation::Cut),
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 0..16)).prop_map(|(at, b)| Mutation::Insert(at, b)),
        (0usize..32, prop_oneof![Just(0u32), Just(1), Just(u32::MAX), Just(1 << 31), any::<u32>()])
            .prop_map(|(at, w)| Mutation::Word(at, w)),
    ]
}

fn mutate(mut bytes: Vec<u8>, ms: &[Mutation]) -> Vec<u8> {
    for m in ms {
        let n = bytes.len().max(1);
        match m {
            Mutation::Flip(at, b) if !bytes.is_empty() => bytes[at % n] ^= b,
            Mutation::Cut(at) => bytes.truncate(at % n),
            Mutation::Insert(at, more) => {
                let at = at % (bytes.len() + 1);
                bytes.splice(at..at, more.iter().copied());
            }
            Mutation::Word(at, w) if at + 4 <= bytes.len() => bytes[*at..at + 4].copy_from_slice(&w.to_be_bytes()),
            _ => {}
        }
    }
    bytes
}

fn idx_file() -> Vec<u8> {
    let mut b = vec![0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 3];
    b.extend(0..18u8);
    b
}

fn cifar_file() -> Vec<u8> {
    let mut b = vec![4u8];
    b.extend((0..cifar::RECORD - 1).map(|i| i as u8));
    b
}

/// An archive of an `int` column `age` and a 2×2 grid column `g` of values 0..3, two rows.
fn npz_file(deflated: bool) -> Vec<u8> {
    let age = common::npy("<i4", &[2], &[39, 0, 0, 0, 50, 0, 0, 0]);
    let grid = common::npy("|u1", &[2, 2, 2], &[0, 1, 2, 3, 3, 2, 1, 0]);
    common::npz(&[("age", age), ("g", grid)], deflated)
}

fn npz_columns() -> Vec<Column> {
    let values = (0..4).map(|i| CategoryValue { value: Value::Int(i), code: None, span: Span::default() }).collect();
    vec![column("age", ColumnType::Int), column("g", ColumnType::Grid { shape: vec![2, 2], values })]
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).expect("in memory");
    e.finish().expect("in memory")
}

fn column(name: &str, ty: ColumnType) -> Column {
    Column { name: Ident { name: name.into(), span: Span::default() }, ty, span: Span::default() }
}

fn csv_columns() -> Vec<Column> {
    let values = |vs: &[&str]| {
        ColumnType::Category(
            vs.iter()
                .map(|v| CategoryValue { value: Value::Str(v.to_string()), code: None, span: Span::default() })
                .collect(),
        )
    };
    let coded = ColumnType::Category(
        (0..3)
            .map(|i| CategoryValue { value: Value::Str(format!("c{i}")), code: Some(i), span: Span::default() })
            .collect(),
    );
    vec![
        column("age", ColumnType::Int),
        column("rate", ColumnType::Real),
        column("flag", ColumnType::Bool),
        column("work", values(&["Private", "?", "State-gov"])),
        column("code", coded),
        column("y", values(&["<=50K", ">50K"])),
    ]
}

const CSV: &str =
    "|comment\n39, 0.5, true, State-gov, 1, <=50K\n50, 1e3, 0, Private, 2, >50K.\n38, -2, False, ?, 0, <=50K\n";

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn idx_never_panics(ms in proptest::collection::vec(mutation(), 0..6)) {
        let bytes = mutate(idx_file(), &ms);
        if let Ok(parsed) = idx::parse(&bytes, Path::new("f.idx")) {
            prop_assert_eq!(parsed.data.len(), parsed.dims.iter().product::<usize>());
        }
    }

    #[test]
    fn cifar_never_panics(ms in proptest::collection::vec(mutation(), 0..6)) {
        let bytes = mutate(cifar_file(), &ms);
        if let Ok((labels, pixels)) = cifar::parse(&bytes, Path::new("f.bin")) {
            prop_assert_eq!(pixels.len(), labels.len() * (cifar::RECORD - 1));
            prop_assert!(labels.iter().all(|&l| l < 10));
        }
    }

    #[test]
    fn csv_never_panics(ms in proptest::collection::vec(mutation(), 0..6), separator in prop_oneof![Just(","), Just(";"), Just(" ")]) {
        let bytes = mutate(CSV.as_bytes().to_vec(), &ms);
        let columns = csv_columns();
        let refs: Vec<&Column> = columns.iter().collect();
        if let Ok(text) = String::from_utf8(bytes) {
            if let Ok((table, _)) = csv::parse(&text, Path::new("f.csv"), &refs, separator) {
                prop_assert!(table.columns.iter().all(|(_, v)| v.len() == table.rows));
            }
        }
    }

    #[test]
    fn random_csv_text_never_panics(text in "[0-9a-zA-Z?.,;| \\n<>=_-]{0,300}") {
        let columns = csv_columns();
        let refs: Vec<&Column> = columns.iter().collect();
        let _ = csv::parse(&text, Path::new("f.csv"), &refs, ",");
    }

    #[test]
    fn npz_never_panics(deflated in any::<bool>(), ms in proptest::collection::vec(mutation(), 0..6)) {
        let bytes = mutate(npz_file(deflated), &ms);
        let columns = npz_columns();
        let refs: Vec<&Column> = columns.iter().collect();
        if let Ok(table) = npz::parse(&bytes, Path::new("f.npz"), &refs) {
            prop_assert!(table.columns.iter().all(|(_, v)| v.len() == table.rows));
        }
    }

    #[test]
    fn npy_never_panics(ms in proptest::collection::vec(mutation(), 0..6)) {
        let bytes = mutate(common::npy("<i2", &[2, 3], &[7; 12]), &ms);
        if let Ok(array) = npz::parse_npy(&bytes) {
            let n = match array.elements { npz::Elements::Ints(v) => v.len(), npz::Elements::Floats(v) => v.len() };
            prop_assert_eq!(n, array.shape.iter().product::<usize>());
        }
    }

    #[test]
    fn gzip_never_panics(which in 0usize..3, ms in proptest::collection::vec(mutation(), 0..6)) {
        let inner = [idx_file(), cifar_file(), CSV.as_bytes().to_vec()][which].clone();
        let bytes = mutate(gz(&inner), &ms);
        if let Ok(content) = dir::gunzip(&bytes, Path::new("f.gz")) {
            let _ = idx::parse(&content, Path::new("f"));
            let _ = cifar::parse(&content, Path::new("f"));
        }
    }
}
