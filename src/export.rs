//! Export: a found architecture leaves the tool as a model directory that
//! [`crate::model::TrainedModel::load`] (or `Network::from_arch` + a burn record) reads back.
//!
//! An export directory holds `genome.json` (the genome), `arch.json` (genome, input shape,
//! classes), `export.json` (where it came from, predicted and measured figures, and the digital
//! logits of a fixed check batch) and, when trained, `model.bpk` and `metrics.json`.

use crate::data::TaskData;
use crate::error::{Error, Result, write_atomic};
use crate::evaluate::{DataSource, Executor, Job, MeasureConfig, MeasureSpec, TrainingMeasurer};
use crate::hw::HwProfile;
use crate::measure::Measurement;
use crate::model::{TrainedModel, WEIGHTS_FILE, write_arch_only};
use crate::nn::Arch;
use crate::progress::Observer;
use crate::rundir::{FrontMember, ParetoFile, RunInfo, ValidationFile};
use crate::task::Task;
use crate::train::TrainConfig;
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
    /// The front member as the search predicted it, when exported from a run.
    pub predicted: Option<FrontMember>,
    /// Measured figures: from the run's validation when it measured this network, or from the
    /// training of `--train`.
    pub measured: Option<Measurement>,
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

/// Whether and how to train on export: hardware-aware training with the profile's noise,
/// measured (programmed and read at the drift times) through an executor like every other
/// measurement.
pub struct ExportTraining<'a> {
    /// Training epochs.
    pub epochs: usize,
    /// Programmings of the drift evaluation after training.
    pub reps: usize,
    /// Seed (the measurement's seed derives from it and the genome id).
    pub seed: u64,
    /// Where the training runs.
    pub executor: &'a dyn Executor,
    /// Progress of the training.
    pub observer: &'a dyn Observer,
}

impl ExportTraining<'_> {
    fn config(&self, profile: &HwProfile) -> TrainConfig {
        TrainConfig {
            budget: crate::train::Budget::Epochs(self.epochs),
            ..TrainConfig::hardware_aware(profile)
        }
    }

    /// Trains and measures `arch` on `data` (loaded from `source`); returns the trained model
    /// and its measurement.
    fn train(
        &self,
        arch: &Arch,
        data: TaskData,
        source: DataSource,
        profile: &HwProfile,
        out: &Path,
    ) -> Result<(TrainedModel, Measurement)> {
        // A fixed name, so that a cluster executor's restarted driver finds the same spec.
        let staging = out.join(".train");
        let spec = MeasureSpec {
            data: source,
            profile: profile.clone(),
            config: MeasureConfig {
                train: self.config(profile),
                reps: self.reps.max(1),
            },
            save_dir: Some(staging.clone()),
        };
        let measurer = TrainingMeasurer::with_data(&spec, data);
        let results = crate::evaluate::measure_all(
            self.executor,
            &measurer,
            vec![Job::new(arch.clone(), self.seed)],
            self.observer,
        )?;
        let outcome = results
            .into_iter()
            .next()
            .map(|r| r.outcome)
            .unwrap_or_else(|| Err("no result".into()));
        let result = outcome.map_err(Error::Training).and_then(|m| {
            let device = crate::device::default_device();
            let model = TrainedModel::load(&staging.join(arch.genome.id()), &device)?;
            Ok((model, m))
        });
        let _ = std::fs::remove_dir_all(&staging);
        result
    }
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
    let info = RunInfo::load(run)?;
    let pareto = ParetoFile::load(run)?;
    let task = info.task;
    let pareto_path = run.join(crate::rundir::PARETO_JSON);
    let (rank, member) = match pick {
        Pick::Rank(r) => {
            if *r == 0 || *r > pareto.front.len() {
                return Err(Error::input(format!(
                    "--rank: expected 1..={} (the front of {}), got {r}",
                    pareto.front.len(),
                    run.display()
                )));
            }
            (*r, &pareto.front[r - 1])
        }
        Pick::Id(id) => pareto
            .front
            .iter()
            .enumerate()
            .find(|(_, m)| &m.id == id)
            .map(|(i, m)| (i + 1, m))
            .ok_or_else(|| {
                Error::input(format!(
                    "--id: {id} is not on the front in {}",
                    pareto_path.display()
                ))
            })?,
    };
    let arch = Arch::for_task(member.genome.clone(), task);
    let measured = ValidationFile::load_if_present(run)?
        .and_then(|v| v.measured(&member.id).and_then(|e| e.measured.clone()));
    let data_path = info.data.as_deref().map(PathBuf::from);
    let trained_dir = run.join("models").join(arch.genome.id());
    let source = format!("run {} rank {rank}", run.display());
    let predicted = Some(member.clone());
    if training.is_none() && trained_dir.join(WEIGHTS_FILE).is_file() {
        let device = crate::device::default_device();
        let model = TrainedModel::load(&trained_dir, &device)?;
        let data = crate::data::load(task, data_path.as_deref(), 0)?;
        return write_export(out, &arch, Some(&model), &data, source, predicted, measured);
    }
    let profile = HwProfile::load(crate::files::shipped_path(&info.profile))?;
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
    predicted: Option<FrontMember>,
    measured: Option<Measurement>,
) -> Result<ExportInfo> {
    let task = task_of(arch)?;
    let data = crate::data::load(task, data_path, 0)?;
    let (model, measured) = match training {
        Some(t) => {
            std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
            let source = DataSource {
                task,
                path: data_path.map(Path::to_path_buf),
                seed: 0,
            };
            let (model, m) = t.train(arch, data.clone(), source, profile, out)?;
            (Some(model), Some(m))
        }
        None => (None, measured),
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
    predicted: Option<FrontMember>,
    measured: Option<Measurement>,
) -> Result<ExportInfo> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let check_logits = model.map(|m| {
        let n = CHECK_SAMPLES.min(data.test.len());
        let (x, _) = data.test.gather(&(0..n).collect::<Vec<_>>());
        m.digital_logits(&x, n)
    });
    match model {
        Some(m) => m.save(out)?,
        None => write_arch_only(out, arch)?,
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
