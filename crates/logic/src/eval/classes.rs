//! Crisp evaluation: every value is known, the networks' applications included — each takes the
//! class it is given (the most likely one, when a test set is scored) — so a constraint is simply
//! true or false, with no event built.

use super::{crisp, fail, Domain, Evaluator, Formulas, GroundError, Known, Memo, Observed, Scope, Value, V};
use skilang_lang::check::{Builtin, ColumnId, ConstraintId};
use skilang_lang::formula::{BinOp, CmpOp, Expr};
use skilang_lang::source::Span;
use skilang_lang::spec::ConstraintKind;

/// The class of learnable `l` on the instance in `slot`, at `cell` of the grid it predicts (0
/// for a learnable that predicts one class): `class(l, slot, cell)`.
pub type ClassOf<'c> = &'c dyn Fn(usize, usize, usize) -> usize;

/// The domain where learnables take given classes.
struct Classes<'c> {
    formulas: &'c Formulas<'c>,
    observe: &'c dyn Fn(usize, ColumnId) -> Option<Observed>,
    /// `None` where formulas may read observed values only.
    class: Option<ClassOf<'c>>,
    /// Whether a learnable was read (a guard that reads one is a condition of the constraint,
    /// not a selection of examples).
    read: bool,
}

/// An expression's value on observed data.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Crisp {
    Bool(bool),
    Number(f64),
}

impl Domain for Classes<'_> {
    type Latent = Known;

    fn observe(&mut self, slot: usize, column: ColumnId) -> Option<Observed> {
        (self.observe)(slot, column)
    }

    fn learnable(&mut self, l: usize, args: Vec<V<Self>>, span: Span) -> Result<V<Self>, GroundError> {
        let Some(class) = self.class else {
            return fail(span, "this reads a learnable; only observed values can be evaluated here");
        };
        self.read = true;
        match args.first() {
            Some(&Value::Instance(slot)) => {
                let domain = self.formulas.domain(l);
                Ok(super::grid(self.formulas.shape(l), &mut |cell| Value::class(&domain[class(l, slot, cell)])))
            }
            _ => fail(span, format!("learnable `{}` takes one instance", self.formulas.spec.learnables[l].name.name)),
        }
    }

    fn not(&mut self, v: Known, _: Span) -> Result<V<Self>, GroundError> {
        match v {}
    }

    fn binary(&mut self, op: BinOp, l: V<Self>, r: V<Self>, span: Span) -> Result<V<Self>, GroundError> {
        crisp::arith(op, &l, &r, span)
    }

    fn compare(&mut self, op: CmpOp, l: V<Self>, r: V<Self>, span: Span) -> Result<V<Self>, GroundError> {
        crisp::compare(op, &l, &r, span).map(Value::Bool)
    }

    fn all(&mut self, parts: Vec<Known>, _: Span) -> Result<V<Self>, GroundError> {
        match parts.into_iter().next() {
            Some(p) => match p {},
            None => Ok(Value::Bool(true)),
        }
    }

    fn if_else(&mut self, cond: Known, _: V<Self>, _: V<Self>, _: Span) -> Result<V<Self>, GroundError> {
        match cond {}
    }

    fn builtin(
        &mut self,
        builtin: Builtin,
        values: Vec<V<Self>>,
        args: &[Expr],
        span: Span,
    ) -> Result<V<Self>, GroundError> {
        crisp::builtin(builtin, values, args, span)
    }
}

impl Formulas<'_> {
    /// Whether constraint `id` holds for one example when learnable `l` on the instance in `slot`
    /// takes class `class(l, slot, cell)`; `None` where the constraint does not apply to the example
    /// (an observed guard does not select it, or it reads a value the example does not know).
    pub fn holds(
        &self,
        id: ConstraintId,
        observe: &dyn Fn(usize, ColumnId) -> Option<Observed>,
        class: ClassOf,
        memo: &mut Memo<Known>,
    ) -> Result<Option<bool>, GroundError> {
        let mut ev = Evaluator::new(self, Classes { formulas: self, observe, class: Some(class), read: false }, memo);
        // Room for a few rule arguments and comprehension targets: growing it cost more.
        let truth = |ev: &mut Evaluator<Classes>, e: &Expr| match ev.eval(e, &mut Vec::with_capacity(8))? {
            Value::Bool(b) => Ok(b),
            other => fail(e.span, format!("expected a condition, found {}", other.describe())),
        };
        let holds = match &self.spec.constraints[id.position()].kind {
            ConstraintKind::Always(f) => truth(&mut ev, &f.expr).map(Some),
            ConstraintKind::Never(f) => truth(&mut ev, &f.expr).map(|t| Some(!t)),
            // A guard on observed values selects the examples the constraint is about.
            ConstraintKind::IfThen { guard, then } => match truth(&mut ev, &guard.expr) {
                Ok(true) => truth(&mut ev, &then.expr).map(Some),
                Ok(false) if ev.domain.read => Ok(Some(true)),
                Ok(false) => Ok(None),
                Err(e) => Err(e),
            },
            ConstraintKind::Iff(x, y) => truth(&mut ev, &x.expr).and_then(|a| Ok(Some(a == truth(&mut ev, &y.expr)?))),
        };
        match holds {
            Err(_) if ev.unknown => Ok(None),
            holds => holds,
        }
    }

    /// Evaluates `expr` on one example's observed values alone, with `bindings` naming instance
    /// slots (e.g. a rule's argument `h` for slot 0): a truth value or a number.
    pub fn evaluate(
        &self,
        expr: &Expr,
        bindings: &[(&str, usize)],
        observe: &dyn Fn(usize, ColumnId) -> Option<Observed>,
        memo: &mut Memo<Known>,
    ) -> Result<Crisp, GroundError> {
        let mut ev = Evaluator::new(self, Classes { formulas: self, observe, class: None, read: false }, memo);
        let mut scope: Scope<Known> = bindings.iter().map(|&(name, slot)| (name, Value::Instance(slot))).collect();
        match ev.eval(expr, &mut scope)? {
            Value::Bool(v) => Ok(Crisp::Bool(v)),
            Value::Int(i) => Ok(Crisp::Number(i.to_f64().unwrap_or(f64::NAN))),
            Value::Real(x) => Ok(Crisp::Number(x)),
            other => fail(expr.span, format!("expected a condition or a number, found {}", other.describe())),
        }
    }
}
