//! Reads the located YAML tree into the typed document model. Every unknown key, wrong value type or
//! out-of-range value becomes a diagnostic at its location; reading goes on so that one run reports
//! every problem. One file per section, as the grammar splits: data.rs, optimization.rs,
//! learnables.rs, knowledge.rs (rules and constraints); here, the reader and its scalar readers.

mod cnf;
mod data;
mod knowledge;
mod learnables;
mod optimization;

use super::keys::{self, Key, SECTIONS};
use super::model::*;
use crate::diag::{suggest, Diagnostic};
use crate::formula::{self, Expr, ExprId, ExprKind, Ident};
use crate::source::{SourceFile, Span, Spanned};
use crate::yaml::{key_text, Entry, Node, NodeKind, ScalarValue};

pub(crate) struct Reader<'a> {
    file: &'a SourceFile,
    /// Where `--set` put values.
    set: &'a [Span],
    /// Hyphenated dataset and column names (the prototype's `capital-gain`), each read as its
    /// name with `_` (`capital_gain`), which formulas can spell.
    dashed: Vec<String>,
    pub diags: Vec<Diagnostic>,
    next_id: u32,
    unreadable: Unreadable,
}

/// The keys of one mapping, checked against the keys it may have.
struct Map<'n> {
    entries: &'n [Entry],
    span: Span,
    /// Whether a key was unknown (reported, with its likely spelling): what the mapping then
    /// lacks is not reported again.
    misspelt: bool,
}

impl<'n> Map<'n> {
    fn get(&self, key: &str) -> Option<&'n Node> {
        self.entry(key).map(|e| &e.value)
    }

    fn entry(&self, key: &str) -> Option<&'n Entry> {
        self.entries.iter().find(|e| key_text(&e.key) == key)
    }

    /// The first of several spellings that is present.
    fn get_any(&self, keys: &[&str]) -> Option<&'n Node> {
        keys.iter().find_map(|k| self.get(k))
    }
}

/// Keys whose likeliest meaning is not the closest spelling.
const MISSPELT: &[(&str, &str)] = &[("iif", "did you mean `iff`? (`iff: A` with `then: B`, or `iff: [A, B]`)")];
/// Keys of the SKI-lang prototype's dialect, and what to write instead.
const PROTOTYPE_HINTS: &[(&str, &str)] = &[
    ("type", "remove `type`: a network is built from `layers` or `architecture`, and its classes come from its `output` column"),
    ("destination", "`skilang train --out DIR` writes the trained model to DIR/model: remove `destination`"),
    ("preprocess", "declare every column of the file in `features` and leave the ones to drop out of the learnable's `input` (`remove`); `?` is read as missing, or list it among a column's `values` (`replace`)"),
    ("metric", "write `metrics: [accuracy, macro_f1]`"),
    ("structure", "write the network as `layers: [{linear: {output: 256, activation: relu}}, {linear: {}}]`, or `architecture: mlp`"),
];

/// The entries of a mapping, or of a list of one-key mappings (the prototype writes both).
fn pairs(node: &Node) -> Option<Vec<&Entry>> {
    match &node.kind {
        NodeKind::Map(entries) => Some(entries.iter().collect()),
        NodeKind::Seq(items) => items
            .iter()
            .map(|i| match &i.kind {
                NodeKind::Map(m) if m.len() == 1 => m.first(),
                _ => None,
            })
            .collect(),
        NodeKind::Scalar(_) => None,
    }
}

pub(crate) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_') && chars.all(|c| c.is_alphanumeric() || c == '_')
}

const RESERVED: &[&str] = &["and", "or", "not", "if", "else", "for", "in", "True", "False", "lambda", "is", "None"];

impl<'a> Reader<'a> {
    pub fn new(file: &'a SourceFile, set: &'a [Span]) -> Self {
        Reader { file, set, dashed: Vec::new(), diags: Vec::new(), next_id: 0, unreadable: Unreadable::default() }
    }

    fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn map<'n>(&mut self, node: &'n Node, what: &str, table: &[Key]) -> Option<Map<'n>> {
        let known = keys::names(table);
        let NodeKind::Map(entries) = &node.kind else {
            let d = Diagnostic::error(node.span, format!("{what} must be a mapping, found {}", node.describe()));
            self.error(d);
            return None;
        };
        for e in entries {
            let key = key_text(&e.key);
            if !known.contains(&key) {
                let d = Diagnostic::error(e.key.span, format!("unknown key `{key}` in {what}"));
                let d = match PROTOTYPE_HINTS.iter().chain(MISSPELT).find(|(k, _)| *k == key) {
                    Some((_, hint)) => d.with_help(*hint),
                    None => d,
                };
                let d = suggest(d, key, known.iter().copied())
                    .with_note(format!("the keys of {what} are: {}", known.join(", ")));
                self.error(d);
            }
        }
        let misspelt = entries.iter().any(|e| !known.contains(&key_text(&e.key)));
        Some(Map { entries, span: node.span, misspelt })
    }

    fn list<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n [Node]> {
        match &node.kind {
            NodeKind::Seq(items) => Some(items),
            _ => {
                self.error(Diagnostic::error(node.span, format!("{what} must be a list, found {}", node.describe())));
                None
            }
        }
    }

    fn text(&mut self, node: &Node, what: &str) -> Option<Spanned<String>> {
        match node.as_scalar().map(|s| s.value()) {
            Some(ScalarValue::Str(s)) => Some(Spanned::new(s.to_string(), node.span)),
            _ => {
                self.error(Diagnostic::error(node.span, format!("{what} must be a string, found {}", node.describe())));
                None
            }
        }
    }

    fn ident(&mut self, node: &Node, what: &str) -> Option<Ident> {
        let text = self.text(node, what)?;
        if !is_identifier(&text.value) || RESERVED.contains(&text.value.as_str()) {
            self.error(
                Diagnostic::error(node.span, format!("`{}` is not a valid name for {what}", text.value)).with_help(
                    "names start with a letter or `_` and continue with letters, digits and `_`; keywords are reserved",
                ),
            );
            return None;
        }
        Some(Ident { name: text.value, span: text.span })
    }

    fn key_ident(&mut self, entry: &Entry, what: &str) -> Option<Ident> {
        self.ident(&entry.key, what)
    }

    /// A dataset or column name: an identifier, or a hyphenated name such as the UCI files'
    /// `capital-gain`, read as `capital_gain`.
    fn data_name(&mut self, node: &Node, what: &str) -> Option<Ident> {
        let text = node.as_scalar().map(|s| s.text.as_str()).unwrap_or_default();
        let underscored = text.replace('-', "_");
        if text.contains('-') && is_identifier(&underscored) && !RESERVED.contains(&underscored.as_str()) {
            if !self.dashed.iter().any(|d| d == text) {
                self.dashed.push(text.to_string());
            }
            return Some(Ident { name: underscored, span: node.span });
        }
        self.ident(node, what)
    }

    fn number(&mut self, node: &Node, what: &str) -> Option<Spanned<f64>> {
        match node.as_scalar().map(|s| s.value()) {
            Some(ScalarValue::Int(i)) => Some(Spanned::new(i as f64, node.span)),
            Some(ScalarValue::Float(f)) if f.is_finite() => Some(Spanned::new(f, node.span)),
            _ => {
                self.error(Diagnostic::error(node.span, format!("{what} must be a number, found {}", node.describe())));
                None
            }
        }
    }

    /// A number in `[lo, hi]` (or `(lo, hi]` when `open_lo`).
    fn number_in(&mut self, node: &Node, what: &str, lo: f64, hi: f64, open_lo: bool) -> Option<Spanned<f64>> {
        let n = self.number(node, what)?;
        let ok = if open_lo { n.value > lo } else { n.value >= lo } && n.value <= hi;
        if !ok {
            let range = if hi.is_infinite() {
                format!("{} {lo}", if open_lo { "greater than" } else { "at least" })
            } else {
                format!("between {lo} and {hi}")
            };
            self.error(Diagnostic::error(node.span, format!("{what} must be {range}, found {}", n.value)));
            return None;
        }
        Some(n)
    }

    fn uint(&mut self, node: &Node, what: &str, min: u64) -> Option<Spanned<u64>> {
        match node.as_scalar().map(|s| s.value()) {
            Some(ScalarValue::Int(i)) if i >= min as i64 => Some(Spanned::new(i as u64, node.span)),
            Some(ScalarValue::Int(i)) => {
                self.error(Diagnostic::error(node.span, format!("{what} must be at least {min}, found {i}")));
                None
            }
            _ => {
                self.error(Diagnostic::error(
                    node.span,
                    format!("{what} must be a whole number, found {}", node.describe()),
                ));
                None
            }
        }
    }

    fn u32(&mut self, node: &Node, what: &str, min: u64) -> Option<u32> {
        let n = self.uint(node, what, min)?;
        match u32::try_from(n.value) {
            Ok(v) => Some(v),
            Err(_) => {
                self.error(Diagnostic::error(node.span, format!("{what} is too large")));
                None
            }
        }
    }

    fn boolean(&mut self, node: &Node, what: &str) -> Option<Spanned<bool>> {
        match node.as_scalar().map(|s| s.value()) {
            Some(ScalarValue::Bool(b)) => Some(Spanned::new(b, node.span)),
            _ => {
                self.error(Diagnostic::error(
                    node.span,
                    format!("{what} must be true or false, found {}", node.describe()),
                ));
                None
            }
        }
    }

    fn keyword<K: Copy>(&mut self, node: &Node, what: &str, spellings: &[(&str, K)]) -> Option<Spanned<K>> {
        let text = self.text(node, what)?;
        if let Some((_, k)) = spellings.iter().find(|(s, _)| *s == text.value) {
            return Some(Spanned::new(*k, node.span));
        }
        let names: Vec<&str> = spellings.iter().map(|(s, _)| *s).collect();
        let d = Diagnostic::error(node.span, format!("unknown {what} `{}`", text.value));
        let d =
            suggest(d, &text.value, names.iter().copied()).with_note(format!("expected one of: {}", names.join(", ")));
        self.error(d);
        None
    }

    /// A formula written as a YAML scalar. When it cannot be read, the problem is reported and an
    /// `Error` node stands in for it, so that what refers to it is still checked without cascades.
    fn formula(&mut self, node: &Node, what: &str) -> Formula {
        let failed = |r: &mut Self| Formula {
            text: String::new(),
            expr: Expr { id: r.fresh_id(), span: node.span, kind: ExprKind::Error },
        };
        let Some(scalar) = node.as_scalar() else {
            let d = Diagnostic::error(node.span, format!("{what} must be a formula, found {}", node.describe()))
                .with_help(
                    "YAML reads `[...]` and `{...}` as lists and mappings: quote a formula that starts with `[` or `{`",
                );
            self.error(d);
            return failed(self);
        };
        let text = self.underscore_dashed(&scalar.text);
        if text.trim().is_empty() {
            self.error(
                Diagnostic::error(node.span, format!("{what} is empty")).with_label("a formula is expected here"),
            );
            return failed(self);
        }
        let offsets = node.scalar_offsets(self.file);
        match formula::parse(&text, &offsets, &mut self.next_id) {
            Ok(expr) => Formula { text: text.trim().to_string(), expr },
            Err(d) => {
                self.error(d);
                Formula { text: text.trim().to_string(), ..failed(self) }
            }
        }
    }

    /// `text` with every hyphenated name declared so far written with `_`: the same length, so
    /// positions in it still point into the file.
    fn underscore_dashed(&self, text: &str) -> String {
        let mut out = text.to_string();
        for name in &self.dashed {
            let mut from = 0;
            while let Some(at) = out[from..].find(name.as_str()).map(|i| i + from) {
                let end = at + name.len();
                let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-');
                if !word(out[..at].chars().next_back()) && !word(out[end..].chars().next()) {
                    out.replace_range(at..end, &name.replace('-', "_"));
                }
                from = end;
            }
        }
        out
    }

    pub fn spec(&mut self, root: &Node) -> Option<Spec> {
        let top = self.map(root, "the spec", SECTIONS)?;
        // A misspelt section (`knowlege:`) is one error: what it declares is not reported again.
        for e in top.entries {
            let key = key_text(&e.key);
            if let Some(meant) =
                crate::diag::did_you_mean(key, keys::names(SECTIONS)).filter(|_| !keys::has(SECTIONS, key))
            {
                self.unreadable.sections.insert(if meant == "learnable" { "learnables" } else { meant });
            }
        }
        if top.get("learnable").is_some() && top.get("learnables").is_some() {
            let e = top.entry("learnable").map_or(root.span, |e| e.key.span);
            self.error(
                Diagnostic::error(e, "both `learnable` and `learnables` are given")
                    .with_help("merge them into `learnables`"),
            );
        }
        let mut datasets = match top.get("data") {
            Some(n) => self.named_section(n, "data", "dataset", Self::dataset),
            None => {
                self.unreadable.sections.insert("data");
                self.error(Diagnostic::error(Span::new(0, 0), "the spec has no `data` section").with_help(
                    "declare at least one dataset: `data: {mnist: {source: mnist, features: [...], targets: [...]}}`",
                ));
                Vec::new()
            }
        };
        if let Some(n) = top.get("instances") {
            self.top_level_instances(n, &mut datasets);
        }
        let optimization = top.get("optimization").map(|n| self.optimization(n)).unwrap_or_default();
        let learnables = match top.get_any(&["learnables", "learnable"]) {
            Some(n) => self.named_section(n, "learnables", "network", Self::learnable),
            None => {
                self.unreadable.sections.insert("learnables");
                self.error(Diagnostic::error(Span::new(0, 0), "the spec has no `learnables` section")
                    .with_help("declare the networks to train, e.g. `learnables: {digit: {input: mnist.image, output: mnist.value, architecture: lenet}}`"));
                Vec::new()
            }
        };
        let rules = top.get("knowledge").map(|n| self.rules(n)).unwrap_or_default();
        let constraints = top.get("constraints").map(|n| self.constraints(n)).unwrap_or_default();
        let evaluation = top.get("evaluation").map(|n| self.evaluation(n)).unwrap_or_default();
        self.unreadable.any = self.diags.iter().any(Diagnostic::is_error);
        let unreadable = std::mem::take(&mut self.unreadable);
        Some(Spec { datasets, optimization, learnables, rules, constraints, evaluation, unreadable })
    }

    /// A section that maps names to declarations (`data`, `learnables`). Names whose declaration
    /// failed are remembered, so that references to them are not reported again.
    fn named_section<T>(
        &mut self,
        node: &Node,
        section: &'static str,
        kind: &str,
        read: fn(&mut Self, &Entry) -> Option<T>,
    ) -> Vec<T> {
        let NodeKind::Map(entries) = &node.kind else {
            self.unreadable.sections.insert(section);
            let found = node.describe();
            self.error(Diagnostic::error(node.span, format!("`{section}` must map names to {kind}s, found {found}")));
            return Vec::new();
        };
        if entries.is_empty() {
            self.error(Diagnostic::error(node.span, format!("`{section}` declares no {kind}")));
        }
        let mut out = Vec::new();
        for e in entries {
            match read(self, e) {
                Some(t) => out.push(t),
                None => {
                    let name = key_text(&e.key);
                    self.unreadable.names.insert(name.to_string());
                    if !is_identifier(name) {
                        self.unreadable.sections.insert(section);
                    }
                    if section == "data" {
                        // A dataset declares instances and value names too.
                        self.unreadable.sections.extend(["instances", "values"]);
                    }
                }
            }
        }
        out
    }

    fn fresh_id(&mut self) -> ExprId {
        self.next_id += 1;
        ExprId(self.next_id - 1)
    }
}
