//! The pipeline: a search run on disk from start to report. It creates or resumes a run
//! directory, runs the generations with a checkpoint after each, writes the front, validates it
//! through the evaluation executor and writes the report (search -> validation -> report); and
//! it collects measured data sets for the surrogate ([`collect`]).
//!
//! ```no_run
//! use analognas::pipeline::{Run, RunOptions, RunSpec, Scoring};
//! use analognas::evaluate::LocalExecutor;
//! use analognas::progress::Silent;
//! use analognas::task::Task;
//! let files = analognas::files::shipped_path;
//! let mut spec = RunSpec::from_files(
//!     Task::Digits,
//!     &files("search_spaces/tiny.toml"),
//!     &files("hw_profiles/pcm_aihwkit.toml"),
//!     "synthetic",
//! )?;
//! spec.settings.generations = 10;
//! let mut run = Run::create("results/demo".as_ref(), spec)?;
//! let mut scoring = Scoring::for_run(&run)?;
//! let summary = run.execute(&mut scoring, &LocalExecutor::default(), &Silent, &RunOptions::default())?;
//! assert!(summary.front_size > 0);
//! # Ok::<(), analognas::Error>(())
//! ```

pub mod acquisition;
pub mod active;
pub mod collect;
mod scoring;
mod table;
pub mod validation;

pub use collect::{CollectSummary, collect, collection_archs};
pub use scoring::{
    MEASURED, MEASURED_CSV, MeasuredScorer, Scoring, VALIDATION_EPOCHS, VALIDATION_REPS,
    build_scorer,
};
pub use table::TableScorer;
pub use validation::{
    VALIDATION_REFERENCES, run_validation, select_for_validation, validation_plan,
};

use crate::error::{Error, Result};
use crate::evaluate::{Executor, Measurer};
use crate::hw::HwProfile;
use crate::nn::{Arch, Reference};
use crate::progress::{Observer, Stage};
use crate::rundir::*;
use crate::search::*;
use crate::space::SearchSpace;
use crate::task::Task;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What a new run is made of.
#[derive(Clone, Debug)]
pub struct RunSpec {
    /// The task.
    pub task: Task,
    /// Data folder of the task, when given.
    pub data: Option<String>,
    /// Search-space file.
    pub space_path: PathBuf,
    /// The search space read from it.
    pub space: SearchSpace,
    /// Hardware-profile file.
    pub profile_path: PathBuf,
    /// The profile read from it.
    pub profile: HwProfile,
    /// The surrogate as given (`--surrogate`).
    pub surrogate: String,
    /// Algorithm, objectives, budgets, sizes and seed. The reference point is recomputed from
    /// the budgets by [`Run::create`].
    pub settings: SearchSettings,
    /// Front members to validate (0 skips validation). Default: 5.
    pub validate_top: usize,
    /// Training seeds of each validated network. Default: 3.
    pub validate_seeds: usize,
}

impl RunSpec {
    /// A spec with the default settings, reading the space and profile files.
    pub fn from_files(
        task: Task,
        space_path: &Path,
        profile_path: &Path,
        surrogate: &str,
    ) -> Result<Self> {
        let space = SearchSpace::load(space_path)?;
        let profile = HwProfile::load(profile_path)?;
        Ok(RunSpec {
            task,
            data: None,
            settings: SearchSettings::defaults(&space, task, &profile),
            space_path: space_path.to_path_buf(),
            space,
            profile_path: profile_path.to_path_buf(),
            profile,
            surrogate: surrogate.to_string(),
            validate_top: 5,
            validate_seeds: 3,
        })
    }
}

/// What a user asks of a new search: every field optional, the defaults are the demo run
/// (digits, the shipped space, profile and surrogate, NSGA-II 200 x 200, seed 0).
#[derive(Clone, Debug, Default)]
pub struct SearchRequest {
    /// Task. Default: digits.
    pub task: Option<Task>,
    /// Data folder of the task (for the measured path of validation).
    pub data: Option<PathBuf>,
    /// Search-space file. Default: [`crate::files::DEFAULT_SPACE`].
    pub space: Option<PathBuf>,
    /// Hardware-profile file. Default: [`crate::files::DEFAULT_PROFILE`].
    pub profile: Option<PathBuf>,
    /// Surrogate model file, `synthetic`, or `auto` (active learning, [`active`]). Default:
    /// [`crate::files::DEFAULT_SURROGATE`] when it was fitted on the task, profile and space
    /// of the request, else `auto`.
    pub surrogate: Option<String>,
    /// Population size. Default: 200.
    pub population: Option<usize>,
    /// Generations. Default: 200.
    pub generations: Option<usize>,
    /// Algorithm. Default: NSGA-II.
    pub algorithm: Option<AlgorithmKind>,
    /// Objectives as text (`acc_1d` and one or two of `tiles`, `avm`, `energy`, `latency`,
    /// `area`). Default: `acc_1d,tiles`.
    pub objectives: Option<String>,
    /// Most tiles a network may occupy.
    pub max_tiles: Option<usize>,
    /// Most trainable parameters.
    pub max_params: Option<usize>,
    /// Largest AVM, in points.
    pub max_avm: Option<f64>,
    /// Most energy per inference, nJ (the profile's cost model).
    pub max_energy_nj: Option<f64>,
    /// Longest sequential latency per inference, us (the profile's cost model).
    pub max_latency_us: Option<f64>,
    /// Front members to validate. Default: 5.
    pub validate_top: Option<usize>,
    /// Training seeds of each validated network. Default: 3.
    pub validate_seeds: Option<usize>,
    /// Seed. Default: 0.
    pub seed: Option<u64>,
}

