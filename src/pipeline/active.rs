//! Active learning (DESIGN.md 6): a search on a task without a surrogate, in one command
//! (`analognas search --surrogate auto`, also the default when no shipped surrogate fits the
//! task, profile and space).
//!
//! 1. Round 0 measures the reference networks and a Latin-hypercube sample of the space at
//!    the lowest fidelity (the first of `fidelities`, in training epochs).
//! 2. After every round an ensemble surrogate ([`EnsembleModel`]) is fitted on every measured
//!    row of every fidelity (the fidelity is a feature) and saved as `surrogate.json`.
//! 3. The next round: successive halving promotes, per rung, up to `ceil(batch / eta)`
//!    networks on the measured front of that rung to the next fidelity; and an NSGA-II search
//!    on the surrogate's optimistic prediction (mean + kappa * sd at the highest fidelity)
//!    proposes candidates, of which `batch` are chosen by optimistic hypervolume improvement
//!    over the current front, diverse within the batch ([`super::acquisition`]); they are
//!    measured at the lowest fidelity.
//! 4. Until `budget_evals` measurements (every fidelity counts one) or `budget_hours`.
//! 5. Then the run's own search (its population and generations) runs on the final
//!    surrogate's mean at the highest fidelity, and its front is validated with several
//!    training seeds at that highest fidelity (its epochs are the validation budget).
//!
//! Every step is resumable from the run directory: `active.json` records each round's
//! proposals before they are measured, the measured rows are appended one by one to
//! `measured-e<epochs>.csv` (one measured data set per fidelity, which `surrogate collect`
//! can extend), and a round is re-planned only after it is finished, from the files.

use super::acquisition::select_batch;
use super::scoring::validation_measurer_at;
use super::{Run, RunOptions, RunSummary, Scoring, collect, collection_archs};
use crate::error::{Error, Result};
use crate::evaluate::{DataSource, Executor, MeasureConfig, MeasureSpec, TrainingMeasurer};
use crate::hw::HwProfile;
use crate::nn::Arch;
use crate::progress::{Observer, Stage};
use crate::rundir::*;
use crate::search::*;
use crate::space::SearchSpace;
use crate::surrogate::{Dataset, EnsembleModel, EnsembleParams, ModelKind, Provenance, Row};
use crate::task::Task;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The `--surrogate` value that selects active learning.
pub const AUTO: &str = "auto";

impl ActiveSettings {
    /// The defaults for an executor running `parallelism` measurements at once: 20 initial
    /// networks, batches of `parallelism` (at least 2), 60 measurements, fidelities of 1 and
    /// 4 epochs (4 is the validation budget), eta 3, kappa 1, 3 programmings, 8 members of
    /// 30 trees, a 60 x 20 search per round.
    pub fn defaults(parallelism: usize) -> Self {
        ActiveSettings {
            initial: 20,
            batch: parallelism.max(2),
            budget_evals: 60,
            budget_hours: None,
            fidelities: vec![1, super::VALIDATION_EPOCHS],
            eta: 3,
            kappa: 1.0,
            reps: super::VALIDATION_REPS,
            members: 8,
            trees: 30,
            population: 60,
            generations: 20,
        }
    }

