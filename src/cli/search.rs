//! `analognas search` and `analognas report`.

use crate::error::{Error, Result};
use crate::hw::HwProfile;
use crate::nn::Arch;
use crate::search::{
    AlgorithmKind, Budgets, ClosureScorer, Objectives, Run, RunOptions, RunSpec, SYNTHETIC, Scorer,
    SearchSettings, Validator, synthetic_scorer,
};
use crate::space::SearchSpace;
use crate::surrogate::SurrogateModel;
use crate::task::Task;
use clap::Args;
use std::path::{Path, PathBuf};

/// Default search space.
pub const DEFAULT_SPACE: &str = "search_spaces/resnet_tinyml.toml";
/// Default hardware profile.
pub const DEFAULT_PROFILE: &str = "hw_profiles/pcm_aihwkit.toml";
/// Default surrogate.
pub const DEFAULT_SURROGATE: &str = "surrogates/digits_pcm_aihwkit.json";

/// Arguments of `search`. Every option has a default, so the bare command runs the demo.
#[derive(Args, Debug, Default)]
#[command(
    after_help = "Examples:\n  analognas search\n  analognas search --population 100 --generations 50 --max-tiles 20 --objectives acc_1d,tiles,avm --out results/small\n  analognas search --algorithm analognas --max-avm 3 --seed 7\n  analognas search --resume results/run-0"
)]
pub struct SearchArgs {
    /// Task [default: digits].
    #[arg(long, value_enum)]
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
    /// Surrogate model file [default: surrogates/digits_pcm_aihwkit.json]; `synthetic` selects a
    /// deterministic test function instead (for tests and benchmarks; it models no hardware).
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
    #[arg(long, value_enum)]
    pub algorithm: Option<AlgorithmKind>,
    /// Objectives: acc_1d,tiles or acc_1d,tiles,avm [default: acc_1d,tiles].
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
    /// Front members to validate by measurement, plus resnet8 and resnet20 (0 skips) [default: 5].
    #[arg(long)]
    pub validate_top: Option<usize>,
    /// Seed of every random draw [default: 0].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Run directory [default: results/run-<seed>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the run in this directory from its checkpoint (settings come from its run.json).
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// Sleep this many milliseconds after each generation (for tests).
    #[arg(long, hide = true, default_value_t = 0)]
    pub slow_ms: u64,
}

/// Arguments of `report`.
#[derive(Args, Debug)]
#[command(after_help = "Example:\n  analognas report --run results/run-0")]
pub struct ReportArgs {
    /// Run directory written by `analognas search`.
    #[arg(long)]
    pub run: PathBuf,
}

// ---------------------------------------------------------------------------------------------
// Plug-in point: how a run's scorer and validator are built. This is the one place that knows
// the concrete scorers; the search itself only sees the `Scorer` and `Validator` traits.
// ---------------------------------------------------------------------------------------------

/// What the scorer and validator of a run are built from.
#[allow(dead_code)] // task, data and space are for the surrogate and measured-path plug-ins
pub struct ScoringSetup<'a> {
    /// `--surrogate` as given.
    pub surrogate: &'a str,
    /// The task.
    pub task: Task,
    /// `--data`, when given.
    pub data: Option<&'a str>,
    /// The hardware profile.
    pub profile: &'a HwProfile,
    /// The search space.
    pub space: &'a SearchSpace,
}

/// The scorer of a run: `synthetic` is the test function; a model file is the surrogate.
pub fn build_scorer(s: &ScoringSetup) -> Result<Box<dyn Scorer>> {
    if s.surrogate == SYNTHETIC {
        return Ok(Box::new(synthetic_scorer(s.profile.clone())));
    }
    let model = SurrogateModel::load(super::shipped_path(Path::new(s.surrogate))).map_err(|e| {
        Error::input(format!(
            "--surrogate: {e} (expected a model from `analognas surrogate fit`, or \"{SYNTHETIC}\")"
        ))
    })?;
    model.check_profile(s.profile)?;
    let profile = s.profile.clone();
    Ok(Box::new(ClosureScorer::new(
        "surrogate",
        s.profile.clone(),
        move |a: &Arch| {
            let p = model.predict(a, &profile);
            (p.acc_1d, p.avm, p.acc_1d_std)
        },
    )))
}

/// The validator of a run: hardware-aware training and drift evaluation on the run's task,
/// with the budget of the shipped surrogate's data (4 epochs, 3 repetitions); each trained
/// network is kept under `<run>/models/<id>` for `analognas export`.
///
/// The `synthetic` test scorer models no hardware, so its runs are not validated.
pub fn build_validator(s: &ScoringSetup, dir: &Path) -> Result<Option<Box<dyn Validator>>> {
    if s.surrogate == SYNTHETIC {
        return Ok(None);
    }
    let data = crate::data::load(s.task, s.data.map(Path::new), 0)?;
    let mut train = crate::train::TrainConfig::hardware_aware(s.profile);
    train.budget = crate::train::Budget::Epochs(VALIDATION_EPOCHS);
    Ok(Some(Box::new(crate::train::TrainingMeasurer {
        data,
        profile: s.profile.clone(),
        config: crate::train::MeasureConfig {
            train,
            reps: VALIDATION_REPS,
        },
        save_dir: Some(dir.join("models")),
    })))
}