impl SearchRequest {
    /// The run directory a request writes to when none is given: `results/run-<seed>`.
    pub fn default_out(&self) -> PathBuf {
        PathBuf::from(format!("results/run-{}", self.seed.unwrap_or(0)))
    }

    /// Resolves the request into a spec: reads the space and profile, checks the settings and
    /// that the surrogate loads, before anything is written.
    pub fn spec(&self) -> Result<RunSpec> {
        let task = self.task.unwrap_or(Task::Digits);
        let files = crate::files::shipped_path;
        let space_path = self
            .space
            .clone()
            .unwrap_or_else(|| files(crate::files::DEFAULT_SPACE));
        let profile_path = self
            .profile
            .clone()
            .unwrap_or_else(|| files(crate::files::DEFAULT_PROFILE));
        let surrogate = match &self.surrogate {
            Some(s) => s.clone(),
            None => default_surrogate(task, &space_path, &profile_path),
        };
        let mut spec = RunSpec::from_files(task, &space_path, &profile_path, &surrogate)?;
        spec.data = self.data.as_ref().map(|d| d.display().to_string());
        spec.settings = SearchSettings {
            algorithm: self.algorithm.unwrap_or(AlgorithmKind::Nsga2),
            objectives: match &self.objectives {
                Some(o) => Objectives::parse(o)?,
                None => Objectives::default(),
            },
            budgets: Budgets {
                max_tiles: self.max_tiles,
                max_params: self.max_params,
                max_avm: self.max_avm,
                max_energy_nj: self.max_energy_nj,
                max_latency_us: self.max_latency_us,
            },
            population: self.population.unwrap_or(200),
            generations: self.generations.unwrap_or(200),
            seed: self.seed.unwrap_or(0),
            reference: spec.settings.reference,
            cost_profile: None,
        };
        spec.settings.validate()?;
        spec.validate_top = self.validate_top.unwrap_or(5);
        spec.validate_seeds = check_validate_seeds(self.validate_seeds)?.unwrap_or(3);
        // Fail on a bad --surrogate before anything is written (the measured scorer loads its
        // data in `Scoring::for_spec`, also before).
        if spec.surrogate != active::AUTO && spec.surrogate != MEASURED {
            build_scorer(&spec.surrogate, spec.task, &spec.profile, &spec.space)?;
        }
        Ok(spec)
    }
}

/// The surrogate of a request without `--surrogate`: the shipped one
/// ([`crate::files::DEFAULT_SURROGATE`], digits on pcm_aihwkit) when it was fitted on `task`,
/// the profile and the space; else [`active::AUTO`] (active learning). Files that do not load
/// keep the shipped default, so that their error is reported where it was before.
fn default_surrogate(task: Task, space: &Path, profile: &Path) -> String {
    let shipped = crate::files::DEFAULT_SURROGATE.to_string();
    let (Ok(space), Ok(profile)) = (SearchSpace::load(space), HwProfile::load(profile)) else {
        return shipped;
    };
    let model = crate::surrogate::SurrogateModel::load(crate::files::shipped_path(&shipped));
    match model {
        Ok(m) if m.check_use(task, &profile, &space).is_err() => active::AUTO.into(),
        _ => shipped,
    }
}

/// Options of [`Run::execute`] that do not change its result.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Write the plots and `report.md` at the end.
    pub report: bool,
    /// Sync `history.csv` and the checkpoint to disk after every generation, so that a power
    /// loss (not only a kill) leaves the latest generation resumable. Default: false: a kill
    /// at any moment still leaves a resumable directory (every write is atomic), the last
    /// generation is always synced, and a power loss costs at most the generations since the
    /// start or the last resume (one fsync per run instead of one per generation: on disk the
    /// bare 200-generation search spent most of its time in them).
    pub sync: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            report: true,
            sync: false,
        }
    }
}

