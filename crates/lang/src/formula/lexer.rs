//! Tokens of the Python-like formula language. Whitespace and line breaks are insignificant (a
//! formula is one expression, possibly spread over the lines of a block scalar); `#` starts a comment.

use crate::diag::Diagnostic;
use crate::source::Span;

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Name(String),
    Int(String),
    Float(f64),
    Str(String),
    Kw(Kw),
    Op(&'static str),
    Eof,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kw {
    And,
    Or,
    Not,
    If,
    Else,
    For,
    In,
    True,
    False,
}

/// Python keywords we do not support, named so the error can say so.
const UNSUPPORTED_KEYWORDS: &[&str] =
    &["lambda", "is", "None", "def", "return", "import", "from", "yield", "await", "async", "while", "with"];

/// Longest first, so that `**` is not read as two `*`.
const OPS: &[&str] = &[
    "**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "<", ">", "&", "|", "^", "~", "(", ")", "[", "]", ",",
    ".", ":",
];

#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}

/// Splits `text` into tokens; `offsets` maps each byte of `text` to its byte in the file.
pub fn lex(text: &str, offsets: &[u32]) -> Result<Vec<Token>, Diagnostic> {
    let file_span = |a: usize, b: usize| {
        let start = offsets[a];
        // The end is just past the token's last character, wherever that character sits in the file.
        let end = match text[..b].chars().next_back() {
            Some(last) if b > a => offsets[b - last.len_utf8()] + last.len_utf8() as u32,
            _ => start,
        };
        Span { start, end: end.max(start) }
    };
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let c = text[i..].chars().next().unwrap_or(' ');
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        if c == '#' {
            i = text[i..].find('\n').map_or(text.len(), |n| i + n);
            continue;
        }
        let start = i;
        let tok = if c.is_alphabetic() || c == '_' {
            while i < text.len() {
                let d = text[i..].chars().next().unwrap_or(' ');
                if !(d.is_alphanumeric() || d == '_') {
                    break;
                }
                i += d.len_utf8();
            }
            let word = &text[start..i];
            match word {
                "and" => Tok::Kw(Kw::And),
                "or" => Tok::Kw(Kw::Or),
                "not" => Tok::Kw(Kw::Not),
                "if" => Tok::Kw(Kw::If),
                "else" => Tok::Kw(Kw::Else),
                "for" => Tok::Kw(Kw::For),
                "in" => Tok::Kw(Kw::In),
                "True" => Tok::Kw(Kw::True),
                "False" => Tok::Kw(Kw::False),
                w if UNSUPPORTED_KEYWORDS.contains(&w) => {
                    return Err(Diagnostic::error(
                        file_span(start, i),
                        format!("`{w}` is not part of SKI-lang formulas"),
                    )
                    .with_label("unsupported Python keyword"));
                }
                w => Tok::Name(w.to_string()),
            }
        } else if c.is_ascii_digit() || (c == '.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            number(text, &mut i).map_err(|msg| Diagnostic::error(file_span(start, i), msg))?
        } else if c == '"' || c == '\'' {
            let s = string(text, &mut i, c).map_err(|msg| Diagnostic::error(file_span(start, i), msg))?;
            Tok::Str(s)
        } else if let Some(op) = OPS.iter().find(|op| text[i..].starts_with(**op)) {
            i += op.len();
            Tok::Op(op)
        } else {
            i += c.len_utf8();
            let d = Diagnostic::error(file_span(start, i), format!("unexpected character `{c}`"));
            return Err(match c {
                '=' => d.with_help("use `==` to compare; formulas do not assign"),
                '!' => d.with_help("use `not` (or `!=` to compare)"),
                _ => d,
            });
        };
        tokens.push(Token { tok, span: file_span(start, i) });
    }
    let end = offsets[text.len()];
    tokens.push(Token { tok: Tok::Eof, span: Span { start: end, end } });
    Ok(tokens)
}

