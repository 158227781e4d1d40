//! Fitted surrogate models: one smartcore regressor per target, k-fold cross-validated, saved as
//! JSON with everything needed to predict and the quality figures measured on held-out folds.

use super::dataset::Dataset;
use super::features::{FEATURE_NAMES, N_FEATURES, features};
use super::metrics::{kendall_tau, mae, spearman_rho};
use super::trees::Ensemble;
use crate::error::{Error, Result};
use crate::hw::HwProfile;
use crate::measure::Measurement;
use crate::nn::Arch;
use crate::task::Task;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use smartcore::ensemble::random_forest_regressor::{
    RandomForestRegressor, RandomForestRegressorParameters,
};
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::xgboost::{XGRegressor, XGRegressorParameters};
use std::path::Path;

/// Format tag of the model JSON.
pub const MODEL_FORMAT: &str = "analognas-surrogate-1";

type Matrix = DenseMatrix<f64>;

/// The regressor family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Gradient-boosted trees (`smartcore::xgboost::XGRegressor`).
    Xgboost,
    /// Random forest (`smartcore::ensemble::RandomForestRegressor`).
    Forest,
}

impl std::fmt::Display for ModelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ModelKind::Xgboost => "xgboost",
            ModelKind::Forest => "forest",
        })
    }
}

/// What the surrogate predicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Mean accuracy one day after programming, percent.
    Acc1d,
    /// Accuracy variation over a month, acc(1 s) - acc(30 d), percent points.
    Avm,
    /// Standard deviation of the 1-day accuracy between programmings, percent points.
    Acc1dStd,
}

impl Target {
    /// The three targets in prediction order.
    pub const ALL: [Target; 3] = [Target::Acc1d, Target::Avm, Target::Acc1dStd];

    /// The target's name (`acc_1d`, `avm`, `acc_1d_std`).
    pub fn name(self) -> &'static str {
        match self {
            Target::Acc1d => "acc_1d",
            Target::Avm => "avm",
            Target::Acc1dStd => "acc_1d_std",
        }
    }

    /// The measured value of this target.
    pub fn of(self, m: &Measurement) -> f64 {
        match self {
            Target::Acc1d => m.acc_1d,
            Target::Avm => m.avm,
            Target::Acc1dStd => m.acc_1d_std,
        }
    }
}

/// The three predictions for one architecture.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// Predicted mean accuracy after one day, percent.
    pub acc_1d: f64,
    /// Predicted accuracy variation over a month, percent points.
    pub avm: f64,
    /// Predicted spread of the 1-day accuracy between chips, percent points.
    pub acc_1d_std: f64,
}

impl Prediction {
    fn from_values(v: [f64; 3]) -> Self {
        Prediction {
            acc_1d: v[0],
            avm: v[1],
            acc_1d_std: v[2],
        }
    }
}

/// How to fit a surrogate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitParams {
    /// Regressor family. Default: xgboost.
    pub kind: ModelKind,
    /// Folds of the cross-validation; at least 2. Default: 5.
    pub folds: usize,
    /// Seed of the fold shuffle and of the regressors. Default: 0.
    pub seed: u64,
}

impl Default for FitParams {
    fn default() -> Self {
        FitParams {
            kind: ModelKind::Xgboost,
            folds: 5,
            seed: 0,
        }
    }
}

/// Quality of one target's predictions on data the model did not see.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// Target name.
    pub target: String,
    /// Number of rows scored.
    pub n: usize,
    /// Kendall tau-b of predicted against measured (`None`: undefined, a side is constant).
    pub kendall_tau: Option<f64>,
    /// Spearman rho of predicted against measured.
    pub spearman_rho: Option<f64>,
    /// Mean absolute error, in the target's unit.
    pub mae: Option<f64>,
    /// Kendall tau within each held-out fold (cross-validation only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fold_kendall_tau: Vec<Option<f64>>,
}

