//! `format: npz`: Sudoku pairs saved with `numpy.savez` (how the published pickles and SATNet's
//! tensors are brought in) read through a spec, as `train` reads them, and archives that do not
//! fit the declared columns refused with the array and the reason.

mod common;

use common::{npy, npz};
use skilang_data::npz::{parse_npy, Array, Elements};
use skilang_data::{load, Values};
use skilang_lang::spec::Dataset;
use std::path::{Path, PathBuf};

/// A folder holding `examples/sudoku.yaml` reading `park.npz` instead of generated puzzles, and
/// that archive.
fn sudoku(name: &str, archive: Vec<u8>) -> (Dataset, PathBuf) {
    let dir = std::env::temp_dir().join(format!("skilang-npz-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sudoku.yaml");
    let text = std::fs::read_to_string(example).unwrap().replace(
        "    source: sudoku\n",
        "    training: {file: park.npz, format: npz}\n    test: {file: park.npz, format: npz}\n",
    );
    std::fs::write(dir.join("sudoku.yaml"), text).unwrap();
    std::fs::write(dir.join("park.npz"), archive).unwrap();
    let outcome = skilang_lang::check_file(&dir.join("sudoku.yaml")).unwrap();
    assert!(outcome.is_valid(), "{:?}", outcome.diagnostics);
    (outcome.spec.unwrap().datasets.remove(0), dir)
}

/// 81 copies of `x` as little-endian doubles.
fn f64s(x: f64) -> Vec<u8> {
    (0..81).flat_map(|_| x.to_le_bytes()).collect()
}

const PUZZLE: &str = "046201059900860027070539000120000060304100000098007000000458001700310000010700835";
const SOLUTION: &str = "846271359953864127271539684127943568364185792598627413639458271785312946412796835";

fn digits(s: &str) -> impl Iterator<Item = u8> + '_ {
    s.bytes().map(|b| b - b'0')
}

#[test]
fn sudoku_pairs_read_from_stored_and_deflated_archives() {
    // Givens as NeurASP keeps them, (rows, 9, 9) int64; solutions flat, (rows, 81), as bytes or
    // as whole float32 numbers (a float tensor saved as it is).
    let given: Vec<u8> = digits(PUZZLE).chain(digits(SOLUTION)).flat_map(|d| (d as i64).to_le_bytes()).collect();
    let bytes: Vec<u8> = digits(SOLUTION).chain(digits(SOLUTION)).collect();
    let floats: Vec<u8> = bytes.iter().flat_map(|&d| (d as f32).to_le_bytes()).collect();
    for (deflated, solution) in [(false, npy("|u1", &[2, 81], &bytes)), (true, npy("<f4", &[2, 81], &floats))] {
        let archive = npz(&[("given", npy("<i8", &[2, 9, 9], &given)), ("solution", solution)], deflated);
        let (dataset, dir) = sudoku(&format!("ok-{deflated}"), archive);
        let data = load(&dataset, &dir, 1);
        std::fs::remove_dir_all(&dir).ok();
        let data = data.unwrap();
        assert_eq!(data.train.rows, 2);
        let Some(Values::Grid { cells: 81, codes }) = data.train.column("given") else { panic!("given") };
        // Givens are declared 0..9: the code of a digit is the digit.
        assert_eq!(codes[..81], digits(PUZZLE).map(u32::from).collect::<Vec<_>>());
        let Some(Values::Grid { cells: 81, codes }) = data.train.column("solution") else { panic!("solution") };
        // Solutions are declared 1..9: the code of a digit is one less.
        assert_eq!(codes[81..], digits(SOLUTION).map(|d| d as u32 - 1).collect::<Vec<_>>());
    }
}

#[test]
fn archives_that_do_not_fit_the_columns_are_refused_with_the_array_and_the_reason() {
    let ok_given = npy("|u1", &[1, 9, 9], &digits(PUZZLE).collect::<Vec<_>>());
    let ok_solution = npy("|u1", &[1, 81], &digits(SOLUTION).collect::<Vec<_>>());
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("not-zip", b"not an archive".to_vec(), "not a NumPy .npz archive"),
        ("missing", npz(&[("given", ok_given.clone())], false), "no array `solution` (its arrays: given)"),
        (
            "rows",
            npz(&[("given", ok_given.clone()), ("solution", npy("|u1", &[2, 81], &[1; 162]))], false),
            "array `solution` has 2 rows, the arrays before it 1",
        ),
        (
            "value",
            npz(&[("given", ok_given.clone()), ("solution", npy("|u1", &[1, 81], &[0; 81]))], false),
            "array `solution`: 0 is not a declared value",
        ),
        (
            "shape",
            npz(&[("given", npy("|u1", &[1, 9, 8], &[0; 72])), ("solution", ok_solution.clone())], false),
            "array `given`: has shape [1, 9, 8]",
        ),
        (
            "floats",
            npz(&[("given", ok_given), ("solution", npy("<f8", &[1, 81], &f64s(0.5)))], false),
            "array `solution`: holds fractional numbers",
        ),
    ];
    for (name, archive, expected) in cases {
        let (dataset, dir) = sudoku(name, archive);
        let err = load(&dataset, &dir, 1).err().map(|e| e.to_string()).unwrap_or_default();
        std::fs::remove_dir_all(&dir).ok();
        assert!(err.contains(expected) && err.contains("park.npz"), "{name}: {err}");
    }
}

#[test]
fn integers_of_every_width_and_sign_floats_and_booleans() {
    let a = parse_npy(&npy("<i2", &[2, 2], &[1, 0, 255, 255, 0, 128, 9, 0])).unwrap();
    assert_eq!(a, Array { shape: vec![2, 2], elements: Elements::Ints(vec![1, -1, -32768, 9]) });
    let a = parse_npy(&npy("|u1", &[3], &[0, 200, 7])).unwrap();
    assert_eq!(a.elements, Elements::Ints(vec![0, 200, 7]));
    let a = parse_npy(&npy("|b1", &[2], &[1, 0])).unwrap();
    assert_eq!(a.elements, Elements::Ints(vec![1, 0]));
    let a = parse_npy(&npy("<f4", &[1], &1.5f32.to_le_bytes())).unwrap();
    assert_eq!(a.elements, Elements::Floats(vec![1.5]));
    let a = parse_npy(&npy("<i8", &[1], &(-3i64).to_le_bytes())).unwrap();
    assert_eq!(a.elements, Elements::Ints(vec![-3]));
}

#[test]
fn layouts_it_cannot_read_are_refused_by_name() {
    let err = |bytes: &[u8]| parse_npy(bytes).unwrap_err();
    assert!(err(b"PK\x03\x04").contains("magic"));
    assert!(err(&npy(">i4", &[1], &[0, 0, 0, 1])).contains("big-endian"));
    assert!(err(&npy("<c16", &[1], &[0; 16])).contains("not read"));
    assert!(err(&npy("<i4", &[4], &[0; 8])).contains("needs 16"));
    let mut fortran = npy("<i4", &[1], &[0; 4]);
    let at = fortran.windows(5).position(|w| w == b"False").unwrap();
    fortran[at..at + 5].copy_from_slice(b"True ");
    assert!(err(&fortran).contains("Fortran"));
}
