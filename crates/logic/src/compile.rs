//! Exact compilation of an event into a decision diagram (DESIGN.md §3b).
//!
//! Top-down: branch on the next variable in a fixed order, update each atom's residual under the
//! partial assignment, and cache residual problems by their canonical state, so that equal
//! sub-problems are built once. A linear atom's state is its remaining target, counted in steps of
//! the gcd of what the remaining terms can still change; targets out of the range they can reach,
//! or between two of their steps, are decided at once. Two N-digit numbers with an observed sum thus keep a few live
//! targets per digit position (the carry) and compile to O(N) nodes.

use crate::event::{Atom, Cmp, Event};
use crate::event::{Posterior, TooLarge};
use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{Signed, Zero};
use std::collections::HashMap;

/// A child of a node: a terminal or another node (an index into [`Diagram::nodes`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ref {
    False,
    True,
    Node(u32),
}

/// A decision on the variable at `level` of the order, with one child per value.
#[derive(Clone, Debug)]
pub struct Node {
    pub level: u32,
    /// The children are `edges[first..first + domain]`.
    pub first: u32,
}

/// A compiled event. Nodes come children first, so one forward pass is bottom-up.
#[derive(Clone, Debug)]
pub struct Diagram {
    /// The variable decided at each level.
    pub order: Vec<usize>,
    pub domains: Vec<usize>,
    pub nodes: Vec<Node>,
    pub edges: Vec<Ref>,
    pub root: Ref,
}

/// The default node limit: a few hundred megabytes at most.
pub const NODE_LIMIT: usize = 4_000_000;

/// The most atom states the compiler's cache may hold (its memory: 32 bytes each). An event of
/// many atoms (a Sudoku's 972 inequalities) fills it long before it has many nodes.
const STATE_LIMIT: usize = 1 << 25;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum State {
    Decided(bool),
    /// A linear atom: the target the unassigned terms must meet.
    Residual(BigInt),
    /// A table atom: what is left of its table once its first variables (in compilation
    /// order) are assigned, interned, so that prefixes that leave the same relation meet (a
    /// maximum's prefixes leave one relation per maximum so far).
    Table(u32),
}

/// A table atom's table laid out in compilation order, and the residuals its prefixes leave.
struct Table {
    /// `allowed` with its variables in compilation order (the last varies fastest).
    allowed: Vec<bool>,
    /// `len[d]`: the entries of a residual once `d` variables are assigned.
    len: Vec<usize>,
}

/// A linear atom seen from one level: what its terms at that level or later can still add up to.
/// Targets are counted in steps: `k` stands for `base + step·k`, so that targets the remaining terms
/// cannot tell apart are equal (a cache hit). A state keeps `k − reference`, where the reference
/// follows the observed target down the levels: the difference stays a small number (the carry)
/// even when the target has a hundred digits, so each node's work does not grow with N.
#[derive(Clone, Default)]
struct Reach {
    /// Every reachable sum is `base + step·k` for some `lo ≤ k ≤ hi` (`step` 0: only `base`);
    /// once anchored, `lo` and `hi` are counted from `reference`.
    base: BigInt,
    step: BigInt,
    lo: BigInt,
    hi: BigInt,
    reference: BigInt,
    /// `reference` modulo the ratio to the next level's step.
    rem: BigInt,
    /// For the term decided at this level: `(t[0] − t[v]) / step` per value `v`, and the next
    /// level's step divided by this one (0 when nothing varies after it).
    shift: Option<(Vec<BigInt>, BigInt)>,
}

struct Compiler<'a> {
    event: &'a Event,
    order: Vec<usize>,
    /// Per linear atom, its reach from each level (empty for tables).
    reach: Vec<Vec<Reach>>,
    /// Per linear atom, its truth when the target alone decides it.
    start: Vec<Option<bool>>,
    /// Per table atom, its table in compilation order (`None` for linear atoms).
    tables: Vec<Option<Table>>,
    /// The residuals of [`State::Table`]: (atom, offset into its table, variables assigned).
    residuals: Vec<(usize, usize, usize)>,
    interned: HashMap<(usize, usize, Vec<bool>), u32>,
    /// Per variable, the atoms that mention it.
    atoms_of: Vec<Vec<usize>>,
    memo: HashMap<(u32, Vec<State>), Ref>,
    /// Atom states held by `memo`, against [`STATE_LIMIT`].
    remembered: usize,
    nodes: Vec<Node>,
    edges: Vec<Ref>,
    limit: usize,
}

