//! Grounding: a checked constraint and one example's observed values give an [`Event`] over the
//! latent applications of learnables (`digit(x3)` becomes a categorical variable).
//!
//! Observed sub-expressions are evaluated to constants (integers are arbitrary precision, so the
//! sum of two 100-digit numbers is an ordinary value); latent ones stay symbolic, as linear sums of
//! per-variable tables where possible (so that the compiler can prune by bounds and divisibility),
//! else as tables over the few variables they combine.

use crate::event::{Atom, Cmp, Event, Formula};
use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{One, Signed, ToPrimitive, Zero};
use skilang_lang::check::{ConstraintId, Program};
use skilang_lang::formula::{BinOp, CmpOp, CompFor, Expr, ExprKind, Target, UnaryOp};
use skilang_lang::limits::{combinations_len, range_len, MAX_GROUND_TERMS};
use skilang_lang::source::Span;
use skilang_lang::spec::{ConstraintKind, Spec, Value};
use std::collections::{BTreeMap, HashMap};

/// The most joint assignments a non-linear latent expression may combine.
const JOINT_LIMIT: usize = 1 << 20;

/// An observed value of an instance's column.
#[derive(Clone, Debug, PartialEq)]
pub enum Observed {
    Int(i64),
    Real(f64),
    Bool(bool),
    /// A category's value name.
    Str(String),
    /// A column the example has but whose value is not known (the target of an unlabelled row):
    /// a constraint that reads it does not apply to the example.
    Unknown,
}

/// A learnable applied to the instance in a slot of the example.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VarRef {
    pub learnable: usize,
    pub slot: usize,
}

/// One constraint grounded for one example.
#[derive(Clone, Debug, PartialEq)]
pub struct Grounded {
    /// The constraint as one event (for probabilistic reasoning).
    pub event: Event,
    /// What each variable of the event stands for.
    pub vars: Vec<VarRef>,
    /// The constraint's connective over the event's atoms, where fuzzy semantics tell it apart
    /// from the event's formula.
    pub form: Form,
}

/// How a constraint's parts combine, beyond the event's boolean formula: fuzzy implications and
/// biconditionals are not their boolean rewritings.
#[derive(Clone, Debug, PartialEq)]
pub enum Form {
    /// The event's formula is the constraint.
    Plain,
    /// A latent guard: `if: A` `then: B`.
    Implies(Formula, Formula),
    Iff(Formula, Formula),
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct GroundError {
    pub span: Span,
    pub message: String,
}

fn fail<T>(span: Span, message: impl Into<String>) -> Result<T, GroundError> {
    Err(GroundError { span, message: message.into() })
}

/// Where the instances of an example sit: `x1` is one slot, a group `a: 4` four.
#[derive(Clone, Debug)]
enum Slots {
    One(usize),
    Group(std::ops::Range<usize>),
}

/// A latent integer: `Σ_v table_v[z_v] + constant`.
#[derive(Clone, Debug, PartialEq)]
struct Lin {
    terms: BTreeMap<usize, Vec<BigInt>>,
    constant: BigInt,
}

/// A latent value over several variables: its value for every joint assignment of `vars`.
#[derive(Clone, Debug, PartialEq)]
struct Joint<T> {
    vars: Vec<usize>,
    values: Vec<T>,
}

#[derive(Clone, Debug, PartialEq)]
enum G {
    Int(BigInt),
    Real(f64),
    Bool(bool),
    Str(String),
    List(Vec<G>),
    Instance(usize),
    /// A learnable's latent class (a variable of the event).
    Var(usize),
    Lin(Lin),
    /// A latent integer that is not linear in per-variable tables.
    Ints(Joint<BigInt>),
    /// A latent condition.
    Prop(Formula),
}

impl G {
    fn latent(&self) -> bool {
        match self {
            G::Var(_) | G::Lin(_) | G::Ints(_) | G::Prop(_) => true,
            G::List(items) => items.iter().any(G::latent),
            _ => false,
        }
    }
}

/// Grounds the constraints of one checked spec.
pub struct Grounder<'a> {
    spec: &'a Spec,
    learnables: HashMap<&'a str, usize>,
    /// Per learnable, its output values.
    domains: Vec<Vec<Value>>,
    rules: HashMap<&'a str, usize>,
    slots: HashMap<&'a str, Slots>,
    /// Instances per example.
    pub width: usize,
}

impl<'a> Grounder<'a> {
    /// Instances are numbered in declaration order over the datasets that declare them.
    pub fn new(spec: &'a Spec, program: &'a Program) -> Grounder<'a> {
        let mut slots = HashMap::new();
        let mut width = 0;
        for d in &spec.datasets {
            for i in &d.instances {
                match &i.count {
                    None => {
                        slots.insert(i.name.name.as_str(), Slots::One(width));
                        width += 1;
                    }
                    Some(c) => {
                        let n = c.value as usize;
                        slots.insert(i.name.name.as_str(), Slots::Group(width..width + n));
                        width += n;
                    }
                }
            }
        }
        let domains = program
            .learnables
            .iter()
            .map(|l| program.domains.iter().find(|d| d.name == l.output).map(|d| d.raw.clone()).unwrap_or_default())
            .collect();
        Grounder {
            spec,
            learnables: spec.learnables.iter().enumerate().map(|(i, l)| (l.name.name.as_str(), i)).collect(),
            domains,
            rules: spec.rules.iter().enumerate().map(|(i, r)| (r.name.name.as_str(), i)).collect(),
            slots,
            width,
        }
    }

    /// The output values of learnable `l`, in class order.
    pub fn domain(&self, l: usize) -> &[Value] {
        &self.domains[l]
    }

    /// Grounds constraint `id` for the example whose observed values `observe(slot, column)`
    /// gives; `None` when an observed guard does not select the example, or when the constraint
    /// reads a value the example does not know ([`Observed::Unknown`]).
    pub fn ground(
        &self,
        id: ConstraintId,
        observe: &dyn Fn(usize, &str) -> Option<Observed>,
    ) -> Result<Option<Grounded>, GroundError> {
        self.ground_with(id, observe, &mut Memo::default())
    }

    /// [`Grounder::ground`], reusing the observed results of knowledge rules in `memo` (which
    /// must belong to the same example).
    pub fn ground_with(
        &self,
        id: ConstraintId,
        observe: &dyn Fn(usize, &str) -> Option<Observed>,
        memo: &mut Memo,
    ) -> Result<Option<Grounded>, GroundError> {
        let mut b = Builder::new(self, observe, memo);
        match b.constraint(id) {
            Err(_) if b.unknown => Ok(None),
            grounded => grounded,
        }
    }

    /// Evaluates `expr` on one example's observed values alone, with `bindings` naming instance
    /// slots (e.g. a rule's argument `h` for slot 0): a truth value or a number.
    pub fn evaluate(
        &self,
        expr: &Expr,
        bindings: &[(&str, usize)],
        observe: &dyn Fn(usize, &str) -> Option<Observed>,
        memo: &mut Memo,
    ) -> Result<Crisp, GroundError> {
        let mut b = Builder::new(self, observe, memo);
        let mut scope: Scope = bindings.iter().map(|&(name, slot)| (name.to_string(), G::Instance(slot))).collect();
        match b.eval(expr, &mut scope)? {
            G::Bool(v) => Ok(Crisp::Bool(v)),
            G::Int(i) => Ok(Crisp::Number(i.to_f64().unwrap_or(f64::NAN))),
            G::Real(x) => Ok(Crisp::Number(x)),
            g if g.latent() => fail(expr.span, "this reads a learnable; only observed values can be evaluated here"),
            other => fail(expr.span, format!("expected a condition or a number, found {}", describe(&other))),
        }
    }
}

