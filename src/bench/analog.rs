//! `bench analog`: analog inference against digital inference on the same batch.

use super::{cpu_name, median};
use crate::error::{Error, Result};
use crate::hw::{AnalogNetwork, HwProfile, NetworkWeights};
use crate::nn::{Arch, Network, Reference};
use crate::rng::{derive_seed, seeded};
use crate::task::Task;
use burn::tensor::{Tensor, TensorData};
use serde::Serialize;
use std::time::Instant;

/// Peak memory of one phase of the benchmark.
#[derive(Clone, Debug, Serialize)]
pub struct Memory {
    /// Resident set size when the phase started, MB.
    pub rss_start_mb: f64,
    /// Peak resident set size during the phase, MB.
    pub peak_rss_mb: f64,
}

/// What `bench analog` measured (times in seconds, medians over the repetitions).
#[derive(Clone, Debug, Serialize)]
#[allow(missing_docs)]
pub struct AnalogBench {
    pub network: String,
    pub profile: String,
    pub batch: usize,
    pub reps: usize,
    pub threads: usize,
    pub cpu: String,
    pub memory_method: String,
    pub analog_program_s: f64,
    pub analog_read_s: f64,
    pub analog_forward_s: f64,
    pub analog_forward_min_s: f64,
    pub digital_forward_s: f64,
    pub digital_forward_min_s: f64,
    pub ratio: f64,
    pub ratio_with_read: f64,
    pub analog_memory: Option<Memory>,
    pub digital_memory: Option<Memory>,
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

/// Settings of `bench analog`.
#[derive(Clone, Debug)]
pub struct AnalogBenchConfig {
    /// Images per batch (3x32x32).
    pub batch: usize,
    /// Timed repetitions of each forward pass (analog and digital alternating).
    pub reps: usize,
    /// Seed of the weights, the batch and the noise.
    pub seed: u64,
}

/// Analog inference of ResNet-20 (CIFAR-10 shape) at t = 1 day on `profile` against digital
/// inference (burn `Network::forward`) on the same random batch: times, ratio, peak memory.
pub fn analog(a: &AnalogBenchConfig, profile: &HwProfile) -> Result<AnalogBench> {
    if a.batch == 0 || a.reps == 0 {
        return Err(Error::input(format!(
            "--batch and --reps: expected integers >= 1, got {} and {}",
            a.batch, a.reps
        )));
    }
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
        let chip = AnalogNetwork::program(&weights, profile, derive_seed(a.seed, 2));
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
    Ok(report)
}

impl AnalogBench {
    /// The report as text, one measurement per line.
    pub fn to_text(&self) -> String {
        let r = self;
        let mut out = String::new();
        out += &format!(
            "bench analog: {} batch {}, profile {}, t = 1 day, {} threads on {}\n",
            r.network, r.batch, r.profile, r.threads, r.cpu
        );
        out += &format!(
            "  analog  forward {:>8.1} ms (median of {}, min {:.1} ms); program {:.1} ms, read at 1 day {:.1} ms (median)\n",
            1e3 * r.analog_forward_s,
            r.reps,
            1e3 * r.analog_forward_min_s,
            1e3 * r.analog_program_s,
            1e3 * r.analog_read_s
        );
        out += &format!(
            "  digital forward {:>8.1} ms (median of {}, min {:.1} ms; burn flex Network::forward)\n",
            1e3 * r.digital_forward_s,
            r.reps,
            1e3 * r.digital_forward_min_s
        );
        out += &format!(
            "  ratio analog/digital {:.2}x (forward), {:.2}x (read + forward)\n",
            r.ratio, r.ratio_with_read
        );
        let mem = |m: &Option<Memory>| match m {
            Some(m) => format!(
                "peak RSS {:.0} MB (RSS at start {:.0} MB)",
                m.peak_rss_mb, m.rss_start_mb
            ),
            None => "peak RSS unavailable (no /proc/self/clear_refs)".into(),
        };
        out += &format!("  analog  memory: {}\n", mem(&r.analog_memory));
        out += &format!("  digital memory: {}\n", mem(&r.digital_memory));
        out += &format!("  memory measured as {}\n", r.memory_method);
        out
    }
}
