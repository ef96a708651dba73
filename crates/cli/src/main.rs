//! `skilang`: check, train and evaluate SKI-lang specs.

mod boxplot;
mod check;
mod curves;
mod data;
mod out;
mod summary;
mod sweep;
mod train;

use clap::{Parser, Subcommand, ValueEnum};
use skilang_lang::overrides::Override;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "skilang", version, about = "Neurosymbolic learning from one SKI-lang spec")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check specs: resolve names and types, and summarise what each one declares.
    Check {
        /// Spec files (YAML).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Output for people, or JSON for tools and editors.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Change a value of the specs first, e.g. `--set optimization.epochs=3`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<Override>,
    },
    /// Train the spec's learnables and evaluate them on the test split.
    Train {
        /// The spec (YAML).
        spec: PathBuf,
        /// Number of epochs (the same as `--set optimization.epochs=N`).
        #[arg(long)]
        epochs: Option<u64>,
        /// Seed of data sampling, initialisation and shuffling.
        #[arg(long)]
        seed: Option<u64>,
        /// Where the datasets are (else SKILANG_DATA, else ~/.cache/skilang).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Output folder for model/, report.json and curves.svg (default runs/SPEC-NAME); it must
        /// be new or empty, or hold a previous run and --force be given.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace --out when it holds a previous run (and nothing else).
        #[arg(long)]
        force: bool,
        /// Continue the killed run that was writing --out, from its last epoch's checkpoint
        /// (same spec, same --set and flags); the report is the uninterrupted run's.
        #[arg(long, conflicts_with = "dry_run")]
        resume: bool,
        /// Do everything but train: check, load the data, build the networks, ground the
        /// training examples; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Change a value of the spec first, e.g. `--set optimization.batch_size=128`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<Override>,
    },
    /// Evaluate a saved model on the spec's test split; prints the report as JSON.
    Eval {
        /// The spec (YAML) the model was trained from.
        spec: PathBuf,
        /// The `model/` folder a training run wrote.
        #[arg(long)]
        model: PathBuf,
        /// Where the datasets are (else SKILANG_DATA, else ~/.cache/skilang).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Correct the predictions at test time towards the classes' ratios: `la` (logit
        /// adjustment), `carot`, or `none` (`--set evaluation.correction=...`).
        #[arg(long, value_name = "la|carot|none")]
        correction: Option<String>,
        /// Where the classes' ratios come from: `alg1` (estimated from the weak labels), `emp`
        /// (the model's own predictions on the training instances) or `gold` (the training
        /// labels; `--set optimization.prior=...`).
        #[arg(long, value_name = "alg1|emp|gold")]
        prior: Option<String>,
        /// Change a value of the spec first.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<Override>,
    },
    /// Train a spec over a grid of settings and seeds, and summarise every metric per grid point.
    ///
    /// Each run is a `skilang train` with its own folder under OUT/runs/; OUT/summary.txt, .csv,
    /// .json and .svg (box plots) summarise them. Running the same sweep again skips the finished
    /// runs and resumes a killed one from its checkpoint.
    Sweep {
        /// The spec (YAML).
        spec: PathBuf,
        /// Seeds: `1..5` (both ends included) or `1,2,7` (default: the spec's seed).
        #[arg(long)]
        seeds: Option<sweep::Seeds>,
        /// A setting to vary, `KEY=V1,V2,...`, with any key --set takes (e.g.
        /// `optimization.injection=supervised,fuzzy`); several make a grid of every combination.
        #[arg(long = "grid", value_name = "KEY=V1,V2,...")]
        grid: Vec<sweep::Axis>,
        /// The sweep's folder (default sweeps/SPEC-NAME): new, empty, or this sweep's to resume.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Runs at once (default: one per two cores); each shares the cores between them.
        #[arg(long)]
        jobs: Option<usize>,
        /// The metrics of summary.txt and summary.svg, as report keys or their prefixes (e.g.
        /// `task_accuracy,symbol_accuracy,constraints.fairness.value`); the CSV and JSON hold all.
        #[arg(long, value_delimiter = ',')]
        metrics: Vec<String>,
        /// Number of epochs of every run.
        #[arg(long)]
        epochs: Option<u64>,
        /// Where the datasets are (else SKILANG_DATA, else ~/.cache/skilang).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// A value every run shares, e.g. `--set optimization.batch_size=128`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<Override>,
    },
    /// Write a sweep's summary again from the reports in its folder.
    Summary {
        /// The sweep's folder.
        dir: PathBuf,
        /// The metrics of summary.txt and summary.svg (as for `sweep`).
        #[arg(long, value_delimiter = ',')]
        metrics: Vec<String>,
    },
    /// Print the language's JSON Schema, for editors (`# yaml-language-server: $schema=FILE`).
    Schema,
    /// Generate a dataset that is not downloaded: the Poker test hands, Sudoku puzzles, visual
    /// Sudoku puzzles (ViSudo-PC) from MNIST, or Warcraft-like terrain maps.
    Data {
        #[arg(value_enum)]
        dataset: Generated,
        /// Poker: hands (default: as many as the UCI test file, 1,000,000). Sudoku: training
        /// puzzles (default 10,000; the test file gets a tenth, at least 100). Visual Sudoku:
        /// valid puzzles per split (default 100; as many corrupted ones follow). Warcraft: training
        /// maps (default 10,000; validation and test get a tenth each, at least 1).
        #[arg(long, alias = "hands")]
        count: Option<usize>,
        /// Visual Sudoku: the split's number (the published ones are 1–11); it seeds the split.
        #[arg(long, default_value_t = 1)]
        split: u32,
        /// Sudoku: givens per puzzle: `easy` (36, like Park's set), `hard` (17–34 uniformly, like
        /// Palm's), a number, or a range `LO-HI`.
        #[arg(long, default_value = "easy")]
        givens: String,
        /// Seed of the draws (default: the seed the built-in source uses when the files are absent).
        #[arg(long)]
        seed: Option<u64>,
        /// Where to write: a file for Poker (default: poker_hand/poker-hand-testing.data in the
        /// data directory), a folder for Sudoku's train.csv and test.csv (default: sudoku/), the
        /// folder under which visual Sudoku's published layout goes (default: visudo/), the
        /// folder under which Warcraft's `{k}x{k}/` goes (default: warcraft/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Where the datasets are (else SKILANG_DATA, else ~/.cache/skilang).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Generated {
    /// Uniform 5-card draws in the UCI layout, labelled by the rules of poker.
    PokerHand,
    /// 9×9 puzzles with unique solutions, in the published `quizzes,solutions` layout.
    Sudoku,
    /// 4×4 boards of MNIST digits 0–3, valid or corrupted, in ViSudo-PC's published layout.
    #[value(name = "visudo-4")]
    Visudo4,
    /// 9×9 boards of MNIST digits 0–8, likewise.
    #[value(name = "visudo-9")]
    Visudo9,
    /// 12×12 terrain maps of 8×8-pixel tiles with their shortest paths, in the published
    /// Warcraft layout (an analogue: the original maps cannot be downloaded here).
    #[value(name = "warcraft-12")]
    Warcraft12,
    /// 30×30 maps, likewise.
    #[value(name = "warcraft-30")]
    Warcraft30,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

/// How a command ends: exit statuses (0 success, 1 an invalid spec, 2 a usage or I/O error), and a
/// failure with its status and message.
pub mod exit {
    pub const OK: u8 = 0;
    pub const INVALID: u8 = 1;
    pub const USAGE: u8 = 2;

    /// A failure with its exit status and message.
    pub struct Failure {
        pub code: u8,
        pub message: String,
    }

    impl Failure {
        pub fn new(code: u8, message: impl Into<String>) -> Failure {
            Failure { code, message: message.into() }
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { exit::USAGE } else { exit::OK });
        }
    };
    let code = match cli.command {
        Command::Check { files, format, set } => check::run(&files, format, &set),
        Command::Train { spec, epochs, seed, data_dir, out, force, resume, dry_run, set } => {
            finish(train::train(train::TrainArgs { spec, epochs, seed, data_dir, out, force, resume, dry_run, set }))
        }
        Command::Sweep { spec, seeds, grid, out, jobs, metrics, epochs, data_dir, set } => {
            finish(sweep::sweep(sweep::SweepArgs { spec, seeds, grid, out, jobs, metrics, epochs, data_dir, set }))
        }
        Command::Summary { dir, metrics } => {
            finish(summary::write(&dir, &metrics).and_then(|table| print_all(&table, "the summary")))
        }
        Command::Schema => {
            let schema = serde_json::to_string_pretty(&skilang_lang::spec::keys::json_schema()).unwrap_or_default();
            finish(print_all(&(schema + "\n"), "the schema"))
        }
        Command::Eval { spec, model, data_dir, correction, prior, mut set } => {
            // The flags stand for the settings they name, after any `--set`.
            let flags = [("evaluation", "correction", correction), ("optimization", "prior", prior)];
            for (section, key, value) in flags {
                set.extend(value.map(|value| Override { path: vec![section.into(), key.into()], value }));
            }
            finish(train::eval(&spec, &model, data_dir.as_deref(), &set))
        }
        Command::Data { dataset: Generated::PokerHand, count, seed, out, data_dir, .. } => {
            finish(data::poker_hand(count, seed, out, data_dir.as_deref()))
        }
        Command::Data { dataset: Generated::Sudoku, count, givens, seed, out, data_dir, .. } => {
            finish(data::sudoku(count, &givens, seed, out, data_dir.as_deref()))
        }
        Command::Data {
            dataset: dataset @ (Generated::Visudo4 | Generated::Visudo9),
            count,
            split,
            out,
            data_dir,
            ..
        } => {
            let dim = if dataset == Generated::Visudo4 { 4 } else { 9 };
            finish(data::visudo(dim, count, split, out, data_dir.as_deref()))
        }
        Command::Data {
            dataset: dataset @ (Generated::Warcraft12 | Generated::Warcraft30),
            count,
            seed,
            out,
            data_dir,
            ..
        } => {
            let side = if dataset == Generated::Warcraft12 { 12 } else { 30 };
            finish(data::warcraft(side, count, seed, out, data_dir.as_deref()))
        }
    };
    ExitCode::from(code)
}