/// An expression's value on observed data.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Crisp {
    Bool(bool),
    Number(f64),
}

/// Knowledge rules already evaluated on observed arguments for one example: rules such as
/// `ranks(h)` are called by many constraints, and evaluating them once is most of the work.
#[derive(Default)]
pub struct Memo(Vec<(usize, Vec<G>, G)>);

struct Builder<'g, 'o> {
    g: &'g Grounder<'g>,
    observe: &'o dyn Fn(usize, &str) -> Option<Observed>,
    atoms: Vec<Atom>,
    vars: Vec<VarRef>,
    var_of: HashMap<VarRef, usize>,
    memo: &'o mut Memo,
    /// Set when an observed value the formula reads is unknown.
    unknown: bool,
    /// Terms created so far for this example, against [`MAX_GROUND_TERMS`].
    terms: usize,
}

type Scope = Vec<(String, G)>;

impl<'g, 'o> Builder<'g, 'o> {
    fn new(g: &'g Grounder<'g>, observe: &'o dyn Fn(usize, &str) -> Option<Observed>, memo: &'o mut Memo) -> Self {
        Builder {
            g,
            observe,
            atoms: Vec::new(),
            vars: Vec::new(),
            var_of: HashMap::new(),
            memo,
            unknown: false,
            terms: 0,
        }
    }

    /// Counts `n` more terms against the budget, before they are created.
    fn spend(&mut self, n: u128, span: Span) -> Result<(), GroundError> {
        let total = (self.terms as u128).saturating_add(n);
        if total > MAX_GROUND_TERMS as u128 {
            return fail(
                span,
                format!("grounding one example here needs more than {MAX_GROUND_TERMS} terms (the budget per example); bound this expansion"),
            );
        }
        self.terms = total as usize;
        Ok(())
    }

    fn constraint(&mut self, id: ConstraintId) -> Result<Option<Grounded>, GroundError> {
        let (formula, form) = match &self.g.spec.constraints[id.position()].kind {
            ConstraintKind::Always(f) => (self.condition(&f.expr)?, Form::Plain),
            ConstraintKind::Never(f) => (Formula::negate(self.condition(&f.expr)?), Form::Plain),
            ConstraintKind::IfThen { guard, then } => {
                // An observed guard that does not hold leaves the example out: its consequence
                // is not grounded at all.
                let g = self.condition(&guard.expr)?;
                if g == Formula::Const(false) {
                    return Ok(None);
                }
                let t = self.condition(&then.expr)?;
                match g {
                    Formula::Const(true) => (t, Form::Plain),
                    g => (Formula::or(vec![Formula::negate(g.clone()), t.clone()]), Form::Implies(g, t)),
                }
            }
            ConstraintKind::Iff(x, y) => {
                let (x, y) = (self.condition(&x.expr)?, self.condition(&y.expr)?);
                (Formula::iff(x.clone(), y.clone()), Form::Iff(x, y))
            }
        };
        let domains = self.vars.iter().map(|v| self.g.domains[v.learnable].len()).collect();
        Ok(Some(Grounded {
            event: Event { domains, atoms: std::mem::take(&mut self.atoms), formula },
            vars: std::mem::take(&mut self.vars),
            form,
        }))
    }

    fn condition(&mut self, e: &Expr) -> Result<Formula, GroundError> {
        let v = self.eval(e, &mut Vec::new())?;
        self.truth(v, e.span)
    }

    fn truth(&mut self, v: G, span: Span) -> Result<Formula, GroundError> {
        match v {
            G::Bool(b) => Ok(Formula::Const(b)),
            G::Prop(f) => Ok(f),
            other => fail(span, format!("expected a condition, found {}", describe(&other))),
        }
    }

    fn domain_of(&self, var: usize) -> &[Value] {
        &self.g.domains[self.vars[var].learnable]
    }

    fn atom(&mut self, a: Atom) -> Formula {
        if let Atom::Table { vars, allowed } = &a {
            if vars.is_empty() {
                return Formula::Const(allowed[0]);
            }
            if allowed.iter().all(|&x| x) || allowed.iter().all(|&x| !x) {
                return Formula::Const(allowed[0]);
            }
        }
        self.atoms.push(a);
        Formula::Atom(self.atoms.len() - 1)
    }

