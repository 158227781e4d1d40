//! `validation.json`: the networks a run measured with the measured path, beside what the
//! scorer predicted for them.

use crate::measure::Measurement;
use crate::search::Scores;
use crate::space::Genome;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Why an entry is validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValidationRole {
    /// A member of the front.
    Front,
    /// A reference network (baseline).
    Reference,
}

/// One validated network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValidationEntry {
    /// `front-1`, `front-2`, ... (by tiles) or the reference's name.
    pub name: String,
    /// Front member or reference.
    pub role: ValidationRole,
    /// Genome id.
    pub id: String,
    /// Short form of the genes.
    pub genes: String,
    /// The genome.
    pub genome: Genome,
    /// Tiles on the run's profile.
    pub tiles: usize,
    /// Trainable parameters.
    pub params: usize,
    /// What the scorer predicted.
    pub predicted: Option<Scores>,
    /// What the measured path found.
    pub measured: Option<Measurement>,
    /// Why measuring failed.
    pub error: Option<String>,
    /// Seed of the measurement: `derive_seed(run seed, fnv1a64(id))`.
    pub seed: u64,
}

/// `validation.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValidationFile {
    /// Why validation did not run, when it did not.
    pub skipped: Option<String>,
    /// The validated networks: the chosen front members by tiles, then the references.
    pub entries: Vec<ValidationEntry>,
}

impl ValidationFile {
    /// A file that says validation was skipped and why.
    pub fn skipped(reason: impl Into<String>) -> Self {
        ValidationFile {
            skipped: Some(reason.into()),
            entries: Vec::new(),
        }
    }
}

impl ValidationFile {
    /// Reads `validation.json` of `dir`.
    pub fn load(dir: &Path) -> crate::Result<Self> {
        super::read_json(&dir.join(super::VALIDATION_JSON))
    }

    /// Reads `validation.json` of `dir` when it exists; a corrupt file is an error, not a
    /// silent "no validation".
    pub fn load_if_present(dir: &Path) -> crate::Result<Option<Self>> {
        if dir.join(super::VALIDATION_JSON).exists() {
            Self::load(dir).map(Some)
        } else {
            Ok(None)
        }
    }

    /// The measured entry with genome id `id`, when validation measured it.
    pub fn measured(&self, id: &str) -> Option<&ValidationEntry> {
        self.entries
            .iter()
            .find(|e| e.id == id && e.measured.is_some())
    }
}
