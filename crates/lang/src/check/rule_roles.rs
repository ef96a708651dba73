//! What each constraint is to embedding and structuring, which turn rules over one example's
//! observed inputs into features or neurons: the supervision they train by anyway, or a guard
//! `if: R(x)` linked to one class by `then: net(x) == class`. `check` reports every constraint
//! they cannot use; `logic::rulenet` builds the units of the guards.

use super::program::{ConstraintId, LearnableInfo, Program, Scope};
use crate::formula::{CmpOp, Expr, ExprKind};
use crate::source::Span;
use crate::spec::{ConstraintKind, Spec, Value};

/// A constraint that embedding or structuring can use.
#[derive(Clone, Debug, PartialEq)]
pub enum RuleRole {
    /// `net(x) == x.y` on the column `net` predicts.
    Supervision,
    /// `if: R(x)` then `net(x) == class`: the learnable's index, the instance, the class's index.
    Guard { learnable: usize, instance: String, class: usize },
    /// Only measured (`train: false`): left to the report.
    Measured,
}

/// Why embedding or structuring cannot use a constraint.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleRefusal {
    pub constraint: ConstraintId,
    pub span: Span,
    pub reason: String,
}

impl std::fmt::Display for RuleRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "constraint {}: {}", self.constraint, self.reason)
    }
}

impl std::error::Error for RuleRefusal {}

/// Each constraint's role, or why it has none; `what` names the injection in the reasons.
pub fn rule_roles(spec: &Spec, program: &Program, what: &str) -> Vec<Result<RuleRole, RuleRefusal>> {
    let instances: Vec<&str> = spec
        .datasets
        .iter()
        .flat_map(|d| d.instances.iter().filter(|i| i.count.is_none()).map(|i| i.name.name.as_str()))
        .collect();
    spec.constraints
        .iter()
        .zip(&program.constraints)
        .map(|(constraint, info)| {
            let refuse = |span: Span, reason: String| RuleRefusal { constraint: info.id, span, reason };
            if info.measured {
                return Ok(RuleRole::Measured);
            }
            if info.scope == Scope::ColumnWise {
                return Err(refuse(
                    constraint.span,
                    format!("it is column-wise (it aggregates over the dataset), and {what} turns rules about one example's inputs into features; train it with `injection: fuzzy`"),
                ));
            }
            let ConstraintKind::IfThen { guard, then } = &constraint.kind else {
                if info.supervises.is_some() {
                    return Ok(RuleRole::Supervision);
                }
                return Err(refuse(
                    constraint.span,
                    format!("{what} needs a guard over observed inputs and a class: write it as `if: R(x)` `then: net(x) == class`, or train with `injection: fuzzy`"),
                ));
            };
            if program.types.get(&guard.expr.id).is_none_or(|t| t.latent) {
                return Err(refuse(
                    guard.expr.span,
                    format!("its guard reads a learnable, and {what} evaluates guards from observed inputs alone; train it with `injection: fuzzy`"),
                ));
            }
            let (learnable, instance, class) = consequent(spec, program, &then.expr).ok_or_else(|| {
                refuse(then.expr.span, format!("{what} links the guard to one class: write `then: net(x) == class`"))
            })?;
            if !instances.contains(&instance) {
                return Err(refuse(then.expr.span, format!("`{instance}` is not an instance variable of a dataset")));
            }
            if instances.len() != 1 {
                return Err(refuse(
                    constraint.span,
                    format!("{what} reads one example's inputs, but the spec declares instances {}", instances.join(", ")),
                ));
            }
            Ok(RuleRole::Guard { learnable, instance: instance.to_string(), class })
        })
        .collect()
}

/// `a == b` read as `f(a) == g(b)` or, the other way round, `f(b) == g(a)`.
fn equation<'e, A, B>(
    e: &'e Expr,
    f: impl Fn(&'e Expr) -> Option<A>,
    g: impl Fn(&'e Expr) -> Option<B>,
) -> Option<(A, B)> {
    let ExprKind::Compare { first, rest } = &e.kind else { return None };
    let [(CmpOp::Eq, _, second)] = rest.as_slice() else { return None };
    f(first).zip(g(second)).or_else(|| f(second).zip(g(first)))
}

/// `net(x)`: the learnable's index and the instance.
fn net_call<'s>(spec: &Spec, e: &'s Expr) -> Option<(usize, &'s str)> {
    let ExprKind::Call { func, args } = &e.kind else { return None };
    let (ExprKind::Name(f), [arg]) = (&func.kind, args.as_slice()) else { return None };
    let ExprKind::Name(x) = &arg.kind else { return None };
    Some((spec.learnables.iter().position(|l| l.name.name == *f)?, x.as_str()))
}

/// The learnable that `net(x) == x.column` (either way round) supervises, where `column` is the
/// one `net` predicts: under supervised learning such a constraint is what training does anyway.
pub(super) fn supervised_learnable(spec: &Spec, learnables: &[LearnableInfo], e: &Expr) -> Option<String> {
    let column = |e: &Expr| -> Option<(String, String)> {
        let ExprKind::Attr { base, attr } = &e.kind else { return None };
        let ExprKind::Name(x) = &base.kind else { return None };
        Some((x.clone(), attr.name.clone()))
    };
    let ((l, x), (y, col)) = equation(e, |e| net_call(spec, e), column)?;
    let net = learnables.iter().find(|n| n.name == spec.learnables[l].name.name)?;
    (x == y && net.output == format!("{}.{col}", net.dataset)).then(|| net.name.clone())
}

/// `net(x) == class` (either way round): the learnable, the instance and the class's index.
fn consequent<'s>(spec: &'s Spec, program: &Program, e: &'s Expr) -> Option<(usize, &'s str, usize)> {
    let value = |e: &Expr| -> Option<Value> {
        match &e.kind {
            ExprKind::Name(n) | ExprKind::Str(n) => Some(Value::Str(n.clone())),
            ExprKind::Int { value: Some(v), .. } => Some(Value::Int(*v)),
            _ => None,
        }
    };
    let ((l, x), v) = equation(e, |e| net_call(spec, e), value)?;
    let output = &program.learnables[l].output;
    let domain = program.domains.iter().find(|d| d.name == *output)?;
    Some((l, x, domain.raw.iter().position(|d| *d == v)?))
}
