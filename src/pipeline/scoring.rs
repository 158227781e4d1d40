//! How a run is scored and measured: the one place that knows the concrete scorers and
//! measurers. The search itself sees only the [`Scorer`] trait; validation sees only the
//! [`Measurer`] trait and an executor.

use super::Run;
use crate::error::{Error, Result};
use crate::evaluate::{
    DataSource, Executor, Job, LocalExecutor, MeasureConfig, MeasureSpec, Measurer,
    TrainingMeasurer, measure_all,
};
use crate::hw::HwProfile;
use crate::nn::Arch;
use crate::progress::Observer;
use crate::search::{ClosureScorer, Outcome, SYNTHETIC, Scorer, Scores, synthetic_scorer};
use crate::surrogate::{Provenance, Row, SurrogateModel};
use crate::task::Task;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The `--surrogate` value that measures every new candidate instead of predicting it
/// ([`MeasuredScorer`]).
pub const MEASURED: &str = "measured";
/// The measured scorer's measurements in a run directory: a surrogate data set (the format of
/// `surrogate collect`), reused when the run resumes and ready for `surrogate fit`.
pub const MEASURED_CSV: &str = "measured.csv";

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
            (&run.dir, run.info.settings.seed, true),
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
            (dir, spec.settings.seed, false),
        )
    }

    fn build(
        surrogate: &str,
        validate_top: usize,
        task: Task,
        data: Option<&Path>,
        (profile, space): (&HwProfile, &crate::space::SearchSpace),
        (dir, seed, resume): (&Path, u64, bool),
    ) -> Result<Self> {
        let scorer: Box<dyn Scorer> = if surrogate == MEASURED {
            // The search's networks are not kept (validation keeps those it measures).
            let mut measurer = validation_measurer(task, data, profile, dir)?;
            measurer.save_dir = None;
            // A new run starts without measurements (`--force` removes an old file before
            // the first is appended); a resumed one reuses its own.
            Box::new(MeasuredScorer::new(
                measurer,
                &space.name,
                seed,
                dir.join(MEASURED_CSV),
                resume,
            )?)
        } else {
            build_scorer(surrogate, task, profile, space)?
        };
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
            "--surrogate: {e} (expected a model from `analognas surrogate fit`, \"{MEASURED}\" or \"{SYNTHETIC}\")"
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
    validation_measurer_at(task, data, profile, dir, VALIDATION_EPOCHS)
}

