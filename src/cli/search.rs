//! `analognas search` and `analognas report`.

use analognas::error::{Error, Result};
use analognas::pipeline::{Overwrite, Run, RunOptions, RunSpec, Scoring, SearchRequest};
use analognas::search::AlgorithmKind;
use analognas::task::Task;
use clap::Args;
use std::path::{Path, PathBuf};

/// Arguments of `search`. Every option has a default, so the bare command runs the demo.
#[derive(Args, Debug, Default)]
#[command(
    after_help = "Examples:\n  analognas search\n  analognas search --population 100 --generations 50 --max-tiles 20 --objectives acc_1d,tiles,avm --out results/small\n  analognas search --algorithm analognas --max-avm 3 --seed 7\n  analognas search --resume results/run-0\n  analognas search --task mnist --data data/mnist-5k --surrogate auto --budget-evals 60\n  analognas search --space search_spaces/cosearch_tiny.toml --surrogate measured --objectives acc_1d,energy --population 12 --generations 4"
)]
pub struct SearchArgs {
    /// Task [default: digits].
    #[arg(long, value_parser = super::choice::<Task>())]
    pub task: Option<Task>,
    /// Data folder of the task (for the measured path of validation).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Search-space file [default: search_spaces/resnet_tinyml.toml].
    #[arg(long)]
    pub space: Option<PathBuf>,
    /// Hardware-profile file [default: hw_profiles/pcm_aihwkit.toml].
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// Surrogate model file [default: surrogates/digits_pcm_aihwkit.json when it was fitted on
    /// the task, profile and space, else auto]; `auto` runs active learning (measure, fit an
    /// ensemble, propose, measure, ... see the active-learning options); a run's
    /// surrogate.json reuses its ensemble; `measured` measures every new candidate instead
    /// (hardware-aware training with the validation budget, through --executor; for co-search
    /// spaces with [hardware] genes, which the shipped surrogate does not know; measurements
    /// kept in <run>/measured.csv and reused on --resume); `synthetic` selects a deterministic
    /// test function (for tests and benchmarks; it models no hardware).
    #[arg(long)]
    pub surrogate: Option<String>,
    /// Population size [default: 200].
    #[arg(long)]
    pub population: Option<usize>,
    /// Generations, the first being the initial population [default: 200]. With --resume,
    /// extends the run.
    #[arg(long)]
    pub generations: Option<usize>,
    /// Algorithm [default: nsga2].
    #[arg(long, value_parser = super::choice::<AlgorithmKind>())]
    pub algorithm: Option<AlgorithmKind>,
    /// Objectives: acc_1d and one or two of tiles, avm, energy, latency, area (energy,
    /// latency and area from the profile's cost model) [default: acc_1d,tiles].
    #[arg(long)]
    pub objectives: Option<String>,
    /// Most tiles a network may occupy.
    #[arg(long)]
    pub max_tiles: Option<usize>,
    /// Most trainable parameters.
    #[arg(long)]
    pub max_params: Option<usize>,
    /// Largest accuracy variation over a month (AVM), in points.
    #[arg(long)]
    pub max_avm: Option<f64>,
    /// Most energy per inference, nJ (the profile's cost model).
    #[arg(long)]
    pub max_energy_nj: Option<f64>,
    /// Longest sequential latency per inference, us (the profile's cost model).
    #[arg(long)]
    pub max_latency_us: Option<f64>,
    /// Front members to validate by measurement, plus resnet8 and resnet20 (0 skips) [default: 5].
    #[arg(long)]
    pub validate_top: Option<usize>,
    /// Training seeds of each validated network; each trained model is programmed several
    /// times [default: 3].
    #[arg(long)]
    pub validate_seeds: Option<usize>,
    /// Seed of every random draw [default: 0].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Run directory [default: results/run-<seed>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the run in this directory from its checkpoint (settings come from its run.json).
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// Replace the run files of an existing --out directory (other files stay).
    #[arg(long, conflicts_with = "resume")]
    pub force: bool,
    /// Where validation's measurements run.
    #[command(flatten)]
    pub executor: super::ExecutorArgs,
    /// Active learning.
    #[command(flatten)]
    pub active: super::active::ActiveArgs,
}

/// Arguments of `report`.
#[derive(Args, Debug)]
#[command(after_help = "Example:\n  analognas report --run results/run-0")]
pub struct ReportArgs {
    /// Run directory written by `analognas search`.
    #[arg(long)]
    pub run: PathBuf,
}

