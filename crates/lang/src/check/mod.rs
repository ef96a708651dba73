//! Resolves every name of a spec, infers types, and classifies sub-expressions as latent (depending
//! on a learnable) or observed, and constraints as instance-wise or column-wise.

mod builtins;
mod expr;
mod program;
mod rule_roles;
mod training;
mod types;

pub use builtins::Builtin;
pub use program::*;
pub use rule_roles::{rule_roles, RuleRefusal, RuleRole};
pub use training::{Corrected, Engine, Reasoning, Training, CORRECTION_VALIDATION};
pub use types::*;

use crate::diag::{suggest, Diagnostic};
use crate::formula::{Expr, ExprKind, Ident};
use crate::source::{SourceFile, Span, Spanned};
use crate::spec::*;
use std::collections::{HashMap, HashSet};

/// What a global name stands for.
#[derive(Clone, Debug)]
enum Global {
    Dataset(usize),
    Instance { dataset: usize, group: bool },
    Learnable(usize),
    Rule(usize),
}

/// A learnable after resolution: which dataset it reads, which categorical column it predicts.
#[derive(Clone, Debug)]
struct Net<'s> {
    dataset: usize,
    domain: DomainId,
    output: &'s Column,
}

/// What checking a formula found out besides its type.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
struct Effects {
    latent: Vec<String>,
    instances: bool,
    columns: bool,
}

impl Effects {
    fn merge(&mut self, other: &Effects) {
        for l in &other.latent {
            if !self.latent.contains(l) {
                self.latent.push(l.clone());
            }
        }
        self.instances |= other.instances;
        self.columns |= other.columns;
    }
}

pub struct Checker<'s> {
    spec: &'s Spec,
    file: &'s SourceFile,
    diags: Vec<Diagnostic>,
    reported: HashSet<(Span, String)>,
    globals: HashMap<String, Global>,
    dataset_names: Vec<String>,
    domains: Vec<Domain>,
    /// Per dataset, per column name: its per-row type.
    columns: Vec<HashMap<String, Type>>,
    /// Value names usable bare in formulas (`flush`, `White`) and the categories they belong to.
    symbols: HashMap<String, Vec<DomainId>>,
    nets: Vec<Option<Net<'s>>>,
    cyclic: HashSet<usize>,
    used_rules: HashSet<usize>,
    memo: HashMap<(usize, Vec<Typed>), (Typed, Effects)>,
    active: Vec<usize>,
    effects: Effects,
    /// Types are recorded for constraint formulas, not for the bodies of rules.
    record: bool,
    /// Set when a formula refers to something that failed earlier, so its type is partly unknown.
    poisoned: bool,
    types: HashMap<crate::formula::ExprId, Typed>,
    /// What each called name resolved to, by the name's expression.
    calls: HashMap<crate::formula::ExprId, Callee>,
    /// The columns each attribute read resolved to, by its expression.
    attributes: HashMap<crate::formula::ExprId, Vec<ColumnId>>,
    /// Names declared twice (reported once, at the second declaration).
    clashed: HashSet<String>,
    /// The operands of single `==`/`!=` comparisons: where a latent `shortest_path` may stand.
    path_operands: HashSet<Span>,
    /// Where `shortest_path` is called on latent costs.
    black_boxes: Vec<Span>,
    /// Checking a constraint that is only measured (`train: false`): evaluated on predictions,
    /// never grounded for training, so a black box may stand anywhere in it.
    measuring: bool,
}

/// Checks a read spec. The program is returned when there is no error.
pub fn check(spec: &Spec, file: &SourceFile) -> (Option<Program>, Vec<Diagnostic>) {
    let mut c = Checker {
        spec,
        file,
        diags: Vec::new(),
        reported: HashSet::new(),
        globals: HashMap::new(),
        dataset_names: spec.datasets.iter().map(|d| d.name.name.clone()).collect(),
        domains: Vec::new(),
        columns: Vec::new(),
        symbols: HashMap::new(),
        nets: Vec::new(),
        cyclic: HashSet::new(),
        used_rules: HashSet::new(),
        memo: HashMap::new(),
        active: Vec::new(),
        effects: Effects::default(),
        record: false,
        poisoned: false,
        types: HashMap::new(),
        calls: HashMap::new(),
        attributes: HashMap::new(),
        clashed: HashSet::new(),
        path_operands: HashSet::new(),
        black_boxes: Vec::new(),
        measuring: false,
    };
    c.declare_globals();
    c.build_schemas();
    c.resolve_learnables();
    c.find_recursion();
    c.check_rule_bodies();
    let constraints = c.check_constraints();
    c.check_optimization();
    let mut program = c.program(constraints);
    let mut diags = c.diags;
    let resolved = !spec.unreadable.any && !diags.iter().any(Diagnostic::is_error);
    diags.extend(training::plan(spec, &mut program, resolved));
    let ok = !diags.iter().any(Diagnostic::is_error);
    diags.sort_by_key(|d| (d.span.start, d.span.end));
    (ok.then_some(program), diags)
}

impl<'s> Checker<'s> {
    fn report(&mut self, d: Diagnostic) {
        // Rule bodies are checked once per distinct call; report each problem once.
        if self.reported.insert((d.span, d.message.clone())) {
            self.diags.push(d);
        }
    }

    /// A name that no section defines, but that an unreadable declaration may have defined.
    fn maybe_unreadable(&mut self, name: &str, sections: &[&str]) -> bool {
        let u = &self.spec.unreadable;
        let hidden = u.names.contains(name) || sections.iter().any(|s| u.sections.contains(s));
        self.poisoned |= hidden;
        hidden
    }

