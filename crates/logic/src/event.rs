//! A grounded event: a boolean formula over atoms on categorical random variables.
//!
//! Variables are numbered `0..domains.len()`; variable `v` takes values `0..domains[v]` (indices
//! into its learnable's output values). Two kinds of atoms cover everything grounding produces:
//! a comparison of a sum of per-variable integer tables with a constant (linear arithmetic over
//! digits, counts of conditions) and a relation over a few variables given by its table; a third,
//! the cheapest path across a grid of latent costs, is only evaluated (a black box to sampling).
//! What inference answers about an event ([`Posterior`]), or why it refuses one ([`TooLarge`]),
//! is said here too: every engine and the diagram compiler speak of events in these terms.

use num_bigint::{BigInt, BigUint};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cmp {
    Eq,
    Ne,
    Le,
    Ge,
}

impl Cmp {
    pub fn holds(self, lhs: &BigInt, rhs: &BigInt) -> bool {
        match self {
            Cmp::Eq => lhs == rhs,
            Cmp::Ne => lhs != rhs,
            Cmp::Le => lhs <= rhs,
            Cmp::Ge => lhs >= rhs,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Atom {
    /// `Σ_j terms[j].1[z_{terms[j].0}]  cmp  rhs`, with each variable in at most one term.
    Sum { terms: Vec<(usize, Vec<BigInt>)>, cmp: Cmp, rhs: BigInt },
    /// A relation over distinct `vars`: `allowed` lists every joint assignment, row-major (the
    /// last variable varies fastest).
    Table { vars: Vec<usize>, allowed: Vec<bool> },
    /// `shortest_path(costs) == on_path` ([`crate::path`]): the cheapest path across the square
    /// grid of `costs` visits exactly the cells `on_path` marks.
    Path { costs: Vec<Cost>, on_path: Vec<bool> },
}

/// A cell's cost in a [`Atom::Path`]: known, or a variable's value's.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Cost {
    Fixed(i64),
    Var(usize, Vec<i64>),
}

impl Cost {
    fn at(&self, z: &[usize]) -> i64 {
        match self {
            Cost::Fixed(c) => *c,
            Cost::Var(v, table) => table[z[*v]],
        }
    }
}

/// The path the costs under assignment `z` give.
pub fn path_under(costs: &[Cost], z: &[usize]) -> Vec<bool> {
    let side = skilang_lang::path::side(costs.len()).unwrap_or(1);
    skilang_lang::path::shortest(&costs.iter().map(|c| c.at(z)).collect::<Vec<_>>(), side)
}

impl Atom {
    pub fn vars(&self) -> Vec<usize> {
        match self {
            Atom::Sum { terms, .. } => terms.iter().map(|t| t.0).collect(),
            Atom::Table { vars, .. } => vars.clone(),
            Atom::Path { costs, .. } => {
                let mut vars: Vec<usize> =
                    costs.iter().filter_map(|c| if let Cost::Var(v, _) = c { Some(*v) } else { None }).collect();
                vars.sort_unstable();
                vars.dedup();
                vars
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Formula {
    Const(bool),
    Atom(usize),
    Not(Box<Formula>),
    And(Vec<Formula>),
    Or(Vec<Formula>),
}

impl Formula {
    pub fn negate(f: Formula) -> Formula {
        match f {
            Formula::Const(b) => Formula::Const(!b),
            Formula::Not(inner) => *inner,
            f => Formula::Not(Box::new(f)),
        }
    }

    /// A conjunction that folds constants and flattens nested conjunctions.
    pub fn and(parts: Vec<Formula>) -> Formula {
        Formula::junction(parts, true)
    }

    pub fn or(parts: Vec<Formula>) -> Formula {
        Formula::junction(parts, false)
    }

    fn junction(parts: Vec<Formula>, conjunction: bool) -> Formula {
        let mut out = Vec::with_capacity(parts.len());
        for p in parts {
            match p {
                Formula::Const(b) if b == conjunction => {}
                Formula::Const(_) => return Formula::Const(!conjunction),
                Formula::And(inner) if conjunction => out.extend(inner),
                Formula::Or(inner) if !conjunction => out.extend(inner),
                p => out.push(p),
            }
        }
        match out.len() {
            0 => Formula::Const(conjunction),
            1 => out.pop().unwrap_or(Formula::Const(conjunction)),
            _ if conjunction => Formula::And(out),
            _ => Formula::Or(out),
        }
    }

    pub fn iff(a: Formula, b: Formula) -> Formula {
        Formula::or(vec![
            Formula::and(vec![a.clone(), b.clone()]),
            Formula::and(vec![Formula::negate(a), Formula::negate(b)]),
        ])
    }

    /// Three-valued evaluation: `None` while an atom it depends on is undecided.
    pub fn decide(&self, atom: &impl Fn(usize) -> Option<bool>) -> Option<bool> {
        match self {
            Formula::Const(b) => Some(*b),
            Formula::Atom(a) => atom(*a),
            Formula::Not(f) => f.decide(atom).map(|b| !b),
            Formula::And(fs) | Formula::Or(fs) => {
                let conjunction = matches!(self, Formula::And(_));
                let mut open = false;
                for f in fs {
                    match f.decide(atom) {
                        Some(b) if b != conjunction => return Some(b),
                        Some(_) => {}
                        None => open = true,
                    }
                }
                (!open).then_some(conjunction)
            }
        }
    }

    pub fn atoms(&self, out: &mut Vec<usize>) {
        match self {
            Formula::Const(_) => {}
            Formula::Atom(a) => out.push(*a),
            Formula::Not(f) => f.atoms(out),
            Formula::And(fs) | Formula::Or(fs) => fs.iter().for_each(|f| f.atoms(out)),
        }
    }
}

/// A grounded event over categorical variables.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Event {
    /// The domain size of each variable.
    pub domains: Vec<usize>,
    pub atoms: Vec<Atom>,
    pub formula: Formula,
}

impl Event {
    /// Whether the event holds under a complete assignment.
    pub fn holds(&self, z: &[usize]) -> bool {
        self.formula.decide(&|a| Some(self.atom_holds(a, z))).unwrap_or(false)
    }

    pub fn atom_holds(&self, a: usize, z: &[usize]) -> bool {
        match &self.atoms[a] {
            Atom::Sum { terms, cmp, rhs } => {
                let total: BigInt = terms.iter().map(|(v, t)| &t[z[*v]]).sum();
                cmp.holds(&total, rhs)
            }
            Atom::Table { vars, allowed } => allowed[self.table_index(vars, |v| z[v])],
            Atom::Path { costs, on_path } => path_under(costs, z) == *on_path,
        }
    }

    /// The variables of its cheapest-path atoms, when it has any: sampling and enumeration
    /// evaluate them; the engines that reason over the atoms' structure refuse them.
    pub fn black_box(&self) -> Result<(), TooLarge> {
        let paths: Vec<&Atom> = self.atoms.iter().filter(|a| matches!(a, Atom::Path { .. })).collect();
        match paths.is_empty() {
            true => Ok(()),
            false => Err(TooLarge::BlackBox { variables: paths.iter().map(|a| a.vars().len()).sum() }),
        }
    }

    /// The variables the formula depends on, in increasing order.
    pub fn relevant(&self) -> Vec<usize> {
        self.vars_of(&self.formula)
    }

    /// The variables a part of the formula depends on, in increasing order.
    pub fn vars_of(&self, part: &Formula) -> Vec<usize> {
        let mut atoms = Vec::new();
        part.atoms(&mut atoms);
        let mut vars: Vec<usize> = atoms.iter().flat_map(|&a| self.atoms[a].vars()).collect();
        vars.sort_unstable();
        vars.dedup();
        vars
    }

    /// The row-major index of the values of `vars` in a table over them.
    pub fn table_index(&self, vars: &[usize], value: impl Fn(usize) -> usize) -> usize {
        vars.iter().fold(0, |i, &v| i * self.domains[v] + value(v))
    }
}

/// The posterior given the event: its log-probability and every variable's marginal.
#[derive(Clone, Debug, PartialEq)]
pub struct Posterior {
    pub log_prob: f64,
    /// `marginals[v][value] = P(z_v = value | event)`.
    pub marginals: Vec<Vec<f64>>,
    /// How an iterative engine (belief propagation) ended; `None` for the others.
    pub convergence: Option<Convergence>,
}

/// `log P(event)` and its derivative in each variable's log-weights, `d_logw[v][value]`: what the
/// semantic loss needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Gradient {
    pub log_prob: f64,
    pub d_logw: Vec<Vec<f64>>,
    pub convergence: Option<Convergence>,
}

/// Where message passing stopped: the rounds it ran and the largest change in the last one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Convergence {
    pub iterations: usize,
    pub residual: f64,
    /// The residual fell below the tolerance (else the iteration cap stopped it).
    pub settled: bool,
}

/// An event an engine will not prepare, and what it would need.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum TooLarge {
    #[error(
        "the event is too large for exact inference (more than {limit} decision nodes over {variables} variables); \
         events of this size need approximate inference (belief propagation, sampling or top-k proofs)"
    )]
    Nodes { limit: usize, variables: usize },
    #[error(
        "the event is too large for exact inference (its compilation would remember more than {limit} atom states \
         over {variables} variables); events of this size need approximate inference (belief propagation, sampling \
         or top-k proofs)"
    )]
    States { limit: usize, variables: usize },
    #[error(
        "enumeration would visit {assignments} assignments of {variables} variables, more than its limit of {limit}; \
         `inference: exact` compiles such events"
    )]
    Assignments { assignments: BigUint, variables: usize, limit: usize },
    #[error("its CNF would need more than {limit} literals over {variables} variables")]
    Literals { limit: usize, variables: usize },
    #[error(
        "a factor of the event would list more than {limit} assignments or partial sums over {variables} variables; \
         `inference: sample` needs none"
    )]
    Factor { limit: usize, variables: usize },
    #[error(
        "it asks for the cheapest path across {variables} latent costs, which only sampling evaluates \
         (`inference: sample`)"
    )]
    BlackBox { variables: usize },
}
