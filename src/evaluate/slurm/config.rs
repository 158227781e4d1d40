//! Settings of the Slurm executor: the `[slurm]` section of a config file and the `--slurm-*`
//! flags.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Array-task settings: the `[slurm]` section of a config file and the `--slurm-*` flags.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlurmConfig {
    /// `--partition`.
    pub partition: Option<String>,
    /// `--time` of each array task (Slurm's formats: `MM`, `HH:MM:SS`, `D-HH`...).
    pub time: Option<String>,
    /// `--cpus-per-task` [default: the threads per candidate].
    pub cpus_per_task: Option<usize>,
    /// `--gpus-per-task`.
    pub gpus_per_task: Option<usize>,
    /// `--mem` of each array task (e.g. `4G`).
    pub mem: Option<String>,
    /// Array tasks running at the same time (the `%N` of `--array`).
    pub max_parallel: Option<usize>,
    /// More sbatch arguments, separated by spaces (e.g. `--account=lab --qos=long`).
    pub extra: Option<String>,
    /// Resubmissions of a task that ended without a result [default: 2].
    pub retries: Option<usize>,
    /// Folder of the job directories [default: next to the command's output].
    pub dir: Option<PathBuf>,
}

/// A config file: its `[slurm]` section.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlurmFile {
    /// The `[slurm]` section.
    pub slurm: SlurmConfig,
}

impl SlurmFile {
    /// Reads a config file (TOML with a `[slurm]` section).
    pub fn load(path: &Path) -> Result<Self> {
        let text = crate::error::read_to_string(path)?;
        let f: SlurmFile = toml::from_str(&text)
            .map_err(|e| crate::error::toml_error(&path.display().to_string(), &text, &e))?;
        f.slurm.check(&path.display().to_string())?;
        Ok(f)
    }
}

/// Default of [`SlurmConfig::retries`].
pub const DEFAULT_RETRIES: usize = 2;

impl SlurmConfig {
    /// `self` with every setting of `over` that is set.
    pub fn overridden_by(self, over: SlurmConfig) -> SlurmConfig {
        SlurmConfig {
            partition: over.partition.or(self.partition),
            time: over.time.or(self.time),
            cpus_per_task: over.cpus_per_task.or(self.cpus_per_task),
            gpus_per_task: over.gpus_per_task.or(self.gpus_per_task),
            mem: over.mem.or(self.mem),
            max_parallel: over.max_parallel.or(self.max_parallel),
            extra: over.extra.or(self.extra),
            retries: over.retries.or(self.retries),
            dir: over.dir.or(self.dir),
        }
    }

    /// Checks the settings; `source` names where they come from in the error (a file, or
    /// `--slurm` for the flags: the field is appended as `-max-parallel`...).
    pub fn check(&self, source: &str) -> Result<()> {
        let flag = |field: &str| {
            if source == "--slurm" {
                format!("--slurm-{}", field.replace('_', "-"))
            } else {
                format!("{source}: field slurm.{field}")
            }
        };
        for (field, v) in [
            ("cpus_per_task", self.cpus_per_task),
            ("max_parallel", self.max_parallel),
        ] {
            if v == Some(0) {
                return Err(Error::input(format!(
                    "{}: expected an integer >= 1, got 0",
                    flag(field)
                )));
            }
        }
        for (field, v) in [
            ("partition", &self.partition),
            ("time", &self.time),
            ("mem", &self.mem),
        ] {
            if let Some(s) = v
                && (s.trim().is_empty() || s.chars().any(char::is_whitespace))
            {
                return Err(Error::input(format!(
                    "{}: expected one word without spaces, got {s:?}",
                    flag(field)
                )));
            }
        }
        Ok(())
    }
}
