//! `--set KEY=VALUE`: changes a value of a spec before it is read, so that a benchmark needs no
//! copy of a spec. KEY is a dotted path (`optimization.epochs`, `constraints.0.weight`); VALUE is
//! YAML (`3`, `adam`, `[64, 32]`). A missing key is added, so that its reader checks it.

use crate::source::{SourceFile, Span};
use crate::yaml::{self, key_text, Entry, Node, NodeKind, Scalar};

#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    pub path: Vec<String>,
    pub value: String,
}

impl std::str::FromStr for Override {
    type Err = String;

    fn from_str(s: &str) -> Result<Override, String> {
        let (key, value) = s.split_once('=').ok_or_else(|| format!("`{s}` is not KEY=VALUE"))?;
        let path: Vec<String> = key.trim().split('.').map(str::to_string).collect();
        if path.iter().any(String::is_empty) {
            return Err(format!("`{key}` is not a dotted path such as optimization.epochs"));
        }
        Ok(Override { path, value: value.trim().to_string() })
    }
}

impl std::fmt::Display for Override {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.path.join("."), self.value)
    }
}

/// Applies `o` to `root`; returns the span the new value takes (where the old one was written).
pub fn apply(root: &mut Node, o: &Override) -> Result<Span, String> {
    let value_file = SourceFile::new("--set", o.value.clone());
    let value = if o.value.is_empty() {
        Node { span: Span::default(), kind: NodeKind::Scalar(Scalar { text: String::new(), plain: true }) }
    } else {
        yaml::parse(&value_file).map_err(|d| format!("--set {o}: the value is not valid YAML ({})", d.message))?
    };
    let scalar = |text: &str| NodeKind::Scalar(Scalar { text: text.to_string(), plain: true });
    let (span, was_scalar, value) = {
        let mut node = &mut *root;
        for (depth, key) in o.path.iter().enumerate() {
            let here = o.path[..depth].join(".");
            let at = node.span;
            // An empty value (`optimization:` with nothing after it) takes keys like a mapping.
            if node.as_scalar().is_some_and(|s| s.plain && s.text.is_empty()) {
                node.kind = NodeKind::Map(Vec::new());
            }
            node = match &mut node.kind {
                NodeKind::Map(entries) => {
                    let i = match entries.iter().position(|e| key_text(&e.key) == key) {
                        Some(i) => i,
                        None => {
                            let empty = if depth + 1 < o.path.len() { NodeKind::Map(Vec::new()) } else { scalar("") };
                            entries.push(Entry {
                                key: Node { span: at, kind: scalar(key) },
                                value: Node { span: at, kind: empty },
                            });
                            entries.len() - 1
                        }
                    };
                    &mut entries[i].value
                }
                NodeKind::Seq(items) => {
                    let n = items.len();
                    let i: usize =
                        key.parse().map_err(|_| format!("--set {o}: `{here}` is a list; index it with a number"))?;
                    items
                        .get_mut(i)
                        .ok_or_else(|| format!("--set {o}: `{here}` has {n} items, there is no item {i}"))?
                }
                NodeKind::Scalar(_) => return Err(format!("--set {o}: `{here}` is a single value, it has no `{key}`")),
            };
        }
        let span = node.span;
        let was_scalar = node.as_scalar().is_some_and(|s| !s.text.is_empty());
        let value = relocate(value, span);
        *node = value.clone();
        (span, was_scalar, value)
    };
    // Aliases of an anchored scalar (`a: &n 4`, `b: *n`) share its span: setting it sets them all.
    if was_scalar {
        replace_at(root, span, &value);
    }
    Ok(span)
}

fn replace_at(node: &mut Node, span: Span, value: &Node) {
    match &mut node.kind {
        NodeKind::Scalar(_) if node.span == span => *node = value.clone(),
        NodeKind::Scalar(_) => {}
        NodeKind::Seq(items) => items.iter_mut().for_each(|n| replace_at(n, span, value)),
        NodeKind::Map(entries) => entries.iter_mut().for_each(|e| replace_at(&mut e.value, span, value)),
    }
}

/// The value's nodes all take `span`: they were written on the command line, not in the file.
fn relocate(mut node: Node, span: Span) -> Node {
    node.span = span;
    node.kind = match node.kind {
        NodeKind::Scalar(s) => NodeKind::Scalar(s),
        NodeKind::Seq(items) => NodeKind::Seq(items.into_iter().map(|n| relocate(n, span)).collect()),
        NodeKind::Map(entries) => NodeKind::Map(
            entries.into_iter().map(|e| Entry { key: relocate(e.key, span), value: relocate(e.value, span) }).collect(),
        ),
    };
    node
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(text: &str) -> Node {
        yaml::parse(&SourceFile::new("t.yaml", text.to_string())).unwrap()
    }

    fn get<'n>(node: &'n Node, path: &[&str]) -> &'n Node {
        path.iter().fold(node, |n, k| match &n.kind {
            NodeKind::Map(entries) => &entries.iter().find(|e| key_text(&e.key) == *k).unwrap().value,
            NodeKind::Seq(items) => &items[k.parse::<usize>().unwrap()],
            _ => panic!("no {k}"),
        })
    }

    #[test]
    fn setting_an_anchored_value_sets_its_aliases() {
        let mut t = tree("d:\n  a: &n 4\n  b: *n\n  c: 4\n");
        apply(&mut t, &"d.a=15".parse().unwrap()).unwrap();
        let text = |k: &str| get(&t, &["d", k]).as_scalar().unwrap().text.clone();
        assert_eq!((text("a"), text("b"), text("c")), ("15".into(), "15".into(), "4".into()));
    }

    #[test]
    fn replaces_adds_and_indexes() {
        let mut t = tree("optimization:\n  epochs: 10\nconstraints:\n  - always: a\n    weight: 1\n");
        let old = get(&t, &["optimization", "epochs"]).span;
        let span = apply(&mut t, &"optimization.epochs=3".parse().unwrap()).unwrap();
        assert_eq!(span, old);
        assert_eq!(get(&t, &["optimization", "epochs"]).as_scalar().unwrap().text, "3");
        apply(&mut t, &"optimization.seed=7".parse().unwrap()).unwrap();
        assert_eq!(get(&t, &["optimization", "seed"]).as_scalar().unwrap().text, "7");
        apply(&mut t, &"constraints.0.weight=[1, 2]".parse().unwrap()).unwrap();
        assert!(matches!(get(&t, &["constraints", "0", "weight"]).kind, NodeKind::Seq(_)));
        apply(&mut t, &"data.mnist.fraction=0.1".parse().unwrap()).unwrap();
        assert_eq!(get(&t, &["data", "mnist", "fraction"]).as_scalar().unwrap().text, "0.1");
    }

    #[test]
    fn bad_paths_and_values_are_explained() {
        let mut t = tree("optimization:\n  epochs: 10\nconstraints:\n  - always: a\n");
        assert!(apply(&mut t, &"constraints.3.weight=1".parse().unwrap()).unwrap_err().contains("no item 3"));
        assert!(apply(&mut t, &"optimization.epochs.x=1".parse().unwrap()).unwrap_err().contains("single value"));
        assert!(apply(&mut t, &"optimization.epochs=[1".parse().unwrap()).unwrap_err().contains("not valid YAML"));
        assert!("epochs".parse::<Override>().is_err());
        assert!("a..b=1".parse::<Override>().is_err());
    }
}
