//! Column-wise constraints (DESIGN.md §3): formulas over whole columns of a dataset, such as
//! statistical parity, evaluated on burn tensors — per batch while training (so the batch size
//! matters, as the SKI-lang paper says) and over the whole test set in evaluation.
//!
//! A column is one number per row with a selection weight per row (`positive[group]` keeps the
//! numbers and multiplies the weights); aggregates (`mean`, `sum`, `count`, `min`, `max`) reduce it
//! to a scalar. A learnable applied to the dataset is its class distribution per row: compared
//! with a class it gives that class's probability, and in arithmetic its expected value.
//! Comparisons of numbers become hinge penalties: `a <= b` has truth `1 − min(1, max(0, a − b))`.
//! Observed comparisons are crisp.

use crate::examples::WeakError;
use crate::observations::Observations;
use burn::prelude::*;
use burn::tensor::TensorData;
use skilang_data::Data;
use skilang_lang::check::{self, ConstraintId, Program};
use skilang_lang::formula::{BinOp, CmpOp, Expr, ExprKind, UnaryOp};
use skilang_lang::source::Span;
use skilang_lang::spec::{ConstraintKind, Implication, Semantics, Spec, Value};
use skilang_logic::{Formulas, GroundError, Logic, Observed};
use std::collections::HashMap;

const UNKNOWN: &str =
    "this target is not known on the rows `labelled` leaves without labels; a column-wise constraint needs it on every row";

/// What a column-wise formula sees of one batch (or of the whole test set).
pub struct Batch<'a> {
    pub spec: &'a Spec,
    pub observations: &'a Observations<'a>,
    /// The dataset rows of the batch.
    pub rows: &'a [usize],
    /// Per learnable: its class probabilities on `rows` (`None` for a learnable that does not read
    /// this dataset).
    pub probs: Vec<Option<Tensor<2>>>,
    /// Per learnable: its output values, in class order.
    pub domains: &'a [Vec<Value>],
    pub logic: Logic,
    pub device: &'a Device,
}

/// A column-wise constraint's truth on a batch, and the left-hand side of its comparison.
pub struct Outcome {
    /// Shape `[1]`.
    pub truth: Tensor<1>,
    pub lhs: Option<f64>,
}

/// What column-wise constraints need besides the networks: the training rows' observed values,
/// and the learnables' classes.
pub struct Columns<'a> {
    pub spec: &'a Spec,
    /// Each column-wise constraint and its share of the section's weight.
    pub constraints: Vec<(ConstraintId, f64)>,
    pub observations: Observations<'a>,
    pub domains: Vec<Vec<Value>>,
}

impl Columns<'_> {
    /// The column-wise constraints' outcomes on `rows`, given each learnable's class
    /// probabilities on them.
    pub(crate) fn outcomes(
        &self,
        logic: Logic,
        rows: &[usize],
        probs: Vec<Option<Tensor<2>>>,
        device: &Device,
    ) -> Result<Vec<(ConstraintId, f64, Option<Outcome>)>, WeakError> {
        let batch = Batch {
            spec: self.spec,
            observations: &self.observations,
            rows,
            probs,
            domains: &self.domains,
            logic,
            device,
        };
        self.constraints
            .iter()
            .map(|&(c, share)| Ok((c, share, batch.constraint(c).map_err(WeakError::Ground)?)))
            .collect()
    }
}

/// The observed values, classes and column-wise constraints of the instance dataset's `split`
/// (`test` or the training split).
pub fn columns<'a>(
    spec: &'a Spec,
    program: &Program,
    data: &'a HashMap<String, Data>,
    test: bool,
) -> Option<Columns<'a>> {
    let constraints =
        program.constraints.iter().filter(|c| c.scope == check::Scope::ColumnWise).map(|c| (c.id, c.share)).collect();
    let dataset = spec.datasets.iter().find(|d| !d.instances.is_empty())?;
    let table = data.get(&dataset.name.name)?;
    let grounder = Formulas::new(spec, program);
    Some(Columns {
        spec,
        constraints,
        observations: if test {
            Observations::new(dataset, &table.test, None)
        } else {
            Observations::new(dataset, &table.train, table.labelled.as_deref())
        },
        domains: (0..spec.learnables.len()).map(|l| grounder.domain(l).to_vec()).collect(),
    })
}

