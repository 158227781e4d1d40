//! A surrogate that knows where it is unsure (DESIGN.md 5): a bootstrap ensemble of tree
//! models per target, predicting a mean and a standard deviation, calibrated on held-out folds.
//!
//! Each member is fitted on a bootstrap resample of the rows (with its own seed), so the
//! members disagree where the data leave the answer open. The spread of the members is scaled
//! by a factor fitted on the held-out folds, so that 68 % of held-out values fall inside
//! `mean +- sd` (the 95 % interval `mean +- 1.96 sd` is then a check, reported beside it).
//!
//! Rows carry their training fidelity (the `epochs=N` of the `budget` column, 0 when the
//! budget is not in epochs); it is the last feature, so one model learns from rows of every
//! fidelity and is asked at the fidelity it is used for (by default the highest it saw).
//!
//! Member predictions are clipped to the measured range of their target (as the single model
//! does); the mean of several clipped members reaches the measured maximum only when every
//! member does, so the candidates of a front rarely tie, and the spread says which are unsure.

use super::SurrogateError;
use super::dataset::{Dataset, Row};
use super::domain::FittedGenes;
use super::features::{HW_FEATURE_NAMES, features, hardware_features};
use super::fit::fit_trees;
use super::metrics::{Score, kendall_tau};
use super::model::DataProvenance;
use super::params::{ModelKind, Target};
use super::trees::Ensemble;
use crate::error::Result;
use crate::hw::HwProfile;
use crate::nn::Arch;
use crate::space::SearchSpace;
use crate::task::Task;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Format tag of the ensemble model JSON.
pub const ENSEMBLE_FORMAT: &str = "analognas-surrogate-ensemble-1";

/// Name of the fidelity feature (training epochs of the row), after [`FEATURE_NAMES`].
pub const FIDELITY_FEATURE: &str = "epochs";

/// The fidelity of a row from its `budget` column: the `N` of `epochs=N`, or 0 when the
/// budget is not given in epochs (a time budget).
pub fn fidelity(budget: &str) -> f64 {
    budget
        .split([' ', ','])
        .find_map(|w| w.strip_prefix("epochs="))
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
        .unwrap_or(0.0)
}

/// The ensemble's feature vector of a measured row: its surrogate features, the hardware
/// features when `hardware` (a model fitted on co-search rows), then its fidelity.
pub fn row_features(row: &Row, hardware: bool) -> Vec<f64> {
    let mut f = row.features();
    if hardware {
        f.extend(hardware_features(&row.measurement.genome));
    }
    f.push(fidelity(&row.provenance.budget));
    f
}

/// The ensemble's feature vector of `arch` on `profile` at `fidelity` epochs (with the
/// hardware features when `hardware`).
pub fn arch_features(arch: &Arch, profile: &HwProfile, fidelity: f64, hardware: bool) -> Vec<f64> {
    let mut f = features(arch, profile);
    if hardware {
        f.extend(hardware_features(&arch.genome));
    }
    f.push(fidelity);
    f
}

/// Whether any row of `data` carries hardware genes (a co-search data set).
pub fn has_hardware(data: &Dataset) -> bool {
    data.rows
        .iter()
        .any(|r| r.measurement.genome.hardware.is_some())
}

/// How to fit an ensemble.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnsembleParams {
    /// Regressor family of the members. Default: forest (fast to fit, never predicts past
    /// the data).
    pub kind: ModelKind,
    /// Members (bootstrap resamples); at least 2. Default: 8.
    pub members: usize,
    /// Trees per member (forest trees or boosting rounds); at least 1. Default: 30.
    pub trees: usize,
    /// Folds of the cross-validation that gives the quality and calibration figures: 0 skips
    /// it (no figures, spread scale 1), else at least 2. Default: 5.
    pub folds: usize,
    /// Seed of the fold shuffle, the bootstrap resamples and the regressors. Default: 0.
    pub seed: u64,
}

impl Default for EnsembleParams {
    fn default() -> Self {
        EnsembleParams {
            kind: ModelKind::Forest,
            members: 8,
            trees: 30,
            folds: 5,
            seed: 0,
        }
    }
}

