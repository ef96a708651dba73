//! A grounded event as CNF over the atoms `z_v == k`, for constraints learned through
//! straight-through estimators (CL-STE, ALGORITHMS.md §3).
//!
//! The encoding (Tseitin, with structural sharing):
//! - one atom per network output `z_v == k` of every variable the event reads, with its
//!   exactly-one clauses where asked for (binarised logits are not exclusive): one at-least-one
//!   clause, and a pairwise at-most-one clause per pair;
//! - a relation atom (`Atom::Table`) is the disjunction, over the joint assignments it allows (or
//!   the negation of the disjunction over those it forbids, when fewer), of the conjunction of
//!   their atoms;
//! - a linear atom `Σ_j t_j[z_j] cmp rhs` is a chain over partial sums: `s_{j,u}` ("the first j
//!   terms sum to u") is `⋁_w s_{j-1,u-w} ∧ [z_j ∈ t_j⁻¹(w)]`. Partial sums that cannot end
//!   satisfying the comparison (out of the remaining terms' range, or off their gcd) are dropped,
//!   and those that are sure to satisfy it merge into one; terms are taken by increasing gcd, so
//!   that N-digit addition keeps a carry's worth of sums per digit: linear in N, not 10^N;
//! - the event's formula: its top-level conjunction gives one clause per conjunct, a disjunction
//!   one clause of its parts; what lies deeper becomes auxiliary and / or atoms.
//!
//! Auxiliary atoms are defined by the network atoms (their definitional clauses are in
//! [`Cnf::definitions`]): under binarised network outputs each has one value, so the models of
//! the whole CNF, restricted to the network atoms, are exactly the event's. Training reads the
//! [`Cnf::clauses`] (the constraint's and the variables' clauses) as CL-STE reads its CNF.

use crate::event::{Atom, Cmp, Event, Formula};
use crate::TooLarge;
use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::Zero;
use std::collections::{BTreeMap, HashMap};

/// A node of the encoding, true or negated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Lit {
    pub node: u32,
    pub positive: bool,
}

impl Lit {
    fn pos(node: usize) -> Lit {
        Lit { node: node as u32, positive: true }
    }

    fn not(self) -> Lit {
        Lit { positive: !self.positive, ..self }
    }
}

/// An atom of the encoding.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Node {
    /// `z_var == class`: what a network's output says.
    Class { var: usize, class: usize },
    /// An auxiliary atom, the conjunction of its literals (true when there are none).
    And(Vec<Lit>),
    /// An auxiliary atom, the disjunction of its literals (false when there are none).
    Or(Vec<Lit>),
}

/// The largest encoding made for one constraint of one example, in literal occurrences.
pub const CNF_LIMIT: usize = 2_000_000;

/// An event's CNF.
#[derive(Clone, Debug, PartialEq)]
pub struct Cnf {
    /// Every atom; an auxiliary atom comes after the atoms it is defined from.
    pub nodes: Vec<Node>,
    /// The constraint's clauses, then (where asked for) each variable's exactly-one clauses: its
    /// at-least-one clause, then its pairwise at-most-one clauses.
    pub clauses: Vec<Vec<Lit>>,
    /// How many of `clauses` are the constraint's.
    pub constraint_clauses: usize,
}

