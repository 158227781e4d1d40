//! Export: a found architecture leaves the tool as a model directory that
//! [`crate::model::TrainedModel::load`] (or `Network::from_arch` + a burn record) reads back.
//!
//! An export directory holds `genome.json` (the genome), `arch.json` (genome, input shape,
//! classes), `export.json` (where it came from, input shape, normalisation and class names,
//! predicted and measured figures, and the digital logits of a fixed check batch) and, when
//! trained, `metrics.json` and the weights in the formats asked for ([`ExportFormat`]):
//!
//! - burn: `model.bpk`, the burn record that [`TrainedModel::load`] reads;
//! - pytorch: `model.py` (a PyTorch module generated from the genome, [`model_py`]),
//!   `model.safetensors` (its state dict, [`state_dict`]), `check.safetensors` (the check batch
//!   and burn's logits for it) and `aihwkit_model.py` (the network on IBM's aihwkit with an
//!   `InferenceRPUConfig` mirroring the hardware profile, [`aihwkit_py`]).
//!
//! With [`ExportOptions::test_set`], `test.safetensors` holds the task's test split as analognas
//! loads it (inputs and labels), for evaluations outside analognas such as
//! `examples/crosscheck_aihwkit.py`.

mod aihwkit;
mod inputs;
mod pytorch;
mod state_dict;

pub use aihwkit::aihwkit_py;
pub use inputs::{Normalisation, class_names, normalisation};
pub use pytorch::{ModelPyInfo, grouped_conv_names, model_py};
pub use state_dict::{StateTensor, Stored, state_dict, state_dict_bytes, to_bytes};

use crate::choice::Choice;
use crate::data::TaskData;
use crate::error::{Error, Result, write_atomic};
use crate::evaluate::{DataSource, Executor, Job, MeasureConfig, MeasureSpec, TrainingMeasurer};
use crate::hw::HwProfile;
use crate::measure::Measurement;
use crate::model::{
    ARCH_FILE as ARCH_FILE_NAME, METRICS_FILE, TrainedModel, WEIGHTS_FILE, write_arch_only,
};
use crate::nn::Arch;
use crate::progress::Observer;
use crate::rundir::{FrontMember, ParetoFile, RunInfo, ValidationFile};
use crate::task::Task;
use crate::train::TrainConfig;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// File name of the export description.
pub const EXPORT_FILE: &str = "export.json";
/// File name of the plain genome.
pub const GENOME_FILE: &str = "genome.json";
/// Test samples whose digital logits are stored as the check batch.
pub const CHECK_SAMPLES: usize = 8;
/// File name of the PyTorch state dict.
pub const SAFETENSORS_FILE: &str = "model.safetensors";
/// File name of the generated PyTorch module.
pub const MODEL_PY: &str = "model.py";
/// File name of the aihwkit conversion.
pub const AIHWKIT_PY: &str = "aihwkit_model.py";
/// File name of the check batch (inputs, labels and burn's logits).
pub const CHECK_FILE: &str = "check.safetensors";
/// File name of the test split (inputs and labels).
pub const TEST_FILE: &str = "test.safetensors";

/// Which weight formats an export writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// The burn record `model.bpk` (what `analognas infer`, `evaluate` and Rust code load).
    Burn,
    /// `model.py`, `model.safetensors`, `check.safetensors` and `aihwkit_model.py`.
    Pytorch,
    /// Both.
    #[default]
    All,
}

impl Choice for ExportFormat {
    const ALL: &'static [Self] = &[ExportFormat::Burn, ExportFormat::Pytorch, ExportFormat::All];
    fn name(self) -> &'static str {
        match self {
            ExportFormat::Burn => "burn",
            ExportFormat::Pytorch => "pytorch",
            ExportFormat::All => "all",
        }
    }
}

impl ExportFormat {
    /// Whether the burn record is written.
    pub fn burn(self) -> bool {
        self != ExportFormat::Pytorch
    }

