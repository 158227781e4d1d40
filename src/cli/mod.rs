//! The command-line interface: argument parsing and dispatch; the work lives in the library.

mod bench;
mod export;
mod footprint;
mod hw;
pub(crate) mod search;
mod space;
mod surrogate;
pub(crate) mod train;

use crate::error::Result;
use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::process::ExitCode;

/// analognas: hardware-aware neural architecture search for analog PCM chips.
#[derive(Parser, Debug)]
#[command(name = "analognas", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Inspect and sample search spaces.
    #[command(subcommand)]
    Space(space::SpaceCommand),
    /// List the shipped search spaces (search_spaces/*.toml).
    #[command(after_help = "Example:\n  analognas spaces")]
    Spaces,
    /// List the shipped hardware profiles (hw_profiles/*.toml).
    #[command(after_help = "Example:\n  analognas profiles")]
    Profiles,
    /// Tile footprint of an architecture on a hardware profile.
    Footprint(footprint::FootprintArgs),
    /// Train a network (hardware-aware by default) and save it as a model directory.
    Train(train::TrainArgs),
    /// Program a trained model on a hardware profile and measure accuracy versus time.
    Evaluate(train::EvaluateArgs),
    /// Export a found (or any) architecture as a model directory for use in your own code.
    Export(export::ExportArgs),
    /// Logits of a model directory on the first test samples, digitally or on a simulated chip.
    Infer(export::InferArgs),
    /// Fit, evaluate and query surrogate models of measured accuracy and drift.
    #[command(subcommand)]
    Surrogate(surrogate::SurrogateCommand),
    /// Inspect the analog chip model (PCM noise, drift).
    #[command(subcommand)]
    Hw(hw::HwCommand),
    /// Performance benchmarks.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Evolutionary search for the Pareto front of accuracy at 1 day versus tiles.
    Search(Box<search::SearchArgs>),
    /// Redraw the plots and report.md of a run directory.
    Report(search::ReportArgs),
}

/// Runs the CLI on `args` and returns the process exit code (2 on any error).
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(2),
            };
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("analognas: {e}");
            ExitCode::from(2)
        }
    }
}

/// Executes a parsed command.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Space(c) => space::run(c),
        Command::Spaces => list_shipped("search_spaces"),
        Command::Profiles => list_shipped("hw_profiles"),
        Command::Footprint(a) => footprint::run(a),
        Command::Train(a) => train::run_train(a),
        Command::Evaluate(a) => train::run_evaluate(a),
        Command::Export(a) => export::run_export(a),
        Command::Infer(a) => export::run_infer(a),
        Command::Surrogate(c) => surrogate::run(c),
        Command::Hw(c) => hw::run(c),
        Command::Bench(c) => bench::run(c),
        Command::Search(a) => search::run(*a),
        Command::Report(a) => search::report(a),
    }
}

/// Folder of the shipped files: `./DIR` when it exists, else the one in the source tree.
pub fn shipped_dir(dir: &str) -> std::path::PathBuf {
    let local = std::path::PathBuf::from(dir);
    if local.is_dir() {
        local
    } else {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)
    }
}

/// `path` as given when it exists or is absolute; else the same relative path inside the source
/// tree this binary was built from (so the shipped defaults work from any directory).
pub fn shipped_path(path: &std::path::Path) -> std::path::PathBuf {
    if path.exists() || path.is_absolute() {
        return path.to_path_buf();
    }
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    if shipped.exists() {
        shipped
    } else {
        path.to_path_buf()
    }
}

fn list_shipped(dir: &str) -> Result<()> {
    let root = shipped_dir(dir);
    let mut files: Vec<_> = std::fs::read_dir(&root)
        .map_err(|e| crate::Error::io(&root, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    for p in files {
        let shown = std::path::Path::new(dir).join(p.file_name().unwrap_or_default());
        let line = if dir == "search_spaces" {
            crate::space::SearchSpace::load(&p).map(|s| {
                format!(
                    "{:<36} {:>10.3e} architectures  {}",
                    shown.display(),
                    s.size(),
                    s.description
                )
            })
        } else {
            crate::hw::HwProfile::load(&p).map(|h| {
                format!(
                    "{:<32} {}x{} tiles  {}",
                    shown.display(),
                    h.tile.rows,
                    h.tile.cols,
                    h.description
                )
            })
        };
        match line {
            Ok(l) => println!("{l}"),
            Err(e) => println!("{:<36} (invalid: {e})", shown.display()),
        }
    }
    Ok(())
}
