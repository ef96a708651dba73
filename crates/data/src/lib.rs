//! Datasets (DESIGN.md §1): the data directory, IDX, CIFAR-binary and CSV readers driven by the
//! spec's schema, seeded splits and fractions, and encodings of tabular features.
//!
//! Every failure is a [`DataError`] that names the file and what to do; damaged or truncated files
//! are detected, never read as data.

pub mod catalog;
pub mod cifar;
pub mod csv;
pub mod dir;
pub mod encode;
pub mod error;
pub mod fetch;
pub mod idx;
pub mod imbalance;
pub mod load;
pub mod npm;
pub mod npz;
pub mod poker;
pub mod sudoku;
pub mod table;
pub mod tuples;
pub mod visudo;
pub mod warcraft;

pub use error::{DataError, Result};
pub use load::load;
/// The seeded generator lives in `lang`, so that `logic` (which samples) shares it.
pub use skilang_lang::rng;
pub use table::{Data, Table, Values};
