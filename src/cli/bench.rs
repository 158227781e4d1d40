//! `analognas bench ...`: performance benchmarks.

use crate::error::{Error, Result};
use crate::hw::{AnalogNetwork, HwProfile, NetworkWeights};
use crate::nn::{Arch, Network, Reference};
use crate::rng::{derive_seed, seeded};
use crate::task::Task;
use burn::tensor::{Tensor, TensorData};
use clap::{Args, Subcommand};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

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
        BenchCommand::Analog(a) => analog(a),
        BenchCommand::Backends { steps } => {
            print!("{}", crate::bench::backends_report(steps.max(1))?);
            Ok(())
        }
        BenchCommand::Train { epochs, reps } => {
            print!(
                "{}",
                crate::bench::train_report(epochs.max(1), reps.max(1))?
            );
            Ok(())
        }
        BenchCommand::Surrogate { data } => {
            print!(
                "{}",
                crate::surrogate::bench::run(&super::shipped_path(&data))?
            );
            Ok(())
        }
        BenchCommand::Search { surrogate } => {
            let space = crate::space::SearchSpace::load(super::shipped_path(
                std::path::Path::new(super::search::DEFAULT_SPACE),
            ))?;
            let profile = HwProfile::load(super::shipped_path(std::path::Path::new(
                super::search::DEFAULT_PROFILE,
            )))?;
            let setup = super::search::ScoringSetup {
                surrogate: &surrogate.display().to_string(),
                task: Task::Digits,
                data: None,
                profile: &profile,
                space: &space,
            };
            let mut scorer = super::search::build_scorer(&setup)?;
            println!(
                "{}",
                crate::search::bench(&space, &profile, Task::Digits, Some(scorer.as_mut()))?
                    .trim_end()
            );
            Ok(())
        }
    }
}

/// Peak memory of one phase of the benchmark.
#[derive(Debug, Serialize)]
struct Memory {
    /// Resident set size when the phase started, MB.
    rss_start_mb: f64,
    /// Peak resident set size during the phase, MB.
    peak_rss_mb: f64,
}

#[derive(Debug, Serialize)]
struct AnalogBench {
    network: String,
    profile: String,
    batch: usize,
    reps: usize,
    threads: usize,
    cpu: String,
    memory_method: String,
    analog_program_s: f64,
    analog_read_s: f64,
    analog_forward_s: f64,
    analog_forward_min_s: f64,
    digital_forward_s: f64,
    digital_forward_min_s: f64,
    ratio: f64,
    ratio_with_read: f64,
    analog_memory: Option<Memory>,
    digital_memory: Option<Memory>,
}