impl Score {
    fn new(target: Target, pred: &[f64], truth: &[f64]) -> Self {
        Score {
            target: target.name().to_string(),
            n: pred.len(),
            kendall_tau: kendall_tau(pred, truth),
            spearman_rho: spearman_rho(pred, truth),
            mae: mae(pred, truth),
            fold_kendall_tau: Vec::new(),
        }
    }
}

/// A table of scores: target, n, Kendall tau, Spearman rho, MAE (and the per-fold tau range).
pub fn format_scores(scores: &[Score]) -> String {
    let f = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{v:.3}"));
    let mut s = format!(
        "{:<12} {:>6} {:>12} {:>13} {:>9}  {}\n",
        "target", "n", "kendall_tau", "spearman_rho", "mae", "fold tau range"
    );
    for sc in scores {
        let taus: Vec<f64> = sc.fold_kendall_tau.iter().flatten().copied().collect();
        let range = if taus.is_empty() {
            String::new()
        } else {
            let lo = taus.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = taus.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            format!("{lo:.3} .. {hi:.3}")
        };
        s.push_str(&format!(
            "{:<12} {:>6} {:>12} {:>13} {:>9}  {}\n",
            sc.target,
            sc.n,
            f(sc.kendall_tau),
            f(sc.spearman_rho),
            f(sc.mae),
            range
        ));
    }
    s
}

/// Where the training data of a model came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataProvenance {
    /// File name of the data set.
    pub file: String,
    /// Rows fitted on.
    pub rows: usize,
    /// Task of every row.
    pub task: Task,
    /// Hardware profile name of every row.
    pub profile: String,
    /// Distinct search-space names of the rows.
    pub spaces: Vec<String>,
    /// Distinct training budgets of the rows.
    pub budgets: Vec<String>,
    /// Distinct analognas versions that measured the rows.
    pub versions: Vec<String>,
}

/// The smartcore regressor and its settings, as recorded in the model file.
pub fn regressor_description(kind: ModelKind) -> String {
    match kind {
        ModelKind::Xgboost => "smartcore 0.7 XGRegressor: n_estimators=150 max_depth=4 \
                               learning_rate=0.1 subsample=0.8 min_child_weight=2 lambda=1 \
                               base_score=0"
            .into(),
        ModelKind::Forest => format!(
            "smartcore 0.7 RandomForestRegressor: n_trees=100 m={} min_samples_leaf=2 \
             max_depth=none",
            N_FEATURES.div_ceil(3)
        ),
    }
}

/// Fits a smartcore regressor on `rows` and converts it to an [`Ensemble`], checking that the
/// conversion predicts exactly what smartcore predicts on every training row.
fn fit_ensemble(kind: ModelKind, rows: &[Vec<f64>], y: &Vec<f64>, seed: u64) -> Result<Ensemble> {
    let x = matrix(rows);
    let failed = |e: smartcore::error::Failed| Error::Training(format!("{kind} fit: {e}"));
    let (ensemble, want) = match kind {
        ModelKind::Xgboost => {
            let m = XGRegressor::fit(
                &x,
                y,
                XGRegressorParameters::default()
                    .with_n_estimators(150)
                    .with_max_depth(4)
                    .with_learning_rate(0.1)
                    .with_subsample(0.8)
                    .with_min_child_weight(2)
                    .with_lambda(1.0)
                    .with_base_score(0.0)
                    .with_seed(seed),
            )
            .map_err(failed)?;
            (Ensemble::from_xgboost(&m)?, m.predict(&x).map_err(failed)?)
        }
        ModelKind::Forest => {
            let m = RandomForestRegressor::fit(
                &x,
                y,
                RandomForestRegressorParameters::default()
                    .with_n_trees(100)
                    .with_m(N_FEATURES.div_ceil(3))
                    .with_min_samples_leaf(2)
                    .with_seed(seed),
            )
            .map_err(failed)?;
            (Ensemble::from_forest(&m)?, m.predict(&x).map_err(failed)?)
        }
    };
    for (i, (r, w)) in rows.iter().zip(&want).enumerate() {
        let got = ensemble.predict(r);
        if got.to_bits() != w.to_bits() {
            return Err(Error::Training(format!(
                "converted {kind} trees predict {got} on training row {i}, smartcore {w}"
            )));
        }
    }
    Ok(ensemble)
}

