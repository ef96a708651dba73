//! Grounding: a checked constraint and one example's observed values give an [`Event`] over the
//! latent applications of learnables (`digit(x3)` becomes a categorical variable).
//!
//! Observed sub-expressions are evaluated to constants (integers are arbitrary precision, so the
//! sum of two 100-digit numbers is an ordinary value); latent ones stay symbolic, as linear sums of
//! per-variable tables where possible (so that the compiler can prune by bounds and divisibility),
//! else as tables over the few variables they combine.

mod arith;
mod builtins;

use crate::eval::{crisp, fail, Domain, Evaluator, Formulas, GroundError, Int, Latent, Memo, Observed, Value};
use crate::event::{Atom, Cmp, Cost, Event, Formula};
use num_bigint::BigInt;
use num_traits::{One, Signed, Zero};
use skilang_lang::check::{Builtin, ColumnId, ConstraintId};
use skilang_lang::formula::{BinOp, CmpOp, Expr};
use skilang_lang::source::Span;
use skilang_lang::spec::{ConstraintKind, Value as ClassValue};
use std::collections::{BTreeMap, HashMap};

/// The most joint assignments a non-linear latent expression may combine.
const JOINT_LIMIT: usize = 1 << 20;

/// A learnable applied to the instance in a slot of the example.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VarRef {
    pub learnable: usize,
    pub slot: usize,
    /// The cell of the grid the learnable predicts (0 for one class per instance).
    pub cell: usize,
}

/// One constraint grounded for one example.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
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
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Form {
    /// The event's formula is the constraint.
    Plain,
    /// A latent guard: `if: A` `then: B`.
    Implies(Formula, Formula),
    Iff(Formula, Formula),
}

/// A latent integer: `Σ_v table_v[z_v] + constant`.
#[derive(Clone, Debug, PartialEq)]
pub struct Lin {
    terms: BTreeMap<usize, Vec<BigInt>>,
    constant: BigInt,
}

/// A latent value over several variables: its value for every joint assignment of `vars`.
#[derive(Clone, Debug, PartialEq)]
pub struct Joint<T> {
    vars: Vec<usize>,
    values: Vec<T>,
}

/// A latent value of grounding.
#[derive(Clone, Debug, PartialEq)]
pub enum Sym {
    /// A learnable's latent class (a variable of the event).
    Var(usize),
    Lin(Lin),
    /// A latent integer that is not linear in per-variable tables.
    Ints(Joint<BigInt>),
    /// A latent condition.
    Prop(Formula),
    /// `shortest_path` of latent costs: only compared with an observed path.
    Path(Vec<Cost>),
}

impl Latent for Sym {
    fn describe(&self) -> &'static str {
        match self {
            Sym::Var(_) => "a learnable's class",
            Sym::Lin(_) | Sym::Ints(_) => "a latent integer",
            Sym::Prop(_) => "a latent condition",
            Sym::Path(_) => "the shortest path over latent costs",
        }
    }
}

type G = Value<Sym>;

impl Formulas<'_> {
    /// Grounds constraint `id` for the example whose observed values `observe(slot, column)`
    /// gives; `None` when an observed guard does not select the example, or when the constraint
    /// reads a value the example does not know ([`Observed::Unknown`]).
    pub fn ground(
        &self,
        id: ConstraintId,
        observe: &dyn Fn(usize, ColumnId) -> Option<Observed>,
    ) -> Result<Option<Grounded>, GroundError> {
        self.ground_with(id, observe, &mut Memo::default())
    }

    /// [`Formulas::ground`], reusing the observed results of knowledge rules in `memo` (which
    /// must belong to the same example).
    pub fn ground_with(
        &self,
        id: ConstraintId,
        observe: &dyn Fn(usize, ColumnId) -> Option<Observed>,
        memo: &mut Memo<Sym>,
    ) -> Result<Option<Grounded>, GroundError> {
        let builder = Builder {
            g: self,
            observe,
            atoms: Vec::new(),
            atom_of: HashMap::new(),
            vars: Vec::new(),
            var_of: HashMap::new(),
        };
        let mut ev = Evaluator::new(self, builder, memo);
        match constraint(&mut ev, id) {
            Err(_) if ev.unknown => Ok(None),
            grounded => grounded,
        }
    }
}

/// The grounding domain: the event's variables and atoms as they are created.
struct Builder<'g> {
    g: &'g Formulas<'g>,
    observe: &'g dyn Fn(usize, ColumnId) -> Option<Observed>,
    atoms: Vec<Atom>,
    /// Each distinct atom once (a CNF's clauses name the same few cell conditions thousands of
    /// times).
    atom_of: HashMap<Atom, usize>,
    vars: Vec<VarRef>,
    var_of: HashMap<VarRef, usize>,
}

