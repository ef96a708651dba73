//! The one evaluator of checked formulas (DESIGN.md §2). The structure of the language — names
//! and scopes, instances and their observed columns, lists, indexing, slicing, comprehensions,
//! calls of knowledge rules, Python's short-circuits — and the meaning of observed values
//! ([`crisp`]) live here once. What a *latent* value is, and how it combines, is a [`Domain`]:
//! - events over the networks' categorical variables, for inference ([`crate::ground`]);
//! - the networks' chosen classes, for crisp evaluation ([`classes`]);
//! - fuzzy truths on tensors, for column-wise constraints (in `learn`).
//!
//! A domain is only asked about an operation when one of its operands is latent.

mod classes;
pub(crate) mod crisp;
mod int;

pub use classes::Crisp;
pub(crate) use int::big_op;
pub use int::Int;

use num_bigint::BigInt;
use skilang_lang::check::{Builtin, Callee, ColumnId};
use skilang_lang::formula::{BinOp, CmpOp, CompFor, Expr, ExprKind, Target, UnaryOp};
use skilang_lang::limits::{combinations_len, MAX_GROUND_TERMS};
use skilang_lang::source::Span;
use skilang_lang::spec::{ColumnType, Spec, Value as ClassValue};

/// A value of a formula: observed (known on the data), an instance of the example, a list, or
/// the domain's latent value.
#[derive(Clone, Debug)]
pub enum Value<L> {
    Int(Int),
    Real(f64),
    Bool(bool),
    /// A category's value name.
    Str(String),
    List(Vec<Value<L>>),
    Instance(usize),
    Latent(L),
}

/// Observed values compare as Python's do. Latent values are never equal here: their equality is
/// a condition, which their domain builds (and rules are only remembered on observed arguments).
impl<L> PartialEq for Value<L> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Real(a), Value::Real(b)) => a == b,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            (Value::Instance(a), Value::Instance(b)) => a == b,
            _ => false,
        }
    }
}

/// What a domain's latent values are.
pub trait Latent: Clone {
    /// For messages: "a latent condition".
    fn describe(&self) -> &'static str;
}

/// An uninhabited latent type: a domain where every value is known.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Known {}

impl Latent for Known {
    fn describe(&self) -> &'static str {
        match *self {}
    }
}

impl<L: Latent> Value<L> {
    /// Whether the value is or holds a latent value.
    pub fn latent(&self) -> bool {
        match self {
            Value::Latent(_) => true,
            Value::List(items) => items.iter().any(Value::latent),
            _ => false,
        }
    }

    pub fn describe(&self) -> &'static str {
        match self {
            Value::Int(_) => "an integer",
            Value::Real(_) => "a real number",
            Value::Bool(_) => "a boolean",
            Value::Str(_) => "a value name",
            Value::List(_) => "a list",
            Value::Instance(_) => "an instance",
            Value::Latent(l) => l.describe(),
        }
    }

    /// An observed number (not a boolean) as a real.
    pub fn number(&self) -> Option<f64> {
        match self {
            Value::Int(i) => i.to_f64(),
            Value::Real(x) => Some(*x),
            _ => None,
        }
    }

    /// A learnable's class value.
    pub fn class(v: &ClassValue) -> Value<L> {
        match v {
            ClassValue::Int(i) => Value::Int(Int::from(*i)),
            ClassValue::Str(s) => Value::Str(s.clone()),
        }
    }
}

