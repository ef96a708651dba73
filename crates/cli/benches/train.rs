//! Supervised LeNet on the 60,000 MNIST training images, one epoch at batch 64 and 256: seconds
//! per epoch, training images per second, peak memory and test accuracy, beside PyTorch's figures
//! on a machine like ours (ALGORITHMS.md §2: 2 threads, Adam; 21k / 29k images/s).
//!
//! Run: `cargo bench -p skilang --bench train`

mod common;

use common::{data_dir, flag, sweep};
use skilang_lang::spec::BuiltinSource;

/// PyTorch, LeNet, Adam, 2 threads, training images per second at batch 64 and 256.
const PYTORCH: [(usize, f64); 2] = [(64, 21_000.0), (256, 29_000.0)];

fn main() {
    let data = data_dir(BuiltinSource::Mnist);
    let args = [flag("--epochs", 1), flag("--grid", "optimization.batch_size=64,256")].concat();
    let swept = sweep("train", "examples/mnist-supervised.yaml", Some(&data), &args);
    println!(
        "{:>6} {:>10} {:>10} {:>10} {:>9} {:>12} {:>8}",
        "batch", "s/epoch", "images/s", "PyTorch", "ratio", "peak MiB", "test acc"
    );
    for (batch, pytorch) in PYTORCH {
        let report = swept.report(&format!("optimization.batch_size={batch}"), 1);
        let seconds = report["curves"]["digit"][0]["seconds"].as_f64().unwrap_or(f64::NAN);
        let rate = 60_000.0 / seconds;
        println!(
            "{batch:>6} {seconds:>10.2} {rate:>10.0} {pytorch:>10.0} {:>8.2}x {:>12.0} {:>8.4}",
            rate / pytorch,
            report["peak_rss_bytes"].as_f64().unwrap_or(0.0) / 1048576.0,
            report["task_accuracy"].as_f64().unwrap_or(0.0)
        );
    }
    println!("\nruns and reports: {}", swept.dir.display());
}
