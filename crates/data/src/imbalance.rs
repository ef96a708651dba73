//! Long-tailed subsets of a split (`imbalance:`, ALGORITHMS.md §4), as the imbalance paper's code
//! makes them (`get_img_num_per_cls`): class c of C keeps ⌊n_max·ρ^(−e_c)⌋ of its rows, drawn
//! with the seed, with n_max = rows / C and e_c = c/(C−1) (`exp`) or (C−c)/(C−1) (`expr`).

use crate::rng::Rng;
use skilang_lang::spec::{Imbalance, TailProfile};

/// How many rows each of `classes` classes keeps out of `rows` (before capping at what it has).
pub fn class_sizes(imbalance: &Imbalance, classes: usize, rows: usize) -> Vec<usize> {
    let n_max = rows as f64 / classes as f64;
    let last = (classes.max(2) - 1) as f64;
    (0..classes)
        .map(|c| {
            let exponent = match imbalance.profile {
                TailProfile::Exp => c as f64 / last,
                TailProfile::Expr => (classes - c) as f64 / last,
            };
            (n_max * imbalance.ratio.powf(-exponent)) as usize
        })
        .collect()
}

/// The rows of `labels` (classes below `classes`) a long-tailed subset keeps, in order.
pub fn keep(labels: &[u32], classes: usize, imbalance: &Imbalance, seed: u64) -> Vec<usize> {
    let sizes = class_sizes(imbalance, classes, labels.len());
    let mut taken = vec![0usize; classes];
    let mut kept: Vec<usize> = Rng::new(seed)
        .permutation(labels.len())
        .into_iter()
        .filter(|&row| {
            let c = labels[row] as usize;
            let keep = c < classes && taken[c] < sizes[c];
            taken[c] += keep as usize;
            keep
        })
        .collect();
    kept.sort_unstable();
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(profile: TailProfile, ratio: f64) -> Imbalance {
        Imbalance { profile, ratio, test: false }
    }

    #[test]
    fn sizes_follow_the_published_profiles() {
        // 60,000 rows of 10 classes, ρ = 100: n_max 6,000, the rarest class ρ times smaller.
        let exp = class_sizes(&profile(TailProfile::Exp, 100.0), 10, 60_000);
        assert_eq!(exp[0], 6000);
        assert_eq!(exp[9], 60);
        assert!(exp.windows(2).all(|w| w[0] > w[1]));
        let expr = class_sizes(&profile(TailProfile::Expr, 100.0), 10, 60_000);
        // (C − c)/(C − 1): class 0 at 6000·100^(−10/9), class 9 at 6000·100^(−1/9).
        assert_eq!(expr[0], (6000.0 * 100f64.powf(-10.0 / 9.0)) as usize);
        assert_eq!(expr[9], (6000.0 * 100f64.powf(-1.0 / 9.0)) as usize);
        assert!(expr.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(class_sizes(&profile(TailProfile::Exp, 1.0), 10, 60_000), vec![6000; 10]);
    }

    #[test]
    fn keeps_each_class_its_size_or_all_it_has_seeded() {
        let labels: Vec<u32> = (0..3000).map(|i| (i % 3) as u32).chain([0; 500]).collect();
        let imbalance = profile(TailProfile::Exp, 4.0);
        let kept = keep(&labels, 3, &imbalance, 7);
        let count = |c: u32| kept.iter().filter(|&&r| labels[r] == c).count();
        // n_max = 3500 / 3 = 1166.7: sizes 1166, 583, 291.
        assert_eq!((count(0), count(1), count(2)), (1166, 583, 291));
        assert!(kept.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(keep(&labels, 3, &imbalance, 7), kept);
        assert_ne!(keep(&labels, 3, &imbalance, 8), kept);
        // A class with fewer rows than its size keeps them all.
        let few: Vec<u32> = vec![0; 100].into_iter().chain(vec![1; 5]).collect();
        let kept = keep(&few, 2, &profile(TailProfile::Expr, 2.0), 1);
        assert_eq!(kept.iter().filter(|&&r| few[r] == 1).count(), 5);
    }
}
