//! ResNet-20 (3x32x32) training and inference throughput: digital and hardware-aware training
//! (SGD with momentum, batch 64 by default) and inference (batch 256), with this crate's fast
//! operations; references measured in the same run, round by round: burn's own flex operations
//! and, when `python3 -c "import torch"` works, the PyTorch twin `benches/torch_resnet.py` on
//! the same number of threads.

use super::median;
use crate::device::{ComputeDevice, training_device};
use crate::error::{Error, Result};
use crate::hw::HwProfile;
use crate::nn::fast::with_flex_ops;
use crate::nn::{Arch, Network, Reference};
use crate::task::Task;
use crate::train::{Stepper, TrainConfig};
use burn::module::Module;
use burn::tensor::Device;
use std::path::PathBuf;
use std::time::Instant;

/// Settings of [`train_bench`].
#[derive(Clone, Debug)]
pub struct TrainBenchConfig {
    /// Training batch size.
    pub batch: usize,
    /// Inference batch size.
    pub infer_batch: usize,
    /// Timed training steps (and inference passes) per round.
    pub steps: usize,
    /// Rounds; every figure is the median over rounds.
    pub rounds: usize,
    /// Threads of the rayon pool the Rust side runs in (and PyTorch's `set_num_threads`).
    pub threads: usize,
    /// The PyTorch twin (`None`: no PyTorch reference).
    pub torch_script: Option<PathBuf>,
    /// Also measure burn's own flex operations (the reference of the fast ones).
    pub flex_reference: bool,
    /// Where the Rust side runs.
    pub device: ComputeDevice,
}

impl Default for TrainBenchConfig {
    fn default() -> Self {
        TrainBenchConfig {
            batch: 64,
            infer_batch: 256,
            steps: 5,
            rounds: 5,
            threads: 2,
            torch_script: Some(crate::files::shipped_path("benches/torch_resnet.py")),
            flex_reference: true,
            device: ComputeDevice::Cpu,
        }
    }
}

/// Images per second of one side in one round.
#[derive(Clone, Copy, Debug, Default)]
struct Rates {
    digital: f64,
    hwa: f64,
    infer: f64,
}

fn resnet20() -> Arch {
    Arch::for_task(Reference::Resnet20.genome(), Task::Cifar10)
}

/// Training images per second of `steps` steps (after one untimed step) of ResNet-20.
fn train_rate(cfg: &TrainConfig, hwa: bool, batch: usize, steps: usize, device: &Device) -> f64 {
    arch_train_rate(&resnet20(), cfg, hwa, batch, steps, device)
}

/// Training images per second of `steps` steps (after one untimed step) of `arch` on random
/// inputs of its shape.
fn arch_train_rate(
    arch: &Arch,
    cfg: &TrainConfig,
    hwa: bool,
    batch: usize,
    steps: usize,
    device: &Device,
) -> f64 {
    let ad = training_device(device);
    let mut net = Network::from_arch_seeded(arch, &ad, 1);
    let mut stepper = Stepper::new(cfg, 1, &ad);
    let [c, h, w] = arch.input;
    let mut rng = crate::rng::seeded(2);
    let xs: Vec<f32> = (0..batch * c * h * w)
        .map(|_| crate::rng::normal(&mut rng))
        .collect();
    let ys: Vec<u32> = (0..batch as u32).map(|i| i % 10).collect();
    let (x, y) = crate::train::batch_tensors(xs, &ys, arch.input, &ad);
    let mut step = |net: Network| {
        let (loss, _) = stepper.forward(&net, x.clone(), y.clone(), hwa);
        let _ = loss.clone().into_scalar::<f32>();
        let grads = Stepper::backward(&net, loss);
        stepper.update(net, grads, 0.01, hwa)
    };
    net = step(net);
    let t = Instant::now();
    for _ in 0..steps {
        net = step(net);
    }
    let _ = net.stem.conv.weight.val().into_data();
    (steps * batch) as f64 / t.elapsed().as_secs_f64()
}

