//! `checkpoint.json`: the state of a run at a generation boundary, written atomically after
//! every generation.
//!
//! The evaluation cache is `history.csv` itself (every distinct genome with its scores, floats
//! written in Rust's shortest round-trip form): the checkpoint records how many rows and bytes
//! of it belong to the checkpointed state, so a resume truncates rows written after it and
//! rebuilds the cache from the rest. Keeping the cache out of the checkpoint keeps each write
//! the size of one population instead of the whole history. The random state needs no storing:
//! generation `g` draws from `rng::seeded(rng::derive_seed(seed, g))`. The hypervolume history
//! is rebuilt from `history.csv` too (each row carries its generation).

use crate::error::Result;
use crate::space::Genome;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Format version of `checkpoint.json`.
pub const CHECKPOINT_FORMAT: u32 = 1;

/// A member of the checkpointed population.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PopulationMember {
    /// Genome id (a row of `history.csv`).
    pub id: String,
    /// The genome.
    pub genome: Genome,
}

/// The content of `checkpoint.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// Format version ([`CHECKPOINT_FORMAT`]).
    pub format: u32,
    /// The run's seed.
    pub seed: u64,
    /// Generations finished; the next one to run.
    pub generations_done: usize,
    /// Seed of the next generation's generator, `derive_seed(seed, generations_done)`.
    pub next_generation_seed: u64,
    /// The population after the last finished generation, in order.
    pub population: Vec<PopulationMember>,
    /// Data rows of `history.csv` that belong to this state (the evaluation cache).
    pub history_rows: usize,
    /// Bytes of `history.csv` (header included) that belong to this state.
    pub history_bytes: u64,
    /// Hypervolume of the front after each finished generation, for the record (a resume
    /// recomputes the statistics from `history.csv` exactly; JSON floats may not read back
    /// bit for bit).
    pub hypervolume: Vec<f64>,
}

impl Checkpoint {
    /// Writes the checkpoint atomically; with `sync`, also durably (synced to disk). Without,
    /// a killed process still leaves a whole checkpoint (the rename is atomic), and a power
    /// loss at worst costs the generations since the last synced one.
    pub fn save(&self, path: &Path, sync: bool) -> Result<()> {
        let text = serde_json::to_string(self).expect("a checkpoint serializes");
        if sync {
            crate::error::write_atomic(path, text.as_bytes())
        } else {
            crate::error::write_atomic_unsynced(path, text.as_bytes())
        }
    }

    /// Checks the checkpoint against the run's settings (`run.json`): the same seed, a
    /// non-empty population no larger than the run's, generations within the run.
    pub fn check(&self, path: &Path, settings: &crate::search::SearchSettings) -> Result<()> {
        let bad = |field: &str, expected: String, got: String| {
            Err(super::RunFileError::inconsistent(
                path,
                format!("field {field}: expected {expected} (run.json), got {got}"),
            )
            .into())
        };
        if self.seed != settings.seed {
            return bad("seed", settings.seed.to_string(), self.seed.to_string());
        }
        if self.population.is_empty() || self.population.len() > settings.population {
            return bad(
                "population",
                format!("1 to {} members", settings.population),
                self.population.len().to_string(),
            );
        }
        if self.generations_done == 0 || self.generations_done > settings.generations {
            return bad(
                "generations_done",
                format!("1 to {}", settings.generations),
                self.generations_done.to_string(),
            );
        }
        if self.history_rows < self.population.len() {
            return bad(
                "history_rows",
                format!("at least the population's {}", self.population.len()),
                self.history_rows.to_string(),
            );
        }
        Ok(())
    }

    /// Reads a checkpoint.
    pub fn load(path: &Path) -> Result<Self> {
        let text = crate::error::read_to_string(path)?;
        let ck: Checkpoint =
            serde_json::from_str(&text).map_err(|e| super::RunFileError::json(path, &e))?;
        if ck.format != CHECKPOINT_FORMAT {
            return Err(super::RunFileError::inconsistent(
                path,
                format!(
                    "field format: expected {CHECKPOINT_FORMAT}, got {}",
                    ck.format
                ),
            )
            .into());
        }
        Ok(ck)
    }
}