    /// Checks the ranges; the message names the flag.
    pub fn validate(&self) -> Result<()> {
        let bad = |flag: &str, expected: &str, got: String| {
            Err(Error::input(format!(
                "{flag}: expected {expected}, got {got}"
            )))
        };
        if self.initial < 2 {
            return bad("--initial", "an integer >= 2", self.initial.to_string());
        }
        if self.batch < 1 {
            return bad("--batch", "an integer >= 1", self.batch.to_string());
        }
        if self.budget_evals < 2 {
            return bad(
                "--budget-evals",
                "an integer >= 2",
                self.budget_evals.to_string(),
            );
        }
        if let Some(h) = self.budget_hours.filter(|h| !(h.is_finite() && *h > 0.0)) {
            return bad("--budget-hours", "a number of hours > 0", h.to_string());
        }
        if self.fidelities.is_empty()
            || self.fidelities[0] == 0
            || self.fidelities.windows(2).any(|w| w[0] >= w[1])
        {
            return bad(
                "--fidelities",
                "ascending training epochs >= 1 (e.g. 1,4)",
                format!("{:?}", self.fidelities),
            );
        }
        if self.eta < 2 {
            return bad("--eta", "an integer >= 2", self.eta.to_string());
        }
        if !(self.kappa.is_finite() && self.kappa >= 0.0) {
            return bad("--kappa", "a number >= 0", self.kappa.to_string());
        }
        if self.reps < 1 || self.members < 2 || self.trees < 1 {
            return bad(
                "--reps, members and trees",
                ">= 1, >= 2 and >= 1",
                format!("{}, {}, {}", self.reps, self.members, self.trees),
            );
        }
        if self.population < 4 || self.generations < 1 {
            return bad(
                "the acquisition search",
                "population >= 4 and generations >= 1",
                format!("{} x {}", self.population, self.generations),
            );
        }
        Ok(())
    }
}

/// What the loop did.
#[derive(Clone, Debug, PartialEq)]
pub struct LoopSummary {
    /// Rounds, the initial one included.
    pub rounds: usize,
    /// Measurements spent.
    pub evaluations: usize,
    /// Rows per fidelity: `(epochs, rows)`.
    pub rows: Vec<(usize, usize)>,
    /// Why the loop stopped.
    pub stopped: String,
    /// Wall-clock seconds spent in the loop (over every resume).
    pub seconds: f64,
}

/// The measurer of fidelity `epochs`: hardware-aware training for `epochs` epochs and `reps`
/// programmings (a data set's `budget` column records both).
pub fn fidelity_measurer(
    task: Task,
    data: Option<&Path>,
    profile: &HwProfile,
    epochs: usize,
    reps: usize,
    loaded: crate::data::TaskData,
) -> TrainingMeasurer {
    let mut train = crate::train::TrainConfig::hardware_aware(profile);
    train.budget = crate::train::Budget::Epochs(epochs);
    TrainingMeasurer::with_data(
        &MeasureSpec {
            data: DataSource {
                task,
                path: data.map(Path::to_path_buf),
                seed: 0,
            },
            profile: profile.clone(),
            config: MeasureConfig { train, reps },
            save_dir: None,
        },
        loaded,
    )
}

/// The scorer of an ensemble surrogate: its means at `fidelity` epochs.
pub fn ensemble_scorer(
    model: EnsembleModel,
    profile: HwProfile,
    name: &str,
    fidelity: f64,
) -> Box<dyn Scorer> {
    let p = profile.clone();
    Box::new(ClosureScorer::new(name, profile, move |a: &Arch| {
        let pr = model.predict_at(a, &p, fidelity);
        (pr.acc_1d.mean, pr.avm.mean, pr.acc_1d_std.mean)
    }))
}

/// The scorer of `--surrogate PATH` when PATH is an ensemble model (a run's
/// `surrogate.json`); `None` when it is not one (another kind of model file, or no file).
pub fn ensemble_scorer_for(
    path: &str,
    task: Task,
    profile: &HwProfile,
    space: &SearchSpace,
) -> Result<Option<Box<dyn Scorer>>> {
    let p = crate::files::shipped_path(path);
    let Ok(text) = std::fs::read_to_string(&p) else {
        return Ok(None);
    };
    if !EnsembleModel::is_ensemble_json(&text) {
        return Ok(None);
    }
    let model = EnsembleModel::parse(&p.display().to_string(), &text)
        .map_err(|e| Error::input(format!("--surrogate: {e}")))?;
    model
        .check_use(task, profile, space)
        .map_err(|e| Error::input(format!("--surrogate {path}: {e}")))?;
    let f = model.fidelity;
    Ok(Some(ensemble_scorer(
        model,
        profile.clone(),
        "surrogate:ensemble",
        f,
    )))
}