/// An observed value of an instance's column.
#[derive(Clone, Debug, PartialEq)]
pub enum Observed {
    Int(i64),
    Real(f64),
    Bool(bool),
    /// A category's value name.
    Str(String),
    /// A grid's cells, row-major, nested one list per dimension.
    List(Vec<Observed>),
    /// A column the example has but whose value is not known (the target of an unlabelled row):
    /// a constraint that reads it does not apply to the example.
    Unknown,
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct GroundError {
    pub span: Span,
    pub message: String,
}

pub(crate) fn fail<T>(span: Span, message: impl Into<String>) -> Result<T, GroundError> {
    Err(GroundError { span, message: message.into() })
}

/// Where the instances of an example sit: `x1` is one slot, a group `a: 4` four.
#[derive(Clone, Debug)]
enum Slots {
    One(usize),
    Group(std::ops::Range<usize>),
}

/// What formulas refer to, resolved once per spec: instance slots, the checker's answer for every
/// called name, the learnables' classes.
pub struct Formulas<'a> {
    pub spec: &'a Spec,
    /// What each called name resolved to, by the name's expression id (indexed for speed: an
    /// evaluation calls rules millions of times).
    calls: Vec<Option<Callee>>,
    /// Per learnable, its output values.
    domains: Vec<Vec<ClassValue>>,
    /// Per learnable, the shape of the grid it predicts (empty: one class per instance).
    shapes: Vec<Vec<usize>>,
    /// The columns each attribute read resolved to, by the read's expression id.
    attributes: Vec<Vec<ColumnId>>,
    /// Per instance name, its slots (a few names: a scan beats hashing).
    slots: Vec<(&'a str, Slots)>,
    /// Per slot, the dataset its instance is a row of.
    datasets: Vec<usize>,
    /// Instances per example.
    pub width: usize,
}

impl<'a> Formulas<'a> {
    /// Instances are numbered in declaration order over the datasets that declare them.
    pub fn new(spec: &'a Spec, program: &'a skilang_lang::check::Program) -> Formulas<'a> {
        let (mut slots, mut datasets) = (Vec::new(), Vec::new());
        for (d, dataset) in spec.datasets.iter().enumerate() {
            for i in &dataset.instances {
                let width = datasets.len();
                let n = i.count.as_ref().map_or(1, |c| c.value as usize);
                let at = match i.count {
                    None => Slots::One(width),
                    Some(_) => Slots::Group(width..width + n),
                };
                slots.push((i.name.name.as_str(), at));
                datasets.extend(std::iter::repeat_n(d, n));
            }
        }
        let width = datasets.len();
        let domains = program
            .learnables
            .iter()
            .map(|l| program.domains.iter().find(|d| d.name == l.output).map(|d| d.raw.clone()).unwrap_or_default())
            .collect();
        let shapes = program
            .learnables
            .iter()
            .map(|l| match &l.output_column.column(spec).ty {
                ColumnType::Grid { shape, .. } => shape.iter().map(|&d| d as usize).collect(),
                _ => Vec::new(),
            })
            .collect();
        let mut calls = vec![None; program.calls.keys().map(|id| id.0 as usize + 1).max().unwrap_or(0)];
        for (id, &callee) in &program.calls {
            calls[id.0 as usize] = Some(callee);
        }
        let mut attributes = vec![Vec::new(); program.attributes.keys().map(|id| id.0 as usize + 1).max().unwrap_or(0)];
        for (id, columns) in &program.attributes {
            attributes[id.0 as usize] = columns.clone();
        }
        Formulas { spec, calls, domains, shapes, attributes, slots, datasets, width }
    }

    /// The output values of learnable `l`, in class order.
    pub fn domain(&self, l: usize) -> &[ClassValue] {
        &self.domains[l]
    }

    /// The shape of the grid learnable `l` predicts per instance (empty: one class).
    pub fn shape(&self, l: usize) -> &[usize] {
        &self.shapes[l]
    }

    /// The columns the attribute read `e` resolved to, one per dataset it reads.
    fn attribute(&self, e: &Expr) -> &[ColumnId] {
        self.attributes.get(e.id.0 as usize).map_or(&[], Vec::as_slice)
    }

    /// What the called name `func` is.
    fn callee(&self, func: &Expr) -> Option<Callee> {
        self.calls.get(func.id.0 as usize).copied().flatten()
    }
}

/// What latent values are and how they combine. The evaluator calls an operation (`learnable`
/// and `observe` aside) only when one of its operands is latent; a domain's own code may call
/// them with any.
pub trait Domain {
    type Latent: Latent;

    /// Column `column` of the instance in `slot`; `None` where the example has no such column.
    fn observe(&mut self, slot: usize, column: ColumnId) -> Option<Observed>;

    /// A whole dataset named in a formula.
    fn dataset(&mut self, name: &str, span: Span) -> Result<V<Self>, GroundError> {
        fail(
            span,
            format!("`{name}` is a whole dataset: column-wise constraints are not grounded per example (they need `injection: fuzzy`)"),
        )
    }

