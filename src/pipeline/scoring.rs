//! How a run is scored and measured: the one place that knows the concrete scorers and
//! measurers. The search itself sees only the [`Scorer`] trait; validation sees only the
//! [`Measurer`] trait and an executor.

use super::Run;
use crate::error::{Error, Result};
use crate::evaluate::{DataSource, MeasureConfig, MeasureSpec, Measurer, TrainingMeasurer};
use crate::hw::HwProfile;
use crate::nn::Arch;
use crate::search::{ClosureScorer, SYNTHETIC, Scorer, synthetic_scorer};
use crate::surrogate::SurrogateModel;
use crate::task::Task;
use std::path::Path;

/// Training epochs of validation (the budget the shipped surrogate's data was measured with).
pub const VALIDATION_EPOCHS: usize = 4;
/// Drift-evaluation repetitions of validation.
pub const VALIDATION_REPS: usize = 3;

/// The scorer of a run's search and the measurer of its validation (none for the synthetic
/// test scorer, which models no hardware).
pub struct Scoring {
    /// Scores the candidates of the search.
    pub scorer: Box<dyn Scorer>,
    /// Measures the front for validation, when there is a measured path.
    pub measurer: Option<Box<dyn Measurer>>,
}

impl Scoring {
    /// The scoring a run's `run.json` asks for: its `--surrogate` as the scorer and, when the
    /// run validates, hardware-aware training on the run's task as the measurer (trained
    /// networks kept under `<run>/models/<id>` for `analognas export`).
    pub fn for_run(run: &Run) -> Result<Self> {
        Self::build(
            &run.info.surrogate,
            run.info.validate_top,
            run.info.task,
            run.info.data.as_deref().map(Path::new),
            (&run.profile, &run.space),
            &run.dir,
        )
    }

    /// The scoring a new run of `spec` in `dir` will have, built before anything is written,
    /// so that a bad surrogate or data folder leaves no run directory behind.
    pub fn for_spec(spec: &super::RunSpec, dir: &Path) -> Result<Self> {
        Self::build(
            &spec.surrogate,
            spec.validate_top,
            spec.task,
            spec.data.as_deref().map(Path::new),
            (&spec.profile, &spec.space),
            dir,
        )
    }

    fn build(
        surrogate: &str,
        validate_top: usize,
        task: Task,
        data: Option<&Path>,
        (profile, space): (&HwProfile, &crate::space::SearchSpace),
        dir: &Path,
    ) -> Result<Self> {
        let scorer = build_scorer(surrogate, task, profile, space)?;
        let measurer: Option<Box<dyn Measurer>> = if validate_top == 0 || surrogate == SYNTHETIC {
            None
        } else {
            Some(Box::new(validation_measurer(task, data, profile, dir)?))
        };
        Ok(Scoring { scorer, measurer })
    }

    /// A scoring from parts (tests, benchmarks, library users with their own scorer).
    pub fn new(scorer: Box<dyn Scorer>, measurer: Option<Box<dyn Measurer>>) -> Self {
        Scoring { scorer, measurer }
    }
}

/// The scorer `--surrogate` names: `synthetic` is the test function; a path is a surrogate
/// model file (resolved among the shipped files) that must have been fitted on `task`, on
/// `profile`'s chip and on genes that cover `space` (a surrogate asked about genomes it never
/// saw extrapolates silently, so a search on a wider space is refused: fit a surrogate on it,
/// or search with the active measured path).
pub fn build_scorer(
    surrogate: &str,
    task: Task,
    profile: &HwProfile,
    space: &crate::space::SearchSpace,
) -> Result<Box<dyn Scorer>> {
    if surrogate == SYNTHETIC {
        return Ok(Box::new(synthetic_scorer(profile.clone())));
    }
    if let Some(s) = super::active::ensemble_scorer_for(surrogate, task, profile, space)? {
        return Ok(s);
    }
    let model = SurrogateModel::load(crate::files::shipped_path(surrogate)).map_err(|e| {
        Error::input(format!(
            "--surrogate: {e} (expected a model from `analognas surrogate fit`, or \"{SYNTHETIC}\")"
        ))
    })?;
    model
        .check_use(task, profile, space)
        .map_err(|e| Error::input(format!("--surrogate {surrogate}: {e}")))?;
    let p = profile.clone();
    Ok(Box::new(ClosureScorer::new(
        "surrogate",
        profile.clone(),
        move |a: &Arch| {
            let pr = model.predict(a, &p);
            (pr.acc_1d, pr.avm, pr.acc_1d_std)
        },
    )))
}

/// The measurer of validation: hardware-aware training for [`VALIDATION_EPOCHS`] epochs and
/// [`VALIDATION_REPS`] programmings on `task`, saving each network under `<dir>/models/<id>`.
pub fn validation_measurer(
    task: Task,
    data: Option<&Path>,
    profile: &HwProfile,
    dir: &Path,
) -> Result<TrainingMeasurer> {
    let mut train = crate::train::TrainConfig::hardware_aware(profile);
    train.budget = crate::train::Budget::Epochs(VALIDATION_EPOCHS);
    TrainingMeasurer::from_spec(&MeasureSpec {
        data: DataSource {
            task,
            path: data.map(Path::to_path_buf),
            seed: 0,
        },
        profile: profile.clone(),
        config: MeasureConfig {
            train,
            reps: VALIDATION_REPS,
        },
        save_dir: Some(dir.join("models")),
    })
}