/// Runs `search`.
pub fn run(a: SearchArgs) -> Result<()> {
    if super::active::try_run(&a)? {
        return Ok(());
    }
    // Everything that can fail on bad input (settings, surrogate, data, executor) is checked
    // before the run directory is created or touched.
    let (mut run, mut scoring, executor, progress_label) = match &a.resume {
        Some(dir) => {
            let run = resume(&a, dir)?;
            let scoring = Scoring::for_run(&run)?;
            let executor = a.executor.executor(false, &run.dir.join("slurm"))?;
            (run, scoring, executor, "resumed")
        }
        None => {
            let (spec, out) = new_spec(&a)?;
            let scoring = Scoring::for_spec(&spec, &out)?;
            let executor = a.executor.executor(false, &out.join("slurm"))?;
            let overwrite = if a.force {
                Overwrite::Force
            } else {
                Overwrite::Never
            };
            let run = Run::create_with(&out, spec, overwrite)?;
            (run, scoring, executor, "started")
        }
    };
    eprintln!(
        "analognas: {progress_label} {} search in {} ({} x {}, seed {}, scorer {}, measurements {})",
        run.info.settings.algorithm.name(),
        run.dir.display(),
        run.info.settings.population,
        run.info.settings.generations,
        run.info.settings.seed,
        scoring.scorer.name(),
        executor.describe()
    );
    let bars = super::progress::Bars::new();
    let s = run.execute(
        &mut scoring,
        executor.as_ref(),
        &bars,
        &RunOptions::default(),
    )?;
    if let Some(g) = s.resumed_from {
        println!("resumed after generation {g}");
    }
    println!(
        "search: {} generations, {} networks evaluated, front of {}, hypervolume {:.4} of the reference box, {:.2} s",
        s.generations, s.evaluations, s.front_size, s.hypervolume.1, s.seconds
    );
    match s.validated {
        0 => println!("validation: skipped (see report.md)"),
        n => println!("validation: {n} networks measured"),
    }
    println!("report: {}", run.dir.join("report.md").display());
    Ok(())
}

pub(super) fn new_spec(a: &SearchArgs) -> Result<(RunSpec, PathBuf)> {
    let req = SearchRequest {
        task: a.task,
        data: a.data.clone(),
        space: a.space.clone(),
        profile: a.profile.clone(),
        surrogate: a.surrogate.clone(),
        population: a.population,
        generations: a.generations,
        algorithm: a.algorithm,
        objectives: a.objectives.clone(),
        max_tiles: a.max_tiles,
        max_params: a.max_params,
        max_avm: a.max_avm,
        max_energy_nj: a.max_energy_nj,
        max_latency_us: a.max_latency_us,
        validate_top: a.validate_top,
        validate_seeds: a.validate_seeds,
        seed: a.seed,
    };
    let spec = req.spec()?;
    let out = a.out.clone().unwrap_or_else(|| req.default_out());
    Ok((spec, out))
}

pub(super) fn resume(a: &SearchArgs, dir: &Path) -> Result<Run> {
    let fixed: [(&str, bool); 15] = [
        ("--task", a.task.is_some()),
        ("--data", a.data.is_some()),
        ("--space", a.space.is_some()),
        ("--profile", a.profile.is_some()),
        ("--surrogate", a.surrogate.is_some()),
        ("--population", a.population.is_some()),
        ("--algorithm", a.algorithm.is_some()),
        ("--objectives", a.objectives.is_some()),
        ("--max-tiles", a.max_tiles.is_some()),
        ("--max-params", a.max_params.is_some()),
        ("--max-avm", a.max_avm.is_some()),
        ("--max-energy-nj", a.max_energy_nj.is_some()),
        ("--max-latency-us", a.max_latency_us.is_some()),
        ("--seed", a.seed.is_some()),
        ("--out", a.out.is_some()),
    ];
    if let Some((flag, _)) = fixed.iter().find(|f| f.1) {
        return Err(Error::input(format!(
            "{flag}: not allowed with --resume (the run's settings come from {}); only --generations, --validate-top and --validate-seeds may change",
            dir.join("run.json").display()
        )));
    }
    Run::resume(dir, a.generations, a.validate_top, a.validate_seeds)
}

/// Runs `report`.
pub fn report(a: ReportArgs) -> Result<()> {
    for p in analognas::report::write_report(&a.run)? {
        println!("{}", p.display());
    }
    Ok(())
}