    /// Whether the PyTorch and aihwkit files are written.
    pub fn pytorch(self) -> bool {
        self != ExportFormat::Burn
    }
}

/// What an export writes besides the architecture.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExportOptions {
    /// Weight formats.
    pub format: ExportFormat,
    /// Also write the task's test split as `test.safetensors`.
    pub test_set: bool,
}

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
    /// Class names in logit order.
    #[serde(default)]
    pub class_names: Vec<String>,
    /// How inputs are normalised before the network sees them.
    #[serde(default)]
    pub normalisation: Option<Normalisation>,
    /// Name of the hardware profile the network was trained for and `aihwkit_model.py` mirrors.
    #[serde(default)]
    pub profile: Option<String>,
    /// The files of the export, by name.
    #[serde(default)]
    pub files: Vec<String>,
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
    options: ExportOptions,
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
    let provenance = Provenance {
        source: format!("run {} rank {rank}", run.display()),
        predicted: Some(member.clone()),
        measured,
    };
    let profile = HwProfile::load(crate::files::shipped_path(&info.profile))?;
    if training.is_none() && trained_dir.join(WEIGHTS_FILE).is_file() {
        let device = crate::device::default_device();
        let model = TrainedModel::load(&trained_dir, &device)?;
        let data = crate::data::load(task, data_path.as_deref(), 0)?;
        return write_export(
            out,
            &arch,
            Some(&model),
            &data,
            provenance,
            &profile,
            options,
        );
    }
    export_arch(
        &arch,
        out,
        training,
        &profile,
        data_path.as_deref(),
        provenance,
        options,
    )
}

/// Where an exported architecture came from and what is known of it.
#[derive(Clone, Debug, Default)]
pub struct Provenance {
    /// `run DIR rank N`, or a genome file.
    pub source: String,
    /// The front member as the search predicted it.
    pub predicted: Option<FrontMember>,
    /// Measured figures known before the export (replaced by those of `--train`).
    pub measured: Option<Measurement>,
}