/// The variable order: variables of linear atoms by increasing weight spread (the least
/// significant digits first), then the others in order of first appearance.
fn order(event: &Event) -> Vec<usize> {
    let n = event.domains.len();
    let mut spread: Vec<Option<BigInt>> = vec![None; n];
    let mut first = vec![usize::MAX; n];
    let mut position = 0;
    for atom in &event.atoms {
        for v in atom.vars() {
            if first[v] == usize::MAX {
                first[v] = position;
                position += 1;
            }
        }
        if let Atom::Sum { terms, .. } = atom {
            for (v, t) in terms {
                let s = t.iter().max().cloned().unwrap_or_default() - t.iter().min().cloned().unwrap_or_default();
                if spread[*v].as_ref().is_none_or(|old| &s > old) {
                    spread[*v] = Some(s);
                }
            }
        }
    }
    let mut vars: Vec<usize> = (0..n).collect();
    vars.sort_by(|&a, &b| match (&spread[a], &spread[b]) {
        (Some(x), Some(y)) => x.cmp(y).then(first[a].cmp(&first[b])),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => first[a].cmp(&first[b]),
    });
    vars
}

fn reach_per_level(terms: &[(usize, Vec<BigInt>)], level_of: &[usize], levels: usize) -> Vec<Reach> {
    let mut by_level: Vec<Option<&Vec<BigInt>>> = vec![None; levels];
    for (v, t) in terms {
        by_level[level_of[*v]] = Some(t);
    }
    let (mut base, mut step, mut lo, mut hi) = (BigInt::zero(), BigInt::zero(), BigInt::zero(), BigInt::zero());
    let mut out: Vec<Reach> = (0..=levels).map(|_| Reach::default()).collect();
    for level in (0..levels).rev() {
        let Some(t) = by_level[level] else {
            out[level] = Reach { shift: None, ..out[level + 1].clone() };
            continue;
        };
        let next_step = step.clone();
        base += &t[0];
        lo += t.iter().min().cloned().unwrap_or_default();
        hi += t.iter().max().cloned().unwrap_or_default();
        for x in t {
            step = gcd(&step, &(x - &t[0]));
        }
        let in_steps = |x: &BigInt| if step.is_zero() { BigInt::zero() } else { x / &step };
        let shift = (!step.is_zero()).then(|| {
            let ratio = if next_step.is_zero() { BigInt::zero() } else { &next_step / &step };
            (t.iter().map(|x| (&t[0] - x) / &step).collect(), ratio)
        });
        out[level] = Reach {
            lo: in_steps(&(&lo - &base)),
            hi: in_steps(&(&hi - &base)),
            base: base.clone(),
            step: step.clone(),
            shift,
            ..Reach::default()
        };
    }
    out
}

/// The gcd, quickly when one divides the other (weights that are powers of ten): a general gcd
/// of two N-digit numbers per level would make compilation quadratic.
fn gcd(a: &BigInt, b: &BigInt) -> BigInt {
    if a.is_zero() || b.is_zero() {
        return (a + b).abs();
    }
    if (b % a).is_zero() {
        return a.abs();
    }
    if (a % b).is_zero() {
        return b.abs();
    }
    a.gcd(b)
}

/// A target `x` steps above the base, counted in steps `ratio` times as long: exact for
/// (in)equalities, rounded towards what can be reached for inequalities; `Err` when that alone
/// decides the atom (`ratio` 0: nothing varies any more, the remaining terms add up to the base).
fn round(cmp: Cmp, x: BigInt, ratio: &BigInt) -> Result<BigInt, bool> {
    if ratio.is_zero() {
        return Err(cmp.holds(&BigInt::zero(), &x));
    }
    match cmp {
        Cmp::Eq | Cmp::Ne => {
            let (q, rem) = x.div_rem(ratio);
            if rem.is_zero() {
                Ok(q)
            } else {
                Err(cmp == Cmp::Ne)
            }
        }
        Cmp::Le => Ok(x.div_floor(ratio)),
        Cmp::Ge => Ok(x.div_ceil(ratio)),
    }
}

/// Counts the atom's targets from references that follow `rhs` down the levels; `Some` when `rhs`
/// alone decides the atom.
fn anchor(levels: &mut [Reach], cmp: Cmp, rhs: &BigInt) -> Option<bool> {
    // Above the first level targets are counted in ones: the ratio to it is its step.
    let mut reference = match round(cmp, rhs - &levels[0].base, &levels[0].step) {
        Ok(k) => k,
        Err(decided) => return Some(decided),
    };
    for r in levels.iter_mut() {
        r.lo -= &reference;
        r.hi -= &reference;
        let next = match &r.shift {
            Some((_, ratio)) if !ratio.is_zero() => {
                r.rem = reference.mod_floor(ratio);
                reference.div_floor(ratio)
            }
            _ => reference.clone(),
        };
        r.reference = std::mem::replace(&mut reference, next);
    }
    None
}

