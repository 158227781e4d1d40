//! The measured path as a [`Measurer`]: hardware-aware training, programming, drift evaluation.

use super::{DataSource, MeasureSpec, Measurer};
use crate::data::TaskData;
use crate::error::Result;
use crate::hw::HwProfile;
use crate::measure::{DRIFT_TIMES, Measurement};
use crate::model::TrainedModel;
use crate::nn::Arch;
use crate::progress::Observer;
use crate::rng::derive_seed;
use std::path::PathBuf;

pub use crate::train::MeasureConfig;

/// Measures architectures by training (as `config.train` says) and drift evaluation
/// (`config.reps` programmings, read at the five drift times) on one task and profile.
///
/// The seeds are those of [`crate::train::measure`]: training from `derive_seed(seed, 10)`,
/// evaluation from `derive_seed(seed, 11)`, so both give the same measurement.
pub struct TrainingMeasurer {
    /// The task's data (loaded once, shared by every measurement).
    pub data: TaskData,
    /// The chip the networks are programmed on.
    pub profile: HwProfile,
    /// Training budget and repetitions.
    pub config: MeasureConfig,
    /// When set, each trained network is saved as a model directory `<dir>/<genome id>`.
    pub save_dir: Option<PathBuf>,
    /// Where `data` was loaded from, when known: with it, [`Measurer::spec`] describes this
    /// measurer and another process (a cluster's worker) can rebuild it.
    pub source: Option<DataSource>,
}

impl TrainingMeasurer {
    /// The measurer `spec` describes, its data loaded.
    pub fn from_spec(spec: &MeasureSpec) -> Result<Self> {
        Ok(Self::with_data(spec, spec.data.load()?))
    }

    /// The measurer `spec` describes with `data` already loaded from `spec.data`.
    pub fn with_data(spec: &MeasureSpec, data: TaskData) -> Self {
        TrainingMeasurer {
            data,
            profile: spec.profile.clone(),
            config: spec.config.clone(),
            save_dir: spec.save_dir.clone(),
            source: Some(spec.data.clone()),
        }
    }
}

impl Measurer for TrainingMeasurer {
    fn measure(&self, arch: &Arch, seed: u64, observer: &dyn Observer) -> Result<Measurement> {
        let model = TrainedModel::train(
            arch,
            &self.data,
            &self.config.train,
            derive_seed(seed, 10),
            observer,
        )?;
        let times: Vec<f64> = DRIFT_TIMES.iter().map(|(_, t)| *t).collect();
        let report = model.evaluate_drift(
            &self.data.test,
            &self.profile,
            &times,
            self.config.reps,
            derive_seed(seed, 11),
        )?;
        if let Some(dir) = &self.save_dir {
            model.save(&dir.join(arch.genome.id()))?;
        }
        let train_seconds = model.metrics.as_ref().map_or(0.0, |m| m.train_seconds);
        Ok(crate::train::measurement_of(
            arch,
            &self.profile,
            &model.net,
            train_seconds,
            &report,
            seed,
        ))
    }

    fn spec(&self) -> Option<MeasureSpec> {
        Some(MeasureSpec {
            data: self.source.clone()?,
            profile: self.profile.clone(),
            config: self.config.clone(),
            save_dir: self.save_dir.clone(),
        })
    }

    fn describe_budget(&self) -> String {
        let t = &self.config.train;
        let budget = match t.budget {
            crate::train::Budget::Epochs(e) => format!("epochs={e}"),
            crate::train::Budget::Seconds(s) => format!("seconds={s}"),
        };
        format!(
            "{budget} hwa={} batch={} lr={} reps={}",
            t.hwa_noise, t.batch_size, t.lr, self.config.reps
        )
    }
}
