//! Rewrites of the SKI-lang prototype's formula spellings into the language's own, made once the
//! whole spec is read (they depend on the names it declares).

use super::model::{ConstraintKind, Formula, Spec, Value};
use crate::formula::{CmpOp, CompFor, Expr, ExprKind, Ident, Target};
use std::collections::HashSet;

/// The prototype's `x[column]` (its `x[:, column]`, a column of the instances `x`) as `x.column`:
/// where `column` is a column of some dataset and no name in scope (an argument, a comprehension
/// variable, a dataset, an instance, a learnable, a rule) is spelt so.
pub(super) fn column_subscripts(spec: &mut Spec) {
    let columns: HashSet<String> =
        spec.datasets.iter().flat_map(|d| d.features.iter().chain(&d.targets).map(|c| c.name.name.clone())).collect();
    if columns.is_empty() {
        return;
    }
    let bound = declared_names(spec);
    each_formula(spec, |f, args| subscripts(&mut f.expr, &columns, &bound, &mut args.to_vec()));
}

/// The names a spec declares: datasets, their instances, learnables and rules.
fn declared_names(spec: &Spec) -> HashSet<String> {
    let datasets = spec.datasets.iter().map(|d| &d.name);
    let instances = spec.datasets.iter().flat_map(|d| d.instances.iter().map(|i| &i.name));
    let learnables = spec.learnables.iter().map(|l| &l.name);
    let rules = spec.rules.iter().map(|r| &r.name);
    datasets.chain(instances).chain(learnables).chain(rules).map(|n| n.name.clone()).collect()
}

/// Calls `f` on every rule's clause, with the rule's arguments, and every constraint's formulas.
fn each_formula(spec: &mut Spec, mut f: impl FnMut(&mut Formula, &[String])) {
    for rule in &mut spec.rules {
        let args: Vec<String> = rule.args.iter().map(|a| a.name.clone()).collect();
        f(&mut rule.clause, &args);
    }
    for c in &mut spec.constraints {
        for formula in formulas_mut(&mut c.kind) {
            f(formula, &[]);
        }
    }
}

fn formulas_mut(kind: &mut ConstraintKind) -> Vec<&mut Formula> {
    match kind {
        ConstraintKind::Always(f) | ConstraintKind::Never(f) => vec![f],
        ConstraintKind::IfThen { guard: a, then: b } | ConstraintKind::Iff(a, b) => vec![a, b],
    }
}

/// The prototype's bare column names in a constraint (`over50k(person) == income`, its target
/// tensor for the batch) as `person.income`: where the constraint reads the instances of exactly
/// one instance variable, and the name is one of its dataset's columns and nothing else.
pub(super) fn bare_columns(spec: &mut Spec) {
    let mut taken = declared_names(spec);
    for d in &spec.datasets {
        for c in d.features.iter().chain(&d.targets) {
            if let Some(values) = c.ty.categories() {
                taken.extend(values.iter().filter_map(|v| match &v.value {
                    Value::Str(s) => Some(s.clone()),
                    Value::Int(_) => None,
                }));
            }
        }
    }
    let instances: Vec<(String, HashSet<String>)> = spec
        .datasets
        .iter()
        .flat_map(|d| {
            let columns: HashSet<String> = d.features.iter().chain(&d.targets).map(|c| c.name.name.clone()).collect();
            d.instances.iter().filter(|i| i.count.is_none()).map(move |i| (i.name.name.clone(), columns.clone()))
        })
        .collect();
    for c in &mut spec.constraints {
        let mut used = HashSet::new();
        for f in formulas_mut(&mut c.kind) {
            names(&f.expr, &mut used);
        }
        let mut reading = instances.iter().filter(|(x, _)| used.contains(x));
        let (Some((x, columns)), None) = (reading.next(), reading.next()) else { continue };
        for f in formulas_mut(&mut c.kind) {
            qualify(&mut f.expr, x, columns, &taken);
        }
    }
}

/// Every plain name `e` reads (not the names of called functions).
fn names(e: &Expr, out: &mut HashSet<String>) {
    match &e.kind {
        ExprKind::Name(n) => {
            out.insert(n.clone());
        }
        ExprKind::Call { args, .. } => args.iter().for_each(|a| names(a, out)),
        _ => e.for_each_child(|c| names(c, out)),
    }
}

fn qualify(e: &mut Expr, instance: &str, columns: &HashSet<String>, taken: &HashSet<String>) {
    match &mut e.kind {
        ExprKind::Name(n) if columns.contains(n) && !taken.contains(n) && n != instance => {
            let attr = Ident { name: n.clone(), span: e.span };
            let base = Expr { id: e.id, span: e.span, kind: ExprKind::Name(instance.to_string()) };
            e.kind = ExprKind::Attr { base: Box::new(base), attr };
        }
        ExprKind::Call { args, .. } => args.iter_mut().for_each(|a| qualify(a, instance, columns, taken)),
        // Comprehension variables could shadow a column's name: left as written.
        ExprKind::Comprehension { .. } => {}
        _ => e.for_each_child_mut(|c| qualify(c, instance, columns, taken)),
    }
}

fn subscripts(e: &mut Expr, columns: &HashSet<String>, bound: &HashSet<String>, scope: &mut Vec<String>) {
    match &mut e.kind {
        ExprKind::Index { base, index } => {
            subscripts(base, columns, bound, scope);
            match &index.kind {
                ExprKind::Name(c) if columns.contains(c) && !bound.contains(c) && !scope.contains(c) => {
                    let attr = Ident { name: c.clone(), span: index.span };
                    let base =
                        std::mem::replace(base, Box::new(Expr { id: e.id, span: e.span, kind: ExprKind::Error }));
                    e.kind = ExprKind::Attr { base, attr };
                }
                _ => subscripts(index, columns, bound, scope),
            }
        }
        ExprKind::Comprehension { element, clauses, .. } => {
            let depth = scope.len();
            for CompFor { target, iter, conds } in clauses.iter_mut() {
                subscripts(iter, columns, bound, scope);
                bind(target, scope);
                for c in conds {
                    subscripts(c, columns, bound, scope);
                }
            }
            subscripts(element, columns, bound, scope);
            scope.truncate(depth);
        }
        _ => e.for_each_child_mut(|c| subscripts(c, columns, bound, scope)),
    }
}

fn bind(target: &Target, scope: &mut Vec<String>) {
    match target {
        Target::Name(i) => scope.push(i.name.clone()),
        Target::Tuple(items, _) => items.iter().for_each(|t| bind(t, scope)),
    }
}

/// The prototype's list built-ins: `contains(xs, v)` is `v in xs`, `concat(a, b, …)` is
/// `[a, b, …]`; unless the spec declares that name.
pub(super) fn list_builtins(spec: &mut Spec) {
    let defined = declared_names(spec);
    each_formula(spec, |f, _| rewrite_calls(&mut f.expr, &defined));
}

fn rewrite_calls(e: &mut Expr, defined: &HashSet<String>) {
    e.for_each_child_mut(|c| rewrite_calls(c, defined));
    let ExprKind::Call { func, args } = &mut e.kind else { return };
    let ExprKind::Name(name) = &func.kind else { return };
    if defined.contains(name) {
        return;
    }
    match name.as_str() {
        "concat" => e.kind = ExprKind::List(std::mem::take(args)),
        "contains" if args.len() == 2 => {
            let (Some(value), Some(list)) = (args.pop(), args.pop()) else { return };
            e.kind = ExprKind::Compare { first: Box::new(value), rest: vec![(CmpOp::In, func.span, list)] };
        }
        _ => {}
    }
}