/// One target's trees with the scaling of its values: `value = mean + scale * output`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetModel {
    /// The target.
    pub target: Target,
    /// Mean of the training values.
    pub mean: f64,
    /// Standard deviation of the training values (1 when they are constant).
    pub scale: f64,
    /// Smallest training value: predictions are clipped to the measured range, so that the
    /// search cannot exploit trees that add up past what was ever measured (e.g. over 100 %).
    pub min: f64,
    /// Largest training value.
    pub max: f64,
    /// The trees, fitted on standardised values.
    pub trees: Ensemble,
}

impl TargetModel {
    fn fit(
        target: Target,
        kind: ModelKind,
        rows: &[Vec<f64>],
        y: &[f64],
        seed: u64,
    ) -> Result<Self> {
        let n = y.len() as f64;
        let mean = y.iter().sum::<f64>() / n;
        let sd = (y.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt();
        let scale = if sd > 1e-12 { sd } else { 1.0 };
        let z: Vec<f64> = y.iter().map(|v| (v - mean) / scale).collect();
        let min = y.iter().copied().fold(f64::INFINITY, f64::min);
        let max = y.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Ok(TargetModel {
            target,
            min,
            max,
            mean,
            scale,
            trees: fit_ensemble(kind, rows, &z, seed)?,
        })
    }

    /// The prediction for one feature vector, in the target's unit.
    #[inline]
    pub fn predict(&self, f: &[f64]) -> f64 {
        (self.mean + self.scale * self.trees.predict(f)).clamp(self.min, self.max)
    }
}

/// A fitted surrogate: one regressor per target on the DESIGN.md 5 features.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurrogateModel {
    /// Format tag, [`MODEL_FORMAT`].
    pub format: String,
    /// analognas version that fitted the model.
    pub version: String,
    /// Regressor family.
    pub kind: ModelKind,
    /// The smartcore regressor and its settings that the trees were fitted with.
    pub regressor: String,
    /// Feature names in the order the regressors read them.
    pub features: Vec<String>,
    /// Name of the hardware profile the tile feature was computed on.
    pub profile: String,
    /// Task the data was measured on (fixes the input shape of predicted genomes).
    pub task: Task,
    /// Where the training data came from.
    pub data: DataProvenance,
    /// How the model was fitted.
    pub params: FitParams,
    /// Quality on held-out folds, pooled over the folds, one per target.
    pub cv: Vec<Score>,
    /// The final trees, fitted on all rows, in [`Target::ALL`] order.
    pub targets: Vec<TargetModel>,
}

fn matrix(rows: &[Vec<f64>]) -> Matrix {
    let values: Vec<f64> = rows.iter().flatten().copied().collect();
    DenseMatrix::new(rows.len(), N_FEATURES, values, false).expect("feature rows have N_FEATURES")
}

/// The final regressors of every target on all rows, fitted in parallel.
pub(crate) fn fit_targets(
    params: &FitParams,
    x: &[Vec<f64>],
    y: &[Vec<f64>],
) -> Result<Vec<TargetModel>> {
    Target::ALL
        .par_iter()
        .enumerate()
        .map(|(t, &target)| {
            let seed = crate::rng::derive_seed(params.seed, (t * 1000) as u64);
            TargetModel::fit(target, params.kind, x, &y[t], seed)
        })
        .collect()
}

fn distinct(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for s in values {
        if !v.contains(&s) {
            v.push(s);
        }
    }
    v
}

