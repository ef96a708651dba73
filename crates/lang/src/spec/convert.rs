//! Reads the located YAML tree into the typed document model. Every unknown key, wrong value type or
//! out-of-range value becomes a diagnostic at its location; reading goes on so that one run reports
//! every problem.

use super::model::*;
use crate::diag::{suggest, Diagnostic};
use crate::formula::{self, Expr, ExprId, ExprKind, Ident};
use crate::source::{SourceFile, Span, Spanned};
use crate::yaml::{key_text, Entry, Node, NodeKind, ScalarValue};
use std::collections::{HashMap, HashSet};

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

const SECTIONS: &[&str] = &["data", "instances", "optimization", "learnables", "learnable", "knowledge", "constraints"];
const DATASET_KEYS: &[&str] = &[
    "source",
    "training",
    "train",
    "dataset",
    "test",
    "split",
    "fraction",
    "labelled",
    "sampled",
    "features",
    "targets",
    "target",
    "instances",
    "instance_name",
    "examples",
];
const FILE_KEYS: &[&str] = &["file", "file_name", "uri", "unpack", "format", "type", "separator", "split"];
const COLUMN_KEYS: &[&str] = &["name", "type", "values", "mapping"];
const OPTIMIZATION_KEYS: &[&str] = &[
    "injection",
    "inference",
    "optimizer",
    "semantics",
    "implication",
    "loss",
    "epochs",
    "batch_size",
    "learning_rate",
    "weight_decay",
    "momentum",
    "seed",
    "hard",
    "m_steps",
    "samples",
    "top_k",
    "patience",
    "validation",
    "metrics",
];
const LEARNABLE_KEYS: &[&str] =
    &["dataset", "type", "input", "inputs", "output", "outputs", "architecture", "hidden", "layers", "encodings"];
/// The prototype's `type` of a learnable: the feed-forward network its `layers` build.
const NETWORK_TYPES: &[&str] = &["neural_network", "feed_forward", "feed-forward"];
const RULE_KEYS: &[&str] = &["rule", "args", "clause"];
const CONSTRAINT_KEYS: &[&str] = &["always", "never", "if", "then", "iff", "weight", "name"];
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

