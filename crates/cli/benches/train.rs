//! Supervised LeNet on the 60,000 MNIST training images, one epoch at batch 64 and 256: seconds
//! per epoch, training images per second, peak memory and test accuracy, beside PyTorch's.
//!
//! PyTorch runs in the same process tree, on the same files and cores, when `SKILANG_TORCH_PYTHON`
//! names a Python that has torch (`../shared/peers/lenet_mnist_torch.py` says how to make one);
//! without it, the published figures for a machine like ours stand in (ALGORITHMS.md §2).
//!
//! Run: `SKILANG_TORCH_PYTHON=.venv-torch/bin/python cargo bench -p skilang --bench train`

mod common;

use common::{data_dir, flag, root, sweep};
use skilang_lang::spec::BuiltinSource;
use std::path::Path;
use std::process::Command;

/// PyTorch, LeNet, Adam, 2 threads, training images per second at batch 64 and 256, as published.
const PUBLISHED: [(usize, f64); 2] = [(64, 21_000.0), (256, 29_000.0)];

/// PyTorch's training images per second and test accuracy, one epoch on 2 threads.
fn pytorch(python: &str, data: &Path, batch: usize) -> Option<(f64, f64)> {
    let script = root().join("../shared/peers/lenet_mnist_torch.py");
    let out = Command::new(python)
        .arg(&script)
        .arg(data.join("mnist"))
        .env("THREADS", "2")
        .env("BATCH", batch.to_string())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with("RESULT"))?;
    let field = |name: &str| line.split_whitespace().find_map(|f| f.strip_prefix(name)?.parse::<f64>().ok());
    Some((field("train_ips=")?, field("test_acc=")?))
}

fn main() {
    let data = data_dir(BuiltinSource::Mnist);
    let python = std::env::var("SKILANG_TORCH_PYTHON").ok();
    let args = [flag("--epochs", 1), flag("--grid", "optimization.batch_size=64,256")].concat();
    let swept = sweep("train", "examples/mnist-supervised.yaml", Some(&data), &args);
    println!(
        "{:>6} {:>10} {:>10} {:>10} {:>10} {:>9} {:>12} {:>8}",
        "batch", "s/epoch", "images/s", "test acc", "PyTorch", "its acc", "ratio", "peak MiB"
    );
    for (batch, published) in PUBLISHED {
        let report = swept.report(&format!("optimization.batch_size={batch}"), 1);
        let seconds = report["curves"]["digit"][0]["seconds"].as_f64().unwrap_or(f64::NAN);
        let rate = 60_000.0 / seconds;
        let (theirs, their_acc, source) = match python.as_deref().and_then(|p| pytorch(p, &data, batch)) {
            Some((rate, acc)) => (rate, format!("{acc:.4}"), "measured"),
            None => (published, "-".to_string(), "published"),
        };
        println!(
            "{batch:>6} {seconds:>10.2} {rate:>10.0} {:>10.4} {theirs:>10.0} {their_acc:>9} {:>6.2}x {source:>9} {:>8.0}",
            report["task_accuracy"].as_f64().unwrap_or(0.0),
            rate / theirs,
            report["peak_rss_bytes"].as_f64().unwrap_or(0.0) / 1048576.0,
        );
    }
    if python.is_none() {
        println!("\nPyTorch not run: set SKILANG_TORCH_PYTHON to a Python with torch (see ../shared/peers/lenet_mnist_torch.py)");
    }
    println!("\nruns and reports: {}", swept.dir.display());
}