fn constraint(ev: &mut Evaluator<Builder>, id: ConstraintId) -> Result<Option<Grounded>, GroundError> {
    let spec = ev.domain.g.spec;
    let mut condition = |e: &Expr| -> Result<Formula, GroundError> {
        let v = ev.eval(e, &mut Vec::new())?;
        truth(v, e.span)
    };
    let (formula, form) = match &spec.constraints[id.position()].kind {
        ConstraintKind::Always(f) => (condition(&f.expr)?, Form::Plain),
        ConstraintKind::Never(f) => (Formula::negate(condition(&f.expr)?), Form::Plain),
        ConstraintKind::IfThen { guard, then } => {
            // An observed guard that does not hold leaves the example out: its consequence
            // is not grounded at all.
            let g = condition(&guard.expr)?;
            if g == Formula::Const(false) {
                return Ok(None);
            }
            let t = condition(&then.expr)?;
            match g {
                Formula::Const(true) => (t, Form::Plain),
                g => (Formula::or(vec![Formula::negate(g.clone()), t.clone()]), Form::Implies(g, t)),
            }
        }
        ConstraintKind::Iff(x, y) => {
            let (x, y) = (condition(&x.expr)?, condition(&y.expr)?);
            (Formula::iff(x.clone(), y.clone()), Form::Iff(x, y))
        }
    };
    let b = &mut ev.domain;
    let domains = b.vars.iter().map(|v| b.g.domain(v.learnable).len()).collect();
    Ok(Some(Grounded {
        event: Event { domains, atoms: std::mem::take(&mut b.atoms), formula },
        vars: std::mem::take(&mut b.vars),
        form,
    }))
}

fn truth(v: G, span: Span) -> Result<Formula, GroundError> {
    match v {
        Value::Bool(b) => Ok(Formula::Const(b)),
        Value::Latent(Sym::Prop(f)) => Ok(f),
        other => fail(span, format!("expected a condition, found {}", other.describe())),
    }
}

/// A latent condition, as a value (a constant one is a boolean).
fn prop(f: Formula) -> G {
    match f {
        Formula::Const(b) => Value::Bool(b),
        f => Value::Latent(Sym::Prop(f)),
    }
}

impl Domain for Builder<'_> {
    type Latent = Sym;

    fn observe(&mut self, slot: usize, column: ColumnId) -> Option<Observed> {
        (self.observe)(slot, column)
    }

    fn learnable(&mut self, l: usize, args: Vec<G>, span: Span) -> Result<G, GroundError> {
        let Some(Value::Instance(slot)) = args.first() else {
            return fail(span, format!("learnable `{}` takes one instance", self.g.spec.learnables[l].name.name));
        };
        let slot = *slot;
        let g = self.g;
        Ok(crate::eval::grid(g.shape(l), &mut |cell| {
            let key = VarRef { learnable: l, slot, cell };
            let next = self.vars.len();
            let v = *self.var_of.entry(key).or_insert(next);
            if v == next {
                self.vars.push(key);
            }
            Value::Latent(Sym::Var(v))
        }))
    }

    fn not(&mut self, v: Sym, span: Span) -> Result<G, GroundError> {
        match v {
            Sym::Prop(f) => Ok(prop(Formula::negate(f))),
            other => fail(span, format!("`not` needs a condition, found {}", other.describe())),
        }
    }

    fn binary(&mut self, op: BinOp, l: G, r: G, span: Span) -> Result<G, GroundError> {
        if crisp::is_logical(op) && matches!(l, Value::Bool(_) | Value::Latent(Sym::Prop(_))) {
            let (a, b) = (truth(l, span)?, truth(r, span)?);
            return Ok(prop(match op {
                BinOp::And | BinOp::BitAnd => Formula::and(vec![a, b]),
                BinOp::Or | BinOp::BitOr => Formula::or(vec![a, b]),
                _ => Formula::negate(Formula::iff(a, b)),
            }));
        }
        self.arith(op, l, r, span)
    }

    fn compare(&mut self, op: CmpOp, l: G, r: G, span: Span) -> Result<G, GroundError> {
        Ok(prop(self.condition(op, l, r, span)?))
    }

    fn all(&mut self, parts: Vec<Sym>, span: Span) -> Result<G, GroundError> {
        let parts = parts.into_iter().map(|p| truth(Value::Latent(p), span)).collect::<Result<_, _>>()?;
        Ok(prop(Formula::and(parts)))
    }

    fn if_else(&mut self, cond: Sym, then: G, otherwise: G, span: Span) -> Result<G, GroundError> {
        let c = truth(Value::Latent(cond), span)?;
        let (t, o) = (truth(then, span)?, truth(otherwise, span)?);
        Ok(prop(Formula::or(vec![Formula::and(vec![c.clone(), t]), Formula::and(vec![Formula::negate(c), o])])))
    }

    fn builtin(&mut self, builtin: Builtin, values: Vec<G>, args: &[Expr], span: Span) -> Result<G, GroundError> {
        self.latent_builtin(builtin, values, args, span)
    }
}

impl Builder<'_> {
    fn domain_of(&self, var: usize) -> &[ClassValue] {
        self.g.domain(self.vars[var].learnable)
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
        // Looked up first: most atoms of a CNF are repeats, and only a new one is copied.
        if let Some(&index) = self.atom_of.get(&a) {
            return Formula::Atom(index);
        }
        let index = self.atoms.len();
        self.atom_of.insert(a.clone(), index);
        self.atoms.push(a);
        Formula::Atom(index)
    }
}

fn latent_int(j: Joint<BigInt>) -> G {
    if j.vars.is_empty() {
        Value::Int(Int::from(j.values[0].clone()))
    } else {
        Value::Latent(Sym::Ints(j))
    }
}