    fn line_of(&self, span: Span) -> usize {
        self.file.line_col(span.start).0
    }

    fn declare(&mut self, name: &Ident, what: Global) {
        if let Some((_, _, _, sig)) = builtins::Builtin::lookup(&name.name) {
            self.report(
                Diagnostic::error(name.span, format!("`{}` is a built-in function and cannot be redefined", name.name))
                    .with_note(format!("built-in: {sig}")),
            );
            return;
        }
        if let Some(prev) = self.globals.get(&name.name) {
            // An instance listed twice in one dataset was reported where it is listed.
            if let (Global::Instance { dataset: a, .. }, Global::Instance { dataset: b, .. }) = (prev, &what) {
                if a == b {
                    return;
                }
            }
            let (kind, span) = self.global_site(prev);
            let line = self.line_of(span);
            self.report(
                Diagnostic::error(name.span, format!("`{}` is already defined as {kind}", name.name))
                    .with_note(format!("first defined on line {line}"))
                    .with_help("datasets, instances, learnables and rules share one namespace: rename one of them"),
            );
            // Its uses are not reported again: which of the two they meant is the one mistake.
            self.clashed.insert(name.name.clone());
            return;
        }
        self.globals.insert(name.name.clone(), what);
    }

    fn global_site(&self, g: &Global) -> (&'static str, Span) {
        match g {
            Global::Dataset(d) => ("a dataset", self.spec.datasets[*d].name.span),
            Global::Instance { dataset, .. } => {
                ("an instance", self.spec.datasets[*dataset].instances.first().map_or(Span::default(), |i| i.name.span))
            }
            Global::Learnable(l) => ("a learnable", self.spec.learnables[*l].name.span),
            Global::Rule(r) => ("a rule", self.spec.rules[*r].name.span),
        }
    }

    fn declare_globals(&mut self) {
        let spec = self.spec;
        for (i, d) in spec.datasets.iter().enumerate() {
            self.declare(&d.name, Global::Dataset(i));
        }
        for (i, d) in spec.datasets.iter().enumerate() {
            for inst in &d.instances {
                self.declare(&inst.name, Global::Instance { dataset: i, group: inst.count.is_some() });
            }
        }
        for (i, l) in spec.learnables.iter().enumerate() {
            self.declare(&l.name, Global::Learnable(i));
        }
        for (i, r) in spec.rules.iter().enumerate() {
            self.declare(&r.name, Global::Rule(i));
        }
    }

    fn build_schemas(&mut self) {
        for d in &self.spec.datasets {
            self.check_builtin_columns(d);
            let mut cols = HashMap::new();
            for c in d.features.iter().chain(&d.targets) {
                let ty = match &c.ty {
                    ColumnType::Int => Type::Int,
                    ColumnType::Real => Type::Real,
                    ColumnType::Bool => Type::Bool,
                    ColumnType::Image { .. } => Type::Image,
                    ColumnType::Vector(_) => Type::Vector,
                    ColumnType::Category(values) | ColumnType::Grid { values, .. } => {
                        let id = self.domains.len();
                        let raw: Vec<Value> = values.iter().map(|v| v.value.clone()).collect();
                        for v in &raw {
                            if let Value::Str(s) = v {
                                if crate::spec::is_identifier(s) {
                                    self.symbols.entry(s.clone()).or_default().push(id);
                                }
                            }
                        }
                        self.domains.push(Domain {
                            name: format!("{}.{}", d.name.name, c.name.name),
                            values: raw.iter().map(ToString::to_string).collect(),
                            integer: raw.iter().all(|v| matches!(v, Value::Int(_))),
                            raw,
                        });
                        grid_type(&c.ty, Type::Category(id))
                    }
                };
                cols.insert(c.name.name.clone(), ty);
            }
            self.columns.push(cols);
        }
    }

    /// A built-in CSV source is read by position: its rows must have as many values as the
    /// dataset declares columns.
    fn check_builtin_columns(&mut self, d: &Dataset) {
        let (Some(source), None) = (&d.source, &d.training) else { return };
        if source.value.visudo_dim().is_some() || source.value.warcraft_side().is_some() {
            return self.check_fixed_examples(d, source.value, source.span);
        }
        let Some(expected) = source.value.csv_columns() else { return };
        let declared = d.features.len() + d.targets.len();
        if declared != expected.len() {
            self.report(
                Diagnostic::error(
                    source.span,
                    format!(
                        "the `{}` files have {} values per row, but `{}` declares {declared} columns",
                        source.value.name(),
                        expected.len(),
                        d.name.name
                    ),
                )
                .with_help(format!("declare every column, in file order: {}", expected.join(", "))),
            );
        }
    }