impl Compiler<'_> {
    /// The state of linear atom `atom` whose terms at `level` or later must reach (compare with)
    /// `base + step·k` of that level.
    fn linear_state(&self, atom: usize, level: usize, k: BigInt) -> State {
        let Atom::Sum { cmp, .. } = &self.event.atoms[atom] else { unreachable!("a linear atom") };
        let r = &self.reach[atom][level];
        let decided = match cmp {
            Cmp::Eq | Cmp::Ne => {
                let reachable = r.lo <= k && k <= r.hi;
                match (reachable, r.lo == r.hi) {
                    (false, _) => Some(*cmp == Cmp::Ne),
                    (true, true) => Some(*cmp == Cmp::Eq),
                    _ => None,
                }
            }
            Cmp::Le if r.hi <= k => Some(true),
            Cmp::Le if r.lo > k => Some(false),
            Cmp::Ge if r.lo >= k => Some(true),
            Cmp::Ge if r.hi < k => Some(false),
            _ => None,
        };
        decided.map_or(State::Residual(k), State::Decided)
    }

    fn initial(&mut self) -> Vec<State> {
        (0..self.event.atoms.len())
            .map(|a| match &self.event.atoms[a] {
                Atom::Sum { .. } => match self.start[a] {
                    Some(decided) => State::Decided(decided),
                    None => self.linear_state(a, 0, BigInt::zero()),
                },
                Atom::Table { .. } => self.residual(a, 0, 0),
                Atom::Path { .. } => unreachable!("refused by `compile`"),
            })
            .collect()
    }

    /// The state of table atom `atom` whose residual starts at `offset` with `depth` of its
    /// variables assigned: decided when every entry left agrees.
    fn residual(&mut self, atom: usize, offset: usize, depth: usize) -> State {
        let table = self.tables[atom].as_ref().expect("a table atom");
        let left = &table.allowed[offset..offset + table.len[depth]];
        if left.iter().all(|&b| b == left[0]) {
            return State::Decided(left[0]);
        }
        let next = self.residuals.len() as u32;
        let id = *self.interned.entry((atom, depth, left.to_vec())).or_insert(next);
        if id == next {
            self.residuals.push((atom, offset, depth));
        }
        State::Table(id)
    }

    /// The state of `atom` after its variable at `level` takes `value`.
    fn step(&mut self, atom: usize, state: &State, level: usize, value: usize) -> State {
        match state {
            State::Decided(_) => state.clone(),
            State::Residual(k) => {
                let Atom::Sum { cmp, .. } = &self.event.atoms[atom] else { unreachable!("a linear atom") };
                let r = &self.reach[atom][level];
                let Some((shift, ratio)) = &r.shift else {
                    unreachable!("an open linear atom varies at its variables' levels")
                };
                let x = &r.rem + k + &shift[value];
                let x = if ratio.is_zero() { x + &r.reference } else { x };
                match round(*cmp, x, ratio) {
                    Ok(k) => self.linear_state(atom, level + 1, k),
                    Err(decided) => State::Decided(decided),
                }
            }
            &State::Table(id) => {
                let (_, offset, depth) = self.residuals[id as usize];
                let len = self.tables[atom].as_ref().expect("a table atom").len[depth + 1];
                self.residual(atom, offset + value * len, depth + 1)
            }
        }
    }

    fn visit(&mut self, level: usize, states: Vec<State>) -> Result<Ref, TooLarge> {
        let decided = self.event.formula.decide(&|a| match states[a] {
            State::Decided(b) => Some(b),
            _ => None,
        });
        match decided {
            Some(true) => return Ok(Ref::True),
            Some(false) => return Ok(Ref::False),
            // Every atom is decided once its variables are; an open one past the last level
            // cannot happen, and counts as false.
            None if level == self.order.len() => return Ok(Ref::False),
            None => {}
        }
        let var = self.order[level];
        // A variable that no open atom reads does not branch.
        if self.atoms_of[var].iter().all(|&a| matches!(states[a], State::Decided(_))) {
            return self.visit(level + 1, states);
        }
        let key = (level as u32, states);
        if let Some(&r) = self.memo.get(&key) {
            return Ok(r);
        }
        self.remembered += key.1.len();
        if self.remembered > STATE_LIMIT {
            return Err(TooLarge::States { limit: STATE_LIMIT, variables: self.order.len() });
        }
        let states = &key.1;
        let mut children = Vec::with_capacity(self.event.domains[var]);
        for value in 0..self.event.domains[var] {
            let mut next = states.clone();
            for i in 0..self.atoms_of[var].len() {
                let a = self.atoms_of[var][i];
                next[a] = self.step(a, &states[a], level, value);
            }
            children.push(self.visit(level + 1, next)?);
        }
        let r = if children.iter().all(|c| *c == children[0]) {
            children[0]
        } else {
            if self.nodes.len() >= self.limit {
                return Err(TooLarge::Nodes { limit: self.limit, variables: self.order.len() });
            }
            self.nodes.push(Node { level: level as u32, first: self.edges.len() as u32 });
            self.edges.extend(children);
            Ref::Node(self.nodes.len() as u32 - 1)
        };
        self.memo.insert(key, r);
        Ok(r)
    }
}

