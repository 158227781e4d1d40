//! What a surrogate predicts and how it is fitted: the targets, the regressor family and the
//! fit settings.

use crate::measure::Measurement;
use serde::{Deserialize, Serialize};

/// The regressor family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Gradient-boosted trees (`smartcore::xgboost::XGRegressor`).
    Xgboost,
    /// Random forest (`smartcore::ensemble::RandomForestRegressor`).
    Forest,
}

impl crate::choice::Choice for ModelKind {
    const ALL: &'static [Self] = &[ModelKind::Xgboost, ModelKind::Forest];
    fn name(self) -> &'static str {
        match self {
            ModelKind::Xgboost => "xgboost",
            ModelKind::Forest => "forest",
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_defaults() {
        let p = FitParams::default();
        assert_eq!((p.kind, p.folds, p.seed), (ModelKind::Xgboost, 5, 0));
        let names: Vec<&str> = Target::ALL.iter().map(|t| t.name()).collect();
        assert_eq!(names, ["acc_1d", "avm", "acc_1d_std"]);
        assert_eq!(ModelKind::Forest.to_string(), "forest");
    }
}