    /// `base.name` on a latent base; `columns`: the column `name` is in each dataset the checker
    /// saw it read on.
    fn attr(
        &mut self,
        base: Self::Latent,
        name: &str,
        columns: &[ColumnId],
        span: Span,
    ) -> Result<V<Self>, GroundError> {
        let _ = columns;
        fail(span, format!("`.{name}` needs an instance, found {}", base.describe()))
    }

    /// Learnable `l` applied to `args`.
    fn learnable(&mut self, l: usize, args: Vec<V<Self>>, span: Span) -> Result<V<Self>, GroundError>;

    /// `not v`.
    fn not(&mut self, v: Self::Latent, span: Span) -> Result<V<Self>, GroundError>;

    /// Arithmetic, or `and` / `or` / `^` of conditions.
    fn binary(&mut self, op: BinOp, l: V<Self>, r: V<Self>, span: Span) -> Result<V<Self>, GroundError>;

    fn compare(&mut self, op: CmpOp, l: V<Self>, r: V<Self>, span: Span) -> Result<V<Self>, GroundError>;

    /// The conjunction of a comparison chain's latent parts.
    fn all(&mut self, parts: Vec<Self::Latent>, span: Span) -> Result<V<Self>, GroundError>;

    /// `then if cond else otherwise` on a latent condition.
    fn if_else(
        &mut self,
        cond: Self::Latent,
        then: V<Self>,
        otherwise: V<Self>,
        span: Span,
    ) -> Result<V<Self>, GroundError>;

    /// `base[index]` where `base` is not a list.
    fn index(&mut self, base: V<Self>, index: V<Self>, span: Span) -> Result<V<Self>, GroundError> {
        let _ = index;
        fail(span, format!("expected a list, found {}", base.describe()))
    }

    /// A built-in that computes on values (`sum`, `count`, `all_different`, …) with latent ones
    /// among `values` (lists are unpacked as `max(a, b)` or `max(items)` take them).
    fn builtin(
        &mut self,
        builtin: Builtin,
        values: Vec<V<Self>>,
        args: &[Expr],
        span: Span,
    ) -> Result<V<Self>, GroundError>;
}

/// A value of domain `D`.
pub type V<D> = Value<<D as Domain>::Latent>;

/// Knowledge rules already evaluated on observed arguments for one example: rules such as
/// `ranks(h)` are called by many constraints, and evaluating them once is most of the work. A
/// latent result is remembered for one formula's evaluation only (its variables and atoms belong
/// to the event being built): a Sudoku's `board(p)`, read 243 times by a constraint.
pub struct Memo<L> {
    /// Per rule, where its arguments sit in `keys`, and what it gave on them.
    results: Vec<Vec<(std::ops::Range<usize>, Value<L>)>>,
    /// The same for latent results, forgotten when an evaluator starts.
    latent: Vec<Vec<(std::ops::Range<usize>, Value<L>)>>,
    /// Grid columns read, by slot (a grid is 81 values to build; a DIMACS Sudoku reads one 20,000
    /// times).
    grids: Vec<(usize, ColumnId, Value<L>)>,
    /// Grid learnables applied, by learnable and slot; latent, so forgotten when an evaluator
    /// starts.
    applications: Vec<(usize, usize, Value<L>)>,
    /// The arguments of the remembered calls, end to end (one buffer for the example: a call
    /// remembered costs no allocation).
    keys: Vec<Value<L>>,
    /// The arguments of the calls being evaluated, on one stack kept from formula to formula.
    arguments: Vec<Value<L>>,
}

impl<L> Default for Memo<L> {
    fn default() -> Self {
        Memo {
            results: Vec::new(),
            latent: Vec::new(),
            grids: Vec::new(),
            applications: Vec::new(),
            keys: Vec::new(),
            arguments: Vec::new(),
        }
    }
}

impl<L: Latent> Memo<L> {
    /// Forgets every result, to serve another example (keeping the memory).
    pub fn clear(&mut self) {
        self.results.iter_mut().chain(&mut self.latent).for_each(Vec::clear);
        self.grids.clear();
        self.applications.clear();
        self.keys.clear();
        self.arguments.clear();
    }

