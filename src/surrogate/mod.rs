//! The surrogate (DESIGN.md 5): features of a genome, the measured data sets it is fitted on,
//! the fitted models, their quality figures, the collection of measured data and a benchmark.
//!
//! ```no_run
//! use analognas::surrogate::{Dataset, FitParams, SurrogateModel};
//! let data = Dataset::read("surrogates/digits_pcm_aihwkit.csv")?;
//! let model = SurrogateModel::fit(&data, &FitParams::default())?;
//! print!("{}", analognas::surrogate::format_scores(&model.cv));
//! model.save("model.json")?;
//! # Ok::<(), analognas::Error>(())
//! ```

pub mod dataset;
mod domain;
pub mod ensemble;
mod error;
pub mod features;
mod fit;
mod json;
pub mod metrics;
pub mod model;
mod params;
pub mod trees;

pub use dataset::{Dataset, Provenance, Row};
pub use domain::FittedGenes;
pub use ensemble::{
    Calibration, ENSEMBLE_FORMAT, EnsembleModel, EnsembleParams, Uncertain, UncertainPrediction,
    format_calibration,
};
pub use error::SurrogateError;
pub use features::{
    FEATURE_NAMES, HW_FEATURE_NAMES, N_FEATURES, N_HW_FEATURES, feature_names, features,
    features_with_tiles, hardware_features,
};
pub use fit::regressor_description;
pub use json::MODEL_FORMAT;
pub use metrics::{Score, format_scores, kendall_tau, mae, spearman_rho};
pub use model::{DataProvenance, Prediction, SurrogateModel, TargetModel};
pub use params::{FitParams, ModelKind, Target};
