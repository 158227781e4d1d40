//! Validation: the front members chosen for it and the reference networks are measured through
//! the evaluation executor (the measured path), so the report can put predicted and measured
//! accuracy side by side.

use crate::error::Result;
use crate::evaluate::{Executor, Job, Measurer};
use crate::hw::HwProfile;
use crate::nn::{Arch, Reference};
use crate::progress::Observer;
use crate::rundir::{FrontMember, ReferenceScore, ValidationEntry, ValidationRole};
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

/// Measures every entry through `executor` with `measurer`; a failed measurement is recorded
/// in its entry, not returned. Results are matched to entries by genome id.
pub fn run_validation(
    plan: Vec<ValidationEntry>,
    task: Task,
    executor: &dyn Executor,
    measurer: &dyn Measurer,
    observer: &dyn Observer,
) -> Result<Vec<ValidationEntry>> {
    let mut seen = std::collections::HashSet::new();
    let jobs: Vec<Job> = plan
        .iter()
        .filter(|e| seen.insert(e.id.clone()))
        .map(|e| Job {
            id: e.id.clone(),
            arch: Arch::for_task(e.genome.clone(), task),
            seed: e.seed,
        })
        .collect();
    let mut results = std::collections::HashMap::new();
    executor.run(measurer, jobs, observer, &mut |r| {
        results.insert(r.id.clone(), r.outcome);
        Ok(())
    })?;
    Ok(plan
        .into_iter()
        .map(|mut e| {
            match results.get(&e.id) {
                Some(Ok(m)) => e.measured = Some(m.clone()),
                Some(Err(err)) => e.error = Some(err.clone()),
                None => e.error = Some("the executor returned no result".into()),
            }
            e
        })
        .collect())
}