const LAYER_KINDS: &[&str] =
    &["linear", "conv2d", "maxpool", "avgpool", "dropout", "batchnorm", "flatten", "activation"];

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

    fn map<'n>(&mut self, node: &'n Node, what: &str, known: &[&str]) -> Option<Map<'n>> {
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
                crate::diag::did_you_mean(key, SECTIONS.iter().copied()).filter(|_| !SECTIONS.contains(&key))
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
        self.unreadable.any = self.diags.iter().any(Diagnostic::is_error);
        let unreadable = std::mem::take(&mut self.unreadable);
        Some(Spec { datasets, optimization, learnables, rules, constraints, unreadable })
    }

    /// The prototype's top-level `instances: [{hand: poker-hand}]`: the instance variable of one
    /// example of a dataset, which SKI-lang declares in the dataset as `instance_name: hand`.
    fn top_level_instances(&mut self, node: &Node, datasets: &mut [Dataset]) {
        let entries = pairs(node).unwrap_or_default();
        if entries.is_empty() {
            self.error(
                Diagnostic::error(node.span, "`instances` must map instance names to datasets, e.g. `[{hand: poker}]`")
                    .with_help("or declare it in the dataset: `data: {poker: {instance_name: hand, ...}}`"),
            );
            return;
        }
        for e in entries {
            let Some(name) = self.key_ident(e, "an instance") else { continue };
            let Some(target) = self.data_name(&e.value, "a dataset") else { continue };
            match datasets.iter_mut().find(|d| d.name.name == target.name) {
                Some(d) if d.instances.is_empty() => d.instances.push(InstanceDecl { name, count: None }),
                Some(d) => self.error(
                    Diagnostic::error(e.key.span, format!("dataset `{}` declares its instances already", d.name.name))
                        .with_help("declare instances in one place: the dataset's `instances` or `instance_name`"),
                ),
                None if self.unreadable.names.contains(&target.name) => {
                    self.unreadable.names.insert(name.name);
                }
                None => {
                    self.unreadable.names.insert(name.name.clone());
                    let d = Diagnostic::error(target.span, format!("unknown dataset `{}`", target.name)).with_note(
                        format!("or declare the instance in its dataset: `data.DATASET.instance_name: {}`", name.name),
                    );
                    let names: Vec<String> = datasets.iter().map(|d| d.name.name.clone()).collect();
                    self.error(suggest(d, &target.name, names.iter().map(String::as_str)));
                }
            }
        }
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

    fn dataset(&mut self, entry: &Entry) -> Option<Dataset> {
        // A name that is refused does not hide the mistakes in the declaration: it is read all
        // the same, and then dropped.
        let named = self.data_name(&entry.key, "a dataset");
        let name =
            named.clone().unwrap_or_else(|| Ident { name: key_text(&entry.key).to_string(), span: entry.key.span });
        let what = format!("dataset `{}`", name.name);
        let m = self.map(&entry.value, &what, DATASET_KEYS)?;
        let source = m.get("source").and_then(|n| self.keyword(n, "built-in dataset", BuiltinSource::SPELLINGS));
        // The prototype's `dataset:` is the one file that `split` divides.
        let training_node = match (self.either(&m, &what, "training", "train"), m.entry("dataset")) {
            (Some(t), Some(d)) => {
                self.error(
                    Diagnostic::error(d.key.span, format!("{what} has both `training` and `dataset`"))
                        .with_help("they say the same: keep one"),
                );
                Some(t)
            }
            (t, d) => t.or(d.map(|d| &d.value)),
        };
        let training = training_node.and_then(|n| self.data_file(n, "`training`"));
        let test = m.get("test").and_then(|n| self.data_file(n, "`test`"));
        if let (Some(_), Some(t)) = (m.get("source"), training_node) {
            self.error(
                Diagnostic::error(t.span, format!("{what} has both `source` and `training`"))
                    .with_help("a dataset comes either from a built-in `source` or from `training`/`test` files"),
            );
        } else if m.get("source").is_none() && training_node.is_none() {
            self.error(Diagnostic::error(name.span, format!("{what} says nowhere where its data comes from"))
                .with_help("add `source: mnist` (or fashion-mnist, cifar10, adult, poker-hand), or `training: {file: ..., format: csv}`"));
        }
        // The prototype writes `split` inside the file entry; a `test` entry that merged the
        // training entry's keys carries it too, and means nothing by it.
        let inner_split = training_node.and_then(|n| match &n.kind {
            NodeKind::Map(entries) => entries.iter().find(|e| key_text(&e.key) == "split").map(|e| &e.value),
            _ => None,
        });
        let split = m.get("split").or(inner_split).and_then(|n| self.split(n));
        let fraction = m.get("fraction").and_then(|n| self.number_in(n, "`fraction`", 0.0, 1.0, true));
        let labelled = m.get("labelled").and_then(|n| self.number_in(n, "`labelled`", 0.0, 1.0, true));
        // A misspelt `featurs:` was reported with the spelling to use.
        let misspelt = m.entries.iter().any(|e| {
            let key = key_text(&e.key);
            !DATASET_KEYS.contains(&key) && crate::diag::did_you_mean(key, ["features"]).is_some()
        });
        let features = match m.get("features") {
            Some(n) => self.columns(n, "`features`", &name.name),
            None if misspelt => {
                self.unreadable.columns.insert(format!("{}.*", name.name));
                Vec::new()
            }
            None => {
                self.unreadable.columns.insert(format!("{}.*", name.name));
                self.error(
                    Diagnostic::error(name.span, format!("{what} declares no `features`"))
                        .with_help("list the input columns, e.g. `features: [{name: image, type: image[28x28]}]`"),
                );
                Vec::new()
            }
        };
        let targets = match self.either(&m, &what, "targets", "target") {
            // The prototype's `target: {name: ..., values: ...}`: one column, not a list.
            Some(n) if m.get("target").is_some() && matches!(n.kind, NodeKind::Map(_)) => {
                self.column_list(std::slice::from_ref(n), &name.name)
            }
            Some(n) => self.columns(n, "`targets`", &name.name),
            None => Vec::new(),
        };
        let mut seen: Vec<&Column> = Vec::new();
        for c in features.iter().chain(&targets) {
            if let Some(first) = seen.iter().find(|s| s.name.name == c.name.name) {
                let (line, _) = self.file.line_col(first.name.span.start);
                self.error(
                    Diagnostic::error(c.name.span, format!("column `{}` is declared twice", c.name.name))
                        .with_note(format!("first declared on line {line}")),
                );
            } else {
                seen.push(c);
            }
        }
        let sampled = m.get("sampled").and_then(|n| self.uint(n, "`sampled`", 1));
        let undeclared = features.iter().find(|c| !matches!(c.ty, ColumnType::Category(_) | ColumnType::Bool));
        if let (Some(s), Some(c)) = (&sampled, undeclared) {
            let (line, _) = self.file.line_col(c.name.span.start);
            self.error(
                Diagnostic::error(
                    s.span,
                    format!(
                        "`sampled` draws inputs from the features' declared values, but `{}` declares none",
                        c.name.name
                    ),
                )
                .with_note(format!("`{}` is declared on line {line}", c.name.name))
                .with_help("sample only datasets whose features are all categories (`values: [...]`) or `bool`"),
            );
        }
        let instances = self.instances(&m, &what);
        let examples = m.get("examples").and_then(|n| self.uint(n, "`examples`", 1));
        named?;
        Some(Dataset {
            name,
            source,
            training,
            test,
            split,
            fraction,
            labelled,
            sampled,
            features,
            targets,
            instances,
            examples,
        })
    }

    /// The value of key `a`, or of `b` that means the same (the prototype's spelling); not both.
    fn either<'n>(&mut self, m: &Map<'n>, what: &str, a: &str, b: &str) -> Option<&'n Node> {
        match (m.entry(a), m.entry(b)) {
            (Some(_), Some(e)) => {
                self.error(
                    Diagnostic::error(e.key.span, format!("{what} has both `{a}` and `{b}`"))
                        .with_help("they say the same: keep one"),
                );
                None
            }
            (x, y) => x.or(y).map(|e| &e.value),
        }
    }

    fn data_file(&mut self, node: &Node, what: &str) -> Option<DataFile> {
        if node.as_scalar().is_some() {
            let path = self.text(node, what)?;
            let path = self.data_path(path)?;
            return Some(DataFile { path, origin: None, unpack: None, format: None, separator: None, span: node.span });
        }
        let m = self.map(node, what, FILE_KEYS)?;
        let written = self.either(&m, what, "file", "file_name");
        let file = written.and_then(|n| self.text(n, "`file`")).and_then(|f| self.data_path(f));
        if written.is_some() && file.is_none() {
            return None;
        }
        let uri = m.get("uri").and_then(|n| self.text(n, "`uri`"));
        let unpack = m.get("unpack").and_then(|n| self.text(n, "`unpack`"));
        // A downloaded file is looked for in the data directory under the name it unpacks to.
        let path = match (file, &uri, &unpack) {
            (Some(f), _, _) => f,
            (None, _, Some(member)) => {
                Spanned::new(member.value.rsplit('/').next().unwrap_or_default().to_string(), member.span)
            }
            (None, Some(u), None) => {
                let name = u.value.split(['?', '#']).next().unwrap_or_default().rsplit('/').next().unwrap_or_default();
                if [".zip", ".tar", ".tar.gz", ".tgz"].iter().any(|x| name.ends_with(x)) {
                    self.error(
                        Diagnostic::error(u.span, format!("`{name}` is an archive"))
                            .with_help("name the file to read from it with `unpack: FILE`"),
                    );
                }
                Spanned::new(name.to_string(), u.span)
            }
            (None, None, None) => {
                self.error(
                    Diagnostic::error(node.span, format!("{what} needs a `file`"))
                        .with_help("write `file: PATH` (relative to the data directory), or `uri: URL`"),
                );
                return None;
            }
        };
        if let (Some(member), None) = (&unpack, &uri) {
            self.error(
                Diagnostic::error(member.span, "`unpack` names a file inside the archive that `uri` downloads")
                    .with_help("add `uri: URL`, or write `file: PATH` for a file you have"),
            );
        }
        let origin = uri.map(|u| match &unpack {
            Some(member) => format!("{}, unpacking {}", u.value, member.value),
            None => u.value,
        });
        let (format, mut separator) = match (self.either(&m, what, "format", "type"), m.get("type")) {
            (Some(f), None) => (self.keyword(f, "file format", FileFormat::SPELLINGS), None),
            (Some(t), Some(_)) => match self.file_type(t) {
                Some((f, sep)) => (Some(f), sep),
                None => (None, None),
            },
            (None, _) => (None, None),
        };
        if let Some(sep) = m.get("separator").and_then(|n| self.text(n, "`separator`")) {
            if separator.as_ref().is_some_and(|s| s.value != sep.value) {
                self.error(Diagnostic::error(sep.span, "`separator` disagrees with the one in `type`"));
            }
            separator = Some(sep);
        }
        if let Some(sep) = &separator {
            if sep.value.is_empty() {
                self.error(Diagnostic::error(sep.span, "`separator` is empty"));
            }
        }
        let unpack = unpack.map(|u| u.value);
        Some(DataFile { path, origin, unpack, format, separator, span: m.span })
    }

    /// A data file's path: inside the data directory. A spec may be shared, so it reads no file
    /// outside it (`../../etc/passwd`); an absolute path is taken from the command line only.
    fn data_path(&mut self, path: Spanned<String>) -> Option<Spanned<String>> {
        let p = std::path::Path::new(&path.value);
        let help = "data files are read from the data directory (--data-dir, SKILANG_DATA): write the path inside it, or give an absolute path on the command line with --set";
        if p.components().any(|c| c == std::path::Component::ParentDir) {
            self.error(
                Diagnostic::error(path.span, format!("`{}` leaves the data directory", path.value)).with_help(help),
            );
            return None;
        }
        if p.has_root() && !self.set.contains(&path.span) {
            self.error(
                Diagnostic::error(path.span, format!("`{}` is an absolute path written in the spec", path.value))
                    .with_help(help),
            );
            return None;
        }
        Some(path)
    }

    /// The prototype's `type: csv(',')`: a format and, in parentheses, the separator.
    fn file_type(&mut self, node: &Node) -> Option<(Spanned<FileFormat>, Option<Spanned<String>>)> {
        let text = self.text(node, "`type`")?;
        let t = text.value.trim();
        let (name, argument) = match t.split_once('(') {
            Some((name, rest)) => (name.trim(), Some(rest.strip_suffix(')'))),
            None => (t, None),
        };
        let format = FileFormat::SPELLINGS.iter().find(|(s, _)| *s == name).map(|&(_, f)| f);
        let separator = match argument {
            None => None,
            Some(Some(a)) => {
                let a = a.trim();
                let quoted = ['\'', '"'].iter().find_map(|q| a.strip_prefix(*q).and_then(|a| a.strip_suffix(*q)));
                match quoted {
                    Some(sep) if format == Some(FileFormat::Csv) => Some(Spanned::new(sep.to_string(), node.span)),
                    _ => None,
                }
                .or_else(|| {
                    self.error(
                        Diagnostic::error(node.span, format!("cannot read the separator in `{t}`"))
                            .with_help("write `type: csv(',')`, or `format: csv` with `separator: ','`"),
                    );
                    None
                })
            }
            Some(None) => {
                self.error(Diagnostic::error(node.span, format!("`{t}` is missing its closing `)`")));
                None
            }
        };
        let Some(format) = format else {
            let d = Diagnostic::error(node.span, format!("unknown file type `{name}`"));
            self.error(
                suggest(d, name, FileFormat::SPELLINGS.iter().map(|(s, _)| *s)).with_help("write `type: csv(',')`"),
            );
            return None;
        };
        Some((Spanned::new(format, node.span), separator))
    }

    fn split(&mut self, node: &Node) -> Option<Spanned<Split>> {
        let m = self.map(node, "`split`", &["train", "validation", "test"])?;
        let mut part = |key: &str| {
            m.get(key)
                .and_then(|n| self.number_in(n, &format!("`split.{key}`"), 0.0, 1.0, false))
                .map_or(0.0, |s| s.value)
        };
        let split = Split { train: part("train"), validation: part("validation"), test: part("test") };
        let total = split.train + split.validation + split.test;
        if (total - 1.0).abs() > 1e-6 {
            self.error(Diagnostic::error(node.span, format!("the shares of `split` add up to {total}, not 1")));
            return None;
        }
        if split.train == 0.0 {
            self.error(
                Diagnostic::error(node.span, "`split` leaves nothing to train on")
                    .with_help("give `train` a share above 0"),
            );
            return None;
        }
        Some(Spanned::new(split, node.span))
    }

    fn columns(&mut self, node: &Node, what: &str, dataset: &str) -> Vec<Column> {
        let Some(items) = self.list(node, what) else {
            self.unreadable.columns.insert(format!("{dataset}.*"));
            self.unreadable.sections.insert("values");
            return Vec::new();
        };
        self.column_list(items, dataset)
    }

    fn column_list(&mut self, items: &[Node], dataset: &str) -> Vec<Column> {
        let mut columns = Vec::new();
        for item in items {
            match self.column(item) {
                Some(c) => columns.push(c),
                None => {
                    let named = match &item.kind {
                        NodeKind::Map(entries) => {
                            entries.iter().find(|e| key_text(&e.key) == "name").map(|e| key_text(&e.value))
                        }
                        _ => None,
                    };
                    let column = named.map(|n| n.replace('-', "_")).filter(|n| is_identifier(n));
                    self.unreadable.columns.insert(format!("{dataset}.{}", column.as_deref().unwrap_or("*")));
                    self.unreadable.sections.insert("values");
                }
            }
        }
        columns
    }

    fn column(&mut self, node: &Node) -> Option<Column> {
        if let Some(ScalarValue::Str(name)) = node.as_scalar().map(|s| s.value()) {
            self.error(Diagnostic::error(node.span, format!("column `{name}` needs its type"))
                .with_help(format!("write `{{name: {name}, type: int}}` (or real, bool, image[HxW], vector[N]), or `{{name: {name}, values: [...]}}`")));
            return None;
        }
        // The prototype's earliest columns, `- in: suit1`, `- out: class` and `- group: suits`:
        // one error each.
        if let NodeKind::Map(entries) = &node.kind {
            if let Some(e) = entries
                .iter()
                .find(|e| key_text(&e.key) == "group" && !entries.iter().any(|n| key_text(&n.key) == "name"))
            {
                self.error(
                    Diagnostic::error(e.key.span, "a group of columns is not a column")
                        .with_help("declare each column, and name the group with a rule: `{rule: suits, args: [h], clause: \"[h.suit1, h.suit2]\"}`"),
                );
                return None;
            }
            if let Some(e) = entries.iter().find(|e| matches!(key_text(&e.key), "in" | "out")) {
                let name = key_text(&e.value);
                self.error(
                    Diagnostic::error(
                        e.key.span,
                        format!("`{}: {name}` is not a column declaration", key_text(&e.key)),
                    )
                    .with_help(format!(
                        "write `{{name: {name}, values: [...]}}` (or `type: int`) under `features` or `targets`"
                    )),
                );
                return None;
            }
        }
        let m = self.map(node, "a column", COLUMN_KEYS)?;
        let Some(name_node) = m.get("name") else {
            self.error(Diagnostic::error(node.span, "a column needs a `name`"));
            return None;
        };
        let name = self.data_name(name_node, "a column")?;
        let values = match (m.get("values"), m.get("mapping")) {
            (v, None) => v.and_then(|n| self.category_values(n, &name.name)),
            (None, Some(codes)) => self.category_values(codes, &name.name),
            (Some(v), Some(codes)) => self.mapped_values(v, codes, &name.name),
        };
        let ty = match (m.get("type"), values) {
            (None, Some(values)) => ColumnType::Category(values),
            (None, None) if m.get("values").or(m.get("mapping")).is_some() => return None, // reported
            // A misspelt key (`value:`) was reported with the spelling to use.
            (None, None) if m.misspelt => return None,
            (None, None) => {
                self.error(
                    Diagnostic::error(name.span, format!("column `{}` has neither `type` nor `values`", name.name))
                        .with_help(
                            "write `type: int`, `real`, `bool`, `image[28x28]`, `vector[10]`, or list its `values`",
                        ),
                );
                return None;
            }
            (Some(t), values) => self.column_type(t, values, &name.name)?,
        };
        Some(Column { name, ty, span: m.span })
    }

    fn column_type(&mut self, node: &Node, values: Option<Vec<CategoryValue>>, column: &str) -> Option<ColumnType> {
        let text = self.text(node, "a column `type`")?;
        let t = text.value.trim();
        let sized =
            |prefix: &str| t.strip_prefix(prefix).and_then(|r| r.strip_prefix('[')).and_then(|r| r.strip_suffix(']'));
        let ty = match t {
            "int" | "integer" => ColumnType::Int,
            "real" | "float" => ColumnType::Real,
            "bool" | "boolean" => ColumnType::Bool,
            "category" | "categorical" => {
                let Some(values) = values else {
                    self.error(Diagnostic::error(
                        node.span,
                        format!("categorical column `{column}` needs its `values`"),
                    ));
                    return None;
                };
                return Some(ColumnType::Category(values));
            }
            _ => {
                if let Some(dims) = sized("image") {
                    let parts: Vec<Option<u32>> =
                        dims.split('x').map(|d| d.trim().parse().ok().filter(|&v| v > 0)).collect();
                    match parts.as_slice() {
                        [Some(h), Some(w)] => ColumnType::Image { channels: 1, height: *h, width: *w },
                        [Some(c), Some(h), Some(w)] => ColumnType::Image { channels: *c, height: *h, width: *w },
                        _ => {
                            self.error(Diagnostic::error(node.span, format!("invalid image size `{dims}`")).with_help(
                                "write `image[HEIGHTxWIDTH]` or `image[CHANNELSxHEIGHTxWIDTH]`, e.g. `image[28x28]`",
                            ));
                            return None;
                        }
                    }
                } else if let Some(n) = sized("vector") {
                    match n.trim().parse::<u32>() {
                        Ok(n) if n > 0 => ColumnType::Vector(n),
                        _ => {
                            self.error(
                                Diagnostic::error(node.span, format!("invalid vector size `{n}`"))
                                    .with_help("write `vector[N]` with N ≥ 1"),
                            );
                            return None;
                        }
                    }
                } else {
                    let kinds = ["int", "real", "bool", "category", "image[HxW]", "vector[N]"];
                    let d = Diagnostic::error(node.span, format!("unknown column type `{t}`"));
                    let d = suggest(
                        d,
                        t,
                        ["int", "real", "bool", "category", "float", "integer", "boolean", "categorical"],
                    )
                    .with_note(format!("the column types are: {}", kinds.join(", ")));
                    self.error(d);
                    return None;
                }
            }
        };
        match (ty, values) {
            (ColumnType::Int, Some(values)) if values.iter().all(|v| matches!(v.value, Value::Int(_))) => {
                Some(ColumnType::Category(values))
            }
            (ty, Some(_)) => {
                self.error(Diagnostic::error(
                    node.span,
                    format!(
                        "column `{column}` has `values`, so its type must be `category` (or `int` for integer values)"
                    ),
                ));
                Some(ty)
            }
            (ty, None) => Some(ty),
        }
    }

    /// The prototype's `values: [names]` beside `mapping: {name: code}`. An integer value the
    /// mapping leaves out is its own code (the prototype's poker specs map only ace and the faces);
    /// a name it leaves out is one error at the mapping, which aliases may share between columns.
    fn mapped_values(&mut self, values: &Node, codes: &Node, column: &str) -> Option<Vec<CategoryValue>> {
        let names = self.category_values(values, column)?;
        let mapping = self.category_values(codes, column)?;
        let mut complete = true;
        let code_of: HashMap<&Value, Option<i64>> = mapping.iter().map(|c| (&c.value, c.code)).collect();
        let named: HashSet<&Value> = names.iter().map(|v| &v.value).collect();
        let mut uncoded = Vec::new();
        for v in &names {
            if v.code.is_some() {
                self.error(
                    Diagnostic::error(v.span, format!("`{}` has a code in `values` and in `mapping`", v.value))
                        .with_help("list the names in `values` and give their codes in `mapping`"),
                );
                complete = false;
            } else if !code_of.contains_key(&v.value) && !matches!(v.value, Value::Int(_)) {
                uncoded.push(format!("`{}`", v.value));
            }
        }
        if !uncoded.is_empty() {
            self.error(
                Diagnostic::error(codes.span, format!("`mapping` gives no code to {}", uncoded.join(", ")))
                    .with_help("give every name in `values` a code (an integer value without one is its own code)"),
            );
            complete = false;
        }
        for c in &mapping {
            if !named.contains(&c.value) {
                self.error(Diagnostic::error(c.span, format!("`{}` is not one of the `values`", c.value)));
                complete = false;
            }
        }
        let code = |v: &CategoryValue| match (code_of.get(&v.value), &v.value) {
            (Some(code), _) => *code,
            (None, Value::Int(i)) => Some(*i),
            (None, _) => None,
        };
        complete.then(|| names.iter().map(|v| CategoryValue { code: code(v), ..v.clone() }).collect())
    }

    fn category_values(&mut self, node: &Node, column: &str) -> Option<Vec<CategoryValue>> {
        let mut values = Vec::new();
        let scalar_value = |n: &Node| match n.as_scalar().map(|s| s.value()) {
            Some(ScalarValue::Int(i)) => Some(Value::Int(i)),
            Some(ScalarValue::Str(s)) => Some(Value::Str(s.to_string())),
            Some(ScalarValue::Bool(b)) => Some(Value::Str(n.as_scalar().map_or(b.to_string(), |s| s.text.clone()))),
            _ => None,
        };
        match &node.kind {
            NodeKind::Seq(items) => {
                for item in items {
                    match scalar_value(item) {
                        Some(value) => values.push(CategoryValue { value, code: None, span: item.span }),
                        None => self.error(Diagnostic::error(
                            item.span,
                            format!("a value of `{column}` must be a name or an integer, found {}", item.describe()),
                        )),
                    }
                }
            }
            NodeKind::Map(entries) if matches!(&entries[..], [e] if key_text(&e.key) == "mapping" && matches!(e.value.kind, NodeKind::Map(_))) =>
            {
                return self.category_values(&entries[0].value, column); // the prototype's `values: {mapping: ...}`
            }
            NodeKind::Map(entries) => {
                for e in entries {
                    // `2: 2` names the value 2, as `values: [2]` does.
                    let value = scalar_value(&e.key).unwrap_or_else(|| Value::Str(key_text(&e.key).to_string()));
                    let code = match e.value.as_scalar().map(|s| s.value()) {
                        Some(ScalarValue::Int(i)) => Some(i),
                        _ => {
                            self.error(Diagnostic::error(
                                e.value.span,
                                format!("the code of `{value}` must be an integer, found {}", e.value.describe()),
                            ));
                            None
                        }
                    };
                    values.push(CategoryValue { value, code, span: e.key.span });
                }
            }
            NodeKind::Scalar(_) => {
                self.error(Diagnostic::error(
                    node.span,
                    format!(
                        "`values` of `{column}` must be a list (or a mapping from names to codes), found {}",
                        node.describe()
                    ),
                ));
                return None;
            }
        }
        if values.is_empty() {
            self.error(Diagnostic::error(node.span, format!("`{column}` has no values")));
            return None;
        }
        let mut seen = HashSet::new();
        for v in &values {
            if !seen.insert(&v.value) {
                self.error(Diagnostic::error(v.span, format!("value `{}` of `{column}` is listed twice", v.value)));
            }
        }
        let mut codes: Vec<i64> = values.iter().filter_map(|v| v.code).collect();
        codes.sort_unstable();
        if codes.windows(2).any(|w| w[0] == w[1]) {
            self.error(Diagnostic::error(node.span, format!("two values of `{column}` have the same code")));
        }
        Some(values)
    }

    fn instances(&mut self, m: &Map<'_>, what: &str) -> Vec<InstanceDecl> {
        let mut out = Vec::new();
        if let Some(n) = m.get("instance_name") {
            if m.get("instances").is_some() {
                self.error(
                    Diagnostic::error(n.span, format!("{what} has both `instance_name` and `instances`")).with_help(
                        "`instance_name: x` declares one instance per example; `instances: [x1, x2]` several",
                    ),
                );
            }
            out.extend(self.ident(n, "an instance").map(|name| InstanceDecl { name, count: None }));
            return out;
        }
        let Some(n) = m.get("instances") else {
            return out;
        };
        match &n.kind {
            NodeKind::Seq(items) => {
                for item in items {
                    out.extend(self.ident(item, "an instance").map(|name| InstanceDecl { name, count: None }));
                }
            }
            NodeKind::Map(entries) => {
                for e in entries {
                    let name = self.key_ident(e, "a group of instances");
                    let count = self
                        .u32(&e.value, "the size of a group of instances", 1)
                        .map(|c| Spanned::new(c, e.value.span));
                    match (name, count) {
                        (Some(name), Some(count)) => out.push(InstanceDecl { name, count: Some(count) }),
                        // Its size was reported; its uses should not be reported as unknown names.
                        (Some(name), None) => {
                            self.unreadable.names.insert(name.name);
                        }
                        (None, _) => {}
                    }
                }
            }
            NodeKind::Scalar(_) => {
                self.unreadable.sections.insert("instances");
                self.error(Diagnostic::error(n.span, format!("`instances` must be a list of names or a mapping from group names to sizes, found {}", n.describe()))
                    .with_help("write `instances: [x1, x2]`, or `instances: {a: 4, b: 4}` for lists of instances, or `instance_name: x` for one"));
            }
        }
        let mut seen = HashSet::new();
        for d in &out {
            if !seen.insert(&d.name.name) {
                self.error(Diagnostic::error(d.name.span, format!("instance `{}` is declared twice", d.name.name)));
            }
        }
        out
    }

    fn optimization(&mut self, node: &Node) -> Optimization {
        let Some(m) = self.map(node, "`optimization`", OPTIMIZATION_KEYS) else {
            return Optimization::default();
        };
        let mut o = Optimization::default();
        for e in m.entries {
            let v = &e.value;
            match key_text(&e.key) {
                "injection" => o.injection = self.keyword(v, "injection", Injection::SPELLINGS),
                "inference" => o.inference = self.keyword(v, "inference engine", Inference::SPELLINGS),
                "optimizer" => o.optimizer = self.keyword(v, "optimizer", Optimizer::SPELLINGS),
                "semantics" => o.semantics = self.keyword(v, "fuzzy semantics", Semantics::SPELLINGS),
                "implication" => o.implication = self.keyword(v, "fuzzy implication", Implication::SPELLINGS),
                "loss" => o.loss = self.keyword(v, "loss", TruthLoss::SPELLINGS),
                "epochs" => o.epochs = self.uint(v, "`epochs`", 1),
                "batch_size" => o.batch_size = self.uint(v, "`batch_size`", 1),
                "learning_rate" => o.learning_rate = self.number_in(v, "`learning_rate`", 0.0, f64::INFINITY, true),
                "weight_decay" => o.weight_decay = self.number_in(v, "`weight_decay`", 0.0, f64::INFINITY, false),
                "momentum" => o.momentum = self.number_in(v, "`momentum`", 0.0, 1.0, false),
                "seed" => o.seed = self.uint(v, "`seed`", 0),
                "hard" => o.hard = self.boolean(v, "`hard`"),
                "m_steps" => o.m_steps = self.uint(v, "`m_steps`", 1),
                "samples" => o.samples = self.uint(v, "`samples`", 1),
                "top_k" => o.top_k = self.uint(v, "`top_k`", 1),
                "patience" => o.patience = self.uint(v, "`patience`", 1),
                "metrics" => {
                    let items = match &v.kind {
                        NodeKind::Seq(items) => items.as_slice(),
                        _ => std::slice::from_ref(v),
                    };
                    o.metrics = items.iter().filter_map(|i| self.keyword(i, "metric", Metric::SPELLINGS)).collect();
                }
                "validation" => {
                    o.validation = self.number_in(v, "`validation`", 0.0, 1.0, false);
                    if o.validation.as_ref().is_some_and(|s| s.value >= 1.0) {
                        self.error(Diagnostic::error(v.span, "`validation` must leave some training data"));
                    }
                }
                _ => {} // reported by `map`
            }
        }
        o
    }

    fn learnable(&mut self, entry: &Entry) -> Option<Learnable> {
        let name = self.key_ident(entry, "a learnable")?;
        let what = format!("learnable `{}`", name.name);
        let m = self.map(&entry.value, &what, LEARNABLE_KEYS)?;
        let dataset = m.get("dataset").and_then(|n| self.data_name(n, "`dataset`"));
        if let Some(t) = m.get("type").and_then(|n| self.text(n, "`type`")) {
            if !NETWORK_TYPES.contains(&t.value.as_str()) {
                self.error(
                    Diagnostic::error(t.span, format!("learnables of type `{}` are not supported", t.value))
                        .with_help("skilang trains feed-forward networks (`neural_network`), built from `layers` or `architecture`"),
                );
            }
        }
        let mut transforms = Vec::new();
        let input = match (self.either(&m, &what, "input", "inputs"), m.get("inputs")) {
            (Some(n), None) => match &n.kind {
                NodeKind::Seq(items) => items.iter().map(|i| self.formula(i, "an input")).collect(),
                _ => vec![self.formula(n, "`input`")],
            },
            (Some(n), Some(_)) => {
                let items = self.list(n, "`inputs`").unwrap_or_default();
                let mut input = Vec::new();
                for item in items {
                    let (f, transform) = self.io_item(item, "an input", dataset.as_ref(), &["source", "transform"]);
                    if let Some(t) = transform.and_then(|t| self.keyword(t, "transform", Encoding::SPELLINGS)) {
                        transforms.push((input.len(), t));
                    }
                    input.push(f);
                }
                input
            }
            (None, Some(_)) => Vec::new(), // both `input` and `inputs`: reported
            (None, None) => {
                self.error(
                    Diagnostic::error(name.span, format!("{what} has no `input`"))
                        .with_help("name the features it reads, e.g. `input: mnist.image`"),
                );
                Vec::new()
            }
        };
        let output = match (self.either(&m, &what, "output", "outputs"), m.get("outputs")) {
            (Some(n), None) => Some(self.formula(n, "`output`")),
            (Some(n), Some(_)) => match self.list(n, "`outputs`") {
                // An output's `transform` is the prototype's label encoding: outputs are classes.
                Some([item]) => Some(self.io_item(item, "the output", dataset.as_ref(), &["source", "transform"]).0),
                Some(items) => {
                    self.error(
                        Diagnostic::error(
                            n.span,
                            format!("{what} has {} outputs; a learnable predicts one column", items.len()),
                        )
                        .with_help("declare one learnable per predicted column"),
                    );
                    None
                }
                None => None,
            },
            (None, Some(_)) => None, // both `output` and `outputs`: reported
            (None, None) => {
                self.error(
                    Diagnostic::error(name.span, format!("{what} has no `output`"))
                        .with_help("name the target whose values it predicts, e.g. `output: mnist.value`"),
                );
                None
            }
        };
        let model = match (m.get("architecture"), m.get("layers")) {
            (Some(a), None) => {
                let name = self.keyword(a, "architecture", Architecture::SPELLINGS);
                let hidden =
                    m.get("hidden").map(|h| self.hidden(h, name.as_ref().map(|n| n.value))).unwrap_or_default();
                name.map(|name| Model::Architecture { name, hidden })
            }
            (None, Some(l)) => {
                if let Some(h) = m.entry("hidden") {
                    self.error(Diagnostic::error(
                        h.key.span,
                        "`hidden` goes with `architecture: mlp`, not with `layers`",
                    ));
                }
                self.layers(l).map(Model::Layers)
            }
            (Some(_), Some(l)) => {
                let key = m.entry("layers").map_or(l.span, |e| e.key.span);
                self.error(
                    Diagnostic::error(key, format!("{what} has both `architecture` and `layers`"))
                        .with_help("keep one: a named architecture, or a list of layers"),
                );
                None
            }
            // An unknown key (the prototype's `structure`) was reported where it stands.
            (None, None) if m.misspelt => None,
            (None, None) => {
                self.error(
                    Diagnostic::error(name.span, format!("{what} has neither `architecture` nor `layers`"))
                        .with_help("write `architecture: lenet` (or mlp), or list its `layers`"),
                );
                None
            }
        };
        let encodings = m.get("encodings").map(|n| self.encodings(n)).unwrap_or_default();
        Some(Learnable { name, dataset, input, transforms, output: output?, model: model?, encodings, span: m.span })
    }

    /// An item of the prototype's `inputs`/`outputs`: a formula, or `{source: FORMULA, ...}` with
    /// the other `keys`; a bare column name reads the learnable's `dataset`.
    fn io_item<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        dataset: Option<&Ident>,
        keys: &[&str],
    ) -> (Formula, Option<&'n Node>) {
        let (source, transform) = match &node.kind {
            NodeKind::Map(_) => match self.map(node, what, keys) {
                Some(m) => match m.get("source") {
                    Some(s) => (s, m.get("transform")),
                    None => {
                        self.error(
                            Diagnostic::error(node.span, format!("{what} needs a `source`"))
                                .with_help("e.g. `{source: mnist.image}`"),
                        );
                        (node, None)
                    }
                },
                None => (node, None),
            },
            _ => (node, None),
        };
        let f = self.formula(source, what);
        let f = match (&f.expr.kind, dataset) {
            // The prototype's `features.income` / `targets.income`: a column of `dataset`.
            (ExprKind::Attr { base, attr }, Some(d)) if matches!(&base.kind, ExprKind::Name(n) if n == "features" || n == "targets") =>
            {
                let span = base.span;
                let base = Expr { id: self.fresh_id(), span, kind: ExprKind::Name(d.name.clone()) };
                let kind = ExprKind::Attr { base: Box::new(base), attr: attr.clone() };
                Formula {
                    text: format!("{}.{}", d.name, attr.name),
                    expr: Expr { id: self.fresh_id(), span: f.expr.span, kind },
                }
            }
            (ExprKind::Name(column), Some(d)) if *column != d.name => {
                let span = f.expr.span;
                let base = Expr { id: self.fresh_id(), span, kind: ExprKind::Name(d.name.clone()) };
                let attr = Ident { name: column.clone(), span };
                let kind = ExprKind::Attr { base: Box::new(base), attr };
                Formula { text: format!("{}.{column}", d.name), expr: Expr { id: self.fresh_id(), span, kind } }
            }
            _ => f,
        };
        (f, transform)
    }

    fn fresh_id(&mut self) -> ExprId {
        self.next_id += 1;
        ExprId(self.next_id - 1)
    }

    fn hidden(&mut self, node: &Node, arch: Option<Architecture>) -> Vec<Spanned<u32>> {
        if arch.is_some_and(|a| a != Architecture::Mlp) {
            self.error(Diagnostic::error(node.span, "`hidden` sizes apply to `architecture: mlp` only"));
        }
        let Some(items) = self.list(node, "`hidden`") else {
            return Vec::new();
        };
        items.iter().filter_map(|i| self.u32(i, "a hidden layer size", 1).map(|v| Spanned::new(v, i.span))).collect()
    }

    /// `encodings: {feature: encoding}`. The prototype's spellings are read too: keys prefixed
    /// `features.` (the feature) or `targets.` (a target, whose classes need no encoding: skipped),
    /// and a list of one-key mappings.
    fn encodings(&mut self, node: &Node) -> Vec<(Ident, Spanned<Encoding>)> {
        let Some(entries) = pairs(node) else {
            self.error(Diagnostic::error(
                node.span,
                format!("`encodings` must map feature names to encodings, found {}", node.describe()),
            ));
            return Vec::new();
        };
        entries
            .into_iter()
            .filter_map(|e| {
                let key = key_text(&e.key);
                if key.starts_with("targets.") {
                    return None;
                }
                let feature = match key.strip_prefix("features.") {
                    Some(rest) => {
                        let at = e.key.span.start as usize + "features.".len();
                        let span = Span::new(at, e.key.span.end as usize);
                        let key = Node {
                            span,
                            kind: NodeKind::Scalar(crate::yaml::Scalar { text: rest.into(), plain: true }),
                        };
                        self.data_name(&key, "a feature")
                    }
                    None => self.data_name(&e.key, "a feature"),
                };
                let enc = self.keyword(&e.value, "encoding", Encoding::SPELLINGS);
                Some((feature?, enc?))
            })
            .collect()
    }

    fn layers(&mut self, node: &Node) -> Option<Vec<Spanned<Layer>>> {
        let items = self.list(node, "`layers`")?;
        if items.is_empty() {
            self.error(Diagnostic::error(node.span, "`layers` is empty"));
            return None;
        }
        let layers: Vec<_> = items.iter().map(|i| self.layer(i).map(|l| Spanned::new(l, i.span))).collect();
        layers.into_iter().collect()
    }

    fn layer(&mut self, node: &Node) -> Option<Layer> {
        let (kind, args, kind_span) = match &node.kind {
            NodeKind::Scalar(_) => (self.text(node, "a layer")?.value, None, node.span),
            NodeKind::Map(entries) if entries.len() == 1 => {
                (key_text(&entries[0].key).to_string(), Some(&entries[0].value), entries[0].key.span)
            }
            _ => {
                self.error(
                    Diagnostic::error(
                        node.span,
                        "a layer is written `kind: settings` (one key), or as a bare name such as `flatten`",
                    )
                    .with_help("e.g. `- conv2d: {channels: 6, kernel: 5, activation: relu}` or `- maxpool: 2`"),
                );
                return None;
            }
        };
        let args = args.filter(|a| !matches!(a.as_scalar().map(|s| s.value()), Some(ScalarValue::Null)));
        if let Some((_, act)) = Activation::SPELLINGS.iter().find(|(s, _)| *s == kind) {
            return Some(Layer::Activation(*act));
        }
        let settings = |r: &mut Self, keys: &[&str]| match args {
            Some(a) if matches!(a.kind, NodeKind::Map(_)) => r.map(a, &format!("layer `{kind}`"), keys),
            _ => None,
        };
        let activation = |r: &mut Self, m: &Option<Map<'_>>| {
            m.as_ref()
                .and_then(|m| m.get("activation"))
                .and_then(|a| r.keyword(a, "activation", Activation::SPELLINGS))
                .map(|a| a.value)
        };
        match kind.as_str() {
            "linear" => {
                if let Some(a) = args.filter(|a| a.as_scalar().is_some()) {
                    return Some(Layer::Linear {
                        input: None,
                        units: Some(self.u32(a, "`units`", 1)?),
                        activation: None,
                        dropout: None,
                    });
                }
                let m = settings(self, &["units", "output", "input", "activation", "dropout"]);
                let get = |key: &str| m.as_ref().and_then(|m| m.get(key));
                if let (Some(_), Some(o)) = (get("units"), get("output")) {
                    self.error(
                        Diagnostic::error(o.span, "a linear layer has both `units` and `output`")
                            .with_help("they say the same (its number of outputs): keep one"),
                    );
                }
                let units = get("units").or(get("output")).and_then(|u| self.u32(u, "the number of outputs", 1));
                let input = get("input").and_then(|u| self.u32(u, "the number of inputs", 1));
                let dropout =
                    get("dropout").and_then(|d| self.number_in(d, "`dropout`", 0.0, 1.0, false)).map(|d| d.value);
                Some(Layer::Linear { input, units, activation: activation(self, &m), dropout })
            }
            "conv2d" => {
                let Some(m) = settings(self, &["channels", "kernel", "stride", "padding", "activation"]) else {
                    self.error(
                        Diagnostic::error(node.span, "`conv2d` needs its settings")
                            .with_help("e.g. `conv2d: {channels: 6, kernel: 5}`"),
                    );
                    return None;
                };
                let need = |r: &mut Self, key: &str| match m.get(key) {
                    Some(v) => r.u32(v, &format!("`{key}`"), 1),
                    None => {
                        r.error(Diagnostic::error(kind_span, format!("`conv2d` needs `{key}`")));
                        None
                    }
                };
                let channels = need(self, "channels");
                let kernel = need(self, "kernel");
                let stride = m.get("stride").and_then(|v| self.u32(v, "`stride`", 1)).unwrap_or(1);
                let padding = m.get("padding").and_then(|v| self.u32(v, "`padding`", 0)).unwrap_or(0);
                let act = activation(self, &Some(m));
                Some(Layer::Conv2d { channels: channels?, kernel: kernel?, stride, padding, activation: act })
            }
            "maxpool" | "avgpool" => {
                let (size, stride) = match args {
                    Some(a) if a.as_scalar().is_some() => (self.u32(a, "the pool size", 1)?, None),
                    Some(_) => {
                        let m = settings(self, &["size", "stride"])?;
                        let size = match m.get("size") {
                            Some(v) => self.u32(v, "`size`", 1)?,
                            None => {
                                self.error(Diagnostic::error(kind_span, format!("`{kind}` needs `size`")));
                                return None;
                            }
                        };
                        (size, m.get("stride").and_then(|v| self.u32(v, "`stride`", 1)))
                    }
                    None => {
                        self.error(
                            Diagnostic::error(kind_span, format!("`{kind}` needs a size"))
                                .with_help(format!("e.g. `{kind}: 2`")),
                        );
                        return None;
                    }
                };
                Some(if kind == "maxpool" { Layer::MaxPool { size, stride } } else { Layer::AvgPool { size, stride } })
            }
            "dropout" => match args {
                Some(a) => Some(Layer::Dropout(self.number_in(a, "the dropout rate", 0.0, 1.0, false)?.value)),
                None => {
                    self.error(Diagnostic::error(kind_span, "`dropout` needs a rate").with_help("e.g. `dropout: 0.5`"));
                    None
                }
            },
            "batchnorm" => Some(Layer::BatchNorm),
            "flatten" => Some(Layer::Flatten),
            "activation" => match args {
                Some(a) => Some(Layer::Activation(self.keyword(a, "activation", Activation::SPELLINGS)?.value)),
                None => {
                    self.error(
                        Diagnostic::error(kind_span, "`activation` needs a function")
                            .with_help("e.g. `activation: relu`"),
                    );
                    None
                }
            },
            other => {
                let all: Vec<&str> =
                    LAYER_KINDS.iter().copied().chain(Activation::SPELLINGS.iter().map(|(s, _)| *s)).collect();
                let d = Diagnostic::error(kind_span, format!("unknown layer `{other}`"));
                self.error(
                    suggest(d, other, all.iter().copied())
                        .with_note(format!("the layers are: {}", LAYER_KINDS.join(", "))),
                );
                None
            }
        }
    }

    fn rules(&mut self, node: &Node) -> Vec<Rule> {
        if matches!(node.kind, NodeKind::Map(_)) {
            self.unreadable.sections.insert("knowledge");
            self.error(
                Diagnostic::error(node.span, "`knowledge` must be a list of rules, found a mapping")
                    .with_help("write each rule as a list item: `- rule: Flush` with `args: [h]` and `clause: ...`"),
            );
            return Vec::new();
        }
        let Some(items) = self.list(node, "`knowledge`") else {
            self.unreadable.sections.insert("knowledge");
            return Vec::new();
        };
        let mut rules = Vec::new();
        for item in items {
            match self.rule(item) {
                Some(r) => rules.push(r),
                None => {
                    let name = match &item.kind {
                        NodeKind::Map(entries) => entries.iter().find(|e| key_text(&e.key) == "rule"),
                        _ => None,
                    };
                    match name {
                        Some(e) => self.unreadable.names.insert(key_text(&e.value).to_string()),
                        None => self.unreadable.sections.insert("knowledge"),
                    };
                }
            }
        }
        rules
    }

    fn rule(&mut self, node: &Node) -> Option<Rule> {
        let m = self.map(node, "a knowledge rule", RULE_KEYS)?;
        let Some(name_node) = m.get("rule") else {
            self.error(Diagnostic::error(node.span, "a knowledge rule needs a name: `rule: NAME`"));
            return None;
        };
        let name = self.ident(name_node, "a rule")?;
        let args = match m.get("args") {
            Some(a) => {
                let items = self.list(a, "`args`").unwrap_or_default();
                let args: Vec<Ident> = items.iter().filter_map(|i| self.ident(i, "an argument")).collect();
                for (i, a) in args.iter().enumerate() {
                    if args[..i].iter().any(|b| b.name == a.name) {
                        self.error(Diagnostic::error(
                            a.span,
                            format!("argument `{}` of rule `{}` is named twice", a.name, name.name),
                        ));
                    }
                }
                args
            }
            None => Vec::new(),
        };
        let Some(clause) = m.get("clause") else {
            self.error(
                Diagnostic::error(name.span, format!("rule `{}` has no `clause`", name.name))
                    .with_help("give the formula that defines it, e.g. `clause: a == b`"),
            );
            return None;
        };
        let clause = self.formula(clause, "`clause`");
        Some(Rule { name, args, clause, span: m.span })
    }

    fn constraints(&mut self, node: &Node) -> Vec<Constraint> {
        if matches!(node.kind, NodeKind::Map(_)) {
            self.unreadable.sections.insert("constraints");
            self.error(
                Diagnostic::error(node.span, "`constraints` must be a list, found a mapping")
                    .with_help("write each constraint as a list item: `- always: FORMULA`"),
            );
            return Vec::new();
        }
        let Some(items) = self.list(node, "`constraints`") else {
            self.unreadable.sections.insert("constraints");
            return Vec::new();
        };
        let constraints: Vec<Constraint> = items.iter().filter_map(|i| self.constraint(i)).collect();
        if constraints.len() < items.len() {
            self.unreadable.sections.insert("constraints");
        }
        constraints
    }

    fn constraint(&mut self, node: &Node) -> Option<Constraint> {
        if node.as_scalar().is_some() {
            self.error(
                Diagnostic::error(node.span, "a constraint needs a form: `always:`, `never:`, `if:`/`then:` or `iff:`")
                    .with_help("e.g. `- always: digit(x1) + digit(x2) == x1.value + x2.value`"),
            );
            return None;
        }
        let m = self.map(node, "a constraint", CONSTRAINT_KEYS)?;
        let forms: Vec<&Entry> = ["always", "never", "if", "iff"].iter().filter_map(|k| m.entry(k)).collect();
        if forms.len() > 1 {
            self.error(
                Diagnostic::error(
                    forms[1].key.span,
                    format!("a constraint has one form, this one also has `{}`", key_text(&forms[0].key)),
                )
                .with_help("write each constraint as its own list item"),
            );
            return None;
        }
        // The prototype's `iff: A` + `then: B` is SKI-lang's `iff: [A, B]`; its early `iif` is
        // reported once, as a misspelt key, without a second error for its `then`.
        let paired_iff = m.get("iff").is_some_and(|v| v.as_scalar().is_some());
        if let (Some(t), None, false) = (m.entry("then"), m.get("if"), paired_iff) {
            if m.entry("iif").is_none() {
                self.error(
                    Diagnostic::error(t.key.span, "`then` without `if`")
                        .with_help("write `if: GUARD` beside `then: FORMULA`, or use `always:`"),
                );
            }
            return None;
        }
        let kind = match forms.first().map(|e| key_text(&e.key)) {
            Some("always") => ConstraintKind::Always(self.formula(&forms[0].value, "`always`")),
            Some("never") => ConstraintKind::Never(self.formula(&forms[0].value, "`never`")),
            Some("if") => {
                let guard = self.formula(&forms[0].value, "`if`");
                let Some(then) = m.get("then") else {
                    self.error(
                        Diagnostic::error(forms[0].key.span, "`if` without `then`")
                            .with_help("add `then: FORMULA`, the formula that must hold when the guard does"),
                    );
                    return None;
                };
                let then = self.formula(then, "`then`");
                ConstraintKind::IfThen { guard, then }
            }
            Some(_) => {
                let v = &forms[0].value;
                let pair = match (&v.kind, m.get("then")) {
                    (NodeKind::Seq(items), None) if items.len() == 2 => {
                        Some((self.formula(&items[0], "`iff`"), self.formula(&items[1], "`iff`")))
                    }
                    (NodeKind::Scalar(_), Some(then)) => Some((self.formula(v, "`iff`"), self.formula(then, "`then`"))),
                    _ => None,
                };
                let Some((a, b)) = pair else {
                    self.error(
                        Diagnostic::error(
                            v.span,
                            "`iff` takes a list of two formulas that hold together or not at all",
                        )
                        .with_help("e.g. `iff: [\"Flush(h)\", \"hand(h) == flush\"]`"),
                    );
                    return None;
                };
                ConstraintKind::Iff(a, b)
            }
            None => {
                self.error(Diagnostic::error(
                    node.span,
                    "a constraint needs a form: `always:`, `never:`, `if:`/`then:` or `iff:`",
                ));
                return None;
            }
        };
        let weight = m.get("weight").and_then(|w| self.number_in(w, "`weight`", 0.0, f64::INFINITY, false));
        let name = m.get("name").and_then(|n| self.text(n, "a constraint's `name`"));
        Some(Constraint { kind, weight, name, span: m.span })
    }
}
