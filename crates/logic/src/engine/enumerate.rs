//! Inference by enumerating every assignment (`inference: enumerate`): the reference the other
//! engines are tested against, and a real choice for events over a handful of variables. The
//! satisfying assignments are listed once, when the event is prepared; each query then sums over
//! them.

use super::{Engine, Inference, Posterior, TooLarge};
use crate::event::Event;
use num_bigint::BigUint;

pub use skilang_lang::limits::ENUMERATION_LIMIT;

/// Enumerates events of at most `limit` assignments.
pub struct Enumerate {
    pub limit: usize,
}

impl Engine for Enumerate {
    fn name(&self) -> &'static str {
        "enumerate"
    }

    fn prepare(&self, event: &Event) -> Result<Box<dyn Inference>, TooLarge> {
        let assignments: BigUint = event.domains.iter().map(|&d| BigUint::from(d)).product();
        if assignments > BigUint::from(self.limit) {
            return Err(TooLarge::Assignments { assignments, variables: event.domains.len(), limit: self.limit });
        }
        let width = event.domains.len();
        let (mut satisfying, mut count) = (Vec::new(), 0);
        let mut z = vec![0; width];
        for _ in 0..usize::try_from(assignments).unwrap_or(0) {
            if event.holds(&z) {
                satisfying.extend(z.iter().map(|&x| x as u32));
                count += 1;
            }
            // The next assignment in lexicographic order: the last variable varies fastest.
            for v in (0..width).rev() {
                z[v] += 1;
                if z[v] < event.domains[v] {
                    break;
                }
                z[v] = 0;
            }
        }
        Ok(Box::new(Satisfying { domains: event.domains.clone(), satisfying, count }))
    }
}

/// The satisfying assignments of an event, in lexicographic order, one after another.
#[derive(Debug)]
pub struct Satisfying {
    domains: Vec<usize>,
    satisfying: Vec<u32>,
    /// How many (an event over no variable holds of the empty assignment, or of none).
    count: usize,
}

impl Satisfying {
    fn assignments(&self) -> impl Iterator<Item = &[u32]> {
        let width = self.domains.len();
        (0..self.count).map(move |i| &self.satisfying[i * width..(i + 1) * width])
    }

    fn scores<'a>(&'a self, logw: &'a [Vec<f64>]) -> impl Iterator<Item = (&'a [u32], f64)> + 'a {
        self.assignments().map(move |z| (z, z.iter().enumerate().map(|(v, &x)| logw[v][x as usize]).sum()))
    }

    /// The largest score, which shifts the others before `exp`; `None` when no assignment has
    /// positive probability.
    fn shift(&self, logw: &[Vec<f64>]) -> Option<f64> {
        let max = self.scores(logw).map(|(_, s)| s).fold(f64::NEG_INFINITY, f64::max);
        (max > f64::NEG_INFINITY).then_some(max)
    }
}

impl Inference for Satisfying {
    fn log_prob(&self, logw: &[Vec<f64>]) -> f64 {
        match self.shift(logw) {
            Some(m) => m + self.scores(logw).map(|(_, s)| (s - m).exp()).sum::<f64>().ln(),
            None => f64::NEG_INFINITY,
        }
    }

    fn posterior(&self, logw: &[Vec<f64>]) -> Option<Posterior> {
        let m = self.shift(logw)?;
        let mut total = 0.0;
        let mut marginals: Vec<Vec<f64>> = self.domains.iter().map(|&d| vec![0.0; d]).collect();
        for (z, s) in self.scores(logw) {
            let p = (s - m).exp();
            total += p;
            for (v, &x) in z.iter().enumerate() {
                marginals[v][x as usize] += p;
            }
        }
        marginals.iter_mut().flatten().for_each(|x| *x /= total);
        Some(Posterior { log_prob: m + total.ln(), marginals, convergence: None })
    }

    fn map(&self, logw: &[Vec<f64>]) -> Option<(Vec<usize>, f64)> {
        let (z, s) = self.scores(logw).fold(None, |best: Option<(&[u32], f64)>, (z, s)| match best {
            Some((_, b)) if b >= s => best,
            _ => Some((z, s)),
        })?;
        (s > f64::NEG_INFINITY).then(|| (z.iter().map(|&x| x as usize).collect(), s))
    }

    fn size(&self) -> usize {
        self.count
    }
}
