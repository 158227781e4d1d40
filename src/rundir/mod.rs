//! The files of a run directory (DESIGN.md 7) and their formats, typed: `run.json`
//! ([`RunInfo`]), `history.csv` ([`history`]), `pareto.json` / `pareto.csv` ([`ParetoFile`]),
//! `validation.json` ([`ValidationFile`]) and `checkpoint.json` ([`Checkpoint`]).
//!
//! This module sits between the search and the layers that use a run directory: the pipeline
//! writes these files, the report and export read them, and nothing reads a run file untyped.
//! A missing or corrupt file is a one-line error that names it.

pub mod active;
mod checkpoint;
mod error;
pub mod history;
mod validation;

pub use active::{
    ACTIVE_JSON, ActiveFile, ActiveRound, ActiveSettings, Proposal, ProposalKind, SURROGATE_JSON,
    measured_csv,
};
pub use checkpoint::*;
pub use error::RunFileError;
pub use history::{
    HISTORY_HEADER, HistoryWriter, history_at_checkpoint, parse_history,
    read_history_at_checkpoint, truncate_history,
};
pub use validation::*;

use crate::error::Result;
use crate::search::{
    Budgets, GenerationStats, Objectives, ReferencePoint, Scores, SearchSettings, Trial,
};
use crate::space::Genome;
use crate::task::Task;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// `run.json`.
pub const RUN_JSON: &str = "run.json";
/// `history.csv`.
pub const HISTORY_CSV: &str = "history.csv";
/// `pareto.json`.
pub const PARETO_JSON: &str = "pareto.json";
/// `pareto.csv`.
pub const PARETO_CSV: &str = "pareto.csv";
/// `checkpoint.json`.
pub const CHECKPOINT_JSON: &str = "checkpoint.json";
/// `validation.json`.
pub const VALIDATION_JSON: &str = "validation.json";

/// `run.json`: the inputs of a run and when it ran.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// Version of analognas that made the run.
    pub analognas_version: String,
    /// The task.
    pub task: Task,
    /// Data folder of the task, when one was given.
    pub data: Option<String>,
    /// Search-space file.
    pub space: String,
    /// Name of the search space.
    pub space_name: String,
    /// Hardware-profile file.
    pub profile: String,
    /// Name of the hardware profile.
    pub profile_name: String,
    /// The surrogate as given (`--surrogate`): a model file or `synthetic`.
    pub surrogate: String,
    /// The scorer's own name.
    pub scorer: String,
    /// Algorithm, objectives, budgets, sizes, seed, hypervolume reference point.
    #[serde(flatten)]
    pub settings: SearchSettings,
    /// Front members validated by measurement (plus the reference networks); 0 skips validation.
    pub validate_top: usize,
    /// Training seeds of each validated network (1 in files written before it was recorded).
    #[serde(default = "one")]
    pub validate_seeds: usize,
    /// Start time, UTC, RFC 3339.
    pub started: String,
    /// End time, UTC, RFC 3339; `null` while running.
    pub finished: Option<String>,
}

fn one() -> usize {
    1
}

impl RunInfo {
    /// Reads `run.json` of `dir`.
    pub fn load(dir: &Path) -> Result<Self> {
        read_json(&dir.join(RUN_JSON))
    }

    /// Writes `run.json` of `dir` atomically.
    pub fn save(&self, dir: &Path) -> Result<()> {
        write_json(&dir.join(RUN_JSON), self)
    }
}

/// A front member as written to `pareto.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrontMember {
    /// Genome id.
    pub id: String,
    /// Short form of the genes.
    pub genes: String,
    /// The genome.
    pub genome: Genome,
    /// Generation that first evaluated it.
    pub generation: usize,
    /// Its predicted scores.
    #[serde(flatten)]
    pub scores: Scores,
}

/// A reference network scored by the run's scorer, for comparison.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReferenceScore {
    /// `resnet8`, `resnet20`, ...
    pub name: String,
    /// Genome id.
    pub id: String,
    /// The genome.
    pub genome: Genome,
    /// Predicted scores, when the scorer could score it.
    pub predicted: Option<Scores>,
    /// Why scoring failed.
    pub error: Option<String>,
}

/// `pareto.json`: the final front and the hypervolume of every generation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParetoFile {
    /// The objectives.
    pub objectives: Objectives,
    /// The budgets.
    pub budgets: Budgets,
    /// The hypervolume reference point.
    pub reference_point: ReferencePoint,
    /// Generations run.
    pub generations: usize,
    /// Distinct genomes evaluated.
    pub evaluations: usize,
    /// Per generation: evaluations, front size, hypervolume.
    pub hypervolume: Vec<GenerationStats>,
    /// The front: feasible evaluations no other dominates, by tiles then accuracy.
    pub front: Vec<FrontMember>,
    /// The reference networks as the scorer predicts them.
    pub references: Vec<ReferenceScore>,
}

impl ParetoFile {
    /// Reads `pareto.json` of `dir`. A run that has not finished has none: the error says how
    /// to resume it.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join(PARETO_JSON);
        if !path.exists() && dir.join(RUN_JSON).is_file() {
            return Err(RunFileError::Unfinished {
                path: path.display().to_string(),
                dir: dir.display().to_string(),
            }
            .into());
        }
        read_json(&path)
    }

    /// Writes `pareto.json` and `pareto.csv` of `dir`, each atomically.
    pub fn save(&self, dir: &Path) -> Result<()> {
        write_json(&dir.join(PARETO_JSON), self)?;
        crate::error::write_atomic(
            dir.join(PARETO_CSV),
            history::pareto_csv(&self.front)?.as_bytes(),
        )
    }

    /// The front member with genome id `id`.
    pub fn member(&self, id: &str) -> Option<&FrontMember> {
        self.front.iter().find(|m| m.id == id)
    }
}

/// Writes `value` as pretty JSON, atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value).expect("run files serialize");
    text.push('\n');
    crate::error::write_atomic(path, text.as_bytes())
}

/// Reads a JSON file, naming it (with line and column) in errors.
pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text = crate::error::read_to_string(path)?;
    serde_json::from_str(&text).map_err(|e| RunFileError::json(path, &e).into())
}

/// The current time, UTC, as RFC 3339 to the second (`2025-01-31T12:00:00Z`).
pub fn utc_now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// The files of a finished run directory, as the report and export read them.
#[derive(Clone, Debug)]
pub struct RunFiles {
    /// `run.json`.
    pub info: RunInfo,
    /// `history.csv`.
    pub trials: Vec<Trial>,
    /// `pareto.json`.
    pub pareto: ParetoFile,
    /// `validation.json`, when present.
    pub validation: Option<ValidationFile>,
}

impl RunFiles {
    /// Reads the run directory `dir`.
    pub fn load(dir: &Path) -> Result<Self> {
        let info = RunInfo::load(dir)?;
        let hist = dir.join(HISTORY_CSV);
        let text = crate::error::read_to_string(&hist)?;
        let trials = parse_history(&hist.display().to_string(), &text)?;
        let pareto = ParetoFile::load(dir)?;
        let validation = ValidationFile::load_if_present(dir)?;
        Ok(RunFiles {
            info,
            trials,
            pareto,
            validation,
        })
    }
}
