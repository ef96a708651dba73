//! Fuzzy truth degrees of grounded constraints (ALGORITHMS.md §5; the SKI-lang paper's
//! "constraining"), with their gradients.
//!
//! Each atom's truth is its probability under the networks' independent distributions (for
//! `net(x) == c` that is the probability of class c; for a sum of latent classes compared with a
//! constant, the probability of the comparison under the sum's distribution), computed exactly
//! from the atom's own decision diagram. The connectives then combine atoms with the t-norm, the
//! t-conorm and the implication the spec chooses. On crisp (0/1) distributions every semantics
//! agrees with boolean evaluation.

use crate::compile::{compile, Diagram};
use crate::event::TooLarge;
use crate::event::{Event, Formula};
use crate::ground::{Form, Grounded};
use skilang_lang::spec::{Implication, Semantics};

/// A choice of fuzzy connectives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Logic {
    pub semantics: Semantics,
    pub implication: Implication,
}

impl Logic {
    /// The semantics with its own residuum's usual partner: Reichenbach for product, Gödel and
    /// Łukasiewicz for themselves.
    pub fn new(semantics: Semantics, implication: Option<Implication>) -> Logic {
        let implication = implication.unwrap_or(match semantics {
            Semantics::Product => Implication::Reichenbach,
            Semantics::Goedel => Implication::Goedel,
            Semantics::Lukasiewicz => Implication::Lukasiewicz,
        });
        Logic { semantics, implication }
    }

    /// Product semantics with the Reichenbach implication.
    pub fn product() -> Logic {
        Logic::new(Semantics::Product, None)
    }

    /// The t-norm: `a ∧ b`.
    pub fn and<D: Degree>(self, a: D, b: D) -> D {
        match self.semantics {
            Semantics::Product => a.times(b),
            Semantics::Goedel => a.min(b),
            // max(0, a + b − 1), its gradient zero where it is 0.
            Semantics::Lukasiewicz => a.constant(0.0).max(a.clone().plus(b).minus(a.constant(1.0))),
        }
    }

    /// The dual t-conorm: `a ∨ b = 1 − (1 − a) ∧ (1 − b)`.
    pub fn or<D: Degree>(self, a: D, b: D) -> D {
        Logic::not(self.and(Logic::not(a), Logic::not(b)))
    }

    pub fn not<D: Degree>(a: D) -> D {
        a.constant(1.0).minus(a)
    }

    /// The implication `a → b`.
    pub fn implies<D: Degree>(self, a: D, b: D) -> D {
        let one = a.constant(1.0);
        match self.implication {
            Implication::Reichenbach => Logic::not(a.clone()).plus(a.times(b)),
            Implication::Goedel => a.where_le(b.clone(), one, b),
            // min(1, 1 − a + b), its gradient zero where it is 1.
            Implication::Lukasiewicz => one.min(Logic::not(a).plus(b)),
            Implication::KleeneDienes => Logic::not(a).max(b),
            Implication::Material => self.or(Logic::not(a), b),
        }
    }

    /// `a ↔ b` as `(a → b) ∧ (b → a)`.
    pub fn iff<D: Degree>(self, a: D, b: D) -> D {
        let there = self.implies(a.clone(), b.clone());
        self.and(there, self.implies(b, a))
    }
}

/// A truth degree, over which the connectives are written once: one number with its gradient
/// ([`Dual`], for grounded constraints) or a column of numbers on tensors (in `learn`, for
/// column-wise constraints).
pub trait Degree: Clone {
    /// The constant `x`, shaped like `self`.
    fn constant(&self, x: f64) -> Self;
    fn plus(self, other: Self) -> Self;
    fn minus(self, other: Self) -> Self;
    fn times(self, other: Self) -> Self;
    /// The smaller of the two; `self` on a tie.
    fn min(self, other: Self) -> Self;
    /// The larger of the two; `self` on a tie.
    fn max(self, other: Self) -> Self;
    /// `then` where `self <= other`, else `otherwise`.
    fn where_le(self, other: Self, then: Self, otherwise: Self) -> Self;
}

/// A number and its gradient with respect to some inputs (forward-mode differentiation).
#[derive(Clone, Debug, PartialEq)]
pub struct Dual {
    pub value: f64,
    pub grad: Vec<f64>,
}

impl Dual {
    /// Input `i` of `n`.
    pub fn input(value: f64, i: usize, n: usize) -> Dual {
        Dual { value, grad: (0..n).map(|j| (j == i) as u8 as f64).collect() }
    }

    fn zip(self, other: Dual, value: f64, da: f64, db: f64) -> Dual {
        let grad = self.grad.iter().zip(&other.grad).map(|(x, y)| da * x + db * y).collect();
        Dual { value, grad }
    }
}

impl Degree for Dual {
    fn constant(&self, x: f64) -> Dual {
        Dual { value: x, grad: vec![0.0; self.grad.len()] }
    }

    fn plus(self, other: Dual) -> Dual {
        let v = self.value + other.value;
        self.zip(other, v, 1.0, 1.0)
    }

    fn minus(self, other: Dual) -> Dual {
        let v = self.value - other.value;
        self.zip(other, v, 1.0, -1.0)
    }

    fn times(self, other: Dual) -> Dual {
        let (a, b) = (self.value, other.value);
        self.zip(other, a * b, b, a)
    }

    fn min(self, other: Dual) -> Dual {
        if other.value < self.value {
            other
        } else {
            self
        }
    }

    fn max(self, other: Dual) -> Dual {
        if other.value > self.value {
            other
        } else {
            self
        }
    }