/// What a finished run reports.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSummary {
    /// Generations run in total.
    pub generations: usize,
    /// Generations that were already done when this execution started.
    pub resumed_from: Option<usize>,
    /// Distinct genomes evaluated.
    pub evaluations: usize,
    /// Members of the final front.
    pub front_size: usize,
    /// Final hypervolume (objective units) and normalised.
    pub hypervolume: (f64, f64),
    /// Networks measured by validation (front members plus references); 0 when skipped.
    pub validated: usize,
    /// Wall-clock seconds of this execution.
    pub seconds: f64,
}

/// A run directory with its inputs.
pub struct Run {
    /// The directory.
    pub dir: PathBuf,
    /// `run.json`.
    pub info: RunInfo,
    /// The search space.
    pub space: SearchSpace,
    /// The hardware profile.
    pub profile: HwProfile,
    /// The exclusive lock on the directory, held while this value lives.
    _lock: crate::lock::Lock,
}

/// The lock file of a run directory.
pub const RUN_LOCK: &str = ".analognas.lock";

/// The files a run writes in its directory: what `--force` replaces.
fn run_files() -> impl Iterator<Item = &'static str> {
    [
        RUN_JSON,
        HISTORY_CSV,
        PARETO_JSON,
        PARETO_CSV,
        CHECKPOINT_JSON,
        VALIDATION_JSON,
        MEASURED_CSV,
    ]
    .into_iter()
    .chain(crate::report::REPORT_FILES)
}

/// How [`Run::create`] treats an existing output directory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Overwrite {
    /// Refuse a directory that holds a run or anything else (the default).
    #[default]
    Never,
    /// Replace the run files of an existing directory (`--force`); other files stay.
    Force,
}

impl Run {
    /// Starts a new run in `dir` (created if needed) and writes `run.json`. Refuses a
    /// directory that already holds a run.
    pub fn create(dir: &Path, spec: RunSpec) -> Result<Run> {
        Self::create_with(dir, spec, Overwrite::Never)
    }

    /// [`Run::create`] with a choice about an existing directory. Checks everything before
    /// it writes: a directory that holds a run (resume it instead), a non-empty directory, or
    /// a file at `dir` is refused unless `overwrite` is [`Overwrite::Force`]; the directory is
    /// locked before `run.json` is written.
    pub fn create_with(dir: &Path, mut spec: RunSpec, overwrite: Overwrite) -> Result<Run> {
        spec.settings.reference = ReferencePoint::for_run(
            &spec.space,
            spec.task,
            &spec.profile,
            &spec.settings.budgets,
        );
        spec.settings
            .prepare_cost(&spec.space, spec.task, &spec.profile);
        spec.settings.validate()?;
        let shown = dir.display();
        if dir.exists() && !dir.is_dir() {
            return Err(Error::input(format!(
                "--out: {shown} is a file; expected a new directory"
            )));
        }
        let occupied = dir.is_dir()
            && std::fs::read_dir(dir)
                .map_err(|e| Error::io(dir, e))?
                .flatten()
                .any(|e| e.file_name() != RUN_LOCK);
        if occupied && overwrite == Overwrite::Never {
            return Err(Error::input(if dir.join(RUN_JSON).exists() {
                format!(
                    "--out: {shown} already holds a run; continue it with --resume {shown}, replace it with --force, or choose another --out"
                )
            } else {
                format!(
                    "--out: {shown} exists and is not empty; choose a new directory or replace its run files with --force"
                )
            }));
        }
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let lock = crate::lock::Lock::acquire(&dir.join(RUN_LOCK), dir)?;
        if overwrite == Overwrite::Force {
            for f in run_files() {
                let p = dir.join(f);
                if p.is_file() {
                    std::fs::remove_file(&p).map_err(|e| Error::io(&p, e))?;
                }
            }
            let models = dir.join("models");
            if models.is_dir() {
                std::fs::remove_dir_all(&models).map_err(|e| Error::io(&models, e))?;
            }
        } else if dir.join(RUN_JSON).exists() {
            // Another process created a run here between the check and the lock.
            return Err(Error::input(format!(
                "--out: {shown} already holds a run; continue it with --resume {shown}"
            )));
        }
        crate::lock::remove_stale_temp_files(dir, "");
        let info = RunInfo {
            analognas_version: env!("CARGO_PKG_VERSION").to_string(),
            task: spec.task,
            data: spec.data,
            space: spec.space_path.display().to_string(),
            space_name: spec.space.name.clone(),
            profile: spec.profile_path.display().to_string(),
            profile_name: spec.profile.name.clone(),
            surrogate: spec.surrogate,
            scorer: String::new(),
            settings: spec.settings,
            validate_top: spec.validate_top,
            validate_seeds: spec.validate_seeds,
            started: utc_now(),
            finished: None,
        };
        info.save(dir)?;
        Ok(Run {
            dir: dir.to_path_buf(),
            info,
            space: spec.space,
            profile: spec.profile,
            _lock: lock,
        })
    }

