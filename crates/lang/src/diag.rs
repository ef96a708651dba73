//! Diagnostics: what went wrong, where, and how to fix it; rendered for people or as JSON.

use crate::source::{SourceFile, Span};
use serde::Serialize;
use std::fmt::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    pub span: Span,
    /// Short text printed under the caret.
    pub label: Option<String>,
    pub help: Option<String>,
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn error(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            span,
            label: None,
            help: None,
            notes: Vec::new(),
        }
    }

    pub fn warning(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(span, message) }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Rendered like rustc: header, `--> file:line:col`, the source line and a caret underline.
    pub fn render(&self, file: &SourceFile) -> String {
        let (line, col) = file.line_col(self.span.start);
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut out = String::new();
        let _ = writeln!(out, "{severity}: {}", self.message);
        let gutter = " ".repeat(line.to_string().len());
        let _ = writeln!(out, "{gutter}--> {}:{line}:{col}", file.path().display());
        let _ = writeln!(out, "{gutter} |");
        let text = file.line_text(line).replace('\t', " ");
        let _ = writeln!(out, "{line} | {}", text.trim_end());
        let (end_line, end_col) = file.line_col(self.span.end);
        let line_chars = text.chars().count();
        let width = if end_line == line { end_col.saturating_sub(col) } else { line_chars + 1 - col };
        let carets = "^".repeat(width.max(1));
        let label = self.label.as_deref().map(|l| format!(" {l}")).unwrap_or_default();
        let _ = writeln!(out, "{gutter} | {}{carets}{label}", " ".repeat(col - 1));
        if let Some(help) = &self.help {
            let _ = writeln!(out, "{gutter} = help: {help}");
        }
        for note in &self.notes {
            let _ = writeln!(out, "{gutter} = note: {note}");
        }
        out
    }

    pub fn to_json(&self, file: &SourceFile) -> DiagnosticJson {
        let (line, column) = file.line_col(self.span.start);
        let (end_line, end_column) = file.line_col(self.span.end);
        DiagnosticJson {
            severity: self.severity,
            message: self.message.clone(),
            file: file.path().display().to_string(),
            line,
            column,
            end_line,
            end_column,
            label: self.label.clone(),
            help: self.help.clone(),
            notes: self.notes.clone(),
        }
    }
}

/// The JSON form for editors: positions are 1-based, columns in characters.
#[derive(Clone, Debug, Serialize)]
pub struct DiagnosticJson {
    pub severity: Severity,
    pub message: String,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The closest candidate to a misspelt word, if any is close enough to be a plausible typo.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_lowercase();
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| (strsim::damerau_levenshtein(&lower, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.chars().count().max(word.chars().count()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `help: did you mean `x`?` when there is a close candidate.
pub fn suggest<'a>(diag: Diagnostic, word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Diagnostic {
    match did_you_mean(word, candidates) {
        Some(c) if diag.help.is_none() => diag.with_help(format!("did you mean `{c}`?")),
        _ => diag,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_only_for_plausible_typos() {
        assert_eq!(did_you_mean("digt", ["digit", "mnist"]), Some("digit"));
        assert_eq!(did_you_mean("Learnables", ["learnables", "data"]), Some("learnables"));
        assert_eq!(did_you_mean("zzz", ["digit", "mnist"]), None);
    }

    #[test]
    fn renders_caret_under_the_span() {
        let f = SourceFile::new("s.yaml", "a: 1\nb: digt(x)\n".to_string());
        let d = Diagnostic::error(Span::new(8, 12), "unknown name `digt`").with_label("not defined");
        let text = d.render(&f);
        assert_eq!(text, "error: unknown name `digt`\n --> s.yaml:2:4\n  |\n2 | b: digt(x)\n  |    ^^^^ not defined\n");
    }
}
