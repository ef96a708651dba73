//! Reverse-mode differentiation of scalar programs, for code written once over [`Real`]: run on
//! `f64` it computes values, run on [`Var`] it also records each operation on a [`Tape`], from
//! which [`Tape::gradient`] reads the derivatives of one output in every input. Belief
//! propagation's unrolled gradient (BP-std) is the client; the logic crate stays free of ML
//! dependencies, and its messages are too irregular (permanents, chains of partial sums) for
//! tensors.

use std::cell::RefCell;
use std::ops::{Add, Div, Mul, Sub};

/// The numbers a differentiable program is written over.
pub trait Real: Copy + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + Div<Output = Self> {
    /// A number that does not depend on the inputs.
    fn constant(x: f64) -> Self;
    fn value(self) -> f64;
    fn ln(self) -> Self;
    /// The larger of the two; its derivative follows the one chosen.
    fn max(self, other: Self) -> Self;
}

impl Real for f64 {
    fn constant(x: f64) -> Self {
        x
    }
    fn value(self) -> f64 {
        self
    }
    fn ln(self) -> Self {
        f64::ln(self)
    }
    fn max(self, other: Self) -> Self {
        f64::max(self, other)
    }
}

/// Marks a constant: it has no node on the tape.
const CONSTANT: u32 = u32::MAX;

/// One recorded operation: its (up to two) operands and its derivative in each.
#[derive(Clone, Copy)]
struct Node {
    operands: [u32; 2],
    partials: [f64; 2],
}

/// The operations of one run, in order.
#[derive(Default)]
pub struct Tape {
    nodes: RefCell<Vec<Node>>,
}

/// A number computed on a tape (or a constant).
#[derive(Clone, Copy)]
pub struct Var<'t> {
    value: f64,
    node: u32,
    tape: Option<&'t Tape>,
}

impl Tape {
    /// An input: a variable the gradient is taken in.
    pub fn input(&self, value: f64) -> Var<'_> {
        self.push(value, [CONSTANT; 2], [0.0; 2])
    }

    fn push(&self, value: f64, operands: [u32; 2], partials: [f64; 2]) -> Var<'_> {
        let mut nodes = self.nodes.borrow_mut();
        nodes.push(Node { operands, partials });
        Var { value, node: (nodes.len() - 1) as u32, tape: Some(self) }
    }

    /// The derivatives of `Σ seed · output` in every node, by one pass backwards; read an input's
    /// with [`Var::of`].
    pub fn gradient<'t>(&'t self, seeds: impl IntoIterator<Item = (Var<'t>, f64)>) -> Adjoints {
        let nodes = self.nodes.borrow();
        let mut adjoint = vec![0.0; nodes.len()];
        for (v, s) in seeds {
            if v.node != CONSTANT {
                adjoint[v.node as usize] += s;
            }
        }
        for (i, node) in nodes.iter().enumerate().rev() {
            let a = adjoint[i];
            if a == 0.0 {
                continue;
            }
            for (&o, &p) in node.operands.iter().zip(&node.partials) {
                if o != CONSTANT {
                    adjoint[o as usize] += a * p;
                }
            }
        }
        Adjoints(adjoint)
    }
}

/// Derivatives per node of a tape.
pub struct Adjoints(Vec<f64>);

impl Var<'_> {
    pub fn value(self) -> f64 {
        self.value
    }

    /// This variable's derivative in `g` (0 for a constant).
    pub fn of(self, g: &Adjoints) -> f64 {
        if self.node == CONSTANT {
            0.0
        } else {
            g.0[self.node as usize]
        }
    }
}

impl<'t> Var<'t> {
    /// `value` as a function of `self` and `other`, with the derivative in each.
    fn binary(self, other: Self, value: f64, partials: [f64; 2]) -> Self {
        match self.tape.or(other.tape) {
            None => Var { value, node: CONSTANT, tape: None },
            Some(tape) => tape.push(value, [self.node, other.node], partials),
        }
    }

    fn unary(self, value: f64, partial: f64) -> Self {
        match self.tape {
            None => Var { value, node: CONSTANT, tape: None },
            Some(tape) => tape.push(value, [self.node, CONSTANT], [partial, 0.0]),
        }
    }
}

impl Add for Var<'_> {
    type Output = Self;
    fn add(self, o: Self) -> Self {
        self.binary(o, self.value + o.value, [1.0, 1.0])
    }
}

impl Sub for Var<'_> {
    type Output = Self;
    fn sub(self, o: Self) -> Self {
        self.binary(o, self.value - o.value, [1.0, -1.0])
    }
}

impl Mul for Var<'_> {
    type Output = Self;
    fn mul(self, o: Self) -> Self {
        self.binary(o, self.value * o.value, [o.value, self.value])
    }
}

impl Div for Var<'_> {
    type Output = Self;
    fn div(self, o: Self) -> Self {
        let q = self.value / o.value;
        self.binary(o, q, [1.0 / o.value, -q / o.value])
    }
}

impl Real for Var<'_> {
    fn constant(x: f64) -> Self {
        Var { value: x, node: CONSTANT, tape: None }
    }
    fn value(self) -> f64 {
        self.value
    }
    fn ln(self) -> Self {
        self.unary(self.value.ln(), 1.0 / self.value)
    }
    fn max(self, other: Self) -> Self {
        if self.value >= other.value {
            self
        } else {
            other
        }
    }
}

/// The product of a non-empty run of numbers (1 for none), without a multiplication by 1.
pub fn product<T: Real>(mut xs: impl Iterator<Item = T>) -> T {
    let first = xs.next().unwrap_or(T::constant(1.0));
    xs.fold(first, |a, b| a * b)
}

/// Their sum (0 for none), without an addition of 0.
pub fn sum<T: Real>(mut xs: impl Iterator<Item = T>) -> T {
    let first = xs.next().unwrap_or(T::constant(0.0));
    xs.fold(first, |a, b| a + b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f<T: Real>(x: T, y: T) -> T {
        (x * y + x / y - T::constant(3.0) * y).ln().max(T::constant(-10.0)) * x
    }

    #[test]
    fn derivatives_match_finite_differences() {
        for &(x, y) in &[(1.5, 0.7), (2.0, 1.0), (0.3, 0.2)] {
            let tape = Tape::default();
            let (a, b) = (tape.input(x), tape.input(y));
            let out = f(a, b);
            assert!((out.value() - f(x, y)).abs() < 1e-12);
            let g = tape.gradient([(out, 1.0)]);
            let h = 1e-6;
            let dx = (f(x + h, y) - f(x - h, y)) / (2.0 * h);
            let dy = (f(x, y + h) - f(x, y - h)) / (2.0 * h);
            assert!((a.of(&g) - dx).abs() < 1e-6, "{} vs {dx}", a.of(&g));
            assert!((b.of(&g) - dy).abs() < 1e-6, "{} vs {dy}", b.of(&g));
        }
    }
}