/// `VmRSS` and `VmHWM` of this process in MB (Linux).
fn rss_mb() -> Option<(f64, f64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Resets the peak-RSS mark (`VmHWM`) to the current RSS; false where the kernel does not allow it.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Runs `phase` between a reset of the peak-RSS mark and a read of it.
fn with_peak<T>(phase: impl FnOnce() -> T) -> (T, Option<Memory>) {
    let ok = reset_peak();
    let start = rss_mb();
    let out = phase();
    let mem = match (ok, start, rss_mb()) {
        (true, Some((rss, _)), Some((_, hwm))) => Some(Memory {
            rss_start_mb: rss,
            peak_rss_mb: hwm,
        }),
        _ => None,
    };
    (out, mem)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn cpu_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn analog(a: AnalogBenchArgs) -> Result<()> {
    if a.batch == 0 || a.reps == 0 {
        return Err(Error::input(format!(
            "--batch and --reps: expected integers >= 1, got {} and {}",
            a.batch, a.reps
        )));
    }
    let profile = HwProfile::load(super::hw::resolve_profile(&a.profile))?;
    let arch = Arch::for_task(Reference::Resnet20.genome(), Task::Cifar10);
    let device = crate::device::default_device();
    let net = Network::from_arch_seeded(&arch, &device, a.seed);
    let weights = NetworkWeights::from_network(&net, &arch);
    let [c, h, w] = arch.input;
    let mut rng = seeded(derive_seed(a.seed, 1));
    let x: Vec<f32> = (0..a.batch * c * h * w)
        .map(|_| crate::rng::normal(&mut rng))
        .collect();
    let t_inf = 86_400.0;

    let digital = |rep: u64| {
        let input = Tensor::<4>::from_data(TensorData::new(x.clone(), [a.batch, c, h, w]), &device);
        let y = net
            .forward(input)
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .expect("logits are f32");
        std::hint::black_box((rep, y));
    };
    // Memory: one pass of each, analog first (its peak is then free of what the digital pass
    // leaves in the allocator). These passes also warm both up.
    let ((chip, program_s), analog_memory) = with_peak(|| {
        let t = Instant::now();
        let chip = AnalogNetwork::program(&weights, &profile, derive_seed(a.seed, 2));
        let program_s = t.elapsed().as_secs_f64();
        std::hint::black_box(chip.read(t_inf, derive_seed(a.seed, 3)).forward(
            &x,
            a.batch,
            derive_seed(a.seed, 4),
        ));
        (chip, program_s)
    });
    let ((), digital_memory) = with_peak(|| digital(0));
    // Time: analog and digital passes alternate, so both see the same machine load.
    let mut read_times = Vec::new();
    let mut analog_times = Vec::new();
    let mut digital_times = Vec::new();
    for rep in 0..a.reps as u64 {
        let t = Instant::now();
        let read = chip.read(t_inf, derive_seed(a.seed, 10 + rep));
        read_times.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let y = read.forward(&x, a.batch, derive_seed(a.seed, 1000 + rep));
        analog_times.push(t.elapsed().as_secs_f64());
        std::hint::black_box(y);
        let t = Instant::now();
        digital(rep);
        digital_times.push(t.elapsed().as_secs_f64());
    }
    let read_s = median(read_times);
    let analog_s = median(analog_times.clone());
    let digital_s = median(digital_times.clone());
    let report = AnalogBench {
        network: "resnet20 (cifar10, 3x32x32)".into(),
        profile: profile.name.clone(),
        batch: a.batch,
        reps: a.reps,
        threads: rayon::current_num_threads(),
        cpu: cpu_name(),
        memory_method: "peak RSS of this process during one pass of each (analog: program + read + forward; digital: forward), VmHWM from /proc/self/status after resetting it through /proc/self/clear_refs".into(),
        analog_program_s: program_s,
        analog_read_s: read_s,
        analog_forward_s: analog_s,
        analog_forward_min_s: analog_times.iter().copied().fold(f64::INFINITY, f64::min),
        digital_forward_s: digital_s,
        digital_forward_min_s: digital_times.iter().copied().fold(f64::INFINITY, f64::min),
        ratio: analog_s / digital_s,
        ratio_with_read: (analog_s + read_s) / digital_s,
        analog_memory,
        digital_memory,
    };
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("report serializes")
        );
        return Ok(());
    }
    let r = &report;
    println!(
        "bench analog: {} batch {}, profile {}, t = 1 day, {} threads on {}",
        r.network, r.batch, r.profile, r.threads, r.cpu
    );
    println!(
        "  analog  forward {:>8.1} ms (median of {}, min {:.1} ms); program {:.1} ms, read at 1 day {:.1} ms (median)",
        1e3 * r.analog_forward_s,
        r.reps,
        1e3 * r.analog_forward_min_s,
        1e3 * r.analog_program_s,
        1e3 * r.analog_read_s
    );
    println!(
        "  digital forward {:>8.1} ms (median of {}, min {:.1} ms; burn flex Network::forward)",
        1e3 * r.digital_forward_s,
        r.reps,
        1e3 * r.digital_forward_min_s
    );
    println!(
        "  ratio analog/digital {:.2}x (forward), {:.2}x (read + forward)",
        r.ratio, r.ratio_with_read
    );
    let mem = |m: &Option<Memory>| match m {
        Some(m) => format!(
            "peak RSS {:.0} MB (RSS at start {:.0} MB)",
            m.peak_rss_mb, m.rss_start_mb
        ),
        None => "peak RSS unavailable (no /proc/self/clear_refs)".into(),
    };
    println!("  analog  memory: {}", mem(&r.analog_memory));
    println!("  digital memory: {}", mem(&r.digital_memory));
    println!("  memory measured as {}", r.memory_method);
    Ok(())
}