    fn eval(&mut self, e: &Expr, scope: &mut Scope) -> Result<G, GroundError> {
        let span = e.span;
        Ok(match &e.kind {
            ExprKind::Int { text, value } => G::Int(match value {
                Some(v) => BigInt::from(*v),
                None => {
                    text.replace('_', "").parse().map_err(|_| GroundError { span, message: "bad integer".into() })?
                }
            }),
            ExprKind::Float(x) => G::Real(*x),
            ExprKind::Str(s) => G::Str(s.clone()),
            ExprKind::Bool(b) => G::Bool(*b),
            ExprKind::Name(n) => self.name(n, span, scope)?,
            ExprKind::Attr { base, attr } => match self.eval(base, scope)? {
                G::Instance(slot) => match (self.observe)(slot, &attr.name).map(observed) {
                    Some(Some(g)) => g,
                    Some(None) => {
                        self.unknown = true;
                        return fail(span, format!("`.{}` is not known for this example", attr.name));
                    }
                    None => return fail(span, format!("the example has no value for `.{}`", attr.name)),
                },
                other => return fail(span, format!("`.{}` needs an instance, found {}", attr.name, describe(&other))),
            },
            ExprKind::Index { base, index } => {
                let items = self.list(base, scope)?;
                let i = self.eval(index, scope)?;
                let G::Int(i) = i else { return fail(index.span, "an index must be an observed integer") };
                let n = items.len() as i64;
                let k = i.to_i64().map(|k| if k < 0 { k + n } else { k }).filter(|k| (0..n).contains(k));
                match k {
                    Some(k) => items[k as usize].clone(),
                    None => return fail(index.span, format!("index {i} is out of range for {n} items")),
                }
            }
            ExprKind::Slice { base, lower, upper, step } => {
                let items = self.list(base, scope)?;
                let mut bound = |x: &Option<Box<Expr>>| -> Result<Option<i64>, GroundError> {
                    match x {
                        None => Ok(None),
                        Some(x) => match self.eval(x, scope)? {
                            G::Int(i) => Ok(i.to_i64()),
                            _ => fail(x.span, "a slice bound must be an observed integer"),
                        },
                    }
                };
                let (lo, hi, st) = (bound(lower)?, bound(upper)?, bound(step)?.unwrap_or(1));
                if st == 0 {
                    return fail(span, "a slice step cannot be zero");
                }
                G::List(slice(&items, lo, hi, st))
            }
            ExprKind::Call { func, args } => self.call(func, args, span, scope)?,
            ExprKind::Unary { op, operand } => {
                let v = self.eval(operand, scope)?;
                match op {
                    UnaryOp::Not | UnaryOp::Invert => match v {
                        G::Bool(b) => G::Bool(!b),
                        G::Prop(f) => G::Prop(Formula::negate(f)),
                        other => return fail(span, format!("`not` needs a condition, found {}", describe(&other))),
                    },
                    UnaryOp::Pos => v,
                    UnaryOp::Neg => match v {
                        G::Real(x) => G::Real(-x),
                        v => self.arith(BinOp::Sub, G::Int(BigInt::zero()), v, span)?,
                    },
                }
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let l = self.eval(lhs, scope)?;
                // `and` / `or` skip their right side when the left decides, as in Python.
                match (op, &l) {
                    (BinOp::And, G::Bool(false)) | (BinOp::Or, G::Bool(true)) => return Ok(l),
                    _ => {}
                }
                let r = self.eval(rhs, scope)?;
                match op {
                    BinOp::And | BinOp::BitAnd | BinOp::Or | BinOp::BitOr | BinOp::BitXor
                        if matches!(l, G::Bool(_) | G::Prop(_)) =>
                    {
                        let (a, b) = (self.truth(l, lhs.span)?, self.truth(r, rhs.span)?);
                        G::Prop(match op {
                            BinOp::And | BinOp::BitAnd => Formula::and(vec![a, b]),
                            BinOp::Or | BinOp::BitOr => Formula::or(vec![a, b]),
                            _ => Formula::negate(Formula::iff(a, b)),
                        })
                        .simplified()
                    }
                    _ => self.arith(*op, l, r, span)?,
                }
            }
            ExprKind::Compare { first, rest } => {
                let mut left = self.eval(first, scope)?;
                let mut parts = Vec::new();
                for (op, op_span, right) in rest {
                    let r = self.eval(right, scope)?;
                    parts.push(self.compare(*op, left, r.clone(), *op_span)?);
                    left = r;
                }
                G::Prop(Formula::and(parts)).simplified()
            }
            ExprKind::IfElse { cond, then, otherwise } => match self.eval(cond, scope)? {
                G::Bool(true) => self.eval(then, scope)?,
                G::Bool(false) => self.eval(otherwise, scope)?,
                G::Prop(c) => {
                    let t = self.eval(then, scope)?;
                    let o = self.eval(otherwise, scope)?;
                    let (t, o) = (self.truth(t, then.span)?, self.truth(o, otherwise.span)?);
                    G::Prop(Formula::or(vec![
                        Formula::and(vec![c.clone(), t]),
                        Formula::and(vec![Formula::negate(c), o]),
                    ]))
                    .simplified()
                }
                other => return fail(cond.span, format!("expected a condition, found {}", describe(&other))),
            },
            ExprKind::List(items) | ExprKind::Tuple(items) => {
                self.spend(items.len() as u128, span)?;
                G::List(items.iter().map(|i| self.eval(i, scope)).collect::<Result<_, _>>()?)
            }
            ExprKind::Comprehension { element, clauses, .. } => {
                let mut out = Vec::new();
                self.comprehension(element, clauses, scope, &mut out)?;
                G::List(out)
            }
            ExprKind::Error => return fail(span, "this formula did not parse"),
        })
    }

    fn name(&mut self, n: &str, span: Span, scope: &Scope) -> Result<G, GroundError> {
        if let Some((_, v)) = scope.iter().rev().find(|(k, _)| k == n) {
            return Ok(v.clone());
        }
        match self.g.slots.get(n) {
            Some(Slots::One(s)) => Ok(G::Instance(*s)),
            Some(Slots::Group(r)) => Ok(G::List(r.clone().map(G::Instance).collect())),
            None if self.g.spec.datasets.iter().any(|d| d.name.name == n) => fail(
                span,
                format!("`{n}` is a whole dataset: column-wise constraints are not grounded per example (they need `injection: fuzzy`)"),
            ),
            // The checker resolved every other name to a value of a category.
            None => Ok(G::Str(n.to_string())),
        }
    }