// Values live for one evaluation; boxing the tensors would only add allocations.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
enum V {
    Num(f64),
    Bool(bool),
    Str(String),
    Dataset,
    /// An observed column on the batch rows.
    Observed(Vec<Option<Observed>>),
    /// A learnable's class distribution on the batch rows.
    Dist(usize),
    /// One number per row, with a selection weight per row.
    Column {
        v: Tensor<1>,
        sel: Tensor<1>,
    },
    Scalar(Tensor<1>),
    /// An aggregate over no row (a batch without anyone of a group).
    Undefined,
}

fn fail<T>(span: Span, message: impl Into<String>) -> Result<T, GroundError> {
    Err(GroundError { span, message: message.into() })
}

type Scope = Vec<(String, V)>;

impl Batch<'_> {
    /// Constraint `id`'s truth degree on this batch; `None` when an aggregate it needs has no
    /// row to aggregate.
    pub fn constraint(&self, id: ConstraintId) -> Result<Option<Outcome>, GroundError> {
        let cond = |e: &Expr| -> Result<Option<Tensor<1>>, GroundError> {
            match self.eval(e, &mut Vec::new())? {
                V::Undefined => Ok(None),
                v => self.truth(v, e.span).map(Some),
            }
        };
        let truth = match &self.spec.constraints[id.position()].kind {
            ConstraintKind::Always(f) => cond(&f.expr)?,
            ConstraintKind::Never(f) => cond(&f.expr)?.map(|t| t.neg() + 1.0),
            ConstraintKind::IfThen { guard, then } => {
                self.pair(&guard.expr, &then.expr, |a, b| implies(self.logic, a, b))?
            }
            ConstraintKind::Iff(x, y) => self.pair(&x.expr, &y.expr, |a, b| {
                let there = implies(self.logic, a.clone(), b.clone());
                and(self.logic.semantics, there, implies(self.logic, b, a))
            })?,
        };
        let Some(truth) = truth else { return Ok(None) };
        let lhs = match &self.spec.constraints[id.position()].kind {
            ConstraintKind::Always(f) | ConstraintKind::Never(f) => match &f.expr.kind {
                ExprKind::Compare { first, .. } => match self.eval(first, &mut Vec::new())? {
                    V::Num(x) => Some(x),
                    V::Scalar(t) => Some(scalar_value(t)),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        };
        Ok(Some(Outcome { truth, lhs }))
    }

    /// Two conditions combined by `f` into a constraint's truth; `None` when either is undefined
    /// on this batch.
    fn pair(
        &self,
        x: &Expr,
        y: &Expr,
        f: impl Fn(Tensor<1>, Tensor<1>) -> Tensor<1>,
    ) -> Result<Option<Tensor<1>>, GroundError> {
        match (self.eval(x, &mut Vec::new())?, self.eval(y, &mut Vec::new())?) {
            (V::Undefined, _) | (_, V::Undefined) => Ok(None),
            (a, b) => {
                let combined = self.combine(self.condition(a, x.span)?, self.condition(b, y.span)?, f);
                self.truth(combined, x.span).map(Some)
            }
        }
    }

    /// Two conditions combined row by row (their selections multiply), or as scalars.
    fn combine(&self, a: V, b: V, f: impl Fn(Tensor<1>, Tensor<1>) -> Tensor<1>) -> V {
        match self.align(a, b) {
            (V::Column { v: x, sel: sx }, V::Column { v: y, sel: sy }) => V::Column { v: f(x, y), sel: sx * sy },
            (a, b) => V::Scalar(f(self.tensor(a), self.tensor(b))),
        }
    }

    /// A constraint's truth: a condition on scalars, or the mean truth over selected rows.
    fn truth(&self, v: V, span: Span) -> Result<Tensor<1>, GroundError> {
        Ok(match self.condition(v, span)? {
            V::Column { v, sel } => weighted_mean(v, sel),
            v => self.tensor(v),
        })
    }

    /// A truth value as a scalar or column of degrees in [0, 1].
    fn condition(&self, v: V, span: Span) -> Result<V, GroundError> {
        match v {
            V::Bool(b) => Ok(V::Scalar(self.constant(b as u8 as f64))),
            v @ (V::Scalar(_) | V::Column { .. }) => Ok(v),
            V::Observed(values) => {
                let crisp: Result<Vec<f64>, _> = values
                    .iter()
                    .map(|o| match o {
                        Some(Observed::Bool(b)) => Ok(*b as u8 as f64),
                        Some(Observed::Unknown) => fail(span, UNKNOWN),
                        _ => fail(span, "expected a condition, found an observed column that is not boolean"),
                    })
                    .collect();
                Ok(self.column_of(crisp?))
            }
            _ => fail(span, "expected a condition"),
        }
    }

    fn constant(&self, x: f64) -> Tensor<1> {
        Tensor::from_data(TensorData::new(vec![x as f32], [1]), self.device)
    }

    fn column_of(&self, values: Vec<f64>) -> V {
        let n = values.len();
        let v = Tensor::from_data(TensorData::new(values.into_iter().map(|x| x as f32).collect(), [n]), self.device);
        V::Column { v, sel: Tensor::ones([n], self.device) }
    }

    /// Brings a scalar to the batch's length when the other side is a column.
    fn align(&self, a: V, b: V) -> (V, V) {
        let n = self.rows.len();
        let widen = |x: V| match x {
            V::Scalar(t) => V::Column { v: t.expand([n]), sel: Tensor::ones([n], self.device) },
            x => x,
        };
        match (&a, &b) {
            (V::Column { .. }, V::Scalar(_)) => (a, widen(b)),
            (V::Scalar(_), V::Column { .. }) => (widen(a), b),
            _ => (a, b),
        }
    }

    fn tensor(&self, v: V) -> Tensor<1> {
        match v {
            V::Scalar(t) | V::Column { v: t, .. } => t,
            V::Num(x) => self.constant(x),
            V::Bool(b) => self.constant(b as u8 as f64),
            _ => self.constant(0.0),
        }
    }

    fn eval(&self, e: &Expr, scope: &mut Scope) -> Result<V, GroundError> {
        let span = e.span;
        Ok(match &e.kind {
            ExprKind::Int { value: Some(v), .. } => V::Num(*v as f64),
            ExprKind::Float(x) => V::Num(*x),
            ExprKind::Str(s) => V::Str(s.clone()),
            ExprKind::Bool(b) => V::Bool(*b),
            ExprKind::Name(n) => {
                if let Some((_, v)) = scope.iter().rev().find(|(k, _)| k == n) {
                    v.clone()
                } else if self.spec.datasets.iter().any(|d| &d.name.name == n) {
                    V::Dataset
                } else {
                    // The checker resolved every other name to a value of a category.
                    V::Str(n.clone())
                }
            }
            ExprKind::Attr { base, attr } => match self.eval(base, scope)? {
                V::Dataset => V::Observed(self.rows.iter().map(|&r| self.observations.value(r, &attr.name)).collect()),
                _ => return fail(span, "a column-wise constraint reads columns as `dataset.column`"),
            },
            ExprKind::Call { func, args } => {
                let ExprKind::Name(name) = &func.kind else {
                    return fail(func.span, "only named functions can be called");
                };
                let mut values = Vec::with_capacity(args.len());
                for a in args {
                    values.push(self.eval(a, scope)?);
                }
                self.call(name, values, span)?
            }
            ExprKind::Index { base, index } => {
                let b = self.eval(base, scope)?;
                let i = self.eval(index, scope)?;
                if matches!(b, V::Undefined) || matches!(i, V::Undefined) {
                    return Ok(V::Undefined);
                }
                let (v, sel) = self.column(b, base.span)?;
                let V::Column { v: mask, sel: mask_sel } = self.condition(i, index.span)? else {
                    return fail(index.span, "a column is indexed by a condition on its rows, e.g. `positive[group]`");
                };
                V::Column { v, sel: sel * mask * mask_sel }
            }
            ExprKind::Unary { op, operand } => {
                let v = self.eval(operand, scope)?;
                match (op, v) {
                    (_, V::Undefined) => V::Undefined,
                    (UnaryOp::Pos, v) => v,
                    (UnaryOp::Not | UnaryOp::Invert, V::Bool(b)) => V::Bool(!b),
                    (UnaryOp::Not | UnaryOp::Invert, v) => match self.condition(v, span)? {
                        V::Column { v, sel } => V::Column { v: v.neg() + 1.0, sel },
                        V::Scalar(t) => V::Scalar(t.neg() + 1.0),
                        _ => return fail(span, "`not` needs a condition"),
                    },
                    (UnaryOp::Neg, v) => self.arith(BinOp::Sub, V::Num(0.0), v, span)?,
                }
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let l = self.eval(lhs, scope)?;
                let r = self.eval(rhs, scope)?;
                if matches!(l, V::Undefined) || matches!(r, V::Undefined) {
                    return Ok(V::Undefined);
                }
                match op {
                    BinOp::And | BinOp::BitAnd | BinOp::Or | BinOp::BitOr => {
                        let conjunction = matches!(op, BinOp::And | BinOp::BitAnd);
                        if let (V::Bool(a), V::Bool(b)) = (&l, &r) {
                            return Ok(V::Bool(if conjunction { *a && *b } else { *a || *b }));
                        }
                        let (a, b) = (self.condition(l, lhs.span)?, self.condition(r, rhs.span)?);
                        let s = self.logic.semantics;
                        self.combine(a, b, |x, y| if conjunction { and(s, x, y) } else { or(s, x, y) })
                    }
                    _ => self.arith(*op, l, r, span)?,
                }
            }
            ExprKind::Compare { first, rest } => {
                let mut left = self.eval(first, scope)?;
                let mut parts: Option<V> = None;
                for (op, op_span, right) in rest {
                    let r = self.eval(right, scope)?;
                    if matches!(left, V::Undefined) || matches!(r, V::Undefined) {
                        return Ok(V::Undefined);
                    }
                    let c = self.compare(*op, left, r.clone(), *op_span)?;
                    parts = Some(match parts {
                        None => c,
                        Some(p) => self.combine(p, c, |x, y| and(self.logic.semantics, x, y)),
                    });
                    left = r;
                }
                parts.unwrap_or(V::Bool(true))
            }
            ExprKind::Int { value: None, .. } => {
                return fail(span, "this integer is too large for a column-wise formula")
            }
            _ => {
                return fail(
                    span,
                    "column-wise constraints are built from columns, learnables applied to the dataset, comparisons, \
                     `and`/`or`/`not`, arithmetic, `x[mask]` and the aggregates mean, sum, count, min, max, abs",
                )
            }
        })
    }

    fn call(&self, name: &str, mut values: Vec<V>, span: Span) -> Result<V, GroundError> {
        if let Some(l) = self.spec.learnables.iter().position(|l| l.name.name == name) {
            return match values.as_slice() {
                [V::Dataset] if self.probs[l].is_some() => Ok(V::Dist(l)),
                [V::Dataset] => fail(span, format!("learnable `{name}` does not read this dataset")),
                _ => fail(span, format!("in a column-wise constraint, `{name}` is applied to a whole dataset")),
            };
        }
        if let Some(rule) = self.spec.rules.iter().find(|r| r.name.name == name) {
            // A rule sees its arguments only.
            let mut inner: Scope = rule.args.iter().map(|a| a.name.clone()).zip(values).collect();
            return self.eval(&rule.clause.expr, &mut inner);
        }
        if values.iter().any(|v| matches!(v, V::Undefined)) {
            return Ok(V::Undefined);
        }
        match (name, values.len()) {
            ("abs", 1) => Ok(match values.remove(0) {
                V::Num(x) => V::Num(x.abs()),
                V::Scalar(t) => V::Scalar(t.abs()),
                v => {
                    let (v, sel) = self.column(v, span)?;
                    V::Column { v: v.abs(), sel }
                }
            }),
            ("mean" | "sum" | "count" | "min" | "max", 1) => {
                let (v, sel) = self.column(values.remove(0), span)?;
                let weight = scalar_value(sel.clone().sum());
                if weight <= 0.0 && name != "sum" && name != "count" {
                    return Ok(V::Undefined);
                }
                Ok(V::Scalar(match name {
                    "mean" => weighted_mean(v, sel),
                    "sum" | "count" => (v * sel).sum(),
                    // Unselected rows cannot be the extreme.
                    "min" => (v + (sel.neg() + 1.0) * 1e30).min(),
                    _ => (v - (sel.neg() + 1.0) * 1e30).max(),
                }))
            }
            _ => fail(
                span,
                format!("`{name}` with {} argument(s) is not available in column-wise constraints", values.len()),
            ),
        }
    }

    /// A value as one number per row: observed numbers, a distribution's expected value.
    fn column(&self, v: V, span: Span) -> Result<(Tensor<1>, Tensor<1>), GroundError> {
        let n = self.rows.len();
        match v {
            V::Column { v, sel } => Ok((v, sel)),
            V::Observed(values) => {
                let numbers: Result<Vec<f64>, _> = values
                    .iter()
                    .map(|o| match o {
                        Some(Observed::Int(i)) => Ok(*i as f64),
                        Some(Observed::Real(x)) => Ok(*x),
                        Some(Observed::Bool(b)) => Ok(*b as u8 as f64),
                        Some(Observed::Unknown) => fail(span, UNKNOWN),
                        _ => fail(span, "this column holds names, not numbers; compare it with a value instead"),
                    })
                    .collect();
                match self.column_of(numbers?) {
                    V::Column { v, sel } => Ok((v, sel)),
                    _ => unreachable!("column_of builds a column"),
                }
            }
            V::Dist(l) => {
                let numbers: Option<Vec<f32>> = self.domains[l]
                    .iter()
                    .map(|v| match v {
                        Value::Int(i) => Some(*i as f32),
                        Value::Str(_) => None,
                    })
                    .collect();
                let Some(numbers) = numbers else {
                    return fail(
                        span,
                        "the classes of this learnable are names; compare it with one, e.g. `net(data) == name`",
                    );
                };
                let k = numbers.len();
                let values = Tensor::<2>::from_data(TensorData::new(numbers, [1, k]), self.device);
                let p = self.probs[l].clone().expect("a distribution has probabilities");
                Ok(((p * values).sum_dim(1).reshape([n]), Tensor::ones([n], self.device)))
            }
            V::Scalar(t) => Ok((t.expand([n]), Tensor::ones([n], self.device))),
            V::Num(x) => Ok((self.constant(x).expand([n]), Tensor::ones([n], self.device))),
            _ => fail(span, "expected numbers"),
        }
    }

    fn arith(&self, op: BinOp, l: V, r: V, span: Span) -> Result<V, GroundError> {
        if let (V::Num(a), V::Num(b)) = (&l, &r) {
            return Ok(V::Num(match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a * b,
                BinOp::Div => a / b,
                _ => return fail(span, "column-wise arithmetic is `+ - * /`"),
            }));
        }
        let f = |a: Tensor<1>, b: Tensor<1>| -> Result<Tensor<1>, GroundError> {
            Ok(match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a * b,
                BinOp::Div => a / b,
                _ => return fail(span, "column-wise arithmetic is `+ - * /`"),
            })
        };
        let scalar = |v: &V| matches!(v, V::Num(_) | V::Scalar(_));
        if scalar(&l) && scalar(&r) {
            return Ok(V::Scalar(f(self.tensor(l), self.tensor(r))?));
        }
        let (a, sa) = self.column(l, span)?;
        let (b, sb) = self.column(r, span)?;
        Ok(V::Column { v: f(a, b)?, sel: sa * sb })
    }

    fn compare(&self, op: CmpOp, l: V, r: V, span: Span) -> Result<V, GroundError> {
        let flip = |op: CmpOp| match op {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Ge => CmpOp::Le,
            o => o,
        };
        match (l, r) {
            (V::Observed(values), c @ (V::Str(_) | V::Num(_) | V::Bool(_))) => {
                let crisp = values.iter().map(|o| observed_holds(op, o.as_ref(), &c) as u8 as f64).collect();
                Ok(self.column_of(crisp))
            }
            (c @ (V::Str(_) | V::Num(_) | V::Bool(_)), V::Observed(values)) => {
                self.compare(flip(op), V::Observed(values), c, span)
            }
            (V::Dist(l), c @ (V::Str(_) | V::Num(_))) => {
                let k = self.domains[l].len();
                let chosen: Vec<f32> = self.domains[l]
                    .iter()
                    .map(|v| value_holds(op, v, &c).ok_or(()))
                    .collect::<Result<Vec<bool>, ()>>()
                    .or_else(|_| fail(span, "classes that are names are compared with `==` or `!=` only"))?
                    .into_iter()
                    .map(|b| b as u8 as f32)
                    .collect();
                if !chosen.iter().any(|&x| x > 0.0) && op == CmpOp::Eq {
                    return fail(span, "no class of this learnable has that value");
                }
                let mask = Tensor::<2>::from_data(TensorData::new(chosen, [1, k]), self.device);
                let p = self.probs[l].clone().expect("a distribution has probabilities");
                let n = self.rows.len();
                Ok(V::Column { v: (p * mask).sum_dim(1).reshape([n]), sel: Tensor::ones([n], self.device) })
            }
            (c @ (V::Str(_) | V::Num(_)), V::Dist(l)) => self.compare(flip(op), V::Dist(l), c, span),
            (V::Dist(l), V::Observed(values)) | (V::Observed(values), V::Dist(l))
                if matches!(op, CmpOp::Eq | CmpOp::Ne) =>
            {
                // Per row, the probability of the observed class.
                let k = self.domains[l].len();
                let mut onehot = vec![0f32; values.len() * k];
                for (i, o) in values.iter().enumerate() {
                    for (j, v) in self.domains[l].iter().enumerate() {
                        let holds = o.as_ref().is_some_and(|o| observed_holds(CmpOp::Eq, Some(o), &value_v(v)));
                        onehot[i * k + j] = holds as u8 as f32;
                    }
                }
                let n = values.len();
                let mask = Tensor::<2>::from_data(TensorData::new(onehot, [n, k]), self.device);
                let p = self.probs[l].clone().expect("a distribution has probabilities");
                let eq = (p * mask).sum_dim(1).reshape([n]);
                let v = if op == CmpOp::Eq { eq } else { eq.neg() + 1.0 };
                Ok(V::Column { v, sel: Tensor::ones([n], self.device) })
            }
            (l, r) => {
                let numeric = |v: V| -> Result<V, GroundError> {
                    match v {
                        V::Num(_) | V::Scalar(_) | V::Column { .. } => Ok(v),
                        V::Bool(b) => Ok(V::Num(b as u8 as f64)),
                        v => {
                            let (v, sel) = self.column(v, span)?;
                            Ok(V::Column { v, sel })
                        }
                    }
                };
                let (l, r) = self.align(numeric(l)?, numeric(r)?);
                let hinge = |a: Tensor<1>, b: Tensor<1>| -> Result<Tensor<1>, GroundError> {
                    let h = match op {
                        CmpOp::Le | CmpOp::Lt => (a - b).clamp_min(0.0),
                        CmpOp::Ge | CmpOp::Gt => (b - a).clamp_min(0.0),
                        CmpOp::Eq => (a - b).abs(),
                        _ => return fail(span, "`!=` between numbers has no penalty; write it with `<` or `>`"),
                    };
                    Ok(h.clamp_max(1.0).neg() + 1.0)
                };
                Ok(match (l, r) {
                    (V::Column { v: a, sel: sa }, V::Column { v: b, sel: sb }) => {
                        V::Column { v: hinge(a, b)?, sel: sa * sb }
                    }
                    (a, b) => V::Scalar(hinge(self.tensor(a), self.tensor(b))?),
                })
            }
        }
    }
}