    fn where_le(self, other: Dual, then: Dual, otherwise: Dual) -> Dual {
        if self.value <= other.value {
            then
        } else {
            otherwise
        }
    }
}

/// How one atom's probability is computed.
#[derive(Clone, Debug)]
enum AtomProb {
    /// An atom on one variable: the classes that satisfy it.
    Single { var: usize, allowed: Vec<bool> },
    /// Anything else: the atom's own decision diagram.
    Compiled(Diagram),
}

/// A grounded constraint ready for fuzzy evaluation.
#[derive(Clone, Debug)]
pub struct FuzzyEvent {
    atoms: Vec<AtomProb>,
    form: Form,
    formula: Formula,
    domains: Vec<usize>,
}

/// A truth degree with its gradient with respect to every variable's class probabilities.
#[derive(Clone, Debug, PartialEq)]
pub struct Truth {
    pub value: f64,
    /// `grad[v][k] = ∂ truth / ∂ p_v[k]`.
    pub grad: Vec<Vec<f64>>,
}

impl FuzzyEvent {
    pub fn new(g: &Grounded, limit: usize) -> Result<FuzzyEvent, TooLarge> {
        let domains = &g.event.domains;
        let atoms = g
            .event
            .atoms
            .iter()
            .map(|atom| {
                let alone = Event { domains: domains.clone(), atoms: vec![atom.clone()], formula: Formula::Atom(0) };
                if let [var] = atom.vars()[..] {
                    let mut z = vec![0; domains.len()];
                    let allowed = (0..domains[var])
                        .map(|k| {
                            z[var] = k;
                            alone.atom_holds(0, &z)
                        })
                        .collect();
                    return Ok(AtomProb::Single { var, allowed });
                }
                compile(&alone, limit).map(AtomProb::Compiled)
            })
            .collect::<Result<_, _>>()?;
        Ok(FuzzyEvent { atoms, form: g.form.clone(), formula: g.event.formula.clone(), domains: domains.clone() })
    }

    /// The truth degree given each variable's class probabilities `p[v]`.
    pub fn truth(&self, logic: Logic, p: &[Vec<f64>]) -> Truth {
        let atoms: Vec<(f64, Vec<Vec<f64>>)> = self.atoms.iter().map(|a| atom_truth(a, p)).collect();
        let inputs: Vec<Dual> = atoms.iter().enumerate().map(|(i, a)| Dual::input(a.0, i, atoms.len())).collect();
        let t = match &self.form {
            Form::Plain => eval(&self.formula, logic, &inputs),
            Form::Implies(a, b) => logic.implies(eval(a, logic, &inputs), eval(b, logic, &inputs)),
            Form::Iff(a, b) => logic.iff(eval(a, logic, &inputs), eval(b, logic, &inputs)),
        };
        // The chain rule from the atoms down to the variables' class probabilities.
        let mut grad: Vec<Vec<f64>> = self.domains.iter().map(|&d| vec![0.0; d]).collect();
        for ((_, g), u) in atoms.iter().zip(&t.grad) {
            if *u != 0.0 {
                for (acc, gv) in grad.iter_mut().zip(g) {
                    for (a, x) in acc.iter_mut().zip(gv) {
                        *a += u * x;
                    }
                }
            }
        }
        Truth { value: t.value, grad }
    }
}

/// An atom's probability and its gradient (sparse: empty rows for variables it does not read).
fn atom_truth(a: &AtomProb, p: &[Vec<f64>]) -> (f64, Vec<Vec<f64>>) {
    let mut grad: Vec<Vec<f64>> = vec![Vec::new(); p.len()];
    match a {
        AtomProb::Single { var, allowed } => {
            let value = p[*var].iter().zip(allowed).filter(|(_, &ok)| ok).map(|(x, _)| x).sum();
            grad[*var] = allowed.iter().map(|&ok| ok as u8 as f64).collect();
            (value, grad)
        }
        AtomProb::Compiled(d) => {
            let logw: Vec<Vec<f64>> = p.iter().map(|row| row.iter().map(|x| x.ln()).collect()).collect();
            let Some(post) = d.posterior(&logw) else { return (0.0, grad) };
            // P is multilinear in the p_v: ∂P/∂p_v[k] = P(atom | z_v = k) = P · q_v[k] / p_v[k].
            for v in d.order.iter().copied() {
                grad[v] = post.marginals[v]
                    .iter()
                    .zip(&logw[v])
                    .map(|(&q, &lw)| if q > 0.0 { (q.ln() - lw + post.log_prob).exp() } else { 0.0 })
                    .collect();
            }
            (post.log_prob.exp(), grad)
        }
    }
}

/// The formula's truth degree, with its gradient with respect to the atoms' truths.
fn eval(f: &Formula, logic: Logic, atoms: &[Dual]) -> Dual {
    let constant = |b: bool| Dual { value: b as u8 as f64, grad: vec![0.0; atoms.len()] };
    match f {
        Formula::Const(b) => constant(*b),
        Formula::Atom(a) => atoms[*a].clone(),
        Formula::Not(inner) => Logic::not(eval(inner, logic, atoms)),
        Formula::And(parts) | Formula::Or(parts) => {
            let and = matches!(f, Formula::And(_));
            let mut parts = parts.iter().map(|p| eval(p, logic, atoms));
            let first = parts.next().unwrap_or_else(|| constant(and));
            parts.fold(first, |a, b| if and { logic.and(a, b) } else { logic.or(a, b) })
        }
    }
}