impl EnsembleParams {
    /// Checks the ranges; the message names the setting.
    pub fn validate(&self) -> std::result::Result<(), SurrogateError> {
        let bad = |field: &str, expected: &str, got: usize| SurrogateError::Param {
            field: field.into(),
            expected: expected.into(),
            got: got.to_string(),
        };
        if self.members < 2 {
            return Err(bad("members", "an integer >= 2", self.members));
        }
        if self.trees < 1 {
            return Err(bad("trees", "an integer >= 1", self.trees));
        }
        if self.folds == 1 {
            return Err(bad(
                "folds",
                "0 (no cross-validation) or an integer >= 2",
                1,
            ));
        }
        Ok(())
    }
}

/// A prediction with its uncertainty: the ensemble mean and the calibrated standard deviation.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Uncertain {
    /// Mean of the members.
    pub mean: f64,
    /// Standard deviation of the members times the calibration scale.
    pub sd: f64,
}

impl Uncertain {
    /// `mean + k * sd`.
    pub fn optimistic(&self, k: f64) -> f64 {
        self.mean + k * self.sd
    }
}

/// The three predictions of an ensemble for one architecture.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct UncertainPrediction {
    /// Accuracy after one day, percent.
    pub acc_1d: Uncertain,
    /// Accuracy variation over a month, points.
    pub avm: Uncertain,
    /// Spread of the 1-day accuracy between programmings, points.
    pub acc_1d_std: Uncertain,
}

/// How honest one target's uncertainty is on the held-out folds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Target name.
    pub target: String,
    /// Held-out values.
    pub n: usize,
    /// Fraction of held-out values inside `mean +- sd` with the members' raw spread.
    pub raw_inside_68: f64,
    /// Fraction inside `mean +- 1.96 sd`, raw spread.
    pub raw_inside_95: f64,
    /// The factor on the raw spread that puts 68 % of the held-out values inside
    /// `mean +- sd` (1 when there was no cross-validation).
    pub sd_scale: f64,
    /// Fraction inside `mean +- sd` with the scaled spread (0.68 by construction, up to ties).
    pub inside_68: f64,
    /// Fraction inside `mean +- 1.96 sd` with the scaled spread: the check of the scale.
    pub inside_95: f64,
}

impl Calibration {
    /// The figures of held-out `truth` against the predicted means and raw spreads.
    pub fn of(target: Target, mean: &[f64], raw_sd: &[f64], truth: &[f64]) -> Self {
        let z: Vec<f64> = mean
            .iter()
            .zip(raw_sd)
            .zip(truth)
            .map(|((m, s), t)| {
                let d = (t - m).abs();
                if d == 0.0 {
                    0.0
                } else if *s > 0.0 {
                    d / s
                } else {
                    f64::INFINITY
                }
            })
            .collect();
        let inside = |k: f64| {
            if z.is_empty() {
                return 0.0;
            }
            z.iter().filter(|&&v| v <= k).count() as f64 / z.len() as f64
        };
        let mut sorted = z.clone();
        sorted.sort_by(f64::total_cmp);
        // The 68th percentile of |error| / raw sd.
        let q = sorted
            .get(((0.6827 * sorted.len() as f64).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or(1.0);
        let sd_scale = if q.is_finite() && q > 0.0 { q } else { 1.0 };
        Calibration {
            target: target.name().to_string(),
            n: z.len(),
            raw_inside_68: inside(1.0),
            raw_inside_95: inside(1.96),
            sd_scale,
            inside_68: inside(sd_scale),
            inside_95: inside(1.96 * sd_scale),
        }
    }
}

/// A table of calibration figures, one line per target.
pub fn format_calibration(c: &[Calibration]) -> String {
    let mut s = format!(
        "{:<12} {:>6} {:>14} {:>14} {:>9} {:>14} {:>14}\n",
        "target", "n", "raw in 68 %", "raw in 95 %", "sd scale", "in 68 % int.", "in 95 % int."
    );
    for x in c {
        s.push_str(&format!(
            "{:<12} {:>6} {:>14.3} {:>14.3} {:>9.3} {:>14.3} {:>14.3}\n",
            x.target, x.n, x.raw_inside_68, x.raw_inside_95, x.sd_scale, x.inside_68, x.inside_95
        ));
    }
    s
}

/// One target's members with the scaling of its values: member `j` predicts
/// `clamp(mean + scale * members[j](x), min, max)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberTarget {
    /// The target.
    pub target: Target,
    /// Mean of the training values.
    pub mean: f64,
    /// Standard deviation of the training values (1 when constant).
    pub scale: f64,
    /// Smallest training value.
    pub min: f64,
    /// Largest training value.
    pub max: f64,
    /// Calibration factor on the members' spread.
    pub sd_scale: f64,
    /// The members, fitted on standardised values of bootstrap resamples.
    pub members: Vec<Ensemble>,
}

impl MemberTarget {
    /// Mean and raw (unscaled) standard deviation of the members at `f`.
    fn raw(&self, f: &[f64]) -> (f64, f64) {
        let n = self.members.len() as f64;
        let (mut s, mut ss) = (0.0, 0.0);
        for m in &self.members {
            let v = (self.mean + self.scale * m.predict(f)).clamp(self.min, self.max);
            s += v;
            ss += v * v;
        }
        let mean = s / n;
        let var = ((ss - n * mean * mean) / (n - 1.0).max(1.0)).max(0.0);
        (mean, var.sqrt())
    }

