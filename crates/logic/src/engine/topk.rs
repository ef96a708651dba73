//! Inference from the k most probable models (`inference: topk`, after Scallop's top-k proofs):
//! the event is approximated by the disjunction of its k most probable satisfying assignments of
//! the variables it depends on. Models are mutually exclusive, so that disjunction's probability
//! is their sum, its gradient exact; with k at least the number of models it is the event itself.
//!
//! The models are found best-first (A*): partial assignments in a fixed variable order, scored by
//! their log-probability plus the most each unassigned variable could add (an upper bound, so
//! models come out in order of probability and the first is the exact MAP). A partial assignment
//! is dropped as soon as the formula is decided false under it: a linear atom is decided once its
//! bound is out of the range the unassigned terms can still reach, which prunes multi-digit sums
//! from their leading digits, the variables searched first. The search stops after `expansions`
//! partial assignments with the models found so far (none: the example is skipped).

use super::atoms::Atoms;
use super::{complete, marginals, Engine, Inference, Posterior, TooLarge};
use crate::event::{Atom, Event, Formula};
use num_traits::{Signed, ToPrimitive};
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Partial assignments one query may expand before it answers with the models found so far.
pub const EXPANSION_LIMIT: usize = 100_000;

/// The `k` most probable models, within `expansions` steps of search.
pub struct TopK {
    pub k: usize,
    pub expansions: usize,
}

impl Engine for TopK {
    fn name(&self) -> &'static str {
        "topk"
    }

    fn prepare(&self, event: &Event) -> Result<Box<dyn Inference>, TooLarge> {
        // A best-first search must decide atoms on partial assignments; a path is known only
        // once every cost is.
        event.black_box()?;
        Ok(Box::new(Search {
            domains: event.domains.clone(),
            order: order(event),
            relevant: event.relevant(),
            formula: event.formula.clone(),
            atoms: Atoms::new(event),
            k: self.k.max(1),
            expansions: self.expansions,
        }))
    }
}

/// The relevant variables, those that move a linear atom most first (a number's leading digits):
/// they decide atoms soonest.
fn order(event: &Event) -> Vec<usize> {
    let mut spread = vec![0.0f64; event.domains.len()];
    for atom in &event.atoms {
        if let Atom::Sum { terms, .. } = atom {
            for (v, t) in terms {
                let (lo, hi) = (t.iter().min(), t.iter().max());
                let s = lo.zip(hi).map_or(0.0, |(lo, hi)| (hi - lo).abs().to_f64().unwrap_or(f64::MAX));
                spread[*v] = spread[*v].max(s);
            }
        }
    }
    let mut vars = event.relevant();
    vars.sort_by(|&a, &b| spread[b].total_cmp(&spread[a]).then(a.cmp(&b)));
    vars
}

#[derive(Debug)]
struct Search {
    domains: Vec<usize>,
    order: Vec<usize>,
    relevant: Vec<usize>,
    formula: Formula,
    atoms: Atoms,
    k: usize,
    expansions: usize,
}

/// A partial assignment: its last variable's value, and the assignment it extends.
struct Node {
    parent: usize,
    value: usize,
    depth: usize,
    score: f64,
}

/// A queued node: best bound first, deeper first among equals (so that ties dive to models).
struct Queued {
    bound: f64,
    depth: usize,
    node: usize,
}

impl Ord for Queued {
    fn cmp(&self, other: &Self) -> Ordering {
        self.bound.total_cmp(&other.bound).then(self.depth.cmp(&other.depth))
    }
}

impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Queued {}

impl Search {
    /// Up to `k` models, most probable first: assignments (over all variables, the relevant ones
    /// set) and their log-probabilities over the relevant variables.
    fn models(&self, logw: &[Vec<f64>], k: usize) -> Vec<(Vec<usize>, f64)> {
        // ahead[d]: the most the variables from depth d on can add.
        let mut ahead = vec![0.0; self.order.len() + 1];
        for d in (0..self.order.len()).rev() {
            ahead[d] = ahead[d + 1] + logw[self.order[d]].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        }
        let mut nodes = vec![Node { parent: usize::MAX, value: 0, depth: 0, score: 0.0 }];
        let mut queue = BinaryHeap::from([Queued { bound: ahead[0], depth: 0, node: 0 }]);
        let mut value: Vec<Option<usize>> = vec![None; self.domains.len()];
        let mut models = Vec::new();
        let mut expanded = 0;
        while let Some(Queued { node, .. }) = queue.pop() {
            if models.len() == k || expanded == self.expansions {
                break;
            }
            expanded += 1;
            let depth = nodes[node].depth;
            value.iter_mut().for_each(|x| *x = None);
            let mut at = node;
            while at != 0 {
                value[self.order[nodes[at].depth - 1]] = Some(nodes[at].value);
                at = nodes[at].parent;
            }
            let known = |v: usize| value[v];
            match self.formula.decide(&|a| self.atoms.decide(a, &known)) {
                Some(false) => continue,
                _ if depth == self.order.len() => {
                    let z = value.iter().map(|x| x.unwrap_or(0)).collect();
                    models.push((z, nodes[node].score));
                    continue;
                }
                _ => {}
            }
            let var = self.order[depth];
            for (x, &w) in logw[var].iter().enumerate().filter(|(_, w)| **w > f64::NEG_INFINITY) {
                let score = nodes[node].score + w;
                queue.push(Queued { bound: score + ahead[depth + 1], depth: depth + 1, node: nodes.len() });
                nodes.push(Node { parent: node, value: x, depth: depth + 1, score });
            }
        }
        models
    }
}

impl Inference for Search {
    fn log_prob(&self, logw: &[Vec<f64>]) -> f64 {
        self.posterior(logw).map_or(f64::NEG_INFINITY, |p| p.log_prob)
    }

    fn posterior(&self, logw: &[Vec<f64>]) -> Option<Posterior> {
        let models = self.models(logw, self.k);
        let best = models.first()?.1;
        let total: f64 = models.iter().map(|(_, s)| (s - best).exp()).sum();
        let weighted = models.iter().map(|(z, s)| (z.as_slice(), (s - best).exp()));
        Some(Posterior {
            log_prob: best + total.ln(),
            marginals: marginals(weighted, total, &self.relevant, logw),
            convergence: None,
        })
    }

    fn map(&self, logw: &[Vec<f64>]) -> Option<(Vec<usize>, f64)> {
        let (z, _) = self.models(logw, 1).into_iter().next()?;
        Some(complete(z, &self.relevant, logw))
    }

    fn size(&self) -> usize {
        self.k
    }

    fn proofs(&self, logw: &[Vec<f64>]) -> Option<Vec<Vec<(usize, usize)>>> {
        let models = self.models(logw, self.k);
        Some(models.into_iter().map(|(z, _)| self.relevant.iter().map(|&v| (v, z[v])).collect()).collect())
    }
}
