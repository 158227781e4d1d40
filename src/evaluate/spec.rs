//! A measurement described in data: what another process (a Slurm array task) needs to rebuild
//! the [`Measurer`](super::Measurer) of a run and make the same measurement.

use crate::error::Result;
use crate::hw::HwProfile;
use crate::task::Task;
use crate::train::MeasureConfig;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Where a measurer's data come from: enough to load the same [`crate::data::TaskData`] again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSource {
    /// The task.
    pub task: Task,
    /// Data folder (`--data`); `None` for the task's default.
    pub path: Option<PathBuf>,
    /// Seed of the train/validation split.
    pub seed: u64,
}

impl DataSource {
    /// Loads the data ([`crate::data::load`]).
    pub fn load(&self) -> Result<crate::data::TaskData> {
        crate::data::load(self.task, self.path.as_deref(), self.seed)
    }
}

/// A serializable description of a [`TrainingMeasurer`](super::TrainingMeasurer): data,
/// chip, training budget and repetitions, and where trained networks are saved.
///
/// Relative paths are relative to the working directory of the process that made the spec (a
/// Slurm executor runs its workers there).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureSpec {
    /// The task's data.
    pub data: DataSource,
    /// The chip the networks are programmed on (inline, so a worker needs no profile file).
    pub profile: HwProfile,
    /// Training budget and drift-evaluation repetitions.
    pub config: MeasureConfig,
    /// When set, each trained network is saved as `<dir>/<genome id>`.
    pub save_dir: Option<PathBuf>,
}
