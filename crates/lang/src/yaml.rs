//! A YAML tree in which every node knows where it was written.
//!
//! Built from `saphyr-parser` events: aliases are expanded (keeping the span where the anchor defined
//! the value), `<<` merge keys are applied, duplicate keys are errors, and alias expansion is bounded
//! so that a "billion laughs" document is refused instead of exhausting memory.

use crate::diag::Diagnostic;
use crate::source::{SourceFile, Span};
use saphyr_parser::{Event, Parser, ScalarStyle, Span as YSpan, Tag};
use std::collections::{HashMap, HashSet};

/// Values allowed after alias expansion; far above any real spec (specs of a few thousand values
/// check in milliseconds, and this many in about a second).
const MAX_NODES: usize = 2_000_000;
/// Nesting allowed; deeper documents are refused rather than risking the stack.
const MAX_DEPTH: usize = 128;

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub span: Span,
    pub kind: NodeKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: Node,
    pub value: Node,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Scalar {
    pub text: String,
    /// Quoted and block scalars are always strings; plain ones follow the YAML 1.2 core schema.
    pub plain: bool,
}

/// What a scalar means under the YAML 1.2 core schema.
#[derive(Clone, Debug, PartialEq)]
pub enum ScalarValue<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
}

impl Node {
    /// The value as JSON, as an editor's schema validator reads the YAML (aliases expanded, merge
    /// keys applied; plain scalars typed by YAML 1.2's core schema).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            NodeKind::Map(entries) => {
                Value::Object(entries.iter().map(|e| (key_text(&e.key).to_string(), e.value.to_json())).collect())
            }
            NodeKind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeKind::Scalar(s) => match s.value() {
                ScalarValue::Null => Value::Null,
                ScalarValue::Bool(b) => Value::Bool(b),
                ScalarValue::Int(i) => Value::from(i),
                ScalarValue::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
                ScalarValue::Str(t) => Value::String(t.to_string()),
            },
        }
    }
}

impl Scalar {
    pub fn value(&self) -> ScalarValue<'_> {
        let t = self.text.as_str();
        if !self.plain {
            return ScalarValue::Str(t);
        }
        match t {
            "" | "~" | "null" | "Null" | "NULL" => return ScalarValue::Null,
            "true" | "True" | "TRUE" => return ScalarValue::Bool(true),
            "false" | "False" | "FALSE" => return ScalarValue::Bool(false),
            ".inf" | "+.inf" | ".Inf" | "+.Inf" => return ScalarValue::Float(f64::INFINITY),
            "-.inf" | "-.Inf" => return ScalarValue::Float(f64::NEG_INFINITY),
            ".nan" | ".NaN" => return ScalarValue::Float(f64::NAN),
            _ => {}
        }
        if let Ok(i) = t.parse::<i64>() {
            return ScalarValue::Int(i);
        }
        let numeric = t.starts_with(|c: char| c.is_ascii_digit() || "+-.".contains(c))
            && t.chars().all(|c| c.is_ascii_digit() || "+-.eE_".contains(c));
        match t.parse::<f64>() {
            Ok(f) if numeric => ScalarValue::Float(f),
            _ => ScalarValue::Str(t),
        }
    }
}

impl Node {
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar(s) => match s.value() {
                ScalarValue::Null => "nothing (null)",
                ScalarValue::Bool(_) => "a boolean",
                ScalarValue::Int(_) => "an integer",
                ScalarValue::Float(_) => "a number",
                ScalarValue::Str(_) => "a string",
            },
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }

    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.kind {
            NodeKind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// Byte offset in the file of every byte offset in the scalar's text (plus one past the end).
    ///
    /// YAML folds lines, strips indentation and resolves escapes, so the value is aligned with the
    /// source text: each character is looked up a short distance ahead of the previous one.
    pub fn scalar_offsets(&self, file: &SourceFile) -> Vec<u32> {
        let text = self.as_scalar().map_or("", |s| s.text.as_str());
        let src = file.text();
        let end = (self.span.end as usize).min(src.len());
        let mut map = Vec::with_capacity(text.len() + 1);
        let mut pos = (self.span.start as usize).min(end);
        for (i, c) in text.char_indices() {
            let found = src[pos..end]
                .char_indices()
                .take(64)
                .find(|&(_, s)| s == c || (c == ' ' && s == '\n'))
                .map(|(k, s)| (pos + k, s.len_utf8()));
            let here = found.map_or(pos, |(p, _)| p);
            map.resize(i, here as u32);
            map.push(here as u32);
            if let Some((p, len)) = found {
                pos = p + len;
            }
        }
        map.resize(text.len(), pos as u32);
        map.push(pos as u32);
        map
    }
}

