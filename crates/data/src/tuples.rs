//! Examples made of several instances (`instances: [x1, x2]`): each example is a tuple of distinct
//! rows, drawn with the seed.

use crate::rng::Rng;

/// `count` tuples of `size` distinct rows out of `rows`. By default (`count` None) a random
/// permutation is cut into disjoint tuples, so that no row is used twice; asking for more tuples
/// than that draws further permutations.
pub fn draw(rows: usize, size: usize, count: Option<usize>, seed: u64) -> Vec<Vec<usize>> {
    if size == 0 || rows < size {
        return Vec::new();
    }
    let mut rng = Rng::new(seed ^ 0x0070_01E5);
    let wanted = count.unwrap_or(rows / size);
    let mut out = Vec::with_capacity(wanted);
    while out.len() < wanted {
        let order = rng.permutation(rows);
        out.extend(order.chunks_exact(size).take(wanted - out.len()).map(<[usize]>::to_vec));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disjoint_by_default_distinct_always_seeded() {
        let t = draw(100, 3, None, 1);
        assert_eq!(t.len(), 33);
        let mut used: Vec<usize> = t.iter().flatten().copied().collect();
        used.sort();
        used.dedup();
        assert_eq!(used.len(), 99, "no row is used twice");
        let more = draw(10, 4, Some(7), 1);
        assert_eq!(more.len(), 7);
        assert!(more.iter().all(|x| {
            let mut y = x.clone();
            y.sort();
            y.dedup();
            y.len() == 4
        }));
        assert_eq!(draw(100, 3, None, 1), t);
        assert_ne!(draw(100, 3, None, 2), t);
        assert!(draw(2, 3, None, 1).is_empty());
    }
}
