//! Belief propagation (`inference: bp`, as BP-EM uses it): the event's conjuncts become the
//! factors of a factor graph over its variables, and messages pass between them until they settle.
//!
//! Factors: a linear atom compared with `==`, `<=` or `>=` is a *chain* — dynamic programming over
//! its partial sums, the terms that move the sum most first, keeping only the partial sums from
//! which the bound can still be met (and merging those from which it is met whatever follows), so
//! that N-digit addition is a chain of a few states per digit, not a table of 10^(2N) rows. Any
//! other conjunct is a *clause* when it is a disjunction of conditions on one variable each (a
//! Sudoku's "this digit is somewhere in the row": nine variables, nine values), else (a relation,
//! `!=`, a nested and/or/not) a *table* of the assignments of its variables that satisfy it; the
//! inequalities and clauses of an `all_different` over n variables of n values become one
//! *permutation* factor. The
//! states a factor lists are bounded (`limit`); beyond, the event is refused as too large — unless
//! it is the negation of an event whose own graph fits (an invalid Sudoku: "not every row, column
//! and box all different"), which is answered through that graph as its *complement*.
//!
//! Messages are sum-product (max-product for MAP) in the linear domain with per-level scaling,
//! updated in parallel with damping until the largest change is below `tolerance` or after
//! `iterations`. The posterior marginals are the beliefs, log P(event) the Bethe approximation;
//! both are exact when the factor graph is a tree (a single conjunct, or a chain of them).

use super::atoms::small;
use super::{complete, Engine, Gradient, Inference, Posterior, TooLarge};
use crate::event::{Atom, Cmp, Convergence, Event, Formula};
use crate::tape::{product, sum, Adjoints, Real, Tape, Var};
use num_traits::Zero;
use std::collections::HashMap;
use std::hash::Hash;
use std::ops::{Add, Sub};

/// The states (table rows, or partial sums over all levels of a chain) one factor may list.
pub const STATE_LIMIT: usize = 1_000_000;

/// Loopy belief propagation with its schedule's settings.
pub struct Bp {
    pub iterations: usize,
    /// The share of the previous message kept at each update (0: none).
    pub damping: f64,
    pub tolerance: f64,
    pub limit: usize,
}

impl Engine for Bp {
    fn name(&self) -> &'static str {
        "bp"
    }

    fn prepare(&self, event: &Event) -> Result<Box<dyn Inference>, TooLarge> {
        event.black_box()?;
        match (self.graph(event), &event.formula) {
            (Ok(graph), _) => Ok(Box::new(graph)),
            (Err(_), Formula::Not(inner)) => {
                let negated = Event { formula: (**inner).clone(), ..event.clone() };
                let graph = self.graph(&negated)?;
                Ok(Box::new(Complement { graph, event: event.clone(), relevant: event.relevant() }))
            }
            (Err(e), _) => Err(e),
        }
    }
}

impl Bp {
    fn graph(&self, event: &Event) -> Result<Graph, TooLarge> {
        let factors = factors(event, self.limit)?;
        let variables = event.domains.len();
        let mut attached = vec![Vec::new(); variables];
        // Union-find over variables and factors: an edge between two connected nodes closes a loop.
        let mut parent: Vec<usize> = (0..variables + factors.iter().flatten().count()).collect();
        let root = |parent: &mut Vec<usize>, mut x: usize| {
            while parent[x] != x {
                parent[x] = parent[parent[x]];
                x = parent[x];
            }
            x
        };
        let mut loopy = false;
        for (f, factor) in factors.iter().flatten().enumerate() {
            for (position, &v) in factor.vars().iter().enumerate() {
                attached[v].push((f, position));
                let (a, b) = (root(&mut parent, v), root(&mut parent, variables + f));
                loopy |= a == b;
                parent[a] = b;
            }
        }
        Ok(Graph {
            event: event.clone(),
            factors,
            attached,
            relevant: event.relevant(),
            iterations: self.iterations.max(1),
            // On a tree propagation is exact and settles by itself: damping would only slow it.
            damping: if loopy { self.damping } else { 0.0 },
            tolerance: self.tolerance,
        })
    }
}

