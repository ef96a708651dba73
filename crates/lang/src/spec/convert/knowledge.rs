//! The `knowledge` and `constraints` sections: rules and constraints over formulas.

use super::Reader;
use crate::diag::Diagnostic;
use crate::formula::Ident;
use crate::spec::keys::{CONSTRAINT_KEYS, RULE_KEYS};
use crate::spec::model::*;
use crate::yaml::{key_text, Entry, Node, NodeKind};

impl Reader<'_> {
    /// The items of a section that is a list; anything else is reported (a mapping with `help`)
    /// and the section is remembered as unreadable.
    fn section_items<'n>(
        &mut self,
        node: &'n Node,
        section: &'static str,
        expected: &str,
        help: &str,
    ) -> Option<&'n [Node]> {
        if matches!(node.kind, NodeKind::Map(_)) {
            self.unreadable.sections.insert(section);
            let message = format!("`{section}` must be {expected}, found a mapping");
            self.error(Diagnostic::error(node.span, message).with_help(help));
            return None;
        }
        let items = self.list(node, &format!("`{section}`"));
        if items.is_none() {
            self.unreadable.sections.insert(section);
        }
        items
    }

    pub(super) fn rules(&mut self, node: &Node) -> Vec<Rule> {
        let help = "write each rule as a list item: `- rule: Flush` with `args: [h]` and `clause: ...`";
        let Some(items) = self.section_items(node, "knowledge", "a list of rules", help) else {
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

    pub(super) fn rule(&mut self, node: &Node) -> Option<Rule> {
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

    pub(super) fn constraints(&mut self, node: &Node) -> Vec<Constraint> {
        let help = "write each constraint as a list item: `- always: FORMULA`";
        let Some(items) = self.section_items(node, "constraints", "a list", help) else {
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
        let forms: Vec<&Entry> = ["always", "never", "if", "iff", "cnf"].iter().filter_map(|k| m.entry(k)).collect();
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
            Some("cnf") => ConstraintKind::Always(self.cnf_constraint(&forms[0].value, &m)?),
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
        let train = m.get("train").and_then(|t| self.boolean(t, "a constraint's `train`"));
        Some(Constraint { kind, weight, name, train, span: m.span })
    }
}
