//! `analognas bench ...`: performance benchmarks.

use analognas::error::{Error, Result};
use analognas::hw::HwProfile;
use analognas::task::Task;
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// Benchmarks.
#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Analog inference of ResNet-20 (CIFAR-10 shape) at t = 1 day against digital inference
    /// (burn flex `Network::forward`) on the same random batch: times, ratio, peak memory.
    #[command(
        after_help = "Example:\n  analognas bench analog --batch 256 --reps 5\n  analognas bench analog --profile hw_profiles/pcm_hermes.toml --json"
    )]
    Analog(AnalogBenchArgs),
    /// Training and inference throughput of ResNet-20 on random 3x32x32 batches with each
    /// burn backend compiled in, and the ratio between them.
    #[command(after_help = "Example:\n  analognas bench backends --steps 5")]
    Backends {
        /// Timed steps per measurement.
        #[arg(long, default_value_t = 5)]
        steps: usize,
    },
    /// What one measured candidate costs: training throughput and one whole hardware-aware
    /// train + drift evaluation of a small network on `digits`.
    #[command(after_help = "Example:\n  analognas bench train --epochs 6 --reps 3")]
    Train {
        /// Training epochs.
        #[arg(long, default_value_t = 6)]
        epochs: usize,
        /// Drift-evaluation repetitions.
        #[arg(long, default_value_t = 3)]
        reps: usize,
    },
    /// A surrogate-only search of population 200 for 200 generations (the paper's setting):
    /// with the synthetic test scorer and with the shipped surrogate.
    #[command(
        after_help = "Example:\n  analognas bench search --surrogate surrogates/digits_pcm_aihwkit.json"
    )]
    Search {
        /// Surrogate model.
        #[arg(long, default_value = "surrogates/digits_pcm_aihwkit.json")]
        surrogate: PathBuf,
    },
    /// Surrogate predictions per second and fit time on a measured CSV.
    #[command(
        after_help = "Example:\n  analognas bench surrogate --data surrogates/digits_pcm_aihwkit.csv"
    )]
    Surrogate {
        /// Measured data set.
        #[arg(long, default_value = "surrogates/digits_pcm_aihwkit.csv")]
        data: PathBuf,
    },
}

/// Arguments of `bench analog`.
#[derive(Args, Debug)]
pub struct AnalogBenchArgs {
    /// Images per batch (3x32x32).
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// Timed repetitions of each forward pass, analog and digital alternating (medians are
    /// reported; one untimed pass of each, which measures peak memory, runs before them).
    #[arg(long, default_value_t = 5)]
    pub reps: usize,
    /// Hardware profile of the analog chip.
    #[arg(long, default_value = "hw_profiles/pcm_aihwkit.toml")]
    pub profile: PathBuf,
    /// Seed of the weights, the batch and the noise.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs a bench subcommand.
pub fn run(cmd: BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::Analog(a) => {
            if a.batch == 0 || a.reps == 0 {
                return Err(Error::input(format!(
                    "--batch and --reps: expected integers >= 1, got {} and {}",
                    a.batch, a.reps
                )));
            }
            let profile = HwProfile::load(analognas::files::shipped_path(&a.profile))?;
            let cfg = analognas::bench::AnalogBenchConfig {
                batch: a.batch,
                reps: a.reps,
                seed: a.seed,
            };
            let report = analognas::bench::analog(&cfg, &profile)?;
            if a.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).expect("report serializes")
                );
            } else {
                print!("{}", report.to_text());
            }
            Ok(())
        }
        BenchCommand::Backends { steps } => {
            print!("{}", analognas::bench::backends_report(steps.max(1))?);
            Ok(())
        }
        BenchCommand::Train { epochs, reps } => {
            print!(
                "{}",
                analognas::bench::train_report(epochs.max(1), reps.max(1))?
            );
            Ok(())
        }
        BenchCommand::Surrogate { data } => {
            print!(
                "{}",
                analognas::bench::surrogate::run(&analognas::files::shipped_path(&data))?
            );
            Ok(())
        }
        BenchCommand::Search { surrogate } => {
            let space = analognas::space::SearchSpace::load(analognas::files::shipped_path(
                analognas::files::DEFAULT_SPACE,
            ))?;
            let profile = HwProfile::load(analognas::files::shipped_path(
                analognas::files::DEFAULT_PROFILE,
            ))?;
            let mut scorer =
                analognas::pipeline::build_scorer(&surrogate.display().to_string(), &profile)?;
            println!(
                "{}",
                analognas::bench::search(&space, &profile, Task::Digits, Some(scorer.as_mut()))?
                    .trim_end()
            );
            Ok(())
        }
    }
}
