//! Networks built from learnable declarations, the training loop, and metrics (DESIGN.md §1–2).
//!
//! One loop ([`train`]) trains every plan, a batch at a time through the plan's learner: each
//! network on its output column ([`supervised`]), or all of them from the constraints of grounded
//! examples ([`examples`], [`weak`]), whose batches the plan's objectives ([`objective`]) turn
//! into a loss. Each epoch's end can be saved ([`checkpoint`]) and a killed run resumed.

pub mod augment;
pub mod batch;
pub mod checkpoint;
pub mod columnwise;
pub mod correct;
pub mod decode;
pub mod emp;
pub mod evaluate;
pub mod examples;
pub mod input;
pub mod metrics;
pub mod model;
pub mod objective;
pub mod observations;
pub mod ops;
pub mod report;
pub mod rules;
pub mod run;
pub mod schedule;
pub mod settings;
pub mod supervised;
pub mod task;
pub mod test_time;
pub mod train;
pub mod weak;
pub mod weights;

/// The device training runs on: burn's pure-Rust CPU backend, with gradients.
pub fn device(seed: u64) -> burn::prelude::Device {
    let device = burn::prelude::Device::flex().autodiff();
    device.seed(seed);
    device
}