impl Cnf {
    /// Encodes `event`, with each variable's exactly-one clauses where `exactly_one` (a softmax's
    /// probabilities binarised at 0.5 are exclusive by themselves, and its gradient is blind to an
    /// at-least-one clause, which raises every class alike; CL-STE leaves them out there), or
    /// says how large the encoding would grow.
    pub fn encode(event: &Event, exactly_one: bool) -> Result<Cnf, TooLarge> {
        let mut e =
            Encoder { event, nodes: Vec::new(), index: HashMap::new(), atoms: vec![None; event.atoms.len()], size: 0 };
        let mut clauses = Vec::new();
        e.clauses(&event.formula, &mut clauses)?;
        let constraint_clauses = clauses.len();
        let mut vars: Vec<usize> =
            e.nodes.iter().filter_map(|n| if let Node::Class { var, .. } = n { Some(*var) } else { None }).collect();
        vars.sort_unstable();
        vars.dedup();
        let atoms: Vec<Vec<Lit>> =
            vars.iter().map(|&v| (0..event.domains[v]).map(|k| e.class(v, k)).collect()).collect();
        clauses.extend(atoms.iter().filter(|_| exactly_one).cloned());
        for atoms in atoms.iter().filter(|_| exactly_one) {
            for (i, a) in atoms.iter().enumerate() {
                clauses.extend(atoms[i + 1..].iter().map(|b| vec![a.not(), b.not()]));
            }
        }
        Ok(Cnf { nodes: e.nodes, clauses, constraint_clauses }.pruned())
    }

    /// The encoding without the auxiliary atoms no clause reads (a negated disjunction flattened
    /// into clauses leaves its own atoms behind: a Sudoku's inequalities, nine each), renumbered.
    fn pruned(self) -> Cnf {
        let mut used = vec![false; self.nodes.len()];
        for l in self.clauses.iter().flatten() {
            used[l.node as usize] = true;
        }
        // An auxiliary atom comes after the atoms it is defined from.
        for n in (0..self.nodes.len()).rev() {
            if let (true, Node::And(lits) | Node::Or(lits)) = (used[n], &self.nodes[n]) {
                lits.iter().for_each(|l| used[l.node as usize] = true);
            }
        }
        let mut renumbered = vec![0u32; self.nodes.len()];
        let mut next = 0;
        for (n, &u) in used.iter().enumerate() {
            renumbered[n] = next;
            next += u as u32;
        }
        let map = |l: &Lit| Lit { node: renumbered[l.node as usize], positive: l.positive };
        let nodes = self
            .nodes
            .into_iter()
            .zip(&used)
            .filter(|(_, &u)| u)
            .map(|(node, _)| match node {
                Node::And(lits) => Node::And(lits.iter().map(map).collect()),
                Node::Or(lits) => Node::Or(lits.iter().map(map).collect()),
                class => class,
            })
            .collect();
        let clauses = self.clauses.iter().map(|c| c.iter().map(map).collect()).collect();
        Cnf { nodes, clauses, constraint_clauses: self.constraint_clauses }
    }

    /// The definitional clauses of the auxiliary atoms (`a ⇔ ∧ lits`, `o ⇔ ∨ lits`).
    pub fn definitions(&self) -> Vec<Vec<Lit>> {
        let mut out = Vec::new();
        for (n, node) in self.nodes.iter().enumerate() {
            let (lits, conjunction) = match node {
                Node::Class { .. } => continue,
                Node::And(lits) => (lits, true),
                Node::Or(lits) => (lits, false),
            };
            // a ⇔ ∧ l: (¬a ∨ l) for each l, (a ∨ ∨¬l). o ⇔ ∨ l: (o ∨ ¬l) for each l, (¬o ∨ ∨l).
            let me = if conjunction { Lit::pos(n) } else { Lit::pos(n).not() };
            let flip = |l: Lit| if conjunction { l } else { l.not() };
            out.extend(lits.iter().map(|&l| vec![me.not(), flip(l)]));
            out.push(std::iter::once(me).chain(lits.iter().map(|&l| flip(l).not())).collect());
        }
        out
    }

    /// Every node's truth when variable `v` takes class `z[v]`.
    pub fn values(&self, z: &[usize]) -> Vec<bool> {
        self.evaluate(|var, class| z[var] == class)
    }

    /// Every node's truth given the truth of each network atom.
    pub fn evaluate(&self, class: impl Fn(usize, usize) -> bool) -> Vec<bool> {
        let mut v: Vec<bool> = Vec::with_capacity(self.nodes.len());
        for node in &self.nodes {
            let value = match node {
                Node::Class { var, class: k } => class(*var, *k),
                Node::And(lits) => lits.iter().all(|l| v[l.node as usize] == l.positive),
                Node::Or(lits) => lits.iter().any(|l| v[l.node as usize] == l.positive),
            };
            v.push(value);
        }
        v
    }