impl SurrogateModel {
    /// Fits a model on `data`: k-fold cross-validation (seeded shuffle) for the quality
    /// figures, then a final fit per target on all rows. The fits run in parallel (rayon); the
    /// model, and its JSON byte for byte, does not depend on the number of threads.
    pub fn fit(data: &Dataset, params: &FitParams) -> Result<Self> {
        let (task, profile) = data.task_and_profile()?;
        let n = data.rows.len();
        if params.folds < 2 {
            return Err(Error::input(format!(
                "folds: expected an integer >= 2, got {}",
                params.folds
            )));
        }
        if n < params.folds {
            return Err(Error::input(format!(
                "{}: expected at least {} rows (one per fold), got {n}",
                data.file, params.folds
            )));
        }
        let x: Vec<Vec<f64>> = data.rows.iter().map(|r| r.features()).collect();
        let y: Vec<Vec<f64>> = Target::ALL
            .iter()
            .map(|t| data.rows.iter().map(|r| t.of(&r.measurement)).collect())
            .collect();

        let mut order: Vec<usize> = (0..n).collect();
        let mut rng = crate::rng::seeded(params.seed);
        for i in (1..n).rev() {
            use rand::RngExt;
            order.swap(i, rng.random_range(0..=i));
        }
        let fold_of: Vec<Vec<usize>> = (0..params.folds)
            .map(|k| order[k * n / params.folds..(k + 1) * n / params.folds].to_vec())
            .collect();

        let jobs: Vec<(usize, usize)> = (0..Target::ALL.len())
            .flat_map(|t| (0..params.folds).map(move |k| (t, k)))
            .collect();
        let held_out: Vec<Vec<f64>> = jobs
            .par_iter()
            .map(|&(t, k)| {
                let test = &fold_of[k];
                let train: Vec<usize> = (0..params.folds)
                    .filter(|&j| j != k)
                    .flat_map(|j| fold_of[j].iter().copied())
                    .collect();
                let xs: Vec<Vec<f64>> = train.iter().map(|&i| x[i].clone()).collect();
                let ys: Vec<f64> = train.iter().map(|&i| y[t][i]).collect();
                let seed = crate::rng::derive_seed(params.seed, (t * 1000 + k + 1) as u64);
                let model = TargetModel::fit(Target::ALL[t], params.kind, &xs, &ys, seed)?;
                Ok(test.iter().map(|&i| model.predict(&x[i])).collect())
            })
            .collect::<Result<_>>()?;

        let mut cv = Vec::new();
        for (t, &target) in Target::ALL.iter().enumerate() {
            let mut pred = vec![0.0; n];
            let mut fold_tau = Vec::new();
            for k in 0..params.folds {
                let p = &held_out[t * params.folds + k];
                let truth: Vec<f64> = fold_of[k].iter().map(|&i| y[t][i]).collect();
                fold_tau.push(kendall_tau(p, &truth));
                for (&i, &v) in fold_of[k].iter().zip(p) {
                    pred[i] = v;
                }
            }
            let mut score = Score::new(target, &pred, &y[t]);
            score.fold_kendall_tau = fold_tau;
            cv.push(score);
        }

        let targets = fit_targets(params, &x, &y)?;

        let rows = &data.rows;
        Ok(SurrogateModel {
            format: MODEL_FORMAT.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            kind: params.kind,
            regressor: regressor_description(params.kind),
            features: FEATURE_NAMES.iter().map(|s| s.to_string()).collect(),
            profile: profile.clone(),
            task,
            data: DataProvenance {
                file: Path::new(&data.file)
                    .file_name()
                    .map_or(data.file.clone(), |f| f.to_string_lossy().into_owned()),
                rows: n,
                task,
                profile,
                spaces: distinct(rows.iter().map(|r| r.provenance.space.clone())),
                budgets: distinct(rows.iter().map(|r| r.provenance.budget.clone())),
                versions: distinct(rows.iter().map(|r| r.provenance.version.clone())),
            },
            params: params.clone(),
            cv,
            targets,
        })
    }