/// Writes to stdout. A reader that went away (`skilang check … | head -1`) is not an error: the
/// output just ends, as with other command-line tools. `Err` is the status to stop with.
pub fn print_out(text: &str) -> Result<(), u8> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(exit::OK),
        Err(e) => {
            eprintln!("error: cannot write to stdout: {e}");
            Err(exit::USAGE)
        }
    }
}

/// Which build ran, where and when, for reports.
pub fn provenance() -> skilang_learn::report::Provenance {
    skilang_learn::report::Provenance::here(env!("CARGO_PKG_VERSION"), env!("SKILANG_COMMIT"))
}

/// [`print_out`] for a command's result: a reader gone away is success, any other failure says
/// that `what` was not printed in full.
pub fn print_all(text: &str, what: &str) -> Result<(), exit::Failure> {
    match print_out(text) {
        Err(code) if code != exit::OK => Err(exit::Failure::new(code, format!("{what} was not printed in full"))),
        _ => Ok(()),
    }
}

fn finish(result: Result<(), exit::Failure>) -> u8 {
    match result {
        Ok(()) => exit::OK,
        Err(f) => {
            // A diagnostic rendered against the spec carries its own `error:` heading.
            if f.message.starts_with("error:") {
                eprintln!("{}", f.message);
            } else {
                eprintln!("error: {}", f.message);
            }
            f.code
        }
    }
}
