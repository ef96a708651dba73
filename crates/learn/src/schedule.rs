//! The learning rate over training (`optimization.schedule`), as a function of how many epochs
//! have passed, fractions included: a rate moves every batch, not only between epochs.

use skilang_lang::spec::{self, ScheduleKind};
use std::f64::consts::PI;

/// A schedule, resolved from the spec with its defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Schedule {
    /// The rate as written, after a warm-up.
    Constant { warmup: f64 },
    /// Multiplied by `gamma` every `every` epochs, after a warm-up.
    Step { warmup: f64, every: usize, gamma: f64 },
    /// Annealed along a half cosine from the rate to 0 over the epochs after the warm-up.
    Cosine { warmup: f64 },
    /// PyTorch's one cycle: a half cosine up from rate/25 to the rate over the warm-up (30% of
    /// training unless written), then down to rate/250,000.
    OneCycle { warmup: Option<f64> },
}

impl Schedule {
    pub fn from_spec(s: Option<&spec::Schedule>) -> Schedule {
        let Some(s) = s else { return Schedule::Constant { warmup: 0.0 } };
        let warmup = s.warmup.as_ref().map(|w| w.value);
        match s.kind.as_ref().map_or(ScheduleKind::Constant, |k| k.value) {
            ScheduleKind::Constant => Schedule::Constant { warmup: warmup.unwrap_or(0.0) },
            ScheduleKind::Step => Schedule::Step {
                warmup: warmup.unwrap_or(0.0),
                // `check` refuses a step schedule without `every`.
                every: s.every.as_ref().map_or(1, |e| e.value as usize),
                gamma: s.gamma.as_ref().map_or(0.1, |g| g.value),
            },
            ScheduleKind::Cosine => Schedule::Cosine { warmup: warmup.unwrap_or(0.0) },
            ScheduleKind::OneCycle => Schedule::OneCycle { warmup },
        }
    }

    /// The rate for a step that starts `at` epochs into training (`done` epochs by its end) of
    /// `epochs`, from the written `rate`.
    pub fn rate(&self, rate: f64, at: f64, done: f64, epochs: usize) -> f64 {
        let epochs = epochs as f64;
        // The warm-up reaches the full rate at its last step, and never trains a step at 0.
        let warm = |warmup: f64| if warmup > 0.0 { (done / warmup).min(1.0) } else { 1.0 };
        let after = |warmup: f64| ((at - warmup) / (epochs - warmup).max(f64::MIN_POSITIVE)).clamp(0.0, 1.0);
        let half_cosine = |from: f64, to: f64, u: f64| to + (from - to) * (1.0 + (PI * u).cos()) / 2.0;
        match *self {
            Schedule::Constant { warmup } => rate * warm(warmup),
            Schedule::Step { warmup, every, gamma } => {
                rate * warm(warmup) * gamma.powi((at / every as f64).floor() as i32)
            }
            Schedule::Cosine { warmup } if at < warmup => rate * warm(warmup),
            Schedule::Cosine { warmup } => half_cosine(rate, 0.0, after(warmup)),
            Schedule::OneCycle { warmup } => {
                let warmup = warmup.unwrap_or(0.3 * epochs);
                let (low, floor) = (rate / 25.0, rate / 25.0 / 1e4);
                match at < warmup {
                    true => half_cosine(rate, low, 1.0 - at / warmup),
                    false => half_cosine(rate, floor, after(warmup)),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn constant_warms_up_linearly_then_holds() {
        let s = Schedule::Constant { warmup: 2.0 };
        assert!(close(s.rate(0.1, 0.0, 0.5, 10), 0.025));
        assert!(close(s.rate(0.1, 1.5, 2.0, 10), 0.1));
        assert!(close(s.rate(0.1, 9.5, 10.0, 10), 0.1));
        assert!(close(Schedule::Constant { warmup: 0.0 }.rate(0.1, 0.0, 0.1, 10), 0.1));
    }

    #[test]
    fn step_cuts_by_gamma_every_few_epochs() {
        let s = Schedule::Step { warmup: 0.0, every: 3, gamma: 0.5 };
        let rates: Vec<f64> = (0..9).map(|e| s.rate(1.0, e as f64, e as f64 + 1.0, 9)).collect();
        assert_eq!(rates, [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]);
    }

    #[test]
    fn cosine_falls_from_the_rate_to_zero_after_its_warm_up() {
        let s = Schedule::Cosine { warmup: 1.0 };
        assert!(close(s.rate(0.2, 0.5, 0.75, 11), 0.15));
        assert!(close(s.rate(0.2, 1.0, 1.25, 11), 0.2));
        assert!(close(s.rate(0.2, 6.0, 6.25, 11), 0.1), "half-way down at the middle");
        assert!(s.rate(0.2, 10.99, 11.0, 11) < 1e-5);
    }

    #[test]
    fn one_cycle_rises_to_the_rate_then_falls_far_below_where_it_started() {
        let s = Schedule::OneCycle { warmup: None };
        assert!(close(s.rate(1.0, 0.0, 0.1, 10), 0.04));
        assert!(close(s.rate(1.0, 3.0, 3.1, 10), 1.0), "the peak at 30%");
        let end = s.rate(1.0, 10.0, 10.0, 10);
        assert!(close(end, 4e-6));
        let rates: Vec<f64> = (0..100).map(|i| s.rate(1.0, i as f64 / 10.0, (i + 1) as f64 / 10.0, 10)).collect();
        assert!(rates[..30].windows(2).all(|w| w[0] < w[1]) && rates[30..].windows(2).all(|w| w[0] > w[1]));
    }
}
