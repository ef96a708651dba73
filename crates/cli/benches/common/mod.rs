//! What the sweeping benchmarks share: lists from the environment and spreads over seeds.

/// A comma-separated list from the environment variable `var`, if set.
pub fn list<T: std::str::FromStr>(var: &str) -> Option<Vec<T>> {
    std::env::var(var).ok().map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
}

/// Mean and half the range.
pub fn stats(xs: &[f64]) -> (f64, f64) {
    let mean = xs.iter().sum::<f64>() / xs.len().max(1) as f64;
    let lo = xs.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = xs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    (mean, (hi - lo) / 2.0)
}

/// `mean ± half the range`, to four places.
pub fn cell(xs: Vec<f64>) -> String {
    let (m, s) = stats(&xs);
    format!("{m:.4} ± {s:.4}")
}