    /// What rule `r` gave on the arguments from `base` on the stack, if it was called on them.
    fn recall(&self, r: usize, base: usize) -> Option<&Value<L>> {
        let given = &self.arguments[base..];
        let mut calls = self.results.get(r).into_iter().chain(self.latent.get(r)).flatten();
        calls.find(|(at, _)| &self.keys[at.clone()] == given).map(|(_, v)| v)
    }

    /// Remembers that rule `r` gave `v` on the arguments from `base` on the stack.
    fn remember(&mut self, r: usize, base: usize, v: Value<L>) {
        let results = if v.latent() { &mut self.latent } else { &mut self.results };
        if results.len() <= r {
            results.resize_with(r + 1, Vec::new);
        }
        let start = self.keys.len();
        self.keys.extend(self.arguments[base..].iter().cloned());
        results[r].push((start..self.keys.len(), v));
    }
}

/// The names bound where an expression is evaluated (rule arguments, comprehension targets). A
/// rule's body is evaluated above a [`BARRIER`], on the same stack: it sees its arguments only.
pub type Scope<'e, L> = Vec<(&'e str, Value<L>)>;

/// The name that ends a rule's scope (no name is empty).
const BARRIER: &str = "";

/// What a comprehension clause iterates over.
enum Iterable<V> {
    Items(Vec<V>),
    /// The `k`-combinations of the items, made one at a time.
    Combinations(Vec<V>, usize),
}

/// Evaluates formulas of one example in domain `D`.
pub struct Evaluator<'f, 'm, D: Domain> {
    formulas: &'f Formulas<'f>,
    pub domain: D,
    memo: &'m mut Memo<D::Latent>,
    /// Set when an observed value the formula reads is unknown.
    pub unknown: bool,
    /// Terms created so far for this example, against [`MAX_GROUND_TERMS`].
    terms: usize,
}