    /// Opens the run in `dir` to resume it; the space and profile are read from the paths
    /// recorded in `run.json`.
    pub fn open(dir: &Path) -> Result<Run> {
        if !dir.join(RUN_JSON).exists() {
            return Err(Error::input(format!(
                "--resume: expected a run directory with {RUN_JSON}, got {}",
                dir.display()
            )));
        }
        let lock = crate::lock::Lock::acquire(&dir.join(RUN_LOCK), dir)?;
        let info = RunInfo::load(dir)?;
        let space = SearchSpace::load(crate::files::shipped_path(&info.space))?;
        let profile = HwProfile::load(crate::files::shipped_path(&info.profile))?;
        crate::lock::remove_stale_temp_files(dir, "");
        Ok(Run {
            dir: dir.to_path_buf(),
            info,
            space,
            profile,
            _lock: lock,
        })
    }

    /// Opens the run in `dir` to continue it, optionally with more generations (never fewer)
    /// or another number of front members to validate.
    pub fn resume(
        dir: &Path,
        generations: Option<usize>,
        validate_top: Option<usize>,
        validate_seeds: Option<usize>,
    ) -> Result<Run> {
        let mut run = Run::open(dir)?;
        if let Some(g) = generations {
            if g < run.info.settings.generations {
                return Err(Error::input(format!(
                    "--generations: expected at least {} (the run's generations) with --resume, got {g}",
                    run.info.settings.generations
                )));
            }
            run.info.settings.generations = g;
        }
        if let Some(k) = validate_top {
            run.info.validate_top = k;
        }
        if let Some(n) = check_validate_seeds(validate_seeds)? {
            run.info.validate_seeds = n;
        }
        run.check_resumable()?;
        Ok(run)
    }

    /// Checks, without changing any file, that the run's checkpoint and history fit together
    /// and with `run.json`, so that a resume fails before it starts rather than midway.
    pub fn check_resumable(&self) -> Result<()> {
        let ck_path = self.dir.join(CHECKPOINT_JSON);
        if !ck_path.exists() {
            return Ok(());
        }
        let ck = Checkpoint::load(&ck_path)?;
        ck.check(&ck_path, &self.info.settings)?;
        let (trials, _) = read_history_at_checkpoint(
            &self.dir.join(HISTORY_CSV),
            ck.history_bytes,
            ck.history_rows,
        )?;
        let ids: Vec<String> = ck.population.iter().map(|m| m.id.clone()).collect();
        Search::resume(
            &self.space,
            self.info.task,
            self.info.settings.clone(),
            trials,
            &ids,
            ck.generations_done,
        )?;
        Ok(())
    }