    /// Literal occurrences in the whole encoding: its clauses, and the definitions of its
    /// auxiliary atoms (`3·n + 1` for an atom over n literals), as [`Cnf::dimacs`] writes them.
    pub fn size(&self) -> usize {
        let definitions = self.nodes.iter().map(|n| match n {
            Node::Class { .. } => 0,
            Node::And(lits) | Node::Or(lits) => 3 * lits.len() + 1,
        });
        self.clauses.iter().map(Vec::len).sum::<usize>() + definitions.sum::<usize>()
    }
}

/// The weights of CL-STE's clause losses (ALGORITHMS.md §3): `L_unsat`, the mean of
/// `unsat = Π (1 − literal)` over violated clauses; `L_sat`, a term of value 0 over satisfied
/// clauses whose gradient keeps their atoms where they are; `L_deduce`, the sum of `unsat` over
/// unit clauses (every literal but one falsified: here, no atom is a fact).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClauseWeights {
    /// 1 / the violated clauses `L_unsat` averages over.
    pub unsat: f64,
    /// 1 / the satisfied clauses `L_sat` averages over.
    pub sat: f64,
    /// A violated clause's gradient divided by its relaxed truth: through long chains of
    /// auxiliary atoms (N-digit sums) the plain gradient is a product of 2N probabilities and
    /// vanishes.
    pub normalize: bool,
}

/// One example's CNF under binarised network outputs.
#[derive(Clone, Debug)]
pub struct Assessment {
    /// Each node's truth: the network atoms' binarised, the auxiliary atoms' by their definitions.
    pub values: Vec<bool>,
    /// Each node's relaxed value: the network atoms' probabilities, the auxiliary atoms' their
    /// product t-norm / probabilistic sum (what the gradient passes through).
    soft: Vec<f64>,
    /// Per clause read, whether every literal is false.
    pub violated: Vec<bool>,
}

impl Assessment {
    pub fn violated(&self) -> usize {
        self.violated.iter().filter(|&&v| v).count()
    }

    /// The violated unit clauses (`L_deduce`).
    pub fn deduced(&self, cnf: &Cnf) -> usize {
        cnf.clauses.iter().zip(&self.violated).filter(|(c, &v)| v && c.len() == 1).count()
    }

    fn soft(&self, l: Lit) -> f64 {
        if l.positive {
            self.soft[l.node as usize]
        } else {
            1.0 - self.soft[l.node as usize]
        }
    }
}

impl Cnf {
    /// The CNF when network atom `z_v == k` is `bit(v, k)`, with relaxed value `p(v, k)`: the
    /// clauses it holds.
    pub fn assess(&self, bit: impl Fn(usize, usize) -> bool, p: impl Fn(usize, usize) -> f64) -> Assessment {
        let values = self.evaluate(bit);
        let mut a = Assessment { values, soft: Vec::with_capacity(self.nodes.len()), violated: Vec::new() };
        for node in &self.nodes {
            let x = match node {
                Node::Class { var, class } => p(*var, *class),
                Node::And(lits) => lits.iter().map(|&l| a.soft(l)).product(),
                Node::Or(lits) => 1.0 - lits.iter().map(|&l| 1.0 - a.soft(l)).product::<f64>(),
            };
            a.soft.push(x);
        }
        a.violated = self.clauses.iter().map(|c| c.iter().all(|l| a.values[l.node as usize] != l.positive)).collect();
        a
    }