/// The event's conjuncts as factors; `None` when one of them is false.
fn factors(event: &Event, limit: usize) -> Result<Option<Vec<Factor>>, TooLarge> {
    let parts = match &event.formula {
        Formula::And(parts) => parts.as_slice(),
        f => std::slice::from_ref(f),
    };
    let mut factors = Vec::new();
    // A conjunct stated twice (a Sudoku's row and box share pairs of cells) is one factor: two
    // would count its evidence twice.
    let mut seen = std::collections::HashSet::new();
    for part in parts.iter().filter(|&p| seen.insert(p)) {
        let linear = match part {
            Formula::Atom(a) => match &event.atoms[*a] {
                Atom::Sum { terms, cmp, rhs } if *cmp != Cmp::Ne && !terms.is_empty() => Some((terms, *cmp, rhs)),
                _ => None,
            },
            _ => None,
        };
        let conjunct = match linear {
            Some((terms, cmp, rhs)) => match small(terms, rhs) {
                Some((terms, rhs)) => Chain::new(terms, cmp, rhs, limit)?.map(Factor::Chain),
                None => Chain::new(terms.clone(), cmp, rhs.clone(), limit)?.map(Factor::Chain),
            },
            None => match part {
                Formula::Or(disjuncts) => match Clause::new(event, disjuncts) {
                    Some(clause) => clause.map(Factor::Clause),
                    None => Table::new(event, part, limit)?.map(Factor::Table),
                },
                _ => Table::new(event, part, limit)?.map(Factor::Table),
            },
        };
        match conjunct {
            Conjunct::Factor(f) => factors.push(f),
            Conjunct::True => {}
            Conjunct::False => return Ok(None),
        }
    }
    Ok(Some(all_different(factors, &event.domains)))
}

/// Finds `all_different` as grounding states it — a clause "value v is somewhere" over n
/// variables of n values each, and `!=` between every two of them — and makes each such group
/// one permutation factor: its clauses and the pairs it covers go, and the loops they made with it.
fn all_different(factors: Vec<Factor>, domains: &[usize]) -> Vec<Factor> {
    let pair = |f: &Factor| match f {
        Factor::Table(t) if t.vars.len() == 2 && domains[t.vars[0]] == domains[t.vars[1]] => {
            let d = domains[t.vars[0]];
            let differ = t.rows.len() == 2 * d * (d - 1) && t.rows.chunks(2).all(|r| r[0] != r[1]);
            differ.then(|| (t.vars[0].min(t.vars[1]), t.vars[0].max(t.vars[1])))
        }
        _ => None,
    };
    let pairs: std::collections::HashSet<(usize, usize)> = factors.iter().filter_map(pair).collect();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for f in &factors {
        let Factor::Clause(c) = f else { continue };
        let n = c.vars.len();
        // "Value v is somewhere": the same single value for every variable, which a permutation implies.
        let value = |m: &Vec<bool>| (m.iter().filter(|&&b| b).count() == 1).then(|| m.iter().position(|&b| b));
        let one_value = value(&c.meets[0]).is_some() && c.meets.iter().all(|m| value(m) == value(&c.meets[0]));
        let group = c.vars.iter().all(|&v| domains[v] == n)
            && one_value
            && c.vars
                .iter()
                .enumerate()
                .all(|(i, &a)| c.vars[i + 1..].iter().all(|&b| pairs.contains(&(a.min(b), a.max(b)))));
        if n >= 2 && group && !groups.contains(&c.vars) {
            groups.push(c.vars.clone());
        }
    }
    if groups.is_empty() {
        return factors;
    }
    let covered = |a: usize, b: usize| groups.iter().any(|g| g.contains(&a) && g.contains(&b));
    let mut kept: Vec<Factor> = factors
        .into_iter()
        .filter(|f| match f {
            Factor::Clause(c) => !groups.contains(&c.vars),
            f => pair(f).is_none_or(|(a, b)| !covered(a, b)),
        })
        .collect();
    kept.extend(groups.into_iter().map(|vars| Factor::Permutation(Permutation { vars })));
    kept
}

/// What one conjunct of the event becomes.
enum Conjunct<F> {
    False,
    /// True whatever its variables.
    True,
    Factor(F),
}

impl<F> Conjunct<F> {
    fn map<G>(self, f: impl FnOnce(F) -> G) -> Conjunct<G> {
        match self {
            Conjunct::False => Conjunct::False,
            Conjunct::True => Conjunct::True,
            Conjunct::Factor(x) => Conjunct::Factor(f(x)),
        }
    }
}

/// How messages combine alternatives: summed (marginals) or maximised (MAP).
#[derive(Clone, Copy, PartialEq)]
enum Semiring {
    Sum,
    Max,
}

impl Semiring {
    fn add<T: Real>(self, a: T, b: T) -> T {
        match self {
            Semiring::Sum => a + b,
            Semiring::Max => a.max(b),
        }
    }
}

#[derive(Debug)]
enum Factor {
    Table(Table),
    Chain(Chain),
    Clause(Clause),
    Permutation(Permutation),
}

impl Factor {
    fn vars(&self) -> &[usize] {
        match self {
            Factor::Table(t) => &t.vars,
            Factor::Chain(c) => &c.vars,
            Factor::Clause(c) => &c.vars,
            Factor::Permutation(p) => &p.vars,
        }
    }