    /// The calibrated prediction at `f`.
    pub fn predict(&self, f: &[f64]) -> Uncertain {
        let (mean, sd) = self.raw(f);
        Uncertain {
            mean,
            sd: sd * self.sd_scale,
        }
    }

    fn fit(
        target: Target,
        params: &EnsembleParams,
        x: &[Vec<f64>],
        y: &[f64],
        stream: u64,
    ) -> Result<Self> {
        let n = y.len();
        let mean = y.iter().sum::<f64>() / n as f64;
        let sd = (y.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64).sqrt();
        let scale = if sd > 1e-12 { sd } else { 1.0 };
        let z: Vec<f64> = y.iter().map(|v| (v - mean) / scale).collect();
        let min = y.iter().copied().fold(f64::INFINITY, f64::min);
        let max = y.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let members = (0..params.members)
            .into_par_iter()
            .map(|j| {
                let seed = crate::rng::derive_seed(params.seed, stream * 1000 + j as u64);
                let mut rng = crate::rng::seeded(seed);
                let idx: Vec<usize> = (0..n)
                    .map(|_| {
                        use rand::RngExt;
                        rng.random_range(0..n)
                    })
                    .collect();
                let xs: Vec<Vec<f64>> = idx.iter().map(|&i| x[i].clone()).collect();
                let zs: Vec<f64> = idx.iter().map(|&i| z[i]).collect();
                fit_trees(params.kind, &xs, &zs, seed, params.trees)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(MemberTarget {
            target,
            mean,
            scale,
            min,
            max,
            sd_scale: 1.0,
            members,
        })
    }
}

/// A fitted ensemble surrogate (see the module documentation).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnsembleModel {
    /// Format tag, [`ENSEMBLE_FORMAT`].
    pub format: String,
    /// analognas version that fitted the model.
    pub version: String,
    /// The members' regressor and its settings.
    pub regressor: String,
    /// Feature names in the order the members read them (the surrogate features, then
    /// [`FIDELITY_FEATURE`]).
    pub features: Vec<String>,
    /// Hardware profile of the rows.
    pub profile: String,
    /// Task of the rows.
    pub task: Task,
    /// Where the rows came from.
    pub data: DataProvenance,
    /// How the model was fitted.
    pub params: EnsembleParams,
    /// The fidelities (epochs) of the rows, ascending.
    pub fidelities: Vec<f64>,
    /// The fidelity [`EnsembleModel::predict`] answers at: the highest of the rows.
    pub fidelity: f64,
    /// Held-out quality of the means, one per target (empty without cross-validation).
    pub cv: Vec<Score>,
    /// Held-out calibration of the spreads, one per target (empty without cross-validation).
    pub calibration: Vec<Calibration>,
    /// The members of every target, in [`Target::ALL`] order.
    pub targets: Vec<MemberTarget>,
}

/// The feature names of an ensemble: those of a single model, then the fidelity.
fn feature_names(hardware: bool) -> Vec<String> {
    let mut names = super::features::feature_names(hardware);
    names.push(FIDELITY_FEATURE.to_string());
    names
}

impl EnsembleModel {
    /// Whether the model reads the hardware features (it was fitted on co-search rows).
    pub fn hardware_features(&self) -> bool {
        self.features.iter().any(|f| f == HW_FEATURE_NAMES[0])
    }