    fn list(&mut self, e: &Expr, scope: &mut Scope) -> Result<Vec<G>, GroundError> {
        match self.eval(e, scope)? {
            G::List(items) => Ok(items),
            other => fail(e.span, format!("expected a list, found {}", describe(&other))),
        }
    }

    fn comprehension(
        &mut self,
        element: &Expr,
        clauses: &[CompFor],
        scope: &mut Scope,
        out: &mut Vec<G>,
    ) -> Result<(), GroundError> {
        let Some((clause, rest)) = clauses.split_first() else {
            self.spend(1, element.span)?;
            out.push(self.eval(element, scope)?);
            return Ok(());
        };
        for item in self.list(&clause.iter, scope)? {
            let depth = scope.len();
            bind(&clause.target, item, scope)?;
            let mut keep = true;
            for c in &clause.conds {
                match self.eval(c, scope)? {
                    G::Bool(b) => keep &= b,
                    _ => {
                        return fail(
                            c.span,
                            "a condition on a latent value cannot filter a comprehension; count or test it instead (e.g. `count(...)`, `any(...)`)",
                        )
                    }
                }
            }
            if keep {
                self.comprehension(element, rest, scope, out)?;
            }
            scope.truncate(depth);
        }
        Ok(())
    }

    fn call(&mut self, func: &Expr, args: &[Expr], span: Span, scope: &mut Scope) -> Result<G, GroundError> {
        let ExprKind::Name(name) = &func.kind else { return fail(func.span, "only named functions can be called") };
        let mut values = Vec::with_capacity(args.len());
        for a in args {
            values.push(self.eval(a, scope)?);
        }
        if let Some(&l) = self.g.learnables.get(name.as_str()) {
            let Some(G::Instance(slot)) = values.first() else {
                return fail(span, format!("learnable `{name}` takes one instance"));
            };
            let key = VarRef { learnable: l, slot: *slot };
            let next = self.vars.len();
            let v = *self.var_of.entry(key).or_insert(next);
            if v == next {
                self.vars.push(key);
            }
            return Ok(G::Var(v));
        }
        if let Some(&r) = self.g.rules.get(name.as_str()) {
            let observed = !values.iter().any(G::latent);
            if observed {
                if let Some((_, _, v)) = self.memo.0.iter().find(|(k, a, _)| *k == r && *a == values) {
                    return Ok(v.clone());
                }
            }
            let rule = &self.g.spec.rules[r];
            // A rule sees its arguments only.
            let mut inner: Scope = rule.args.iter().map(|a| a.name.clone()).zip(values.iter().cloned()).collect();
            let v = self.eval(&rule.clause.expr, &mut inner)?;
            if observed && !v.latent() {
                self.memo.0.push((r, values, v.clone()));
            }
            return Ok(v);
        }
        self.builtin(name, values, args, span)
    }

