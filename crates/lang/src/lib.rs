//! SKI-lang front end: reads a spec (YAML with Python-like formulas) into a typed document model,
//! resolves and type-checks it, and reports every problem at its line and column.
//!
//! ```
//! let text = "data:\n  d: {source: mnist, features: [{name: image, type: 'image[28x28]'}], targets: [{name: value, values: [0, 1]}], instances: [x]}\nlearnables:\n  net: {input: d.image, output: d.value, architecture: lenet}\nconstraints:\n  - always: net(x) == x.value\n";
//! let outcome = skilang_lang::check_source("spec.yaml", text.to_string());
//! assert!(outcome.is_valid());
//! assert_eq!(outcome.program.unwrap().constraints[0].latent, ["net(x)"]);
//! ```

pub mod check;
pub mod diag;
pub mod dimacs;
pub mod formula;
pub mod limits;
pub mod overrides;
pub mod path;
pub mod rng;
pub mod source;
pub mod spec;
pub mod yaml;

use diag::Diagnostic;
use source::SourceFile;
use std::path::Path;

/// Everything known about one spec file after reading and checking it.
pub struct Outcome {
    pub file: SourceFile,
    pub spec: Option<spec::Spec>,
    pub program: Option<check::Program>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Outcome {
    pub fn is_valid(&self) -> bool {
        self.program.is_some() && !self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Reads and checks a spec given as text; `path` is what diagnostics show.
pub fn check_source(path: impl AsRef<Path>, text: String) -> Outcome {
    check_source_with(path, text, &[]).unwrap_or_else(|_| unreachable!("no override can fail"))
}

/// Like [`check_source`], with `--set` overrides applied first. A diagnostic about an overridden
/// value points where the file wrote the value it replaced, with a note naming the override.
/// An override that cannot apply (a bad path, a value that is not YAML) is an `Err`.
pub fn check_source_with(
    path: impl AsRef<Path>,
    text: String,
    overrides: &[overrides::Override],
) -> Result<Outcome, String> {
    let file = SourceFile::new(path, text);
    let mut root = match yaml::parse(&file) {
        Ok(root) => root,
        Err(d) => return Ok(Outcome { file, spec: None, program: None, diagnostics: vec![d] }),
    };
    let set_at =
        overrides.iter().map(|o| Ok((overrides::apply(&mut root, o)?, o))).collect::<Result<Vec<_>, String>>()?;
    let spans: Vec<source::Span> = set_at.iter().map(|(span, _)| *span).collect();
    let (spec, mut diagnostics) = spec::read_tree(&file, &root, &spans);
    let mut program = None;
    if let Some(s) = &spec {
        let (p, more) = check::check(s, &file);
        diagnostics.extend(more);
        program = p;
    }
    for d in &mut diagnostics {
        // Keys an override adds all take their mapping's place: each of them is named there.
        let set: Vec<String> =
            set_at.iter().filter(|(span, _)| *span == d.span).map(|(_, o)| format!("--set {o}")).collect();
        if !set.is_empty() {
            d.notes.push(format!("this value was set by {}", set.join(" or ")));
        }
    }
    diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
    diagnostics.dedup_by(|a, b| a.span == b.span && a.message == b.message);
    let program = program.filter(|_| !diagnostics.iter().any(Diagnostic::is_error));
    Ok(Outcome { file, spec, program, diagnostics })
}

/// The largest spec read. Specs are YAML of a few kilobytes; data belongs in data files.
pub const MAX_SPEC_BYTES: u64 = 16 << 20;

/// Why a spec file could not be checked at all.
#[derive(Debug)]
pub enum FileError {
    Io(std::io::Error),
    /// A `--set` override that does not apply to this spec.
    Override(String),
    /// Not a regular file, or larger than [`MAX_SPEC_BYTES`]: refused before it is read.
    Refused(String),
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileError::Io(e) => write!(f, "{e}"),
            FileError::Override(e) | FileError::Refused(e) => write!(f, "{e}"),
        }
    }
}

/// Reads and checks a spec file. Only I/O failures are errors; problems in the spec, bytes that
/// are not UTF-8 included, are diagnostics.
pub fn check_file(path: &Path) -> std::io::Result<Outcome> {
    check_file_with(path, &[]).map_err(|e| match e {
        FileError::Io(e) => e,
        FileError::Override(e) | FileError::Refused(e) => std::io::Error::other(e),
    })
}

/// The bytes of a spec file: a regular file of at most [`MAX_SPEC_BYTES`] (a device such as
/// `/dev/zero`, a pipe or a folder is refused rather than read until memory runs out).
fn read_spec(path: &Path) -> Result<Vec<u8>, FileError> {
    use std::io::Read;
    let too_large = |size: String| {
        FileError::Refused(format!(
            "the spec is {size}; a spec may be at most {} MiB (it declares data, it does not hold it: read large tables from data files)",
            MAX_SPEC_BYTES >> 20
        ))
    };
    let meta = std::fs::metadata(path).map_err(FileError::Io)?;
    if !meta.is_file() {
        let what = if meta.is_dir() { "a folder" } else { "not a regular file" };
        return Err(FileError::Refused(format!("{what}; a spec is a YAML file")));
    }
    if meta.len() > MAX_SPEC_BYTES {
        return Err(too_large(format!("{} MiB", meta.len() >> 20)));
    }
    let mut bytes = Vec::new();
    let file = std::fs::File::open(path).map_err(FileError::Io)?;
    file.take(MAX_SPEC_BYTES + 1).read_to_end(&mut bytes).map_err(FileError::Io)?;
    if bytes.len() as u64 > MAX_SPEC_BYTES {
        return Err(too_large("growing while it is read".into()));
    }
    Ok(bytes)
}

/// [`check_file`] with `--set` overrides applied first.
pub fn check_file_with(path: &Path, overrides: &[overrides::Override]) -> Result<Outcome, FileError> {
    let mut bytes = read_spec(path)?;
    // Editors do not count a byte-order mark as a column.
    if bytes.starts_with(b"\xef\xbb\xbf") {
        bytes.drain(..3);
    }
    match String::from_utf8(bytes) {
        Ok(text) => check_source_with(path, text, overrides).map_err(FileError::Override),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let byte = e.as_bytes()[at];
            let file = SourceFile::new(path, String::from_utf8_lossy(e.as_bytes()).into_owned());
            let d = Diagnostic::error(
                source::Span::new(at, at + 1),
                format!("the spec is not UTF-8 text: byte 0x{byte:02x}"),
            )
            .with_help("save the file as UTF-8");
            Ok(Outcome { file, spec: None, program: None, diagnostics: vec![d] })
        }
    }
}
