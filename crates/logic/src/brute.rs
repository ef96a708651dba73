//! Inference by enumerating every assignment: the reference the engines are tested against, and
//! good enough for events over a handful of variables.

use crate::compile::Posterior;
use crate::event::Event;

/// Every complete assignment of `domains`, in lexicographic order.
fn assignments(domains: &[usize]) -> impl Iterator<Item = Vec<usize>> + '_ {
    let total: usize = domains.iter().product();
    (0..total).map(move |mut k| {
        let mut z = vec![0; domains.len()];
        for (v, &d) in domains.iter().enumerate().rev() {
            z[v] = k % d;
            k /= d;
        }
        z
    })
}

fn log_weight(z: &[usize], logw: &[Vec<f64>]) -> f64 {
    z.iter().enumerate().map(|(v, &x)| logw[v][x]).sum()
}

/// `log P(event)` and the posterior marginals by enumeration; `None` when P = 0.
pub fn posterior(event: &Event, logw: &[Vec<f64>]) -> Option<Posterior> {
    let mut total = 0.0;
    let mut marginals: Vec<Vec<f64>> = event.domains.iter().map(|&d| vec![0.0; d]).collect();
    for z in assignments(&event.domains).filter(|z| event.holds(z)) {
        let p = log_weight(&z, logw).exp();
        total += p;
        for (v, &x) in z.iter().enumerate() {
            marginals[v][x] += p;
        }
    }
    if total == 0.0 {
        return None;
    }
    marginals.iter_mut().flatten().for_each(|m| *m /= total);
    Some(Posterior { log_prob: total.ln(), marginals })
}

/// The most probable satisfying assignment and its log-probability, by enumeration.
pub fn map(event: &Event, logw: &[Vec<f64>]) -> Option<(Vec<usize>, f64)> {
    assignments(&event.domains)
        .filter(|z| event.holds(z))
        .map(|z| {
            let s = log_weight(&z, logw);
            (z, s)
        })
        .fold(None, |best: Option<(Vec<usize>, f64)>, (z, s)| match best {
            Some((_, b)) if b >= s => best,
            _ => Some((z, s)),
        })
}
