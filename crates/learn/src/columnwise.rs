//! Column-wise constraints (DESIGN.md §3): formulas over whole columns of a dataset, such as
//! statistical parity, evaluated on burn tensors — per batch while training (so the batch size
//! matters, as the SKI-lang paper says) and over the whole test set in evaluation. They are the
//! formula evaluator's column domain ([`skilang_logic::eval`]).
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
use skilang_lang::check::{self, Builtin, ColumnId, ConstraintId, Program};
use skilang_lang::formula::{BinOp, CmpOp, Expr, ExprKind};
use skilang_lang::source::Span;
use skilang_lang::spec::{ConstraintKind, Spec, Value as ClassValue};
use skilang_logic::eval::{Domain, Evaluator, Latent, Memo, Value};
use skilang_logic::fuzzy::Degree;
use skilang_logic::{Formulas, GroundError, Logic, Observed};
use std::collections::HashMap;

const UNKNOWN: &str =
    "this target is not known on the rows `labelled` leaves without labels; a column-wise constraint needs it on every row";

/// What a column-wise formula sees of one batch (or of the whole test set).
pub struct Batch<'a> {
    pub formulas: &'a Formulas<'a>,
    pub observations: &'a Observations<'a>,
    /// The dataset rows of the batch.
    pub rows: &'a [usize],
    /// Per learnable: its class probabilities on `rows` (`None` for a learnable that does not read
    /// this dataset).
    pub probs: Vec<Option<Tensor<2>>>,
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
/// and the program's formulas.
pub struct Columns<'a> {
    pub formulas: Formulas<'a>,
    /// Each column-wise constraint and its share of the section's weight.
    pub constraints: Vec<(ConstraintId, f64)>,
    pub observations: Observations<'a>,
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
        let batch = Batch { formulas: &self.formulas, observations: &self.observations, rows, probs, logic, device };
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
    program: &'a Program,
    data: &'a HashMap<String, Data>,
    test: bool,
) -> Option<Columns<'a>> {
    // Measured constraints are evaluated on the test split only.
    let constraints = program
        .constraints
        .iter()
        .filter(|c| c.scope == check::Scope::ColumnWise && (test || !c.measured))
        .map(|c| (c.id, c.share))
        .collect();
    let d = spec.datasets.iter().position(|d| !d.instances.is_empty())?;
    let table = data.get(&spec.datasets[d].name.name)?;
    Some(Columns {
        formulas: Formulas::new(spec, program),
        constraints,
        observations: if test {
            Observations::new(spec, d, &table.test, None)
        } else {
            Observations::new(spec, d, &table.train, table.labelled.as_deref())
        },
    })
}

/// A latent value of a column-wise formula.
// Values live for one evaluation; boxing the tensors would only add allocations.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub enum Col {
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

impl Latent for Col {
    fn describe(&self) -> &'static str {
        match self {
            Col::Dataset => "a dataset",
            Col::Observed(_) => "an observed column",
            Col::Dist(_) => "a learnable's classes",
            Col::Column { .. } => "a column",
            Col::Scalar(_) => "a number of the batch",
            Col::Undefined => "an aggregate over no row",
        }
    }
}

type V = Value<Col>;

fn fail<T>(span: Span, message: impl Into<String>) -> Result<T, GroundError> {
    Err(GroundError { span, message: message.into() })
}

fn undefined(v: &V) -> bool {
    matches!(v, Value::Latent(Col::Undefined))
}

fn column(v: Tensor<1>, sel: Tensor<1>) -> V {
    Value::Latent(Col::Column { v, sel })
}

fn scalar(t: Tensor<1>) -> V {
    Value::Latent(Col::Scalar(t))
}

