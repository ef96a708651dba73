//! A constraint given as a DIMACS CNF file and its atom map (`cnf:`, `atoms:`, `as:`), the pair
//! CL-STE publishes (`sudoku.cnf` + `sudoku.atom2idx`): each atom name is matched against the
//! patterns of `as`, whose formula becomes the atom, and the CNF becomes the formula
//! `all([any([atom, not (atom), …]), …])` — an ordinary `always:` constraint from then on, which
//! every injection trains and `check` types like any other.
//!
//! ```yaml
//! - name: rules
//!   cnf: cnf/sudoku.cnf              # beside the spec
//!   atoms: cnf/sudoku.atom2idx       # JSON: {"a(1,1,1)": 1, ...}
//!   as: {"a(R,C,N)": "solve(p)[R - 1][C - 1] == N"}
//! ```
//! A pattern's arguments that start with a capital letter are variables: they match any argument
//! of an atom name and stand for it in the formula.

use super::{Map, Reader};
use crate::diag::Diagnostic;
use crate::dimacs::Dimacs;
use crate::formula::{self, Expr, ExprKind};
use crate::spec::model::Formula;
use crate::yaml::{key_text, Node, NodeKind};
use std::collections::HashMap;

/// `name(a, b)` as its name and arguments; a bare `name` has none.
fn split_atom(text: &str) -> (&str, Vec<&str>) {
    let text = text.trim();
    match text.strip_suffix(')').and_then(|t| t.split_once('(')) {
        Some((name, args)) if !args.trim().is_empty() => (name.trim(), args.split(',').map(str::trim).collect()),
        Some((name, _)) => (name.trim(), Vec::new()),
        None => (text, Vec::new()),
    }
}

fn is_variable(arg: &str) -> bool {
    arg.starts_with(|c: char| c.is_ascii_uppercase()) && arg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A pattern of `as`, and the formula its atoms become.
struct Pattern<'t> {
    name: &'t str,
    args: Vec<&'t str>,
    template: &'t str,
}

impl Pattern<'_> {
    /// The formula for atom `name(args)`, when the pattern matches it.
    fn formula(&self, name: &str, args: &[&str]) -> Option<String> {
        if name != self.name || args.len() != self.args.len() {
            return None;
        }
        let mut bound: HashMap<&str, &str> = HashMap::new();
        for (&p, &a) in self.args.iter().zip(args) {
            match is_variable(p) {
                true if *bound.entry(p).or_insert(a) != a => return None,
                true => {}
                false if p != a => return None,
                false => {}
            }
        }
        // Each variable, as a whole word, is replaced by what it matched.
        let mut out = String::with_capacity(self.template.len());
        let mut word = String::new();
        for c in self.template.chars().chain(std::iter::once(' ')) {
            if c.is_ascii_alphanumeric() || c == '_' {
                word.push(c);
                continue;
            }
            out.push_str(bound.get(word.as_str()).copied().unwrap_or(&word));
            word.clear();
            out.push(c);
        }
        out.pop();
        Some(out)
    }
}

