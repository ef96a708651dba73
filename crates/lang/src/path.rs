//! The cheapest path across a square grid of vertex costs, as Warcraft shortest path defines it
//! (Vlastelica et al. 2020): from the top-left cell to the bottom-right one, moving to any of the
//! 8 neighbours, paying each cell's cost on the path (the first included). The one Dijkstra behind
//! `shortest_path(costs)` (on observed costs and on the sampler's draws) and the Warcraft maps'
//! labels.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The side of the square grid `cells` costs make, if they make one.
pub fn side(cells: usize) -> Option<usize> {
    let s = (cells as f64).sqrt().round() as usize;
    (s * s == cells && s > 0).then_some(s)
}

/// The cells on the cheapest path, row-major, for non-negative `costs` on a square grid. Ties go
/// to the path found first (neighbours are tried row by row), so the answer is deterministic.
// Inline: compiled in the crates that call it (the sampler, the generator), at their optimisation
// level, since the front end stays unoptimised in debug builds and this runs once per sample.
#[inline]
pub fn shortest(costs: &[i64], side: usize) -> Vec<bool> {
    let n = side * side;
    debug_assert_eq!(costs.len(), n);
    let mut dist = vec![i64::MAX; n];
    let mut prev = vec![usize::MAX; n];
    let mut done = vec![false; n];
    let mut heap = BinaryHeap::with_capacity(n);
    dist[0] = costs[0];
    heap.push(Reverse((costs[0], 0usize)));
    while let Some(Reverse((d, u))) = heap.pop() {
        if done[u] {
            continue;
        }
        done[u] = true;
        if u == n - 1 {
            break;
        }
        let (r, c) = (u / side, u % side);
        for dr in -1i64..=1 {
            for dc in -1i64..=1 {
                let (nr, nc) = (r as i64 + dr, c as i64 + dc);
                if (dr, dc) == (0, 0) || nr < 0 || nc < 0 || nr >= side as i64 || nc >= side as i64 {
                    continue;
                }
                let v = nr as usize * side + nc as usize;
                let through = d.saturating_add(costs[v]);
                if !done[v] && through < dist[v] {
                    dist[v] = through;
                    prev[v] = u;
                    heap.push(Reverse((through, v)));
                }
            }
        }
    }
    let mut on = vec![false; n];
    let mut at = n - 1;
    on[at] = true;
    while at != 0 {
        at = prev[at];
        on[at] = true;
    }
    on
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn cost(path: &[bool], costs: &[i64]) -> i64 {
        path.iter().zip(costs).filter(|(on, _)| **on).map(|(_, c)| c).sum()
    }

    /// The cheapest path's cost by Bellman–Ford relaxation over the same moves.
    fn brute_force(costs: &[i64], side: usize) -> i64 {
        let n = side * side;
        let mut dist = vec![i64::MAX / 2; n];
        dist[0] = costs[0];
        for _ in 0..n {
            for u in 0..n {
                let (r, c) = ((u / side) as i64, (u % side) as i64);
                for v in 0..n {
                    let (vr, vc) = ((v / side) as i64, (v % side) as i64);
                    if u != v && (vr - r).abs() <= 1 && (vc - c).abs() <= 1 {
                        dist[v] = dist[v].min(dist[u] + costs[v]);
                    }
                }
            }
        }
        dist[n - 1]
    }

    fn connected(path: &[bool], side: usize) -> bool {
        // A walk from the start along the path's cells reaches the end.
        let mut seen = vec![false; path.len()];
        let mut stack = vec![0];
        while let Some(u) = stack.pop() {
            if seen[u] || !path[u] {
                continue;
            }
            seen[u] = true;
            let (r, c) = ((u / side) as i64, (u % side) as i64);
            for v in 0..path.len() {
                let (vr, vc) = ((v / side) as i64, (v % side) as i64);
                if (vr - r).abs() <= 1 && (vc - c).abs() <= 1 {
                    stack.push(v);
                }
            }
        }
        seen[path.len() - 1]
    }

    #[test]
    fn dijkstra_finds_a_cheapest_connected_path() {
        let mut rng = Rng::new(7);
        let palette = [8, 12, 53, 77, 92];
        for trial in 0..300 {
            let side = 1 + trial % 8;
            let costs: Vec<i64> = (0..side * side).map(|_| palette[rng.below(5)]).collect();
            let path = shortest(&costs, side);
            assert!(path[0] && path[side * side - 1]);
            assert!(connected(&path, side), "{costs:?}");
            assert_eq!(cost(&path, &costs), brute_force(&costs, side), "{costs:?}");
        }
    }

    #[test]
    fn a_cheap_detour_is_taken_and_the_diagonal_otherwise() {
        // 3×3: the centre is a wall, the rim cheap.
        let path = shortest(&[1, 1, 1, 1, 100, 1, 1, 1, 1], 3);
        assert!(!path[4]);
        assert_eq!(path.iter().filter(|&&b| b).count(), 4);
        let flat = shortest(&[1; 16], 4);
        assert_eq!(flat, (0..16).map(|i| i % 5 == 0).collect::<Vec<_>>());
        assert_eq!(side(144), Some(12));
        assert_eq!(side(143), None);
    }
}