    /// The three predictions for `arch` on `profile` (the profile the model was fitted on; see
    /// [`SurrogateModel::check_profile`]). Takes a few microseconds.
    pub fn predict(&self, arch: &Arch, profile: &HwProfile) -> Prediction {
        self.predict_features(&features(arch, profile))
    }

    /// Predictions for many architectures at once.
    pub fn predict_many(&self, archs: &[Arch], profile: &HwProfile) -> Vec<Prediction> {
        archs.iter().map(|a| self.predict(a, profile)).collect()
    }

    /// The three predictions from a feature vector in [`FEATURE_NAMES`] order.
    ///
    /// # Panics
    /// If `f` does not have [`N_FEATURES`] values.
    pub fn predict_features(&self, f: &[f64]) -> Prediction {
        assert_eq!(f.len(), N_FEATURES, "predict_features: wrong feature count");
        let mut v = [0.0; 3];
        for (slot, t) in v.iter_mut().zip(&self.targets) {
            *slot = t.predict(f);
        }
        Prediction::from_values(v)
    }

    /// Checks that `profile` is the one the model was fitted on.
    pub fn check_profile(&self, profile: &HwProfile) -> Result<()> {
        if profile.name != self.profile {
            return Err(Error::input(format!(
                "profile: expected {} (the profile the model was fitted on), got {}",
                self.profile, profile.name
            )));
        }
        Ok(())
    }

    /// Quality on another measured data set (same task and profile), one score per target.
    pub fn evaluate(&self, data: &Dataset) -> Result<Vec<Score>> {
        let (task, profile) = data.task_and_profile()?;
        if task != self.task {
            return Err(data.row_error(
                0,
                "task",
                &format!("expected {} (the model's task), got {task}", self.task),
            ));
        }
        if profile != self.profile {
            return Err(data.row_error(
                0,
                "profile",
                &format!(
                    "expected {} (the model's profile), got {profile}",
                    self.profile
                ),
            ));
        }
        let x: Vec<Vec<f64>> = data.rows.iter().map(|r| r.features()).collect();
        Ok(self
            .targets
            .iter()
            .map(|t| {
                let truth: Vec<f64> = data
                    .rows
                    .iter()
                    .map(|r| t.target.of(&r.measurement))
                    .collect();
                let pred: Vec<f64> = x.iter().map(|f| t.predict(f)).collect();
                Score::new(t.target, &pred, &truth)
            })
            .collect())
    }

