//! The measured path as a [`Measurer`]: what `surrogate collect` and the search's validation use.

use super::{MeasureConfig, measure, save_model_dir, train};
use crate::data::TaskData;
use crate::error::Result;
use crate::hw::HwProfile;
use crate::measure::{DRIFT_TIMES, Measurement};
use crate::nn::Arch;
use crate::rng::derive_seed;
use crate::surrogate::Measurer;
use std::path::PathBuf;

/// Measures architectures by hardware-aware training and drift evaluation on one task and profile.
pub struct TrainingMeasurer {
    /// The task's data (loaded once, shared by every measurement).
    pub data: TaskData,
    /// The chip the networks are programmed on.
    pub profile: HwProfile,
    /// Training budget and repetitions.
    pub config: MeasureConfig,
    /// When set, each trained network is saved as a model directory `<dir>/<genome id>`.
    pub save_dir: Option<PathBuf>,
}

impl TrainingMeasurer {
    /// Measures `arch` and, when `save_dir` is set, saves the trained network.
    pub fn measure_and_save(&self, arch: &Arch, seed: u64) -> Result<Measurement> {
        let Some(dir) = &self.save_dir else {
            return measure(arch, &self.data, &self.profile, &self.config, seed);
        };
        let trained = train(arch, &self.data, &self.config.train, derive_seed(seed, 10))?;
        let times: Vec<f64> = DRIFT_TIMES.iter().map(|(_, t)| *t).collect();
        let report = super::evaluate_drift(
            &trained.net,
            arch,
            &self.data.test,
            &self.profile,
            &times,
            self.config.reps,
            derive_seed(seed, 11),
        )?;
        let metrics = super::metrics_of(
            &trained,
            self.data.task.name(),
            self.config.train.hwa_noise,
            self.config.train.budget.to_string(),
            seed,
        );
        save_model_dir(
            &dir.join(arch.genome.id()),
            arch,
            &trained.net,
            Some(&metrics),
        )?;
        Ok(super::measurement_of(
            arch,
            &self.profile,
            &trained.net,
            trained.train_seconds,
            &report,
            seed,
        ))
    }
}

impl Measurer for TrainingMeasurer {
    fn measure(&self, arch: &Arch, seed: u64) -> Result<Measurement> {
        self.measure_and_save(arch, seed)
    }

    fn describe_budget(&self) -> String {
        let t = &self.config.train;
        let budget = match t.budget {
            super::Budget::Epochs(e) => format!("epochs={e}"),
            super::Budget::Seconds(s) => format!("seconds={s}"),
        };
        format!(
            "{budget} hwa={} batch={} lr={} reps={}",
            t.hwa_noise, t.batch_size, t.lr, self.config.reps
        )
    }
}

impl crate::search::Validator for TrainingMeasurer {
    fn validate(&self, arch: &Arch, seed: u64) -> Result<Measurement> {
        self.measure_and_save(arch, seed)
    }
}
