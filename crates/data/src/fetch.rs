//! Downloading a file and checking it against the checksum its publisher gives, before anything
//! is written.

use crate::error::{DataError, Result};
use md5::Md5;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;
use std::time::Duration;

/// A published checksum of a file, as lowercase hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    Md5(&'static str),
    Sha256(&'static str),
}

impl Checksum {
    /// Whether `bytes` are the published file; otherwise what they hash to instead.
    pub fn verify(self, bytes: &[u8]) -> std::result::Result<(), String> {
        let (name, expected, actual) = match self {
            Checksum::Md5(e) => ("md5", e, hex(&Md5::digest(bytes))),
            Checksum::Sha256(e) => ("sha256", e, hex(&Sha256::digest(bytes))),
        };
        if actual == expected {
            Ok(())
        } else {
            Err(format!("its {name} is {actual}, not the published {expected}"))
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Downloads `url`, reporting (bytes so far, total when known). ureq refuses a body shorter than
/// the length the server announced.
pub fn download(url: &str, progress: &mut dyn FnMut(u64, Option<u64>)) -> Result<Vec<u8>> {
    let failed = |reason: String| DataError::Download { url: url.to_string(), reason };
    // The system's certificate store: networks that re-sign TLS have their CA installed there.
    let tls = ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::PlatformVerifier).build();
    let agent = ureq::Agent::config_builder()
        .tls_config(tls)
        .timeout_connect(Some(Duration::from_secs(30)))
        .build()
        .new_agent();
    let response = agent.get(url).call().map_err(|e| failed(e.to_string()))?;
    let total = response.headers().get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    let mut reader = response.into_body().into_reader();
    let mut bytes = Vec::with_capacity(total.unwrap_or(0) as usize);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut chunk).map_err(|e| failed(e.to_string()))?;
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(&chunk[..n]);
        progress(bytes.len() as u64, total);
    }
    Ok(bytes)
}

/// The files of a tar archive, by name.
pub(crate) fn untar(bytes: &[u8]) -> Vec<(String, &[u8])> {
    let mut files = Vec::new();
    let mut at = 0;
    while at + 512 <= bytes.len() {
        let header = &bytes[at..at + 512];
        if header.iter().all(|&b| b == 0) {
            break;
        }
        let text = |r: std::ops::Range<usize>| String::from_utf8_lossy(&header[r]).trim_end_matches('\0').to_string();
        let size = u64::from_str_radix(text(124..136).trim(), 8).unwrap_or(0) as usize;
        let prefix = text(345..500);
        let name = if prefix.is_empty() { text(0..100) } else { format!("{prefix}/{}", text(0..100)) };
        let start = at + 512;
        let end = (start + size).min(bytes.len());
        if header[156] == b'0' || header[156] == 0 {
            files.push((name, &bytes[start..end]));
        }
        at = start + size.div_ceil(512) * 512;
    }
    files
}

/// Writes next to `path`, then renames: a reader never sees half a file.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes).map_err(|source| DataError::Io { path: tmp.clone(), source })?;
    std::fs::rename(&tmp, path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_are_compared_as_published() {
        assert_eq!(Checksum::Md5("900150983cd24fb0d6963f7d28e17f72").verify(b"abc"), Ok(()));
        let sha = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(Checksum::Sha256(sha).verify(b"abc"), Ok(()));
        let err = Checksum::Sha256(sha).verify(b"abd").unwrap_err();
        assert!(err.starts_with("its sha256 is ") && err.ends_with(&format!("not the published {sha}")), "{err}");
    }

    #[test]
    fn tar_entries_are_read_with_their_sizes() {
        let mut tar = vec![0u8; 512];
        tar[..5].copy_from_slice(b"a.txt");
        tar[124..135].copy_from_slice(b"00000000003");
        tar[156] = b'0';
        tar.extend_from_slice(b"abc");
        tar.resize(1024 + 1024, 0);
        let files = untar(&tar);
        assert_eq!(files, [("a.txt".to_string(), &b"abc"[..])]);
    }
}