impl Reader<'_> {
    /// The formula of the constraint `cnf: FILE` with `atoms: FILE` and `as: {PATTERN: FORMULA}`.
    pub(super) fn cnf_constraint(&mut self, cnf: &Node, m: &Map) -> Option<Formula> {
        let (Some(atoms), Some(patterns)) = (m.get("atoms"), m.get("as")) else {
            self.error(
                Diagnostic::error(
                    cnf.span,
                    "a `cnf` constraint needs `atoms` (its atom map) and `as` (what each atom is)",
                )
                .with_help("e.g. `atoms: sudoku.atom2idx` and `as: {\"a(R,C,N)\": \"solve(p)[R - 1][C - 1] == N\"}`"),
            );
            return None;
        };
        let read = |r: &mut Self, node: &Node, what: &str| -> Option<(String, String)> {
            let name = r.text(node, what)?;
            let path = r.file.path().parent().unwrap_or(std::path::Path::new(".")).join(&name.value);
            match std::fs::read_to_string(&path) {
                Ok(text) => Some((name.value, text)),
                Err(e) => {
                    r.error(
                        Diagnostic::error(node.span, format!("cannot read {}: {e}", path.display()))
                            .with_note("the file is looked for beside the spec"),
                    );
                    None
                }
            }
        };
        let (cnf_name, cnf_text) = read(self, cnf, "`cnf`")?;
        let (atoms_name, atoms_text) = read(self, atoms, "`atoms`")?;
        let dimacs = match Dimacs::parse(&cnf_text) {
            Ok(d) => d,
            Err(e) => {
                self.error(Diagnostic::error(cnf.span, format!("{cnf_name}: {e}")).with_note(
                    "DIMACS CNF: `p cnf VARIABLES CLAUSES`, then clauses of signed variable numbers, each ended by 0",
                ));
                return None;
            }
        };
        let names: HashMap<String, i64> = match serde_json::from_str(&atoms_text) {
            Ok(n) => n,
            Err(e) => {
                self.error(Diagnostic::error(atoms.span, format!("{atoms_name}: {e}")).with_note(
                    "an atom map is a JSON object from each atom's name to its DIMACS variable, e.g. {\"a(1,1,1)\": 1}",
                ));
                return None;
            }
        };
        let mut by_variable: Vec<Option<&str>> = vec![None; dimacs.variables + 1];
        for (name, &v) in &names {
            if let Some(slot) = usize::try_from(v).ok().and_then(|v| by_variable.get_mut(v)) {
                *slot = Some(name);
            }
        }
        let NodeKind::Map(entries) = &patterns.kind else {
            self.error(
                Diagnostic::error(patterns.span, "`as` maps atom name patterns to formulas")
                    .with_help("e.g. `as: {\"a(R,C,N)\": \"solve(p)[R - 1][C - 1] == N\"}`"),
            );
            return None;
        };
        let mut templates = Vec::new();
        for e in entries {
            let template = self.text(&e.value, "an atom's formula")?;
            templates.push((key_text(&e.key).to_string(), template.value));
        }
        let patterns_list: Vec<Pattern> = templates
            .iter()
            .map(|(p, t)| {
                let (name, args) = split_atom(p);
                Pattern { name, args, template: t }
            })
            .collect();
        // Each variable's formula, once.
        let mut formulas: Vec<Option<String>> = vec![None; dimacs.variables + 1];
        for v in dimacs.clauses.iter().flatten().map(|l| l.unsigned_abs() as usize) {
            if formulas[v].is_some() {
                continue;
            }
            let Some(name) = by_variable[v] else {
                self.error(Diagnostic::error(
                    atoms.span,
                    format!("variable {v} of {cnf_name} has no name in {atoms_name}"),
                ));
                return None;
            };
            let (atom, args) = split_atom(name);
            let Some(f) = patterns_list.iter().find_map(|p| p.formula(atom, &args)) else {
                self.error(
                    Diagnostic::error(
                        patterns.span,
                        format!("atom `{name}` of {atoms_name} matches no pattern of `as`"),
                    )
                    .with_help("add a pattern for it, e.g. `\"NAME(X, Y)\": \"FORMULA over X and Y\"`"),
                );
                return None;
            };
            formulas[v] = Some(format!("({f})"));
        }
        let literal = |l: &i64| {
            let f = formulas[l.unsigned_abs() as usize].as_deref().unwrap_or("False");
            if *l > 0 {
                f.to_string()
            } else {
                format!("not {f}")
            }
        };
        let clauses: Vec<String> = dimacs
            .clauses
            .iter()
            .map(|c| format!("any([{}])", c.iter().map(literal).collect::<Vec<_>>().join(", ")))
            .collect();
        let text = format!("all([{}])", clauses.join(", "));
        // The formula is generated: every place in it is the `as` mapping's.
        let offsets = vec![patterns.span.start; text.len() + 1];
        let described = format!(
            "cnf {cnf_name} ({} clauses over {} atoms named by {atoms_name})",
            dimacs.clauses.len(),
            dimacs.variables
        );
        match formula::parse(&text, &offsets, &mut self.next_id) {
            Ok(expr) => Some(Formula { text: described, expr }),
            Err(d) => {
                self.error(d.with_note(format!("in the formulas `as` gives the atoms of {cnf_name}")));
                Some(Formula {
                    text: described,
                    expr: Expr { id: self.fresh_id(), span: patterns.span, kind: ExprKind::Error },
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_bind_their_capitalised_arguments() {
        let p = Pattern { name: "a", args: vec!["R", "C", "N"], template: "solve(p)[R - 1][C - 1] == N" };
        assert_eq!(p.formula("a", &["2", "3", "9"]).as_deref(), Some("solve(p)[2 - 1][3 - 1] == 9"));
        assert_eq!(p.formula("b", &["2", "3", "9"]), None);
        assert_eq!(p.formula("a", &["2", "3"]), None);
        let fixed = Pattern { name: "d", args: vec!["i1", "N"], template: "digit(x1) == N" };
        assert_eq!(fixed.formula("d", &["i1", "4"]).as_deref(), Some("digit(x1) == 4"));
        assert_eq!(fixed.formula("d", &["i2", "4"]), None);
        let same = Pattern { name: "e", args: vec!["X", "X"], template: "X" };
        assert_eq!(same.formula("e", &["1", "2"]), None);
        assert_eq!(split_atom(" aux(i1, 0,i2,9) "), ("aux", vec!["i1", "0", "i2", "9"]));
        assert_eq!(split_atom("p"), ("p", vec![]));
    }
}
