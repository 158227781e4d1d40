//! The model directory: a trained network on disk, as `analognas train`, `evaluate`, `export`,
//! `infer` and your own program use it. One directory holds `arch.json` (genome, input shape,
//! classes), `model.bpk` (the burn record) and `metrics.json` (how it was trained).
//!
//! ```no_run
//! use analognas::model::TrainedModel;
//! use analognas::hw::HwProfile;
//!
//! let device = analognas::device::default_device();
//! let model = TrainedModel::load("results/example/export".as_ref(), &device)?;
//! let x = vec![0.0f32; 4 * 64]; // 4 digits of 1x8x8
//! let digital = model.digital_logits(&x, 4);
//! let profile = HwProfile::load(analognas::files::shipped_path("hw_profiles/pcm_aihwkit.toml"))?;
//! let chip = model.program(&profile, 7);
//! let after_a_day = chip.read(86_400.0, 8).forward(&x, 4, 9);
//! # Ok::<(), analognas::Error>(())
//! ```

use crate::data::{Dataset, TaskData};
use crate::error::{Error, Result, write_atomic};
use crate::hw::{AnalogNetwork, HwProfile, NetworkWeights};
use crate::nn::{Arch, Network};
use crate::progress::Observer;
use crate::train::{
    DriftReport, EpochStats, TrainConfig, TrainError, Trained, evaluate_drift, train_observed,
};
use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// File name of the architecture in a model directory.
pub const ARCH_FILE: &str = "arch.json";
/// File name of the burn record (burnpack) in a model directory.
pub const WEIGHTS_FILE: &str = "model.bpk";
/// File name of the training metrics in a model directory.
pub const METRICS_FILE: &str = "metrics.json";

/// What `metrics.json` holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainMetrics {
    /// Task name.
    pub task: String,
    /// Digital test accuracy in percent.
    pub acc_fp: f64,
    /// Seconds spent training.
    pub train_seconds: f64,
    /// Training throughput.
    pub images_per_second: f64,
    /// Hardware-aware noise used.
    pub hwa_noise: f64,
    /// Training budget as text.
    pub budget: String,
    /// Seed.
    pub seed: u64,
    /// Per-epoch statistics.
    pub curve: Vec<EpochStats>,
}

/// Writes a model directory: architecture, weights and metrics (each file atomically).
fn save_model_dir(
    dir: &Path,
    arch: &Arch,
    net: &Network,
    metrics: Option<&TrainMetrics>,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let arch_json = serde_json::to_string_pretty(arch).expect("arch serializes");
    write_atomic(dir.join(ARCH_FILE), arch_json.as_bytes())?;
    let bytes = net.clone().into_record().into_bytes().map_err(|e| {
        TrainError::model_file(
            dir.join(WEIGHTS_FILE),
            format!("cannot encode weights: {e:?}"),
        )
    })?;
    write_atomic(dir.join(WEIGHTS_FILE), &bytes)?;
    if let Some(m) = metrics {
        let text = serde_json::to_string_pretty(m).expect("metrics serialize");
        write_atomic(dir.join(METRICS_FILE), text.as_bytes())?;
    }
    Ok(())
}

/// Metrics of a fresh training run.
fn metrics_of(
    trained: &Trained,
    task: &str,
    hwa_noise: f64,
    budget: String,
    seed: u64,
) -> TrainMetrics {
    TrainMetrics {
        task: task.to_string(),
        acc_fp: trained.acc_fp,
        train_seconds: trained.train_seconds,
        images_per_second: trained.images_per_second,
        hwa_noise,
        budget,
        seed,
        curve: trained.curve.clone(),
    }
}

/// Checks that `arch` fits `task`: the same input shape and number of classes.
pub fn check_task_shape(arch: &Arch, task: crate::task::Task) -> Result<()> {
    if arch.input != task.input_shape() || arch.classes != task.classes() {
        return Err(TrainError::Setting {
            flag: "--task",
            expected: "a task with the architecture's input shape and classes",
            got: format!(
                "{task} ({:?}, {} classes) for an architecture with input {:?} and {} classes",
                task.input_shape(),
                task.classes(),
                arch.input,
                arch.classes
            ),
        }
        .into());
    }
    Ok(())
}

/// Writes only the architecture of a model directory (`arch.json`), removing stale weights
/// and metrics: a directory that describes a network nobody trained yet.
pub fn write_arch_only(dir: &Path, arch: &Arch) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    for stale in [WEIGHTS_FILE, METRICS_FILE] {
        let _ = std::fs::remove_file(dir.join(stale));
    }
    let text = serde_json::to_string_pretty(arch).expect("arch serializes");
    write_atomic(dir.join(ARCH_FILE), text.as_bytes())
}

/// Reads the architecture of a model directory.
pub fn load_arch(dir: &Path) -> Result<Arch> {
    let path = dir.join(ARCH_FILE);
    if !path.is_file() {
        return Err(TrainError::model_file(
            &path,
            "missing architecture file (expected a model directory written by `analognas train` or `export`)",
        )
        .into());
    }
    let text = crate::error::read_to_string(&path)?;
    let arch: Arch = serde_json::from_str(&text).map_err(|e| {
        TrainError::model_file(
            &path,
            format!(
                "{}:{}: expected an architecture JSON: {e}",
                e.line(),
                e.column()
            ),
        )
    })?;
    arch.validate(&path.display().to_string())?;
    Ok(arch)
}

