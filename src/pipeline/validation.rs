//! Validation: the front members chosen for it and the reference networks are measured through
//! the evaluation executor (the measured path), so the report can put predicted and measured
//! accuracy side by side.

use crate::error::Result;
use crate::evaluate::{Executor, Job, Measurer};
use crate::hw::HwProfile;
use crate::measure::Measurement;
use crate::nn::{Arch, Reference};
use crate::progress::Observer;
use crate::rundir::{
    FrontMember, ReferenceScore, SeedMeasurement, SeedSummary, ValidationEntry, ValidationRole,
};
use crate::search::{Objectives, ReferencePoint, Scores, greedy_subset, tiles_and_params};
use crate::space::Genome;
use crate::task::Task;

/// The reference networks every validation measures as baselines.
pub const VALIDATION_REFERENCES: [Reference; 2] = [Reference::Resnet8, Reference::Resnet20];

/// Indices of the `k` front members to validate: a greedy hypervolume subset (the knee of the
/// front first, then the members that fill its widest gaps), returned by tiles.
pub fn select_for_validation(
    front: &[FrontMember],
    objectives: Objectives,
    reference: &ReferencePoint,
    k: usize,
) -> Vec<usize> {
    let points: Vec<Vec<f64>> = front.iter().map(|m| objectives.vector(&m.scores)).collect();
    let mut chosen = greedy_subset(&points, &reference.vector(objectives), k);
    chosen.sort_unstable();
    chosen
}

/// The entries to measure: the chosen front members, then the reference networks on `task`.
pub fn validation_plan(
    front: &[FrontMember],
    chosen: &[usize],
    references: &[ReferenceScore],
    task: Task,
    profile: &HwProfile,
    seed: u64,
) -> Vec<ValidationEntry> {
    let entry = |name: String, role, genome: &Genome, predicted: Option<Scores>| {
        let id = genome.id();
        let (tiles, params) = tiles_and_params(&Arch::for_task(genome.clone(), task), profile);
        ValidationEntry {
            name,
            role,
            genes: genome.summary(),
            genome: genome.clone(),
            tiles,
            params,
            predicted,
            measured: None,
            error: None,
            seed: crate::evaluate::candidate_seed(seed, &id),
            seeds: Vec::new(),
            summary: None,
            id,
        }
    };
    let mut v: Vec<ValidationEntry> = chosen
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let m = &front[i];
            entry(
                format!("front-{}", k + 1),
                ValidationRole::Front,
                &m.genome,
                Some(m.scores.clone()),
            )
        })
        .collect();
    for r in VALIDATION_REFERENCES {
        let predicted = references
            .iter()
            .find(|x| x.name == r.name())
            .and_then(|x| x.predicted.clone());
        v.push(entry(
            r.name().to_string(),
            ValidationRole::Reference,
            &r.genome(),
            predicted,
        ));
    }
    v
}

/// Seed of training seed index `k` of an entry whose seed (index 0) is `entry_seed`: a function
/// of the run seed, the genome id and `k` only, never of the order of execution.
pub fn seed_for_index(entry_seed: u64, k: usize) -> u64 {
    if k == 0 {
        entry_seed
    } else {
        crate::rng::derive_seed(entry_seed, k as u64)
    }
}

/// Measures every entry through `executor` with `measurer`, once per training seed index
/// `0..seeds` (one executor call per index, so results stay keyed by genome id; index 0 runs
/// last, so the model a saving measurer keeps under `<run>/models/<id>` is seed 0's). A failed
/// measurement is recorded in its entry, not returned; `measured` is seed 0's measurement and
/// `summary` the mean and 95 % interval over the seeds that succeeded.
pub fn run_validation(
    plan: Vec<ValidationEntry>,
    task: Task,
    seeds: usize,
    executor: &dyn Executor,
    measurer: &dyn Measurer,
    observer: &dyn Observer,
) -> Result<Vec<ValidationEntry>> {
    let seeds = seeds.max(1);
    let mut per_seed: Vec<
        std::collections::HashMap<String, std::result::Result<Measurement, String>>,
    > = vec![Default::default(); seeds];
    for k in (1..seeds).chain([0]) {
        let mut seen = std::collections::HashSet::new();
        let jobs: Vec<Job> = plan
            .iter()
            .filter(|e| seen.insert(e.id.clone()))
            .map(|e| Job {
                id: e.id.clone(),
                arch: Arch::for_task(e.genome.clone(), task),
                seed: seed_for_index(e.seed, k),
            })
            .collect();
        let results = &mut per_seed[k];
        executor.run(measurer, jobs, observer, &mut |r| {
            results.insert(r.id.clone(), r.outcome);
            Ok(())
        })?;
    }
    Ok(plan
        .into_iter()
        .map(|mut e| {
            let mut errors = Vec::new();
            for (k, results) in per_seed.iter().enumerate() {
                match results.get(&e.id) {
                    Some(Ok(m)) => e.seeds.push(SeedMeasurement {
                        index: k,
                        seed: seed_for_index(e.seed, k),
                        measured: m.clone(),
                    }),
                    Some(Err(err)) => errors.push((k, err.clone())),
                    None => errors.push((k, "the executor returned no result".into())),
                }
            }
            e.measured = e
                .seeds
                .first()
                .filter(|s| s.index == 0)
                .map(|s| s.measured.clone());
            e.summary = SeedSummary::of(&e.seeds);
            if !errors.is_empty() {
                e.error = Some(if seeds == 1 {
                    errors.remove(0).1
                } else {
                    errors
                        .iter()
                        .map(|(k, m)| format!("seed {k}: {m}"))
                        .collect::<Vec<_>>()
                        .join("; ")
                });
            }
            e
        })
        .collect())
}
