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
    /// Seed of the measurement of training seed 0: `derive_seed(run seed, fnv1a64(id))`.
    pub seed: u64,
    /// The measurement of every training seed that succeeded, by seed index (seed index 0 is
    /// `measured`, whose trained model is kept under `<run>/models/<id>`).
    #[serde(default)]
    pub seeds: Vec<SeedMeasurement>,
    /// Mean and 95 % confidence interval over the training seeds.
    #[serde(default)]
    pub summary: Option<SeedSummary>,
}

/// The measurement of one training seed of a validated network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedMeasurement {
    /// Seed index k (0-based): the k-th training seed of every validated network, so that seed
    /// k of a front network pairs with seed k of a reference.
    pub index: usize,
    /// Seed of the measurement: the entry's seed for k = 0, else `derive_seed(entry seed, k)`.
    pub seed: u64,
    /// What the measured path found (mean over the programmings of this trained model).
    pub measured: Measurement,
}

/// A mean over training seeds with its 95 % confidence interval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedInterval {
    /// Training seeds measured.
    pub n: usize,
    /// Mean over the seeds.
    pub mean: f64,
    /// Sample standard deviation over the seeds.
    pub std: f64,
    /// Lower end of the 95 % t-interval (n - 1 degrees of freedom); `null` for one seed.
    pub ci_low: Option<f64>,
    /// Upper end of the 95 % t-interval; `null` for one seed.
    pub ci_high: Option<f64>,
}

impl SeedInterval {
    /// The interval of `values` (one per seed).
    pub fn of(values: &[f64]) -> Self {
        let i = crate::stats::ci95(values);
        SeedInterval {
            n: i.n,
            mean: i.mean,
            std: i.std,
            ci_low: i.half_width.map(|_| i.low()),
            ci_high: i.half_width.map(|_| i.high()),
        }
    }

    /// `mean [low, high]`, or `mean (1 seed)` without an interval, with `digits` decimals.
    pub fn format(&self, digits: usize) -> String {
        match (self.ci_low, self.ci_high) {
            (Some(l), Some(h)) => format!("{:.digits$} [{l:.digits$}, {h:.digits$}]", self.mean),
            _ => format!("{:.digits$} (1 seed)", self.mean),
        }
    }
}

/// Accuracy at one drift time over the training seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedDriftPoint {
    /// Seconds after programming.
    pub t_seconds: f64,
    /// Test accuracy in percent (each seed's value is its mean over programmings).
    #[serde(flatten)]
    pub acc: SeedInterval,
}

/// The statistics over training seeds of one validated network: 95 % t-intervals over the
/// seeds' means (each seed's value is the mean over its programmings), n - 1 degrees of
/// freedom.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedSummary {
    /// How the intervals are computed.
    pub method: String,
    /// Digital test accuracy, percent.
    pub acc_fp: SeedInterval,
    /// Accuracy at every drift time.
    pub drift: Vec<SeedDriftPoint>,
    /// Accuracy at 1 day, percent.
    pub acc_1d: SeedInterval,
    /// AVM, percent points.
    pub avm: SeedInterval,
}

/// [`SeedSummary::method`].
pub const SEED_SUMMARY_METHOD: &str = "mean over training seeds with a 95 % Student t-interval (n - 1 degrees of freedom); each seed's value is the mean over its programmings";

impl SeedSummary {
    /// The summary of `seeds` (none when empty).
    pub fn of(seeds: &[SeedMeasurement]) -> Option<Self> {
        let first = &seeds.first()?.measured;
        let col = |f: &dyn Fn(&Measurement) -> f64| {
            SeedInterval::of(&seeds.iter().map(|s| f(&s.measured)).collect::<Vec<_>>())
        };
        let drift = first
            .drift
            .iter()
            .enumerate()
            .map(|(i, p)| SeedDriftPoint {
                t_seconds: p.t_seconds,
                acc: col(&|m: &Measurement| m.drift.get(i).map_or(f64::NAN, |d| d.mean)),
            })
            .collect();
        Some(SeedSummary {
            method: SEED_SUMMARY_METHOD.to_string(),
            acc_fp: col(&|m| m.acc_fp),
            drift,
            acc_1d: col(&|m| m.acc_1d),
            avm: col(&|m| m.avm),
        })
    }
}

