//! `analognas train` and `analognas evaluate`.

use analognas::error::{Error, Result};
use analognas::hw::HwProfile;
use analognas::measure::{parse_time, time_label};
use analognas::model::{TrainedModel, check_task_shape};
use analognas::nn::{Arch, Reference};
use analognas::task::Task;
use analognas::train::{Budget, OptimizerKind, TrainConfig};
use clap::Args;
use std::path::PathBuf;

/// Options shared by commands that train.
#[derive(Args, Debug, Clone)]
pub struct TrainOptions {
    /// Epochs of training (default 10 when neither --epochs nor --seconds is given).
    #[arg(long, conflicts_with = "seconds")]
    pub epochs: Option<usize>,
    /// Wall-clock training budget in seconds instead of epochs.
    #[arg(long)]
    pub seconds: Option<f64>,
    /// Hardware-aware weight noise relative to max|W| (default: the profile's training.weight_noise; 0 = digital, without the training periphery too).
    #[arg(long)]
    pub hwa_noise: Option<f64>,
    /// Leading epochs without noise.
    #[arg(long, default_value_t = 0)]
    pub warmup_epochs: usize,
    /// Batch size.
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Peak learning rate (cosine schedule). Default: 0.05 for SGD, 0.002 for Adam.
    #[arg(long)]
    pub lr: Option<f64>,
    /// Optimiser.
    #[arg(long, value_parser = super::choice::<OptimizerKind>(), default_value = "sgd")]
    pub optimizer: OptimizerKind,
}

impl TrainOptions {
    /// The training configuration these options describe on `profile`.
    pub fn config(&self, profile: &HwProfile) -> Result<TrainConfig> {
        let mut cfg = TrainConfig::hardware_aware(profile);
        cfg.budget = match (self.epochs, self.seconds) {
            (Some(0), _) => return Err(Error::input("--epochs: expected an integer >= 1, got 0")),
            (Some(e), _) => Budget::Epochs(e),
            (None, Some(s)) if s > 0.0 && s.is_finite() => Budget::Seconds(s),
            (None, Some(s)) => {
                return Err(Error::input(format!(
                    "--seconds: expected a number > 0, got {s}"
                )));
            }
            (None, None) => Budget::Epochs(10),
        };
        if let Some(n) = self.hwa_noise {
            if !(n >= 0.0 && n.is_finite()) {
                return Err(Error::input(format!(
                    "--hwa-noise: expected a number >= 0, got {n}"
                )));
            }
            cfg.hwa_noise = n;
            if n == 0.0 {
                // Digital training: no training periphery either.
                cfg.forward_periphery = None;
            }
        }
        if self.batch_size == 0 {
            return Err(Error::input(
                "--batch-size: expected an integer >= 1, got 0",
            ));
        }
        cfg.batch_size = self.batch_size;
        cfg.optimizer = self.optimizer;
        cfg.lr = self.lr.unwrap_or(match self.optimizer {
            OptimizerKind::Sgd => 0.05,
            OptimizerKind::Adam => 0.002,
        });
        if !(cfg.lr > 0.0 && cfg.lr.is_finite()) {
            return Err(Error::input(format!(
                "--lr: expected a number > 0, got {}",
                cfg.lr
            )));
        }
        cfg.warmup_epochs = self.warmup_epochs;
        Ok(cfg)
    }
}

/// Arguments of `train`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  analognas train --task digits --reference resnet8 --epochs 10 --seed 1 --out models/r8\n  analognas train --task mnist --arch genome.json --hwa-noise 0 --seconds 60 --out models/digital"
)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["arch", "reference"])))]
pub struct TrainArgs {
    /// Task.
    #[arg(long, value_parser = super::choice::<Task>(), default_value = "digits")]
    pub task: Task,
    /// Data folder of the task (mnist, cifar10, kws, vww).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Genome or architecture JSON.
    #[arg(long)]
    pub arch: Option<PathBuf>,
    /// A reference network instead of --arch.
    #[arg(long, value_parser = super::choice::<Reference>())]
    pub reference: Option<Reference>,
    /// Hardware profile (its training noise and clipping are used).
    #[arg(long, default_value = "hw_profiles/pcm_aihwkit.toml")]
    pub profile: PathBuf,
    /// Training options.
    #[command(flatten)]
    pub opts: TrainOptions,
    /// Random seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output model directory (arch.json, model.bpk, metrics.json).
    #[arg(long)]
    pub out: PathBuf,
}

/// Resolves `--arch` / `--reference` on a task.
pub fn resolve_arch(
    arch: &Option<PathBuf>,
    reference: Option<Reference>,
    task: Task,
) -> Result<Arch> {
    match (arch, reference) {
        (Some(p), _) => Arch::load(p, task),
        (None, Some(r)) => Ok(Arch::for_task(r.genome(), task)),
        (None, None) => Err(Error::input("expected --arch FILE or --reference NAME")),
    }
}

