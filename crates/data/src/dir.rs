//! Where datasets live: `--data-dir`, else `SKILANG_DATA`, else the user's cache folder.

use crate::error::{DataError, Result};
use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The data directory from the command line, the environment, or the home folder, in that order.
pub fn resolve(flag: Option<&Path>, env: Option<OsString>, home: Option<PathBuf>) -> PathBuf {
    if let Some(dir) = flag {
        return dir.to_path_buf();
    }
    if let Some(dir) = env.filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    home.unwrap_or_else(|| PathBuf::from(".")).join(".cache").join("skilang")
}

/// The data directory of this repository's tests and benchmarks: `SKILANG_DATA`, else the
/// `shared/data` folder beside the checkout where there is one, else the cache folder the command
/// line uses (created; `catalog::ensure` fills it with the checked downloads).
pub fn for_checkout(workspace: &Path) -> PathBuf {
    let sibling = workspace.join("../shared/data");
    let env = std::env::var_os("SKILANG_DATA").filter(|d| !d.is_empty());
    let dir = match env {
        Some(dir) => PathBuf::from(dir),
        None if sibling.is_dir() => sibling,
        None => resolve(None, None, std::env::var_os("HOME").map(PathBuf::from)),
    };
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// Finds `name` (plain or `.gz`) in `dir/folder/` or directly in `dir/`.
pub fn find(dir: &Path, folder: &str, name: &str) -> Option<PathBuf> {
    [dir.join(folder), dir.to_path_buf()]
        .iter()
        .flat_map(|d| [d.join(name), d.join(format!("{name}.gz"))])
        .find(|p| p.is_file())
}

/// Finds every file of a dataset, or says which are missing and where they belong.
pub fn find_all(dataset: &str, dir: &Path, folder: &str, names: &[&str]) -> Result<Vec<PathBuf>> {
    let found: Vec<Option<PathBuf>> = names.iter().map(|n| find(dir, folder, n)).collect();
    if found.iter().all(Option::is_some) {
        return Ok(found.into_iter().flatten().collect());
    }
    let missing: Vec<String> =
        names.iter().zip(&found).filter(|(_, f)| f.is_none()).map(|(n, _)| format!("{folder}/{n}[.gz]")).collect();
    Err(DataError::Missing { dataset: dataset.to_string(), dir: dir.to_path_buf(), files: missing.join(", ") })
}

/// The bytes of a file, gunzipped when its name ends in `.gz`. A damaged archive is an error.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    if path.extension().is_some_and(|e| e == "gz") {
        return gunzip(&raw, path);
    }
    Ok(raw)
}

/// The content of gzip bytes read from `path`.
pub fn gunzip(raw: &[u8], path: &Path) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(raw).read_to_end(&mut out).map_err(|e| DataError::Corrupt {
        path: path.to_path_buf(),
        reason: format!("not a valid gzip file ({e}); delete it and fetch it again"),
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_then_environment_then_cache() {
        let home = Some(PathBuf::from("/home/u"));
        assert_eq!(resolve(Some(Path::new("/d")), Some("/e".into()), home.clone()), PathBuf::from("/d"));
        assert_eq!(resolve(None, Some("/e".into()), home.clone()), PathBuf::from("/e"));
        assert_eq!(resolve(None, Some("".into()), home.clone()), PathBuf::from("/home/u/.cache/skilang"));
        assert_eq!(resolve(None, None, home), PathBuf::from("/home/u/.cache/skilang"));
    }

    #[test]
    fn missing_files_are_named_with_their_folder() {
        let dir = std::env::temp_dir().join("skilang-no-such-data");
        let err = find_all("mnist", &dir, "mnist", &["a.idx", "b.idx"]).unwrap_err().to_string();
        assert!(err.contains("mnist/a.idx[.gz], mnist/b.idx[.gz]"), "{err}");
        assert!(err.contains("SKILANG_DATA"), "{err}");
    }
}