impl ValidationEntry {
    /// Per-seed accuracy at 1 day, by seed index (an old file without per-seed measurements
    /// gives its one measurement as seed 0).
    pub fn seed_acc_1d(&self) -> Vec<(usize, f64)> {
        if self.seeds.is_empty() {
            self.measured.iter().map(|m| (0, m.acc_1d)).collect()
        } else {
            self.seeds
                .iter()
                .map(|s| (s.index, s.measured.acc_1d))
                .collect()
        }
    }

    /// Mean accuracy at 1 day over the seeds (the one measurement for an old file).
    pub fn mean_acc_1d(&self) -> Option<f64> {
        match &self.summary {
            Some(s) => Some(s.acc_1d.mean),
            None if !self.seeds.is_empty() => Some(crate::stats::mean(
                &self
                    .seeds
                    .iter()
                    .map(|s| s.measured.acc_1d)
                    .collect::<Vec<_>>(),
            )),
            None => self.measured.as_ref().map(|m| m.acc_1d),
        }
    }
}

/// `validation.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValidationFile {
    /// Why validation did not run, when it did not.
    pub skipped: Option<String>,
    /// The validated networks: the chosen front members by tiles, then the references.
    pub entries: Vec<ValidationEntry>,
    /// Training seeds per network (0 in files written before seeds were recorded: one).
    #[serde(default)]
    pub seeds: usize,
}

impl ValidationFile {
    /// A file that says validation was skipped and why.
    pub fn skipped(reason: impl Into<String>) -> Self {
        ValidationFile {
            skipped: Some(reason.into()),
            entries: Vec::new(),
            seeds: 0,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_without_seeds_still_read() {
        let genome = crate::nn::Reference::Resnet8.genome();
        let entry = ValidationEntry {
            name: "resnet8".into(),
            role: ValidationRole::Reference,
            id: genome.id(),
            genes: genome.summary(),
            genome,
            tiles: 7,
            params: 1000,
            predicted: None,
            measured: None,
            error: Some("x".into()),
            seed: 5,
            seeds: Vec::new(),
            summary: None,
        };
        let file = ValidationFile {
            skipped: None,
            entries: vec![entry],
            seeds: 0,
        };
        let mut json = serde_json::to_value(&file).unwrap();
        json.as_object_mut().unwrap().remove("seeds");
        let e = json["entries"][0].as_object_mut().unwrap();
        e.remove("seeds");
        e.remove("summary");
        let back: ValidationFile = serde_json::from_value(json).unwrap();
        assert_eq!(back, file);
        // The shipped example run predates seeds: its files still read, as one seed.
        let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("results/example");
        let info = crate::rundir::RunInfo::load(&example).unwrap();
        assert!(info.validate_seeds >= 1);
        let v = ValidationFile::load(&example).unwrap();
        assert!(
            v.entries
                .iter()
                .all(|e| !e.seed_acc_1d().is_empty() || e.measured.is_none())
        );
    }

    #[test]
    fn summary_of_seeds() {
        let i = SeedInterval::of(&[1.0, 2.0, 3.0]);
        assert_eq!((i.n, i.mean, i.std), (3, 2.0, 1.0));
        assert!((i.ci_high.unwrap() - (2.0 + 4.302_652_73 / 3f64.sqrt())).abs() < 1e-8);
        assert_eq!(i.format(1), "2.0 [-0.5, 4.5]");
        assert_eq!(SeedInterval::of(&[4.0]).format(2), "4.00 (1 seed)");
    }
}
