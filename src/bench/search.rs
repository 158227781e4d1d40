//! `bench search`: surrogate-only searches of the paper's size, in memory and with their run
//! directory.

use crate::error::Result;
use crate::evaluate::LocalExecutor;
use crate::hw::HwProfile;
use crate::pipeline::{Run, RunOptions, RunSpec, Scoring};
use crate::progress::Silent;
use crate::search::*;
use crate::space::SearchSpace;
use crate::task::Task;
use std::path::PathBuf;
use std::time::Instant;

/// Times surrogate-only searches of population 200 for 200 generations (the paper's setting):
/// NSGA-II and Algorithm 1 with the synthetic scorer in memory, NSGA-II with its run
/// directory (history and a checkpoint per generation, no plots) in a temporary folder, and
/// NSGA-II with `scorer` when one is given. Returns one line per measurement.
pub fn search(
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
    let mut reference: Option<f64> = None;
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
        let base = *reference.get_or_insert(secs);
        lines.push(format!(
            "  {label:<38} {secs:>7.3} s  ({} evaluations, front {}, HV {hv:.4}; {:.2}x the first line)",
            search.trials().len(),
            search.front().len(),
            secs / base
        ));
        Ok(())
    };
    let mut synthetic = synthetic_scorer(profile.clone());
    let two = Objectives::default();
    let three = Objectives { avm: true, ..two };
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
        validate_seeds: 1,
    };
    let base = reference.unwrap_or(1.0);
    let t = Instant::now();
    let mut run = Run::create(&dir, spec)?;
    let opts = RunOptions {
        report: false,
        ..RunOptions::default()
    };
    let mut scoring = Scoring::new(Box::new(synthetic), None);
    run.execute(&mut scoring, &LocalExecutor::default(), &Silent, &opts)?;
    let secs = t.elapsed().as_secs_f64();
    lines.push(format!(
        "  {:<38} {secs:>7.3} s  (history.csv + checkpoint.json each generation; {:.2}x the first line)",
        "nsga2, synthetic, with run directory",
        secs / base
    ));
    let _ = std::fs::remove_dir_all(&dir);
    Ok(lines.join("\n"))
}