    /// Runs the remaining generations (continuing from `checkpoint.json` when there is one),
    /// then writes `pareto.json`, `pareto.csv`, `validation.json` (the front measured with
    /// `scoring`'s measurer through `executor`), the plots and `report.md`. Progress goes to
    /// `observer` (stages `search`, then `measure`).
    pub fn execute(
        &mut self,
        scoring: &mut Scoring,
        executor: &dyn Executor,
        observer: &dyn Observer,
        opts: &RunOptions,
    ) -> Result<RunSummary> {
        let Scoring { scorer, measurer } = scoring;
        // A scorer that measures (`--surrogate measured`) measures through the run's executor.
        let mut bound = ScoreOn {
            inner: scorer.as_mut(),
            executor,
            observer,
        };
        let scorer: &mut dyn Scorer = &mut bound;
        let measurer: Option<&dyn Measurer> = measurer.as_deref();
        let t0 = Instant::now();
        let settings = self.info.settings.clone();
        settings.validate()?;
        let task = self.info.task;
        let ck_path = self.dir.join(CHECKPOINT_JSON);
        let hist_path = self.dir.join(HISTORY_CSV);
        let (mut search, mut history, resumed_from) = if ck_path.exists() {
            // Every check first; the one change (cutting rows written after the checkpoint)
            // comes last, so a failed resume leaves every file as it was.
            let ck = Checkpoint::load(&ck_path)?;
            ck.check(&ck_path, &settings)?;
            let (trials, extra) =
                read_history_at_checkpoint(&hist_path, ck.history_bytes, ck.history_rows)?;
            let ids: Vec<String> = ck.population.iter().map(|m| m.id.clone()).collect();
            let search = Search::resume(
                &self.space,
                task,
                settings.clone(),
                trials,
                &ids,
                ck.generations_done,
            )?;
            if extra {
                truncate_history(&hist_path, ck.history_bytes)?;
            }
            let history = HistoryWriter::open(&hist_path, ck.history_rows)?;
            (search, history, Some(ck.generations_done))
        } else {
            let search = Search::new(&self.space, task, settings.clone())?;
            (search, HistoryWriter::create(&hist_path)?, None)
        };
        self.info.scorer = scorer.name().to_string();
        self.info.finished = None;
        self.info.save(&self.dir)?;

        let stage = Stage::begin(
            observer,
            "search",
            Some(settings.generations as u64),
            search.generations_done() as u64,
        );
        let mut flushed = search.trials().len();
        while !search.is_finished() {
            let st = search.run_generation(scorer)?;
            let durable = opts.sync || search.is_finished();
            history.append(&search.trials()[flushed..], &settings.budgets, durable)?;
            flushed = search.trials().len();
            let done = search.generations_done();
            let population = search
                .population()
                .iter()
                .map(|c| PopulationMember {
                    id: c.id.clone(),
                    genome: c.genome.clone(),
                })
                .collect();
            Checkpoint {
                format: CHECKPOINT_FORMAT,
                seed: settings.seed,
                generations_done: done,
                next_generation_seed: crate::rng::derive_seed(settings.seed, done as u64),
                population,
                history_rows: history.rows,
                history_bytes: history.bytes,
                hypervolume: search.stats().iter().map(|s| s.hypervolume).collect(),
            }
            .save(&ck_path, durable)?;
            stage.advance(
                done as u64,
                &format!(
                    "front {} | HV {:.4} | best {:.2} %",
                    st.front_size, st.hypervolume_normalised, st.best_acc_1d
                ),
            );
        }
        drop(stage);

        let pareto = self.pareto_file(&search, scorer);
        pareto.save(&self.dir)?;

        let validation = self.validation(&pareto, measurer, executor, observer)?;
        write_json(&self.dir.join(VALIDATION_JSON), &validation)?;

        self.info.finished = Some(utc_now());
        self.info.save(&self.dir)?;
        if opts.report {
            crate::report::write_report(&self.dir)?;
        }
        let last = search.stats().last();
        Ok(RunSummary {
            generations: search.generations_done(),
            resumed_from,
            evaluations: search.trials().len(),
            front_size: pareto.front.len(),
            hypervolume: last.map_or((0.0, 0.0), |s| (s.hypervolume, s.hypervolume_normalised)),
            validated: validation
                .entries
                .iter()
                .filter(|e| e.measured.is_some())
                .count(),
            seconds: t0.elapsed().as_secs_f64(),
        })
    }

    fn pareto_file(&self, search: &Search, scorer: &mut dyn Scorer) -> ParetoFile {
        let s = &self.info.settings;
        let front = search
            .front()
            .into_iter()
            .map(|t| FrontMember {
                id: t.id.clone(),
                genes: t.genome.summary(),
                genome: t.genome.clone(),
                generation: t.generation,
                scores: t
                    .outcome
                    .scores()
                    .expect("front members are scored")
                    .clone(),
            })
            .collect();
        let refs: Vec<Reference> = VALIDATION_REFERENCES.to_vec();
        let archs: Vec<Arch> = refs
            .iter()
            .map(|r| Arch::for_task(r.genome(), self.info.task))
            .collect();
        let outcomes = scorer.score(&archs);
        let references = refs
            .iter()
            .zip(outcomes)
            .map(|(r, o)| {
                let g = r.genome();
                let (predicted, error) = match o {
                    Outcome::Scored(s) if s.is_finite() => (Some(s), None),
                    Outcome::Scored(_) => (None, Some("non-finite score".to_string())),
                    Outcome::Failed(e) => (None, Some(e)),
                };
                ReferenceScore {
                    name: r.name().to_string(),
                    id: g.id(),
                    genome: g,
                    predicted,
                    error,
                }
            })
            .collect();
        ParetoFile {
            objectives: s.objectives,
            budgets: s.budgets,
            reference_point: s.reference,
            generations: search.generations_done(),
            evaluations: search.trials().len(),
            hypervolume: search.stats().to_vec(),
            front,
            references,
        }
    }