/// Parses one YAML document into a located tree.
pub fn parse(file: &SourceFile) -> Result<Node, Diagnostic> {
    let mut builder =
        Builder { file, parser: Parser::new_from_str(file.text()), anchors: HashMap::new(), nodes: 0, aliased: false };
    builder.document()
}

struct Builder<'a> {
    file: &'a SourceFile,
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    anchors: HashMap<usize, Node>,
    nodes: usize,
    /// Whether an alias was expanded: the size limit's message then says how documents grow.
    aliased: bool,
}

impl<'a> Builder<'a> {
    fn span(&self, s: YSpan) -> Span {
        Span::new(self.file.char_to_byte(s.start.index()), self.file.char_to_byte(s.end.index()))
    }

    fn next(&mut self) -> Result<(Event<'a>, Span), Diagnostic> {
        match self.parser.next_event() {
            Some(Ok((ev, sp))) => Ok((ev, self.span(sp))),
            Some(Err(e)) => Err(scan_error(self.file, self.file.char_to_byte(e.marker().index()), e.info())),
            None => Err(self.end_error()),
        }
    }

    fn end_error(&self) -> Diagnostic {
        let end = self.file.text().len();
        Diagnostic::error(Span::new(end, end), "invalid YAML: unexpected end of the file")
    }

    fn document(&mut self) -> Result<Node, Diagnostic> {
        let end = self.file.text().len();
        let empty = || {
            Diagnostic::error(Span::new(0, 0), "the spec is empty").with_help(
            "a spec is a YAML mapping with the sections `data`, `optimization`, `learnables`, `knowledge` and `constraints`",
        )
        };
        loop {
            match self.next()?.0 {
                Event::StreamStart => continue,
                Event::DocumentStart(_) => break,
                Event::StreamEnd => return Err(empty()),
                _ => return Err(self.end_error()),
            }
        }
        let (ev, sp) = self.next()?;
        if matches!(ev, Event::DocumentEnd) {
            return Err(empty());
        }
        let root = self.node(ev, sp, 0)?;
        match self.next()?.0 {
            Event::DocumentEnd => {}
            _ => return Err(Diagnostic::error(Span::new(end, end), "invalid YAML: trailing content")),
        }
        match self.next()? {
            (Event::StreamEnd, _) => Ok(root),
            (_, sp) => Err(Diagnostic::error(sp, "a spec holds one YAML document, this is a second one")
                .with_help("remove the `---` and everything after it, or split the file")),
        }
    }

    fn count(&mut self, span: Span, n: usize) -> Result<(), Diagnostic> {
        self.nodes += n;
        if self.nodes > MAX_NODES {
            let d = Diagnostic::error(span, format!("the spec has more than {MAX_NODES} values"));
            return Err(if self.aliased {
                d.with_note("counted after expanding aliases: aliases that nest aliases grow exponentially")
            } else {
                d.with_help("a spec declares data, it does not hold it: read large tables from data files")
            });
        }
        Ok(())
    }

