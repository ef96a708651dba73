//! Bounds on what one example may expand into, shared by the checker (which refuses constant
//! formulas beyond them before any data is read) and the grounder (which checks the rest per
//! example, before allocating).

/// The most terms (list items, comprehension elements, combinations) grounding one example may
/// create: far above any real constraint (MNIST addition with 15-digit numbers creates a few
/// hundred), far below what exhausts memory.
pub const MAX_GROUND_TERMS: usize = 1_000_000;

/// The most assignments `inference: enumerate` visits per grounded constraint (10⁵: five
/// digits). The checker refuses the engine for a spec whose constraints could exceed it.
pub const ENUMERATION_LIMIT: usize = 100_000;

/// The largest grid (cells per instance) exact reasoning is asked to compile: a 4×4 board.
pub const EXACT_GRID_CELLS: usize = 16;

/// How many integers `range(start, stop, step)` yields (`None` when `step` is 0).
pub fn range_len(start: i64, stop: i64, step: i64) -> Option<u128> {
    let (start, stop, step) = (start as i128, stop as i128, step as i128);
    match step {
        0 => None,
        s if s > 0 => Some(if stop > start { ((stop - start + s - 1) / s) as u128 } else { 0 }),
        s => Some(if start > stop { ((start - stop - s - 1) / -s) as u128 } else { 0 }),
    }
}

/// How many `k`-element combinations `n` items have, saturating far above any budget.
pub fn combinations_len(n: usize, k: usize) -> u128 {
    if k > n {
        return 0;
    }
    let k = k.min(n - k);
    let mut c: u128 = 1;
    for i in 0..k {
        c = c.saturating_mul((n - i) as u128) / (i as u128 + 1);
        if c > u64::MAX as u128 {
            return u128::MAX;
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_match_enumeration() {
        for (a, b, s) in [(0, 10, 1), (0, 10, 3), (10, 0, -3), (5, 5, 1), (5, 0, 1), (-7, 7, 2), (7, -7, -2)] {
            let mut count = 0u128;
            let mut i = a;
            while (s > 0 && i < b) || (s < 0 && i > b) {
                count += 1;
                i += s;
            }
            assert_eq!(range_len(a, b, s), Some(count), "range({a}, {b}, {s})");
        }
        assert_eq!(range_len(0, i64::MAX, 1), Some(i64::MAX as u128));
        assert_eq!(range_len(0, 1, 0), None);
        assert_eq!(combinations_len(52, 5), 2_598_960);
        assert_eq!(combinations_len(5, 7), 0);
        assert_eq!(combinations_len(1000, 500), u128::MAX);
    }
}
