//! Rewrites of the SKI-lang prototype's formula spellings into the language's own, made once the
//! whole spec is read (they depend on the names it declares).

use super::model::{ConstraintKind, Formula, Spec};
use crate::formula::{CompFor, Expr, ExprKind, Ident, Target};
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
    let mut bound: HashSet<String> = spec.datasets.iter().map(|d| d.name.name.clone()).collect();
    bound.extend(spec.datasets.iter().flat_map(|d| d.instances.iter().map(|i| i.name.name.clone())));
    bound.extend(spec.learnables.iter().map(|l| l.name.name.clone()));
    bound.extend(spec.rules.iter().map(|r| r.name.name.clone()));
    let rewrite = |f: &mut Formula, local: &[String]| {
        let mut scope: Vec<String> = local.to_vec();
        subscripts(&mut f.expr, &columns, &bound, &mut scope);
    };
    for rule in &mut spec.rules {
        let args: Vec<String> = rule.args.iter().map(|a| a.name.clone()).collect();
        rewrite(&mut rule.clause, &args);
    }
    for c in &mut spec.constraints {
        match &mut c.kind {
            ConstraintKind::Always(f) | ConstraintKind::Never(f) => rewrite(f, &[]),
            ConstraintKind::IfThen { guard: a, then: b } | ConstraintKind::Iff(a, b) => {
                rewrite(a, &[]);
                rewrite(b, &[]);
            }
        }
    }
}

fn subscripts(e: &mut Expr, columns: &HashSet<String>, bound: &HashSet<String>, scope: &mut Vec<String>) {
    let go = |e: &mut Expr, scope: &mut Vec<String>| subscripts(e, columns, bound, scope);
    match &mut e.kind {
        ExprKind::Index { base, index } => {
            go(base, scope);
            let column = match &index.kind {
                ExprKind::Name(c) if columns.contains(c) && !bound.contains(c) && !scope.contains(c) => Some(c.clone()),
                _ => None,
            };
            match column {
                Some(name) => {
                    let attr = Ident { name, span: index.span };
                    let base =
                        std::mem::replace(base, Box::new(Expr { id: e.id, span: e.span, kind: ExprKind::Error }));
                    e.kind = ExprKind::Attr { base, attr };
                }
                None => go(index, scope),
            }
        }
        ExprKind::Comprehension { element, clauses, .. } => {
            let depth = scope.len();
            for CompFor { target, iter, conds } in clauses.iter_mut() {
                go(iter, scope);
                bind(target, scope);
                for c in conds {
                    go(c, scope);
                }
            }
            go(element, scope);
            scope.truncate(depth);
        }
        ExprKind::Attr { base, .. } => go(base, scope),
        ExprKind::Slice { base, lower, upper, step } => {
            go(base, scope);
            for b in [lower, upper, step].into_iter().flatten() {
                go(b, scope);
            }
        }
        ExprKind::Call { func, args } => {
            go(func, scope);
            for a in args {
                go(a, scope);
            }
        }
        ExprKind::Unary { operand, .. } => go(operand, scope),
        ExprKind::Binary { lhs, rhs, .. } => {
            go(lhs, scope);
            go(rhs, scope);
        }
        ExprKind::Compare { first, rest } => {
            go(first, scope);
            for (_, _, r) in rest {
                go(r, scope);
            }
        }
        ExprKind::IfElse { cond, then, otherwise } => {
            go(cond, scope);
            go(then, scope);
            go(otherwise, scope);
        }
        ExprKind::List(items) | ExprKind::Tuple(items) => {
            for i in items {
                go(i, scope);
            }
        }
        ExprKind::Int { .. }
        | ExprKind::Float(_)
        | ExprKind::Str(_)
        | ExprKind::Bool(_)
        | ExprKind::Name(_)
        | ExprKind::Error => {}
    }
}

fn bind(target: &Target, scope: &mut Vec<String>) {
    match target {
        Target::Name(i) => scope.push(i.name.clone()),
        Target::Tuple(items, _) => items.iter().for_each(|t| bind(t, scope)),
    }
}