    fn node(&mut self, ev: Event<'a>, span: Span, depth: usize) -> Result<Node, Diagnostic> {
        if depth > MAX_DEPTH {
            return Err(Diagnostic::error(span, format!("the document nests deeper than {MAX_DEPTH} levels")));
        }
        let (node, anchor) = match ev {
            Event::Scalar(text, style, anchor, tag) => {
                // `!!str` only says what quoting says; any other tag would be silently dropped.
                let string = match tag.as_deref() {
                    None => false,
                    Some(t) if t.is_yaml_core_schema() && t.suffix == "str" => true,
                    Some(t) => return Err(tag_error(t, span)),
                };
                let plain = matches!(style, ScalarStyle::Plain) && !string;
                self.count(span, 1)?;
                (Node { span, kind: NodeKind::Scalar(Scalar { text: text.into_owned(), plain }) }, anchor)
            }
            Event::Alias(id) => {
                let Some(target) = self.anchors.get(&id).cloned() else {
                    return Err(Diagnostic::error(span, "alias to an unknown anchor"));
                };
                self.aliased = true;
                self.count(span, size(&target))?;
                return Ok(target);
            }
            Event::SequenceStart(_, Some(tag)) | Event::MappingStart(_, Some(tag)) => {
                return Err(tag_error(&tag, span))
            }
            Event::SequenceStart(anchor, None) => {
                let mut items = Vec::new();
                let end = loop {
                    match self.next()? {
                        (Event::SequenceEnd, sp) => break sp,
                        (ev, sp) => items.push(self.node(ev, sp, depth + 1)?),
                    }
                };
                self.count(span, 1)?;
                (Node { span: span.to(end), kind: NodeKind::Seq(items) }, anchor)
            }
            Event::MappingStart(anchor, None) => {
                let (entries, end) = self.mapping(depth)?;
                self.count(span, 1)?;
                (Node { span: span.to(end), kind: NodeKind::Map(entries) }, anchor)
            }
            _ => return Err(Diagnostic::error(span, "invalid YAML: unexpected structure")),
        };
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }

    fn mapping(&mut self, depth: usize) -> Result<(Vec<Entry>, Span), Diagnostic> {
        let mut own: Vec<Entry> = Vec::new();
        // Where each key of `own` is, by its text: a mapping with many keys is read in linear time.
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut merged: Vec<Entry> = Vec::new();
        loop {
            let (ev, sp) = self.next()?;
            if matches!(ev, Event::MappingEnd) {
                // Explicit keys win over merged ones; earlier merges win over later ones.
                for entry in merged {
                    if !seen.contains_key(key_text(&entry.key)) {
                        own.push(entry);
                    }
                }
                return Ok((own, sp));
            }
            let key = self.node(ev, sp, depth + 1)?;
            let (ev, sp) = self.next()?;
            let value = self.node(ev, sp, depth + 1)?;
            if key.as_scalar().is_none() {
                return Err(Diagnostic::error(key.span, "keys must be plain names, not lists or mappings"));
            }
            if key.as_scalar().is_some_and(|k| k.plain && k.text == "<<") {
                self.merge(&value, &mut merged)?;
                continue;
            }
            if let Some(&first) = seen.get(key_text(&key)) {
                let (line, col) = self.file.line_col(own[first].key.span.start);
                return Err(Diagnostic::error(key.span, format!("duplicate key `{}`", key_text(&key)))
                    .with_label("written a second time")
                    .with_note(format!("first written at line {line}, column {col}")));
            }
            seen.insert(key_text(&key).to_string(), own.len());
            own.push(Entry { key, value });
        }
    }

    fn merge(&self, value: &Node, merged: &mut Vec<Entry>) -> Result<(), Diagnostic> {
        let sources: Vec<&Node> = match &value.kind {
            NodeKind::Map(_) => vec![value],
            NodeKind::Seq(items) => items.iter().collect(),
            NodeKind::Scalar(_) => vec![value],
        };
        let mut taken: HashSet<String> = merged.iter().map(|m| key_text(&m.key).to_string()).collect();
        for source in sources {
            let NodeKind::Map(entries) = &source.kind else {
                return Err(Diagnostic::error(source.span, "a merge key `<<` takes a mapping or a list of mappings")
                    .with_help("write `<<: *anchor` where `&anchor` names a mapping"));
            };
            for e in entries {
                if taken.insert(key_text(&e.key).to_string()) {
                    merged.push(e.clone());
                }
            }
        }
        Ok(())
    }
}