    /// Given each variable's incoming message, the message to each variable and the log of the
    /// factor's local partition function.
    fn messages<T: Real>(&self, incoming: &[&[T]], semiring: Semiring) -> (Vec<Vec<T>>, T) {
        match self {
            Factor::Table(t) => t.messages(incoming, semiring),
            Factor::Chain(c) => c.messages(incoming, semiring),
            Factor::Clause(c) => c.messages(incoming, semiring),
            Factor::Permutation(p) => p.messages(incoming, semiring),
        }
    }
}

/// A conjunct as the list of its variables' satisfying assignments.
#[derive(Debug)]
struct Table {
    vars: Vec<usize>,
    /// The satisfying assignments, one after another.
    rows: Vec<usize>,
}

impl Table {
    fn new(event: &Event, part: &Formula, limit: usize) -> Result<Conjunct<Table>, TooLarge> {
        let vars = event.vars_of(part);
        let size = vars.iter().try_fold(1usize, |n, &v| n.checked_mul(event.domains[v]).filter(|&n| n <= limit));
        let size = size.ok_or(TooLarge::Factor { limit, variables: vars.len() })?;
        let mut z = vec![0; event.domains.len()];
        let (mut rows, mut satisfied) = (Vec::new(), false);
        for mut k in 0..size {
            for &v in vars.iter().rev() {
                z[v] = k % event.domains[v];
                k /= event.domains[v];
            }
            if part.decide(&|a| Some(event.atom_holds(a, &z))) == Some(true) {
                rows.extend(vars.iter().map(|&v| z[v]));
                satisfied = true;
            }
        }
        Ok(match (satisfied, vars.is_empty()) {
            (false, _) => Conjunct::False,
            (true, true) => Conjunct::True,
            (true, false) => Conjunct::Factor(Table { vars, rows }),
        })
    }

    fn messages<T: Real>(&self, incoming: &[&[T]], semiring: Semiring) -> (Vec<Vec<T>>, T) {
        let width = self.vars.len();
        let mut out: Vec<Vec<T>> = incoming.iter().map(|m| zeros(m.len())).collect();
        let mut z = T::constant(0.0);
        for row in self.rows.chunks(width) {
            z = semiring.add(z, product(row.iter().zip(incoming).map(|(&x, m)| m[x])));
            for p in 0..width {
                let others = product((0..width).filter(|&q| q != p).map(|q| incoming[q][row[q]]));
                out[p][row[p]] = semiring.add(out[p][row[p]], others);
            }
        }
        (out, z.ln())
    }
}

/// A disjunction of conditions on one variable each: it fails only when every variable misses
/// its condition, so a message needs each other variable's total weight and its weight on the
/// missing values, not a table of every joint assignment.
#[derive(Debug)]
struct Clause {
    vars: Vec<usize>,
    /// Per variable, whether each of its values meets its condition.
    meets: Vec<Vec<bool>>,
}

impl Clause {
    /// `None` when a disjunct reads more or fewer than one variable.
    fn new(event: &Event, disjuncts: &[Formula]) -> Option<Conjunct<Clause>> {
        let mut by_var: std::collections::BTreeMap<usize, Vec<&Formula>> = Default::default();
        for d in disjuncts {
            let [v] = event.vars_of(d)[..] else { return None };
            by_var.entry(v).or_default().push(d);
        }
        let mut z = vec![0; event.domains.len()];
        let (mut vars, mut meets) = (Vec::new(), Vec::new());
        for (v, conditions) in by_var {
            let mut m = Vec::with_capacity(event.domains[v]);
            for x in 0..event.domains[v] {
                z[v] = x;
                m.push(conditions.iter().any(|c| c.decide(&|a| Some(event.atom_holds(a, &z))) == Some(true)));
            }
            if m.iter().all(|&b| b) {
                return Some(Conjunct::True);
            }
            if m.iter().any(|&b| b) {
                vars.push(v);
                meets.push(m);
            }
        }
        Some(if vars.is_empty() { Conjunct::False } else { Conjunct::Factor(Clause { vars, meets }) })
    }

    fn messages<T: Real>(&self, incoming: &[&[T]], semiring: Semiring) -> (Vec<Vec<T>>, T) {
        let weight = |p: usize, keep: fn(bool) -> bool| {
            incoming[p]
                .iter()
                .zip(&self.meets[p])
                .filter(|(_, &meets)| keep(meets))
                .fold(T::constant(0.0), |a, (&x, _)| semiring.add(a, x))
        };
        let n = self.vars.len();
        let all: Vec<T> = (0..n).map(|p| weight(p, |_| true)).collect();
        let miss: Vec<T> = (0..n).map(|p| weight(p, |meets| !meets)).collect();
        let hit: Vec<T> = (0..n).map(|p| weight(p, |meets| meets)).collect();
        let except = |of: &[T], p: usize| product((0..n).filter(|&q| q != p).map(|q| of[q]));
        let zero = T::constant(0.0);
        let out = (0..n)
            .map(|p| {
                let free = except(&all, p);
                // A value that misses leaves the clause to the others: at least one must meet it.
                let others_meet = match semiring {
                    Semiring::Sum => free - except(&miss, p),
                    Semiring::Max => (0..n)
                        .filter(|&k| k != p)
                        .map(|k| hit[k] * product((0..n).filter(|&q| q != p && q != k).map(|q| all[q])))
                        .fold(zero, Real::max),
                };
                self.meets[p].iter().map(|&meets| if meets { free } else { others_meet.max(zero) }).collect()
            })
            .collect();
        let z = product(all.iter().copied()) - product(miss.iter().copied());
        (out, z.max(zero).ln())
    }
}