    fn validation(
        &self,
        pareto: &ParetoFile,
        measurer: Option<&dyn Measurer>,
        executor: &dyn Executor,
        observer: &dyn Observer,
    ) -> Result<ValidationFile> {
        let k = self.info.validate_top;
        let Some(measurer) = measurer.filter(|_| k > 0) else {
            let why = if k == 0 {
                "--validate-top 0".to_string()
            } else {
                "no measurer was given: the synthetic test scorer models no hardware, so its fronts are not measured"
                    .to_string()
            };
            return Ok(ValidationFile::skipped(why));
        };
        if pareto.front.is_empty() {
            return Ok(ValidationFile::skipped(
                "the front is empty: no evaluated network met the budgets",
            ));
        }
        let s = &self.info.settings;
        let chosen = select_for_validation(&pareto.front, s.objectives, &s.reference, k);
        let plan = validation_plan(
            &pareto.front,
            &chosen,
            &pareto.references,
            self.info.task,
            &self.profile,
            s.seed,
        );
        // A resumed run reuses a finished validation of the same networks.
        if let Some(old) = ValidationFile::load_if_present(&self.dir)?
            && old.skipped.is_none()
            && old.entries.len() == plan.len()
            && old
                .entries
                .iter()
                .zip(&plan)
                .all(|(o, p)| o.id == p.id && o.seed == p.seed && o.measured.is_some())
            && old.seeds.max(1) == self.info.validate_seeds.max(1)
        {
            return Ok(old);
        }
        Ok(ValidationFile {
            skipped: None,
            entries: run_validation(
                plan,
                self.info.task,
                self.info.validate_seeds,
                executor,
                measurer,
                observer,
            )?,
            seeds: self.info.validate_seeds.max(1),
        })
    }
}