/// Turns the parser's message into a diagnostic that points at the cause and says what to do.
fn scan_error(file: &SourceFile, at: usize, info: &str) -> Diagnostic {
    let text = file.text();
    let at = at.min(text.len());
    if info.contains("found a tab") || info.contains("tabs") {
        let tab = text[at..].find('\t').map_or(at, |i| at + i);
        return Diagnostic::error(
            Span::new(tab, (tab + 1).min(text.len())),
            "invalid YAML: a tab character where YAML needs spaces",
        )
        .with_label("tab")
        .with_help("YAML indents with spaces; replace the tab with spaces");
    }
    // One character at the error, or an empty span at the end of the file.
    let here = Span::new(at, text[at..].chars().next().map_or(at, |c| at + c.len_utf8()));
    let mut d = Diagnostic::error(here, format!("invalid YAML: {info}")).with_label("here");
    if info.contains("unknown anchor") {
        let name: String =
            text[at..].chars().skip(1).take_while(|c| !c.is_whitespace() && !",]}".contains(*c)).collect();
        return Diagnostic::error(
            Span::new(at, (at + 1 + name.len()).min(text.len())),
            format!("invalid YAML: alias `*{name}` names no anchor"),
        )
        .with_help(format!(
            "define the value first with `&{name}`, e.g. `values: &{name} [...]`, then write `*{name}`"
        ));
    }
    let (error_line, error_col) = file.line_col(at as u32);
    let before: String = file.line_text(error_line).chars().take(error_col.saturating_sub(1)).collect();
    if let Some(k) = before.find(": [").or_else(|| before.find(": {")).or_else(|| before.find("- [")) {
        if before[k + 2..].contains(']') || before[k + 2..].contains('}') {
            return d.with_help(
                "YAML reads a value that starts with `[` or `{` as a list or a mapping: quote a formula that starts with one",
            );
        }
    }
    let open = unclosed_bracket(text, at).map(|o| (o, file.line_col(o as u32)));
    if let Some((open, (line, col))) = open.filter(|(_, (line, _))| *line < error_line) {
        let c = &text[open..open + 1];
        d = d.with_note(format!("the `{c}` on line {line}, column {col} is never closed"));
    } else if info.contains("flow") {
        d = d.with_help(
            "inside `{...}` or `[...]`, quote a value that contains `[`, `]`, `{`, `}` or `,`, e.g. `\"image[28x28]\"`",
        );
    } else if info.contains("mapping values are not allowed") || info.contains("did not find expected key") {
        d = d.with_help(
            "check the indentation of this line and of the lines above it; a value with `: ` in it must be quoted",
        );
    }
    d
}

/// The last `[` or `{` opened before `upto` and not closed, ignoring quoted text and comments.
fn unclosed_bracket(text: &str, upto: usize) -> Option<usize> {
    let mut stack = Vec::new();
    let mut quote: Option<char> = None;
    let mut comment = false;
    let mut prev = '\n';
    for (i, c) in text[..upto].char_indices() {
        match (quote, c) {
            _ if comment => comment = c != '\n',
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '#') if prev.is_whitespace() => comment = true,
            (None, '\'' | '"') if !prev.is_alphanumeric() => quote = Some(c),
            (None, '[' | '{') => stack.push(i),
            (None, ']' | '}') => {
                stack.pop();
            }
            _ => {}
        }
        prev = c;
    }
    stack.pop()
}

fn size(node: &Node) -> usize {
    match &node.kind {
        NodeKind::Scalar(_) => 1,
        NodeKind::Seq(items) => 1 + items.iter().map(size).sum::<usize>(),
        NodeKind::Map(entries) => 1 + entries.iter().map(|e| size(&e.key) + size(&e.value)).sum::<usize>(),
    }
}