    fn builtin(&mut self, name: &str, mut values: Vec<G>, args: &[Expr], span: Span) -> Result<G, GroundError> {
        // `max(a, b)` or `max(items)`.
        let items = |values: Vec<G>| -> Result<Vec<G>, GroundError> {
            match values.as_slice() {
                [G::List(items)] => Ok(items.clone()),
                [one] if values.len() == 1 => fail(span, format!("`{name}` needs a list, found {}", describe(one))),
                _ => Ok(values),
            }
        };
        let int_arg = |v: &G, at: usize| match v {
            G::Int(i) => Ok(i.clone()),
            _ => fail(args.get(at).map_or(span, |a| a.span), format!("`{name}` needs an observed integer here")),
        };
        Ok(match name {
            "sum" => items(values)?
                .into_iter()
                .try_fold(G::Int(BigInt::zero()), |a, x| self.arith(BinOp::Add, a, x, span))?,
            "count" => {
                let mut total = G::Int(BigInt::zero());
                for c in items(values)? {
                    let n = self.as_number(c, span)?;
                    total = self.arith(BinOp::Add, total, n, span)?;
                }
                total
            }
            "exactly" | "at_least" | "at_most" => {
                let k = int_arg(&values[0], 0)?;
                let count = self.builtin("count", vec![values.remove(1)], &args[1..], span)?;
                let op = match name {
                    "exactly" => CmpOp::Eq,
                    "at_least" => CmpOp::Ge,
                    _ => CmpOp::Le,
                };
                G::Prop(self.compare(op, count, G::Int(k), span)?).simplified()
            }
            "all" | "any" => {
                let parts = items(values)?.into_iter().map(|c| self.truth(c, span)).collect::<Result<Vec<_>, _>>()?;
                G::Prop(if name == "all" { Formula::and(parts) } else { Formula::or(parts) }).simplified()
            }
            "all_different" => {
                let items = items(values)?;
                let mut parts = Vec::new();
                for i in 0..items.len() {
                    for j in i + 1..items.len() {
                        parts.push(self.compare(CmpOp::Ne, items[i].clone(), items[j].clone(), span)?);
                    }
                }
                G::Prop(Formula::and(parts)).simplified()
            }
            "max" | "min" | "abs" => {
                let items = if name == "abs" { values } else { items(values)? };
                if items.is_empty() {
                    return fail(span, format!("`{name}` of an empty list"));
                }
                if items.iter().all(|i| matches!(i, G::Real(_) | G::Int(_) | G::Bool(_))) {
                    let nums: Vec<f64> = items.iter().map(|i| real(i).unwrap_or(0.0)).collect();
                    if let Some(ints) = items.iter().map(int).collect::<Option<Vec<BigInt>>>() {
                        G::Int(match name {
                            "max" => ints.into_iter().max().unwrap_or_default(),
                            "min" => ints.into_iter().min().unwrap_or_default(),
                            _ => ints[0].abs(),
                        })
                    } else {
                        G::Real(match name {
                            "max" => nums.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
                            "min" => nums.iter().cloned().fold(f64::INFINITY, f64::min),
                            _ => nums[0].abs(),
                        })
                    }
                } else {
                    let joints = items.into_iter().map(|i| self.joint(i, span)).collect::<Result<Vec<_>, _>>()?;
                    let combined = self.combine(&joints, span, |xs| match name {
                        "max" => xs.iter().max().cloned().unwrap_or_default(),
                        "min" => xs.iter().min().cloned().unwrap_or_default(),
                        _ => xs[0].abs(),
                    })?;
                    G::Ints(combined)
                }
            }
            "len" => G::Int(BigInt::from(items(values)?.len())),
            "mean" => {
                let items = items(values)?;
                let nums = items.iter().map(real).collect::<Option<Vec<f64>>>();
                match nums {
                    Some(n) if !n.is_empty() => G::Real(n.iter().sum::<f64>() / n.len() as f64),
                    _ => return fail(span, "exact reasoning takes `mean` of observed numbers only"),
                }
            }
            "enumerate" => G::List(
                items(values)?
                    .into_iter()
                    .enumerate()
                    .map(|(i, x)| G::List(vec![G::Int(BigInt::from(i)), x]))
                    .collect(),
            ),
            "range" => {
                let ints = values.iter().enumerate().map(|(i, v)| int_arg(v, i)).collect::<Result<Vec<_>, _>>()?;
                let small = |b: &BigInt| b.to_i64().ok_or(GroundError { span, message: "range too large".into() });
                let (start, stop, step) = match ints.as_slice() {
                    [stop] => (0, small(stop)?, 1),
                    [a, b] => (small(a)?, small(b)?, 1),
                    [a, b, c] => (small(a)?, small(b)?, small(c)?),
                    _ => return fail(span, "`range` takes one to three integers"),
                };
                let Some(len) = range_len(start, stop, step) else {
                    return fail(span, "`range` step cannot be zero");
                };
                self.spend(len, span)?;
                let mut out = Vec::with_capacity(len as usize);
                let mut i = start;
                while (step > 0 && i < stop) || (step < 0 && i > stop) {
                    out.push(G::Int(BigInt::from(i)));
                    i += step;
                }
                G::List(out)
            }
            "zip" => {
                let lists = values
                    .into_iter()
                    .map(|v| match v {
                        G::List(l) => Ok(l),
                        other => fail(span, format!("`zip` needs lists, found {}", describe(&other))),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let n = lists.iter().map(Vec::len).min().unwrap_or(0);
                G::List((0..n).map(|i| G::List(lists.iter().map(|l| l[i].clone()).collect())).collect())
            }
            "sorted" => {
                let mut items = items(values)?;
                if items.iter().any(G::latent) {
                    return fail(span, "`sorted` of latent values is not supported by exact reasoning");
                }
                items.sort_by(|a, b| match (int(a), int(b)) {
                    (Some(x), Some(y)) => x.cmp(&y),
                    _ => real(a).partial_cmp(&real(b)).unwrap_or(std::cmp::Ordering::Equal),
                });
                G::List(items)
            }
            "combinations" => {
                let k = int_arg(&values[1], 1)?.to_usize().unwrap_or(usize::MAX);
                let items = items(vec![values.swap_remove(0)])?;
                self.spend(combinations_len(items.len(), k), span)?;
                let mut out = Vec::new();
                combinations(&items, k, 0, &mut Vec::new(), &mut out);
                G::List(out.into_iter().map(G::List).collect())
            }
            other => return fail(span, format!("`{other}` is not supported by exact reasoning")),
        })
    }

    /// A condition as the integer 0 or 1 (for `count`).
    fn as_number(&mut self, v: G, span: Span) -> Result<G, GroundError> {
        match v {
            G::Bool(b) => Ok(G::Int(BigInt::from(b as u8))),
            G::Prop(_) => Ok(self.joint(v, span)?.into_g()),
            other => fail(span, format!("`count` needs conditions, found {}", describe(&other))),
        }
    }

    fn arith(&mut self, op: BinOp, l: G, r: G, span: Span) -> Result<G, GroundError> {
        if let (Some(a), Some(b)) = (int(&l), int(&r)) {
            return int_op(op, &a, &b).map(G::Int).ok_or(GroundError {
                span,
                message: match op {
                    BinOp::Pow => "an exponent must be a small non-negative integer".into(),
                    _ => "division by zero".into(),
                },
            });
        }
        if !l.latent() && !r.latent() {
            let (Some(a), Some(b)) = (real(&l), real(&r)) else {
                return fail(span, format!("cannot apply `{}` to {} and {}", op.symbol(), describe(&l), describe(&r)));
            };
            return Ok(G::Real(match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a * b,
                BinOp::Div => a / b,
                BinOp::FloorDiv => (a / b).floor(),
                BinOp::Mod => a - b * (a / b).floor(),
                BinOp::Pow => a.powf(b),
                _ => return fail(span, format!("`{}` needs conditions", op.symbol())),
            }));
        }
        if matches!(l, G::Real(_)) || matches!(r, G::Real(_)) || op == BinOp::Div {
            return fail(
                span,
                "exact reasoning does integer arithmetic on latent values; use `//` or integer constants",
            );
        }
        // Linear where possible: sums, differences, and scaling by an observed integer.
        match (op, self.linear(&l), self.linear(&r)) {
            (BinOp::Add | BinOp::Sub, Some(a), Some(b)) => {
                let sign = if op == BinOp::Sub { -BigInt::one() } else { BigInt::one() };
                return Ok(G::Lin(a.plus(&b, &sign)));
            }
            (BinOp::Mul, Some(a), Some(b)) if a.terms.is_empty() || b.terms.is_empty() => {
                let (c, x) = if a.terms.is_empty() { (a.constant, b) } else { (b.constant, a) };
                return Ok(G::Lin(x.scaled(&c)));
            }
            _ => {}
        }
        let (a, b) = (self.joint(l, span)?, self.joint(r, span)?);
        let mut bad = false;
        let j = self.combine(&[a, b], span, |xs| {
            int_op(op, &xs[0], &xs[1]).unwrap_or_else(|| {
                bad = true;
                BigInt::zero()
            })
        })?;
        if bad {
            return fail(span, format!("`{}` is undefined for some values (division by zero)", op.symbol()));
        }
        Ok(G::Ints(j).simplified_ints())
    }

    /// A latent or observed integer as a linear sum, when it is one.
    fn linear(&self, v: &G) -> Option<Lin> {
        match v {
            G::Int(i) => Some(Lin { terms: BTreeMap::new(), constant: i.clone() }),
            G::Bool(b) => Some(Lin { terms: BTreeMap::new(), constant: BigInt::from(*b as u8) }),
            G::Var(x) => {
                let table = self.domain_of(*x).iter().map(value_int).collect::<Option<Vec<_>>>()?;
                Some(Lin { terms: BTreeMap::from([(*x, table)]), constant: BigInt::zero() })
            }
            G::Lin(l) => Some(l.clone()),
            G::Ints(j) if j.vars.len() == 1 => {
                Some(Lin { terms: BTreeMap::from([(j.vars[0], j.values.clone())]), constant: BigInt::zero() })
            }
            _ => None,
        }
    }

    /// Any latent integer or condition as a table over its variables.
    fn joint(&mut self, v: G, span: Span) -> Result<Joint<BigInt>, GroundError> {
        Ok(match v {
            G::Int(i) => Joint { vars: Vec::new(), values: vec![i] },
            G::Bool(b) => Joint { vars: Vec::new(), values: vec![BigInt::from(b as u8)] },
            G::Ints(j) => j,
            G::Var(x) => match self.domain_of(x).iter().map(value_int).collect::<Option<Vec<_>>>() {
                Some(values) => Joint { vars: vec![x], values },
                None => return fail(span, "arithmetic needs a learnable whose values are integers"),
            },
            G::Lin(l) => {
                let vars: Vec<usize> = l.terms.keys().copied().collect();
                let tables: Vec<&Vec<BigInt>> = l.terms.values().collect();
                self.tabulate(&vars, span, |z| tables.iter().zip(z).map(|(t, &x)| &t[x]).sum::<BigInt>() + &l.constant)?
            }
            G::Prop(f) => {
                let mut atoms = Vec::new();
                f.atoms(&mut atoms);
                let mut vars: Vec<usize> = atoms.iter().flat_map(|&a| self.atoms[a].vars()).collect();
                vars.sort();
                vars.dedup();
                let n = self.vars.len();
                // The atoms lend themselves to the event for the evaluation, and come back.
                let event = Event {
                    domains: self.vars.iter().map(|v| self.g.domains[v.learnable].len()).collect(),
                    atoms: std::mem::take(&mut self.atoms),
                    formula: f,
                };
                let table = self.tabulate(&vars, span, |z| {
                    let mut full = vec![0; n];
                    for (&v, &x) in vars.iter().zip(z) {
                        full[v] = x;
                    }
                    BigInt::from(event.holds(&full) as u8)
                });
                self.atoms = event.atoms;
                table?
            }
            other => return fail(span, format!("expected a number, found {}", describe(&other))),
        })
    }

    /// The values of `f` for every joint assignment of `vars` (row-major).
    fn tabulate(
        &self,
        vars: &[usize],
        span: Span,
        mut f: impl FnMut(&[usize]) -> BigInt,
    ) -> Result<Joint<BigInt>, GroundError> {
        let sizes: Vec<usize> = vars.iter().map(|&v| self.domain_of(v).len()).collect();
        let total = sizes.iter().try_fold(1usize, |a, &s| a.checked_mul(s).filter(|&t| t <= JOINT_LIMIT));
        let Some(total) = total else {
            return fail(
                span,
                format!(
                    "this expression combines {} latent values non-linearly ({} joint assignments, the limit is {JOINT_LIMIT}); write it as a sum, or use approximate inference",
                    vars.len(),
                    sizes.iter().map(|&s| s as f64).product::<f64>()
                ),
            );
        };
        let mut z = vec![0; vars.len()];
        let mut values = Vec::with_capacity(total);
        for _ in 0..total {
            values.push(f(&z));
            for k in (0..z.len()).rev() {
                z[k] += 1;
                if z[k] < sizes[k] {
                    break;
                }
                z[k] = 0;
            }
        }
        Ok(Joint { vars: vars.to_vec(), values })
    }

    /// Combines tables pointwise over the union of their variables.
    fn combine<T: Clone>(
        &self,
        parts: &[Joint<BigInt>],
        span: Span,
        mut f: impl FnMut(&[BigInt]) -> T,
    ) -> Result<Joint<T>, GroundError> {
        let mut vars: Vec<usize> = parts.iter().flat_map(|p| p.vars.iter().copied()).collect();
        vars.sort();
        vars.dedup();
        let positions: Vec<Vec<usize>> =
            parts.iter().map(|p| p.vars.iter().map(|v| vars.binary_search(v).unwrap_or(0)).collect()).collect();
        let mut out = Vec::new();
        let table = self.tabulate(&vars, span, |z| {
            let xs: Vec<BigInt> = parts
                .iter()
                .zip(&positions)
                .map(|(p, pos)| {
                    let i = pos.iter().zip(&p.vars).fold(0, |i, (&k, &v)| i * self.domain_of(v).len() + z[k]);
                    p.values[i].clone()
                })
                .collect();
            out.push(f(&xs));
            BigInt::zero()
        })?;
        Ok(Joint { vars: table.vars, values: out })
    }

    fn compare(&mut self, op: CmpOp, l: G, r: G, span: Span) -> Result<Formula, GroundError> {
        if matches!(op, CmpOp::In | CmpOp::NotIn) {
            let G::List(items) = r else {
                return fail(span, format!("`{}` needs a list on its right, found {}", op.symbol(), describe(&r)));
            };
            let parts =
                items.into_iter().map(|i| self.compare(CmpOp::Eq, l.clone(), i, span)).collect::<Result<_, _>>()?;
            let any = Formula::or(parts);
            return Ok(if op == CmpOp::In { any } else { Formula::negate(any) });
        }
        if !l.latent() && !r.latent() {
            return Ok(Formula::Const(observed_compare(op, &l, &r).ok_or(GroundError {
                span,
                message: format!("cannot compare {} with {}", describe(&l), describe(&r)),
            })?));
        }
        // A class compared with a value, or two classes: a table.
        let class_like = |g: &G| matches!(g, G::Var(_) | G::Str(_) | G::Int(_));
        if (is_var(&l) || is_var(&r)) && class_like(&l) && class_like(&r) {
            return self.compare_classes(op, l, r, span);
        }
        if let (G::Prop(_) | G::Bool(_), G::Prop(_) | G::Bool(_)) = (&l, &r) {
            let (a, b) = (self.truth(l, span)?, self.truth(r, span)?);
            return match op {
                CmpOp::Eq => Ok(Formula::iff(a, b)),
                CmpOp::Ne => Ok(Formula::negate(Formula::iff(a, b))),
                _ => fail(span, "conditions compare with `==` and `!=` only"),
            };
        }
        let cmp = |op: CmpOp, rhs: BigInt| -> (Cmp, BigInt) {
            match op {
                CmpOp::Eq => (Cmp::Eq, rhs),
                CmpOp::Ne => (Cmp::Ne, rhs),
                CmpOp::Le => (Cmp::Le, rhs),
                CmpOp::Lt => (Cmp::Le, rhs - 1),
                CmpOp::Ge => (Cmp::Ge, rhs),
                _ => (Cmp::Ge, rhs + 1),
            }
        };
        if let (Some(a), Some(b)) = (self.linear(&l), self.linear(&r)) {
            let d = a.plus(&b, &-BigInt::one());
            let (c, rhs) = cmp(op, -d.constant);
            let terms: Vec<(usize, Vec<BigInt>)> = d.terms.into_iter().collect();
            if terms.is_empty() {
                return Ok(Formula::Const(c.holds(&BigInt::zero(), &rhs)));
            }
            return Ok(self.atom(Atom::Sum { terms, cmp: c, rhs }));
        }
        if matches!(l, G::Real(_)) || matches!(r, G::Real(_)) {
            return fail(span, "exact reasoning compares latent values with integers, not reals");
        }
        let (a, b) = (self.joint(l, span)?, self.joint(r, span)?);
        let j = self.combine(&[a, b], span, |xs| cmp_ok(op, xs[0].cmp(&xs[1])))?;
        Ok(self.atom(Atom::Table { vars: j.vars, allowed: j.values }))
    }

    /// `net(x) == flush`, `net(x) != 3`, `net(x1) == net(x2)`.
    fn compare_classes(&mut self, op: CmpOp, l: G, r: G, span: Span) -> Result<Formula, GroundError> {
        let matches = |a: &Value, b: &G| match (a, b) {
            (Value::Int(i), G::Int(j)) => &BigInt::from(*i) == j,
            (Value::Str(s), G::Str(t)) => s == t,
            (v, G::Str(t)) => &v.to_string() == t,
            _ => false,
        };
        let ordered = |a: &Value, b: &Value| -> Option<std::cmp::Ordering> {
            match (a, b) {
                (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
                _ => None,
            }
        };
        let allowed = match (&l, &r) {
            (G::Var(a), G::Var(b)) if a == b => {
                let n = self.domain_of(*a).len();
                let same = cmp_ok(op, std::cmp::Ordering::Equal);
                return Ok(self.atom(Atom::Table { vars: vec![*a], allowed: vec![same; n] }));
            }
            (G::Var(a), G::Var(b)) => {
                let (da, db) = (self.domain_of(*a).to_vec(), self.domain_of(*b).to_vec());
                let mut allowed = Vec::with_capacity(da.len() * db.len());
                for x in &da {
                    for y in &db {
                        let o = if x == y { Some(std::cmp::Ordering::Equal) } else { ordered(x, y) };
                        match o {
                            Some(o) => allowed.push(cmp_ok(op, o)),
                            None if matches!(op, CmpOp::Ne) => allowed.push(true),
                            None if matches!(op, CmpOp::Eq) => allowed.push(false),
                            None => return fail(span, "only integer classes can be ordered"),
                        }
                    }
                }
                return Ok(self.atom(Atom::Table { vars: vec![*a, *b], allowed }));
            }
            (G::Var(v), other) | (other, G::Var(v)) => {
                let flipped = matches!(r, G::Var(_)) && !matches!(l, G::Var(_));
                let mut allowed = Vec::new();
                for x in self.domain_of(*v).to_vec() {
                    let o = if matches(&x, other) {
                        Some(std::cmp::Ordering::Equal)
                    } else {
                        match (&x, other) {
                            (Value::Int(i), G::Int(j)) => Some(BigInt::from(*i).cmp(j)),
                            _ if matches!(op, CmpOp::Eq | CmpOp::Ne) => Some(std::cmp::Ordering::Less),
                            _ => None,
                        }
                    };
                    let Some(o) = o else { return fail(span, "only integer classes can be ordered") };
                    allowed.push(cmp_ok(op, if flipped { o.reverse() } else { o }));
                }
                (vec![*v], allowed)
            }
            _ => return fail(span, format!("cannot compare {} with {}", describe(&l), describe(&r))),
        };
        Ok(self.atom(Atom::Table { vars: allowed.0, allowed: allowed.1 }))
    }
}

impl Lin {
    fn plus(&self, other: &Lin, sign: &BigInt) -> Lin {
        let mut terms = self.terms.clone();
        for (v, t) in &other.terms {
            let entry = terms.entry(*v).or_insert_with(|| vec![BigInt::zero(); t.len()]);
            for (a, b) in entry.iter_mut().zip(t) {
                *a += b * sign;
            }
        }
        Lin { terms, constant: &self.constant + &other.constant * sign }
    }

    fn scaled(&self, c: &BigInt) -> Lin {
        Lin {
            terms: self.terms.iter().map(|(v, t)| (*v, t.iter().map(|x| x * c).collect())).collect(),
            constant: &self.constant * c,
        }
    }
}

impl Joint<BigInt> {
    fn into_g(self) -> G {
        if self.vars.is_empty() {
            G::Int(self.values[0].clone())
        } else {
            G::Ints(self)
        }
    }
}

impl G {
    fn simplified(self) -> G {
        match self {
            G::Prop(Formula::Const(b)) => G::Bool(b),
            g => g,
        }
    }

    fn simplified_ints(self) -> G {
        match self {
            G::Ints(j) => j.into_g(),
            g => g,
        }
    }
}

fn is_var(g: &G) -> bool {
    matches!(g, G::Var(_))
}

fn bind(target: &Target, value: G, scope: &mut Scope) -> Result<(), GroundError> {
    match target {
        Target::Name(n) => scope.push((n.name.clone(), value)),
        Target::Tuple(parts, span) => {
            let G::List(items) = value else { return fail(*span, "cannot unpack a single value") };
            if items.len() != parts.len() {
                return fail(*span, format!("cannot unpack {} values into {}", items.len(), parts.len()));
            }
            for (t, v) in parts.iter().zip(items) {
                bind(t, v, scope)?;
            }
        }
    }
    Ok(())
}

fn observed(o: Observed) -> Option<G> {
    Some(match o {
        Observed::Int(i) => G::Int(BigInt::from(i)),
        Observed::Real(x) => G::Real(x),
        Observed::Bool(b) => G::Bool(b),
        Observed::Str(s) => match s.parse::<BigInt>() {
            Ok(i) => G::Int(i),
            Err(_) => G::Str(s),
        },
        Observed::Unknown => return None,
    })
}

fn value_int(v: &Value) -> Option<BigInt> {
    match v {
        Value::Int(i) => Some(BigInt::from(*i)),
        Value::Str(_) => None,
    }
}

fn int(g: &G) -> Option<BigInt> {
    match g {
        G::Int(i) => Some(i.clone()),
        G::Bool(b) => Some(BigInt::from(*b as u8)),
        _ => None,
    }
}

fn real(g: &G) -> Option<f64> {
    match g {
        G::Real(x) => Some(*x),
        _ => int(g).and_then(|i| i.to_f64()),
    }
}

/// Python's integer arithmetic: floor division and modulo round towards negative infinity.
fn int_op(op: BinOp, a: &BigInt, b: &BigInt) -> Option<BigInt> {
    Some(match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::FloorDiv if !b.is_zero() => a.div_floor(b),
        BinOp::Mod if !b.is_zero() => a.mod_floor(b),
        // Results beyond a million bits are refused rather than computed.
        BinOp::Pow => {
            let e = b.to_usize().filter(|&e| e <= 100_000 && (a.bits() as u128) * (e as u128) <= 1 << 20)?;
            num_traits::pow(a.clone(), e)
        }
        _ => return None,
    })
}

fn observed_compare(op: CmpOp, l: &G, r: &G) -> Option<bool> {
    use std::cmp::Ordering;
    let o: Ordering = match (l, r) {
        (G::Str(a), G::Str(b)) => a.cmp(b),
        (G::List(a), G::List(b)) if matches!(op, CmpOp::Eq | CmpOp::Ne) => {
            return Some((a == b) == (op == CmpOp::Eq));
        }
        _ => match (int(l), int(r)) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => match (real(l), real(r)) {
                (Some(a), Some(b)) => a.partial_cmp(&b)?,
                // A name and a number (`ace` and the rank 2 of one column) are simply different.
                _ if matches!(op, CmpOp::Eq | CmpOp::Ne) => return Some(op == CmpOp::Ne),
                _ => return None,
            },
        },
    };
    Some(cmp_ok(op, o))
}

