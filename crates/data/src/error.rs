//! What can go wrong when reading data; every error names the file and what to do.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{dataset}: data files not found in {dir}\n  expected: {files}\n  place them there (gzip or plain), or point --data-dir / SKILANG_DATA at the folder that has them")]
    Missing { dataset: String, dir: PathBuf, files: String },
    #[error("{path}: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("{path}:{line}: {reason}")]
    Row { path: PathBuf, line: usize, reason: String },
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot download {url}: {reason}")]
    Download { url: String, reason: String },
    #[error("dataset `{dataset}`: {reason}")]
    Schema { dataset: String, reason: String },
}

pub type Result<T> = std::result::Result<T, DataError>;