/// n variables of n values each taking different values: the assignments are the permutations,
/// and a message is a permanent of the other variables' messages with one value taken, computed
/// for all at once by dynamic programming over the sets of values used (n·2ⁿ⁻¹ terms; a table
/// would list n! rows, 362,880 for a Sudoku row).
#[derive(Debug)]
struct Permutation {
    vars: Vec<usize>,
}

impl Permutation {
    fn messages<T: Real>(&self, incoming: &[&[T]], semiring: Semiring) -> (Vec<Vec<T>>, T) {
        let n = self.vars.len();
        let full = (1usize << n) - 1;
        // before[S]: the first |S| variables take the values in S; after[S]: the last |S| do.
        let (mut before, mut after) = (zeros(full + 1), zeros(full + 1));
        before[0] = T::constant(1.0);
        after[0] = T::constant(1.0);
        for set in 0..=full {
            let k = set.count_ones() as usize;
            if k == n {
                continue;
            }
            for v in (0..n).filter(|&v| set & (1 << v) == 0) {
                let (b, a) = (before[set] * incoming[k][v], after[set] * incoming[n - 1 - k][v]);
                before[set | 1 << v] = semiring.add(before[set | 1 << v], b);
                after[set | 1 << v] = semiring.add(after[set | 1 << v], a);
            }
        }
        let mut out = vec![zeros(n); n];
        for (set, &w) in before.iter().enumerate() {
            let i = set.count_ones() as usize;
            if i == n || w.value() == 0.0 {
                continue;
            }
            for v in (0..n).filter(|&v| set & (1 << v) == 0) {
                let rest = full & !(set | 1 << v);
                out[i][v] = semiring.add(out[i][v], w * after[rest]);
            }
        }
        (out, before[full].ln())
    }
}

/// A linear atom as dynamic programming over its partial sums: per level (terms assigned so
/// far), the partial sums still able to meet the bound, and where each value of the next term
/// leads. Every state of the last level satisfies the atom.
#[derive(Debug)]
struct Chain {
    /// The terms' variables, in the order they are assigned.
    vars: Vec<usize>,
    /// States per level, `vars.len() + 1` levels (0 states at level 0: the atom cannot hold).
    states: Vec<usize>,
    /// Per level below the last, `next[i * d + x]`: the state value `x` leads to from state `i`.
    next: Vec<Vec<u32>>,
}

/// Integers a chain's partial sums can be kept in.
trait Int: Clone + Ord + Zero + Add<Output = Self> + Sub<Output = Self> + Hash {}
impl<T: Clone + Ord + Zero + Add<Output = T> + Sub<Output = T> + Hash> Int for T {}

/// A partial sum that can still meet the bound, or the mark of one that meets it whatever follows.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Partial<T> {
    Sum(T),
    Met,
}

const DROPPED: u32 = u32::MAX;