/// Training epochs of validation (the budget the shipped surrogate's data was measured with).
pub const VALIDATION_EPOCHS: usize = 4;
/// Drift-evaluation repetitions of validation.
pub const VALIDATION_REPS: usize = 3;

// ---------------------------------------------------------------------------------------------

/// Runs `search`.
pub fn run(a: SearchArgs) -> Result<()> {
    let (mut run, progress_label) = match &a.resume {
        Some(dir) => (resume(&a, dir)?, "resumed"),
        None => (create(&a)?, "started"),
    };
    let data = run.info.data.clone();
    let setup = ScoringSetup {
        surrogate: &run.info.surrogate,
        task: run.info.task,
        data: data.as_deref(),
        profile: &run.profile,
        space: &run.space,
    };
    let mut scorer = build_scorer(&setup)?;
    let validator = if run.info.validate_top > 0 {
        build_validator(&setup, &run.dir)?
    } else {
        None
    };
    eprintln!(
        "analognas: {progress_label} {} search in {} ({} x {}, seed {}, scorer {})",
        run.info.settings.algorithm.name(),
        run.dir.display(),
        run.info.settings.population,
        run.info.settings.generations,
        run.info.settings.seed,
        scorer.name()
    );
    let opts = RunOptions {
        progress: true,
        slow_ms: a.slow_ms,
        ..RunOptions::default()
    };
    let s = run.execute(scorer.as_mut(), validator.as_deref(), &opts)?;
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

fn create(a: &SearchArgs) -> Result<Run> {
    let task = a.task.unwrap_or(Task::Digits);
    let space_path = a
        .space
        .clone()
        .unwrap_or_else(|| super::shipped_path(Path::new(DEFAULT_SPACE)));
    let profile_path = a
        .profile
        .clone()
        .unwrap_or_else(|| super::shipped_path(Path::new(DEFAULT_PROFILE)));
    let surrogate = a
        .surrogate
        .clone()
        .unwrap_or_else(|| DEFAULT_SURROGATE.into());
    let mut spec = RunSpec::from_files(task, &space_path, &profile_path, &surrogate)?;
    spec.data = a.data.as_ref().map(|d| d.display().to_string());
    let seed = a.seed.unwrap_or(0);
    spec.settings = SearchSettings {
        algorithm: a.algorithm.unwrap_or(AlgorithmKind::Nsga2),
        objectives: match &a.objectives {
            Some(o) => Objectives::parse(o)?,
            None => Objectives::default(),
        },
        budgets: Budgets {
            max_tiles: a.max_tiles,
            max_params: a.max_params,
            max_avm: a.max_avm,
        },
        population: a.population.unwrap_or(200),
        generations: a.generations.unwrap_or(200),
        seed,
        reference: spec.settings.reference,
    };
    spec.settings.validate()?;
    spec.validate_top = a.validate_top.unwrap_or(5);
    // Fail on a bad --surrogate before anything is written.
    build_scorer(&ScoringSetup {
        surrogate: &spec.surrogate,
        task,
        data: spec.data.as_deref(),
        profile: &spec.profile,
        space: &spec.space,
    })?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("results/run-{seed}")));
    Run::create(&out, spec)
}

fn resume(a: &SearchArgs, dir: &Path) -> Result<Run> {
    let fixed: [(&str, bool); 13] = [
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
        ("--seed", a.seed.is_some()),
        ("--out", a.out.is_some()),
    ];
    if let Some((flag, _)) = fixed.iter().find(|f| f.1) {
        return Err(Error::input(format!(
            "{flag}: not allowed with --resume (the run's settings come from {}); only --generations and --validate-top may change",
            dir.join("run.json").display()
        )));
    }
    let mut run = Run::open(dir)?;
    if let Some(g) = a.generations {
        if g < run.info.settings.generations {
            return Err(Error::input(format!(
                "--generations: expected at least {} (the run's generations) with --resume, got {g}",
                run.info.settings.generations
            )));
        }
        run.info.settings.generations = g;
    }
    if let Some(k) = a.validate_top {
        run.info.validate_top = k;
    }
    Ok(run)
}

/// Runs `report`.
pub fn report(a: ReportArgs) -> Result<()> {
    for p in crate::report::write_report(&a.run)? {
        println!("{}", p.display());
    }
    Ok(())
}