/// Runs `train`.
pub fn run_train(a: TrainArgs) -> Result<()> {
    if a.out.exists() && !a.out.is_dir() {
        return Err(Error::input(format!(
            "--out {}: expected a model directory (new or existing), got a file",
            a.out.display()
        )));
    }
    let profile = HwProfile::load(analognas::files::shipped_path(&a.profile))?;
    let arch = resolve_arch(&a.arch, a.reference, a.task)?;
    check_task_shape(&arch, a.task)?;
    let cfg = a.opts.config(&profile)?;
    let data = analognas::data::load(a.task, a.data.as_deref(), a.seed)?;
    eprintln!(
        "training {} ({}) on {} ({} train / {} val / {} test), {}, hwa noise {}",
        arch.genome.id(),
        arch.genome.summary(),
        a.task,
        data.train.len(),
        data.val.len(),
        data.test.len(),
        cfg.budget,
        cfg.hwa_noise
    );
    let bars = super::progress::Bars::new();
    let model = TrainedModel::train_to_dir(&arch, &data, &cfg, a.seed, &a.out, &bars)?;
    let m = model
        .metrics
        .as_ref()
        .expect("a fresh training has metrics");
    for e in &m.curve {
        println!(
            "epoch {:>3}  loss {:.4}  train {:.2}%  val {:.2}%  {:.1}s",
            e.epoch, e.loss, e.train_acc, e.val_acc, e.seconds
        );
    }
    println!(
        "digital test accuracy {:.2}% after {:.1}s ({:.0} img/s)",
        m.acc_fp, m.train_seconds, m.images_per_second
    );
    println!("wrote {}", a.out.display());
    Ok(())
}

/// Arguments of `evaluate`.
#[derive(Args, Debug)]
#[command(
    after_help = "Example:\n  analognas evaluate --task digits --model models/r8 --profile hw_profiles/pcm_aihwkit.toml --reps 10"
)]
pub struct EvaluateArgs {
    /// Task.
    #[arg(long, value_parser = super::choice::<Task>(), default_value = "digits")]
    pub task: Task,
    /// Data folder of the task.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Model directory written by `train` or `export`.
    #[arg(long)]
    pub model: PathBuf,
    /// Hardware profile to program the network on.
    #[arg(long, default_value = "hw_profiles/pcm_aihwkit.toml")]
    pub profile: PathBuf,
    /// Times after programming, comma-separated (s, m, h, d, y suffixes).
    #[arg(long, default_value = "1s,1h,1d,30d,1y")]
    pub times: String,
    /// Repetitions per time (fresh programming each).
    #[arg(long, default_value_t = 5)]
    pub reps: usize,
    /// Random seed of the programming and read noise.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Runs `evaluate`.
pub fn run_evaluate(a: EvaluateArgs) -> Result<()> {
    let profile = HwProfile::load(analognas::files::shipped_path(&a.profile))?;
    let times = a
        .times
        .split(',')
        .map(|s| {
            parse_time(s).ok_or_else(|| {
                Error::input(format!(
                    "--times: expected times like 1s,1h,1d,30d,1y, got \"{s}\""
                ))
            })
        })
        .collect::<Result<Vec<f64>>>()?;
    if a.reps == 0 {
        return Err(Error::input("--reps: expected an integer >= 1, got 0"));
    }
    let device = analognas::device::default_device();
    let model = TrainedModel::load(&a.model, &device)?;
    model.check_task(a.task)?;
    let arch = &model.arch;
    let data = analognas::data::load(a.task, a.data.as_deref(), a.seed)?;
    let report = model.evaluate_drift(&data.test, &profile, &times, a.reps, a.seed)?;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("report serializes")
        );
        return Ok(());
    }
    println!(
        "{} on {} ({} test samples, {} programmings; std over programmings, se = std/sqrt({}))",
        arch.genome.id(),
        profile.name,
        report.samples,
        report.reps,
        report.reps
    );
    let sqrt_reps = (report.reps.max(1) as f64).sqrt();
    println!("{:<8} {:>9} {:>7} {:>7}", "time", "accuracy", "std", "se");
    println!(
        "{:<8} {:>8.2}% {:>7} {:>7}",
        "digital", report.acc_fp, "-", "-"
    );
    for p in &report.points {
        println!(
            "{:<8} {:>8.2}% {:>7.2} {:>7.2}",
            time_label(p.t_seconds),
            p.mean,
            p.std,
            p.std / sqrt_reps
        );
    }
    if let Some(avm) = report.avm {
        let se = report.avm_se.unwrap_or(0.0);
        println!("AVM (1s - 30d): {avm:.2} points, se {se:.2} (paired over programmings)");
    }
    Ok(())
}