impl Chain {
    fn new<T: Int>(
        mut terms: Vec<(usize, Vec<T>)>,
        cmp: Cmp,
        rhs: T,
        limit: usize,
    ) -> Result<Conjunct<Chain>, TooLarge> {
        let lo = |t: &[T]| t.iter().min().cloned().unwrap_or_else(T::zero);
        let hi = |t: &[T]| t.iter().max().cloned().unwrap_or_else(T::zero);
        let spread = |t: &[T]| hi(t) - lo(t);
        // The terms that move the sum most first: they decide the most partial sums.
        terms.sort_by_key(|t| std::cmp::Reverse(spread(&t.1)));
        let n = terms.len();
        let (mut lo_rest, mut hi_rest) = (vec![T::zero(); n + 1], vec![T::zero(); n + 1]);
        for j in (0..n).rev() {
            lo_rest[j] = lo_rest[j + 1].clone() + lo(&terms[j].1);
            hi_rest[j] = hi_rest[j + 1].clone() + hi(&terms[j].1);
        }
        let classify = |s: T, j: usize| -> Option<Partial<T>> {
            let (least, most) = (s.clone() + lo_rest[j].clone(), s.clone() + hi_rest[j].clone());
            match cmp {
                Cmp::Eq => (least <= rhs && rhs <= most).then_some(Partial::Sum(s)),
                Cmp::Le if most <= rhs => Some(Partial::Met),
                Cmp::Ge if least >= rhs => Some(Partial::Met),
                Cmp::Le => (least <= rhs).then_some(Partial::Sum(s)),
                Cmp::Ge => (most >= rhs).then_some(Partial::Sum(s)),
                Cmp::Ne => unreachable!("`!=` atoms are tables"),
            }
        };
        let mut level: Vec<Partial<T>> = match classify(T::zero(), 0) {
            None => return Ok(Conjunct::False),
            Some(Partial::Met) => return Ok(Conjunct::True),
            Some(start) => vec![start],
        };
        let (mut states, mut next, mut total) = (vec![1], Vec::with_capacity(n), 1usize);
        for (j, (_, table)) in terms.iter().enumerate() {
            let mut index: HashMap<Partial<T>, u32> = HashMap::new();
            let mut following = Vec::new();
            let mut edges = Vec::with_capacity(level.len() * table.len());
            for state in &level {
                for t in table {
                    let to = match state {
                        Partial::Met => Some(Partial::Met),
                        Partial::Sum(s) => classify(s.clone() + t.clone(), j + 1),
                    };
                    edges.push(to.map_or(DROPPED, |to| {
                        *index.entry(to.clone()).or_insert_with(|| {
                            following.push(to);
                            (following.len() - 1) as u32
                        })
                    }));
                }
            }
            total += following.len();
            if total > limit {
                return Err(TooLarge::Factor { limit, variables: n });
            }
            if following.is_empty() {
                return Ok(Conjunct::False);
            }
            states.push(following.len());
            next.push(edges);
            level = following;
        }
        let vars = terms.iter().map(|(v, _)| *v).collect();
        Ok(Conjunct::Factor(Chain { vars, states, next }))
    }

    fn messages<T: Real>(&self, incoming: &[&[T]], semiring: Semiring) -> (Vec<Vec<T>>, T) {
        let n = self.vars.len();
        let zero = T::constant(0.0);
        // forward[j][i]: the (scaled) weight of reaching state i of level j.
        let mut forward = vec![vec![T::constant(1.0)]];
        let mut log_scale = zero;
        for j in 0..n {
            let d = incoming[j].len();
            let mut f = zeros(self.states[j + 1]);
            for (i, &w) in forward[j].iter().enumerate().filter(|(_, w)| w.value() > 0.0) {
                for (&to, &m) in self.next[j][i * d..(i + 1) * d].iter().zip(incoming[j]) {
                    if to != DROPPED {
                        f[to as usize] = semiring.add(f[to as usize], w * m);
                    }
                }
            }
            let max = f.iter().copied().fold(zero, Real::max);
            if max.value() == 0.0 {
                return (incoming.iter().map(|m| zeros(m.len())).collect(), T::constant(f64::NEG_INFINITY));
            }
            f.iter_mut().for_each(|x| *x = *x / max);
            log_scale = log_scale + max.ln();
            forward.push(f);
        }
        let log_z = log_scale + forward[n].iter().fold(zero, |a, &b| semiring.add(a, b)).ln();
        // backward: the (scaled) weight of completing the chain from each state of level j + 1.
        let mut backward = vec![T::constant(1.0); self.states[n]];
        let mut out: Vec<Vec<T>> = incoming.iter().map(|m| zeros(m.len())).collect();
        for j in (0..n).rev() {
            let d = incoming[j].len();
            let mut b = zeros(self.states[j]);
            for i in 0..self.states[j] {
                for x in 0..d {
                    let to = self.next[j][i * d + x];
                    if to != DROPPED {
                        let ahead = backward[to as usize];
                        out[j][x] = semiring.add(out[j][x], forward[j][i] * ahead);
                        b[i] = semiring.add(b[i], incoming[j][x] * ahead);
                    }
                }
            }
            let max = b.iter().copied().fold(zero, Real::max);
            if max.value() > 0.0 {
                b.iter_mut().for_each(|x| *x = *x / max);
            }
            backward = b;
        }
        (out, log_z)
    }
}

/// A prepared factor graph.
#[derive(Debug)]
struct Graph {
    event: Event,
    /// `None`: a conjunct is false.
    factors: Option<Vec<Factor>>,
    /// Per variable, its (factor, position in the factor).
    attached: Vec<Vec<(usize, usize)>>,
    relevant: Vec<usize>,
    iterations: usize,
    damping: f64,
    tolerance: f64,
}

/// Per factor, per position in it, a message over that variable's values.
type Messages<T> = Vec<Vec<Vec<T>>>;

/// Where propagation ended: every factor's messages to its variables, and the beliefs.
struct Settled {
    messages: Messages<f64>,
    beliefs: Vec<Vec<f64>>,
    /// The messages each round started from, oldest first (kept only when asked for).
    history: Vec<Messages<f64>>,
    convergence: Convergence,
}

fn zeros<T: Real>(n: usize) -> Vec<T> {
    vec![T::constant(0.0); n]
}

