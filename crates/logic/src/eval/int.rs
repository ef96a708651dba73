//! Observed integers: a machine word while the value fits one, arbitrary precision beyond (the
//! sum of two 100-digit numbers is an ordinary value). Nearly every integer a formula meets is
//! small, and a small one costs no allocation: grounding a million examples creates tens of
//! millions of them.

use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{Signed, ToPrimitive, Zero};
use skilang_lang::formula::BinOp;
use std::cmp::Ordering;

/// An integer; `Big` only holds values outside `i64`, so equal values have equal forms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Int {
    Small(i64),
    Big(BigInt),
}

impl Int {
    pub(crate) fn zero() -> Int {
        Int::Small(0)
    }

    pub(crate) fn to_big(&self) -> BigInt {
        match self {
            Int::Small(x) => BigInt::from(*x),
            Int::Big(x) => x.clone(),
        }
    }

    pub fn to_i64(&self) -> Option<i64> {
        match self {
            Int::Small(x) => Some(*x),
            Int::Big(_) => None,
        }
    }

    pub(crate) fn to_usize(&self) -> Option<usize> {
        self.to_i64().and_then(|x| usize::try_from(x).ok())
    }

    pub fn to_f64(&self) -> Option<f64> {
        match self {
            Int::Small(x) => Some(*x as f64),
            Int::Big(x) => x.to_f64(),
        }
    }

    pub(crate) fn abs(&self) -> Int {
        match self {
            Int::Small(x) => x.checked_abs().map_or_else(|| Int::from(BigInt::from(*x).abs()), Int::Small),
            Int::Big(x) => Int::from(x.abs()),
        }
    }

    /// Python's integer arithmetic (floor division and modulo round towards negative infinity);
    /// `None` for a division by zero or a power too large to compute.
    pub(crate) fn op(op: BinOp, a: &Int, b: &Int) -> Option<Int> {
        if let (Int::Small(x), Int::Small(y)) = (a, b) {
            let small = match op {
                BinOp::Add => x.checked_add(*y),
                BinOp::Sub => x.checked_sub(*y),
                BinOp::Mul => x.checked_mul(*y),
                BinOp::FloorDiv | BinOp::Mod if *y == 0 => return None,
                // i64::MIN // -1 overflows: left to the big numbers below.
                BinOp::FloorDiv if !(*x == i64::MIN && *y == -1) => Some(x.div_floor(y)),
                BinOp::Mod if *y != -1 => Some(x.mod_floor(y)),
                BinOp::Pow => u32::try_from(*y).ok().and_then(|e| x.checked_pow(e)),
                _ => None,
            };
            if let Some(v) = small {
                return Some(Int::Small(v));
            }
        }
        big_op(op, &a.to_big(), &b.to_big()).map(Int::from)
    }
}

/// [`Int::op`] on arbitrary precision.
pub(crate) fn big_op(op: BinOp, a: &BigInt, b: &BigInt) -> Option<BigInt> {
    Some(match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::FloorDiv if !b.is_zero() => a.div_floor(b),
        BinOp::Mod if !b.is_zero() => a.mod_floor(b),
        // Results beyond a million bits are refused rather than computed.
        BinOp::Pow => {
            let e = b.to_usize().filter(|&e| e <= 100_000 && (a.bits() as u128) * (e as u128) <= 1 << 20)?;
            num_traits::pow(a.clone(), e)
        }
        _ => return None,
    })
}

impl From<BigInt> for Int {
    fn from(x: BigInt) -> Int {
        match x.to_i64() {
            Some(small) => Int::Small(small),
            None => Int::Big(x),
        }
    }
}

impl From<i64> for Int {
    fn from(x: i64) -> Int {
        Int::Small(x)
    }
}

impl From<usize> for Int {
    fn from(x: usize) -> Int {
        i64::try_from(x).map_or_else(|_| Int::Big(BigInt::from(x)), Int::Small)
    }
}

impl Ord for Int {
    fn cmp(&self, other: &Int) -> Ordering {
        match (self, other) {
            (Int::Small(a), Int::Small(b)) => a.cmp(b),
            (a, b) => a.to_big().cmp(&b.to_big()),
        }
    }
}

impl PartialOrd for Int {
    fn partial_cmp(&self, other: &Int) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for Int {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Int::Small(x) => write!(f, "{x}"),
            Int::Big(x) => write!(f, "{x}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The machine-word fast path agrees with arbitrary precision, at and around the edges of
    /// `i64`, for every operation.
    #[test]
    fn small_arithmetic_equals_big_arithmetic() {
        let edges = [i64::MIN, i64::MIN + 1, -7, -2, -1, 0, 1, 2, 3, 7, 62, 63, 64, i64::MAX - 1, i64::MAX];
        let ops = [BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::FloorDiv, BinOp::Mod, BinOp::Pow];
        for &a in &edges {
            for &b in &edges {
                for op in ops {
                    let (x, y) = (Int::from(a), Int::from(b));
                    let expected = big_op(op, &BigInt::from(a), &BigInt::from(b)).map(Int::from);
                    assert_eq!(Int::op(op, &x, &y), expected, "{a} {op:?} {b}");
                }
                assert_eq!(Int::from(a).cmp(&Int::from(b)), a.cmp(&b));
            }
            assert_eq!(Int::from(a).abs(), Int::from(BigInt::from(a).abs()));
        }
        let huge = Int::from(BigInt::from(i64::MAX) * 4);
        assert!(matches!(huge, Int::Big(_)) && huge > Int::from(i64::MAX) && Int::from(i64::MIN) < huge);
    }
}