    /// Fits the ensemble on every row of `data` (rows of several fidelities welcome): k-fold
    /// cross-validation for the quality and calibration figures, then the members on all rows.
    /// Deterministic for a seed, whatever the number of threads.
    pub fn fit(data: &Dataset, params: &EnsembleParams) -> Result<Self> {
        params.validate()?;
        let (task, profile) = data.task_and_profile()?;
        let n = data.rows.len();
        let need = params.folds.max(2);
        if n < need {
            return Err(SurrogateError::TooFewRows {
                file: data.file.clone(),
                expected: format!("{need} rows to fit an ensemble"),
                got: n.to_string(),
            }
            .into());
        }
        let hardware = has_hardware(data);
        let x: Vec<Vec<f64>> = data
            .rows
            .iter()
            .map(|r| row_features(r, hardware))
            .collect();
        let y: Vec<Vec<f64>> = Target::ALL
            .iter()
            .map(|t| data.rows.iter().map(|r| t.of(&r.measurement)).collect())
            .collect();

        let (mut cv, mut calibration) = (Vec::new(), Vec::new());
        if params.folds >= 2 {
            let mut order: Vec<usize> = (0..n).collect();
            let mut rng = crate::rng::seeded(params.seed);
            for i in (1..n).rev() {
                use rand::RngExt;
                order.swap(i, rng.random_range(0..=i));
            }
            let k = params.folds;
            let fold_of: Vec<Vec<usize>> = (0..k)
                .map(|f| order[f * n / k..(f + 1) * n / k].to_vec())
                .collect();
            let jobs: Vec<(usize, usize)> = (0..Target::ALL.len())
                .flat_map(|t| (0..k).map(move |f| (t, f)))
                .collect();
            let held_out: Vec<Vec<(f64, f64)>> = jobs
                .par_iter()
                .map(|&(t, f)| {
                    let train: Vec<usize> = (0..k)
                        .filter(|&j| j != f)
                        .flat_map(|j| fold_of[j].iter().copied())
                        .collect();
                    let xs: Vec<Vec<f64>> = train.iter().map(|&i| x[i].clone()).collect();
                    let ys: Vec<f64> = train.iter().map(|&i| y[t][i]).collect();
                    let stream = 1 + (t * 100 + f) as u64;
                    let m = MemberTarget::fit(Target::ALL[t], params, &xs, &ys, stream)?;
                    Ok(fold_of[f].iter().map(|&i| m.raw(&x[i])).collect())
                })
                .collect::<Result<_>>()?;
            for (t, &target) in Target::ALL.iter().enumerate() {
                let (mut mean, mut sd) = (vec![0.0; n], vec![0.0; n]);
                let mut fold_tau = Vec::new();
                for f in 0..k {
                    let p = &held_out[t * k + f];
                    let means: Vec<f64> = p.iter().map(|v| v.0).collect();
                    let truth: Vec<f64> = fold_of[f].iter().map(|&i| y[t][i]).collect();
                    fold_tau.push(kendall_tau(&means, &truth));
                    for (&i, &(m, s)) in fold_of[f].iter().zip(p) {
                        mean[i] = m;
                        sd[i] = s;
                    }
                }
                let mut score = Score::new(target, &mean, &y[t]);
                score.fold_kendall_tau = fold_tau;
                cv.push(score);
                calibration.push(Calibration::of(target, &mean, &sd, &y[t]));
            }
        }

        let mut targets = Target::ALL
            .par_iter()
            .enumerate()
            .map(|(t, &target)| MemberTarget::fit(target, params, &x, &y[t], 900 + t as u64))
            .collect::<Result<Vec<_>>>()?;
        for (t, c) in targets.iter_mut().zip(&calibration) {
            t.sd_scale = c.sd_scale;
        }
        let mut fidelities: Vec<f64> = x.iter().map(|f| f[f.len() - 1]).collect();
        fidelities.sort_by(f64::total_cmp);
        fidelities.dedup();
        let rows = &data.rows;
        let distinct = |v: Vec<String>| {
            let mut out: Vec<String> = Vec::new();
            for s in v {
                if !out.contains(&s) {
                    out.push(s);
                }
            }
            out
        };
        Ok(EnsembleModel {
            format: ENSEMBLE_FORMAT.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            regressor: format!(
                "{} bootstrap members of smartcore 0.7 {} with {} trees each",
                params.members,
                match params.kind {
                    ModelKind::Forest => "RandomForestRegressor (min_samples_leaf=2)",
                    ModelKind::Xgboost => "XGRegressor (max_depth=4 learning_rate=0.1)",
                },
                params.trees
            ),
            features: feature_names(hardware),
            profile: profile.clone(),
            task,
            data: DataProvenance {
                file: Path::new(&data.file)
                    .file_name()
                    .map_or(data.file.clone(), |f| f.to_string_lossy().into_owned()),
                rows: n,
                task,
                profile,
                spaces: distinct(rows.iter().map(|r| r.provenance.space.clone()).collect()),
                budgets: distinct(rows.iter().map(|r| r.provenance.budget.clone()).collect()),
                versions: distinct(rows.iter().map(|r| r.provenance.version.clone()).collect()),
                genes: FittedGenes::of(rows.iter().map(|r| &r.measurement.genome)),
            },
            params: params.clone(),
            fidelity: *fidelities.last().expect("at least one row"),
            fidelities,
            cv,
            calibration,
            targets,
        })
    }