/// Scales `m` to sum 1 (sum-product) or to a largest entry of 1 (max-product); `None` when all zero.
fn normalise<T: Real>(mut m: Vec<T>, semiring: Semiring) -> Option<Vec<T>> {
    let scale = m.iter().fold(T::constant(0.0), |a, &b| semiring.add(a, b));
    (scale.value() > 0.0 && scale.value().is_finite()).then(|| {
        m.iter_mut().for_each(|x| *x = *x / scale);
        m
    })
}

impl Graph {
    /// Runs propagation from uniform messages, keeping the messages each round started from when
    /// `keep`; `None` when the event has probability 0 under `prior` (a factor's messages all vanish).
    fn propagate(&self, factors: &[Factor], prior: &[Vec<f64>], semiring: Semiring, keep: bool) -> Option<Settled> {
        let mut messages: Messages<f64> = factors
            .iter()
            .map(|f| f.vars().iter().map(|&v| vec![1.0 / prior[v].len() as f64; prior[v].len()]).collect())
            .collect();
        let mut history = Vec::new();
        let mut convergence = Convergence { iterations: 0, residual: 0.0, settled: factors.is_empty() };
        while convergence.iterations < self.iterations && !convergence.settled {
            let next = self.round(factors, &messages, prior, semiring)?;
            let residual = next
                .iter()
                .flatten()
                .flatten()
                .zip(messages.iter().flatten().flatten())
                .fold(0.0f64, |r, (n, o)| r.max((n - o).abs()));
            let start = std::mem::replace(&mut messages, next);
            if keep {
                history.push(start);
            }
            convergence =
                Convergence { iterations: convergence.iterations + 1, residual, settled: residual < self.tolerance };
        }
        let beliefs = (0..prior.len())
            .map(|v| {
                let b = (0..prior[v].len())
                    .map(|x| prior[v][x] * self.attached[v].iter().map(|&(f, p)| messages[f][p][x]).product::<f64>())
                    .collect();
                normalise(b, semiring)
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Settled { messages, beliefs, history, convergence })
    }

    /// One round, in parallel: every factor's messages from what its variables send it,
    /// normalised and damped.
    fn round<T: Real>(
        &self,
        factors: &[Factor],
        messages: &Messages<T>,
        prior: &[Vec<T>],
        semiring: Semiring,
    ) -> Option<Messages<T>> {
        let sent = self.sent(factors, messages, prior, semiring)?;
        let (keep, take) = (T::constant(self.damping), T::constant(1.0 - self.damping));
        factors
            .iter()
            .zip(sent)
            .zip(messages)
            .map(|((factor, sent), old)| {
                let incoming: Vec<&[T]> = sent.iter().map(Vec::as_slice).collect();
                let (fresh, _) = factor.messages(&incoming, semiring);
                fresh
                    .into_iter()
                    .zip(old)
                    .map(|(new, old)| {
                        let mut new = normalise(new, semiring)?;
                        if self.damping > 0.0 {
                            new.iter_mut().zip(old).for_each(|(n, &o)| *n = take * *n + keep * o);
                        }
                        Some(new)
                    })
                    .collect()
            })
            .collect()
    }

    /// Each variable's message to each of its factors: its prior times the other factors' messages.
    fn sent<T: Real>(
        &self,
        factors: &[Factor],
        messages: &Messages<T>,
        prior: &[Vec<T>],
        semiring: Semiring,
    ) -> Option<Messages<T>> {
        let mut sent: Messages<T> = factors.iter().map(|f| vec![Vec::new(); f.vars().len()]).collect();
        for (v, attached) in self.attached.iter().enumerate() {
            // The other factors' product as the ones before times the ones after: a Sudoku cell
            // hears from two dozen factors.
            let d = prior[v].len();
            let mut after = vec![vec![T::constant(1.0); d]; attached.len() + 1];
            for (i, &(f, p)) in attached.iter().enumerate().rev() {
                after[i] = (0..d).map(|x| after[i + 1][x] * messages[f][p][x]).collect();
            }
            let mut before = prior[v].clone();
            for (i, &(f, p)) in attached.iter().enumerate() {
                sent[f][p] = normalise((0..d).map(|x| before[x] * after[i + 1][x]).collect(), semiring)?;
                before.iter_mut().zip(&messages[f][p]).for_each(|(b, &m)| *b = *b * m);
            }
        }
        Some(sent)
    }

    /// The Bethe approximation of log P(event) at `messages` (exact on trees at the fixed point).
    fn log_z<T: Real>(&self, factors: &[Factor], prior: &[Vec<T>], messages: &Messages<T>) -> Option<T> {
        let sent = self.sent(factors, messages, prior, Semiring::Sum)?;
        let mut log_z = T::constant(0.0);
        for (f, factor) in factors.iter().enumerate() {
            let incoming: Vec<&[T]> = sent[f].iter().map(Vec::as_slice).collect();
            log_z = log_z + factor.messages(&incoming, Semiring::Sum).1;
            for (p, &v) in factor.vars().iter().enumerate() {
                log_z = log_z - sum((0..prior[v].len()).map(|x| sent[f][p][x] * messages[f][p][x])).ln();
            }
        }
        // A variable in no factor counts by its total weight (0 in log when normalised, but its
        // derivative is its prior).
        for (v, attached) in self.attached.iter().enumerate() {
            let node =
                (0..prior[v].len()).map(|x| prior[v][x] * product(attached.iter().map(|&(f, p)| messages[f][p][x])));
            log_z = log_z + sum(node).ln();
        }
        Some(log_z)
    }

    /// The Bethe estimate of log P(event) and its derivative in `logw` through the rounds
    /// propagation ran (BP-std): the estimate at the last messages is differentiated first, then
    /// each round backwards from the messages it started from — one tape per round, so memory
    /// holds one round's operations, not all of them.
    fn unrolled(&self, factors: &[Factor], logw: &[Vec<f64>]) -> Option<Gradient> {
        let prior = prior(logw);
        let settled = self.propagate(factors, &prior, Semiring::Sum, true)?;
        let tape = Tape::default();
        let (p, m) = (inputs(&tape, &prior), settled.messages.iter().map(|m| inputs(&tape, m)).collect());
        let log_z = self.log_z(factors, &p, &m)?;
        let possible = log_z.value() > f64::NEG_INFINITY;
        if !possible {
            return None;
        }
        let adjoints = tape.gradient([(log_z, 1.0)]);
        let mut d_prior = read(&p, &adjoints);
        let mut d_messages: Messages<f64> = m.iter().map(|m| read(m, &adjoints)).collect();
        for start in settled.history.iter().rev() {
            let tape = Tape::default();
            let (p, m) = (inputs(&tape, &prior), start.iter().map(|m| inputs(&tape, m)).collect());
            let next = self.round(factors, &m, &p, Semiring::Sum)?;
            let seeds = next.iter().flatten().flatten().copied().zip(d_messages.iter().flatten().flatten().copied());
            let adjoints = tape.gradient(seeds);
            d_prior.iter_mut().flatten().zip(read(&p, &adjoints).into_iter().flatten()).for_each(|(d, e)| *d += e);
            d_messages = m.iter().map(|m| read(m, &adjoints)).collect();
        }
        // prior = exp(logw)
        let d_logw = d_prior.iter().zip(&prior).map(|(d, q)| d.iter().zip(q).map(|(d, q)| d * q).collect()).collect();
        Some(Gradient { log_prob: log_z.value(), d_logw, convergence: Some(settled.convergence) })
    }
}

fn inputs<'t>(tape: &'t Tape, x: &[Vec<f64>]) -> Vec<Vec<Var<'t>>> {
    x.iter().map(|x| x.iter().map(|&x| tape.input(x)).collect()).collect()
}