impl<'f, 'm, D: Domain> Evaluator<'f, 'm, D> {
    pub fn new(formulas: &'f Formulas<'f>, domain: D, memo: &'m mut Memo<D::Latent>) -> Self {
        memo.latent.iter_mut().for_each(Vec::clear);
        memo.applications.clear();
        Evaluator { formulas, domain, memo, unknown: false, terms: 0 }
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

    pub fn eval<'e>(&mut self, e: &'e Expr, scope: &mut Scope<'e, D::Latent>) -> Result<V<D>, GroundError>
    where
        'f: 'e,
    {
        let span = e.span;
        Ok(match &e.kind {
            ExprKind::Int { text, value } => Value::Int(match value {
                Some(v) => Int::from(*v),
                None => Int::from(
                    text.replace('_', "")
                        .parse::<BigInt>()
                        .map_err(|_| GroundError { span, message: "bad integer".into() })?,
                ),
            }),
            ExprKind::Float(x) => Value::Real(*x),
            ExprKind::Str(s) => Value::Str(s.clone()),
            ExprKind::Bool(b) => Value::Bool(*b),
            ExprKind::Name(n) => self.name(n, span, scope)?,
            ExprKind::Attr { base, attr } => self.attr(e, base, &attr.name, scope)?,
            ExprKind::Index { base, index } => self.index(base, index, scope)?,
            ExprKind::Slice { base, lower, upper, step } => self.slice(base, [lower, upper, step], span, scope)?,
            ExprKind::Call { func, args } => self.call(func, args, span, scope)?,
            ExprKind::Unary { op, operand } => {
                let v = self.eval(operand, scope)?;
                match (op, v) {
                    (UnaryOp::Not | UnaryOp::Invert, Value::Bool(b)) => Value::Bool(!b),
                    (UnaryOp::Not | UnaryOp::Invert, Value::Latent(l)) => self.domain.not(l, span)?,
                    (UnaryOp::Not | UnaryOp::Invert, other) => {
                        return fail(span, format!("`not` needs a condition, found {}", other.describe()))
                    }
                    (UnaryOp::Pos, v) => v,
                    (UnaryOp::Neg, Value::Real(x)) => Value::Real(-x),
                    (UnaryOp::Neg, v) => self.binary(BinOp::Sub, Value::Int(Int::zero()), v, span)?,
                }
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let l = self.eval(lhs, scope)?;
                // `and` / `or` skip their right side when the left decides, as in Python.
                match (op, &l) {
                    (BinOp::And, Value::Bool(false)) | (BinOp::Or, Value::Bool(true)) => return Ok(l),
                    _ => {}
                }
                let r = self.eval(rhs, scope)?;
                match (l, r) {
                    (l @ Value::Bool(_), r) if crisp::is_logical(*op) && !r.latent() => {
                        Value::Bool(crisp::logical(*op, l, r, rhs.span)?)
                    }
                    (l, r) => self.binary(*op, l, r, span)?,
                }
            }
            ExprKind::Compare { first, rest } => self.compare(first, rest, span, scope)?,
            ExprKind::IfElse { cond, then, otherwise } => match self.eval(cond, scope)? {
                Value::Bool(true) => self.eval(then, scope)?,
                Value::Bool(false) => self.eval(otherwise, scope)?,
                Value::Latent(c) => {
                    let t = self.eval(then, scope)?;
                    let o = self.eval(otherwise, scope)?;
                    self.domain.if_else(c, t, o, span)?
                }
                other => return fail(cond.span, format!("expected a condition, found {}", other.describe())),
            },
            ExprKind::List(items) | ExprKind::Tuple(items) => {
                self.spend(items.len() as u128, span)?;
                Value::List(items.iter().map(|i| self.eval(i, scope)).collect::<Result<_, _>>()?)
            }
            ExprKind::Comprehension { element, clauses, .. } => {
                let mut out = Vec::new();
                self.comprehension(element, clauses, scope, &mut out)?;
                Value::List(out)
            }
            ExprKind::Error => return fail(span, "this formula did not parse"),
        })
    }

    /// `base.column`.
    fn attr<'e>(
        &mut self,
        e: &Expr,
        base: &'e Expr,
        column: &str,
        scope: &mut Scope<'e, D::Latent>,
    ) -> Result<V<D>, GroundError>
    where
        'f: 'e,
    {
        let span = e.span;
        let columns = self.formulas.attribute(e);
        match self.eval(base, scope)? {
            Value::Instance(slot) => {
                let dataset = self.formulas.datasets[slot];
                let Some(&column_id) = columns.iter().find(|c| c.dataset == dataset) else {
                    return fail(span, format!("the example has no value for `.{column}`"));
                };
                if let Some((.., v)) = self.memo.grids.iter().find(|(s, c, _)| (*s, *c) == (slot, column_id)) {
                    return Ok(v.clone());
                }
                match self.domain.observe(slot, column_id).map(observed) {
                    Some(Some(v)) => {
                        if matches!(v, Value::List(_)) {
                            self.memo.grids.push((slot, column_id, v.clone()));
                        }
                        Ok(v)
                    }
                    Some(None) => {
                        self.unknown = true;
                        fail(span, format!("`.{column}` is not known for this example"))
                    }
                    None => fail(span, format!("the example has no value for `.{column}`")),
                }
            }
            Value::Latent(l) => self.domain.attr(l, column, columns, span),
            other => fail(span, format!("`.{column}` needs an instance, found {}", other.describe())),
        }
    }