fn value_v(v: &Value) -> V {
    match v {
        Value::Int(i) => V::Num(*i as f64),
        Value::Str(s) => V::Str(s.clone()),
    }
}

/// Whether a class value compares as asked with a constant; `None` for an ordering of names.
fn value_holds(op: CmpOp, v: &Value, c: &V) -> Option<bool> {
    match (v, c) {
        (Value::Int(i), V::Num(x)) => Some(cmp_f64(op, *i as f64, *x)),
        (Value::Str(s), V::Str(t)) if matches!(op, CmpOp::Eq | CmpOp::Ne) => Some((s == t) == (op == CmpOp::Eq)),
        (_, _) if matches!(op, CmpOp::Eq | CmpOp::Ne) => Some(op == CmpOp::Ne),
        _ => None,
    }
}

fn observed_holds(op: CmpOp, o: Option<&Observed>, c: &V) -> bool {
    match (o, c) {
        (Some(Observed::Str(s)), V::Str(t)) => match op {
            CmpOp::Eq => s == t,
            CmpOp::Ne => s != t,
            _ => false,
        },
        (Some(Observed::Int(i)), V::Num(x)) => cmp_f64(op, *i as f64, *x),
        (Some(Observed::Real(y)), V::Num(x)) => cmp_f64(op, *y, *x),
        (Some(Observed::Bool(b)), V::Bool(x)) => cmp_f64(op, *b as u8 as f64, *x as u8 as f64),
        (Some(Observed::Int(i)), V::Str(t)) => cmp_f64(op, *i as f64, t.parse().unwrap_or(f64::NAN)),
        _ => op == CmpOp::Ne,
    }
}

