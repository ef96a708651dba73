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

    /// `T(xs)` and `∂T/∂x_i`.
    fn and(self, xs: &[f64]) -> (f64, Vec<f64>) {
        match self.semantics {
            Semantics::Product => {
                let t = xs.iter().product();
                let grad = (0..xs.len())
                    .map(|i| xs.iter().enumerate().filter(|&(j, _)| j != i).map(|(_, x)| x).product())
                    .collect();
                (t, grad)
            }
            Semantics::Goedel => {
                let i = (0..xs.len()).fold(0, |m, i| if xs[i] < xs[m] { i } else { m });
                (xs[i], one_hot(xs.len(), i))
            }
            Semantics::Lukasiewicz => {
                let s = xs.iter().sum::<f64>() - (xs.len() as f64 - 1.0);
                (s.max(0.0), vec![if s > 0.0 { 1.0 } else { 0.0 }; xs.len()])
            }
        }
    }

    /// `S(xs)` (the dual t-conorm, `1 − T(1 − xs)`) and `∂S/∂x_i`.
    fn or(self, xs: &[f64]) -> (f64, Vec<f64>) {
        let negated: Vec<f64> = xs.iter().map(|x| 1.0 - x).collect();
        let (t, grad) = self.and(&negated);
        (1.0 - t, grad)
    }

    /// `I(a, b)` and its partial derivatives.
    fn implies(self, a: f64, b: f64) -> (f64, [f64; 2]) {
        match self.implication {
            Implication::Reichenbach => (1.0 - a + a * b, [b - 1.0, a]),
            Implication::Goedel if a <= b => (1.0, [0.0, 0.0]),
            Implication::Goedel => (b, [0.0, 1.0]),
            Implication::Lukasiewicz if 1.0 - a + b >= 1.0 => (1.0, [0.0, 0.0]),
            Implication::Lukasiewicz => (1.0 - a + b, [-1.0, 1.0]),
            Implication::KleeneDienes if 1.0 - a >= b => (1.0 - a, [-1.0, 0.0]),
            Implication::KleeneDienes => (b, [0.0, 1.0]),
            Implication::Material => {
                let (s, g) = self.or(&[1.0 - a, b]);
                (s, [-g[0], g[1]])
            }
        }
    }
}

fn one_hot(n: usize, i: usize) -> Vec<f64> {
    (0..n).map(|j| (j == i) as u8 as f64).collect()
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
        let values: Vec<f64> = atoms.iter().map(|a| a.0).collect();
        let mut upstream = vec![0.0; atoms.len()];
        let value = match &self.form {
            Form::Plain => eval(&self.formula, logic, &values, &mut upstream),
            Form::Implies(a, b) | Form::Iff(a, b) => {
                let mut ga = vec![0.0; atoms.len()];
                let mut gb = vec![0.0; atoms.len()];
                let x = eval(a, logic, &values, &mut ga);
                let y = eval(b, logic, &values, &mut gb);
                let (t, [dx, dy]) = if matches!(self.form, Form::Implies(..)) {
                    logic.implies(x, y)
                } else {
                    // a ↔ b as (a → b) ∧ (b → a).
                    let (i1, d1) = logic.implies(x, y);
                    let (i2, d2) = logic.implies(y, x);
                    let (t, g) = logic.and(&[i1, i2]);
                    (t, [g[0] * d1[0] + g[1] * d2[1], g[0] * d1[1] + g[1] * d2[0]])
                };
                for i in 0..atoms.len() {
                    upstream[i] = dx * ga[i] + dy * gb[i];
                }
                t
            }
        };
        let mut grad: Vec<Vec<f64>> = self.domains.iter().map(|&d| vec![0.0; d]).collect();
        for ((_, g), u) in atoms.iter().zip(&upstream) {
            if *u != 0.0 {
                for (acc, gv) in grad.iter_mut().zip(g) {
                    for (a, x) in acc.iter_mut().zip(gv) {
                        *a += u * x;
                    }
                }
            }
        }
        Truth { value, grad }
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

/// The formula's truth; adds `∂truth/∂atom` into `grad`.
fn eval(f: &Formula, logic: Logic, atoms: &[f64], grad: &mut [f64]) -> f64 {
    match f {
        Formula::Const(b) => *b as u8 as f64,
        Formula::Atom(a) => {
            grad[*a] += 1.0;
            atoms[*a]
        }
        Formula::Not(inner) => {
            let mut g = vec![0.0; atoms.len()];
            let v = eval(inner, logic, atoms, &mut g);
            grad.iter_mut().zip(g).for_each(|(a, x)| *a -= x);
            1.0 - v
        }
        Formula::And(parts) | Formula::Or(parts) => {
            let mut grads = vec![vec![0.0; atoms.len()]; parts.len()];
            let values: Vec<f64> = parts.iter().zip(&mut grads).map(|(p, g)| eval(p, logic, atoms, g)).collect();
            let (t, local) = if matches!(f, Formula::And(_)) { logic.and(&values) } else { logic.or(&values) };
            for (g, d) in grads.iter().zip(local) {
                grad.iter_mut().zip(g).for_each(|(a, x)| *a += d * x);
            }
            t
        }
    }
}