    /// The three predictions for `arch` on `profile` at the model's fidelity.
    pub fn predict(&self, arch: &Arch, profile: &HwProfile) -> UncertainPrediction {
        self.predict_at(arch, profile, self.fidelity)
    }

    /// The three predictions for `arch` on `profile` at `fidelity` epochs.
    pub fn predict_at(
        &self,
        arch: &Arch,
        profile: &HwProfile,
        fidelity: f64,
    ) -> UncertainPrediction {
        self.predict_features(&arch_features(
            arch,
            profile,
            fidelity,
            self.hardware_features(),
        ))
    }

    /// The three predictions from a feature vector (the surrogate features, then the fidelity).
    ///
    /// # Panics
    /// If `f` does not have one value per feature of the model.
    pub fn predict_features(&self, f: &[f64]) -> UncertainPrediction {
        assert_eq!(f.len(), self.features.len(), "wrong feature count");
        UncertainPrediction {
            acc_1d: self.targets[0].predict(f),
            avm: self.targets[1].predict(f),
            acc_1d_std: self.targets[2].predict(f),
        }
    }

    /// The means' quality on a measured data set (each row at its own fidelity), and how many
    /// of its values fall inside the calibrated 68 % and 95 % intervals (`sd_scale` of these
    /// figures is 1: the model's own scale is applied).
    pub fn scores(&self, data: &Dataset) -> (Vec<Score>, Vec<Calibration>) {
        let hw = self.hardware_features();
        let x: Vec<Vec<f64>> = data.rows.iter().map(|r| row_features(r, hw)).collect();
        self.targets
            .iter()
            .map(|t| {
                let truth: Vec<f64> = data
                    .rows
                    .iter()
                    .map(|r| t.target.of(&r.measurement))
                    .collect();
                let pred: Vec<Uncertain> = x.iter().map(|f| t.predict(f)).collect();
                let mean: Vec<f64> = pred.iter().map(|p| p.mean).collect();
                let sd: Vec<f64> = pred.iter().map(|p| p.sd).collect();
                let c = Calibration::of(t.target, &mean, &sd, &truth);
                (Score::new(t.target, &mean, &truth), c)
            })
            .unzip()
    }

    /// Checks that every row of `data` has the model's task and profile.
    pub fn check_data(&self, data: &Dataset) -> Result<()> {
        super::model::check_data_of(data, self.task, &self.profile)
    }

    /// Why `genome` lies outside the genes the model was fitted on, if it does.
    pub fn extrapolation(&self, genome: &crate::space::Genome) -> Option<String> {
        self.data.genes.as_ref()?.violation(genome)
    }