    /// The model as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a surrogate model serializes")
    }

    /// Writes the model as JSON, atomically.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        crate::error::write_atomic(path, self.to_json().as_bytes())
    }

    /// Reads a model written by [`SurrogateModel::save`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = crate::error::read_to_string(path)?;
        Self::parse(&path.display().to_string(), &text)
    }

    /// Parses a model from JSON; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Self> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            Error::input(format!(
                "{file}:{}:{}: expected a surrogate model JSON, got invalid JSON: {e}",
                e.line(),
                e.column()
            ))
        })?;
        let format = value.get("format").and_then(|f| f.as_str()).unwrap_or("");
        if format != MODEL_FORMAT {
            return Err(Error::input(format!(
                "{file}: field format: expected {MODEL_FORMAT:?}, got {format:?}"
            )));
        }
        let model: SurrogateModel = serde_json::from_value(value)
            .map_err(|e| Error::input(format!("{file}: expected a surrogate model: {e}")))?;
        if model.features != FEATURE_NAMES {
            return Err(Error::input(format!(
                "{file}: field features: expected {} features ({}, ..., {}), got {}",
                N_FEATURES,
                FEATURE_NAMES[0],
                FEATURE_NAMES[N_FEATURES - 1],
                model.features.len()
            )));
        }
        let targets: Vec<Target> = model.targets.iter().map(|t| t.target).collect();
        if targets != Target::ALL {
            return Err(Error::input(format!(
                "{file}: field targets: expected acc_1d, avm, acc_1d_std, got {targets:?}"
            )));
        }
        for t in &model.targets {
            if !(t.mean.is_finite() && t.scale.is_finite() && t.scale > 0.0) {
                return Err(Error::input(format!(
                    "{file}: field targets.{}: expected a finite mean and a positive scale",
                    t.target.name()
                )));
            }
            t.trees.check(N_FEATURES).map_err(|e| {
                Error::input(format!(
                    "{file}: field targets.{}.trees: expected well-formed trees, got {e}",
                    t.target.name()
                ))
            })?;
        }
        Ok(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hw::footprint;
    use crate::measure::{DRIFT_TIMES, DriftPoint};
    use crate::space::{ConvType, SearchSpace};
    use crate::surrogate::dataset::{Provenance, Row, parse, to_csv};

    /// Synthetic "measurements" from a known function of the genome, with noise:
    /// accuracy rises with log(params) and falls with depth, separable convs (D) cost accuracy
    /// and drift more, deep nets drift more.
    fn synthetic(n: usize, seed: u64, noise: f64) -> Dataset {
        let space = SearchSpace::load(format!(
            "{}/search_spaces/resnet_tinyml.toml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let profile = HwProfile::default();
        let mut rng = crate::rng::seeded(seed);
        let rows: Vec<Row> = space
            .sample_lhs(n, &mut rng)
            .into_iter()
            .map(|g| {
                let arch = Arch::for_task(g, Task::Digits);
                let fp = footprint(&arch, &profile);
                let sep = arch
                    .genome
                    .blocks
                    .iter()
                    .filter(|b| b.ct == ConvType::D)
                    .count() as f64;
                let depth = arch.depth() as f64;
                let mut noisy = |s: f64| s * noise * crate::rng::normal(&mut rng) as f64;
                let acc =
                    60.0 + 3.0 * (fp.params as f64).ln() - 0.3 * depth - 2.0 * sep + noisy(1.0);
                let avm = 1.0 + 0.15 * depth + 0.8 * sep + noisy(0.3);
                let std = 0.3 + 0.02 * fp.tiles as f64 + noisy(0.05);
                let drift: Vec<DriftPoint> = DRIFT_TIMES
                    .iter()
                    .map(|&(label, t)| DriftPoint {
                        t_seconds: t,
                        mean: if label == "1d" { acc } else { acc + 0.1 },
                        std,
                    })
                    .collect();
                Row {
                    measurement: Measurement {
                        id: arch.genome.id(),
                        acc_fp: acc + 1.0,
                        acc_1d: acc,
                        acc_1d_std: std,
                        avm,
                        drift,
                        tiles: fp.tiles,
                        utilisation: fp.utilisation,
                        params: fp.params,
                        macs: fp.macs,
                        depth: arch.depth(),
                        train_seconds: 1.0,
                        seed: 0,
                        genome: arch.genome,
                    },
                    provenance: Provenance::new(
                        Task::Digits,
                        "resnet_tinyml",
                        profile.name.clone(),
                        "synthetic",
                    ),
                }
            })
            .collect();
        parse("synthetic.csv", &to_csv(&rows)).unwrap()
    }

    #[test]
    fn learns_a_known_function() {
        // 200 LHS rows of resnet_tinyml; threshold: held-out Kendall tau >= 0.75 for acc_1d
        // (noise sd 0.5 points against a spread of several points).
        let data = synthetic(200, 1, 0.5);
        for kind in [ModelKind::Xgboost, ModelKind::Forest] {
            let params = FitParams {
                kind,
                folds: 5,
                seed: 3,
            };
            let model = SurrogateModel::fit(&data, &params).unwrap();
            let tau = |t: &str| {
                model
                    .cv
                    .iter()
                    .find(|s| s.target == t)
                    .unwrap()
                    .kendall_tau
                    .unwrap()
            };
            assert!(
                tau("acc_1d") >= 0.75,
                "{kind}: {}",
                format_scores(&model.cv)
            );
            assert!(tau("avm") >= 0.6, "{kind}: {}", format_scores(&model.cv));
            assert!(
                tau("acc_1d_std") >= 0.6,
                "{kind}: {}",
                format_scores(&model.cv)
            );
            assert_eq!(model.cv[0].n, 200);
            assert_eq!(model.cv[0].fold_kendall_tau.len(), 5);
            // On fresh data from the same function the model ranks well too.
            let fresh = synthetic(80, 2, 0.5);
            let scores = model.evaluate(&fresh).unwrap();
            assert!(
                scores[0].kendall_tau.unwrap() >= 0.7,
                "{}",
                format_scores(&scores)
            );
        }
    }

    #[test]
    fn fit_is_deterministic_and_json_round_trip_predicts_identically() {
        let data = synthetic(40, 4, 0.5);
        let profile = HwProfile::default();
        let probe = synthetic(10, 5, 0.5);
        for kind in [ModelKind::Xgboost, ModelKind::Forest] {
            let params = FitParams {
                kind,
                folds: 4,
                seed: 7,
            };
            let model = SurrogateModel::fit(&data, &params).unwrap();
            let pool = |n| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n)
                    .build()
                    .unwrap()
            };
            let again = pool(1).install(|| SurrogateModel::fit(&data, &params).unwrap());
            assert_eq!(again.to_json(), model.to_json(), "1 thread");
            let again = pool(3).install(|| SurrogateModel::fit(&data, &params).unwrap());
            assert_eq!(again.to_json(), model.to_json(), "3 threads");
            let back = SurrogateModel::parse("m.json", &model.to_json()).unwrap();
            assert_eq!(back.cv, model.cv);
            let archs: Vec<Arch> = probe.rows.iter().map(|r| r.arch()).collect();
            let many = back.predict_many(&archs, &profile);
            for (a, m) in archs.iter().zip(&many) {
                let p = model.predict(a, &profile);
                assert_eq!(p, back.predict(a, &profile));
                assert_eq!(p, again.predict(a, &profile));
                assert_eq!(&p, m);
                assert!(p.acc_1d.is_finite() && p.avm.is_finite() && p.acc_1d_std.is_finite());
            }
        }
    }

    #[test]
    fn bad_inputs_are_one_line_errors() {
        let data = synthetic(6, 4, 0.5);
        let e = SurrogateModel::fit(
            &data,
            &FitParams {
                folds: 1,
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert_eq!(e, "folds: expected an integer >= 2, got 1");
        let e = SurrogateModel::fit(
            &data,
            &FitParams {
                folds: 7,
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "synthetic.csv: expected at least 7 rows (one per fold), got 6"
        );
        let e = SurrogateModel::parse("m.json", "{\"format\": 3")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("m.json:1:"), "{e}");
        let e = SurrogateModel::parse("m.json", "{\"format\": \"x\"}")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "m.json: field format: expected \"analognas-surrogate-1\", got \"x\""
        );
        let model = SurrogateModel::fit(
            &data,
            &FitParams {
                folds: 2,
                ..Default::default()
            },
        )
        .unwrap();
        let json = model.to_json().replacen("\"oc0\"", "\"stem\"", 1);
        let e = SurrogateModel::parse("m.json", &json)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("m.json: field features: expected 28 features"),
            "{e}"
        );
        let other = HwProfile {
            name: "elsewhere".into(),
            ..HwProfile::default()
        };
        let e = model.check_profile(&other).unwrap_err().to_string();
        assert!(e.contains("expected pcm_aihwkit"), "{e}");
    }
}
