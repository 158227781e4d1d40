//! A trained model on disk: `arch.json`, `model.bpk` (burn record) and `metrics.json`.

use super::{EpochStats, Trained};
use crate::error::{Error, Result, write_atomic};
use crate::nn::{Arch, Network};
use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::Device;
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
pub fn save_model_dir(
    dir: &Path,
    arch: &Arch,
    net: &Network,
    metrics: Option<&TrainMetrics>,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let arch_json = serde_json::to_string_pretty(arch).expect("arch serializes");
    write_atomic(dir.join(ARCH_FILE), arch_json.as_bytes())?;
    let bytes = net.clone().into_record().into_bytes().map_err(|e| {
        Error::input(format!(
            "{}: cannot encode weights: {e:?}",
            dir.join(WEIGHTS_FILE).display()
        ))
    })?;
    write_atomic(dir.join(WEIGHTS_FILE), &bytes)?;
    if let Some(m) = metrics {
        let text = serde_json::to_string_pretty(m).expect("metrics serialize");
        write_atomic(dir.join(METRICS_FILE), text.as_bytes())?;
    }
    Ok(())
}

/// Metrics of a fresh training run.
pub fn metrics_of(
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

/// Reads the architecture of a model directory.
pub fn load_arch(dir: &Path) -> Result<Arch> {
    let path = dir.join(ARCH_FILE);
    if !path.is_file() {
        return Err(Error::input(format!(
            "{}: missing architecture file (expected a model directory written by `analognas train` or `export`)",
            path.display()
        )));
    }
    let text = crate::error::read_to_string(&path)?;
    let arch: Arch = serde_json::from_str(&text).map_err(|e| {
        Error::input(format!(
            "{}:{}:{}: expected an architecture JSON: {e}",
            path.display(),
            e.line(),
            e.column()
        ))
    })?;
    arch.validate(&path.display().to_string())?;
    Ok(arch)
}

/// Builds the network of a model directory on `device` and loads its weights.
///
/// A missing or corrupt record gives an error naming the file.
pub fn load_model_dir(dir: &Path, device: &Device) -> Result<(Arch, Network)> {
    let arch = load_arch(dir)?;
    let path = dir.join(WEIGHTS_FILE);
    if !path.is_file() {
        return Err(Error::input(format!(
            "{}: missing weights file (train the model or export with --train)",
            path.display()
        )));
    }
    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    let record = std::panic::catch_unwind(|| {
        ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes))
    })
    .map_err(|_| Error::input(format!("{}: corrupt burn record", path.display())))?
    .map_err(|e| Error::input(format!("{}: corrupt burn record: {e:?}", path.display())))?;
    let net = Network::from_arch(&arch, device);
    let net =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| net.try_load_record(record)))
            .map_err(|_| Error::input(format!("{}: corrupt burn record", path.display())))?
            .map_err(|e| {
                Error::input(format!(
                    "{}: record does not match {}: {e:?}",
                    path.display(),
                    ARCH_FILE
                ))
            })?;
    Ok((arch, net))
}
