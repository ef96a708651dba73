//! `skilang`: check, train and evaluate SKI-lang specs.

mod check;

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
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

/// Exit statuses: 0 success, 1 an invalid spec, 2 a usage or I/O error.
pub mod exit {
    pub const OK: u8 = 0;
    pub const INVALID: u8 = 1;
    pub const USAGE: u8 = 2;
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
    };
    ExitCode::from(code)
}
