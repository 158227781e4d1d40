//! Validation: the front members chosen for it and the reference networks are measured with a
//! [`Validator`] (the measured path) in parallel, so the report can put predicted and measured
//! accuracy side by side.

use super::{FrontMember, Objectives, ReferencePoint, ReferenceScore, Scores, Validator};
use super::{greedy_subset, tiles_and_params};
use crate::hw::HwProfile;
use crate::measure::Measurement;
use crate::nn::{Arch, Reference};
use crate::space::{Genome, fnv1a64};
use crate::task::Task;
use indicatif::{ParallelProgressIterator, ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// The reference networks every validation measures as baselines.
pub const VALIDATION_REFERENCES: [Reference; 2] = [Reference::Resnet8, Reference::Resnet20];

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

/// Indices of the `k` front members to validate: a greedy hypervolume subset (the knee of the
/// front first, then the members that fill its widest gaps), returned by tiles.
pub fn select_for_validation(
    front: &[FrontMember],
    objectives: Objectives,
    reference: &ReferencePoint,
    k: usize,
) -> Vec<usize> {
    let points: Vec<Vec<f64>> = front.iter().map(|m| objectives.vector(&m.scores)).collect();
    let mut chosen = greedy_subset(&points, &reference.vector(objectives), k);
    chosen.sort_unstable();
    chosen
}

/// The entries to measure: the chosen front members, then the reference networks on `task`.
pub fn validation_plan(
    front: &[FrontMember],
    chosen: &[usize],
    references: &[ReferenceScore],
    task: Task,
    profile: &HwProfile,
    seed: u64,
) -> Vec<ValidationEntry> {
    let entry = |name: String, role, genome: &Genome, predicted: Option<Scores>| {
        let id = genome.id();
        let (tiles, params) = tiles_and_params(&Arch::for_task(genome.clone(), task), profile);
        ValidationEntry {
            name,
            role,
            genes: genome.summary(),
            genome: genome.clone(),
            tiles,
            params,
            predicted,
            measured: None,
            error: None,
            seed: crate::rng::derive_seed(seed, fnv1a64(id.as_bytes())),
            id,
        }
    };
    let mut v: Vec<ValidationEntry> = chosen
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let m = &front[i];
            entry(
                format!("front-{}", k + 1),
                ValidationRole::Front,
                &m.genome,
                Some(m.scores.clone()),
            )
        })
        .collect();
    for r in VALIDATION_REFERENCES {
        let predicted = references
            .iter()
            .find(|x| x.name == r.name())
            .and_then(|x| x.predicted.clone());
        v.push(entry(
            r.name().to_string(),
            ValidationRole::Reference,
            &r.genome(),
            predicted,
        ));
    }
    v
}

/// Measures every entry in parallel (rayon) with a progress bar; a failure is recorded in the
/// entry, not returned.
pub fn run_validation(
    plan: Vec<ValidationEntry>,
    task: Task,
    validator: &dyn Validator,
    progress: bool,
) -> Vec<ValidationEntry> {
    let pb = if progress {
        ProgressBar::new(plan.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    pb.set_style(
        ProgressStyle::with_template("validate {bar:30} {pos}/{len} networks [{elapsed}]")
            .expect("valid template"),
    );
    let out = plan
        .into_par_iter()
        .progress_with(pb.clone())
        .map(|mut e| {
            let arch = Arch::for_task(e.genome.clone(), task);
            match validator.validate(&arch, e.seed) {
                Ok(m) => e.measured = Some(m),
                Err(err) => e.error = Some(err.to_string()),
            }
            e
        })
        .collect();
    pb.finish_and_clear();
    out
}

/// A validator for tests: [`super::synthetic_prediction`] plus seeded noise, with a drift curve
/// that loses `avm` points between 1 s and 30 days linearly in log time. Its numbers describe
/// no hardware.
pub struct SyntheticValidator {
    /// Profile for the tile count.
    pub profile: HwProfile,
}

impl Validator for SyntheticValidator {
    fn validate(&self, arch: &Arch, seed: u64) -> crate::Result<Measurement> {
        let (acc_1d, avm, std) = super::synthetic_prediction(arch);
        let mut rng = crate::rng::seeded(seed);
        let shift = 0.5 * f64::from(crate::rng::normal(&mut rng));
        let f = crate::hw::footprint(arch, &self.profile);
        let slope = avm / (2_592_000f64).log10();
        let at =
            |t: f64| (acc_1d + shift - slope * (t.log10() - 86_400f64.log10())).clamp(0.0, 100.0);
        let drift = crate::measure::DRIFT_TIMES
            .iter()
            .map(|&(_, t)| crate::measure::DriftPoint {
                t_seconds: t,
                mean: at(t),
                std,
            })
            .collect();
        Ok(Measurement {
            id: arch.genome.id(),
            genome: arch.genome.clone(),
            acc_fp: (at(1.0) + 1.0).min(100.0),
            drift,
            acc_1d: at(86_400.0),
            acc_1d_std: std,
            avm: at(1.0) - at(2_592_000.0),
            tiles: f.tiles,
            utilisation: f.utilisation,
            params: f.params,
            macs: f.macs,
            depth: arch.depth(),
            train_seconds: 0.0,
            seed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_validator_is_seeded_and_consistent() {
        let v = SyntheticValidator {
            profile: HwProfile::default(),
        };
        let a = Arch::for_task(Reference::Resnet8.genome(), Task::Digits);
        let m1 = v.validate(&a, 1).unwrap();
        assert_eq!(m1, v.validate(&a, 1).unwrap());
        assert_ne!(m1.acc_1d, v.validate(&a, 2).unwrap().acc_1d);
        assert_eq!(m1.drift.len(), 5);
        assert!(m1.drift[0].mean >= m1.drift[4].mean);
        assert!((m1.avm - (m1.drift[0].mean - m1.drift[3].mean)).abs() < 1e-9);
    }
}