fn read(x: &[Vec<Var>], adjoints: &Adjoints) -> Vec<Vec<f64>> {
    x.iter().map(|x| x.iter().map(|v| v.of(adjoints)).collect()).collect()
}

fn prior(logw: &[Vec<f64>]) -> Vec<Vec<f64>> {
    logw.iter().map(|w| w.iter().map(|x| x.exp()).collect()).collect()
}

/// The prior's total weight over all assignments (1 when each variable's weights are normalised).
fn total(prior: &[Vec<f64>]) -> f64 {
    prior.iter().map(|q| q.iter().sum::<f64>()).product()
}

/// log(total − p), precise where p is small beside the total; `None` when nothing is left.
fn log_rest(total: f64, p: f64) -> Option<f64> {
    Some(total.ln() + (-p / total).ln_1p()).filter(|l| l.is_finite())
}

impl Inference for Graph {
    fn log_prob(&self, logw: &[Vec<f64>]) -> f64 {
        self.posterior(logw).map_or(f64::NEG_INFINITY, |p| p.log_prob)
    }

    fn posterior(&self, logw: &[Vec<f64>]) -> Option<Posterior> {
        let factors = self.factors.as_ref()?;
        let prior = prior(logw);
        let settled = self.propagate(factors, &prior, Semiring::Sum, false)?;
        let log_prob = self.log_z(factors, &prior, &settled.messages)?;
        (log_prob > f64::NEG_INFINITY).then_some(Posterior {
            log_prob,
            marginals: settled.beliefs,
            convergence: Some(settled.convergence),
        })
    }

    fn gradient(&self, logw: &[Vec<f64>]) -> Option<Gradient> {
        self.unrolled(self.factors.as_ref()?, logw)
    }