    /// The straight-through gradient of `w.unsat·L_unsat + w.sat·L_sat + L_deduce` (this
    /// example's share) in each network atom, as `(var, class, ∂)`: the clause losses'
    /// derivatives in the atoms' binary values, passed through the auxiliary atoms' relaxations.
    pub fn gradient(&self, a: &Assessment, w: ClauseWeights) -> Vec<(usize, usize, f64)> {
        let sign = |l: Lit| if l.positive { 1.0 } else { -1.0 };
        let mut g = vec![0.0; self.nodes.len()];
        for (clause, &violated) in self.clauses.iter().zip(&a.violated) {
            // Normalised: −log of the violated clause's relaxed truth r, whose gradient is that of
            // unsat divided by r (as the semantic loss divides by P(φ)).
            let norm = match violated && w.normalize {
                true => 1.0 / (1.0 - clause.iter().map(|&l| 1.0 - a.soft(l)).product::<f64>()).max(1e-12),
                false => 1.0,
            };
            for &l in clause {
                // ∂unsat/∂v = −sign when every other literal is false (all are, in a violated
                // clause); ∂keep/∂v = 1 − 2v in a satisfied one.
                g[l.node as usize] += match violated {
                    true => -sign(l) * w.unsat * norm,
                    false => w.sat * (1.0 - 2.0 * a.values[l.node as usize] as u8 as f64),
                };
            }
            if let [l] = clause.as_slice() {
                g[l.node as usize] -= sign(*l);
            }
        }
        let mut out = Vec::new();
        for n in (0..self.nodes.len()).rev() {
            if g[n] == 0.0 {
                continue;
            }
            let (lits, conjunction) = match &self.nodes[n] {
                Node::Class { var, class } => {
                    out.push((*var, *class, g[n]));
                    continue;
                }
                Node::And(lits) => (lits, true),
                Node::Or(lits) => (lits, false),
            };
            // ∂(Π x_j)/∂x_i = Π_{j≠i} x_j, and ∂(1 − Π(1 − x_j))/∂x_i = Π_{j≠i} (1 − x_j).
            let factor = |l: Lit| if conjunction { a.soft(l) } else { 1.0 - a.soft(l) };
            let mut before = vec![1.0; lits.len() + 1];
            for (i, &l) in lits.iter().enumerate() {
                before[i + 1] = before[i] * factor(l);
            }
            let mut after = 1.0;
            for (i, &l) in lits.iter().enumerate().rev() {
                g[l.node as usize] += g[n] * before[i] * after * sign(l);
                after *= factor(l);
            }
        }
        out
    }
}

struct Encoder<'e> {
    event: &'e Event,
    nodes: Vec<Node>,
    /// Structural sharing: each distinct node once.
    index: HashMap<Node, usize>,
    /// Each event atom's literal, once encoded.
    atoms: Vec<Option<Lit>>,
    /// Literal occurrences so far, against [`CNF_LIMIT`].
    size: usize,
}

