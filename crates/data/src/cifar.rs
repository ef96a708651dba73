//! The CIFAR-10 binary layout: per record one label byte, then 3072 bytes (R, G and B planes of 32×32).

use crate::error::{DataError, Result};
use std::path::Path;

pub const RECORD: usize = 1 + 3 * 32 * 32;

/// Labels and pixels of one batch file.
pub fn parse(bytes: &[u8], path: &Path) -> Result<(Vec<u8>, Vec<u8>)> {
    if bytes.is_empty() || bytes.len() % RECORD != 0 {
        return Err(DataError::Corrupt {
            path: path.to_path_buf(),
            reason: format!("{} bytes is not a whole number of {RECORD}-byte CIFAR records (truncated?)", bytes.len()),
        });
    }
    let n = bytes.len() / RECORD;
    let mut labels = Vec::with_capacity(n);
    let mut pixels = Vec::with_capacity(n * (RECORD - 1));
    for record in bytes.chunks_exact(RECORD) {
        if record[0] > 9 {
            return Err(DataError::Corrupt {
                path: path.to_path_buf(),
                reason: format!("label {} is not a CIFAR-10 class", record[0]),
            });
        }
        labels.push(record[0]);
        pixels.extend_from_slice(&record[1..]);
    }
    Ok((labels, pixels))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_truncation() {
        let mut b = vec![3u8];
        b.extend(vec![7u8; RECORD - 1]);
        let (labels, pixels) = parse(&b, Path::new("c.bin")).unwrap();
        assert_eq!((labels, pixels.len()), (vec![3], RECORD - 1));
        assert!(parse(&b[..100], Path::new("c.bin")).unwrap_err().to_string().contains("truncated"));
    }
}