    fn map(&self, logw: &[Vec<f64>]) -> Option<(Vec<usize>, f64)> {
        let factors = self.factors.as_ref()?;
        let settled = self.propagate(factors, &prior(logw), Semiring::Max, false)?;
        let z: Vec<usize> =
            settled.beliefs.iter().map(|b| (0..b.len()).max_by(|&a, &c| b[a].total_cmp(&b[c])).unwrap_or(0)).collect();
        // Max-marginals decode to a model on trees without ties; elsewhere the decoding is checked.
        self.event.holds(&z).then(|| complete(z, &self.relevant, logw))
    }

    fn size(&self) -> usize {
        self.factors.iter().flatten().map(|f| f.vars().len()).sum()
    }
}

/// The negation of an event whose factor graph fits: P(¬E) = 1 − P(E), and each marginal is the
/// prior with E's share taken out, (p_v − P(E)·b_v) / (1 − P(E)), where b_v are E's beliefs.
#[derive(Debug)]
struct Complement {
    graph: Graph,
    /// The negated event itself.
    event: Event,
    relevant: Vec<usize>,
}

impl Inference for Complement {
    fn log_prob(&self, logw: &[Vec<f64>]) -> f64 {
        self.posterior(logw).map_or(f64::NEG_INFINITY, |p| p.log_prob)
    }

    fn posterior(&self, logw: &[Vec<f64>]) -> Option<Posterior> {
        let prior = prior(logw);
        let total = total(&prior);
        let (p, beliefs, convergence) = match self.graph.posterior(logw) {
            Some(e) => (e.log_prob.exp().min(total), e.marginals, e.convergence),
            None => (0.0, prior.clone(), None),
        };
        let log_prob = log_rest(total, p)?;
        let marginals = prior
            .iter()
            .zip(&beliefs)
            .map(|(q, b)| {
                let m: Vec<f64> = q.iter().zip(b).map(|(q, b)| (q - p * b).max(0.0)).collect();
                // Beliefs are approximate: where they take out more than the prior holds, keep the prior.
                normalise(m, Semiring::Sum).unwrap_or_else(|| q.clone())
            })
            .collect();
        Some(Posterior { log_prob, marginals, convergence })
    }

    /// log(T − P(E)), where T = Π_v Σ q_v is the prior's total (1 when normalised): its
    /// derivative in logw[v][x] is (T·q_v[x]/Σ q_v − P(E)·∂log P(E)) / (T − P(E)).
    fn gradient(&self, logw: &[Vec<f64>]) -> Option<Gradient> {
        let prior = prior(logw);
        let total = total(&prior);
        let (p, d, convergence) = match self.graph.gradient(logw) {
            Some(e) => (e.log_prob.exp().min(total), e.d_logw, e.convergence),
            None => (0.0, prior.iter().map(|q| vec![0.0; q.len()]).collect(), None),
        };
        let log_prob = log_rest(total, p)?;
        let d_logw = prior
            .iter()
            .zip(&d)
            .map(|(q, d)| {
                let share = total / q.iter().sum::<f64>();
                q.iter().zip(d).map(|(q, d)| (share * q - p * d) / (total - p)).collect()
            })
            .collect();
        Some(Gradient { log_prob, d_logw, convergence })
    }

    /// The most probable assignment if it breaks E; else the cheapest change of one value, then of
    /// two, that does.
    fn map(&self, logw: &[Vec<f64>]) -> Option<(Vec<usize>, f64)> {
        let best: Vec<usize> =
            logw.iter().map(|w| (0..w.len()).max_by(|&a, &b| w[a].total_cmp(&w[b])).unwrap_or(0)).collect();
        if self.event.holds(&best) {
            return Some(complete(best, &self.relevant, logw));
        }
        let mut changes: Vec<(f64, usize, usize)> = self
            .relevant
            .iter()
            .flat_map(|&v| (0..logw[v].len()).map(move |x| (v, x)))
            .filter(|&(v, x)| x != best[v])
            .map(|(v, x)| (logw[v][best[v]] - logw[v][x], v, x))
            .collect();
        changes.sort_by(|a, b| a.0.total_cmp(&b.0));
        let with = |moves: &[&(f64, usize, usize)]| {
            let mut z = best.clone();
            moves.iter().for_each(|&&(_, v, x)| z[v] = x);
            z
        };
        if let Some(z) = changes.iter().map(|c| with(&[c])).find(|z| self.event.holds(z)) {
            return Some(complete(z, &self.relevant, logw));
        }
        let mut pairs: Vec<(f64, usize, usize)> = (0..changes.len())
            .flat_map(|i| (i + 1..changes.len()).map(move |j| (i, j)))
            .filter(|&(i, j)| changes[i].1 != changes[j].1)
            .map(|(i, j)| (changes[i].0 + changes[j].0, i, j))
            .collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let z = pairs.iter().map(|&(_, i, j)| with(&[&changes[i], &changes[j]])).find(|z| self.event.holds(z))?;
        Some(complete(z, &self.relevant, logw))
    }

    fn size(&self) -> usize {
        self.graph.size()
    }
}
