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
        let (text, caret_col, shown_after) = excerpt(file, line, col, self.span.start as usize);
        let _ = writeln!(out, "{line} | {}", text.trim_end());
        let (end_line, end_col) = file.line_col(self.span.end);
        let width = if end_line == line { end_col.saturating_sub(col).min(shown_after) } else { shown_after };
        let carets = "^".repeat(width.max(1));
        let label = self.label.as_deref().map(|l| format!(" {l}")).unwrap_or_default();
        let _ = writeln!(out, "{gutter} | {}{carets}{label}", " ".repeat(caret_col));
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

/// Lines longer than this many bytes are shown as a window around the caret.
const LONG_LINE: usize = 200;

/// The part of a 1-based line shown under a diagnostic at 1-based character column `col`: the
/// whole line, or for a long one (a generated spec, a flow list on one line) a window of characters
/// around the column with `…` where it was cut. Returns the text, the caret's 0-based column in it
/// and how many characters it shows from the caret on.
fn excerpt(file: &SourceFile, line: usize, col: usize, offset: usize) -> (String, usize, usize) {
    let text = file.line_text(line);
    let whole = |t: &str| t.replace('\t', " ");
    if text.len() <= LONG_LINE {
        return (whole(text), col - 1, text.chars().count() + 1 - col);
    }
    let mut at = offset.saturating_sub(file.line_start(line)).min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let (head, tail) = text.split_at(at);
    let from = head.char_indices().rev().take(60).last().map_or(head.len(), |(i, _)| i);
    let to = tail.char_indices().nth(100).map_or(tail.len(), |(i, _)| i);
    let (before, after) = (&head[from..], &tail[..to]);
    let (cut_before, cut_after) = (from > 0, to < tail.len());
    let shown = format!(
        "{}{}{}{}",
        if cut_before { "…" } else { "" },
        whole(before),
        whole(after),
        if cut_after { "…" } else { "" }
    );
    (shown, cut_before as usize + before.chars().count(), after.chars().count())
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

    #[test]
    fn a_long_line_is_shown_around_the_caret() {
        let line = format!("values: [{}, digt]", (0..10_000).map(|i| i.to_string()).collect::<Vec<_>>().join(", "));
        let at = line.find("digt").unwrap();
        let f = SourceFile::new("s.yaml", line.clone() + "\n");
        let text = Diagnostic::error(Span::new(at, at + 4), "unknown value").render(&f);
        let shown = text.lines().nth(3).unwrap();
        assert!(shown.starts_with("1 | …") && shown.ends_with("9999, digt]"), "{shown}");
        assert!(shown.chars().count() < 80, "{shown}");
        let caret = text.lines().nth(4).unwrap();
        let under: String = caret.find('^').map(|c| shown.chars().skip(c).take(4).collect()).unwrap_or_default();
        assert_eq!(under, "digt", "{text}");
    }
}
