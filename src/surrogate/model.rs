//! The fitted surrogate: one tree ensemble per target on the DESIGN.md 5 features, with the
//! scaling of its values, where its data came from and its cross-validated quality. It is
//! built by [`SurrogateModel::fit`] (`fit.rs`) and saved as JSON (`json.rs`).

use super::SurrogateError;
use super::dataset::Dataset;
use super::features::{N_FEATURES, features};
use super::trees::Ensemble;
use crate::error::Result;
use crate::hw::HwProfile;
use crate::nn::Arch;
use crate::task::Task;
use serde::{Deserialize, Serialize};

// The items of this module's former single-file layout, so `surrogate::model::X` still works.
pub(crate) use super::fit::fit_targets;
pub use super::fit::regressor_description;
pub use super::json::MODEL_FORMAT;
pub use super::metrics::{Score, format_scores};
pub use super::params::{FitParams, ModelKind, Target};

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

impl SurrogateModel {
    /// The three predictions for `arch` on `profile` (the profile the model was fitted on; see
    /// [`SurrogateModel::check_profile`]). Takes a few microseconds.
    pub fn predict(&self, arch: &Arch, profile: &HwProfile) -> Prediction {
        self.predict_features(&features(arch, profile))
    }

    /// Predictions for many architectures at once.
    pub fn predict_many(&self, archs: &[Arch], profile: &HwProfile) -> Vec<Prediction> {
        archs.iter().map(|a| self.predict(a, profile)).collect()
    }

    /// The three predictions from a feature vector in
    /// [`FEATURE_NAMES`](super::FEATURE_NAMES) order.
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
            return Err(SurrogateError::Param {
                field: "profile".into(),
                expected: format!("{} (the profile the model was fitted on)", self.profile),
                got: profile.name.clone(),
            }
            .into());
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
}
