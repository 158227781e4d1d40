//! The ask/tell engine: algorithms propose genomes, the engine scores only those it has not
//! seen (a cache keyed by genome id), records every evaluation as a [`Trial`], keeps the
//! archive of non-dominated feasible trials and its hypervolume per generation.

use super::{AlgorithmKind, AnalogNasEa, Archive, Nsga2, Outcome, Scorer, SearchSettings};
use super::{CostScores, Scores, SearchError, hypervolume};
use crate::error::{Error, Result};
use crate::nn::Arch;
use crate::rng::{SeededRng, derive_seed, seeded};
use crate::space::{Genome, SearchSpace};
use crate::task::Task;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One evaluated genome, as recorded in `history.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct Trial {
    /// Generation that first evaluated it.
    pub generation: usize,
    /// The genome's id.
    pub id: String,
    /// The genome.
    pub genome: Genome,
    /// Its scores, or why scoring failed.
    pub outcome: Outcome,
}

/// What an algorithm knows of an evaluated candidate.
#[derive(Clone, Debug, PartialEq)]
pub struct Eval {
    /// Objectives in minimisation form (`[-acc_1d, tiles(, avm)]`).
    pub objectives: Vec<f64>,
    /// Constraint violation, 0 when feasible.
    pub violation: f64,
    /// Predicted accuracy at 1 day, percent (the paper's fitness).
    pub acc_1d: f64,
}

/// A genome with its evaluation; `eval` is `None` when scoring failed.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// The genome's id.
    pub id: String,
    /// The genome.
    pub genome: Genome,
    /// The evaluation, `None` for a failed one.
    pub eval: Option<Eval>,
}

/// A search algorithm on the ask/tell boundary: it sees evaluations, never the scorer.
pub trait Algorithm: Send {
    /// Begins generation `generation` (0 is the initial population).
    fn start_generation(&mut self, generation: usize);
    /// The next genomes to evaluate in this generation; empty when the generation is complete.
    fn ask(&mut self, rng: &mut SeededRng) -> Vec<Genome>;
    /// The evaluations of the last batch asked, in order.
    fn tell(&mut self, told: Vec<Candidate>);
    /// The current population.
    fn population(&self) -> &[Candidate];
    /// Replaces the population (resuming from a checkpoint at a generation boundary).
    fn restore(&mut self, population: Vec<Candidate>);
}

/// What the engine wants next.
#[derive(Debug)]
pub enum Step {
    /// Score these architectures and [`Search::tell`] the outcomes in order.
    Score(Vec<Arch>),
    /// A generation ended.
    GenerationDone(GenerationStats),
    /// Every generation has run.
    Finished,
}

/// Figures of one finished generation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GenerationStats {
    /// The generation (0 is the initial population).
    pub generation: usize,
    /// Distinct genomes evaluated so far.
    pub evaluations: usize,
    /// Genomes first evaluated in this generation.
    pub new_evaluations: usize,
    /// Members of the front of every feasible evaluation so far.
    pub front_size: usize,
    /// Hypervolume of that front against the run's reference point (objective units).
    pub hypervolume: f64,
    /// The hypervolume over that of a perfect front (see `ReferencePoint::box_volume`).
    pub hypervolume_normalised: f64,
    /// Best predicted 1-day accuracy on the front, percent (0 when the front is empty).
    pub best_acc_1d: f64,
}

struct Pending {
    genomes: Vec<Genome>,
    ids: Vec<String>,
    to_score: Vec<usize>,
}

/// The search engine: drives an [`Algorithm`] generation by generation.
pub struct Search {
    settings: SearchSettings,
    task: Task,
    algo: Box<dyn Algorithm>,
    trials: Vec<Trial>,
    index: HashMap<String, usize>,
    archive: Archive,
    stats: Vec<GenerationStats>,
    generation: usize,
    in_generation: bool,
    generation_start: usize,
    rng: SeededRng,
    pending: Option<Pending>,
}

impl Search {
    /// A fresh search of `space` on `task`.
    pub fn new(space: &SearchSpace, task: Task, settings: SearchSettings) -> Result<Self> {
        settings.validate()?;
        if settings.needs_cost() && settings.cost_profile.is_none() {
            return Err(SearchError::setting(
                "--objectives",
                "a hardware profile for the energy, latency and area objectives and budgets (SearchSettings::prepare_cost)",
                "none",
            )
            .into());
        }
        let algo: Box<dyn Algorithm> = match settings.algorithm {
            AlgorithmKind::Nsga2 => Box::new(Nsga2::new(space.clone(), settings.population)),
            AlgorithmKind::Analognas => {
                Box::new(AnalogNasEa::new(space.clone(), settings.population))
            }
        };
        Ok(Search {
            rng: seeded(derive_seed(settings.seed, 0)),
            settings,
            task,
            algo,
            trials: Vec::new(),
            index: HashMap::new(),
            archive: Archive::new(),
            stats: Vec::new(),
            generation: 0,
            in_generation: false,
            generation_start: 0,
            pending: None,
        })
    }

    /// A search that continues after `generations_done` generations from the recorded
    /// `trials` (in evaluation order) and `population` (ids, in order). The statistics of the
    /// finished generations are rebuilt from the trials, bit for bit.
    pub fn resume(
        space: &SearchSpace,
        task: Task,
        settings: SearchSettings,
        trials: Vec<Trial>,
        population: &[String],
        generations_done: usize,
    ) -> Result<Self> {
        let mut s = Search::new(space, task, settings)?;
        let mut trials = trials.into_iter().peekable();
        for g in 0..generations_done {
            s.generation = g;
            s.generation_start = s.trials.len();
            while let Some(t) = trials.next_if(|t| t.generation == g) {
                s.record(t);
            }
            s.finish_generation();
        }
        if let Some(t) = trials.next() {
            return Err(SearchError::State {
                file: "history.csv",
                message: format!(
                    "row {}: generation {} is out of order or after the checkpoint's {generations_done} generations",
                    s.trials.len() + 1,
                    t.generation
                ),
            }
            .into());
        }
        let pop = population
            .iter()
            .map(|id| {
                let i = *s.index.get(id).ok_or_else(|| {
                    Error::from(SearchError::State {
                        file: "checkpoint.json",
                        message: format!("field population: genome {id} is not in history.csv"),
                    })
                })?;
                Ok(s.candidate(i))
            })
            .collect::<Result<Vec<_>>>()?;
        s.algo.restore(pop);
        Ok(s)
    }

    /// The settings.
    pub fn settings(&self) -> &SearchSettings {
        &self.settings
    }

    /// Generations finished so far.
    pub fn generations_done(&self) -> usize {
        self.generation
    }

    /// Whether every generation has run.
    pub fn is_finished(&self) -> bool {
        self.generation >= self.settings.generations
    }

    /// Extends the run to `generations` (never shortens it).
    pub fn set_generations(&mut self, generations: usize) {
        self.settings.generations = self.settings.generations.max(generations);
    }

    /// Every trial, in evaluation order.
    pub fn trials(&self) -> &[Trial] {
        &self.trials
    }

    /// The statistics of every finished generation.
    pub fn stats(&self) -> &[GenerationStats] {
        &self.stats
    }

    /// The population's genome ids, in order.
    pub fn population_ids(&self) -> Vec<String> {
        self.algo
            .population()
            .iter()
            .map(|c| c.id.clone())
            .collect()
    }

    /// The population.
    pub fn population(&self) -> &[Candidate] {
        self.algo.population()
    }

    /// The front: every feasible evaluation that no other feasible evaluation dominates,
    /// by tiles (ascending), then accuracy (descending), then id.
    pub fn front(&self) -> Vec<&Trial> {
        let mut f: Vec<&Trial> = self
            .archive
            .keys()
            .iter()
            .map(|&i| &self.trials[i])
            .collect();
        f.sort_by(|a, b| front_order(a, b));
        f
    }

    /// The next step. Every `Step::Score` must be answered by [`Search::tell`] before the
    /// next `ask`.
    ///
    /// # Panics
    /// If the previous `Score` step has not been told.
    pub fn ask(&mut self) -> Step {
        assert!(self.pending.is_none(), "ask called before tell");
        if self.is_finished() {
            return Step::Finished;
        }
        if !self.in_generation {
            self.in_generation = true;
            self.generation_start = self.trials.len();
            self.rng = seeded(derive_seed(self.settings.seed, self.generation as u64));
            self.algo.start_generation(self.generation);
        }
        loop {
            let genomes = self.algo.ask(&mut self.rng);
            if genomes.is_empty() {
                return Step::GenerationDone(self.finish_generation());
            }
            let ids: Vec<String> = genomes.iter().map(Genome::id).collect();
            let mut to_score = Vec::new();
            for (i, id) in ids.iter().enumerate() {
                if !self.index.contains_key(id) && !ids[..i].contains(id) {
                    to_score.push(i);
                }
            }
            let pending = Pending {
                genomes,
                ids,
                to_score,
            };
            if pending.to_score.is_empty() {
                self.complete(pending);
                continue;
            }
            let archs = pending
                .to_score
                .iter()
                .map(|&i| Arch::for_task(pending.genomes[i].clone(), self.task))
                .collect();
            self.pending = Some(pending);
            return Step::Score(archs);
        }
    }

    /// The outcomes of the last `Step::Score`, in order. A non-finite score becomes a failure.
    pub fn tell(&mut self, outcomes: Vec<Outcome>) -> Result<()> {
        let pending = self
            .pending
            .take()
            .ok_or_else(|| SearchError::Protocol("tell without a pending ask".into()))?;
        if outcomes.len() != pending.to_score.len() {
            let n = pending.to_score.len();
            self.pending = Some(pending);
            return Err(SearchError::Protocol(format!(
                "the scorer returned {} outcomes for {n} candidates",
                outcomes.len()
            ))
            .into());
        }
        for (&i, outcome) in pending.to_score.iter().zip(outcomes) {
            let outcome = match outcome {
                Outcome::Scored(s) if !s.is_finite() => Outcome::Failed(format!(
                    "non-finite score: acc_1d {}, avm {}, acc_1d_std {}",
                    s.acc_1d, s.avm, s.acc_1d_std
                )),
                o => o,
            };
            self.record(Trial {
                generation: self.generation,
                id: pending.ids[i].clone(),
                genome: pending.genomes[i].clone(),
                outcome,
            });
        }
        self.complete(pending);
        Ok(())
    }

    /// Runs the current generation to its end with `scorer`.
    pub fn run_generation(&mut self, scorer: &mut dyn Scorer) -> Result<GenerationStats> {
        loop {
            match self.ask() {
                Step::Score(batch) => {
                    let outcomes = scorer.score(&batch);
                    self.tell(outcomes)?;
                }
                Step::GenerationDone(s) => return Ok(s),
                Step::Finished => {
                    return Err(
                        SearchError::Protocol("every generation has already run".into()).into(),
                    );
                }
            }
        }
    }

    /// Runs every remaining generation with `scorer`.
    pub fn run(&mut self, scorer: &mut dyn Scorer) -> Result<()> {
        while !self.is_finished() {
            self.run_generation(scorer)?;
        }
        Ok(())
    }

    fn record(&mut self, mut t: Trial) {
        let i = self.trials.len();
        if let (Outcome::Scored(s), Some(p)) = (&mut t.outcome, &self.settings.cost_profile)
            && s.cost.is_none()
            && self.settings.needs_cost()
        {
            s.cost = Some(CostScores::of(
                &Arch::for_task(t.genome.clone(), self.task),
                p,
            ));
        }
        if let Some(s) = t.outcome.scores()
            && self.settings.budgets.violation(s) == 0.0
        {
            self.archive.offer(i, self.settings.objectives.vector(s));
        }
        self.index.insert(t.id.clone(), i);
        self.trials.push(t);
    }

    fn candidate(&self, i: usize) -> Candidate {
        let t = &self.trials[i];
        Candidate {
            id: t.id.clone(),
            genome: t.genome.clone(),
            eval: t.outcome.scores().map(|s| self.eval(s)),
        }
    }

    fn eval(&self, s: &Scores) -> Eval {
        Eval {
            objectives: self.settings.objectives.vector(s),
            violation: self.settings.budgets.violation(s),
            acc_1d: s.acc_1d,
        }
    }

    fn complete(&mut self, pending: Pending) {
        let told = pending
            .ids
            .iter()
            .map(|id| self.candidate(self.index[id]))
            .collect();
        self.algo.tell(told);
    }

    fn finish_generation(&mut self) -> GenerationStats {
        let o = self.settings.objectives;
        let reference = self.settings.reference.vector(o);
        let points = self.archive.points();
        let hv = hypervolume(&points, &reference);
        let stats = GenerationStats {
            generation: self.generation,
            evaluations: self.trials.len(),
            new_evaluations: self.trials.len() - self.generation_start,
            front_size: points.len(),
            hypervolume: hv,
            hypervolume_normalised: hv / self.settings.reference.box_volume(o),
            best_acc_1d: points.iter().map(|p| -p[0]).fold(0.0, f64::max),
        };
        self.stats.push(stats.clone());
        self.generation += 1;
        self.in_generation = false;
        stats
    }
}

/// Order of front members: tiles ascending, accuracy descending, AVM ascending, id.
pub fn front_order(a: &Trial, b: &Trial) -> std::cmp::Ordering {
    let (sa, sb) = (a.outcome.scores(), b.outcome.scores());
    let key = |s: Option<&Scores>| s.map_or((usize::MAX, 0.0, 0.0), |s| (s.tiles, s.acc_1d, s.avm));
    let (ka, kb) = (key(sa), key(sb));
    ka.0.cmp(&kb.0)
        .then(kb.1.total_cmp(&ka.1))
        .then(ka.2.total_cmp(&kb.2))
        .then(a.id.cmp(&b.id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hw::HwProfile;
    use crate::search::{Budgets, Objectives, ReferencePoint, synthetic_scorer};

    fn space() -> SearchSpace {
        SearchSpace::load(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/search_spaces/resnet_tinyml.toml"
        ))
        .unwrap()
    }

    pub(crate) fn settings(
        kind: AlgorithmKind,
        pop: usize,
        gens: usize,
        seed: u64,
    ) -> SearchSettings {
        let s = space();
        let mut st = SearchSettings::defaults(&s, Task::Digits, &HwProfile::default());
        st.algorithm = kind;
        st.population = pop;
        st.generations = gens;
        st.seed = seed;
        st
    }

    fn front_ids(s: &Search) -> Vec<String> {
        s.front().iter().map(|t| t.id.clone()).collect()
    }

    #[test]
    fn same_seed_same_front_different_seed_differs() {
        for kind in [AlgorithmKind::Nsga2, AlgorithmKind::Analognas] {
            let run = |seed| {
                let mut s =
                    Search::new(&space(), Task::Digits, settings(kind, 30, 12, seed)).unwrap();
                s.run(&mut synthetic_scorer(HwProfile::default())).unwrap();
                (front_ids(&s), s.stats().to_vec(), s.trials().len())
            };
            let (a, b, c) = (run(5), run(5), run(6));
            assert_eq!(a, b, "{kind:?}");
            assert_ne!(a.0, c.0, "{kind:?}");
            assert!(!a.0.is_empty());
        }
    }

    #[test]
    fn hypervolume_never_decreases_and_front_is_non_dominated() {
        let mut s = Search::new(
            &space(),
            Task::Digits,
            settings(AlgorithmKind::Nsga2, 40, 15, 1),
        )
        .unwrap();
        s.run(&mut synthetic_scorer(HwProfile::default())).unwrap();
        for w in s.stats().windows(2) {
            assert!(w[1].hypervolume >= w[0].hypervolume);
        }
        assert!(s.stats()[14].hypervolume > s.stats()[0].hypervolume);
        let front = s.front();
        let o = Objectives::default();
        for t in s.trials() {
            let Some(sc) = t.outcome.scores() else {
                continue;
            };
            for f in &front {
                let fs = f.outcome.scores().unwrap();
                assert!(!crate::search::dominates(&o.vector(sc), &o.vector(fs)));
            }
        }
        // Sorted by tiles with accuracy rising along the front.
        for w in front.windows(2) {
            let (a, b) = (
                w[0].outcome.scores().unwrap(),
                w[1].outcome.scores().unwrap(),
            );
            assert!(a.tiles <= b.tiles && a.acc_1d <= b.acc_1d);
        }
    }

    #[test]
    fn no_genome_is_scored_twice() {
        struct Counting<S>(S, HashMap<String, usize>);
        impl<S: Scorer> Scorer for Counting<S> {
            fn name(&self) -> &str {
                "counting"
            }
            fn score(&mut self, batch: &[Arch]) -> Vec<Outcome> {
                for a in batch {
                    *self.1.entry(a.genome.id()).or_default() += 1;
                }
                self.0.score(batch)
            }
        }
        let mut c = Counting(synthetic_scorer(HwProfile::default()), HashMap::new());
        let mut s = Search::new(
            &space(),
            Task::Digits,
            settings(AlgorithmKind::Analognas, 20, 20, 3),
        )
        .unwrap();
        s.run(&mut c).unwrap();
        assert!(c.1.values().all(|&n| n == 1));
        assert_eq!(c.1.len(), s.trials().len());
    }

    #[test]
    fn cost_objectives_and_budgets() {
        let sp = space();
        let p = HwProfile::default();
        for (objectives, n) in [
            ("acc_1d,energy", 2),
            ("acc_1d,energy,latency", 3),
            ("acc_1d,tiles,area", 3),
        ] {
            let mut st = settings(AlgorithmKind::Nsga2, 20, 5, 3);
            st.objectives = Objectives::parse(objectives).unwrap();
            st.budgets.max_latency_us = Some(400.0);
            // Without the profile the search refuses to start.
            assert!(Search::new(&sp, Task::Digits, st.clone()).is_err());
            st.prepare_cost(&sp, Task::Digits, &p);
            assert_eq!(st.reference.vector(st.objectives).len(), n);
            let mut s = Search::new(&sp, Task::Digits, st.clone()).unwrap();
            s.run(&mut synthetic_scorer(p.clone())).unwrap();
            assert!(s.stats().last().unwrap().hypervolume > 0.0, "{objectives}");
            for t in s.front() {
                let sc = t.outcome.scores().unwrap();
                let c = sc.cost.expect("cost filled in");
                assert!(c.latency_us <= 400.0, "{c:?}");
                let want = CostScores::of(&Arch::for_task(t.genome.clone(), Task::Digits), &p);
                assert_eq!(c, want);
            }
            // Settings with a cost profile round-trip through JSON.
            let j = serde_json::to_string(&st).unwrap();
            assert_eq!(serde_json::from_str::<SearchSettings>(&j).unwrap(), st);
        }
        // Without cost objectives nothing about cost is written.
        let st = settings(AlgorithmKind::Nsga2, 20, 2, 3);
        let j = serde_json::to_string(&st).unwrap();
        assert!(!j.contains("cost") && !j.contains("energy"), "{j}");
    }

    #[test]
    fn budgets_hold_on_the_front() {
        for kind in [AlgorithmKind::Nsga2, AlgorithmKind::Analognas] {
            let sp = space();
            let mut st = settings(kind, 30, 10, 4);
            st.budgets = Budgets {
                max_tiles: Some(12),
                max_params: Some(60_000),
                max_avm: Some(3.5),
                ..Budgets::default()
            };
            st.reference =
                ReferencePoint::for_run(&sp, Task::Digits, &HwProfile::default(), &st.budgets);
            let mut s = Search::new(&sp, Task::Digits, st).unwrap();
            s.run(&mut synthetic_scorer(HwProfile::default())).unwrap();
            let front = s.front();
            assert!(!front.is_empty(), "{kind:?}");
            // Some evaluated candidates broke a budget, so the constraint was active.
            assert!(s.trials().iter().any(|t| {
                let sc = t.outcome.scores().unwrap();
                sc.tiles > 12 || sc.params > 60_000 || sc.avm > 3.5
            }));
            for t in front {
                let sc = t.outcome.scores().unwrap();
                assert!(
                    sc.tiles <= 12 && sc.params <= 60_000 && sc.avm <= 3.5,
                    "{sc:?}"
                );
            }
        }
    }

    #[test]
    fn failures_and_nan_are_recorded_not_selected() {
        struct Flaky<S>(S);
        impl<S: Scorer> Scorer for Flaky<S> {
            fn name(&self) -> &str {
                "flaky"
            }
            fn score(&mut self, batch: &[Arch]) -> Vec<Outcome> {
                let mut out = self.0.score(batch);
                for (a, o) in batch.iter().zip(out.iter_mut()) {
                    let h = crate::space::fnv1a64(a.genome.id().as_bytes());
                    if h.is_multiple_of(5) {
                        *o = Outcome::Failed("diverged".into());
                    } else if h % 5 == 1
                        && let Outcome::Scored(s) = o
                    {
                        s.acc_1d = f64::NAN;
                    }
                }
                out
            }
        }
        let mut s = Search::new(
            &space(),
            Task::Digits,
            settings(AlgorithmKind::Nsga2, 20, 5, 2),
        )
        .unwrap();
        s.run(&mut Flaky(synthetic_scorer(HwProfile::default())))
            .unwrap();
        let failed = s
            .trials()
            .iter()
            .filter(|t| matches!(t.outcome, Outcome::Failed(_)))
            .count();
        assert!(failed > 0);
        assert!(s.trials().iter().any(
            |t| matches!(&t.outcome, Outcome::Failed(r) if r.starts_with("non-finite score"))
        ));
        assert!(s.population().iter().all(|c| c.eval.is_some()));
        assert_eq!(s.population().len(), 20);
    }

    #[test]
    fn tell_checks_the_count() {
        let mut s = Search::new(
            &space(),
            Task::Digits,
            settings(AlgorithmKind::Nsga2, 8, 1, 2),
        )
        .unwrap();
        let Step::Score(batch) = s.ask() else {
            panic!("first step scores");
        };
        let e = s.tell(vec![]).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "search: the scorer returned 0 outcomes for {} candidates",
                batch.len()
            )
        );
        let out = synthetic_scorer(HwProfile::default()).score(&batch);
        s.tell(out).unwrap();
    }
}