    /// Visual Sudoku and Warcraft sources fix their examples: each is one board's or map's cells,
    /// a row per cell with its image, its hidden class and the example's label.
    fn check_fixed_examples(&mut self, d: &Dataset, source: BuiltinSource, at: Span) {
        let columns: Vec<&Column> = d.columns().collect();
        let (side, declared, example, help) = match (source.visudo_dim(), source.warcraft_side()) {
            (Some(dim), _) => (
                dim,
                BuiltinSource::visudo_columns(&columns, dim),
                "board",
                format!("declare a feature `image[28x28]` (the cell's image) and two targets: the cell's digit with `values: [0, ..., {}]`, then the board's validity with `type: bool`", dim - 1),
            ),
            (_, Some(side)) => (
                side,
                BuiltinSource::warcraft_columns(&columns),
                "map",
                "declare a feature `image[3x8x8]` (the tile) and two targets: the tile's cost in tenths with `values: [8, 12, 53, 77, 92]`, then whether it is on the shortest path with `type: bool`".to_string(),
            ),
            _ => return,
        };
        if !declared || d.features.len() != 1 {
            self.report(
                Diagnostic::error(
                    at,
                    format!(
                        "`{}` rows are a {example}'s cells, and `{}` declares other columns",
                        source.name(),
                        d.name.name
                    ),
                )
                .with_help(help),
            );
        }
        let cells = side * side;
        match d.instances.as_slice() {
            [i] if i.count.as_ref().is_some_and(|c| c.value as usize == cells) => {}
            _ => {
                let at = d.instances.first().map_or(at, |i| i.count.as_ref().map_or(i.name.span, |c| c.span));
                self.report(
                    Diagnostic::error(at, format!("an example of `{}` is one {example}: {cells} cells", d.name.name))
                        .with_help(format!(
                        "declare one group of instances of the {example}'s size, e.g. `instances: {{cells: {cells}}}`"
                    )),
                );
            }
        }
        let fixed = [
            ("labelled", d.labelled.as_ref().map(|l| l.span)),
            ("sampled", d.sampled.as_ref().map(|s| s.span)),
            ("examples", d.examples.as_ref().map(|e| e.span)),
        ];
        for (key, span) in fixed {
            if let Some(span) = span {
                self.report(Diagnostic::error(
                    span,
                    format!("`{key}` does not apply to `{}`: its examples are fixed {example}s", d.name.name),
                ));
            }
        }
    }

    fn dataset_of_ref(&mut self, e: &Expr, what: &str) -> Option<(usize, Option<Ident>)> {
        let (base, attr) = match &e.kind {
            ExprKind::Name(_) => (e, None),
            ExprKind::Attr { base, attr } => (base.as_ref(), Some(attr.clone())),
            ExprKind::Error => return None,
            _ => {
                self.report(Diagnostic::error(
                    e.span,
                    format!("{what} must name a dataset column, e.g. `mnist.image`"),
                ));
                return None;
            }
        };
        let ExprKind::Name(n) = &base.kind else {
            self.report(Diagnostic::error(e.span, format!("{what} must name a dataset column, e.g. `mnist.image`")));
            return None;
        };
        match self.globals.get(n).cloned() {
            Some(Global::Dataset(d)) => Some((d, attr)),
            _ if self.maybe_unreadable(n, &["data"]) => None,
            _ => {
                let d = Diagnostic::error(base.span, format!("unknown dataset `{n}`"));
                let names = self.dataset_names.clone();
                self.report(suggest(d, n, names.iter().map(String::as_str)));
                None
            }
        }
    }

    fn column_of(&mut self, dataset: usize, attr: &Ident) -> Option<(bool, &'s Column)> {
        let d = &self.spec.datasets[dataset];
        if let Some(c) = d.features.iter().find(|c| c.name.name == attr.name) {
            return Some((true, c));
        }
        if let Some(c) = d.targets.iter().find(|c| c.name.name == attr.name) {
            return Some((false, c));
        }
        self.no_column(dataset, attr);
        None
    }

    /// Reports a missing column, unless its declaration was the problem.
    fn no_column(&mut self, dataset: usize, attr: &Ident) {
        let d = &self.spec.datasets[dataset];
        if self.spec.unreadable.column(&d.name.name, &attr.name) {
            self.poisoned = true;
            return;
        }
        let names: Vec<&str> = d.features.iter().chain(&d.targets).map(|c| c.name.name.as_str()).collect();
        let diag = Diagnostic::error(attr.span, format!("dataset `{}` has no column `{}`", d.name.name, attr.name));
        let diag = suggest(diag, &attr.name, names.iter().copied())
            .with_note(format!("its columns are: {}", names.join(", ")));
        self.report(diag);
    }

    fn resolve_learnables(&mut self) {
        let spec = self.spec;
        for l in &spec.learnables {
            let net = self.resolve_learnable(l);
            self.nets.push(net);
        }
    }

