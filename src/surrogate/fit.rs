//! Fitting a surrogate: k-fold cross-validation for the quality figures, then one smartcore
//! regressor per target on all rows, converted to our own [`Ensemble`].

use super::SurrogateError;
use super::dataset::Dataset;
use super::domain::FittedGenes;
use super::features::N_FEATURES;
use super::json::MODEL_FORMAT;
use super::metrics::{Score, kendall_tau};
use super::model::{DataProvenance, SurrogateModel, TargetModel};
use super::params::{FitParams, ModelKind, Target};
use super::trees::Ensemble;
use crate::error::Result;
use rayon::prelude::*;
use smartcore::ensemble::random_forest_regressor::{
    RandomForestRegressor, RandomForestRegressorParameters,
};
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::xgboost::{XGRegressor, XGRegressorParameters};
use std::path::Path;

type Matrix = DenseMatrix<f64>;

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
    let trees = match kind {
        ModelKind::Xgboost => 150,
        ModelKind::Forest => 100,
    };
    fit_trees(kind, rows, y, seed, trees)
}

/// [`fit_ensemble`] with `trees` boosting rounds or forest trees (the other settings as
/// [`regressor_description`] records them) on feature rows of any width.
pub(crate) fn fit_trees(
    kind: ModelKind,
    rows: &[Vec<f64>],
    y: &Vec<f64>,
    seed: u64,
    trees: usize,
) -> Result<Ensemble> {
    let x = matrix(rows);
    let width = rows.first().map_or(N_FEATURES, Vec::len);
    let failed = |e: smartcore::error::Failed| SurrogateError::Fit {
        kind: kind.to_string(),
        message: e.to_string(),
    };
    let (ensemble, want) = match kind {
        ModelKind::Xgboost => {
            let m = XGRegressor::fit(
                &x,
                y,
                XGRegressorParameters::default()
                    .with_n_estimators(trees)
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
                    .with_n_trees(trees)
                    .with_m(width.div_ceil(3))
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
            return Err(SurrogateError::Fit {
                kind: kind.to_string(),
                message: format!(
                    "converted trees predict {got} on training row {i}, smartcore {w}"
                ),
            }
            .into());
        }
    }
    Ok(ensemble)
}

impl TargetModel {
    /// Standardises `y`, fits the trees on it and records the scaling and the measured range.
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
}

fn matrix(rows: &[Vec<f64>]) -> Matrix {
    let width = rows.first().map_or(N_FEATURES, Vec::len);
    let values: Vec<f64> = rows.iter().flatten().copied().collect();
    DenseMatrix::new(rows.len(), width, values, false).expect("feature rows of one width")
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
            return Err(SurrogateError::Param {
                field: "folds".into(),
                expected: "an integer >= 2".into(),
                got: params.folds.to_string(),
            }
            .into());
        }
        if n < params.folds {
            return Err(SurrogateError::TooFewRows {
                file: data.file.clone(),
                expected: format!("{} rows (one per fold)", params.folds),
                got: n.to_string(),
            }
            .into());
        }
        // Rows with hardware genes (a co-search) add the hardware features; a data set without
        // them keeps exactly the network features.
        let hardware = data
            .rows
            .iter()
            .any(|r| r.measurement.genome.hardware.is_some());
        let x: Vec<Vec<f64>> = data
            .rows
            .iter()
            .map(|r| {
                let mut f = r.features();
                if hardware {
                    f.extend(super::features::hardware_features(&r.measurement.genome));
                }
                f
            })
            .collect();
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
            features: super::features::feature_names(hardware),
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
                genes: FittedGenes::of(rows.iter().map(|r| &r.measurement.genome)),
            },
            params: params.clone(),
            cv,
            targets,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hw::HwProfile;
    use crate::surrogate::metrics::format_scores;
    use crate::test_support::synthetic_dataset as synthetic;

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
        let model = SurrogateModel::fit(
            &data,
            &FitParams {
                folds: 2,
                ..Default::default()
            },
        )
        .unwrap();
        let other = HwProfile {
            name: "elsewhere".into(),
            ..HwProfile::default()
        };
        let e = model.check_profile(&other).unwrap_err().to_string();
        assert!(e.contains("expected pcm_aihwkit"), "{e}");
    }
}
