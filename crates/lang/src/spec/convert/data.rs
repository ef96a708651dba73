//! The `data` section: datasets, their files, columns and instances.

use super::{is_identifier, pairs, Map, Reader};
use crate::diag::{suggest, Diagnostic};
use crate::formula::Ident;
use crate::source::Spanned;
use crate::spec::keys::{self, COLUMN_KEYS, DATASET_KEYS, FILE_KEYS, SPLIT_KEYS};
use crate::spec::model::*;
use crate::yaml::{key_text, Entry, Node, NodeKind, ScalarValue};
use std::collections::{HashMap, HashSet};

/// The most cells a grid column may have per row.
const MAX_CELLS: usize = 1 << 16;

impl Reader<'_> {
    /// The prototype's top-level `instances: [{hand: poker-hand}]`: the instance variable of one
    /// example of a dataset, which SKI-lang declares in the dataset as `instance_name: hand`.
    pub(super) fn top_level_instances(&mut self, node: &Node, datasets: &mut [Dataset]) {
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

    pub(super) fn dataset(&mut self, entry: &Entry) -> Option<Dataset> {
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
            !keys::has(DATASET_KEYS, key) && crate::diag::did_you_mean(key, ["features"]).is_some()
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
        let imbalance = m.get("imbalance").and_then(|n| self.imbalance(n, &targets));
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
            imbalance,
        })
    }

    /// `imbalance: {profile, ratio, test}`, over the dataset's one categorical target.
    fn imbalance(&mut self, node: &Node, targets: &[Column]) -> Option<Spanned<Imbalance>> {
        let m = self.map(node, "`imbalance`", keys::IMBALANCE_KEYS)?;
        let profile = m.get("profile").and_then(|n| self.keyword(n, "profile", TailProfile::SPELLINGS));
        let ratio = match m.get("ratio") {
            Some(n) => self.number_in(n, "`ratio`", 1.0, f64::INFINITY, false)?,
            None => {
                self.error(
                    Diagnostic::error(node.span, "`imbalance` needs a `ratio`")
                        .with_help("the most frequent class's size over the rarest's, e.g. `ratio: 50` (1: balanced)"),
                );
                return None;
            }
        };
        let test = m.get("test").and_then(|n| self.boolean(n, "`test`"));
        let categorical = targets.iter().filter(|c| matches!(c.ty, ColumnType::Category(_))).count();
        if categorical != 1 {
            self.error(
                Diagnostic::error(
                    node.span,
                    format!(
                        "`imbalance` counts rows per class of the dataset's one categorical target, and it has {}",
                        if categorical == 0 { "none".to_string() } else { categorical.to_string() }
                    ),
                )
                .with_help("declare one target with `values: [...]`; its classes' sizes are what `imbalance` shapes"),
            );
            return None;
        }
        let imbalance = Imbalance {
            profile: profile.map_or(TailProfile::Exp, |p| p.value),
            ratio: ratio.value,
            test: test.is_some_and(|t| t.value),
        };
        Some(Spanned::new(imbalance, node.span))
    }

    /// The value of key `a`, or of `b` that means the same (the prototype's spelling); not both.
    pub(super) fn either<'n>(&mut self, m: &Map<'n>, what: &str, a: &str, b: &str) -> Option<&'n Node> {
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
        let m = self.map(node, "`split`", SPLIT_KEYS)?;
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

    pub(super) fn column(&mut self, node: &Node) -> Option<Column> {
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
        let ty = match (m.get("shape"), ty) {
            (None, ty) => ty,
            (Some(shape), ColumnType::Category(values)) => ColumnType::Grid { shape: self.shape(shape)?, values },
            (Some(shape), _) => {
                self.error(
                    Diagnostic::error(
                        shape.span,
                        format!("only a categorical column has a `shape`; `{}` is not one", name.name),
                    )
                    .with_help("list the cells' `values`, e.g. `{name: board, values: [0, 1, 2], shape: [9, 9]}`"),
                );
                return None;
            }
        };
        Some(Column { name, ty, span: m.span })
    }

    /// A grid's `shape`: one or more positive sizes, `[9, 9]`.
    fn shape(&mut self, node: &Node) -> Option<Vec<u32>> {
        let NodeKind::Seq(items) = &node.kind else {
            self.error(
                Diagnostic::error(node.span, format!("`shape` must be a list of sizes, found {}", node.describe()))
                    .with_help("e.g. `shape: [9, 9]`"),
            );
            return None;
        };
        if items.is_empty() {
            self.error(
                Diagnostic::error(node.span, "`shape` needs at least one size").with_help("e.g. `shape: [9, 9]`"),
            );
            return None;
        }
        let sizes: Vec<u32> = items.iter().map(|i| self.u32(i, "a size in `shape`", 1)).collect::<Option<_>>()?;
        if sizes.iter().try_fold(1usize, |n, &d| n.checked_mul(d as usize)).is_none_or(|n| n > MAX_CELLS) {
            self.error(Diagnostic::error(node.span, format!("a grid has at most {MAX_CELLS} cells")));
            return None;
        }
        Some(sizes)
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

    pub(super) fn instances(&mut self, m: &Map<'_>, what: &str) -> Vec<InstanceDecl> {
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
}
