//! A spec file's text and the mapping from byte offsets to lines and columns.

use std::path::{Path, PathBuf};

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start: start as u32, end: end.max(start) as u32 }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }
}

/// A value together with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

/// Characters between two entries of [`SourceFile`]'s character index.
const CHECKPOINT: usize = 64;

/// One loaded file. Columns are counted in characters, both 1-based, as editors show them.
///
/// Positions convert between characters and bytes through an index built once (the byte offset of
/// every 64th character), so each conversion walks at most 64 characters: a file of any length, or
/// one long line, is read in linear time.
#[derive(Clone, Debug)]
pub struct SourceFile {
    path: PathBuf,
    text: String,
    line_starts: Vec<usize>,
    /// Byte offset of characters 0, 64, 128, …; empty when the text is ASCII (bytes are characters).
    checkpoints: Vec<usize>,
}

impl SourceFile {
    pub fn new(path: impl AsRef<Path>, text: String) -> SourceFile {
        let line_starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        let checkpoints = if text.is_ascii() {
            Vec::new()
        } else {
            text.char_indices().step_by(CHECKPOINT).map(|(i, _)| i).collect()
        };
        SourceFile { path: path.as_ref().to_path_buf(), text, line_starts, checkpoints }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// 1-based line and character column of a byte offset.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let offset = self.floor_char_boundary(offset as usize);
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let col = self.byte_to_char(offset) - self.byte_to_char(self.line_starts[line]);
        (line + 1, col + 1)
    }

    /// Byte offset where a 1-based line starts.
    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts[line - 1]
    }

    /// The text of a 1-based line, without its line break.
    pub fn line_text(&self, line: usize) -> &str {
        let start = self.line_start(line);
        let end = self.line_starts.get(line).copied().unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// Byte offset of a character index (the YAML parser counts characters).
    pub fn char_to_byte(&self, char_index: usize) -> usize {
        if self.checkpoints.is_empty() {
            return char_index.min(self.text.len());
        }
        let Some(&from) = self.checkpoints.get(char_index / CHECKPOINT) else {
            return self.text.len();
        };
        self.text[from..].char_indices().nth(char_index % CHECKPOINT).map_or(self.text.len(), |(i, _)| from + i)
    }

    /// Character index of a byte offset on a character boundary.
    fn byte_to_char(&self, offset: usize) -> usize {
        if self.checkpoints.is_empty() {
            return offset;
        }
        let k = self.checkpoints.partition_point(|&b| b <= offset) - 1;
        k * CHECKPOINT + self.text[self.checkpoints[k]..offset].chars().count()
    }

    fn floor_char_boundary(&self, mut offset: usize) -> usize {
        offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_are_one_based_and_count_characters() {
        let f = SourceFile::new("x.yaml", "ab\nçd\n".to_string());
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        assert_eq!(f.line_col(5), (2, 2)); // after the two-byte ç
        assert_eq!(f.line_text(2), "çd");
        assert_eq!(f.char_to_byte(4), 5);
    }

    #[test]
    fn conversions_agree_with_counting_on_long_mixed_text() {
        let text: String = (0..1000)
            .map(|i| {
                if i % 7 == 0 {
                    "é\n"
                } else if i % 3 == 0 {
                    "€"
                } else {
                    "a"
                }
            })
            .collect();
        let f = SourceFile::new("x.yaml", text.clone());
        for (k, (byte, _)) in text.char_indices().enumerate() {
            assert_eq!(f.char_to_byte(k), byte);
            let line_start = text[..byte].rfind('\n').map_or(0, |i| i + 1);
            let line = text[..byte].matches('\n').count() + 1;
            assert_eq!(f.line_col(byte as u32), (line, text[line_start..byte].chars().count() + 1));
        }
        assert_eq!(f.char_to_byte(text.chars().count()), text.len());
        assert_eq!(f.char_to_byte(usize::MAX / 2), text.len());
    }
}
