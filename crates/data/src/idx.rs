//! The IDX format of MNIST: a magic number with the element type and rank, the dimensions, then
//! the elements. Only unsigned bytes occur in the datasets we read.

use crate::error::{DataError, Result};
use std::path::Path;

#[derive(Debug, Clone, PartialEq)]
pub struct Idx {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

/// Parses IDX bytes; `path` names the file in errors.
pub fn parse(bytes: &[u8], path: &Path) -> Result<Idx> {
    let corrupt = |reason: String| DataError::Corrupt { path: path.to_path_buf(), reason };
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(corrupt("not an IDX file (bad magic number)".into()));
    }
    if bytes[2] != 0x08 {
        return Err(corrupt(format!("IDX element type 0x{:02x} is not unsigned bytes", bytes[2])));
    }
    let rank = bytes[3] as usize;
    let header = 4 + 4 * rank;
    if rank == 0 || bytes.len() < header {
        return Err(corrupt("truncated IDX header".into()));
    }
    let dims: Vec<usize> = (0..rank)
        .map(|i| u32::from_be_bytes([bytes[4 + 4 * i], bytes[5 + 4 * i], bytes[6 + 4 * i], bytes[7 + 4 * i]]) as usize)
        .collect();
    let expected = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| corrupt("IDX dimensions overflow".into()))?;
    let found = bytes.len() - header;
    if found != expected {
        let what = if found < expected { "truncated" } else { "has trailing bytes" };
        return Err(corrupt(format!("IDX file {what}: dimensions {dims:?} need {expected} bytes, found {found}")));
    }
    Ok(Idx { dims, data: bytes[header..].to_vec() })
}

/// Reads an IDX file (plain or gzip).
pub fn read(path: &Path) -> Result<Idx> {
    parse(&crate::dir::read_bytes(path)?, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut b = vec![0, 0, 8, dims.len() as u8];
        for d in dims {
            b.extend(d.to_be_bytes());
        }
        b.extend(data);
        b
    }

    #[test]
    fn reads_dimensions_and_data() {
        let p = Path::new("x.idx");
        let parsed = parse(&idx(&[2, 3], &[1, 2, 3, 4, 5, 6]), p).unwrap();
        assert_eq!(parsed.dims, [2, 3]);
        assert_eq!(parsed.data, [1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn truncated_and_foreign_files_are_refused() {
        let p = Path::new("x.idx");
        let e = parse(&idx(&[2, 3], &[1, 2, 3]), p).unwrap_err().to_string();
        assert!(e.contains("truncated") && e.contains("need 6 bytes, found 3"), "{e}");
        assert!(parse(b"PK\x03\x04zip", p).unwrap_err().to_string().contains("magic"));
        assert!(parse(&[0, 0, 8, 2, 0], p).unwrap_err().to_string().contains("truncated IDX header"));
        assert!(parse(&idx(&[1], &[1, 2]), p).unwrap_err().to_string().contains("trailing"));
    }
}
