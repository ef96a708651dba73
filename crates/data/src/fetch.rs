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

/// How long a download may take: a server is never trusted to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// The longest wait for the next bytes: a server that stalls fails after this.
    pub idle: Duration,
    /// The longest the whole download may take.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts { idle: Duration::from_secs(60), total: Duration::from_secs(30 * 60) }
    }
}

/// Downloads `url` into memory, reporting (bytes so far, total when announced). The body is read as
/// it arrives, never more than `max_bytes` (a larger body or announced length fails at once), and
/// nothing is allocated from what the server announces; a stalled or endless server fails within
/// `timeouts`. ureq refuses a body shorter than the length the server announced.
pub fn download(
    url: &str,
    max_bytes: u64,
    timeouts: Timeouts,
    progress: &mut dyn FnMut(u64, Option<u64>),
) -> Result<Vec<u8>> {
    let failed = |reason: String| DataError::Download { url: url.to_string(), reason };
    let timed_out = |kind: Option<&ureq::Timeout>| {
        failed(match kind {
            Some(ureq::Timeout::Global) => format!("the download took longer than {} s", timeouts.total.as_secs()),
            _ => format!("the server sent nothing for {} s", timeouts.idle.as_secs()),
        })
    };
    let too_large =
        |size: u64| failed(format!("the server sends {size} bytes or more; the file is at most {max_bytes} bytes"));
    // The system's certificate store: networks that re-sign TLS have their CA installed there.
    let tls = ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::PlatformVerifier).build();
    let agent = ureq::Agent::config_builder()
        .tls_config(tls)
        .timeout_connect(Some(Duration::from_secs(30).min(timeouts.idle)))
        .timeout_per_read(Some(timeouts.idle))
        .timeout_global(Some(timeouts.total))
        .build()
        .new_agent();
    let response = agent.get(url).call().map_err(|e| match e {
        ureq::Error::Timeout(kind) => timed_out(Some(&kind)),
        e => failed(e.to_string()),
    })?;
    let announced: Option<u64> =
        response.headers().get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok());
    if let Some(n) = announced.filter(|&n| n > max_bytes) {
        return Err(too_large(n));
    }
    let mut reader = response.into_body().into_reader();
    let mut bytes = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return Err(timed_out(None)),
            Err(e) => {
                return Err(match e.get_ref().and_then(|inner| inner.downcast_ref::<ureq::Error>()) {
                    Some(ureq::Error::Timeout(kind)) => timed_out(Some(kind)),
                    _ => failed(e.to_string()),
                })
            }
        };
        if n == 0 {
            break;
        }
        if (bytes.len() + n) as u64 > max_bytes {
            return Err(too_large((bytes.len() + n) as u64));
        }
        bytes.extend_from_slice(&chunk[..n]);
        progress(bytes.len() as u64, announced);
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