/// Whether the run in `dir` is an active-learning run (its `run.json` says `auto`).
pub fn is_active_run(dir: &Path) -> bool {
    RunInfo::load(dir).is_ok_and(|i| i.surrogate == AUTO)
}

/// Removes the loop's files from `dir` (for `--force`): `active.json`, `surrogate.json` and
/// every `measured-e*.csv`.
pub fn clear(dir: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let ours = name == ACTIVE_JSON
            || name == SURROGATE_JSON
            || crate::report::active::ACTIVE_FILES.contains(&name.as_str())
            || (name.starts_with("measured-e") && name.ends_with(".csv"));
        if ours {
            std::fs::remove_file(e.path()).map_err(|err| Error::io(e.path(), err))?;
        }
    }
    Ok(())
}

/// Runs (or continues) the loop in `run`'s directory, then the search on the final surrogate
/// and the validation of its front; `settings` are needed only when the run has no
/// `active.json` yet (a resumed run keeps its own).
pub fn execute(
    run: &mut Run,
    settings: Option<ActiveSettings>,
    executor: &dyn Executor,
    observer: &dyn Observer,
    opts: &RunOptions,
) -> Result<(LoopSummary, RunSummary)> {
    let state = match ActiveFile::load_if_present(&run.dir)? {
        Some(f) => f,
        None => {
            let settings = settings.ok_or_else(|| {
                Error::input(format!(
                    "{}: expected {ACTIVE_JSON} (the loop's state) in an active-learning run",
                    run.dir.display()
                ))
            })?;
            settings.validate()?;
            let f = ActiveFile {
                format: active::ACTIVE_FORMAT.into(),
                settings,
                rounds: Vec::new(),
                seconds: 0.0,
                stopped: None,
            };
            f.save(&run.dir)?;
            f
        }
    };
    let top = *state.settings.fidelities.last().expect("validated") as f64;
    let summary = run_loop(run, state, executor, observer)?;
    let model = EnsembleModel::load(run.dir.join(SURROGATE_JSON))?;
    let scorer = ensemble_scorer(model, run.profile.clone(), "surrogate:auto", top);
    let measurer: Option<Box<dyn crate::evaluate::Measurer>> = if run.info.validate_top > 0 {
        Some(Box::new(validation_measurer_at(
            run.info.task,
            run.info.data.as_deref().map(Path::new),
            &run.profile,
            &run.dir,
            top as usize,
        )?))
    } else {
        None
    };
    let mut scoring = Scoring::new(scorer, measurer);
    let rs = run.execute(&mut scoring, executor, observer, opts)?;
    Ok((summary, rs))
}

/// Every measured row of the run: `(epochs, row)`, fidelity by fidelity.
pub fn measured_rows(dir: &Path, fidelities: &[usize]) -> Result<Vec<(usize, Row)>> {
    let mut out = Vec::new();
    for &e in fidelities {
        let p = measured_csv(dir, e);
        if p.exists() {
            out.extend(Dataset::read(&p)?.rows.into_iter().map(|r| (e, r)));
        }
    }
    Ok(out)
}

/// The scores of a measured row (cost filled in when the run needs it).
fn row_scores(r: &Row, settings: &SearchSettings, profile: &HwProfile) -> Scores {
    let m = &r.measurement;
    Scores {
        acc_1d: m.acc_1d,
        avm: m.avm,
        acc_1d_std: m.acc_1d_std,
        tiles: m.tiles,
        params: m.params,
        cost: settings
            .needs_cost()
            .then(|| CostScores::of(&r.arch(), profile)),
    }
}