    fn resolve_learnable(&mut self, l: &'s Learnable) -> Option<Net<'s>> {
        let mut dataset = None;
        let mut inputs: Vec<&Column> = Vec::new();
        let mut complete = true;
        for f in &l.input {
            let Some((d, attr)) = self.dataset_of_ref(&f.expr, "an input") else {
                complete = false;
                continue;
            };
            if let Some(prev) = dataset.filter(|&p| p != d) {
                self.report(Diagnostic::error(
                    f.expr.span,
                    format!(
                        "learnable `{}` reads two datasets, `{}` and `{}`",
                        l.name.name, self.dataset_names[prev], self.dataset_names[d]
                    ),
                ));
                continue;
            }
            dataset = Some(d);
            match attr {
                None => inputs.extend(&spec_features(self.spec, d)[..]),
                Some(a) if a.name == "features" => inputs.extend(&spec_features(self.spec, d)[..]),
                Some(a) => match self.column_of(d, &a) {
                    Some((true, c)) => inputs.push(c),
                    Some((false, c)) => {
                        complete = false;
                        self.report(
                            Diagnostic::error(
                                a.span,
                                format!("`{}` is a target of `{}`, not a feature", c.name.name, self.dataset_names[d]),
                            )
                            .with_help("a learnable reads features and predicts a target: put targets under `output`"),
                        );
                    }
                    None => complete = false,
                },
            }
        }
        let d = dataset.filter(|_| complete)?;
        if let Some(c) = inputs.iter().find(|c| matches!(c.ty, ColumnType::Image { .. } | ColumnType::Grid { .. })) {
            if inputs.len() > 1 {
                let what = if matches!(c.ty, ColumnType::Grid { .. }) { "a grid" } else { "an image" };
                let span = l.input.first().map_or(l.name.span, |f| f.expr.span);
                self.report(
                    Diagnostic::error(
                        span,
                        format!("`{}` is {what}: it can only be a learnable's single input", c.name.name),
                    )
                    .with_help(format!("write `input: {}.{}`", self.dataset_names[d], c.name.name)),
                );
                return None;
            }
        }
        if let Some(stated) = l.dataset.as_ref().filter(|s| s.name != self.dataset_names[d]) {
            self.report(
                Diagnostic::error(
                    stated.span,
                    format!("learnable `{}` reads `{}`, not `{}`", l.name.name, self.dataset_names[d], stated.name),
                )
                .with_help(format!("write `dataset: {}`, or leave `dataset` out", self.dataset_names[d])),
            );
            return None;
        }
        let (od, attr) = self.dataset_of_ref(&l.output.expr, "`output`")?;
        let Some(attr) = attr else {
            self.report(Diagnostic::error(l.output.expr.span, "`output` must name one column, e.g. `mnist.value`"));
            return None;
        };
        if od != d {
            self.report(Diagnostic::error(
                l.output.expr.span,
                format!(
                    "learnable `{}` reads `{}` but predicts a column of `{}`",
                    l.name.name, self.dataset_names[d], self.dataset_names[od]
                ),
            ));
            return None;
        }
        let (_, col) = self.column_of(od, &attr)?;
        let cell = self.columns[od].get(&col.name.name).map(Type::cell);
        let Some(&Type::Category(domain)) = cell else {
            self.report(
                Diagnostic::error(
                    l.output.expr.span,
                    format!("`output` must be a categorical column; `{}` is not", attr.name),
                )
                .with_help("give the column its `values`, so that the network predicts one of them"),
            );
            return None;
        };
        for (f, _) in &l.encodings {
            let unreadable = self.spec.unreadable.column(&self.dataset_names[d], &f.name);
            if !unreadable && !inputs.iter().any(|c| c.name.name == f.name) {
                let names: Vec<&str> = inputs.iter().map(|c| c.name.name.as_str()).collect();
                let diag =
                    Diagnostic::error(f.span, format!("`{}` is not an input of learnable `{}`", f.name, l.name.name));
                self.report(suggest(diag, &f.name, names.iter().copied()));
            }
        }
        self.check_model(l, &inputs, d, domain, col);
        if let Some(decode) = l.decode.as_ref().filter(|d| d.value == Decode::Iterative) {
            if let Err(reason) = refill(&inputs, col) {
                self.report(
                    Diagnostic::error(decode.span, format!("`decode: iterative` needs {reason}"))
                        .with_note(
                            "it fills the input grid's empty cells one at a time with the classes predicted there",
                        )
                        .with_help("remove `decode`, or read one grid and predict a grid of the same shape"),
                );
            }
        }
        Some(Net { dataset: d, domain, output: col })
    }

    /// Checks that need no tensor shapes: image layers on images, the output layer's size.
    fn check_model(&mut self, l: &Learnable, inputs: &[&Column], dataset: usize, domain: DomainId, output: &Column) {
        let image = matches!(inputs, [c] if c.ty.spatial());
        let photo = matches!(inputs, [c] if matches!(c.ty, ColumnType::Image { .. }));
        let (classes, cells) = (self.domains[domain].values.len(), output.ty.cells());
        let scores = if cells == 1 {
            format!("the {classes} classes")
        } else {
            format!("the {classes} classes of {cells} cells")
        };
        if let Some(d) = augment_problem(l, photo, cells) {
            self.report(d);
        }
        match &l.model {
            Model::Architecture { name, .. } if name.value == Architecture::Lenet && !image => {
                self.report(
                    Diagnostic::error(name.span, "`lenet` needs one image input")
                        .with_help("use `architecture: mlp` for tabular inputs"),
                );
            }
            Model::Layers(layers) => {
                for layer in layers {
                    let spatial =
                        matches!(layer.value, Layer::Conv2d { .. } | Layer::MaxPool { .. } | Layer::AvgPool { .. });
                    if spatial && !image {
                        self.report(
                            Diagnostic::error(layer.span, "this layer needs an image input")
                                .with_note(format!("learnable `{}` reads tabular features", l.name.name)),
                        );
                        break;
                    }
                }
                let linear: Vec<&Spanned<Layer>> =
                    layers.iter().filter(|x| matches!(x.value, Layer::Linear { .. })).collect();
                if let Some(unsized_early) =
                    linear.iter().rev().skip(1).find(|x| matches!(x.value, Layer::Linear { units: None, .. }))
                {
                    self.report(
                        Diagnostic::error(unsized_early.span, "only the last linear layer may leave out `units`")
                            .with_help("give this layer its size, e.g. `linear: {units: 120, activation: relu}`"),
                    );
                }
                // A grid's cells may be scored by a last convolution with one channel per class
                // (the network's feature map is the grid).
                let last_conv = match layers.last().map(|x| &x.value) {
                    Some(Layer::Conv2d { channels, .. }) if cells > 1 => Some(*channels),
                    _ => None,
                };
                if linear.is_empty() && last_conv.is_none() {
                    let span = layers.last().map_or(l.name.span, |x| x.span);
                    self.report(
                        Diagnostic::error(span, format!("the layers end without a `linear` layer to score {scores}"))
                            .with_help("end with `- linear: {activation: softmax}`; its size comes from the output"),
                    );
                }
                if let (Some(channels), Some(last)) = (last_conv, layers.last()) {
                    if channels as usize != classes {
                        self.report(
                            Diagnostic::error(
                                last.span,
                                format!(
                                    "the last convolution scores the cells with {channels} channels, but `{}` has {classes} values",
                                    self.domains[domain].name
                                ),
                            )
                            .with_help(format!("write `channels: {classes}`: one per class")),
                        );
                    }
                }
                if let Some(Spanned { value: Layer::Linear { input: Some(stated), .. }, span }) = layers.first() {
                    let partial = self.spec.unreadable.any_column(&self.dataset_names[dataset]);
                    if let Some(width) = self
                        .input_width(l, &self.spec.datasets[dataset], inputs)
                        .filter(|&w| w != *stated as usize && !partial)
                    {
                        self.report(
                            Diagnostic::error(*span, format!("its `input` says {stated}, but the inputs are {width} values"))
                                .with_note("a category is one value per class (one-hot) unless `encodings` makes it `ordinal`; a number is one value")
                                .with_help(format!("write `input: {width}`, or leave `input` out: it comes from the data")),
                        );
                    }
                }
                let last_linear = linear.last().copied().filter(|_| last_conv.is_none());
                if let Some(Spanned { value: Layer::Linear { units: Some(u), .. }, span }) = last_linear {
                    if *u as usize != classes * cells {
                        let values = if cells == 1 {
                            format!("`{}` has {classes} values", self.domains[domain].name)
                        } else {
                            format!("`{}` has {cells} cells of {classes} values", output.name.name)
                        };
                        self.report(
                            Diagnostic::error(*span, format!("the last linear layer has {u} units, but {values}"))
                                .with_help("leave `units` out of the last layer: its size comes from the output"),
                        );
                    }
                }
            }
            _ => {}
        }
    }

    /// How many numbers a tabular learnable reads, as the encoder lays them out; `None` where that
    /// depends on more than the declarations (images, per-input transforms, rule features).
    /// The values a learnable's inputs encode into, as the data's encoder makes them (rules that
    /// embedding or structuring add are not part of the network the spec describes).
    fn input_width(&self, l: &Learnable, dataset: &Dataset, inputs: &[&Column]) -> Option<usize> {
        let chosen = l.chosen_encodings(dataset);
        inputs
            .iter()
            .map(|c| match &c.ty {
                ColumnType::Category(values) | ColumnType::Grid { values, .. } => {
                    let encoding = chosen.iter().find(|(f, _)| *f == c.name.name).map(|(_, e)| *e);
                    let per_cell =
                        if matches!(encoding, Some(Encoding::Ordinal | Encoding::Raw)) { 1 } else { values.len() };
                    Some(per_cell * c.ty.cells())
                }
                ColumnType::Int | ColumnType::Real | ColumnType::Bool => Some(1),
                ColumnType::Vector(n) => Some(*n as usize),
                _ => None,
            })
            .sum()
    }

    fn find_recursion(&mut self) {
        let spec = self.spec;
        let index: HashMap<&str, usize> =
            spec.rules.iter().enumerate().map(|(i, r)| (r.name.name.as_str(), i)).collect();
        let calls: Vec<Vec<(usize, Span)>> = spec
            .rules
            .iter()
            .map(|r| {
                let mut out = Vec::new();
                collect_calls(&r.clause.expr, &mut |name, span| {
                    if let Some(&j) = index.get(name) {
                        if !r.args.iter().any(|a| a.name == name) {
                            out.push((j, span));
                        }
                    }
                });
                out
            })
            .collect();
        // Depth-first search; a call to a rule on the current path closes a cycle.
        let mut state = vec![0u8; spec.rules.len()];
        for start in 0..spec.rules.len() {
            let mut path: Vec<(usize, usize)> = Vec::new();
            if state[start] != 0 {
                continue;
            }
            state[start] = 1;
            path.push((start, 0));
            while let Some(&mut (node, ref mut next)) = path.last_mut() {
                if let Some(&(callee, span)) = calls[node].get(*next) {
                    *next += 1;
                    match state[callee] {
                        0 => {
                            state[callee] = 1;
                            path.push((callee, 0));
                        }
                        1 => {
                            let from = path.iter().position(|p| p.0 == callee).unwrap_or(0);
                            let cycle: Vec<usize> = path[from..].iter().map(|p| p.0).collect();
                            let names: Vec<&str> = cycle
                                .iter()
                                .chain(std::iter::once(&callee))
                                .map(|&r| spec.rules[r].name.name.as_str())
                                .collect();
                            self.cyclic.extend(cycle);
                            self.report(Diagnostic::error(span, format!("rule `{}` is recursive: {}", spec.rules[callee].name.name, names.join(" → ")))
                                .with_help("rules cannot call themselves; unroll the recursion, or use a comprehension over the items"));
                        }
                        _ => {}
                    }
                } else {
                    state[node] = 2;
                    path.pop();
                }
            }
        }
    }

    /// Checks each rule once with arguments of unknown type: this finds unresolved names and wrong
    /// arities even in rules that nothing calls. Type errors show up per call, with real types.
    fn check_rule_bodies(&mut self) {
        let spec = self.spec;
        for (i, r) in spec.rules.iter().enumerate() {
            let args: Vec<Typed> = r.args.iter().map(|_| Typed::unknown()).collect();
            self.instantiate(i, args);
        }
        self.used_rules.clear();
        self.memo.clear();
    }

    fn instantiate(&mut self, rule: usize, args: Vec<Typed>) -> Typed {
        if self.cyclic.contains(&rule) || self.active.contains(&rule) {
            return Typed::unknown();
        }
        self.used_rules.insert(rule);
        let key = (rule, args);
        if let Some((t, eff)) = self.memo.get(&key).cloned() {
            self.effects.merge(&eff);
            return t;
        }
        let r = &self.spec.rules[rule];
        let mut scope: Vec<(String, Typed)> =
            r.args.iter().map(|a| a.name.clone()).zip(key.1.iter().cloned()).collect();
        let outer = std::mem::take(&mut self.effects);
        let record = std::mem::replace(&mut self.record, false);
        self.active.push(rule);
        let t = self.expr(&r.clause.expr, &mut scope);
        self.active.pop();
        self.record = record;
        let eff = std::mem::replace(&mut self.effects, outer);
        self.effects.merge(&eff);
        self.memo.insert(key, (t.clone(), eff));
        t
    }

    fn check_constraints(&mut self) -> Vec<ConstraintInfo> {
        let spec = self.spec;
        let weight = |c: &crate::spec::Constraint| c.weight.as_ref().map_or(1.0, |w| w.value);
        let trained = || spec.constraints.iter().filter(|c| !c.measured_only());
        let total: f64 = trained().map(weight).sum();
        if let Some(first) = trained().next().filter(|_| total == 0.0) {
            let span = first.span;
            self.report(
                Diagnostic::error(span, "every constraint has weight 0, so none would be learned")
                    .with_help("give at least one constraint a positive `weight`"),
            );
        }
        let mut out = Vec::new();
        for (index, c) in spec.constraints.iter().enumerate() {
            self.effects = Effects::default();
            self.poisoned = false;
            let errors_before = self.diags.iter().filter(|d| d.is_error()).count();
            self.record = true;
            self.measuring = c.measured_only();
            let mut results = Vec::new();
            for f in c.kind.formulas() {
                let t = self.expr(&f.expr, &mut Vec::new());
                results.push((f, t));
            }
            self.record = false;
            self.measuring = false;
            let effects = std::mem::take(&mut self.effects);
            let mut row_wise = false;
            for (f, t) in &results {
                let (col, elem) = t.ty.split_column();
                row_wise |= col.is_some();
                if !elem.is_bool() {
                    let shown = self.show(&t.ty);
                    self.report(
                        Diagnostic::error(
                            f.expr.span,
                            format!("a constraint must be true or false, this formula is {shown}"),
                        )
                        .with_label("not a condition"),
                    );
                }
            }
            if effects.instances && effects.columns && !row_wise {
                self.report(Diagnostic::error(c.span, "this constraint mixes instance variables with whole columns")
                    .with_help("a constraint holds either per example (instances such as `x1`) or per batch (columns such as `adult.race`)"));
            }
            let latent = results.iter().any(|(_, t)| t.latent);
            let clean = !self.poisoned && self.diags.iter().filter(|d| d.is_error()).count() == errors_before;
            if !latent && clean {
                self.report(
                    Diagnostic::warning(c.span, "this constraint has no latent part: nothing to learn")
                        .with_help("a constraint teaches a network only if it applies a learnable, e.g. `digit(x1)`"),
                );
            }
            if let ConstraintKind::IfThen { guard, then } = &c.kind {
                if results[0].1.latent && !results[1].1.latent {
                    self.report(
                        Diagnostic::warning(then.expr.span, "the guard is latent but the consequence is observed")
                            .with_note(format!("`{}` will be read as a condition on the networks", guard.text)),
                    );
                }
            }
            let measured = c.measured_only();
            if let Some(w) = c.weight.as_ref().filter(|_| measured) {
                self.report(
                    Diagnostic::warning(
                        w.span,
                        "`weight` is not used: this constraint is only measured (`train: false`)",
                    )
                    .with_help("remove `weight`, or `train: false` to train it"),
                );
            }
            let weight = if measured { 0.0 } else { weight(c) };
            out.push(ConstraintInfo {
                id: ConstraintId::at(index),
                kind: c.kind.keyword(),
                name: c.name.as_ref().map(|n| n.value.clone()),
                formulas: c.kind.formulas().iter().map(|f| f.text.clone()).collect(),
                weight,
                share: if total > 0.0 { weight / total } else { 0.0 },
                scope: if effects.columns && !row_wise { Scope::ColumnWise } else { Scope::InstanceWise },
                latent: effects.latent,
                supervises: None,
                trained: false,
                measured,
            });
        }
        out
    }

    fn check_optimization(&mut self) {
        let o = &self.spec.optimization;
        let injection = o.injection.as_ref().map(|i| i.value);
        if let Some(h) = &o.hard {
            if !matches!(injection, Some(Injection::Em | Injection::Lp)) {
                self.report(Diagnostic::warning(h.span, "`hard` applies to `injection: em` and `lp` only"));
            }
        }
        if let Some(schedule) = &o.schedule {
            let epochs = o.epochs.as_ref().map_or(Optimization::DEFAULT_EPOCHS, |e| e.value);
            for d in schedule_problems(&schedule.value, epochs) {
                self.report(d);
            }
        }
        let weakly = matches!(injection, Some(i) if i != Injection::Supervised);
        if weakly && !self.spec.trains_constraints() && !self.spec.unreadable.sections.contains("constraints") {
            let span = o.injection.as_ref().map_or(Span::default(), |i| i.span);
            let has = match self.spec.constraints.is_empty() {
                true => "constraints, and the spec has none",
                false => "constraints to train, and every one is `train: false`",
            };
            self.report(
                Diagnostic::error(span, format!("injection `{}` needs {has}", injection.map_or("", Injection::name)))
                    .with_help("add a `constraints` section, or use `injection: supervised`"),
            );
        }
    }

    fn show(&self, t: &Type) -> String {
        t.show(&self.domains, &self.dataset_names)
    }

    fn show_column(&self, c: &Column) -> String {
        match &c.ty {
            ColumnType::Int => "int".into(),
            ColumnType::Real => "real".into(),
            ColumnType::Bool => "bool".into(),
            ColumnType::Image { channels: 1, height, width } => format!("image[{height}x{width}]"),
            ColumnType::Image { channels, height, width } => format!("image[{channels}x{height}x{width}]"),
            ColumnType::Vector(n) => format!("vector[{n}]"),
            ColumnType::Category(values) => show_values(values),
            ColumnType::Grid { shape, values } => {
                let dims: Vec<String> = shape.iter().map(u32::to_string).collect();
                format!("grid[{}] of {}", dims.join("x"), show_values(values))
            }
        }
    }

    fn program(&mut self, constraints: Vec<ConstraintInfo>) -> Program {
        let spec = self.spec;
        let datasets = spec
            .datasets
            .iter()
            .map(|d| DatasetInfo {
                name: d.name.name.clone(),
                source: match (&d.source, &d.training) {
                    (Some(s), _) => format!("built-in {}", s.value.name()),
                    (None, Some(t)) => t.path.value.clone(),
                    _ => String::new(),
                },
                features: d
                    .features
                    .iter()
                    .map(|c| ColumnInfo { name: c.name.name.clone(), ty: self.show_column(c) })
                    .collect(),
                targets: d
                    .targets
                    .iter()
                    .map(|c| ColumnInfo { name: c.name.name.clone(), ty: self.show_column(c) })
                    .collect(),
                instances: d
                    .instances
                    .iter()
                    .map(|i| match &i.count {
                        Some(n) => format!("{}[{}]", i.name.name, n.value),
                        None => i.name.name.clone(),
                    })
                    .collect(),
            })
            .collect();
        let learnables = spec
            .learnables
            .iter()
            .zip(&self.nets)
            .filter_map(|(l, net)| {
                let net = net.as_ref()?;
                let d = &spec.datasets[net.dataset];
                let read: Vec<&Column> = l
                    .input
                    .iter()
                    .flat_map(|f| match &f.expr.kind {
                        ExprKind::Attr { attr, .. } if attr.name != "features" => {
                            d.features.iter().filter(|c| c.name.name == attr.name).collect()
                        }
                        _ => spec_features(spec, net.dataset),
                    })
                    .collect();
                let id = |c: &Column| ColumnId {
                    dataset: net.dataset,
                    column: d.columns().position(|x| x.name.name == c.name.name).expect("a column of the dataset"),
                };
                let inputs = read
                    .iter()
                    .map(|c| ColumnInfo { name: format!("{}.{}", d.name.name, c.name.name), ty: self.show_column(c) })
                    .collect();
                Some(LearnableInfo {
                    input_columns: read.iter().map(|c| id(c)).collect(),
                    output_column: id(net.output),
                    name: l.name.name.clone(),
                    dataset: self.dataset_names[net.dataset].clone(),
                    inputs,
                    output: self.domains[net.domain].name.clone(),
                    classes: self.domains[net.domain].values.len(),
                    cells: net.output.ty.cells(),
                    model: match &l.model {
                        Model::Architecture { name, hidden } if hidden.is_empty() => name.value.name().to_string(),
                        Model::Architecture { name, hidden } => {
                            format!("{} {:?}", name.value.name(), hidden.iter().map(|h| h.value).collect::<Vec<_>>())
                        }
                        Model::Layers(layers) => format!("{} layers", layers.len()),
                    },
                })
            })
            .collect();
        let rules: Vec<RuleInfo> = spec
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| RuleInfo {
                name: r.name.name.clone(),
                args: r.args.iter().map(|a| a.name.clone()).collect(),
                used: self.used_rules.contains(&i),
            })
            .collect();
        // While there are errors, a rule may look unused only because its caller failed.
        let errors = spec.unreadable.any || self.diags.iter().any(Diagnostic::is_error);
        for (r, info) in spec.rules.iter().zip(&rules).filter(|_| !errors) {
            let constraints_unreadable = spec.unreadable.sections.contains("constraints");
            // A rule whose name clashed was reported already and cannot be called.
            let declared = matches!(self.globals.get(&r.name.name), Some(Global::Rule(j)) if spec.rules[*j].name.span == r.name.span);
            if !declared {
                continue;
            }
            if !info.used
                && !constraints_unreadable
                && !self.cyclic.iter().any(|&c| spec.rules[c].name.name == r.name.name)
            {
                self.report(Diagnostic::warning(r.name.span, format!("rule `{}` is never used", r.name.name)));
            }
        }
        Program {
            // Set by `training::plan`.
            training: Training::Supervised,
            injection_written: false,
            correction: None,
            datasets,
            domains: self.domains.clone(),
            learnables,
            rules,
            constraints,
            types: std::mem::take(&mut self.types),
            calls: std::mem::take(&mut self.calls),
            attributes: std::mem::take(&mut self.attributes),
            black_boxes: std::mem::take(&mut self.black_boxes),
        }
    }
}