impl Batch<'_> {
    /// Constraint `id`'s truth degree on this batch; `None` when an aggregate it needs has no
    /// row to aggregate.
    pub fn constraint(&self, id: ConstraintId) -> Result<Option<Outcome>, GroundError> {
        let mut memo = Memo::default();
        let mut ev = Evaluator::new(self.formulas, self, &mut memo);
        let mut eval = |e: &Expr| ev.eval(e, &mut Vec::new());
        let kind = &self.formulas.spec.constraints[id.position()].kind;
        let truth = match kind {
            ConstraintKind::Always(f) | ConstraintKind::Never(f) => match eval(&f.expr)? {
                v if undefined(&v) => None,
                v => {
                    let t = self.truth(v, f.expr.span)?;
                    Some(if matches!(kind, ConstraintKind::Never(_)) { t.neg() + 1.0 } else { t })
                }
            },
            ConstraintKind::IfThen { guard: x, then: y } | ConstraintKind::Iff(x, y) => {
                match (eval(&x.expr)?, eval(&y.expr)?) {
                    (a, b) if undefined(&a) || undefined(&b) => None,
                    (a, b) => {
                        let (a, b) = (self.condition(a, x.expr.span)?, self.condition(b, y.expr.span)?);
                        let combined = self.combine(a, b, |a, b| match kind {
                            ConstraintKind::IfThen { .. } => self.logic.implies(a, b),
                            _ => self.logic.iff(a, b),
                        });
                        Some(self.truth(combined, x.expr.span)?)
                    }
                }
            }
        };
        let Some(truth) = truth else { return Ok(None) };
        let lhs = match kind {
            ConstraintKind::Always(f) | ConstraintKind::Never(f) => match &f.expr.kind {
                ExprKind::Compare { first, .. } => match eval(first)? {
                    Value::Latent(Col::Scalar(t)) => Some(scalar_value(t)),
                    v => v.number(),
                },
                _ => None,
            },
            _ => None,
        };
        Ok(Some(Outcome { truth, lhs }))
    }

    /// Two conditions combined row by row (their selections multiply), or as scalars.
    fn combine(&self, a: V, b: V, f: impl Fn(Truths, Truths) -> Truths) -> V {
        match self.align(a, b) {
            (Value::Latent(Col::Column { v: x, sel: sx }), Value::Latent(Col::Column { v: y, sel: sy })) => {
                column(f(Truths(x), Truths(y)).0, sx * sy)
            }
            (a, b) => scalar(f(Truths(self.tensor(a)), Truths(self.tensor(b))).0),
        }
    }

    /// A constraint's truth: a condition on scalars, or the mean truth over selected rows.
    fn truth(&self, v: V, span: Span) -> Result<Tensor<1>, GroundError> {
        Ok(match self.condition(v, span)? {
            Value::Latent(Col::Column { v, sel }) => weighted_mean(v, sel),
            v => self.tensor(v),
        })
    }

    /// A truth value as a scalar or column of degrees in [0, 1].
    fn condition(&self, v: V, span: Span) -> Result<V, GroundError> {
        match v {
            Value::Bool(b) => Ok(scalar(self.constant(b as u8 as f64))),
            v @ Value::Latent(Col::Scalar(_) | Col::Column { .. }) => Ok(v),
            Value::Latent(Col::Observed(values)) => {
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
        column(v, Tensor::ones([n], self.device))
    }

    /// Brings a scalar to the batch's length when the other side is a column.
    fn align(&self, a: V, b: V) -> (V, V) {
        let n = self.rows.len();
        let widen = |x: V| match x {
            Value::Latent(Col::Scalar(t)) => column(t.expand([n]), Tensor::ones([n], self.device)),
            x => x,
        };
        match (&a, &b) {
            (Value::Latent(Col::Column { .. }), Value::Latent(Col::Scalar(_))) => (a, widen(b)),
            (Value::Latent(Col::Scalar(_)), Value::Latent(Col::Column { .. })) => (widen(a), b),
            _ => (a, b),
        }
    }

    fn tensor(&self, v: V) -> Tensor<1> {
        match v {
            Value::Latent(Col::Scalar(t) | Col::Column { v: t, .. }) => t,
            Value::Bool(b) => self.constant(b as u8 as f64),
            v => self.constant(v.number().unwrap_or(0.0)),
        }
    }

    /// A value as one number per row: observed numbers, a distribution's expected value.
    fn column(&self, v: V, span: Span) -> Result<(Tensor<1>, Tensor<1>), GroundError> {
        let n = self.rows.len();
        match v {
            Value::Latent(Col::Column { v, sel }) => Ok((v, sel)),
            Value::Latent(Col::Observed(values)) => {
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
                    Value::Latent(Col::Column { v, sel }) => Ok((v, sel)),
                    _ => unreachable!("column_of builds a column"),
                }
            }
            Value::Latent(Col::Dist(l)) => {
                let numbers: Option<Vec<f32>> = self
                    .formulas
                    .domain(l)
                    .iter()
                    .map(|v| match v {
                        ClassValue::Int(i) => Some(*i as f32),
                        ClassValue::Str(_) => None,
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
            Value::Latent(Col::Scalar(t)) => Ok((t.expand([n]), Tensor::ones([n], self.device))),
            v => match v.number() {
                Some(x) => Ok((self.constant(x).expand([n]), Tensor::ones([n], self.device))),
                None => fail(span, "expected numbers"),
            },
        }
    }

    fn arith(&self, op: BinOp, l: V, r: V, span: Span) -> Result<V, GroundError> {
        let f = |a: Tensor<1>, b: Tensor<1>| -> Result<Tensor<1>, GroundError> {
            Ok(match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a * b,
                BinOp::Div => a / b,
                _ => return fail(span, "column-wise arithmetic is `+ - * /`"),
            })
        };
        let is_scalar = |v: &V| !v.latent() || matches!(v, Value::Latent(Col::Scalar(_)));
        if is_scalar(&l) && is_scalar(&r) {
            return Ok(scalar(f(self.tensor(l), self.tensor(r))?));
        }
        let (a, sa) = self.column(l, span)?;
        let (b, sb) = self.column(r, span)?;
        Ok(column(f(a, b)?, sa * sb))
    }
}

impl Domain for &Batch<'_> {
    type Latent = Col;

    /// Column-wise formulas read columns of a dataset, not instances.
    fn observe(&mut self, _: usize, _: ColumnId) -> Option<Observed> {
        None
    }

    fn dataset(&mut self, _: &str, _: Span) -> Result<V, GroundError> {
        Ok(Value::Latent(Col::Dataset))
    }

    fn attr(&mut self, base: Col, _: &str, columns: &[ColumnId], span: Span) -> Result<V, GroundError> {
        match base {
            // `observations` are of the one dataset a batch's rows come from; a column of another
            // reads as not known.
            Col::Dataset => Ok(Value::Latent(Col::Observed(
                self.rows.iter().map(|&r| columns.iter().find_map(|&c| self.observations.value(r, c))).collect(),
            ))),
            _ => fail(span, "a column-wise constraint reads columns as `dataset.column`"),
        }
    }

    fn learnable(&mut self, l: usize, args: Vec<V>, span: Span) -> Result<V, GroundError> {
        let name = &self.formulas.spec.learnables[l].name.name;
        match args.as_slice() {
            [Value::Latent(Col::Dataset)] if self.probs[l].is_some() => Ok(Value::Latent(Col::Dist(l))),
            [Value::Latent(Col::Dataset)] => fail(span, format!("learnable `{name}` does not read this dataset")),
            _ => fail(span, format!("in a column-wise constraint, `{name}` is applied to a whole dataset")),
        }
    }

    fn not(&mut self, v: Col, span: Span) -> Result<V, GroundError> {
        Ok(match self.condition(Value::Latent(v), span)? {
            Value::Latent(Col::Undefined) => Value::Latent(Col::Undefined),
            Value::Latent(Col::Column { v, sel }) => column(v.neg() + 1.0, sel),
            Value::Latent(Col::Scalar(t)) => scalar(t.neg() + 1.0),
            _ => return fail(span, "`not` needs a condition"),
        })
    }

    fn binary(&mut self, op: BinOp, l: V, r: V, span: Span) -> Result<V, GroundError> {
        if undefined(&l) || undefined(&r) {
            return Ok(Value::Latent(Col::Undefined));
        }
        match op {
            BinOp::And | BinOp::BitAnd | BinOp::Or | BinOp::BitOr => {
                let conjunction = matches!(op, BinOp::And | BinOp::BitAnd);
                let (a, b) = (self.condition(l, span)?, self.condition(r, span)?);
                let logic = self.logic;
                Ok(self.combine(a, b, |x, y| if conjunction { logic.and(x, y) } else { logic.or(x, y) }))
            }
            _ => self.arith(op, l, r, span),
        }
    }

    fn compare(&mut self, op: CmpOp, l: V, r: V, span: Span) -> Result<V, GroundError> {
        if undefined(&l) || undefined(&r) {
            return Ok(Value::Latent(Col::Undefined));
        }
        let flip = |op: CmpOp| match op {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Ge => CmpOp::Le,
            o => o,
        };
        match (l, r) {
            (Value::Latent(Col::Observed(values)), c) if !c.latent() => {
                let crisp = values.iter().map(|o| observed_holds(op, o.as_ref(), &c) as u8 as f64).collect();
                Ok(self.column_of(crisp))
            }
            (c, o @ Value::Latent(Col::Observed(_))) if !c.latent() => self.compare(flip(op), o, c, span),
            (Value::Latent(Col::Dist(l)), c) if !c.latent() && !matches!(c, Value::Bool(_)) => {
                let domain = self.formulas.domain(l);
                let chosen: Vec<f32> = domain
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
                let k = domain.len();
                let mask = Tensor::<2>::from_data(TensorData::new(chosen, [1, k]), self.device);
                let p = self.probs[l].clone().expect("a distribution has probabilities");
                let n = self.rows.len();
                Ok(column((p * mask).sum_dim(1).reshape([n]), Tensor::ones([n], self.device)))
            }
            (c, d @ Value::Latent(Col::Dist(_))) if !c.latent() && !matches!(c, Value::Bool(_)) => {
                self.compare(flip(op), d, c, span)
            }
            (Value::Latent(Col::Dist(l)), Value::Latent(Col::Observed(values)))
            | (Value::Latent(Col::Observed(values)), Value::Latent(Col::Dist(l)))
                if matches!(op, CmpOp::Eq | CmpOp::Ne) =>
            {
                // Per row, the probability of the observed class.
                let domain = self.formulas.domain(l);
                let k = domain.len();
                let mut onehot = vec![0f32; values.len() * k];
                for (i, o) in values.iter().enumerate() {
                    for (j, v) in domain.iter().enumerate() {
                        let holds = o.as_ref().is_some_and(|o| observed_holds(CmpOp::Eq, Some(o), &Value::class(v)));
                        onehot[i * k + j] = holds as u8 as f32;
                    }
                }
                let n = values.len();
                let mask = Tensor::<2>::from_data(TensorData::new(onehot, [n, k]), self.device);
                let p = self.probs[l].clone().expect("a distribution has probabilities");
                let eq = (p * mask).sum_dim(1).reshape([n]);
                let v = if op == CmpOp::Eq { eq } else { eq.neg() + 1.0 };
                Ok(column(v, Tensor::ones([n], self.device)))
            }
            (l, r) => {
                let numeric = |v: V| -> Result<V, GroundError> {
                    match v {
                        Value::Latent(Col::Scalar(_) | Col::Column { .. }) => Ok(v),
                        Value::Bool(b) => Ok(scalar(self.constant(b as u8 as f64))),
                        v if !v.latent() => Ok(scalar(self.constant(v.number().unwrap_or(f64::NAN)))),
                        v => {
                            let (v, sel) = self.column(v, span)?;
                            Ok(column(v, sel))
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
                    (Value::Latent(Col::Column { v: a, sel: sa }), Value::Latent(Col::Column { v: b, sel: sb })) => {
                        column(hinge(a, b)?, sa * sb)
                    }
                    (a, b) => scalar(hinge(self.tensor(a), self.tensor(b))?),
                })
            }
        }
    }

    fn all(&mut self, parts: Vec<Col>, span: Span) -> Result<V, GroundError> {
        let mut parts = parts.into_iter().map(Value::Latent);
        let first = parts.next().expect("a chain has a comparison");
        parts.try_fold(first, |a, b| match undefined(&a) || undefined(&b) {
            true => Ok(Value::Latent(Col::Undefined)),
            false => {
                let (a, b) = (self.condition(a, span)?, self.condition(b, span)?);
                Ok(self.combine(a, b, |x, y| self.logic.and(x, y)))
            }
        })
    }

    fn if_else(&mut self, _: Col, _: V, _: V, span: Span) -> Result<V, GroundError> {
        fail(span, "a column-wise constraint cannot choose between values by a condition on its rows")
    }

    fn index(&mut self, base: V, index: V, span: Span) -> Result<V, GroundError> {
        if undefined(&base) || undefined(&index) {
            return Ok(Value::Latent(Col::Undefined));
        }
        let (v, sel) = self.column(base, span)?;
        let Value::Latent(Col::Column { v: mask, sel: mask_sel }) = self.condition(index, span)? else {
            return fail(span, "a column is indexed by a condition on its rows, e.g. `positive[group]`");
        };
        Ok(column(v, sel * mask * mask_sel))
    }

    fn builtin(&mut self, builtin: Builtin, mut values: Vec<V>, _: &[Expr], span: Span) -> Result<V, GroundError> {
        if values.iter().any(undefined) {
            return Ok(Value::Latent(Col::Undefined));
        }
        let name = builtin.name();
        match (builtin, values.len()) {
            (Builtin::Abs, 1) => Ok(match values.remove(0) {
                Value::Latent(Col::Scalar(t)) => scalar(t.abs()),
                v => {
                    let (v, sel) = self.column(v, span)?;
                    column(v.abs(), sel)
                }
            }),
            (Builtin::Mean | Builtin::Sum | Builtin::Count | Builtin::Min | Builtin::Max, 1) => {
                let (v, sel) = self.column(values.remove(0), span)?;
                let weight = scalar_value(sel.clone().sum());
                if weight <= 0.0 && !matches!(builtin, Builtin::Sum | Builtin::Count) {
                    return Ok(Value::Latent(Col::Undefined));
                }
                Ok(scalar(match builtin {
                    Builtin::Mean => weighted_mean(v, sel),
                    Builtin::Sum | Builtin::Count => (v * sel).sum(),
                    // Unselected rows cannot be the extreme.
                    Builtin::Min => (v + (sel.neg() + 1.0) * 1e30).min(),
                    _ => (v - (sel.neg() + 1.0) * 1e30).max(),
                }))
            }
            _ => fail(
                span,
                format!("`{name}` with {} argument(s) is not available in column-wise constraints", values.len()),
            ),
        }
    }
}

/// Whether a class value compares as asked with a constant; `None` for an ordering of names.
fn value_holds(op: CmpOp, v: &ClassValue, c: &V) -> Option<bool> {
    match (v, c) {
        (ClassValue::Int(i), c) if c.number().is_some() => Some(cmp_f64(op, *i as f64, c.number()?)),
        (ClassValue::Str(s), Value::Str(t)) if matches!(op, CmpOp::Eq | CmpOp::Ne) => {
            Some((s == t) == (op == CmpOp::Eq))
        }
        (_, _) if matches!(op, CmpOp::Eq | CmpOp::Ne) => Some(op == CmpOp::Ne),
        _ => None,
    }
}

fn observed_holds(op: CmpOp, o: Option<&Observed>, c: &V) -> bool {
    match (o, c) {
        (Some(Observed::Str(s)), Value::Str(t)) => match op {
            CmpOp::Eq => s == t,
            CmpOp::Ne => s != t,
            _ => false,
        },
        (Some(Observed::Bool(b)), Value::Bool(x)) => cmp_f64(op, *b as u8 as f64, *x as u8 as f64),
        (Some(Observed::Int(i)), Value::Str(t)) => cmp_f64(op, *i as f64, t.parse().unwrap_or(f64::NAN)),
        (Some(Observed::Int(i)), c) if c.number().is_some() => cmp_f64(op, *i as f64, c.number().unwrap_or(f64::NAN)),
        (Some(Observed::Real(y)), c) if c.number().is_some() => cmp_f64(op, *y, c.number().unwrap_or(f64::NAN)),
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

/// Truth degrees on a batch's tensors, for the connectives of [`Logic`].
#[derive(Clone)]
struct Truths(Tensor<1>);

impl Degree for Truths {
    fn constant(&self, x: f64) -> Truths {
        Truths(self.0.ones_like() * x)
    }

    fn plus(self, other: Truths) -> Truths {
        Truths(self.0 + other.0)
    }

    fn minus(self, other: Truths) -> Truths {
        Truths(self.0 - other.0)
    }

    fn times(self, other: Truths) -> Truths {
        Truths(self.0 * other.0)
    }

    fn min(self, other: Truths) -> Truths {
        Truths(self.0.min_pair(other.0))
    }

    fn max(self, other: Truths) -> Truths {
        Truths(self.0.max_pair(other.0))
    }

    fn where_le(self, other: Truths, then: Truths, otherwise: Truths) -> Truths {
        Truths(otherwise.0.mask_where(self.0.lower_equal(other.0), then.0))
    }
}
