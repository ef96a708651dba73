//! Grounding: a checked constraint and one example's observed values give an [`Event`] over the
//! latent applications of learnables (`digit(x3)` becomes a categorical variable).
//!
//! Observed sub-expressions are evaluated to constants (integers are arbitrary precision, so the
//! sum of two 100-digit numbers is an ordinary value); latent ones stay symbolic, as linear sums of
//! per-variable tables where possible (so that the compiler can prune by bounds and divisibility),
//! else as tables over the few variables they combine.

mod arith;
mod builtins;
mod int;

use crate::event::{Atom, Cmp, Event, Formula};
use arith::{int, real};
use builtins::slice;
use int::Int;
use num_bigint::BigInt;
use num_traits::{One, Signed, Zero};
use skilang_lang::check::{Builtin, Callee, ConstraintId, Program};
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
    Int(Int),
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
    /// What each called name resolved to, by the name's expression id (the checker's answers,
    /// indexed for speed: a grounding calls rules millions of times).
    calls: Vec<Option<Callee>>,
    /// Per learnable, its output values.
    domains: Vec<Vec<Value>>,
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
        let mut calls = vec![None; program.calls.keys().map(|id| id.0 as usize + 1).max().unwrap_or(0)];
        for (id, &callee) in &program.calls {
            calls[id.0 as usize] = Some(callee);
        }
        Grounder { spec, calls, domains, slots, width }
    }

    /// What the called name `func` is.
    fn callee(&self, func: &Expr) -> Option<Callee> {
        self.calls.get(func.id.0 as usize).copied().flatten()
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
        let mut scope: Scope = bindings.iter().map(|&(name, slot)| (name, G::Instance(slot))).collect();
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

/// The names bound where an expression is evaluated (rule arguments, comprehension targets).
type Scope<'e> = Vec<(&'e str, G)>;

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

    fn eval<'e>(&mut self, e: &'e Expr, scope: &mut Scope<'e>) -> Result<G, GroundError> {
        let span = e.span;
        Ok(match &e.kind {
            ExprKind::Int { text, value } => G::Int(match value {
                Some(v) => Int::from(*v),
                None => Int::from(
                    text.replace('_', "")
                        .parse::<BigInt>()
                        .map_err(|_| GroundError { span, message: "bad integer".into() })?,
                ),
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
                let mut bound = |x: &'e Option<Box<Expr>>| -> Result<Option<i64>, GroundError> {
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
                        v => self.arith(BinOp::Sub, G::Int(Int::zero()), v, span)?,
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
                    match self.compare(*op, left, r.clone(), *op_span)? {
                        // Like Python's chains, the first comparison that fails decides.
                        Formula::Const(false) => return Ok(G::Bool(false)),
                        Formula::Const(true) => {}
                        part => parts.push(part),
                    }
                    left = r;
                }
                match parts.is_empty() {
                    true => G::Bool(true),
                    false => G::Prop(Formula::and(parts)).simplified(),
                }
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
        if let Some((_, v)) = scope.iter().rev().find(|(k, _)| *k == n) {
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

    fn list<'e>(&mut self, e: &'e Expr, scope: &mut Scope<'e>) -> Result<Vec<G>, GroundError> {
        match self.eval(e, scope)? {
            G::List(items) => Ok(items),
            other => fail(e.span, format!("expected a list, found {}", describe(&other))),
        }
    }

    fn comprehension<'e>(
        &mut self,
        element: &'e Expr,
        clauses: &'e [CompFor],
        scope: &mut Scope<'e>,
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

    fn call<'e>(&mut self, func: &Expr, args: &'e [Expr], span: Span, scope: &mut Scope<'e>) -> Result<G, GroundError> {
        let Some(callee) = self.g.callee(func) else { return fail(func.span, "only named functions can be called") };
        let mut values = Vec::with_capacity(args.len());
        for a in args {
            values.push(self.eval(a, scope)?);
        }
        match callee {
            Callee::Learnable(l) => {
                let Some(G::Instance(slot)) = values.first() else {
                    return fail(
                        span,
                        format!("learnable `{}` takes one instance", self.g.spec.learnables[l].name.name),
                    );
                };
                let key = VarRef { learnable: l, slot: *slot };
                let next = self.vars.len();
                let v = *self.var_of.entry(key).or_insert(next);
                if v == next {
                    self.vars.push(key);
                }
                Ok(G::Var(v))
            }
            Callee::Rule(r) => {
                let observed = !values.iter().any(G::latent);
                if observed {
                    if let Some((_, _, v)) = self.memo.0.iter().find(|(k, a, _)| *k == r && *a == values) {
                        return Ok(v.clone());
                    }
                }
                let rule = &self.g.spec.rules[r];
                // A rule sees its arguments only.
                let mut inner: Scope = rule.args.iter().map(|a| a.name.as_str()).zip(values.iter().cloned()).collect();
                let v = self.eval(&rule.clause.expr, &mut inner)?;
                if observed && !v.latent() {
                    self.memo.0.push((r, values, v.clone()));
                }
                Ok(v)
            }
            Callee::Builtin(b) => self.builtin(b, values, args, span),
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

fn bind<'e>(target: &'e Target, value: G, scope: &mut Scope<'e>) -> Result<(), GroundError> {
    match target {
        Target::Name(n) => scope.push((&n.name, value)),
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
        Observed::Int(i) => G::Int(Int::from(i)),
        Observed::Real(x) => G::Real(x),
        Observed::Bool(b) => G::Bool(b),
        Observed::Str(s) => match s.parse::<BigInt>() {
            Ok(i) => G::Int(Int::from(i)),
            Err(_) => G::Str(s),
        },
        Observed::Unknown => return None,
    })
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