fn cmp_f64(op: CmpOp, a: f64, b: f64) -> bool {
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Lt => a < b,
        CmpOp::Le => a <= b,
        CmpOp::Gt => a > b,
        CmpOp::Ge => a >= b,
        _ => false,
    }
}

fn weighted_mean(v: Tensor<1>, sel: Tensor<1>) -> Tensor<1> {
    (v * sel.clone()).sum() / sel.sum().clamp_min(1e-12)
}

pub fn scalar_value(t: Tensor<1>) -> f64 {
    t.into_data().iter::<f32>().next().map_or(f64::NAN, f64::from)
}

pub fn and(s: Semantics, a: Tensor<1>, b: Tensor<1>) -> Tensor<1> {
    match s {
        Semantics::Product => a * b,
        Semantics::Goedel => a.min_pair(b),
        Semantics::Lukasiewicz => (a + b - 1.0).clamp_min(0.0),
    }
}

pub fn or(s: Semantics, a: Tensor<1>, b: Tensor<1>) -> Tensor<1> {
    and(s, a.neg() + 1.0, b.neg() + 1.0).neg() + 1.0
}

/// The implication as `skilang_logic::Logic` defines it, on tensors.
pub fn implies(logic: Logic, a: Tensor<1>, b: Tensor<1>) -> Tensor<1> {
    let not_a = a.clone().neg() + 1.0;
    match logic.implication {
        Implication::Reichenbach => not_a + a * b,
        Implication::Goedel => {
            let ones = b.ones_like();
            b.clone().mask_where(a.lower_equal(b), ones)
        }
        Implication::Lukasiewicz => (not_a + b).clamp_max(1.0),
        Implication::KleeneDienes => not_a.max_pair(b),
        Implication::Material => or(logic.semantics, not_a, b),
    }
}
