//! The spec's document model and how it is read from YAML.

mod convert;
mod dialect;
pub mod keys;
mod model;

pub use model::*;

use crate::diag::Diagnostic;
use crate::source::SourceFile;

pub(crate) use convert::is_identifier;

/// Reads a spec file into the document model. Formulas are parsed; names are not yet resolved.
/// The spec is returned whenever its structure could be read, together with every problem found.
pub fn read(file: &SourceFile) -> (Option<Spec>, Vec<Diagnostic>) {
    match crate::yaml::parse(file) {
        Ok(root) => read_tree(file, &root, &[]),
        Err(d) => (None, vec![d]),
    }
}

/// Reads a spec from its already parsed YAML tree; `set` are where `--set` put values (an absolute
/// data path is accepted there, not in a file).
pub fn read_tree(
    file: &SourceFile,
    root: &crate::yaml::Node,
    set: &[crate::source::Span],
) -> (Option<Spec>, Vec<Diagnostic>) {
    let mut reader = convert::Reader::new(file, set);
    let mut spec = reader.spec(root);
    if let Some(spec) = &mut spec {
        dialect::column_subscripts(spec);
        dialect::bare_columns(spec);
        dialect::list_builtins(spec);
    }
    (spec, reader.diags)
}