/// Iterative decoding's correspondence (`decode: iterative`): the learnable reads one grid and
/// predicts one of the same shape, each output value is an input value, and exactly one input
/// value is not (the empty cell's). Gives the empty value's position among the input values, and
/// each output value's.
pub fn refill(inputs: &[&Column], output: &Column) -> Result<(usize, Vec<usize>), String> {
    let [input] = inputs else { return Err("one input, a grid".into()) };
    let (ColumnType::Grid { shape: a, values: given }, ColumnType::Grid { shape: b, values: predicted }) =
        (&input.ty, &output.ty)
    else {
        return Err("a grid input and a grid output".into());
    };
    if a != b {
        return Err("an input grid of the output's shape".into());
    }
    let position = |v: &CategoryValue| given.iter().position(|g| g.value == v.value);
    let fill: Option<Vec<usize>> = predicted.iter().map(position).collect();
    let Some(fill) = fill else {
        return Err(format!("every value of `{}` among the values of `{}`", output.name.name, input.name.name));
    };
    let empty: Vec<usize> = (0..given.len()).filter(|i| !fill.contains(i)).collect();
    match empty.as_slice() {
        [e] => Ok((*e, fill)),
        _ => Err(format!(
            "exactly one value of `{}` that `{}` does not have (the empty cell's)",
            input.name.name, output.name.name
        )),
    }
}