/// `--validate-seeds` must be at least 1.
fn check_validate_seeds(n: Option<usize>) -> Result<Option<usize>> {
    match n {
        Some(0) => Err(Error::input(
            "--validate-seeds: expected at least 1 training seed, got 0",
        )),
        n => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::{LocalExecutor, SyntheticMeasurer};
    use crate::progress::Silent;

    use crate::test_support::synthetic_scoring as synthetic;

    fn spec(generations: usize) -> RunSpec {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut spec = RunSpec::from_files(
            Task::Digits,
            &root.join("search_spaces/resnet_tinyml.toml"),
            &root.join("hw_profiles/pcm_aihwkit.toml"),
            SYNTHETIC,
        )
        .unwrap();
        spec.settings.population = 24;
        spec.settings.generations = generations;
        spec.settings.seed = 11;
        spec.settings.budgets.max_tiles = Some(40);
        spec.validate_top = 3;
        spec
    }

    fn fresh(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("analognas-run-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    /// Fails (like a crash) on the batch after `ok` batches.
    struct Crashing<S> {
        inner: S,
        ok: usize,
    }
    impl<S: Scorer> Scorer for Crashing<S> {
        fn name(&self) -> &str {
            self.inner.name()
        }
        fn score(&mut self, batch: &[Arch]) -> Vec<Outcome> {
            if self.ok == 0 {
                return Vec::new();
            }
            self.ok -= 1;
            self.inner.score(batch)
        }
    }

    fn read(dir: &Path, f: &str) -> String {
        std::fs::read_to_string(dir.join(f)).unwrap()
    }

    #[test]
    fn interrupted_and_resumed_equals_uninterrupted() {
        let profile = spec(1).profile;
        let a = fresh("a");
        let mut run = Run::create(&a, spec(9)).unwrap();
        let sa = run
            .execute(
                &mut synthetic(&profile),
                &LocalExecutor::default(),
                &Silent,
                &RunOptions::default(),
            )
            .unwrap();
        assert_eq!(sa.resumed_from, None);
        assert_eq!(sa.validated, 3 + 2);

        for crash_after in [1, 4, 7] {
            let b = fresh(&format!("b{crash_after}"));
            let mut run = Run::create(&b, spec(9)).unwrap();
            let mut crashing = Scoring::new(
                Box::new(Crashing {
                    inner: synthetic_scorer(profile.clone()),
                    ok: crash_after,
                }),
                Some(Box::new(SyntheticMeasurer::new(profile.clone()))),
            );
            assert!(
                run.execute(
                    &mut crashing,
                    &LocalExecutor::default(),
                    &Silent,
                    &RunOptions::default()
                )
                .is_err()
            );
            // A kill in the middle of an append leaves rows after the checkpoint, the last cut.
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(b.join(HISTORY_CSV))
                .unwrap();
            std::io::Write::write_all(&mut f, b"99,abc,\"x\",\"{\"\"oc0\"\"").unwrap();
            drop(f);
            // The directory stays locked while its Run lives (as a second process would find it).
            assert!(Run::open(&b).is_err());
            drop(run);
            let mut run = Run::open(&b).unwrap();
            let sb = run
                .execute(
                    &mut synthetic(&profile),
                    &LocalExecutor::default(),
                    &Silent,
                    &RunOptions::default(),
                )
                .unwrap();
            assert!(
                sb.resumed_from.is_some(),
                "crash after {crash_after} batches"
            );
            for file in [
                HISTORY_CSV,
                PARETO_JSON,
                PARETO_CSV,
                VALIDATION_JSON,
                "report.md",
            ] {
                let (x, y) = (read(&a, file), read(&b, file));
                if file == "report.md" {
                    // Only the start and end times may differ.
                    let strip = |s: &str| {
                        s.lines()
                            .filter(|l| !l.starts_with("| started"))
                            .collect::<Vec<_>>()
                            .join("\n")
                    };
                    assert_eq!(strip(&x), strip(&y));
                } else {
                    assert_eq!(x, y, "{file} after a crash after {crash_after} batches");
                }
            }
            std::fs::remove_dir_all(&b).unwrap();
        }
        std::fs::remove_dir_all(&a).unwrap();
    }

    #[test]
    fn run_directory_is_complete() {
        let d = fresh("complete");
        let sp = spec(5);
        let profile = sp.profile.clone();
        let mut run = Run::create(&d, sp).unwrap();
        let s = run
            .execute(
                &mut synthetic(&profile),
                &LocalExecutor::default(),
                &Silent,
                &RunOptions::default(),
            )
            .unwrap();
        for f in [
            RUN_JSON,
            HISTORY_CSV,
            PARETO_JSON,
            PARETO_CSV,
            CHECKPOINT_JSON,
            VALIDATION_JSON,
        ]
        .into_iter()
        .chain(crate::report::REPORT_FILES)
        {
            let len = std::fs::metadata(d.join(f)).map(|m| m.len()).unwrap_or(0);
            assert!(len > 0, "{f} missing or empty");
        }
        let info = RunInfo::load(&d).unwrap();
        assert!(info.finished.is_some());
        assert_eq!(info.scorer, "synthetic");
        let pareto = ParetoFile::load(&d).unwrap();
        assert_eq!(pareto.front.len(), s.front_size);
        assert_eq!(pareto.hypervolume.len(), 5);
        assert!(pareto.front.iter().all(|m| m.scores.tiles <= 40));
        let v = ValidationFile::load(&d).unwrap();
        assert_eq!(v.entries.len(), 5);
        assert_eq!(v.entries[3].name, "resnet8");
        // Three training seeds per network, each measured, with the interval over them.
        assert_eq!(v.seeds, 3);
        for e in &v.entries {
            let idx: Vec<usize> = e.seeds.iter().map(|s| s.index).collect();
            assert_eq!(idx, [0, 1, 2], "{}", e.name);
            assert_eq!(e.seeds[0].seed, e.seed);
            assert_eq!(e.measured.as_ref(), Some(&e.seeds[0].measured));
            let sm = e.summary.as_ref().unwrap();
            assert!(sm.method.contains("t-interval") && sm.method.contains("n - 1"));
            assert_eq!(sm.drift.len(), crate::measure::DRIFT_TIMES.len());
            for i in sm.drift.iter().map(|p| &p.acc).chain([&sm.acc_1d, &sm.avm]) {
                assert_eq!(i.n, 3);
                let (lo, hi) = (i.ci_low.unwrap(), i.ci_high.unwrap());
                assert!(lo <= i.mean && i.mean <= hi, "{i:?}");
            }
            let accs: Vec<f64> = e.seeds.iter().map(|s| s.measured.acc_1d).collect();
            assert!((sm.acc_1d.mean - crate::stats::mean(&accs)).abs() < 1e-9);
        }
        let report = read(&d, "report.md");
        for needle in [
            "![Pareto front",
            "pareto.png",
            "drift.png",
            "hypervolume.png",
            "resnet8",
            "Reference point",
        ] {
            assert!(report.contains(needle), "{needle}");
        }
        assert!(
            (report.contains("**Yes:**") && report.contains("paired t-test"))
                || report.contains("**Within noise:**")
                || report.contains("**No:**"),
            "{report}"
        );
        assert!(report.contains("95 % confidence interval") && report.contains("n - 1 degrees"));
        // A second create on the same directory is refused.
        let e = Run::create(&d, spec(5)).err().unwrap().to_string();
        assert!(e.contains("already holds a run"), "{e}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn skipped_validation_is_reported() {
        let d = fresh("skipped");
        let sp = spec(2);
        let profile = sp.profile.clone();
        let mut run = Run::create(&d, sp).unwrap();
        let mut scoring = Scoring::new(Box::new(synthetic_scorer(profile)), None);
        run.execute(
            &mut scoring,
            &LocalExecutor::default(),
            &Silent,
            &RunOptions::default(),
        )
        .unwrap();
        let v = ValidationFile::load(&d).unwrap();
        assert!(v.skipped.as_deref().unwrap().contains("no measurer"));
        let report = read(&d, "report.md");
        assert!(report.contains("Validation was skipped"), "{report}");
        std::fs::remove_dir_all(&d).unwrap();
    }
}

#[cfg(test)]
mod verdict_tests {
    use super::*;
    use crate::evaluate::LocalExecutor;
    use crate::progress::Silent;
    use crate::report::RunFiles;
    use crate::report::markdown::verdict;
    use crate::rundir::ValidationRole;

    use crate::test_support::synthetic_scoring as synthetic;

    fn files() -> RunFiles {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = std::env::temp_dir().join(format!("analognas-verdict-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut spec = RunSpec::from_files(
            crate::task::Task::Digits,
            &root.join("search_spaces/resnet_tinyml.toml"),
            &root.join("hw_profiles/pcm_aihwkit.toml"),
            SYNTHETIC,
        )
        .unwrap();
        spec.settings.population = 16;
        spec.settings.generations = 4;
        spec.validate_top = 3;
        let profile = spec.profile.clone();
        let mut run = Run::create(&dir, spec).unwrap();
        let opts = RunOptions {
            report: false,
            ..RunOptions::default()
        };
        run.execute(
            &mut synthetic(&profile),
            &LocalExecutor::default(),
            &Silent,
            &opts,
        )
        .unwrap();
        let f = RunFiles::load(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        f
    }

    /// Sets the per-seed accuracies at 1 day of entry `i` (and its summary).
    fn set_acc(f: &mut RunFiles, i: usize, accs: &[f64]) {
        let e = &mut f.validation.as_mut().unwrap().entries[i];
        for (s, a) in e.seeds.iter_mut().zip(accs) {
            s.measured.acc_1d = *a;
        }
        e.measured = Some(e.seeds[0].measured.clone());
        e.summary = crate::rundir::SeedSummary::of(&e.seeds);
    }

    #[test]
    fn verdict_says_yes_or_no_and_why() {
        let mut f = files();
        let entries = &mut f.validation.as_mut().unwrap().entries;
        let r8 = entries.iter().position(|e| e.name == "resnet8").unwrap();
        let r8_tiles = entries[r8].tiles;
        assert_eq!(entries[r8].seeds.len(), 3);
        // A front member with fewer tiles measured above resnet8: yes.
        let small = entries
            .iter()
            .position(|e| e.role == ValidationRole::Front && e.tiles < r8_tiles)
            .expect("the synthetic front has members smaller than resnet8");
        // Consistently 1 point above resnet8 over the seeds: significant.
        set_acc(&mut f, small, &[99.0, 98.1, 97.9]);
        set_acc(&mut f, r8, &[98.0, 97.0, 97.0]);
        let v = verdict(&f);
        assert!(
            v.starts_with("**Yes:**") && v.contains("98.33 [") && v.contains("paired t-test"),
            "{v}"
        );
        // Above on the mean but not consistently: within noise, with the interval.
        set_acc(&mut f, small, &[99.0, 96.0, 98.0]);
        let v = verdict(&f);
        assert!(
            v.starts_with("**Within noise:**")
                && v.contains("includes zero")
                && v.contains("95 % CI"),
            "{v}"
        );
        // resnet8 measured above everything: no, with the reason.
        set_acc(&mut f, small, &[50.0, 50.0, 50.0]);
        set_acc(&mut f, r8, &[99.5, 99.5, 99.5]);
        let v = verdict(&f);
        assert!(v.starts_with("**No:**") && v.contains("Why:"), "{v}");
        assert!(!v.contains("includes zero"), "{v}");
        // Below resnet8 on the mean, but the interval of the difference holds zero: no, and
        // said to be within noise rather than worse.
        let smaller: Vec<usize> = f
            .validation
            .as_ref()
            .unwrap()
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.role == ValidationRole::Front && e.tiles < r8_tiles)
            .map(|(i, _)| i)
            .collect();
        for &i in &smaller {
            set_acc(&mut f, i, &[96.0, 99.0, 96.5]);
        }
        set_acc(&mut f, r8, &[98.0, 97.0, 97.0]);
        let v = verdict(&f);
        assert!(
            v.starts_with("**No:**")
                && v.contains("includes zero")
                && v.contains("fewer tiles, not shown better"),
            "{v}"
        );
        // resnet8 not measured: said plainly.
        let entries = &mut f.validation.as_mut().unwrap().entries;
        entries[r8].measured = None;
        entries[r8].error = Some("diverged".into());
        assert_eq!(
            verdict(&f),
            "resnet8 could not be measured (diverged), so the comparison cannot be made."
        );
    }
}
