//! The command-line interface: argument parsing, path resolution, printing and progress bars;
//! the work lives in the library. Nothing outside this module imports it.

mod bench;
mod export;
mod footprint;
mod hw;
mod progress;
mod search;
mod space;
mod surrogate;
mod train;

use analognas::error::Result;
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

/// A clap value parser for a library [`Choice`](analognas::choice::Choice): the names as possible
/// values (shown in `--help`), parsed into the value.
pub fn choice<T: analognas::choice::Choice + Clone>()
-> impl clap::builder::TypedValueParser<Value = T> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(T::ALL.iter().map(|c| c.name()))
        .map(|s| T::parse(&s).expect("a possible value parses"))
}

/// Where measurements run (`search` validation, `surrogate collect`, `export --train`).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ExecutorArgs {
    /// Where measurements run: `local` (this machine's threads).
    #[arg(long, default_value = "local", value_parser = ["local"])]
    pub executor: String,
    /// Measurements at the same time [default: the number of cores, or 1 for a single network].
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Threads of each measurement [default: 1, or every core for a single network]. A
    /// measurement's result depends on this setting, never on --jobs.
    #[arg(long)]
    pub threads_per_candidate: Option<usize>,
}

impl ExecutorArgs {
    /// The executor these flags describe; `single` picks the defaults for one network.
    pub fn executor(&self, single: bool) -> analognas::Result<analognas::evaluate::LocalExecutor> {
        use analognas::evaluate::LocalExecutor;
        for (flag, v) in [
            ("--jobs", self.jobs),
            ("--threads-per-candidate", self.threads_per_candidate),
        ] {
            if v == Some(0) {
                return Err(analognas::Error::input(format!(
                    "{flag}: expected an integer >= 1, got 0"
                )));
            }
        }
        let base = if single {
            LocalExecutor::single()
        } else {
            LocalExecutor::default()
        };
        Ok(LocalExecutor::new(
            self.jobs.unwrap_or(base.parallel),
            self.threads_per_candidate
                .unwrap_or(base.threads_per_candidate),
        ))
    }
}

fn list_shipped(dir: &str) -> Result<()> {
    for (shown, p) in analognas::files::list_toml(dir)? {
        let line = if dir == analognas::files::SPACES_DIR {
            analognas::space::SearchSpace::load(&p).map(|s| {
                format!(
                    "{:<36} {:>10.3e} architectures  {}",
                    shown.display(),
                    s.size(),
                    s.description
                )
            })
        } else {
            analognas::hw::HwProfile::load(&p).map(|h| {
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
