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
    /// The analog simulation's own normal sampler against rand_distr's StandardNormal.
    #[command(after_help = "Example:\n  analognas bench normal --draws 20000000 --rounds 3")]
    Normal {
        /// Draws per round.
        #[arg(long, default_value_t = 20_000_000)]
        draws: usize,
        /// Rounds (medians are reported).
        #[arg(long, default_value_t = 3)]
        rounds: usize,
    },
    /// ResNet-20 (3x32x32) digital and hardware-aware training img/s (batch 64) and inference
    /// img/s (batch 256), against burn's own flex operations and, when python3 imports torch,
    /// the PyTorch twin benches/torch_resnet.py on the same threads in the same run (medians of
    /// the rounds, ratios).
    #[command(
        after_help = "Example:\n  analognas bench train --threads 2 --rounds 5\n  analognas bench train --device gpu --no-flex"
    )]
    Train(TrainBenchArgs),
    /// Where a ResNet-20 training step spends its time: forward, backward and optimizer, and
    /// every convolution shape's forward, input and weight gradient, burn's flex operations
    /// against this crate's fast ones.
    #[command(after_help = "Example:\n  analognas bench profile --threads 2 --reps 5")]
    Profile {
        /// Training batch size.
        #[arg(long, default_value_t = 64)]
        batch: usize,
        /// Repetitions of each timing (medians are reported).
        #[arg(long, default_value_t = 5)]
        reps: usize,
        /// Threads.
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
    /// How to share the cores between candidates: hardware-aware training throughput of one
    /// candidate on all threads against one candidate per thread, for a small network and
    /// ResNet-20 (what the local executor's default follows).
    #[command(after_help = "Example:\n  analognas bench threads --threads 2 --rounds 3")]
    Threads {
        /// Cores to share.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Timed ResNet-20 steps per measurement (the small network runs 8x as many).
        #[arg(long, default_value_t = 4)]
        steps: usize,
        /// Rounds (medians are reported).
        #[arg(long, default_value_t = 3)]
        rounds: usize,
    },
    /// What one measured candidate costs: training throughput and one whole hardware-aware
    /// train + drift evaluation of a small network on `digits`.
    #[command(after_help = "Example:\n  analognas bench candidate --epochs 6 --reps 3")]
    Candidate {
        /// Training epochs.
        #[arg(long, default_value_t = 6)]
        epochs: usize,
        /// Drift-evaluation repetitions.
        #[arg(long, default_value_t = 3)]
        reps: usize,
    },
    /// Hardware-aware training through the periphery (DESIGN.md 3.4): each network trained on
    /// digits with several seeds digitally, with weight noise, and with weight noise plus the
    /// training periphery; accuracy at 1 s / 1 d / 30 d / 1 y with 95 % confidence intervals.
    #[command(
        after_help = "Example:\n  analognas bench hwa --seeds 5 --epochs 10 --reps 3\n  analognas bench hwa --network 'oc0=32 ks0=3 | r1b1Dw2 r1b1Dw2' --mode weight-noise --reps 5"
    )]
    Hwa(HwaBenchArgs),
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
    /// Search strategies on a measured CSV used as a table (measuring = looking the row up):
    /// active learning, random sampling and "fit on an LHS sample, then search" at the same
    /// numbers of measurements over many seeds; prints the table and the ratio of
    /// measurements active learning needs for random sampling's hypervolume, writes a plot.
    #[command(
        after_help = "Example:\n  analognas bench strategies --data surrogates/digits_pcm_aihwkit.csv --seeds 20 --plot strategies.png"
    )]
    Strategies(StrategiesArgs),
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

/// Arguments of `bench strategies`.
#[derive(Args, Debug)]
pub struct StrategiesArgs {
    /// Measured data set used as the pool.
    #[arg(long, default_value = "surrogates/digits_pcm_aihwkit.csv")]
    pub data: PathBuf,
    /// Seeds per strategy.
    #[arg(long, default_value_t = 20)]
    pub seeds: usize,
    /// Numbers of measurements compared, ascending, comma-separated
    /// [default: 10,20,30,40,50,60,80,100,150].
    #[arg(long, value_delimiter = ',')]
    pub budgets: Vec<usize>,
    /// Latin-hypercube start of active learning.
    #[arg(long, default_value_t = 10)]
    pub initial: usize,
    /// Networks per active-learning round.
    #[arg(long, default_value_t = 5)]
    pub batch: usize,
    /// Optimism of the acquisition: mean + KAPPA * sd.
    #[arg(long, default_value_t = 1.0)]
    pub kappa: f64,
    /// Plot of hypervolume against measurements (PNG).
    #[arg(long, default_value = "strategies.png")]
    pub plot: PathBuf,
}

/// Arguments of `bench train`.
#[derive(Args, Debug)]
pub struct TrainBenchArgs {
    /// Threads of the Rust side and of PyTorch.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Rounds (each figure is the median over rounds).
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// Timed training steps and inference passes per round.
    #[arg(long, default_value_t = 5)]
    pub steps: usize,
    /// Training batch size.
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// Inference batch size.
    #[arg(long, default_value_t = 256)]
    pub infer_batch: usize,
    /// The PyTorch twin.
    #[arg(long, default_value = "benches/torch_resnet.py")]
    pub torch_script: PathBuf,
    /// No PyTorch reference.
    #[arg(long)]
    pub no_torch: bool,
    /// No reference with burn's own flex operations.
    #[arg(long)]
    pub no_flex: bool,
}

