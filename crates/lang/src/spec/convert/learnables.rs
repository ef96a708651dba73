//! The `learnables` section: each network's data, inputs, output and layers.

use super::{pairs, Map, Reader};
use crate::diag::{suggest, Diagnostic};
use crate::formula::{Expr, ExprKind, Ident};
use crate::source::{Span, Spanned};
use crate::spec::keys::{
    self, Key, CONV2D_KEYS, IO_KEYS, LAYER_KINDS, LEARNABLE_KEYS, LINEAR_KEYS, NETWORK_TYPES, POOL_KEYS,
};
use crate::spec::model::*;
use crate::yaml::{key_text, Entry, Node, NodeKind, ScalarValue};

impl Reader<'_> {
    pub(super) fn learnable(&mut self, entry: &Entry) -> Option<Learnable> {
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
                    let (f, transform) = self.io_item(item, "an input", dataset.as_ref(), IO_KEYS);
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
                Some([item]) => Some(self.io_item(item, "the output", dataset.as_ref(), IO_KEYS).0),
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
        let decode = m.get("decode").and_then(|n| self.keyword(n, "decoding", Decode::SPELLINGS));
        let weights = m.get("weights").and_then(|n| self.text(n, "`weights`")).map(|p| {
            let beside = self.file.path().parent().unwrap_or(std::path::Path::new("."));
            Spanned::new(beside.join(&p.value), p.span)
        });
        let frozen = m.get("frozen").and_then(|n| self.boolean(n, "`frozen`"));
        let augment = m.get("augment").and_then(|n| self.augment(n));
        if let (Some(f), None) = (&frozen, &weights) {
            if f.value {
                self.error(
                    Diagnostic::error(f.span, format!("{what} is frozen but names no `weights`"))
                        .with_help("a frozen network keeps the weights it starts from: name them with `weights: FILE`"),
                );
            }
        }
        Some(Learnable {
            name,
            dataset,
            input,
            transforms,
            output: output?,
            model: model?,
            encodings,
            decode,
            weights,
            frozen: frozen.is_some_and(|f| f.value),
            augment,
            span: m.span,
        })
    }

    fn augment(&mut self, node: &Node) -> Option<Spanned<Augment>> {
        let m = self.map(node, "`augment`", keys::AUGMENT_KEYS)?;
        let mut a = Augment::default();
        for e in m.entries {
            let v = &e.value;
            match key_text(&e.key) {
                "shift" => a.shift = self.number_in(v, "`shift`", 0.0, f64::INFINITY, false),
                "rotate" => a.rotate = self.number_in(v, "`rotate`", 0.0, 180.0, false),
                "flip" => a.flip = self.boolean(v, "`flip`"),
                _ => {} // reported by `map`
            }
        }
        Some(Spanned::new(a, node.span))
    }

    /// An item of the prototype's `inputs`/`outputs`: a formula, or `{source: FORMULA, ...}` with
    /// the other `keys`; a bare column name reads the learnable's `dataset`.
    fn io_item<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        dataset: Option<&Ident>,
        keys: &[Key],
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

    pub(super) fn layers(&mut self, node: &Node) -> Option<Vec<Spanned<Layer>>> {
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
        let settings = |r: &mut Self, keys: &[Key]| match args {
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
                let m = settings(self, LINEAR_KEYS);
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
                let Some(m) = settings(self, CONV2D_KEYS) else {
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
                        let m = settings(self, POOL_KEYS)?;
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
                    keys::names(LAYER_KINDS).into_iter().chain(keys::spellings(Activation::SPELLINGS)).collect();
                let d = Diagnostic::error(kind_span, format!("unknown layer `{other}`"));
                self.error(
                    suggest(d, other, all.iter().copied())
                        .with_note(format!("the layers are: {}", keys::names(LAYER_KINDS).join(", "))),
                );
                None
            }
        }
    }
}
