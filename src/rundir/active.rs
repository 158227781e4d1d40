//! `active.json`: the state of an active-learning run (its settings and every round: what was
//! proposed, at which fidelity, what the surrogate predicted and what was measured). The
//! measured rows themselves are in `measured-e<epochs>.csv` (one measured data set per
//! fidelity, since a data set holds one measurement per genome) and the latest surrogate in
//! `surrogate.json`.

use crate::error::Result;
use crate::space::Genome;
use crate::surrogate::Uncertain;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// `active.json`.
pub const ACTIVE_JSON: &str = "active.json";
/// `surrogate.json`: the ensemble surrogate fitted on every measured row.
pub const SURROGATE_JSON: &str = "surrogate.json";
/// Format tag of `active.json`.
pub const ACTIVE_FORMAT: &str = "analognas-active-1";

/// The measured data set of fidelity `epochs` in a run directory: `measured-e<epochs>.csv`.
pub fn measured_csv(dir: &Path, epochs: usize) -> PathBuf {
    dir.join(format!("measured-e{epochs}.csv"))
}

/// The settings of the loop (fixed when the run starts).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActiveSettings {
    /// Latin-hypercube networks of the first round (the reference networks come on top).
    pub initial: usize,
    /// Networks proposed by the acquisition per round.
    pub batch: usize,
    /// Measurements to spend (every fidelity counts one).
    pub budget_evals: usize,
    /// Wall-clock hours to spend, when given.
    pub budget_hours: Option<f64>,
    /// Training epochs of the fidelity rungs, ascending: new networks are measured at the
    /// first, promising ones promoted to the next (successive halving).
    pub fidelities: Vec<usize>,
    /// Promotion ratio of successive halving: up to `ceil(batch / eta)` networks per rung and
    /// round move up.
    pub eta: usize,
    /// Optimism of the acquisition, `mean + kappa * sd`.
    pub kappa: f64,
    /// Programmings per measurement.
    pub reps: usize,
    /// Members of the ensemble surrogate.
    pub members: usize,
    /// Trees per member.
    pub trees: usize,
    /// Population of the search on the surrogate that proposes candidates each round.
    pub population: usize,
    /// Generations of that search.
    pub generations: usize,
}

/// Why a network was proposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProposalKind {
    /// The initial sample (Latin hypercube and reference networks).
    Initial,
    /// Chosen by the acquisition.
    Acquired,
    /// Promoted to a higher fidelity.
    Promoted,
}

/// One network to measure in a round.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    /// Genome id.
    pub id: String,
    /// The genome.
    pub genome: Genome,
    /// Fidelity: training epochs.
    pub epochs: usize,
    /// Why.
    pub kind: ProposalKind,
    /// The surrogate's 1-day accuracy at this fidelity before the measurement (none in the
    /// first round).
    pub predicted: Option<Uncertain>,
    /// The measured 1-day accuracy, once measured.
    pub measured: Option<f64>,
    /// Why the measurement failed, when it did.
    pub error: Option<String>,
}

/// One round of the loop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActiveRound {
    /// 0 for the initial sample.
    pub round: usize,
    /// The networks of the round.
    pub proposals: Vec<Proposal>,
    /// Whether every proposal was measured (or failed).
    pub done: bool,
    /// Measurements spent after the round, all fidelities.
    pub evaluations: usize,
    /// Normalised hypervolume of the measured front after the round, each network at the
    /// highest fidelity it was measured at.
    pub hv_measured: Option<f64>,
    /// Normalised hypervolume of the networks measured at the highest fidelity only.
    pub hv_top: Option<f64>,
}

/// `active.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActiveFile {
    /// [`ACTIVE_FORMAT`].
    pub format: String,
    /// The settings.
    pub settings: ActiveSettings,
    /// The rounds so far.
    pub rounds: Vec<ActiveRound>,
    /// Wall-clock seconds spent in the loop so far (over every resume).
    pub seconds: f64,
    /// Why the loop stopped, once it did.
    pub stopped: Option<String>,
}

impl ActiveFile {
    /// Reads `active.json` of `dir`, when there is one.
    pub fn load_if_present(dir: &Path) -> Result<Option<Self>> {
        let p = dir.join(ACTIVE_JSON);
        if !p.exists() {
            return Ok(None);
        }
        let f: ActiveFile = super::read_json(&p)?;
        if f.format != ACTIVE_FORMAT {
            return Err(crate::error::Error::input(format!(
                "{}: field format: expected {ACTIVE_FORMAT:?}, got {:?}",
                p.display(),
                f.format
            )));
        }
        Ok(Some(f))
    }

    /// Writes `active.json` in `dir`, atomically.
    pub fn save(&self, dir: &Path) -> Result<()> {
        super::write_json(&dir.join(ACTIVE_JSON), self)
    }

    /// Measurements spent: every measured or failed proposal of the finished rounds and the
    /// measured ones of an unfinished round.
    pub fn evaluations(&self) -> usize {
        self.rounds
            .iter()
            .flat_map(|r| &r.proposals)
            .filter(|p| p.measured.is_some() || p.error.is_some())
            .count()
    }
}