/// Compiles `event` into a decision diagram of at most `limit` nodes.
pub fn compile(event: &Event, limit: usize) -> Result<Diagram, TooLarge> {
    event.black_box()?;
    let order = order(event);
    let n = order.len();
    let mut level_of = vec![0; n];
    for (l, &v) in order.iter().enumerate() {
        level_of[v] = l;
    }
    let mut atoms_of = vec![Vec::new(); n];
    let mut reach = Vec::with_capacity(event.atoms.len());
    let mut start = Vec::with_capacity(event.atoms.len());
    let mut tables = Vec::with_capacity(event.atoms.len());
    for (a, atom) in event.atoms.iter().enumerate() {
        for v in atom.vars() {
            atoms_of[v].push(a);
        }
        match atom {
            Atom::Sum { terms, cmp, rhs } => {
                let mut levels = reach_per_level(terms, &level_of, n);
                start.push(anchor(&mut levels, *cmp, rhs));
                reach.push(levels);
                tables.push(None);
            }
            Atom::Table { vars, allowed } => {
                let mut by_level = vars.clone();
                by_level.sort_by_key(|v| level_of[*v]);
                let mut len = vec![1; vars.len() + 1];
                for d in (0..vars.len()).rev() {
                    len[d] = len[d + 1] * event.domains[by_level[d]];
                }
                // Entry i of the reordered table: its digits in compilation order give each
                // variable's value; the original table reads them in `vars` order.
                let permuted = (0..len[0])
                    .map(|i| {
                        let value_of = |v: usize| {
                            let d = by_level.iter().position(|&w| w == v).expect("a variable of the table");
                            i / len[d + 1] % event.domains[v]
                        };
                        allowed[event.table_index(vars, value_of)]
                    })
                    .collect();
                tables.push(Some(Table { allowed: permuted, len }));
                start.push(None);
                reach.push(Vec::new());
            }
            Atom::Path { .. } => unreachable!("refused above"),
        }
    }
    let mut c = Compiler {
        event,
        order,
        reach,
        start,
        tables,
        residuals: Vec::new(),
        interned: HashMap::new(),
        atoms_of,
        memo: HashMap::new(),
        remembered: 0,
        nodes: Vec::new(),
        edges: Vec::new(),
        limit,
    };
    let initial = c.initial();
    let root = c.visit(0, initial)?;
    Ok(Diagram { order: c.order, domains: event.domains.clone(), nodes: c.nodes, edges: c.edges, root })
}

/// `log(exp(a) + exp(b))` without overflow.
fn log_add(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    if lo == f64::NEG_INFINITY {
        hi
    } else {
        hi + (lo - hi).exp().ln_1p()
    }
}

impl Diagram {
    pub fn size(&self) -> usize {
        self.nodes.len()
    }

    fn level(&self, r: Ref) -> usize {
        match r {
            Ref::Node(i) => self.nodes[i as usize].level as usize,
            _ => self.order.len(),
        }
    }

    fn children(&self, i: usize) -> (usize, &[Ref]) {
        let node = &self.nodes[i];
        let var = self.order[node.level as usize];
        let first = node.first as usize;
        (var, &self.edges[first..first + self.domains[var]])
    }

    /// `log P(child)` for every node, given each variable's log-probabilities (normalised).
    fn inside(&self, logw: &[Vec<f64>]) -> Vec<f64> {
        let mut inside = vec![0.0; self.nodes.len()];
        for i in 0..self.nodes.len() {
            let (var, children) = self.children(i);
            let mut acc = f64::NEG_INFINITY;
            for (value, &c) in children.iter().enumerate() {
                acc = log_add(acc, logw[var][value] + value_of(&inside, c));
            }
            inside[i] = acc;
        }
        inside
    }