    /// `base[index]`.
    #[inline(never)]
    fn index<'e>(
        &mut self,
        base: &'e Expr,
        index: &'e Expr,
        scope: &mut Scope<'e, D::Latent>,
    ) -> Result<V<D>, GroundError>
    where
        'f: 'e,
    {
        let b = self.eval(base, scope)?;
        let i = self.eval(index, scope)?;
        let items = match b {
            Value::List(items) => items,
            b @ Value::Latent(_) => return self.domain.index(b, i, index.span),
            other => return fail(base.span, format!("expected a list, found {}", other.describe())),
        };
        let Value::Int(i) = i else { return fail(index.span, "an index must be an observed integer") };
        let n = items.len() as i64;
        let k = i.to_i64().map(|k| if k < 0 { k + n } else { k }).filter(|k| (0..n).contains(k));
        match k {
            Some(k) => Ok(items.into_iter().nth(k as usize).expect("an index in range")),
            None => fail(index.span, format!("index {i} is out of range for {n} items")),
        }
    }

    /// `base[lower:upper:step]`.
    #[inline(never)]
    fn slice<'e>(
        &mut self,
        base: &'e Expr,
        bounds: [&'e Option<Box<Expr>>; 3],
        span: Span,
        scope: &mut Scope<'e, D::Latent>,
    ) -> Result<V<D>, GroundError>
    where
        'f: 'e,
    {
        let items = self.list(base, scope)?;
        let mut values = [None, None, None];
        for (value, bound) in values.iter_mut().zip(bounds) {
            if let Some(x) = bound {
                *value = match self.eval(x, scope)? {
                    Value::Int(i) => i.to_i64(),
                    _ => return fail(x.span, "a slice bound must be an observed integer"),
                };
            }
        }
        let [lo, hi, step] = values;
        let step = step.unwrap_or(1);
        if step == 0 {
            return fail(span, "a slice step cannot be zero");
        }
        Ok(Value::List(crisp::slice(&items, lo, hi, step)))
    }

    /// A comparison chain: like Python's, the first comparison that fails decides.
    fn compare<'e>(
        &mut self,
        first: &'e Expr,
        rest: &'e [(CmpOp, Span, Expr)],
        span: Span,
        scope: &mut Scope<'e, D::Latent>,
    ) -> Result<V<D>, GroundError>
    where
        'f: 'e,
    {
        let mut left = self.eval(first, scope)?;
        let mut parts = Vec::new();
        for (op, op_span, right) in rest {
            let r = self.eval(right, scope)?;
            let c = match left.latent() || r.latent() {
                true => self.domain.compare(*op, left, r.clone(), *op_span)?,
                false => Value::Bool(crisp::compare(*op, &left, &r, *op_span)?),
            };
            match c {
                Value::Bool(false) => return Ok(Value::Bool(false)),
                Value::Bool(true) => {}
                Value::Latent(part) => parts.push(part),
                other => return fail(*op_span, format!("expected a condition, found {}", other.describe())),
            }
            left = r;
        }
        match parts.is_empty() {
            true => Ok(Value::Bool(true)),
            false => self.domain.all(parts, span),
        }
    }

    /// Arithmetic or logic on two values, crisp where both are observed.
    fn binary(&mut self, op: BinOp, l: V<D>, r: V<D>, span: Span) -> Result<V<D>, GroundError> {
        match l.latent() || r.latent() {
            true => self.domain.binary(op, l, r, span),
            false => crisp::arith(op, &l, &r, span),
        }
    }

    fn name(&mut self, n: &str, span: Span, scope: &Scope<D::Latent>) -> Result<V<D>, GroundError> {
        if let Some((_, v)) = scope.iter().rev().take_while(|(k, _)| *k != BARRIER).find(|(k, _)| *k == n) {
            return Ok(v.clone());
        }
        match self.formulas.slots.iter().find(|(name, _)| *name == n).map(|(_, s)| s) {
            Some(Slots::One(s)) => Ok(Value::Instance(*s)),
            Some(Slots::Group(r)) => Ok(Value::List(r.clone().map(Value::Instance).collect())),
            None if self.formulas.spec.datasets.iter().any(|d| d.name.name == n) => self.domain.dataset(n, span),
            // The checker resolved every other name to a value of a category.
            None => Ok(Value::Str(n.to_string())),
        }
    }

    fn list<'e>(&mut self, e: &'e Expr, scope: &mut Scope<'e, D::Latent>) -> Result<Vec<V<D>>, GroundError>
    where
        'f: 'e,
    {
        match self.eval(e, scope)? {
            Value::List(items) => Ok(items),
            other => fail(e.span, format!("expected a list, found {}", other.describe())),
        }
    }

    fn comprehension<'e>(
        &mut self,
        element: &'e Expr,
        clauses: &'e [CompFor],
        scope: &mut Scope<'e, D::Latent>,
        out: &mut Vec<V<D>>,
    ) -> Result<(), GroundError>
    where
        'f: 'e,
    {
        let Some((clause, rest)) = clauses.split_first() else {
            self.spend(1, element.span)?;
            out.push(self.eval(element, scope)?);
            return Ok(());
        };
        match self.iterable(&clause.iter, scope)? {
            Iterable::Items(items) => {
                out.reserve(items.len());
                for item in items {
                    let depth = scope.len();
                    bind(&clause.target, item, scope)?;
                    self.filtered(element, clause, rest, scope, out)?;
                    scope.truncate(depth);
                }
            }
            Iterable::Combinations(items, k) => {
                // Within the budget `iterable` spent.
                out.reserve(combinations_len(items.len(), k) as usize);
                let mut at: Vec<usize> = (0..k).collect();
                while k <= items.len() {
                    let depth = scope.len();
                    bind_parts(&clause.target, at.iter().map(|&i| items[i].clone()), k, scope)?;
                    self.filtered(element, clause, rest, scope, out)?;
                    scope.truncate(depth);
                    if !crisp::next_combination(&mut at, items.len()) {
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// The rest of a comprehension for one binding of a clause's target, if its conditions hold.
    fn filtered<'e>(
        &mut self,
        element: &'e Expr,
        clause: &'e CompFor,
        rest: &'e [CompFor],
        scope: &mut Scope<'e, D::Latent>,
        out: &mut Vec<V<D>>,
    ) -> Result<(), GroundError>
    where
        'f: 'e,
    {
        let mut keep = true;
        for c in &clause.conds {
            match self.eval(c, scope)? {
                Value::Bool(b) => keep &= b,
                _ => {
                    return fail(
                        c.span,
                        "a condition on a latent value cannot filter a comprehension; count or test it instead (e.g. `count(...)`, `any(...)`)",
                    )
                }
            }
        }
        match keep {
            true => self.comprehension(element, rest, scope, out),
            false => Ok(()),
        }
    }

    /// What a comprehension clause iterates over. `combinations(items, k)` over a list is not
    /// made into a list of lists first: comparing pairs this way is the common case, and making
    /// each pair was most of its cost.
    fn iterable<'e>(&mut self, e: &'e Expr, scope: &mut Scope<'e, D::Latent>) -> Result<Iterable<V<D>>, GroundError>
    where
        'f: 'e,
    {
        let ExprKind::Call { func, args } = &e.kind else { return self.list(e, scope).map(Iterable::Items) };
        let (Some(Callee::Builtin(Builtin::Combinations)), [items, k]) = (self.formulas.callee(func), args.as_slice())
        else {
            return self.list(e, scope).map(Iterable::Items);
        };
        let (items, k) = (self.eval(items, scope)?, self.eval(k, scope)?);
        match (items, k) {
            (Value::List(items), Value::Int(k)) => {
                let k = k.to_usize().unwrap_or(usize::MAX);
                self.spend(combinations_len(items.len(), k), e.span)?;
                Ok(Iterable::Combinations(items, k))
            }
            (items, k) => match self.builtin(Builtin::Combinations, vec![items, k], args, e.span)? {
                Value::List(items) => Ok(Iterable::Items(items)),
                other => fail(e.span, format!("expected a list, found {}", other.describe())),
            },
        }
    }

    fn call<'e>(
        &mut self,
        func: &Expr,
        args: &'e [Expr],
        span: Span,
        scope: &mut Scope<'e, D::Latent>,
    ) -> Result<V<D>, GroundError>
    where
        'f: 'e,
    {
        let Some(callee) = self.formulas.callee(func) else {
            return fail(func.span, "only named functions can be called");
        };
        let base = self.memo.arguments.len();
        for a in args {
            match self.eval(a, scope) {
                Ok(v) => self.memo.arguments.push(v),
                Err(e) => {
                    self.memo.arguments.truncate(base);
                    return Err(e);
                }
            }
        }
        let r = match callee {
            Callee::Rule(r) => r,
            Callee::Learnable(l) => {
                let values: Vec<V<D>> = self.memo.arguments.drain(base..).collect();
                let grid = match values.as_slice() {
                    [Value::Instance(slot)] if !self.formulas.shape(l).is_empty() => Some(*slot),
                    _ => None,
                };
                if let Some((.., v)) = grid.and_then(|s| self.memo.applications.iter().find(|a| (a.0, a.1) == (l, s))) {
                    return Ok(v.clone());
                }
                let v = self.domain.learnable(l, values, span)?;
                if let Some(slot) = grid {
                    self.memo.applications.push((l, slot, v.clone()));
                }
                return Ok(v);
            }
            Callee::Builtin(b) => {
                let values = self.memo.arguments.drain(base..).collect();
                return self.builtin(b, values, args, span);
            }
        };
        // The arguments stay on the stack while the rule's body is evaluated (its own calls push
        // above them), and are its key in the memo.
        let observed = !self.memo.arguments[base..].iter().any(Value::latent);
        let remembered = if observed { self.memo.recall(r, base).cloned() } else { None };
        if let Some(v) = remembered {
            self.memo.arguments.truncate(base);
            return Ok(v);
        }
        let rule = &self.formulas.spec.rules[r];
        let depth = scope.len();
        scope.push((BARRIER, Value::Bool(false)));
        scope.extend(rule.args.iter().map(|a| a.name.as_str()).zip(self.memo.arguments[base..].iter().cloned()));
        let v = self.eval(&rule.clause.expr, scope);
        scope.truncate(depth);
        if let Ok(v) = &v {
            if observed {
                self.memo.remember(r, base, v.clone());
            }
        }
        self.memo.arguments.truncate(base);
        v
    }

    fn builtin(&mut self, builtin: Builtin, values: Vec<V<D>>, args: &[Expr], span: Span) -> Result<V<D>, GroundError> {
        // A latent value where a structural built-in needs a list or an integer: the domain says
        // what it can make of it.
        let latent_argument = values.iter().any(|v| matches!(v, Value::Latent(_)));
        if crisp::structural(builtin) && !latent_argument {
            crisp::structure(builtin, values, args, span, &mut |n| self.spend(n, span))
        } else if values.iter().any(Value::latent) {
            self.domain.builtin(builtin, values, args, span)
        } else {
            crisp::builtin(builtin, values, args, span)
        }
    }
}

fn bind<'e, L>(target: &'e Target, value: Value<L>, scope: &mut Scope<'e, L>) -> Result<(), GroundError> {
    match (target, value) {
        (Target::Name(n), value) => scope.push((&n.name, value)),
        (Target::Tuple(..), Value::List(items)) => {
            let n = items.len();
            bind_parts(target, items.into_iter(), n, scope)?
        }
        (Target::Tuple(_, span), _) => return fail(*span, "cannot unpack a single value"),
    }
    Ok(())
}

/// Binds the `n` values of `parts` to `target`, unpacking them where it is a tuple.
fn bind_parts<'e, L>(
    target: &'e Target,
    parts: impl Iterator<Item = Value<L>>,
    n: usize,
    scope: &mut Scope<'e, L>,
) -> Result<(), GroundError> {
    match target {
        Target::Name(name) => scope.push((&name.name, Value::List(parts.collect()))),
        Target::Tuple(targets, span) if targets.len() != n => {
            return fail(*span, format!("cannot unpack {n} values into {}", targets.len()))
        }
        Target::Tuple(targets, _) => {
            for (t, v) in targets.iter().zip(parts) {
                bind(t, v, scope)?;
            }
        }
    }
    Ok(())
}

