//! A search run on disk: creates or resumes a run directory, runs the generations with a
//! checkpoint after each, writes the front, validates it and writes the report.

use super::*;
use crate::error::{Error, Result};
use crate::hw::HwProfile;
use crate::nn::{Arch, Reference};
use crate::space::SearchSpace;
use crate::task::Task;
use indicatif::{ProgressBar, ProgressStyle};
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
        })
    }
}

/// Options of [`Run::execute`] that do not change its result.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Show progress bars (they hide anyway when stderr is not a terminal).
    pub progress: bool,
    /// Sleep this long after each generation (tests use it to kill a run mid-way).
    pub slow_ms: u64,
    /// Write the plots and `report.md` at the end.
    pub report: bool,
    /// Sync `history.csv` to disk before each checkpoint, so that a power loss (not only a
    /// kill) leaves a resumable directory. Default: false (the checkpoint itself is always
    /// written with `write_atomic`, which syncs).
    pub sync: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            progress: false,
            slow_ms: 0,
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
}

impl Run {
    /// Starts a new run in `dir` (created if needed) and writes `run.json`. Refuses a
    /// directory that already holds a run.
    pub fn create(dir: &Path, mut spec: RunSpec) -> Result<Run> {
        spec.settings.reference = ReferencePoint::for_run(
            &spec.space,
            spec.task,
            &spec.profile,
            &spec.settings.budgets,
        );
        spec.settings.validate()?;
        if dir.join(RUN_JSON).exists() {
            return Err(Error::input(format!(
                "--out: {} already holds a run; continue it with --resume {0} or choose another --out",
                dir.display()
            )));
        }
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
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
            started: utc_now(),
            finished: None,
        };
        info.save(dir)?;
        Ok(Run {
            dir: dir.to_path_buf(),
            info,
            space: spec.space,
            profile: spec.profile,
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
        let info = RunInfo::load(dir)?;
        let space = SearchSpace::load(&info.space)?;
        let profile = HwProfile::load(&info.profile)?;
        Ok(Run {
            dir: dir.to_path_buf(),
            info,
            space,
            profile,
        })
    }

    /// Runs the remaining generations (continuing from `checkpoint.json` when there is one),
    /// then writes `pareto.json`, `pareto.csv`, `validation.json`, the plots and `report.md`.
    pub fn execute(
        &mut self,
        scorer: &mut dyn Scorer,
        validator: Option<&dyn Validator>,
        opts: &RunOptions,
    ) -> Result<RunSummary> {
        let t0 = Instant::now();
        let settings = self.info.settings.clone();
        settings.validate()?;
        let task = self.info.task;
        let ck_path = self.dir.join(CHECKPOINT_JSON);
        let hist_path = self.dir.join(HISTORY_CSV);
        let (mut search, mut history, resumed_from) = if ck_path.exists() {
            let ck = Checkpoint::load(&ck_path)?;
            if ck.seed != settings.seed {
                return Err(Error::input(format!(
                    "{}: field seed: expected {} (run.json), got {}",
                    ck_path.display(),
                    settings.seed,
                    ck.seed
                )));
            }
            let trials = history_at_checkpoint(&hist_path, ck.history_bytes, ck.history_rows)?;
            let ids: Vec<String> = ck.population.iter().map(|m| m.id.clone()).collect();
            let search = Search::resume(
                &self.space,
                task,
                settings.clone(),
                trials,
                &ids,
                ck.generations_done,
            )?;
            let history = HistoryWriter::open(&hist_path, ck.history_rows)?;
            (search, history, Some(ck.generations_done))
        } else {
            let search = Search::new(&self.space, task, settings.clone())?;
            (search, HistoryWriter::create(&hist_path)?, None)
        };
        self.info.scorer = scorer.name().to_string();
        self.info.finished = None;
        self.info.save(&self.dir)?;

        let pb = if opts.progress {
            ProgressBar::new(settings.generations as u64)
        } else {
            ProgressBar::hidden()
        };
        pb.set_style(
            ProgressStyle::with_template(
                "search {bar:30} {pos}/{len} generations [{elapsed}<{eta}] {msg}",
            )
            .expect("valid template"),
        );
        pb.set_position(search.generations_done() as u64);
        let mut flushed = search.trials().len();
        while !search.is_finished() {
            let st = search.run_generation(scorer)?;
            history.append(&search.trials()[flushed..], &settings.budgets, opts.sync)?;
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
            .save(&ck_path)?;
            pb.set_position(done as u64);
            pb.set_message(format!(
                "front {} | HV {:.4} | best {:.2} %",
                st.front_size, st.hypervolume_normalised, st.best_acc_1d
            ));
            if opts.slow_ms > 0 {
                std::thread::sleep(std::time::Duration::from_millis(opts.slow_ms));
            }
        }
        pb.finish_and_clear();

        let pareto = self.pareto_file(&search, scorer);
        write_json(&self.dir.join(PARETO_JSON), &pareto)?;
        crate::error::write_atomic(
            self.dir.join(PARETO_CSV),
            pareto_csv(&pareto.front).as_bytes(),
        )?;

        let validation = self.validation(&pareto, validator, opts)?;
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
        validator: Option<&dyn Validator>,
        opts: &RunOptions,
    ) -> Result<ValidationFile> {
        let k = self.info.validate_top;
        let Some(validator) = validator.filter(|_| k > 0) else {
            let why = if k == 0 {
                "--validate-top 0".to_string()
            } else {
                "no validator was given: the synthetic test scorer models no hardware, so its fronts are not measured"
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
        if let Ok(old) = ValidationFile::load(&self.dir)
            && old.skipped.is_none()
            && old.entries.len() == plan.len()
            && old
                .entries
                .iter()
                .zip(&plan)
                .all(|(o, p)| o.id == p.id && o.seed == p.seed && o.measured.is_some())
        {
            return Ok(old);
        }
        Ok(ValidationFile {
            skipped: None,
            entries: run_validation(plan, self.info.task, validator, opts.progress),
        })
    }
}

/// Times surrogate-only searches of population 200 for 200 generations (the paper's setting):
/// NSGA-II and Algorithm 1 with the synthetic scorer in memory, NSGA-II with its run
/// directory (history and a checkpoint per generation, no plots) in a temporary folder, and
/// NSGA-II with `scorer` when one is given. Returns one line per measurement.
pub fn bench(
    space: &SearchSpace,
    profile: &HwProfile,
    task: Task,
    scorer: Option<&mut dyn Scorer>,
) -> Result<String> {
    let mut settings = SearchSettings::defaults(space, task, profile);
    settings.seed = 1;
    let mut lines = vec![format!(
        "search benchmark: population {} x {} generations, space {}, task {}, {} threads",
        settings.population,
        settings.generations,
        space.name,
        task,
        rayon::current_num_threads()
    )];
    let mut time = |label: &str,
                    kind: AlgorithmKind,
                    objectives: Objectives,
                    scorer: &mut dyn Scorer|
     -> Result<()> {
        let mut s = settings.clone();
        s.algorithm = kind;
        s.objectives = objectives;
        let t = Instant::now();
        let mut search = Search::new(space, task, s)?;
        search.run(scorer)?;
        let secs = t.elapsed().as_secs_f64();
        let hv = search
            .stats()
            .last()
            .map_or(0.0, |s| s.hypervolume_normalised);
        lines.push(format!(
            "  {label:<38} {secs:>7.3} s  ({} evaluations, front {}, HV {hv:.4})",
            search.trials().len(),
            search.front().len()
        ));
        Ok(())
    };
    let mut synthetic = synthetic_scorer(profile.clone());
    let (two, three) = (Objectives { avm: false }, Objectives { avm: true });
    time(
        "nsga2, synthetic scorer",
        AlgorithmKind::Nsga2,
        two,
        &mut synthetic,
    )?;
    time(
        "nsga2 with AVM objective, synthetic",
        AlgorithmKind::Nsga2,
        three,
        &mut synthetic,
    )?;
    time(
        "analognas (Alg. 1), synthetic scorer",
        AlgorithmKind::Analognas,
        two,
        &mut synthetic,
    )?;
    if let Some(scorer) = scorer {
        let label = format!("nsga2, {}", scorer.name());
        time(&label, AlgorithmKind::Nsga2, two, scorer)?;
    }
    let dir = std::env::temp_dir().join(format!("analognas-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let spec = RunSpec {
        task,
        data: None,
        space_path: PathBuf::from(&space.name),
        space: space.clone(),
        profile_path: PathBuf::from(&profile.name),
        profile: profile.clone(),
        surrogate: SYNTHETIC.into(),
        settings: settings.clone(),
        validate_top: 0,
    };
    let t = Instant::now();
    let mut run = Run::create(&dir, spec)?;
    let opts = RunOptions {
        report: false,
        ..RunOptions::default()
    };
    run.execute(&mut synthetic, None, &opts)?;
    lines.push(format!(
        "  {:<38} {:>7.3} s  (history.csv + checkpoint.json each generation)",
        "nsga2, synthetic, with run directory",
        t.elapsed().as_secs_f64()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    Ok(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let validator = SyntheticValidator {
            profile: profile.clone(),
        };
        let a = fresh("a");
        let mut run = Run::create(&a, spec(9)).unwrap();
        let sa = run
            .execute(
                &mut synthetic_scorer(profile.clone()),
                Some(&validator),
                &RunOptions::default(),
            )
            .unwrap();
        assert_eq!(sa.resumed_from, None);
        assert_eq!(sa.validated, 3 + 2);

        for crash_after in [1, 4, 7] {
            let b = fresh(&format!("b{crash_after}"));
            let mut run = Run::create(&b, spec(9)).unwrap();
            let mut crashing = Crashing {
                inner: synthetic_scorer(profile.clone()),
                ok: crash_after,
            };
            assert!(
                run.execute(&mut crashing, Some(&validator), &RunOptions::default())
                    .is_err()
            );
            // A kill in the middle of an append leaves rows after the checkpoint, the last cut.
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(b.join(HISTORY_CSV))
                .unwrap();
            std::io::Write::write_all(&mut f, b"99,abc,\"x\",\"{\"\"oc0\"\"").unwrap();
            drop(f);
            let mut run = Run::open(&b).unwrap();
            let sb = run
                .execute(
                    &mut synthetic_scorer(profile.clone()),
                    Some(&validator),
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
        let validator = SyntheticValidator {
            profile: profile.clone(),
        };
        let s = run
            .execute(
                &mut synthetic_scorer(profile.clone()),
                Some(&validator),
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
        assert!(report.contains("**Yes:**") || report.contains("**No:**"));
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
        run.execute(&mut synthetic_scorer(profile), None, &RunOptions::default())
            .unwrap();
        let v = ValidationFile::load(&d).unwrap();
        assert!(v.skipped.as_deref().unwrap().contains("no validator"));
        let report = read(&d, "report.md");
        assert!(report.contains("Validation was skipped"), "{report}");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