fn cmp_ok(op: CmpOp, o: std::cmp::Ordering) -> bool {
    match op {
        CmpOp::Eq => o.is_eq(),
        CmpOp::Ne => o.is_ne(),
        CmpOp::Lt => o.is_lt(),
        CmpOp::Le => o.is_le(),
        CmpOp::Gt => o.is_gt(),
        CmpOp::Ge => o.is_ge(),
        CmpOp::In | CmpOp::NotIn => false,
    }
}

fn slice(items: &[G], lo: Option<i64>, hi: Option<i64>, step: i64) -> Vec<G> {
    let n = items.len() as i64;
    let clamp = |x: i64, lo: i64, hi: i64| x.clamp(lo, hi);
    let norm = |x: i64| if x < 0 { x + n } else { x };
    let mut out = Vec::new();
    if step > 0 {
        let (mut i, end) = (clamp(norm(lo.unwrap_or(0)), 0, n), clamp(norm(hi.unwrap_or(n)), 0, n));
        while i < end {
            out.push(items[i as usize].clone());
            i += step;
        }
    } else {
        let (mut i, end) = (clamp(norm(lo.unwrap_or(n - 1)), -1, n - 1), clamp(hi.map_or(-1, norm), -1, n - 1));
        while i > end {
            out.push(items[i as usize].clone());
            i += step;
        }
    }
    out
}

fn combinations(items: &[G], k: usize, from: usize, current: &mut Vec<G>, out: &mut Vec<Vec<G>>) {
    if current.len() == k {
        out.push(current.clone());
        return;
    }
    for i in from..items.len() {
        current.push(items[i].clone());
        combinations(items, k, i + 1, current, out);
        current.pop();
    }
}

fn describe(g: &G) -> &'static str {
    match g {
        G::Int(_) => "an integer",
        G::Real(_) => "a real number",
        G::Bool(_) => "a boolean",
        G::Str(_) => "a value name",
        G::List(_) => "a list",
        G::Instance(_) => "an instance",
        G::Var(_) => "a learnable's class",
        G::Lin(_) | G::Ints(_) => "a latent integer",
        G::Prop(_) => "a latent condition",
    }
}