/// The first round: the reference networks and `n` Latin-hypercube networks within the run's
/// budgets on tiles, parameters, energy and latency (accuracy is not known yet). Without such
/// budgets this is [`collection_archs`]; with them, further Latin-hypercube samples from the
/// same generator fill the places of the networks over budget (at most 50 draws).
fn initial_archs(run: &Run, n: usize, seed: u64) -> Vec<Arch> {
    let (task, profile, settings) = (run.info.task, &run.profile, &run.info.settings);
    let feasible = |a: &Arch| {
        let (tiles, params) = crate::search::tiles_and_params(a, &profile.for_arch(a));
        let scores = Scores {
            acc_1d: 0.0,
            avm: 0.0,
            acc_1d_std: 0.0,
            tiles,
            params,
            cost: settings.needs_cost().then(|| CostScores::of(a, profile)),
        };
        settings.budgets.violation(&scores) == 0.0
    };
    let mut all = collection_archs(&run.space, task, n, seed);
    let refs = all.len() - n;
    let mut picked: Vec<Arch> = all.split_off(refs);
    picked.retain(|a| feasible(a));
    let mut rng = crate::rng::seeded(crate::rng::derive_seed(seed, 9100));
    for _ in 0..50 {
        if picked.len() >= n {
            break;
        }
        for g in run.space.sample_lhs(n, &mut rng) {
            let a = Arch::for_task(g, task);
            if picked.len() < n && feasible(&a) && !picked.iter().any(|p| p.genome == a.genome) {
                picked.push(a);
            }
        }
    }
    all.extend(picked);
    all
}

/// Normalised hypervolume of the feasible `scores`.
fn normalised_hv(scores: &[Scores], settings: &SearchSettings) -> Option<f64> {
    let o = settings.objectives;
    let pts: Vec<Vec<f64>> = scores
        .iter()
        .filter(|s| settings.budgets.violation(s) == 0.0)
        .map(|s| o.vector(s))
        .collect();
    if pts.is_empty() {
        return None;
    }
    let r = &settings.reference;
    Some(hypervolume(&pts, &r.vector(o)) / r.box_volume(o))
}

/// Each genome at the highest fidelity it was measured at.
fn highest(rows: &[(usize, Row)]) -> HashMap<String, (usize, &Row)> {
    let mut best: HashMap<String, (usize, &Row)> = HashMap::new();
    for (e, r) in rows {
        let id = r.measurement.id.clone();
        if best.get(&id).is_none_or(|(be, _)| e > be) {
            best.insert(id, (*e, r));
        }
    }
    best
}