    /// Checks that the model was fitted on `task`, on `profile` (by name) and on genes that
    /// cover every genome of `space`.
    pub fn check_use(
        &self,
        task: Task,
        profile: &HwProfile,
        space: &SearchSpace,
    ) -> std::result::Result<(), SurrogateError> {
        self.check_task(task)?;
        self.check_profile(profile)?;
        if let Some(v) = self
            .data
            .genes
            .as_ref()
            .and_then(|g| g.space_violation(space))
        {
            return Err(SurrogateError::Mismatch {
                field: "space".into(),
                expected: format!(
                    "a space within the genes of {}",
                    self.data.spaces.join(", ")
                ),
                got: format!("space {} with {v}", space.name),
            });
        }
        Ok(())
    }

    /// Checks that `task` is the one the model was fitted on.
    pub fn check_task(&self, task: Task) -> std::result::Result<(), SurrogateError> {
        super::model::check_task_of(self.task, task)
    }

    /// Checks that `profile` is the one the model was fitted on (by name).
    pub fn check_profile(&self, profile: &HwProfile) -> std::result::Result<(), SurrogateError> {
        super::model::check_profile_of(&self.profile, profile)
    }

    /// Checks that `arch` has the input shape and classes of the model's task.
    pub fn check_arch(&self, arch: &Arch) -> std::result::Result<(), SurrogateError> {
        super::model::check_arch_of(self.task, arch)
    }

    /// The model as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an ensemble model serializes")
    }

    /// Writes the model as JSON, atomically.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        crate::error::write_atomic(path, self.to_json().as_bytes())
    }

    /// Reads a model written by [`EnsembleModel::save`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = crate::error::read_to_string(path)?;
        Self::parse(&path.display().to_string(), &text)
    }

    /// Whether `text` is an ensemble model file (by its format tag), without parsing it all.
    pub fn is_ensemble_json(text: &str) -> bool {
        text.trim_start().starts_with('{')
            && text
                .get(..200.min(text.len()))
                .is_some_and(|head| head.contains(ENSEMBLE_FORMAT))
    }

    /// Parses a model from JSON; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Self> {
        let field = |field: &str, expected: String, got: String| SurrogateError::ModelField {
            file: file.into(),
            field: field.into(),
            expected,
            got,
        };
        let model: EnsembleModel = serde_json::from_str(text).map_err(|e| {
            if e.is_syntax() || e.is_eof() {
                SurrogateError::Json {
                    file: file.into(),
                    line: e.line(),
                    column: e.column(),
                    message: crate::error::one_line(&e.to_string()),
                }
            } else {
                SurrogateError::Model {
                    file: file.into(),
                    message: crate::error::one_line(&e.to_string()),
                }
            }
        })?;
        if model.format != ENSEMBLE_FORMAT {
            return Err(field(
                "format",
                format!("{ENSEMBLE_FORMAT:?}"),
                crate::error::quoted(&model.format),
            )
            .into());
        }
        if model.features != feature_names(false) && model.features != feature_names(true) {
            let expected = format!(
                "the {} surrogate features (or {} with the hardware features) and epochs",
                feature_names(false).len() - 1,
                feature_names(true).len() - 1
            );
            return Err(field("features", expected, model.features.len().to_string()).into());
        }
        let targets: Vec<Target> = model.targets.iter().map(|t| t.target).collect();
        if targets != Target::ALL {
            return Err(field(
                "targets",
                "acc_1d, avm, acc_1d_std".into(),
                format!("{targets:?}"),
            )
            .into());
        }
        let nf = model.features.len();
        for t in &model.targets {
            let name = format!("targets.{}", t.target.name());
            let finite = [t.mean, t.scale, t.min, t.max, t.sd_scale];
            if !(finite.iter().all(|v| v.is_finite()) && t.scale > 0.0 && t.sd_scale > 0.0) {
                return Err(field(
                    &name,
                    "finite values and positive scales".into(),
                    format!(
                        "mean {}, scale {}, sd_scale {}",
                        t.mean, t.scale, t.sd_scale
                    ),
                )
                .into());
            }
            if t.members.len() < 2 {
                return Err(field(
                    &format!("{name}.members"),
                    "at least 2 members".into(),
                    t.members.len().to_string(),
                )
                .into());
            }
            for (j, m) in t.members.iter().enumerate() {
                m.check(nf).map_err(|e| {
                    field(
                        &format!("{name}.members[{j}]"),
                        "well-formed trees".into(),
                        e,
                    )
                })?;
            }
        }
        Ok(model)
    }
}