    /// `log P(event)`; `logw[v][value]` are each variable's log-probabilities.
    pub fn log_prob(&self, logw: &[Vec<f64>]) -> f64 {
        value_of(&self.inside(logw), self.root)
    }

    /// `log P(event)` and the posterior marginals; `None` when the event has probability 0.
    pub fn posterior(&self, logw: &[Vec<f64>]) -> Option<Posterior> {
        let inside = self.inside(logw);
        let log_prob = value_of(&inside, self.root);
        if log_prob == f64::NEG_INFINITY {
            return None;
        }
        let levels = self.order.len();
        let mut marginals: Vec<Vec<f64>> = self.domains.iter().map(|&d| vec![0.0; d]).collect();
        // Mass on paths that skip a level: those variables keep their prior there.
        let mut skipped = vec![0.0; levels + 1];
        skipped[0] += 1.0;
        skipped[self.level(self.root)] -= 1.0;
        let mut outside = vec![f64::NEG_INFINITY; self.nodes.len()];
        if let Ref::Node(r) = self.root {
            outside[r as usize] = 0.0;
        }
        for i in (0..self.nodes.len()).rev() {
            if outside[i] == f64::NEG_INFINITY {
                continue;
            }
            let (var, children) = self.children(i);
            for (value, &c) in children.iter().enumerate() {
                let into = outside[i] + logw[var][value];
                let mass = (into + value_of(&inside, c) - log_prob).exp();
                if mass == 0.0 {
                    continue;
                }
                marginals[var][value] += mass;
                skipped[self.nodes[i].level as usize + 1] += mass;
                skipped[self.level(c)] -= mass;
                if let Ref::Node(j) = c {
                    outside[j as usize] = log_add(outside[j as usize], into);
                }
            }
        }
        let mut running = 0.0;
        for (level, &var) in self.order.iter().enumerate() {
            running += skipped[level];
            if running > 0.0 {
                for (m, lw) in marginals[var].iter_mut().zip(&logw[var]) {
                    *m += running * lw.exp();
                }
            }
        }
        Some(Posterior { log_prob, marginals, convergence: None })
    }

    /// The most probable assignment satisfying the event, with its log-probability; `None`
    /// when nothing satisfies it.
    pub fn map(&self, logw: &[Vec<f64>]) -> Option<(Vec<usize>, f64)> {
        // Prefix sums of each level's best log-probability, for the levels a path skips.
        let mut prefix = vec![0.0; self.order.len() + 1];
        for (l, &var) in self.order.iter().enumerate() {
            prefix[l + 1] = prefix[l] + logw[var][argmax(&logw[var])];
        }
        let edge = |best: &[f64], from: usize, c: Ref, w: f64| {
            w + prefix[self.level(c)] - prefix[from + 1] + value_of(best, c)
        };
        let mut best = vec![0.0; self.nodes.len()];
        let mut choice = vec![0usize; self.nodes.len()];
        for i in 0..self.nodes.len() {
            let (var, children) = self.children(i);
            let level = self.nodes[i].level as usize;
            let (mut b, mut k) = (f64::NEG_INFINITY, 0);
            for (value, &c) in children.iter().enumerate() {
                let score = edge(&best, level, c, logw[var][value]);
                if score > b {
                    (b, k) = (score, value);
                }
            }
            best[i] = b;
            choice[i] = k;
        }
        let score = prefix[self.level(self.root)] + value_of(&best, self.root);
        if score == f64::NEG_INFINITY {
            return None;
        }
        let mut z: Vec<usize> = logw.iter().map(|w| argmax(w)).collect();
        let mut at = self.root;
        while let Ref::Node(i) = at {
            let (var, children) = self.children(i as usize);
            let k = choice[i as usize];
            z[var] = k;
            at = children[k];
        }
        Some((z, score))
    }
}

/// The most probable value (the first of equals).
pub fn argmax(w: &[f64]) -> usize {
    w.iter().enumerate().fold((0, f64::NEG_INFINITY), |best, (i, &x)| if x > best.1 { (i, x) } else { best }).0
}

fn value_of(values: &[f64], r: Ref) -> f64 {
    match r {
        Ref::False => f64::NEG_INFINITY,
        Ref::True => 0.0,
        Ref::Node(i) => values[i as usize],
    }
}