impl Encoder<'_> {
    fn node(&mut self, node: Node) -> Result<Lit, TooLarge> {
        if let Some(&n) = self.index.get(&node) {
            return Ok(Lit::pos(n));
        }
        self.size += match &node {
            Node::Class { .. } => 1,
            Node::And(l) | Node::Or(l) => l.len() + 1,
        };
        if self.size > CNF_LIMIT {
            return Err(TooLarge::Literals { limit: CNF_LIMIT, variables: self.event.domains.len() });
        }
        let n = self.nodes.len();
        self.nodes.push(node.clone());
        self.index.insert(node, n);
        Ok(Lit::pos(n))
    }

    fn class(&mut self, var: usize, class: usize) -> Lit {
        self.node(Node::Class { var, class }).expect("one atom per class fits")
    }

    /// A conjunction (`conjunction`) or disjunction of `lits`, with constants folded, simplified
    /// where it is one of them.
    fn gate(&mut self, mut lits: Vec<Lit>, conjunction: bool) -> Result<Lit, TooLarge> {
        if lits.iter().any(|&l| self.constant_value(l) == Some(!conjunction)) {
            return self.constant(!conjunction);
        }
        lits.retain(|&l| self.constant_value(l).is_none());
        lits.sort_unstable();
        lits.dedup();
        if lits.len() == 1 {
            return Ok(lits[0]);
        }
        self.node(if conjunction { Node::And(lits) } else { Node::Or(lits) })
    }

    /// The value of a constant literal (an empty conjunction or disjunction).
    fn constant_value(&self, l: Lit) -> Option<bool> {
        let value = match &self.nodes[l.node as usize] {
            Node::And(lits) if lits.is_empty() => true,
            Node::Or(lits) if lits.is_empty() => false,
            _ => return None,
        };
        Some(value == l.positive)
    }

    fn constant(&mut self, value: bool) -> Result<Lit, TooLarge> {
        self.node(if value { Node::And(Vec::new()) } else { Node::Or(Vec::new()) })
    }

    fn clauses(&mut self, f: &Formula, out: &mut Vec<Vec<Lit>>) -> Result<(), TooLarge> {
        match f {
            Formula::Const(true) => {}
            Formula::Const(false) => out.push(Vec::new()),
            Formula::And(parts) => {
                for p in parts {
                    self.clauses(p, out)?;
                }
            }
            Formula::Or(parts) => {
                let lits = parts.iter().map(|p| self.lit(p)).collect::<Result<_, _>>()?;
                out.push(lits);
            }
            f => {
                let l = self.lit(f)?;
                self.flatten(l, out);
            }
        }
        Ok(())
    }

    /// The clauses that say `l` holds, opening its top gate as CNF conversion would: a
    /// disjunction is one clause of its parts, a conjunction a clause per part (so that a sum's
    /// partial-sum chain ends in a clause over its ways to reach the right total, as CL-STE's
    /// hand-written CNFs do).
    fn flatten(&self, l: Lit, out: &mut Vec<Vec<Lit>>) {
        match (&self.nodes[l.node as usize], l.positive) {
            (Node::Or(lits), true) => out.push(lits.clone()),
            (Node::And(lits), false) => out.push(lits.iter().map(|l| l.not()).collect()),
            (Node::And(lits), true) => lits.iter().for_each(|&p| self.flatten(p, out)),
            (Node::Or(lits), false) => lits.iter().for_each(|&p| self.flatten(p.not(), out)),
            (Node::Class { .. }, _) => out.push(vec![l]),
        }
    }

    fn lit(&mut self, f: &Formula) -> Result<Lit, TooLarge> {
        match f {
            Formula::Const(b) => self.constant(*b),
            Formula::Atom(a) => self.atom(*a),
            Formula::Not(g) => Ok(self.lit(g)?.not()),
            Formula::And(parts) | Formula::Or(parts) => {
                let lits = parts.iter().map(|p| self.lit(p)).collect::<Result<_, _>>()?;
                self.gate(lits, matches!(f, Formula::And(_)))
            }
        }
    }

    fn atom(&mut self, a: usize) -> Result<Lit, TooLarge> {
        if let Some(l) = self.atoms[a] {
            return Ok(l);
        }
        let l = match &self.event.atoms[a] {
            Atom::Table { vars, allowed } => self.table(vars, allowed)?,
            Atom::Sum { terms, cmp, rhs } => self.sum(terms, *cmp, rhs)?,
            Atom::Path { .. } => return Err(self.event.black_box().unwrap_err()),
        };
        self.atoms[a] = Some(l);
        Ok(l)
    }

    /// A relation by its table: the disjunction of the assignments it allows, or the negation of
    /// the disjunction of those it forbids, whichever is shorter.
    fn table(&mut self, vars: &[usize], allowed: &[bool]) -> Result<Lit, TooLarge> {
        let forbidden = allowed.iter().filter(|&&a| !a).count();
        let listed = forbidden * 2 < allowed.len();
        let mut rows = Vec::new();
        for (row, _) in allowed.iter().enumerate().filter(|(_, &a)| a != listed) {
            // Row-major: the last variable varies fastest.
            let (mut rest, mut lits) = (row, vec![Lit::pos(0); vars.len()]);
            for (i, &v) in vars.iter().enumerate().rev() {
                let d = self.event.domains[v];
                lits[i] = self.class(v, rest % d);
                rest /= d;
            }
            rows.push(self.gate(lits, true)?);
        }
        let any = match rows.is_empty() {
            true => self.constant(false)?,
            false => self.gate(rows, false)?,
        };
        Ok(if listed { any.not() } else { any })
    }

    /// `Σ_j terms[j].1[z_j] cmp rhs`, as a chain over the partial sums that can still decide it.
    fn sum(&mut self, terms: &[(usize, Vec<BigInt>)], cmp: Cmp, rhs: &BigInt) -> Result<Lit, TooLarge> {
        let gcd_of = |t: &[BigInt]| t.iter().fold(BigInt::zero(), |g, x| g.gcd(&(x - &t[0])));
        let mut order: Vec<&(usize, Vec<BigInt>)> = terms.iter().collect();
        order.sort_by_key(|(_, t)| gcd_of(t));
        // What the terms after position j can still add: min, max, and the gcd of their steps
        // with the residue of their minimum.
        let n = order.len();
        let (mut lo, mut hi, mut step) =
            (vec![BigInt::zero(); n + 1], vec![BigInt::zero(); n + 1], vec![BigInt::zero(); n + 1]);
        for j in (0..n).rev() {
            let t = &order[j].1;
            lo[j] = &lo[j + 1] + t.iter().min().expect("a variable has a class");
            hi[j] = &hi[j + 1] + t.iter().max().expect("a variable has a class");
            step[j] = step[j + 1].gcd(&gcd_of(t));
        }
        // Where a partial sum `u` stands after the first j terms: sure to satisfy, sure to fail,
        // or still open.
        let verdict = |j: usize, u: &BigInt| -> Option<bool> {
            let (min, max) = (u + &lo[j], u + &hi[j]);
            let reachable =
                |x: &BigInt| min <= *x && *x <= max && (step[j].is_zero() || ((x - &min) % &step[j]).is_zero());
            match cmp {
                Cmp::Le if max <= *rhs => Some(true),
                Cmp::Le if min > *rhs => Some(false),
                Cmp::Ge if min >= *rhs => Some(true),
                Cmp::Ge if max < *rhs => Some(false),
                Cmp::Eq if !reachable(rhs) => Some(false),
                Cmp::Eq if min == max => Some(true),
                Cmp::Ne if !reachable(rhs) => Some(true),
                Cmp::Ne if min == max => Some(false),
                _ => None,
            }
        };
        let mut sure: Vec<Lit> = Vec::new();
        let mut open: BTreeMap<BigInt, Lit> = BTreeMap::new();
        let start = self.constant(true)?;
        match verdict(0, &BigInt::zero()) {
            Some(true) => return Ok(start),
            Some(false) => return self.constant(false),
            None => open.insert(BigInt::zero(), start),
        };
        for (j, (var, table)) in order.iter().enumerate() {
            // The classes of this variable by the value they add.
            let mut by_value: BTreeMap<&BigInt, Vec<Lit>> = BTreeMap::new();
            for (k, w) in table.iter().enumerate() {
                let l = self.class(*var, k);
                by_value.entry(w).or_default().push(l);
            }
            let mut adds = Vec::with_capacity(by_value.len());
            for (w, lits) in by_value {
                adds.push((w.clone(), self.gate(lits, false)?));
            }
            let mut next: BTreeMap<BigInt, Vec<Lit>> = BTreeMap::new();
            for (u, reached) in &open {
                for (w, takes) in &adds {
                    let v = u + w;
                    match verdict(j + 1, &v) {
                        Some(false) => {}
                        Some(true) => sure.push(self.gate(vec![*reached, *takes], true)?),
                        None => next.entry(v).or_default().push(self.gate(vec![*reached, *takes], true)?),
                    }
                }
            }
            open = BTreeMap::new();
            for (v, ways) in next {
                let l = self.gate(ways, false)?;
                open.insert(v, l);
            }
        }
        // After the last term every partial sum is decided: `sure` holds those that satisfy.
        match sure.is_empty() {
            true => self.constant(false),
            false => self.gate(sure, false),
        }
    }
}
