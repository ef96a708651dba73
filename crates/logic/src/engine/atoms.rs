//! An event's atoms made fast to evaluate many times: on complete assignments (the sampler), on
//! partial ones (the best-first search, which must know when an atom is already decided), and as
//! a distance from holding (ABC's kernel). Linear atoms use `i128` where every sum of their terms
//! fits, big integers otherwise (only the longest numbers need them).

use crate::event::{path_under, Atom, Cmp, Cost, Event};
use num_bigint::BigInt;
use num_traits::{ToPrimitive, Zero};
use std::ops::{Add, Sub};

/// Integers a linear atom can be evaluated in.
trait Int: Clone + Ord + Zero + ToPrimitive + Add<Output = Self> + Sub<Output = Self> {}
impl<T: Clone + Ord + Zero + ToPrimitive + Add<Output = T> + Sub<Output = T>> Int for T {}

/// A linear atom's terms: a variable and its value's contribution per class.
pub(super) type Terms<T> = Vec<(usize, Vec<T>)>;

/// `Σ terms[j][z_j] cmp rhs`, with each term's smallest and largest value.
#[derive(Debug)]
struct Linear<T> {
    terms: Vec<(usize, Vec<T>)>,
    cmp: Cmp,
    rhs: T,
    lo: Vec<T>,
    hi: Vec<T>,
}

impl<T: Int> Linear<T> {
    fn new(terms: Vec<(usize, Vec<T>)>, cmp: Cmp, rhs: T) -> Linear<T> {
        let lo = terms.iter().map(|(_, t)| t.iter().min().cloned().unwrap_or_else(T::zero)).collect();
        let hi = terms.iter().map(|(_, t)| t.iter().max().cloned().unwrap_or_else(T::zero)).collect();
        Linear { terms, cmp, rhs, lo, hi }
    }

    /// The sum's range given the values known so far (`None`: not assigned yet).
    fn range(&self, value: &impl Fn(usize) -> Option<usize>) -> (T, T) {
        let (mut lo, mut hi) = (T::zero(), T::zero());
        for (j, (v, table)) in self.terms.iter().enumerate() {
            match value(*v) {
                Some(x) => {
                    lo = lo + table[x].clone();
                    hi = hi + table[x].clone();
                }
                None => {
                    lo = lo + self.lo[j].clone();
                    hi = hi + self.hi[j].clone();
                }
            }
        }
        (lo, hi)
    }

    fn decide(&self, value: &impl Fn(usize) -> Option<usize>) -> Option<bool> {
        let (lo, hi) = self.range(value);
        let r = &self.rhs;
        match self.cmp {
            Cmp::Eq | Cmp::Ne if *r < lo || *r > hi => Some(self.cmp == Cmp::Ne),
            Cmp::Eq | Cmp::Ne => (lo == hi).then_some(self.cmp == Cmp::Eq),
            Cmp::Le if hi <= *r => Some(true),
            Cmp::Le if lo > *r => Some(false),
            Cmp::Ge if lo >= *r => Some(true),
            Cmp::Ge if hi < *r => Some(false),
            Cmp::Le | Cmp::Ge => None,
        }
    }

    /// How far the complete assignment's sum is from satisfying the comparison (1 for `!=`).
    fn distance(&self, z: &[usize]) -> f64 {
        let (sum, _) = self.range(&|v| Some(z[v]));
        let gap = |a: T, b: T| if a > b { (a - b).to_f64().unwrap_or(f64::INFINITY) } else { 0.0 };
        match self.cmp {
            Cmp::Eq => gap(sum.clone(), self.rhs.clone()) + gap(self.rhs.clone(), sum),
            Cmp::Ne => (sum == self.rhs) as u8 as f64,
            Cmp::Le => gap(sum, self.rhs.clone()),
            Cmp::Ge => gap(self.rhs.clone(), sum),
        }
    }
}

#[derive(Debug)]
enum Fast {
    Small(Linear<i128>),
    Big(Linear<BigInt>),
    Table { vars: Vec<usize>, strides: Vec<usize>, allowed: Vec<bool> },
    Path { vars: Vec<usize>, costs: Vec<Cost>, on_path: Vec<bool> },
}

/// The atoms of one event, ready for repeated evaluation.
#[derive(Debug)]
pub(super) struct Atoms(Vec<Fast>);

impl Atoms {
    pub(super) fn new(event: &Event) -> Atoms {
        Atoms(event.atoms.iter().map(|a| fast(event, a)).collect())
    }

    /// Whether atom `a` holds, fails, or is still open (`None`) given the values known so far.
    pub(super) fn decide(&self, a: usize, value: &impl Fn(usize) -> Option<usize>) -> Option<bool> {
        match &self.0[a] {
            Fast::Small(l) => l.decide(value),
            Fast::Big(l) => l.decide(value),
            Fast::Table { vars, strides, allowed } => {
                let mut index = 0;
                for (v, s) in vars.iter().zip(strides) {
                    index += value(*v)? * s;
                }
                Some(allowed[index])
            }
            Fast::Path { vars, costs, on_path } => {
                let mut z = vec![0; vars.last().map_or(0, |v| v + 1)];
                for &v in vars {
                    z[v] = value(v)?;
                }
                Some(path_under(costs, &z) == *on_path)
            }
        }
    }

    /// How far a complete assignment is from satisfying atom `a`: 0 when it holds; a linear
    /// atom's gap to its bound, a path's cells off the one wanted (Hamming), otherwise 1.
    pub(super) fn distance(&self, a: usize, z: &[usize]) -> f64 {
        match &self.0[a] {
            Fast::Small(l) => l.distance(z),
            Fast::Big(l) => l.distance(z),
            Fast::Table { .. } => (self.decide(a, &|v| Some(z[v])) == Some(false)) as u8 as f64,
            Fast::Path { costs, on_path, .. } => {
                path_under(costs, z).iter().zip(on_path).filter(|(a, b)| a != b).count() as f64
            }
        }
    }
}

/// A linear atom's terms and bound in `i128`, when every partial sum of the terms' magnitudes,
/// and the bound, stay below 2^120.
pub(super) fn small(terms: &[(usize, Vec<BigInt>)], rhs: &BigInt) -> Option<(Terms<i128>, i128)> {
    let bound = BigInt::from(1) << 120;
    let magnitude: BigInt = terms
        .iter()
        .map(|(_, t)| t.iter().map(|x| if x < &BigInt::zero() { -x } else { x.clone() }).max().unwrap_or_default())
        .sum();
    if magnitude >= bound || rhs >= &bound || -rhs >= bound {
        return None;
    }
    let to = |x: &BigInt| x.to_i128().unwrap_or_default();
    Some((terms.iter().map(|(v, t)| (*v, t.iter().map(to).collect())).collect(), to(rhs)))
}

fn fast(event: &Event, atom: &Atom) -> Fast {
    match atom {
        Atom::Sum { terms, cmp, rhs } => match small(terms, rhs) {
            Some((terms, rhs)) => Fast::Small(Linear::new(terms, *cmp, rhs)),
            None => Fast::Big(Linear::new(terms.clone(), *cmp, rhs.clone())),
        },
        Atom::Table { vars, allowed } => {
            let mut strides = vec![1; vars.len()];
            for i in (0..vars.len().saturating_sub(1)).rev() {
                strides[i] = strides[i + 1] * event.domains[vars[i + 1]];
            }
            Fast::Table { vars: vars.clone(), strides, allowed: allowed.clone() }
        }
        Atom::Path { costs, on_path } => {
            Fast::Path { vars: atom.vars(), costs: costs.clone(), on_path: on_path.clone() }
        }
    }
}