/// YAML tags name types of other languages (`!!python/object/apply:os.system`); a spec has none.
fn tag_error(tag: &Tag, span: Span) -> Diagnostic {
    let shown = if tag.is_yaml_core_schema() { format!("!!{}", tag.suffix) } else { tag.to_string() };
    Diagnostic::error(span, format!("YAML tag `{shown}` is not part of SKI-lang"))
        .with_help("remove the tag: a spec's values are plain YAML strings, numbers, lists and mappings")
}

pub fn key_text(node: &Node) -> &str {
    node.as_scalar().map_or("", |s| s.text.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Node, Diagnostic> {
        parse(&SourceFile::new("t.yaml", text.to_string()))
    }

    fn get<'n>(node: &'n Node, key: &str) -> &'n Node {
        let NodeKind::Map(entries) = &node.kind else { panic!("not a map") };
        &entries.iter().find(|e| key_text(&e.key) == key).unwrap().value
    }

    #[test]
    fn merge_keys_and_aliases() {
        let root = load("base: &b {a: 1, b: x}\nm:\n  <<: *b\n  b: y\n").unwrap();
        let m = get(&root, "m");
        assert_eq!(get(m, "a").as_scalar().unwrap().value(), ScalarValue::Int(1));
        assert_eq!(get(m, "b").as_scalar().unwrap().text, "y");
        // The merged value keeps the span of its definition.
        assert_eq!(get(m, "a").span, get(get(&root, "base"), "a").span);
    }

    #[test]
    fn duplicate_keys_and_bad_yaml_are_located() {
        let e = load("a: 1\na: 2\n").unwrap_err();
        assert_eq!(e.span.start, 5);
        let e = load("a: [1, 2\n").unwrap_err();
        assert!(e.message.starts_with("invalid YAML"), "{}", e.message);
    }

    #[test]
    fn exponential_aliases_are_refused() {
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let p = i - 1;
            doc += &format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n");
        }
        let e = load(&doc).unwrap_err();
        assert!(e.message.contains("more than") && e.notes[0].contains("aliases"), "{e:?}");
    }

    #[test]
    fn tags_are_refused_except_str() {
        let e = load("a: !!python/object/apply:os.system [ls]\n").unwrap_err();
        assert!(e.message.contains("`!!python/object/apply:os.system`"), "{}", e.message);
        assert!(load("a: !custom {b: 1}\n").unwrap_err().message.contains("`!custom`"));
        assert!(load("a: !!int 3\n").is_err());
        let root = load("a: !!str 3\n").unwrap();
        assert_eq!(get(&root, "a").as_scalar().unwrap().value(), ScalarValue::Str("3"));
    }

    #[test]
    fn block_scalar_offsets_point_into_the_file() {
        let text = "c: |\n  sum(x)\n    + 1\n";
        let file = SourceFile::new("t.yaml", text.to_string());
        let root = parse(&file).unwrap();
        let c = get(&root, "c");
        let value = &c.as_scalar().unwrap().text;
        let map = c.scalar_offsets(&file);
        let plus = value.find('+').unwrap();
        assert_eq!(&text[map[plus] as usize..map[plus] as usize + 1], "+");
        assert_eq!(file.line_col(map[plus]), (3, 5));
    }

    #[test]
    fn core_schema_scalars() {
        let root = load("a: 1\nb: 1.5\nc: true\nd: '1'\ne: ~\nf: 1e-3\ng: 1.2.3\n").unwrap();
        let v = |k| get(&root, k).as_scalar().unwrap().value();
        assert_eq!(v("a"), ScalarValue::Int(1));
        assert_eq!(v("b"), ScalarValue::Float(1.5));
        assert_eq!(v("c"), ScalarValue::Bool(true));
        assert_eq!(v("d"), ScalarValue::Str("1"));
        assert_eq!(v("e"), ScalarValue::Null);
        assert_eq!(v("f"), ScalarValue::Float(1e-3));
        assert_eq!(v("g"), ScalarValue::Str("1.2.3"));
    }
}