/// Exports any architecture to `out`, training it first (hardware-aware on `profile`) when
/// `training` is given. `profile` is also the chip `aihwkit_model.py` mirrors.
pub fn export_arch(
    arch: &Arch,
    out: &Path,
    training: Option<&ExportTraining>,
    profile: &HwProfile,
    data_path: Option<&Path>,
    provenance: Provenance,
    options: ExportOptions,
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
        None => (None, provenance.measured.clone()),
    };
    write_export(
        out,
        arch,
        model.as_ref(),
        &data,
        Provenance {
            measured,
            ..provenance
        },
        profile,
        options,
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

/// Metadata of the `.safetensors` files of network `id`.
fn safetensors_metadata(arch: &Arch, what: &str) -> HashMap<String, String> {
    HashMap::from([
        ("format".to_string(), "pt".to_string()),
        ("network".to_string(), arch.genome.id()),
        ("genome".to_string(), arch.genome.canonical_json()),
        ("content".to_string(), what.to_string()),
        (
            "producer".to_string(),
            format!("analognas {}", env!("CARGO_PKG_VERSION")),
        ),
    ])
}

/// Inputs `[n, c, h, w]` and labels `[n]` of `n` samples, plus optional logits, as
/// `.safetensors` bytes.
fn batch_bytes(
    arch: &Arch,
    what: &str,
    x: Vec<f32>,
    y: &[u32],
    logits: Option<Vec<f32>>,
) -> Result<Vec<u8>> {
    let n = y.len();
    let [c, h, w] = arch.input;
    let mut tensors = vec![
        ("input".to_string(), vec![n, c, h, w], Stored::F32(x)),
        (
            "label".to_string(),
            vec![n],
            Stored::I64(y.iter().map(|&v| v as i64).collect()),
        ),
    ];
    if let Some(l) = logits {
        tensors.push(("logits".to_string(), vec![n, arch.classes], Stored::F32(l)));
    }
    to_bytes(&tensors, safetensors_metadata(arch, what))
}

fn write_export(
    out: &Path,
    arch: &Arch,
    model: Option<&TrainedModel>,
    data: &TaskData,
    provenance: Provenance,
    profile: &HwProfile,
    options: ExportOptions,
) -> Result<ExportInfo> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let id = arch.genome.id();
    let n = CHECK_SAMPLES.min(data.test.len());
    let (check_x, check_y) = data.test.gather(&(0..n).collect::<Vec<_>>());
    let check_logits = model.map(|m| m.digital_logits(&check_x, n));
    // Files of another format from an earlier export into the same directory would not match.
    for stale in [
        MODEL_PY,
        AIHWKIT_PY,
        SAFETENSORS_FILE,
        CHECK_FILE,
        TEST_FILE,
    ] {
        let _ = std::fs::remove_file(out.join(stale));
    }
    let mut files = vec![ARCH_FILE_NAME.to_string(), GENOME_FILE.to_string()];
    match model {
        Some(m) if options.format.burn() => {
            m.save(out)?;
            files.push(WEIGHTS_FILE.into());
        }
        _ => write_arch_only(out, arch)?,
    }
    if let Some(metrics) = model.and_then(|m| m.metrics.as_ref()) {
        if !options.format.burn() {
            let text = serde_json::to_string_pretty(metrics).expect("metrics serialize");
            write_atomic(out.join(METRICS_FILE), text.as_bytes())?;
        }
        files.push(METRICS_FILE.into());
    }
    write_atomic(
        out.join(GENOME_FILE),
        arch.genome.canonical_json().as_bytes(),
    )?;
    if options.format.pytorch() {
        let bn = model.map(|m| &m.net.stem.bn);
        let defaults = burn::nn::BatchNormConfig::new(1);
        let py = model_py(
            arch,
            &ModelPyInfo {
                id: &id,
                task: data.task.name(),
                bn_eps: bn.map_or(defaults.epsilon, |b| b.epsilon),
                bn_momentum: bn.map_or(defaults.momentum, |b| b.momentum),
            },
        );
        write_atomic(out.join(MODEL_PY), py.as_bytes())?;
        write_atomic(
            out.join(AIHWKIT_PY),
            aihwkit_py(arch, &id, profile).as_bytes(),
        )?;
        files.extend([MODEL_PY.to_string(), AIHWKIT_PY.to_string()]);
        if let (Some(m), Some(logits)) = (model, &check_logits) {
            let bytes = state_dict_bytes(&m.net, safetensors_metadata(arch, "state dict"))?;
            write_atomic(out.join(SAFETENSORS_FILE), &bytes)?;
            let bytes = batch_bytes(
                arch,
                "check batch: burn's digital logits of the first test samples",
                check_x,
                &check_y,
                Some(logits.clone()),
            )?;
            write_atomic(out.join(CHECK_FILE), &bytes)?;
            files.extend([SAFETENSORS_FILE.to_string(), CHECK_FILE.to_string()]);
        }
    }
    if options.test_set {
        let bytes = batch_bytes(arch, "test split", data.test.x.clone(), &data.test.y, None)?;
        write_atomic(out.join(TEST_FILE), &bytes)?;
        files.push(TEST_FILE.into());
    }
    files.push(EXPORT_FILE.into());
    let info = ExportInfo {
        id,
        task: data.task,
        input: arch.input,
        classes: arch.classes,
        source: provenance.source,
        weights: model.is_some(),
        predicted: provenance.predicted,
        measured: provenance.measured,
        check_logits,
        class_names: class_names(data.task),
        normalisation: Some(normalisation(data.task, data)),
        profile: Some(profile.name.clone()),
        files,
    };
    let text = serde_json::to_string_pretty(&info).expect("export info serializes");
    write_atomic(out.join(EXPORT_FILE), text.as_bytes())?;
    Ok(info)
}