fn show_values(values: &[CategoryValue]) -> String {
    let shown: Vec<String> = values.iter().map(|v| v.value.to_string()).collect();
    if shown.len() > 6 {
        format!("category of {} {{{}, …, {}}}", shown.len(), shown[..3].join(", "), shown[shown.len() - 1])
    } else {
        format!("category {{{}}}", shown.join(", "))
    }
}

/// The type of a value of a column whose cells are `cell`s: nested lists for a grid, one list per
/// dimension (`board[r][c]`), the cell itself otherwise.
pub(crate) fn grid_type(column: &ColumnType, cell: Type) -> Type {
    match column {
        ColumnType::Grid { shape, .. } => shape.iter().fold(cell, |t, _| Type::List(Box::new(t))),
        _ => cell,
    }
}

fn spec_features(spec: &Spec, dataset: usize) -> Vec<&Column> {
    spec.datasets[dataset].features.iter().collect()
}

/// Every call of a plain name in `e`, with the span of the name.
fn collect_calls(e: &Expr, f: &mut dyn FnMut(&str, Span)) {
    if let ExprKind::Call { func, .. } = &e.kind {
        if let ExprKind::Name(n) = &func.kind {
            f(n, func.span);
        }
    }
    e.for_each_child(|c| collect_calls(c, f));
}