/// Inference images per second of ResNet-20 (`passes` passes after one untimed pass).
fn infer_rate(batch: usize, passes: usize, device: &Device) -> f64 {
    let ad = training_device(device);
    let net = Network::from_arch_seeded(&resnet20(), &ad, 1).valid();
    let (x, _) = super::backends::random_batch(batch, device, 3);
    let _ = net.forward(x.clone()).into_data();
    let t = Instant::now();
    for _ in 0..passes {
        let _ = net.forward(x.clone()).into_data();
    }
    (passes * batch) as f64 / t.elapsed().as_secs_f64()
}

fn rust_rates(cfg: &TrainBenchConfig, device: &Device) -> Rates {
    let hwa_cfg = TrainConfig::hardware_aware(&HwProfile::default());
    let digital_cfg = TrainConfig::default();
    Rates {
        digital: train_rate(&digital_cfg, false, cfg.batch, cfg.steps, device),
        hwa: train_rate(&hwa_cfg, true, cfg.batch, cfg.steps, device),
        infer: infer_rate(cfg.infer_batch, cfg.steps, device),
    }
}

/// Whether `python3 -c "import torch"` succeeds.
pub fn torch_available() -> bool {
    std::process::Command::new("python3")
        .args(["-c", "import torch"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn torch_rates(script: &std::path::Path, cfg: &TrainBenchConfig) -> Result<(Rates, String)> {
    let mut cmd = std::process::Command::new("python3");
    // GNU OpenMP's threads spin at barriers by default: on a shared machine, where another
    // process holds a core, that makes PyTorch's training about 10x slower (measured: 19.6
    // against 262 img/s on the same load). Passive waiting gives PyTorch its best figure here.
    if std::env::var_os("OMP_WAIT_POLICY").is_none() {
        cmd.env("OMP_WAIT_POLICY", "PASSIVE");
    }
    let out = cmd
        .arg(script)
        .args([
            cfg.threads.to_string(),
            cfg.steps.to_string(),
            cfg.steps.to_string(),
            cfg.batch.to_string(),
            cfg.infer_batch.to_string(),
        ])
        .output()
        .map_err(|e| Error::input(format!("{}: cannot run python3: {e}", script.display())))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap_or("");
    let v: serde_json::Value = serde_json::from_str(line).map_err(|_| {
        Error::input(format!(
            "{}: expected one JSON line of rates, got {:?} (stderr: {})",
            script.display(),
            line,
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        ))
    })?;
    let f = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    Ok((
        Rates {
            digital: f("train_img_s"),
            hwa: f("hwa_img_s"),
            infer: f("infer_img_s"),
        },
        format!(
            "PyTorch {} on {} threads, {} parameters",
            v["torch"].as_str().unwrap_or("?"),
            v["threads"],
            v["params"]
        ),
    ))
}

fn medians(rounds: &[Rates]) -> Rates {
    Rates {
        digital: median(rounds.iter().map(|r| r.digital).collect()),
        hwa: median(rounds.iter().map(|r| r.hwa).collect()),
        infer: median(rounds.iter().map(|r| r.infer).collect()),
    }
}

/// Runs the benchmark and returns the printed report.
pub fn train_bench(cfg: &TrainBenchConfig) -> Result<String> {
    let device = cfg.device.device()?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads.max(1))
        .build()
        .map_err(|e| Error::Training(format!("cannot start {} threads: {e}", cfg.threads)))?;
    let torch = cfg.torch_script.as_ref().filter(|_| torch_available());
    let on_cpu = matches!(cfg.device, ComputeDevice::Cpu);
    let (mut fast, mut flex, mut py) = (Vec::new(), Vec::new(), Vec::new());
    let mut torch_line = String::new();
    for _ in 0..cfg.rounds.max(1) {
        fast.push(pool.install(|| rust_rates(cfg, &device)));
        if cfg.flex_reference && on_cpu {
            flex.push(pool.install(|| with_flex_ops(|| rust_rates(cfg, &device))));
        }
        if let Some(script) = torch {
            let (r, line) = torch_rates(script, cfg)?;
            py.push(r);
            torch_line = line;
        }
    }
    let mut out = format!(
        "ResNet-20 (3x32x32, 272,474 parameters) on {}, {} threads ({}): training batch {} (SGD momentum 0.9, weight decay 5e-4), inference batch {}; img/s, median of {} rounds of {} steps\n",
        cfg.device,
        cfg.threads,
        super::cpu_name(),
        cfg.batch,
        cfg.infer_batch,
        cfg.rounds.max(1),
        cfg.steps
    );
    out += "hardware-aware = weight noise 0.06 * max|W| in every forward, 2.5-sigma clipping after each step (the default profile's [training])\n";
    out += &format!(
        "{:<34} {:>12} {:>16} {:>12}\n",
        "", "digital", "hardware-aware", "inference"
    );
    let row = |name: &str, r: &Rates| {
        format!(
            "{:<34} {:>12.1} {:>16.1} {:>12.1}\n",
            name, r.digital, r.hwa, r.infer
        )
    };
    let a = medians(&fast);
    out += &row(
        if on_cpu {
            "analognas (fast operations)"
        } else {
            "analognas"
        },
        &a,
    );
    let ratio = |name: &str, r: &Rates| {
        format!(
            "{:<34} {:>11.2}x {:>15.2}x {:>11.2}x\n",
            name,
            a.digital / r.digital,
            a.hwa / r.hwa,
            a.infer / r.infer
        )
    };
    if !flex.is_empty() {
        let f = medians(&flex);
        out += &row("burn flex operations (reference)", &f);
        out += &ratio("ratio analognas / flex", &f);
    }
    if !py.is_empty() {
        let p = medians(&py);
        out += &row("PyTorch twin (reference)", &p);
        out += &ratio("ratio analognas / PyTorch", &p);
        out += &format!(
            "{torch_line}; hardware-aware analognas / digital PyTorch: {:.2}x\n",
            a.hwa / p.digital
        );
    } else if cfg.torch_script.is_some() {
        out += "(python3 cannot import torch: no PyTorch reference)\n";
    }
    Ok(out)
}

/// How to share `threads` cores between candidates: hardware-aware training img/s (summed over
/// the candidates running at once) of one candidate on all `threads` threads against `threads`
/// candidates on one thread each, for a small network (digits, 1x8x8) and ResNet-20
/// (3x32x32); medians of `rounds`.
pub fn sharing_report(threads: usize, steps: usize, rounds: usize) -> Result<String> {
    let threads = threads.max(2);
    let cfg = TrainConfig::hardware_aware(&HwProfile::default());
    let pool = |n: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .map_err(|e| Error::Training(format!("cannot start {n} threads: {e}")))
    };
    let nets = [
        (
            "small (digits example, 1x8x8)",
            Arch::small_example(Task::Digits),
            steps * 8,
        ),
        ("ResNet-20 (3x32x32)", resnet20(), steps),
    ];
    let mut out = format!(
        "hardware-aware training img/s on {threads} cores, batch 64, median of {rounds} rounds\n{:<32} {:>22} {:>24} {:>8}\n",
        "network",
        format!("1 candidate x {threads} thr"),
        format!("{threads} candidates x 1 thr"),
        "ratio"
    );
    let wide = pool(threads)?;
    let narrow = (0..threads).map(|_| pool(1)).collect::<Result<Vec<_>>>()?;
    for (name, arch, steps) in &nets {
        let (mut one, mut many) = (Vec::new(), Vec::new());
        for _ in 0..rounds.max(1) {
            let device = Device::flex();
            one.push(wide.install(|| arch_train_rate(arch, &cfg, true, 64, *steps, &device)));
            let total: f64 = std::thread::scope(|s| {
                let handles: Vec<_> = narrow
                    .iter()
                    .map(|p| {
                        let (arch, cfg) = (&*arch, &cfg);
                        s.spawn(move || {
                            p.install(|| {
                                arch_train_rate(arch, cfg, true, 64, *steps, &Device::flex())
                            })
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap_or(0.0)).sum()
            });
            many.push(total);
        }
        let (a, b) = (median(one), median(many));
        out += &format!("{name:<32} {a:>22.1} {b:>24.1} {:>7.2}x\n", b / a);
    }
    Ok(out)
}