/// [`validation_measurer`] training for `epochs` epochs (active learning validates at its
/// highest fidelity).
pub fn validation_measurer_at(
    task: Task,
    data: Option<&Path>,
    profile: &HwProfile,
    dir: &Path,
    epochs: usize,
) -> Result<TrainingMeasurer> {
    let mut train = crate::train::TrainConfig::hardware_aware(profile);
    train.budget = crate::train::Budget::Epochs(epochs);
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

/// `--surrogate measured`: every candidate the search has not seen is measured (hardware-aware
/// training, programming on the chip its hardware genes describe, drift evaluation) through the
/// run's executor with the validation budget ([`VALIDATION_EPOCHS`] epochs, [`VALIDATION_REPS`]
/// programmings). The seed of each measurement comes from the run seed and the genome id
/// ([`Job::new`]), so it does not depend on the order or the executor.
///
/// Every measurement is appended to a surrogate data set in the run directory
/// ([`MEASURED_CSV`]) as soon as its batch is done, and the rows found there when the scorer is
/// built are reused, so a run killed in the middle of a generation resumes without measuring
/// again what it had measured. Failed measurements are not kept (a resume measures them again).
pub struct MeasuredScorer {
    measurer: TrainingMeasurer,
    seed: u64,
    csv: PathBuf,
    provenance: Provenance,
    cache: HashMap<String, Scores>,
}

impl MeasuredScorer {
    /// A scorer that measures with `measurer`, seeds measurements from the run seed `seed`,
    /// and appends its measurements to the data set `csv`; with `reuse`, the rows already
    /// there are read first and reused (they must be this run's: the measurer's task, profile
    /// and budget, and this seed).
    pub fn new(
        measurer: TrainingMeasurer,
        space: &str,
        seed: u64,
        csv: PathBuf,
        reuse: bool,
    ) -> Result<Self> {
        let task = measurer.data.task;
        let provenance = Provenance::new(
            task,
            space,
            measurer.profile.name.clone(),
            measurer.describe_budget(),
        );
        let mut cache = HashMap::new();
        if reuse && csv.exists() {
            let data = crate::surrogate::Dataset::read(&csv)?;
            for (i, row) in data.rows.iter().enumerate() {
                let m = &row.measurement;
                let want_seed = crate::evaluate::candidate_seed(seed, &m.id);
                if row.provenance.task != task
                    || row.provenance.profile != provenance.profile
                    || row.provenance.budget != provenance.budget
                    || m.seed != want_seed
                {
                    return Err(data.row_error(
                        i,
                        "seed",
                        &format!(
                            "expected a measurement of this run (task {task}, profile {}, budget {}, seed {want_seed}), got task {}, profile {}, budget {}, seed {}; move the file away to measure again",
                            provenance.profile,
                            provenance.budget,
                            row.provenance.task,
                            row.provenance.profile,
                            row.provenance.budget,
                            m.seed
                        ),
                    ));
                }
                cache.insert(m.id.clone(), scores_of(m));
            }
        }
        Ok(MeasuredScorer {
            measurer,
            seed,
            csv,
            provenance,
            cache,
        })
    }

    /// Measurements made or reused so far.
    pub fn measured(&self) -> usize {
        self.cache.len()
    }
}

/// The scores of a measurement.
fn scores_of(m: &crate::measure::Measurement) -> Scores {
    Scores {
        acc_1d: m.acc_1d,
        avm: m.avm,
        acc_1d_std: m.acc_1d_std,
        tiles: m.tiles,
        params: m.params,
        cost: None,
    }
}

impl Scorer for MeasuredScorer {
    fn name(&self) -> &str {
        MEASURED
    }

    /// Measures on this machine ([`LocalExecutor::default`]) without progress; a run calls
    /// [`Scorer::score_on`] with its own executor and observer instead.
    fn score(&mut self, batch: &[Arch]) -> Vec<Outcome> {
        self.score_on(batch, &LocalExecutor::default(), &crate::progress::Silent)
    }

    fn score_on(
        &mut self,
        batch: &[Arch],
        executor: &dyn Executor,
        observer: &dyn Observer,
    ) -> Vec<Outcome> {
        let mut jobs: Vec<Job> = Vec::new();
        for a in batch {
            let id = a.genome.id();
            if !self.cache.contains_key(&id) && !jobs.iter().any(|j| j.id == id) {
                jobs.push(Job::new(a.clone(), self.seed));
            }
        }
        let mut failed: HashMap<String, String> = HashMap::new();
        if !jobs.is_empty() {
            match measure_all(executor, &self.measurer, jobs, observer) {
                Ok(results) => {
                    let mut rows = Vec::new();
                    for r in results {
                        match r.outcome {
                            Ok(m) => {
                                self.cache.insert(r.id, scores_of(&m));
                                rows.push(Row {
                                    measurement: m,
                                    provenance: self.provenance.clone(),
                                });
                            }
                            Err(e) => {
                                failed.insert(r.id, e);
                            }
                        }
                    }
                    if let Err(e) = crate::surrogate::dataset::append(&self.csv, &rows) {
                        // Not kept on disk (a resume could not reuse them): failed, with the
                        // reason in history.csv.
                        for row in &rows {
                            self.cache.remove(&row.measurement.id);
                            failed.insert(
                                row.measurement.id.clone(),
                                format!("measured, but not saved: {e}"),
                            );
                        }
                    }
                }
                Err(e) => {
                    for a in batch {
                        failed.insert(a.genome.id(), e.to_string());
                    }
                }
            }
        }
        batch
            .iter()
            .map(|a| {
                let id = a.genome.id();
                match self.cache.get(&id) {
                    Some(s) => Outcome::Scored(s.clone()),
                    None => Outcome::Failed(
                        failed
                            .remove(&id)
                            .unwrap_or_else(|| "not measured".to_string()),
                    ),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::space::{HwGenes, TileShape};

    /// Refuses to measure anything: scoring through it must come from the cache.
    struct Refuse;

    impl Executor for Refuse {
        fn describe(&self) -> String {
            "refuse".into()
        }
        fn parallelism(&self) -> usize {
            1
        }
        fn threads_per_candidate(&self) -> usize {
            1
        }
        fn run(
            &self,
            _: &dyn Measurer,
            jobs: Vec<Job>,
            _: &dyn Observer,
            _: &mut (dyn FnMut(crate::evaluate::JobResult) -> Result<()> + Send),
        ) -> Result<()> {
            panic!("asked to measure {} jobs", jobs.len());
        }
    }

    #[test]
    fn measured_scorer_measures_once_and_resumes_from_its_data_set() {
        let dir = std::env::temp_dir().join(format!("analognas-measured-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let profile = HwProfile::default();
        let base = Arch::small_example(Task::Digits);
        let with = |bits| {
            let mut a = base.clone();
            a.genome.hardware = Some(HwGenes {
                tile: Some(TileShape {
                    rows: 256,
                    cols: 256,
                }),
                adc_bits: Some(bits),
                ..HwGenes::default()
            });
            a
        };
        let (a, b) = (with(4), with(8));
        let csv = dir.join(MEASURED_CSV);
        let measurer = || {
            let mut m = validation_measurer(Task::Digits, None, &profile, &dir).unwrap();
            m.save_dir = None;
            m
        };
        let mut scorer = MeasuredScorer::new(measurer(), "t", 3, csv.clone(), false).unwrap();
        let out = scorer.score(&[a.clone(), b.clone(), a.clone()]);
        let s: Vec<&Scores> = out.iter().map(|o| o.scores().unwrap()).collect();
        assert_eq!(s[0], s[2]);
        assert_eq!(scorer.measured(), 2);
        // Each on the chip its genes describe.
        assert_eq!(s[0].tiles, crate::hw::footprint(&a, &profile).tiles);
        let data = crate::surrogate::Dataset::read(&csv).unwrap();
        assert_eq!(data.rows.len(), 2);
        assert_eq!(data.rows[0].measurement.genome, a.genome);
        assert_eq!(
            data.rows[0].measurement.seed,
            crate::evaluate::candidate_seed(3, &a.genome.id())
        );
        // A resumed run reuses them without measuring.
        let mut again = MeasuredScorer::new(measurer(), "t", 3, csv.clone(), true).unwrap();
        assert_eq!(again.measured(), 2);
        let cached = again.score_on(&[b.clone(), a.clone()], &Refuse, &crate::progress::Silent);
        assert_eq!(cached[0].scores(), Some(s[1]));
        assert_eq!(cached[1].scores(), Some(s[0]));
        // A new run starts afresh; another run's data set is refused when reused.
        assert_eq!(
            MeasuredScorer::new(measurer(), "t", 3, csv.clone(), false)
                .unwrap()
                .measured(),
            0
        );
        let e = MeasuredScorer::new(measurer(), "t", 4, csv, true)
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("column seed: expected a measurement of this run"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