/// Builds the network of a model directory on `device` and loads its weights.
///
/// A missing or corrupt record gives an error naming the file.
fn load_model_dir(dir: &Path, device: &Device) -> Result<(Arch, Network)> {
    let arch = load_arch(dir)?;
    let path = dir.join(WEIGHTS_FILE);
    if path.is_dir() {
        return Err(
            TrainError::model_file(&path, "expected a burn record file, got a directory").into(),
        );
    }
    if !path.is_file() {
        return Err(TrainError::model_file(
            &path,
            "missing weights file (train the model or export with --train)",
        )
        .into());
    }
    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    let corrupt =
        |detail: String| TrainError::model_file(&path, format!("corrupt burn record{detail}"));
    let record = std::panic::catch_unwind(|| {
        ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes))
    })
    .map_err(|_| corrupt(String::new()))?
    .map_err(|e| corrupt(format!(": {e:?}")))?;
    let net = Network::from_arch(&arch, device);
    let net =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| net.try_load_record(record)))
            .map_err(|_| corrupt(String::new()))?
            .map_err(|e| {
                TrainError::model_file(&path, format!("record does not match {ARCH_FILE}: {e:?}"))
            })?;
    Ok((arch, net))
}

/// A network with its architecture and trained weights, ready for inference.
#[derive(Debug)]
pub struct TrainedModel {
    /// The architecture (genome, input shape, classes).
    pub arch: Arch,
    /// The burn module (inference mode); train it further, save it, or call `forward`.
    pub net: Network,
    /// Training metrics, when the directory has them.
    pub metrics: Option<TrainMetrics>,
}

impl TrainedModel {
    /// Loads a model directory (`arch.json`, `model.bpk`, optional `metrics.json`) onto `device`.
    ///
    /// A missing or corrupt file gives an error naming it.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let (arch, net) = load_model_dir(dir, device)?;
        let metrics_path = dir.join(METRICS_FILE);
        let metrics = if metrics_path.is_file() {
            let text = crate::error::read_to_string(&metrics_path)?;
            Some(serde_json::from_str(&text).map_err(|e| {
                TrainError::model_file(
                    &metrics_path,
                    format!("expected training metrics JSON: {e}"),
                )
            })?)
        } else {
            None
        };
        Ok(TrainedModel { arch, net, metrics })
    }

    /// Trains `arch` on `data` with `cfg` and `seed` (progress to `observer`) and keeps the
    /// training metrics with the weights.
    pub fn train(
        arch: &Arch,
        data: &TaskData,
        cfg: &TrainConfig,
        seed: u64,
        observer: &dyn Observer,
    ) -> Result<Self> {
        let trained = train_observed(arch, data, cfg, seed, observer)?;
        let metrics = metrics_of(
            &trained,
            data.task.name(),
            cfg.hwa_noise,
            cfg.budget.to_string(),
            seed,
        );
        Ok(TrainedModel {
            arch: arch.clone(),
            net: trained.net,
            metrics: Some(metrics),
        })
    }

    /// [`TrainedModel::train`], then writes the model directory `dir`.
    pub fn train_to_dir(
        arch: &Arch,
        data: &TaskData,
        cfg: &TrainConfig,
        seed: u64,
        dir: &Path,
        observer: &dyn Observer,
    ) -> Result<Self> {
        let model = Self::train(arch, data, cfg, seed, observer)?;
        model.save(dir)?;
        Ok(model)
    }

    /// Programs the network `reps` times onto `profile` and measures accuracy on `test` at
    /// each of `times` (seconds after programming); all draws come from `seed`.
    pub fn evaluate_drift(
        &self,
        test: &Dataset,
        profile: &HwProfile,
        times: &[f64],
        reps: usize,
        seed: u64,
    ) -> Result<DriftReport> {
        evaluate_drift(&self.net, &self.arch, test, profile, times, reps, seed)
    }

    /// Checks that the model fits `task`'s input shape and classes.
    pub fn check_task(&self, task: crate::task::Task) -> Result<()> {
        check_task_shape(&self.arch, task)
    }

    /// Writes the model as a directory that [`TrainedModel::load`] reads back.
    pub fn save(&self, dir: &Path) -> Result<()> {
        save_model_dir(dir, &self.arch, &self.net, self.metrics.as_ref())
    }

    /// Digital logits `[batch, classes]` (row-major) of `batch` inputs laid out `[batch, c, h, w]`.
    pub fn digital_logits(&self, x: &[f32], batch: usize) -> Vec<f32> {
        let [c, h, w] = self.arch.input;
        let device = self.net.head.weight.val().device();
        let x = Tensor::<4>::from_data(TensorData::new(x.to_vec(), [batch, c, h, w]), &device);
        self.net
            .forward(x)
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .expect("float logits")
    }

    /// Programs the network onto a simulated chip of `profile` with the genome's hardware genes
    /// applied ([`HwProfile::for_arch`]; programming noise and drift exponents drawn from
    /// `seed`); read it at any time with [`AnalogNetwork::read`].
    pub fn program(&self, profile: &HwProfile, seed: u64) -> AnalogNetwork {
        AnalogNetwork::program(
            &NetworkWeights::from_network(&self.net, &self.arch),
            &profile.for_arch(&self.arch),
            seed,
        )
    }
}