/// Arguments of `bench hwa`.
#[derive(Args, Debug)]
pub struct HwaBenchArgs {
    /// Network to train (repeatable): a reference name or a genome summary such as
    /// `oc0=48 ks0=5 | r1b1Cw1 r1b1Cw3` (downsampling last_two). Default: resnet8,
    /// `oc0=48 ks0=5 | r1b1Cw1 r1b1Cw3`, `oc0=16 ks0=3 | r1b1Aw2 r1b1Bw4`.
    #[arg(long = "network")]
    pub networks: Vec<String>,
    /// Training mode (repeatable): digital, weight-noise, periphery. Default: all three.
    #[arg(long = "mode", value_parser = ["digital", "weight-noise", "periphery"])]
    pub modes: Vec<String>,
    /// Training seeds per network and mode.
    #[arg(long, default_value_t = 5)]
    pub seeds: usize,
    /// Training epochs.
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    /// Programmings per trained model.
    #[arg(long, default_value_t = 3)]
    pub reps: usize,
    /// Hardware profile (noise levels, periphery and the chip the models are evaluated on).
    #[arg(long, default_value = "hw_profiles/pcm_aihwkit.toml")]
    pub profile: PathBuf,
    /// Print the rows as JSON instead of the table.
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
        BenchCommand::Hwa(a) => {
            use analognas::bench::hwa::{HwaBenchConfig, HwaMode, hwa, hwa_table};
            if a.seeds == 0 || a.epochs == 0 || a.reps == 0 {
                return Err(Error::input(
                    "--seeds, --epochs and --reps: expected integers >= 1",
                ));
            }
            let profile = HwProfile::load(analognas::files::shipped_path(&a.profile))?;
            let mut cfg = HwaBenchConfig {
                seeds: a.seeds,
                epochs: a.epochs,
                reps: a.reps,
                ..HwaBenchConfig::default()
            };
            if !a.networks.is_empty() {
                cfg.networks = a.networks.clone();
            }
            if !a.modes.is_empty() {
                cfg.modes = a
                    .modes
                    .iter()
                    .map(|m| match m.as_str() {
                        "digital" => HwaMode::Digital,
                        "weight-noise" => HwaMode::WeightNoise,
                        _ => HwaMode::Periphery,
                    })
                    .collect();
            }
            let data = analognas::data::load(Task::Digits, None, 0)?;
            let rows = hwa(&profile, &data, &cfg, &mut |line| eprintln!("{line}"))?;
            if a.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&rows).expect("rows serialize")
                );
            } else {
                print!("{}", hwa_table(&rows, &profile, &cfg));
            }
            Ok(())
        }
        BenchCommand::Normal { draws, rounds } => {
            print!("{}", analognas::bench::normal::normal_report(draws, rounds));
            Ok(())
        }
        BenchCommand::Backends { steps } => {
            print!("{}", analognas::bench::backends_report(steps.max(1))?);
            Ok(())
        }
        BenchCommand::Train(a) => {
            if a.threads == 0 || a.rounds == 0 || a.steps == 0 || a.batch == 0 || a.infer_batch == 0
            {
                return Err(Error::input(
                    "--threads, --rounds, --steps, --batch and --infer-batch: expected integers >= 1",
                ));
            }
            let cfg = analognas::bench::train::TrainBenchConfig {
                batch: a.batch,
                infer_batch: a.infer_batch,
                steps: a.steps,
                rounds: a.rounds,
                threads: a.threads,
                torch_script: (!a.no_torch)
                    .then(|| analognas::files::shipped_path(&a.torch_script)),
                flex_reference: !a.no_flex,
                device: analognas::device::compute_device(),
            };
            print!("{}", analognas::bench::train::train_bench(&cfg)?);
            Ok(())
        }
        BenchCommand::Threads {
            threads,
            steps,
            rounds,
        } => {
            print!(
                "{}",
                analognas::bench::train::sharing_report(threads, steps.max(1), rounds)?
            );
            Ok(())
        }
        BenchCommand::Profile {
            batch,
            reps,
            threads,
        } => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads.max(1))
                .build()
                .map_err(|e| Error::input(format!("--threads {threads}: {e}")))?;
            let report = pool
                .install(|| analognas::bench::profile::profile_report(batch.max(1), reps.max(1)));
            print!("{report}");
            Ok(())
        }
        BenchCommand::Candidate { epochs, reps } => {
            print!(
                "{}",
                analognas::bench::train_report(epochs.max(1), reps.max(1))?
            );
            Ok(())
        }
        BenchCommand::Strategies(a) => {
            use analognas::bench::strategies::{StrategyConfig, plot, strategies, table};
            if !(a.kappa.is_finite() && a.kappa >= 0.0) {
                return Err(Error::input(format!(
                    "--kappa: expected a number >= 0, got {}",
                    a.kappa
                )));
            }
            let mut cfg = StrategyConfig {
                seeds: a.seeds,
                initial: a.initial,
                batch: a.batch,
                kappa: a.kappa,
                ..StrategyConfig::default()
            };
            if !a.budgets.is_empty() {
                cfg.budgets = a.budgets.clone();
            }
            let data =
                analognas::surrogate::Dataset::read(analognas::files::shipped_path(&a.data))?;
            let report = strategies(data, &cfg)?;
            print!("{}", table(&report));
            plot(&report, &a.plot)?;
            println!("\nplot: {}", a.plot.display());
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
            let mut scorer = analognas::pipeline::build_scorer(
                &surrogate.display().to_string(),
                Task::Digits,
                &profile,
                &space,
            )?;
            println!(
                "{}",
                analognas::bench::search(&space, &profile, Task::Digits, Some(scorer.as_mut()))?
                    .trim_end()
            );
            Ok(())
        }
    }
}