#[cfg(test)]
mod tests {
    use super::super::features::N_FEATURES;
    use super::*;
    use crate::test_support::synthetic_dataset as synthetic;

    fn params() -> EnsembleParams {
        EnsembleParams {
            members: 5,
            trees: 15,
            folds: 4,
            ..EnsembleParams::default()
        }
    }

    #[test]
    fn fidelity_comes_from_the_budget() {
        assert_eq!(fidelity("epochs=4 hwa=0.06 batch=64 lr=0.05 reps=3"), 4.0);
        assert_eq!(fidelity("epochs=2, reps=3 \"fast\""), 2.0);
        assert_eq!(fidelity("seconds=30 hwa=0.06"), 0.0);
        assert_eq!(fidelity(""), 0.0);
    }

    #[test]
    fn ensemble_ranks_calibrates_and_round_trips() {
        let data = synthetic(160, 1, 0.5);
        let model = EnsembleModel::fit(&data, &params()).unwrap();
        let tau = model.cv[0].kendall_tau.unwrap();
        assert!(tau >= 0.6, "{}", super::super::format_scores(&model.cv));
        let c = &model.calibration[0];
        assert_eq!(c.n, 160);
        // The scale puts about 68 % inside by construction; the 95 % interval is a check.
        assert!((c.inside_68 - 0.68).abs() < 0.05, "{c:?}");
        assert!(c.inside_95 > 0.8, "{c:?}");
        assert!(c.sd_scale > 0.0);
        let back = EnsembleModel::parse("e.json", &model.to_json()).unwrap();
        let profile = HwProfile::default();
        let probe = synthetic(10, 5, 0.5);
        let mut spreads = 0;
        for r in &probe.rows {
            let a = r.arch();
            let p = model.predict(&a, &profile);
            assert_eq!(p, back.predict(&a, &profile));
            assert!(p.acc_1d.sd >= 0.0 && p.acc_1d.mean.is_finite());
            spreads += usize::from(p.acc_1d.sd > 0.0);
        }
        assert!(spreads >= 8, "the members should disagree somewhere");
        // Deterministic whatever the thread count.
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| EnsembleModel::fit(&data, &params()).unwrap());
        assert_eq!(one.to_json(), model.to_json());
        assert!(EnsembleModel::is_ensemble_json(&model.to_json()));
        let e = EnsembleModel::parse("e.json", &model.to_json().replacen("\"oc0\"", "\"x\"", 1))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("e.json: field features:"), "{e}");
    }

    #[test]
    fn rows_with_hardware_genes_add_the_hardware_features() {
        let mut data = synthetic(40, 2, 0.5);
        assert!(!has_hardware(&data));
        for (i, r) in data.rows.iter_mut().enumerate() {
            let g = &mut r.measurement.genome;
            g.hardware = Some(crate::space::HwGenes {
                adc_bits: Some(6 + 2 * (i % 2) as u32),
                ..Default::default()
            });
            r.measurement.id = g.id();
        }
        let model = EnsembleModel::fit(&data, &params()).unwrap();
        assert!(model.hardware_features());
        assert_eq!(
            model.features.len(),
            N_FEATURES + HW_FEATURE_NAMES.len() + 1
        );
        let back = EnsembleModel::parse("e.json", &model.to_json()).unwrap();
        let a = data.rows[0].arch();
        let p = back.predict(&a, &HwProfile::default());
        assert!(p.acc_1d.mean.is_finite());
        // The same rows without hardware genes keep the plain features.
        let plain = EnsembleModel::fit(&synthetic(40, 2, 0.5), &params()).unwrap();
        assert!(!plain.hardware_features());
        assert_eq!(plain.features.len(), N_FEATURES + 1);
    }

    #[test]
    fn bad_params_are_named() {
        let data = synthetic(10, 1, 0.5);
        let e = EnsembleModel::fit(
            &data,
            &EnsembleParams {
                members: 1,
                ..params()
            },
        )
        .unwrap_err()
        .to_string();
        assert_eq!(e, "members: expected an integer >= 2, got 1");
    }
}