/// What is wrong with a learnable's `augment`, or why it does nothing: it moves single images, of
/// a network that scores one class (`cells` 1) and is trained.
fn augment_problem(l: &Learnable, photo: bool, cells: usize) -> Option<Diagnostic> {
    let a = l.augment.as_ref()?;
    let refused = |note: String| {
        Diagnostic::error(a.span, "`augment` moves the images of a network that reads one image and predicts one class")
            .with_note(note)
            .with_help("remove `augment`")
    };
    let name = &l.name.name;
    Some(if !photo {
        refused(format!("learnable `{name}` does not read one image (a board or features are not moved)"))
    } else if cells > 1 {
        refused(format!("learnable `{name}` scores {cells} cells of its image, which a shift or a turn would move"))
    } else if !a.value.moves() {
        Diagnostic::warning(a.span, "`augment` moves nothing")
            .with_help("give it a `shift`, a `rotate` or `flip: true`, or remove it")
    } else if l.frozen {
        Diagnostic::warning(a.span, format!("`augment` is not used: learnable `{name}` is frozen"))
            .with_note("a frozen network is not trained, and only training images are moved")
    } else {
        return None;
    })
}

/// What is wrong or unused in a learning-rate schedule over `epochs` epochs.
fn schedule_problems(s: &Schedule, epochs: u64) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    // A missing or unreadable `kind` was reported by the reader.
    let Some(kind) = &s.kind else { return problems };
    let step = kind.value == ScheduleKind::Step;
    if let Some(every) = s.every.as_ref().filter(|e| step && e.value >= epochs) {
        problems.push(
            Diagnostic::warning(
                every.span,
                format!("a cut every {} epochs never comes in {epochs} epochs", every.value),
            )
            .with_note("cuts are counted from the first epoch, warm-up included"),
        );
    }
    if step && s.every.is_none() {
        problems.push(
            Diagnostic::error(kind.span, "`kind: step` needs `every`: the epochs between cuts")
                .with_help("e.g. `schedule: {kind: step, every: 10, gamma: 0.1}`"),
        );
    }
    for (key, written) in [("every", s.every.as_ref().map(|e| e.span)), ("gamma", s.gamma.as_ref().map(|g| g.span))] {
        if let Some(at) = written.filter(|_| !step) {
            problems.push(
                Diagnostic::warning(at, format!("`{key}` is not used: the schedule is `{}`", kind.value.name()))
                    .with_note(format!("`{key}` is read by `kind: step`")),
            );
        }
    }
    if let Some(w) = s.warmup.as_ref().filter(|w| w.value >= epochs as f64) {
        problems.push(
            Diagnostic::error(
                w.span,
                format!("a warm-up of {} epochs leaves none of the {epochs} to train at the full rate", w.value),
            )
            .with_help("shorten `warmup`, or train for more `epochs`"),
        );
    }
    problems
}
