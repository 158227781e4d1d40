//! The fitted surrogate: one tree ensemble per target on the DESIGN.md 5 features, with the
//! scaling of its values, where its data came from and its cross-validated quality. It is
//! built by [`SurrogateModel::fit`] (`fit.rs`) and saved as JSON (`json.rs`).

use super::SurrogateError;
use super::dataset::Dataset;
use super::domain::FittedGenes;
use super::features::{N_FEATURES, features, hardware_features};
use super::trees::Ensemble;
use crate::error::Result;
use crate::hw::HwProfile;
use crate::nn::Arch;
use crate::space::{Genome, SearchSpace};
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
    /// The gene ranges of the rows: predictions for genomes outside them extrapolate
    /// ([`SurrogateModel::extrapolation`]). Absent in model files written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub genes: Option<FittedGenes>,
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
        let mut f = features(arch, profile);
        if self.hardware_features() {
            f.extend(hardware_features(&arch.genome));
        }
        self.predict_features(&f)
    }

    /// Whether the model reads the hardware features (it was fitted on co-search rows).
    pub fn hardware_features(&self) -> bool {
        self.features.len() == N_FEATURES + super::N_HW_FEATURES
    }

    /// The feature vector of a measured row as this model reads it.
    pub fn row_features(&self, row: &super::Row) -> Vec<f64> {
        let mut f = row.features();
        if self.hardware_features() {
            f.extend(hardware_features(&row.measurement.genome));
        }
        f
    }

    /// Predictions for many architectures at once.
    pub fn predict_many(&self, archs: &[Arch], profile: &HwProfile) -> Vec<Prediction> {
        archs.iter().map(|a| self.predict(a, profile)).collect()
    }

    /// The three predictions from a feature vector in the model's
    /// [`features`](SurrogateModel::features) order ([`FEATURE_NAMES`](super::FEATURE_NAMES),
    /// then [`HW_FEATURE_NAMES`](super::HW_FEATURE_NAMES) for a co-search model).
    ///
    /// # Panics
    /// If `f` does not have as many values as the model has features.
    pub fn predict_features(&self, f: &[f64]) -> Prediction {
        assert_eq!(
            f.len(),
            self.features.len(),
            "predict_features: wrong feature count"
        );
        let mut v = [0.0; 3];
        for (slot, t) in v.iter_mut().zip(&self.targets) {
            *slot = t.predict(f);
        }
        Prediction::from_values(v)
    }

    /// Checks that `profile` is the one the model was fitted on (by name).
    pub fn check_profile(&self, profile: &HwProfile) -> Result<(), SurrogateError> {
        check_profile_of(&self.profile, profile)
    }

    /// Checks that `task` is the one the model was fitted on.
    pub fn check_task(&self, task: Task) -> Result<(), SurrogateError> {
        check_task_of(self.task, task)
    }

    /// Checks that `arch` has the input shape and classes of the model's task.
    pub fn check_arch(&self, arch: &Arch) -> Result<(), SurrogateError> {
        check_arch_of(self.task, arch)
    }

    /// Checks that every genome of `space` lies within the genes the model was fitted on
    /// ([`DataProvenance::genes`]); for a model file without them, that the space's name is
    /// one its data came from.
    pub fn check_space(&self, space: &SearchSpace) -> Result<(), SurrogateError> {
        if space.hardware.is_some() && !self.hardware_features() {
            return Err(SurrogateError::Mismatch {
                field: "space".into(),
                expected: "a space without [hardware] genes (the model was fitted on rows without them; search a co-search space with --surrogate measured)".into(),
                got: format!("space {} with [hardware] genes", space.name),
            });
        }
        let violation = match &self.data.genes {
            Some(genes) => genes.space_violation(space),
            None if self.data.spaces.contains(&space.name) => None,
            None => Some(format!("name {:?}", space.name)),
        };
        match violation {
            None => Ok(()),
            Some(v) => Err(SurrogateError::Mismatch {
                field: "space".into(),
                expected: format!(
                    "a space within the genes of {}",
                    self.data.spaces.join(", ")
                ),
                got: format!("space {} with {v}", space.name),
            }),
        }
    }

    /// Every check of a model about to score a search: [`SurrogateModel::check_task`],
    /// [`SurrogateModel::check_profile`] and [`SurrogateModel::check_space`], in that order.
    pub fn check_use(
        &self,
        task: Task,
        profile: &HwProfile,
        space: &SearchSpace,
    ) -> Result<(), SurrogateError> {
        self.check_task(task)?;
        self.check_profile(profile)?;
        self.check_space(space)
    }

    /// Why a prediction for `genome` extrapolates: its first gene outside the genes the model
    /// was fitted on (`ks0 = 9 (fitted on 3..=7)`), or `None` when it lies inside them or the
    /// model file does not record them.
    pub fn extrapolation(&self, genome: &Genome) -> Option<String> {
        self.data.genes.as_ref()?.violation(genome)
    }

    /// Checks that every row of `data` has the model's task and profile.
    pub fn check_data(&self, data: &Dataset) -> Result<()> {
        check_data_of(data, self.task, &self.profile)
    }

    /// Quality on another measured data set (same task and profile, see
    /// [`SurrogateModel::check_data`]), one score per target.
    pub fn evaluate(&self, data: &Dataset) -> Result<Vec<Score>> {
        self.check_data(data)?;
        Ok(self.scores(data))
    }

    /// Quality on a measured data set without checking its task and profile (for a deliberate
    /// mismatch), one score per target.
    pub fn scores(&self, data: &Dataset) -> Vec<Score> {
        let x: Vec<Vec<f64>> = data.rows.iter().map(|r| self.row_features(r)).collect();
        self.targets
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
            .collect()
    }
}

/// Checks that `profile` is `model_profile`, the one a model was fitted on (by name).
pub(crate) fn check_profile_of(
    model_profile: &str,
    profile: &HwProfile,
) -> Result<(), SurrogateError> {
    if profile.name != model_profile {
        return Err(SurrogateError::Mismatch {
            field: "profile".into(),
            expected: model_profile.to_string(),
            got: profile.name.clone(),
        });
    }
    Ok(())
}

/// Checks that `task` is `model_task`, the one a model was fitted on.
pub(crate) fn check_task_of(model_task: Task, task: Task) -> Result<(), SurrogateError> {
    if task != model_task {
        return Err(SurrogateError::Mismatch {
            field: "task".into(),
            expected: model_task.to_string(),
            got: task.to_string(),
        });
    }
    Ok(())
}

/// Checks that `arch` has the input shape and classes of `task`.
pub(crate) fn check_arch_of(task: Task, arch: &Arch) -> Result<(), SurrogateError> {
    let (input, classes) = (task.input_shape(), task.classes());
    if arch.input != input || arch.classes != classes {
        return Err(SurrogateError::Mismatch {
            field: "arch".into(),
            expected: format!("input {input:?} and {classes} classes of task {task}"),
            got: format!("input {:?} and {} classes", arch.input, arch.classes),
        });
    }
    Ok(())
}

/// Checks that every row of `data` has the task and profile a model was fitted on.
pub(crate) fn check_data_of(data: &Dataset, model_task: Task, model_profile: &str) -> Result<()> {
    let (task, profile) = data.task_and_profile()?;
    if task != model_task {
        return Err(data.row_error(
            0,
            "task",
            &format!("expected {model_task} (the model's task), got {task}"),
        ));
    }
    if profile != model_profile {
        return Err(data.row_error(
            0,
            "profile",
            &format!("expected {model_profile} (the model's profile), got {profile}"),
        ));
    }
    Ok(())
}