fn run_loop(
    run: &Run,
    mut state: ActiveFile,
    executor: &dyn Executor,
    observer: &dyn Observer,
) -> Result<LoopSummary> {
    let s = state.settings.clone();
    s.validate()?;
    let (dir, task, profile) = (&run.dir, run.info.task, &run.profile);
    let search_settings = &run.info.settings;
    let seed = search_settings.seed;
    let fids = &s.fidelities;
    let top = *fids.last().expect("validated");
    let data_path = run.info.data.as_deref().map(PathBuf::from);
    let loaded = DataSource {
        task,
        path: data_path.clone(),
        seed: 0,
    }
    .load()?;
    let measurers: Vec<TrainingMeasurer> = fids
        .iter()
        .map(|&e| {
            fidelity_measurer(
                task,
                data_path.as_deref(),
                profile,
                e,
                s.reps,
                loaded.clone(),
            )
        })
        .collect();
    let prov = Provenance::new(task, run.space.name.clone(), profile.name.clone(), "");
    let (t0, base) = (Instant::now(), state.seconds);
    let stage = Stage::begin(
        observer,
        "active learning",
        Some(s.budget_evals as u64),
        state.evaluations() as u64,
    );
    loop {
        // 1. Measure the planned round (what a resumed run finds unfinished).
        if let Some(last) = state.rounds.last_mut()
            && !last.done
        {
            for (ri, &e) in fids.iter().enumerate() {
                let archs: Vec<Arch> = last
                    .proposals
                    .iter()
                    .filter(|p| p.epochs == e)
                    .map(|p| Arch::for_task(p.genome.clone(), task))
                    .collect();
                if archs.is_empty() {
                    continue;
                }
                let c = collect(
                    executor,
                    &measurers[ri],
                    archs,
                    &measured_csv(dir, e),
                    &prov,
                    seed,
                    observer,
                )?;
                for (id, err) in c.failed {
                    if let Some(p) = last
                        .proposals
                        .iter_mut()
                        .find(|p| p.id == id && p.epochs == e)
                    {
                        p.error = Some(err);
                    }
                }
            }
            let rows = measured_rows(dir, fids)?;
            for p in &mut last.proposals {
                if let Some((_, r)) = rows
                    .iter()
                    .find(|(e, r)| *e == p.epochs && r.measurement.id == p.id)
                {
                    p.measured = Some(r.measurement.acc_1d);
                    p.error = None;
                }
            }
            last.done = true;
            let best = highest(&rows);
            let all: Vec<Scores> = best
                .values()
                .map(|(_, r)| row_scores(r, search_settings, profile))
                .collect();
            let at_top: Vec<Scores> = rows
                .iter()
                .filter(|(e, _)| *e == top)
                .map(|(_, r)| row_scores(r, search_settings, profile))
                .collect();
            last.hv_measured = normalised_hv(&all, search_settings);
            last.hv_top = normalised_hv(&at_top, search_settings);
            state.seconds = base + t0.elapsed().as_secs_f64();
            let evals = state.evaluations();
            let last = state.rounds.last_mut().expect("a round");
            last.evaluations = evals;
            stage.advance(
                evals as u64,
                &format!(
                    "round {} | {} rows | HV {:.4}",
                    last.round,
                    rows.len(),
                    last.hv_measured.unwrap_or(0.0)
                ),
            );
            state.save(dir)?;
        }
        // 2. Refit on every row.
        let rows = measured_rows(dir, fids)?;
        let round = state.rounds.len();
        let model = if rows.len() >= 2 {
            let n = rows.len();
            let params = EnsembleParams {
                kind: ModelKind::Forest,
                members: s.members,
                trees: s.trees,
                folds: if n >= 10 { 5 } else { 0 },
                seed: crate::rng::derive_seed(seed, 7000 + round as u64),
            };
            let data = Dataset::from_rows(
                "measured-e*.csv",
                rows.iter().map(|(_, r)| r.clone()).collect(),
            );
            let m = EnsembleModel::fit(&data, &params)?;
            m.save(dir.join(SURROGATE_JSON))?;
            Some(m)
        } else {
            None
        };
        // 3. Stop at a budget.
        let evals = state.evaluations();
        let hours = (base + t0.elapsed().as_secs_f64()) / 3600.0;
        let stop = if state.stopped.is_some() {
            state.stopped.clone()
        } else if evals >= s.budget_evals {
            Some(format!("--budget-evals {} reached", s.budget_evals))
        } else {
            s.budget_hours
                .filter(|&h| hours >= h)
                .map(|h| format!("--budget-hours {h} reached"))
        };
        if let Some(why) = stop {
            if model.is_none() {
                return Err(Error::input(format!(
                    "active learning: fewer than 2 networks could be measured ({why}); see {}",
                    dir.join(ACTIVE_JSON).display()
                )));
            }
            state.stopped = Some(why.clone());
            state.seconds = base + t0.elapsed().as_secs_f64();
            state.save(dir)?;
            drop(stage);
            let mut per: Vec<(usize, usize)> = fids.iter().map(|&e| (e, 0)).collect();
            for (e, _) in &rows {
                if let Some(x) = per.iter_mut().find(|x| x.0 == *e) {
                    x.1 += 1;
                }
            }
            return Ok(LoopSummary {
                rounds: state.rounds.len(),
                evaluations: evals,
                rows: per,
                stopped: why,
                seconds: state.seconds,
            });
        }
        // 4. Plan the next round and record it before measuring it.
        let remaining = s.budget_evals - evals;
        let mut proposals = match &model {
            None => initial_archs(run, s.initial, seed)
                .into_iter()
                .map(|a| Proposal {
                    id: a.genome.id(),
                    genome: a.genome,
                    epochs: fids[0],
                    kind: ProposalKind::Initial,
                    predicted: None,
                    measured: None,
                    error: None,
                })
                .collect(),
            Some(m) => plan(run, &s, m, &rows, round)?,
        };
        // Only genomes not yet measured (or tried) at their fidelity.
        let tried: HashSet<(String, usize)> = state
            .rounds
            .iter()
            .flat_map(|r| &r.proposals)
            .map(|p| (p.id.clone(), p.epochs))
            .collect();
        let mut seen = HashSet::new();
        proposals.retain(|p| {
            !tried.contains(&(p.id.clone(), p.epochs)) && seen.insert((p.id.clone(), p.epochs))
        });
        proposals.truncate(remaining);
        if proposals.is_empty() {
            state.stopped = Some("the acquisition proposed no new network".into());
            state.save(dir)?;
            continue;
        }
        state.rounds.push(ActiveRound {
            round,
            proposals,
            done: false,
            evaluations: evals,
            hv_measured: None,
            hv_top: None,
        });
        state.save(dir)?;
    }
}

