//! Warcraft shortest path (ALGORITHMS.md §6) against the published figures (ALGORITHMS.md §2):
//! `examples/warcraft-12.yaml` by ABC-EM (sampled costs, Dijkstra as a black box, exp kernel on
//! the tiles a sampled path gets wrong), training seeds 1, 2, 3. Per run: the share of the 1,000
//! test maps whose path under the predicted costs is the labelled one, the tiles' cost accuracy,
//! seconds and peak memory; 10,000 training maps, the epoch kept chosen on the 1,000 validation
//! maps. The maps are this project's generated ANALOGUE of the published ones (which cannot be
//! downloaded here): the figures compare methods on similar tasks, not on the same maps. The task
//! accuracy asks for the labelled path itself; the published metric, a path of optimal true cost,
//! is the spec's measured constraint `optimal_cost` (at least as high: ties count).
//!
//! Run: `cargo bench -p skilang --bench warcraft` (`SKILANG_BENCH_SEEDS=1` runs one seed,
//! `SKILANG_BENCH_SIDE=30` the 30×30 maps with the same spec and settings).

mod common;

use common::{data_dir, flag, joined, list, set, sweep};
use skilang_lang::spec::BuiltinSource;

fn main() {
    let side = list::<usize>("SKILANG_BENCH_SIDE").and_then(|s| s.first().copied()).unwrap_or(12);
    let (source, published) = match side {
        12 => (
            BuiltinSource::Warcraft12,
            "ABC-EM 98.80 / 7.26, A-NeSI 98.96 / 439, I-MLE 95.34 / 26.8, EXAL 94.19 / 11.1, SPL 78.20",
        ),
        30 => (
            BuiltinSource::Warcraft30,
            "ABC-EM 69.60 / 8.37, A-NeSI 67.57 / 1597, I-MLE 93.40 / 228, EXAL 80.85 / 84.3",
        ),
        _ => panic!("SKILANG_BENCH_SIDE is 12 or 30"),
    };
    // Nothing is fetched: the maps are generated when the data directory has none.
    let data = data_dir(source);
    let seeds = list::<u64>("SKILANG_BENCH_SEEDS").unwrap_or(vec![1, 2, 3]);
    let metrics = flag(
        "--metrics",
        "task_accuracy,constraints.optimal_cost.satisfaction,symbol_accuracy,train_seconds,peak_rss_bytes",
    );
    println!(
        "Warcraft shortest path {side}x{side} (generated analogue: 10,000 / 1,000 / 1,000 maps), per-tile MLP, CPU (burn flex)"
    );
    println!("published on the original maps (accuracy %, GPU minutes): {published}");
    let name = format!("warcraft-{side}-em-sample");
    let sized = match side {
        12 => vec![],
        _ => {
            [set("data.warcraft.source", format!("warcraft-{side}")), set("data.warcraft.instances.tiles", side * side)]
                .concat()
        }
    };
    let args = [flag("--seeds", joined(&seeds)), sized, metrics].concat();
    let swept = sweep(&name, "examples/warcraft-12.yaml", Some(&data), &args);
    println!("\n{name}:\n{}", swept.table);
}
