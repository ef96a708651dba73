//! Networks built from learnable declarations, the training loop, and metrics (DESIGN.md §1–2).
//!
//! Supervised learning is the first injection; the weakly supervised algorithms plug in through
//! the same loop: the networks give distributions, an injection turns them into a loss.

pub mod columnwise;
pub mod metrics;
pub mod model;
pub mod rules;
pub mod task;
pub mod train;
pub mod weak;

/// The device training runs on: burn's pure-Rust CPU backend, with gradients.
pub fn device(seed: u64) -> burn::prelude::Device {
    let device = burn::prelude::Device::flex().autodiff();
    device.seed(seed);
    device
}
