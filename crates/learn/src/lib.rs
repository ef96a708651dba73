//! Networks built from learnable declarations, the training loop, and metrics (DESIGN.md §1–2).
//!
//! Supervised learning trains each network on its output column ([`train`]); learning from
//! constraints grounds examples ([`examples`]), and its loop ([`weak`]) hands each batch's
//! distributions to the plan's objectives ([`objective`]), which turn them into a loss.

pub mod batch;
pub mod columnwise;
pub mod evaluate;
pub mod examples;
pub mod input;
pub mod metrics;
pub mod model;
pub mod objective;
pub mod observations;
pub mod report;
pub mod rules;
pub mod run;
pub mod task;
pub mod train;
pub mod weak;

/// The device training runs on: burn's pure-Rust CPU backend, with gradients.
pub fn device(seed: u64) -> burn::prelude::Device {
    let device = burn::prelude::Device::flex().autodiff();
    device.seed(seed);
    device
}