fn observed<L>(o: Observed) -> Option<Value<L>> {
    Some(match o {
        Observed::Int(i) => Value::Int(Int::from(i)),
        Observed::Real(x) => Value::Real(x),
        Observed::Bool(b) => Value::Bool(b),
        Observed::Str(s) => match s.parse::<BigInt>() {
            Ok(i) => Value::Int(Int::from(i)),
            Err(_) => Value::Str(s),
        },
        Observed::List(items) => Value::List(items.into_iter().map(observed).collect::<Option<_>>()?),
        Observed::Unknown => return None,
    })
}

/// A grid of `shape` as nested lists (one per dimension), its cells made by `cell(i)` in
/// row-major order; one cell for an empty shape.
pub(crate) fn grid<L>(shape: &[usize], cell: &mut impl FnMut(usize) -> Value<L>) -> Value<L> {
    nest(shape, cell, &Value::List)
}

/// Values made by `cell(i)` in row-major order, nested by `list` one level per dimension of
/// `shape`: a grid as formulas see it, observed or latent.
pub fn nest<T>(shape: &[usize], cell: &mut impl FnMut(usize) -> T, list: &impl Fn(Vec<T>) -> T) -> T {
    fn build<T>(
        shape: &[usize],
        next: &mut usize,
        cell: &mut impl FnMut(usize) -> T,
        list: &impl Fn(Vec<T>) -> T,
    ) -> T {
        match shape.split_first() {
            None => {
                *next += 1;
                cell(*next - 1)
            }
            Some((&n, rest)) => list((0..n).map(|_| build(rest, next, cell, list)).collect()),
        }
    }
    build(shape, &mut 0, cell, list)
}