/// The proposals of round `round` (>= 1): promotions first, then the acquisition's batch.
fn plan(
    run: &Run,
    s: &ActiveSettings,
    model: &EnsembleModel,
    rows: &[(usize, Row)],
    round: usize,
) -> Result<Vec<Proposal>> {
    let (task, profile) = (run.info.task, &run.profile);
    let settings = &run.info.settings;
    let fids = &s.fidelities;
    let top = *fids.last().expect("validated") as f64;
    let mut out = Vec::new();
    // Successive halving: the measured front of each rung moves up, best accuracy first.
    let quota = s.batch.div_ceil(s.eta).max(1);
    for w in fids.windows(2) {
        let (lo, hi) = (w[0], w[1]);
        let at_hi: HashSet<&str> = rows
            .iter()
            .filter(|(e, _)| *e == hi)
            .map(|(_, r)| r.measurement.id.as_str())
            .collect();
        let here: Vec<&Row> = rows
            .iter()
            .filter(|(e, _)| *e == lo)
            .map(|(_, r)| r)
            .collect();
        let pts: Vec<Vec<f64>> = here
            .iter()
            .map(|r| {
                settings
                    .objectives
                    .vector(&row_scores(r, settings, profile))
            })
            .collect();
        let mut front: Vec<&Row> = non_dominated(&pts)
            .into_iter()
            .map(|i| here[i])
            .filter(|r| !at_hi.contains(r.measurement.id.as_str()))
            .filter(|r| {
                settings
                    .budgets
                    .violation(&row_scores(r, settings, profile))
                    == 0.0
            })
            .collect();
        front.sort_by(|a, b| {
            b.measurement
                .acc_1d
                .total_cmp(&a.measurement.acc_1d)
                .then(a.measurement.id.cmp(&b.measurement.id))
        });
        for r in front.into_iter().take(quota) {
            let arch = r.arch();
            out.push(Proposal {
                id: r.measurement.id.clone(),
                genome: r.measurement.genome.clone(),
                epochs: hi,
                kind: ProposalKind::Promoted,
                predicted: Some(model.predict_at(&arch, profile, hi as f64).acc_1d),
                measured: None,
                error: None,
            });
        }
    }
    // The acquisition: NSGA-II on the optimistic prediction, then a diverse batch.
    let mut search_settings = settings.clone();
    search_settings.population = s.population;
    search_settings.generations = s.generations;
    search_settings.seed = crate::rng::derive_seed(settings.seed, 5000 + round as u64);
    let kappa = s.kappa;
    let p = profile.clone();
    let mut scorer = ClosureScorer::new("acquisition", profile.clone(), |a: &Arch| {
        let pr = model.predict_at(a, &p, top);
        (pr.acc_1d.optimistic(kappa), pr.avm.mean, pr.acc_1d_std.mean)
    });
    let mut search = Search::new(&run.space, task, search_settings)?;
    search.run(&mut scorer)?;
    let measured_low: HashSet<&str> = rows
        .iter()
        .filter(|(e, _)| *e == fids[0])
        .map(|(_, r)| r.measurement.id.as_str())
        .collect();
    let mut cand_archs = Vec::new();
    let (mut cands, mut sd) = (Vec::new(), Vec::new());
    let mut seen = HashSet::new();
    for t in search.trials() {
        let Some(sc) = t.outcome.scores() else {
            continue;
        };
        if settings.budgets.violation(sc) > 0.0
            || measured_low.contains(t.id.as_str())
            || !seen.insert(t.id.clone())
        {
            continue;
        }
        let arch = Arch::for_task(t.genome.clone(), task);
        sd.push(model.predict_at(&arch, profile, top).acc_1d.sd);
        cands.push(settings.objectives.vector(sc));
        cand_archs.push(arch);
    }
    // The current front: each measured genome at the highest fidelity, its accuracy at the
    // top fidelity measured there or else predicted.
    let front: Vec<Vec<f64>> = highest(rows)
        .values()
        .map(|(e, r)| {
            let mut sc = row_scores(r, settings, profile);
            if *e as f64 != top {
                let pr = model.predict_at(&r.arch(), profile, top);
                sc.acc_1d = pr.acc_1d.mean;
                sc.avm = pr.avm.mean;
            }
            sc
        })
        .filter(|sc| settings.budgets.violation(sc) == 0.0)
        .map(|sc| settings.objectives.vector(&sc))
        .collect();
    let reference = settings.reference.vector(settings.objectives);
    for i in select_batch(&front, &cands, &sd, &reference, s.batch) {
        let a = &cand_archs[i];
        out.push(Proposal {
            id: a.genome.id(),
            genome: a.genome.clone(),
            epochs: fids[0],
            kind: ProposalKind::Acquired,
            predicted: Some(model.predict_at(a, profile, fids[0] as f64).acc_1d),
            measured: None,
            error: None,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::LocalExecutor;
    use crate::progress::Silent;

    fn spec(dir_space: &str) -> super::super::RunSpec {
        let root = crate::test_support::repo();
        let mut spec = super::super::RunSpec::from_files(
            Task::Digits,
            &root.join(dir_space),
            &root.join("hw_profiles/pcm_aihwkit.toml"),
            AUTO,
        )
        .unwrap();
        spec.settings.population = 8;
        spec.settings.generations = 2;
        spec.settings.seed = 3;
        spec.validate_top = 0;
        spec
    }

    fn tiny_settings() -> ActiveSettings {
        ActiveSettings {
            initial: 4,
            batch: 2,
            budget_evals: 11,
            fidelities: vec![1, 2],
            reps: 1,
            members: 3,
            trees: 5,
            population: 8,
            generations: 2,
            ..ActiveSettings::defaults(2)
        }
    }

    #[test]
    fn the_loop_measures_refits_promotes_and_resumes() {
        let d = crate::test_support::temp_dir("active-loop");
        let dir = d.join("run");
        let mut run = Run::create(&dir, spec("search_spaces/tiny.toml")).unwrap();
        let opts = RunOptions {
            report: true,
            ..RunOptions::default()
        };
        let exec = LocalExecutor::default();
        let (ls, rs) = execute(&mut run, Some(tiny_settings()), &exec, &Silent, &opts).unwrap();
        assert_eq!(ls.evaluations, 11, "{ls:?}");
        assert!(ls.stopped.contains("--budget-evals 11"), "{ls:?}");
        assert!(ls.rows[0].1 >= 7 && ls.rows[1].1 >= 1, "{ls:?}");
        assert!(rs.front_size > 0);
        let f = ActiveFile::load_if_present(&dir).unwrap().unwrap();
        assert_eq!(f.rounds[0].proposals.len(), 7, "3 references + 4 LHS");
        assert!(f.rounds.iter().all(|r| r.done));
        assert!(
            f.rounds
                .iter()
                .flat_map(|r| &r.proposals)
                .any(|p| p.kind == ProposalKind::Promoted && p.epochs == 2)
        );
        assert!(f.rounds[1].proposals.iter().all(|p| p.predicted.is_some()));
        let model = EnsembleModel::load(dir.join(SURROGATE_JSON)).unwrap();
        assert_eq!(model.fidelities, vec![1.0, 2.0]);
        assert!(!model.calibration.is_empty());
        // Each fidelity is a measured data set with its epochs in the budget column.
        let e1 = Dataset::read(measured_csv(&dir, 1)).unwrap();
        assert!(e1.rows[0].provenance.budget.starts_with("epochs=1 "));
        // The run's surrogate.json is usable as --surrogate.
        let space =
            SearchSpace::load(crate::test_support::repo().join("search_spaces/tiny.toml")).unwrap();
        let s = ensemble_scorer_for(
            &dir.join(SURROGATE_JSON).display().to_string(),
            Task::Digits,
            &run.profile,
            &space,
        )
        .unwrap();
        assert!(s.is_some());
        let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
        assert!(report.contains("Active learning"), "{report}");
        drop(run);

        // A run killed after its first rounds resumes to the same files.
        let dir2 = d.join("run2");
        let mut run2 = Run::create(&dir2, spec("search_spaces/tiny.toml")).unwrap();
        let mut cut = f.clone();
        cut.rounds.truncate(2);
        cut.rounds[1].done = false;
        for p in &mut cut.rounds[1].proposals {
            (p.measured, p.error) = (None, None);
        }
        cut.stopped = None;
        cut.save(&dir2).unwrap();
        // The first round's rows are there; the second round's half.
        let e1_rows: Vec<Row> = e1
            .rows
            .iter()
            .filter(|r| {
                f.rounds[0]
                    .proposals
                    .iter()
                    .any(|p| p.id == r.measurement.id)
                    || f.rounds[1].proposals[0].id == r.measurement.id
            })
            .cloned()
            .collect();
        crate::surrogate::dataset::write(measured_csv(&dir2, 1), &e1_rows).unwrap();
        let (ls2, _) = execute(&mut run2, None, &exec, &Silent, &opts).unwrap();
        assert_eq!(ls2.evaluations, ls.evaluations);
        let g = ActiveFile::load_if_present(&dir2).unwrap().unwrap();
        let ids = |f: &ActiveFile| -> Vec<Vec<String>> {
            f.rounds
                .iter()
                .map(|r| r.proposals.iter().map(|p| p.id.clone()).collect())
                .collect()
        };
        assert_eq!(ids(&g), ids(&f));
        // The same rows, in the same order (only the training times differ).
        let rows = |d: &Path, e| -> Vec<Row> {
            let mut rows = Dataset::read(measured_csv(d, e)).unwrap().rows;
            for r in &mut rows {
                r.measurement.train_seconds = 0.0;
            }
            rows
        };
        for e in [1, 2] {
            assert_eq!(rows(&dir, e), rows(&dir2, e));
        }
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn bad_settings_name_the_flag() {
        let mut s = ActiveSettings::defaults(2);
        s.fidelities = vec![4, 1];
        let e = s.validate().unwrap_err().to_string();
        assert!(e.starts_with("--fidelities: expected ascending"), "{e}");
    }
}
