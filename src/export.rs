//! Export: a found architecture leaves the tool as a model directory that
//! [`crate::model::TrainedModel::load`] (or `Network::from_arch` + a burn record) reads back.
//!
//! An export directory holds `genome.json` (the genome), `arch.json` (genome, input shape,
//! classes), `export.json` (where it came from, predicted and measured figures, and the digital
//! logits of a fixed check batch) and, when trained, `model.bpk` and `metrics.json`.

use crate::data::TaskData;
use crate::error::{Error, Result, write_atomic};
use crate::hw::HwProfile;
use crate::model::TrainedModel;
use crate::nn::Arch;
use crate::space::Genome;
use crate::task::Task;
use crate::train::{
    ARCH_FILE, METRICS_FILE, TrainConfig, WEIGHTS_FILE, metrics_of, save_model_dir, train,
};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// File name of the export description.
pub const EXPORT_FILE: &str = "export.json";
/// File name of the plain genome.
pub const GENOME_FILE: &str = "genome.json";
/// Test samples whose digital logits are stored as the check batch.
pub const CHECK_SAMPLES: usize = 8;

/// What `export.json` holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportInfo {
    /// Genome id.
    pub id: String,
    /// Task name.
    pub task: Task,
    /// Input shape `[c, h, w]`.
    pub input: [usize; 3],
    /// Classes.
    pub classes: usize,
    /// Where the architecture came from (`run DIR rank N`, or a genome file).
    pub source: String,
    /// Whether `model.bpk` holds trained weights.
    pub weights: bool,
    /// Predicted figures from the search, when exported from a run.
    pub predicted: Option<serde_json::Value>,
    /// Measured figures from the run's validation, when it measured this network.
    pub measured: Option<serde_json::Value>,
    /// Digital logits `[CHECK_SAMPLES, classes]` of the first test samples, computed before
    /// the weights were written: an import must reproduce them exactly.
    pub check_logits: Option<Vec<f32>>,
}

/// How to pick a front member of a run.
#[derive(Clone, Debug)]
pub enum Pick {
    /// 1-based rank in `pareto.json` (the order of the report's front table).
    Rank(usize),
    /// Genome id.
    Id(String),
}

/// Whether and how to train on export: hardware-aware training with the profile's noise.
#[derive(Clone, Debug)]
pub struct ExportTraining {
    /// Training epochs.
    pub epochs: usize,
    /// Seed.
    pub seed: u64,
}

impl ExportTraining {
    fn config(&self, profile: &HwProfile) -> TrainConfig {
        TrainConfig {
            budget: crate::train::Budget::Epochs(self.epochs),
            progress: true,
            ..TrainConfig::hardware_aware(profile)
        }
    }
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text = crate::error::read_to_string(path)?;
    serde_json::from_str(&text).map_err(|e| {
        Error::input(format!(
            "{}:{}:{}: invalid JSON: {e}",
            path.display(),
            e.line(),
            e.column()
        ))
    })
}