fn number(text: &str, i: &mut usize) -> Result<Tok, String> {
    let start = *i;
    let bytes = text.as_bytes();
    let digits = |i: &mut usize| {
        while *i < bytes.len() && (bytes[*i].is_ascii_digit() || bytes[*i] == b'_') {
            *i += 1;
        }
    };
    digits(i);
    let mut float = false;
    if *i < bytes.len()
        && bytes[*i] == b'.'
        && !bytes.get(*i + 1).is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
    {
        float = true;
        *i += 1;
        digits(i);
    }
    if *i < bytes.len() && (bytes[*i] == b'e' || bytes[*i] == b'E') {
        let mut j = *i + 1;
        if j < bytes.len() && (bytes[j] == b'+' || bytes[j] == b'-') {
            j += 1;
        }
        if j < bytes.len() && bytes[j].is_ascii_digit() {
            float = true;
            *i = j;
            digits(i);
        }
    }
    if *i < bytes.len() && (bytes[*i].is_ascii_alphabetic() || bytes[*i] == b'_') {
        while *i < bytes.len() && (bytes[*i].is_ascii_alphanumeric() || bytes[*i] == b'_') {
            *i += 1;
        }
        return Err(format!("invalid number `{}`", &text[start..*i]));
    }
    let literal: String = text[start..*i].chars().filter(|&c| c != '_').collect();
    if float {
        literal.parse().map(Tok::Float).map_err(|_| format!("invalid number `{}`", &text[start..*i]))
    } else {
        let trimmed = literal.trim_start_matches('0');
        Ok(Tok::Int(if trimmed.is_empty() { "0".to_string() } else { trimmed.to_string() }))
    }
}

fn string(text: &str, i: &mut usize, quote: char) -> Result<String, String> {
    let mut out = String::new();
    *i += 1;
    let mut chars = text[*i..].chars();
    while let Some(c) = chars.next() {
        *i += c.len_utf8();
        match c {
            c if c == quote => return Ok(out),
            '\n' => break,
            '\\' => {
                let Some(e) = chars.next() else { break };
                *i += e.len_utf8();
                out.push(match e {
                    'n' => '\n',
                    't' => '\t',
                    other => other,
                });
            }
            c => out.push(c),
        }
    }
    Err("unterminated string".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(text: &str) -> Vec<Tok> {
        let offsets: Vec<u32> = (0..=text.len() as u32).collect();
        lex(text, &offsets).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn operators_numbers_and_keywords() {
        assert_eq!(
            toks("a**2 // 3.5e1 != not"),
            vec![
                Tok::Name("a".into()),
                Tok::Op("**"),
                Tok::Int("2".into()),
                Tok::Op("//"),
                Tok::Float(35.0),
                Tok::Op("!="),
                Tok::Kw(Kw::Not),
                Tok::Eof
            ]
        );
        assert_eq!(toks("x.value # comment\n+ 1")[2], Tok::Name("value".into()));
        assert_eq!(toks("'>50K'")[0], Tok::Str(">50K".into()));
    }

    #[test]
    fn spans_end_after_multibyte_characters() {
        let text = "pairs(hé) == 3";
        let offsets: Vec<u32> = (0..=text.len() as u32).collect();
        let tokens = lex(text, &offsets).unwrap();
        assert_eq!(tokens[2].tok, Tok::Name("hé".into()));
        assert_eq!((tokens[2].span.start, tokens[2].span.end), (6, 9));
    }

    #[test]
    fn errors_point_at_the_token() {
        let offsets: Vec<u32> = (0..=10).collect();
        let e = lex("a = b", &offsets[..6]).unwrap_err();
        assert_eq!((e.span.start, e.span.end), (2, 3));
        assert!(lex("'abc", &offsets[..5]).unwrap_err().message.contains("unterminated"));
        assert!(lex("12ab", &offsets[..5]).unwrap_err().message.contains("invalid number"));
    }
}