/// Exports the picked front member of a search run directory to `out`.
///
/// With `training`, the network is trained (hardware-aware, on the run's task); else, when the
/// run's validation trained it (`<run>/models/<id>`), those weights are exported; else only the
/// architecture is.
pub fn export_from_run(
    run: &Path,
    pick: &Pick,
    out: &Path,
    training: Option<&ExportTraining>,
) -> Result<ExportInfo> {
    let info = read_json(&run.join("run.json"))?;
    let pareto = read_json(&run.join("pareto.json"))?;
    let task: Task = serde_json::from_value(info["task"].clone()).map_err(|e| {
        Error::input(format!(
            "{}: field task: {e}",
            run.join("run.json").display()
        ))
    })?;
    let front = pareto["front"].as_array().ok_or_else(|| {
        Error::input(format!(
            "{}: field front: expected a list",
            run.join("pareto.json").display()
        ))
    })?;
    let (rank, entry) = match pick {
        Pick::Rank(r) => {
            if *r == 0 || *r > front.len() {
                return Err(Error::input(format!(
                    "--rank: expected 1..={} (the front of {}), got {r}",
                    front.len(),
                    run.display()
                )));
            }
            (*r, &front[r - 1])
        }
        Pick::Id(id) => front
            .iter()
            .enumerate()
            .find(|(_, e)| e["id"].as_str() == Some(id))
            .map(|(i, e)| (i + 1, e))
            .ok_or_else(|| {
                Error::input(format!(
                    "--id: {id} is not on the front of {}",
                    run.display()
                ))
            })?,
    };
    let genome: Genome = serde_json::from_value(entry["genome"].clone()).map_err(|e| {
        Error::input(format!(
            "{}: front entry {rank}: field genome: {e}",
            run.join("pareto.json").display()
        ))
    })?;
    let arch = Arch::for_task(genome, task);
    let measured = std::fs::read_to_string(run.join("validation.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| {
            v["entries"].as_array().and_then(|es| {
                es.iter()
                    .find(|e| e["id"] == entry["id"] && !e["measured"].is_null())
                    .map(|e| e["measured"].clone())
            })
        });
    let data_path = info["data"].as_str().map(PathBuf::from);
    let profile_path = info["profile"].as_str().map(PathBuf::from);
    let trained_dir = run.join("models").join(arch.genome.id());
    let source = format!("run {} rank {rank}", run.display());
    let predicted = Some(entry.clone());
    if training.is_none() && trained_dir.join(WEIGHTS_FILE).is_file() {
        let device = crate::device::default_device();
        let model = TrainedModel::load(&trained_dir, &device)?;
        let data = crate::data::load(task, data_path.as_deref(), 0)?;
        return write_export(out, &arch, Some(&model), &data, source, predicted, measured);
    }
    let profile = match profile_path {
        Some(p) => HwProfile::load(crate::cli::shipped_path(&p))?,
        None => HwProfile::default(),
    };
    export_arch(
        &arch,
        out,
        training,
        &profile,
        data_path.as_deref(),
        source,
        predicted,
        measured,
    )
}

/// Exports any architecture to `out`, training it first (hardware-aware on `profile`) when
/// `training` is given.
#[allow(clippy::too_many_arguments)]
pub fn export_arch(
    arch: &Arch,
    out: &Path,
    training: Option<&ExportTraining>,
    profile: &HwProfile,
    data_path: Option<&Path>,
    source: String,
    predicted: Option<serde_json::Value>,
    measured: Option<serde_json::Value>,
) -> Result<ExportInfo> {
    let task = task_of(arch)?;
    let data = crate::data::load(task, data_path, 0)?;
    let model = match training {
        Some(t) => {
            let config = t.config(profile);
            let trained = train(arch, &data, &config, t.seed)?;
            let metrics = metrics_of(
                &trained,
                task.name(),
                config.hwa_noise,
                config.budget.to_string(),
                t.seed,
            );
            Some(TrainedModel {
                arch: arch.clone(),
                net: trained.net,
                metrics: Some(metrics),
            })
        }
        None => None,
    };
    write_export(
        out,
        arch,
        model.as_ref(),
        &data,
        source,
        predicted,
        measured,
    )
}

fn task_of(arch: &Arch) -> Result<Task> {
    Task::for_shape(arch.input, arch.classes).ok_or_else(|| {
        Error::input(format!(
            "architecture input {:?} with {} classes matches no task",
            arch.input, arch.classes
        ))
    })
}

fn write_export(
    out: &Path,
    arch: &Arch,
    model: Option<&TrainedModel>,
    data: &TaskData,
    source: String,
    predicted: Option<serde_json::Value>,
    measured: Option<serde_json::Value>,
) -> Result<ExportInfo> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let check_logits = model.map(|m| {
        let n = CHECK_SAMPLES.min(data.test.len());
        let (x, _) = data.test.gather(&(0..n).collect::<Vec<_>>());
        m.digital_logits(&x, n)
    });
    match model {
        Some(m) => save_model_dir(out, arch, &m.net, m.metrics.as_ref())?,
        None => {
            for stale in [WEIGHTS_FILE, METRICS_FILE] {
                let _ = std::fs::remove_file(out.join(stale));
            }
            let text = serde_json::to_string_pretty(arch).expect("arch serializes");
            write_atomic(out.join(ARCH_FILE), text.as_bytes())?;
        }
    }
    write_atomic(
        out.join(GENOME_FILE),
        arch.genome.canonical_json().as_bytes(),
    )?;
    let info = ExportInfo {
        id: arch.genome.id(),
        task: data.task,
        input: arch.input,
        classes: arch.classes,
        source,
        weights: model.is_some(),
        predicted,
        measured,
        check_logits,
    };
    let text = serde_json::to_string_pretty(&info).expect("export info serializes");
    write_atomic(out.join(EXPORT_FILE), text.as_bytes())?;
    Ok(info)
}
