//! `analognas surrogate ...`

use analognas::error::{Error, Result};
use analognas::hw::HwProfile;
use analognas::nn::Arch;
use analognas::surrogate::{
    Dataset, EnsembleModel, FitParams, ModelKind, SurrogateModel, format_scores,
};
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};

/// Surrogate subcommands.
#[derive(Subcommand, Debug)]
pub enum SurrogateCommand {
    /// Fit a surrogate on a measured data set: k-fold cross-validation, then a final fit.
    #[command(
        after_help = "Example:\n  analognas surrogate fit --data surrogates/digits_pcm_aihwkit.csv --model xgboost --out model.json"
    )]
    Fit(FitArgs),
    /// Quality of a fitted surrogate on another measured data set.
    #[command(
        after_help = "Example:\n  analognas surrogate eval --model surrogates/digits_pcm_aihwkit.json --data other.csv"
    )]
    Eval(EvalArgs),
    /// Predicted 1-day accuracy, AVM and 1-day spread of one architecture.
    #[command(
        after_help = "Example:\n  analognas space sample -n 1 --seed 3 > genome.json\n  analognas surrogate predict --model surrogates/digits_pcm_aihwkit.json --arch genome.json"
    )]
    Predict(PredictArgs),
    /// Measure architectures (Latin hypercube + the reference networks) by hardware-aware
    /// training and drift evaluation, appending one CSV row each; a rerun resumes.
    #[command(
        after_help = "Example:\n  analognas surrogate collect --task digits --space search_spaces/resnet_tinyml.toml --profile hw_profiles/pcm_aihwkit.toml -n 300 --seed 1 --epochs 4 --reps 5 --out surrogates/digits_pcm_aihwkit.csv"
    )]
    Collect(Box<CollectArgs>),
}

/// Arguments of `surrogate collect`.
#[derive(Args, Debug)]
pub struct CollectArgs {
    /// Task.
    #[arg(long, value_parser = super::choice::<analognas::task::Task>(), default_value = "digits")]
    pub task: analognas::task::Task,
    /// Data folder of the task.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Search space to sample.
    #[arg(long, default_value = "search_spaces/resnet_tinyml.toml")]
    pub space: PathBuf,
    /// Hardware profile.
    #[arg(long, default_value = "hw_profiles/pcm_aihwkit.toml")]
    pub profile: PathBuf,
    /// Architectures to sample by Latin hypercube (the three reference networks come on top).
    #[arg(short, long)]
    pub n: usize,
    /// Seed of the sampling and of every measurement.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Training options.
    #[command(flatten)]
    pub train: super::train::TrainOptions,
    /// Drift-evaluation repetitions per architecture (fresh programming each); the row records
    /// them with the standard errors of acc_1d and avm.
    #[arg(long, default_value_t = 5)]
    pub reps: usize,
    /// Skip sampled architectures above this many multiply-accumulates per input (the
    /// reference networks are always measured); default: no limit.
    #[arg(long)]
    pub max_macs: Option<f64>,
    /// CSV to append to (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Where the measurements run.
    #[command(flatten)]
    pub executor: super::ExecutorArgs,
}

fn run_collect(a: CollectArgs) -> Result<()> {
    if a.reps == 0 {
        return Err(Error::input("--reps: expected an integer >= 1, got 0"));
    }
    if let Some(m) = a.max_macs.filter(|m| !(m.is_finite() && *m >= 0.0)) {
        return Err(Error::input(format!(
            "--max-macs: expected a number >= 0, got {m}"
        )));
    }
    if a.out.is_dir() {
        return Err(Error::input(format!(
            "--out {}: expected a CSV file to append to, got a directory",
            a.out.display()
        )));
    }
    let space = analognas::space::SearchSpace::load(analognas::files::shipped_path(&a.space))?;
    let profile = HwProfile::load(analognas::files::shipped_path(&a.profile))?;
    let mut train = a.train.config(&profile)?;
    if a.train.epochs.is_none() && a.train.seconds.is_none() {
        train.budget = analognas::train::Budget::Epochs(6);
    }
    let mut archs = analognas::pipeline::collection_archs(&space, a.task, a.n, a.seed);
    if let Some(limit) = a.max_macs {
        let before = archs.len();
        let references: Vec<_> = analognas::nn::Reference::ALL
            .iter()
            .map(|r| r.genome())
            .collect();
        archs.retain(|x| references.contains(&x.genome) || (x.macs() as f64) <= limit);
        if archs.len() < before {
            eprintln!(
                "analognas: skipping {} sampled architectures over --max-macs {limit}",
                before - archs.len()
            );
        }
    }
    let measurer =
        analognas::evaluate::TrainingMeasurer::from_spec(&analognas::evaluate::MeasureSpec {
            data: analognas::evaluate::DataSource {
                task: a.task,
                path: a.data.clone(),
                seed: a.seed,
            },
            profile: profile.clone(),
            config: analognas::evaluate::MeasureConfig {
                train,
                reps: a.reps,
            },
            save_dir: None,
        })?;
    let prov = analognas::surrogate::Provenance::new(
        a.task,
        space.name.clone(),
        profile.name.clone(),
        String::new(),
    );
    let mut jobs_root = a.out.clone().into_os_string();
    jobs_root.push(".slurm");
    let executor = a.executor.executor(false, &PathBuf::from(jobs_root))?;
    let bars = super::progress::Bars::new();
    let s = analognas::pipeline::collect(
        executor.as_ref(),
        &measurer,
        archs,
        &a.out,
        &prov,
        a.seed,
        &bars,
    )?;
    println!(
        "{} architectures: {} already measured, {} measured now, {} failed; {} rows in {} ({:.0} s)",
        s.requested,
        s.already,
        s.measured,
        s.failed.len(),
        s.rows,
        a.out.display(),
        s.seconds
    );
    for (id, e) in &s.failed {
        println!("  failed {id}: {e}");
    }
    Ok(())
}

/// Arguments of `surrogate fit`.
#[derive(Args, Debug)]
pub struct FitArgs {
    /// Measured data set (CSV written by `surrogate collect`).
    #[arg(long)]
    pub data: PathBuf,
    /// Regressor family.
    #[arg(long, value_parser = super::choice::<ModelKind>(), default_value = "xgboost")]
    pub model: ModelKind,
    /// Folds of the cross-validation (at least 2).
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Seed of the fold shuffle and the regressors.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Fit an ensemble of K bootstrap members per target instead of one model: it predicts a
    /// mean and a standard deviation, with the calibration of the spread on the held-out
    /// folds (what `search --surrogate auto` fits). Rows of several fidelities (epochs in the
    /// budget column) are welcome: the fidelity is a feature.
    #[arg(long, value_name = "K")]
    pub ensemble: Option<usize>,
    /// Trees per ensemble member [default: 30 for forest, 150 for xgboost].
    #[arg(long, requires = "ensemble")]
    pub trees: Option<usize>,
    /// Model file to write (JSON): a new file, or a surrogate model to replace.
    #[arg(long)]
    pub out: PathBuf,
    /// Overwrite --out even when it is an existing file that is not a surrogate model.
    #[arg(long)]
    pub force: bool,
}

/// Arguments of `surrogate eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Fitted model (JSON).
    #[arg(long)]
    pub model: PathBuf,
    /// Measured data set (CSV) of the same task and profile.
    #[arg(long)]
    pub data: PathBuf,
    /// Evaluate even when the data's task or profile is not the model's (with a warning).
    #[arg(long)]
    pub allow_mismatch: bool,
}

/// Arguments of `surrogate predict`.
#[derive(Args, Debug)]
pub struct PredictArgs {
    /// Fitted model (JSON).
    #[arg(long)]
    pub model: PathBuf,
    /// Genome or architecture JSON (a bare genome takes the model's task).
    #[arg(long)]
    pub arch: PathBuf,
    /// Hardware profile; default: hw_profiles/<the model's profile>.toml.
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// Task of the architecture; default: the model's task. Another task than the model's is
    /// refused unless --allow-mismatch.
    #[arg(long, value_parser = super::choice::<analognas::task::Task>())]
    pub task: Option<analognas::task::Task>,
    /// Predict even for another task, profile or input shape than the model was fitted on
    /// (with a warning).
    #[arg(long)]
    pub allow_mismatch: bool,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs a surrogate subcommand.
pub fn run(cmd: SurrogateCommand) -> Result<()> {
    match cmd {
        SurrogateCommand::Fit(a) => fit(a),
        SurrogateCommand::Eval(a) => eval(a),
        SurrogateCommand::Predict(a) => predict(a),
        SurrogateCommand::Collect(a) => run_collect(*a),
    }
}

fn fit(a: FitArgs) -> Result<()> {
    if a.folds < 2 {
        return Err(Error::input(format!(
            "--folds: expected an integer >= 2, got {}",
            a.folds
        )));
    }
    check_model_out(&a.out, &a.data, a.force)?;
    let data = Dataset::read(&a.data)?;
    if let Some(members) = a.ensemble {
        return fit_ensemble(&a, &data, members);
    }
    let params = FitParams {
        kind: a.model,
        folds: a.folds,
        seed: a.seed,
    };
    let start = std::time::Instant::now();
    let model = SurrogateModel::fit(&data, &params)?;
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{} on {} rows of {} (task {}, profile {}) in {:.2} s",
        model.kind,
        model.data.rows,
        a.data.display(),
        model.task,
        model.profile,
        seconds
    );
    println!(
        "held-out quality ({}-fold cross-validation, seed {}):",
        a.folds, a.seed
    );
    print!("{}", format_scores(&model.cv));
    model.save(&a.out)?;
    println!("wrote {}", a.out.display());
    Ok(())
}

fn fit_ensemble(a: &FitArgs, data: &Dataset, members: usize) -> Result<()> {
    use analognas::surrogate::{EnsembleParams, format_calibration};
    let params = EnsembleParams {
        kind: a.model,
        members,
        trees: a.trees.unwrap_or(match a.model {
            ModelKind::Forest => 30,
            ModelKind::Xgboost => 150,
        }),
        folds: a.folds,
        seed: a.seed,
    };
    let start = std::time::Instant::now();
    let model = EnsembleModel::fit(data, &params)?;
    println!(
        "{} on {} rows of {} (task {}, profile {}, fidelities {:?} epochs) in {:.2} s",
        model.regressor,
        model.data.rows,
        a.data.display(),
        model.task,
        model.profile,
        model.fidelities,
        start.elapsed().as_secs_f64()
    );
    println!(
        "held-out quality of the means ({}-fold cross-validation, seed {}):",
        a.folds, a.seed
    );
    print!("{}", format_scores(&model.cv));
    println!(
        "held-out calibration of the spread (fraction of measured values inside the interval):"
    );
    print!("{}", format_calibration(&model.calibration));
    model.save(&a.out)?;
    println!("wrote {}", a.out.display());
    Ok(())
}

/// Whether `a` and `b` name the same existing file (through links too).
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// Refuses a `surrogate fit --out` that would destroy something: the data set itself, a
/// directory, or (without `force`) an existing file that is not a surrogate model.
fn check_model_out(out: &Path, data: &Path, force: bool) -> Result<()> {
    let shown = out.display();
    if same_file(out, data) {
        return Err(Error::input(format!(
            "--out {shown}: expected another path than --data (the model would replace the data set)"
        )));
    }
    if out.is_dir() {
        return Err(Error::input(format!(
            "--out {shown}: expected a model file, got a directory"
        )));
    }
    let is_model = |p: &Path| {
        SurrogateModel::load(p).is_ok() || analognas::surrogate::EnsembleModel::load(p).is_ok()
    };
    if out.exists() && !force && !is_model(out) {
        return Err(Error::input(format!(
            "--out {shown}: expected a new file or a surrogate model to replace, got an existing file that is not one (--force overwrites it)"
        )));
    }
    Ok(())
}

/// The error for a model used outside what it was fitted on, or its warning with
/// `--allow-mismatch`.
fn mismatch(e: &analognas::surrogate::SurrogateError, allow: bool) -> Result<String> {
    if allow {
        Ok(format!("--{e} (--allow-mismatch)"))
    } else {
        Err(Error::input(format!(
            "--{e}; --allow-mismatch uses the model anyway"
        )))
    }
}

/// A surrogate file: a single model or an ensemble (`surrogate fit --ensemble`, an active
/// learning run's `surrogate.json`).
enum AnyModel {
    Single(Box<SurrogateModel>),
    Ensemble(Box<EnsembleModel>),
}

fn load_any(path: &Path) -> Result<AnyModel> {
    let p = analognas::files::shipped_path(path);
    match std::fs::read_to_string(&p) {
        Ok(text) if EnsembleModel::is_ensemble_json(&text) => {
            Ok(AnyModel::Ensemble(Box::new(EnsembleModel::load(&p)?)))
        }
        _ => Ok(AnyModel::Single(Box::new(SurrogateModel::load(&p)?))),
    }
}

/// `surrogate eval` of an ensemble: the means' quality and the intervals' coverage.
fn eval_ensemble(a: &EvalArgs, model: &EnsembleModel, data: &Dataset) -> Result<()> {
    if let Err(e) = model.check_data(data) {
        if !a.allow_mismatch {
            return Err(Error::input(format!(
                "{e}; --allow-mismatch evaluates anyway"
            )));
        }
        eprintln!("analognas: warning: {e} (--allow-mismatch)");
    }
    let (scores, calibration) = model.scores(data);
    println!(
        "{} ({}, fitted on {} rows of {}) on {} rows of {}, each at its own fidelity:",
        a.model.display(),
        model.regressor,
        model.data.rows,
        model.data.file,
        data.rows.len(),
        a.data.display()
    );
    print!("{}", format_scores(&scores));
    println!(
        "share of the values inside the model's calibrated intervals (mean +- sd, +- 1.96 sd):"
    );
    print!("{}", analognas::surrogate::format_calibration(&calibration));
    let outside = data
        .rows
        .iter()
        .filter(|r| model.extrapolation(&r.measurement.genome).is_some())
        .count();
    if outside > 0 {
        println!(
            "warning: {outside} of {} rows lie outside the genes the model was fitted on (the predictions extrapolate)",
            data.rows.len()
        );
    }
    Ok(())
}

fn eval(a: EvalArgs) -> Result<()> {
    let model = match load_any(&a.model)? {
        AnyModel::Single(m) => m,
        AnyModel::Ensemble(m) => return eval_ensemble(&a, &m, &Dataset::read(&a.data)?),
    };
    let data = Dataset::read(&a.data)?;
    let scores = match model.check_data(&data) {
        Ok(()) => model.scores(&data),
        Err(e) if a.allow_mismatch => {
            eprintln!("analognas: warning: {e} (--allow-mismatch)");
            model.scores(&data)
        }
        Err(e) => {
            return Err(Error::input(format!(
                "{e}; --allow-mismatch evaluates anyway"
            )));
        }
    };
    println!(
        "{} ({}, fitted on {} rows of {}) on {} rows of {}:",
        a.model.display(),
        model.kind,
        model.data.rows,
        model.data.file,
        data.rows.len(),
        a.data.display()
    );
    print!("{}", format_scores(&scores));
    let outside: Vec<(usize, String)> = data
        .rows
        .iter()
        .zip(&data.lines)
        .filter_map(|(r, &line)| Some((line, model.extrapolation(&r.measurement.genome)?)))
        .collect();
    if let Some((line, why)) = outside.first() {
        println!(
            "warning: {} of {} rows lie outside the genes the model was fitted on (the predictions extrapolate; first: line {line}, {why})",
            outside.len(),
            data.rows.len()
        );
    }
    Ok(())
}

/// The profile of `surrogate predict`: `--profile`, else the shipped file of the model's.
fn predict_profile(a: &PredictArgs, model_profile: &str) -> Result<HwProfile> {
    match &a.profile {
        Some(p) => HwProfile::load(analognas::files::shipped_path(p)),
        None => {
            let p = analognas::files::shipped_profile(model_profile).ok_or_else(|| {
                Error::input(format!(
                    "--profile: expected a profile file (the model's profile {model_profile} is not in hw_profiles/)"
                ))
            })?;
            HwProfile::load(p)
        }
    }
}

/// `surrogate predict` of an ensemble: mean and calibrated sd at the model's fidelity.
fn predict_ensemble(a: &PredictArgs, model: &EnsembleModel) -> Result<()> {
    let profile = predict_profile(a, &model.profile)?;
    let task = a.task.unwrap_or(model.task);
    let mut warnings = Vec::new();
    let field =
        |f: &str, expected: String, got: String| analognas::surrogate::SurrogateError::Mismatch {
            field: f.into(),
            expected,
            got,
        };
    if task != model.task {
        let e = field("task", model.task.to_string(), task.to_string());
        warnings.push(mismatch(&e, a.allow_mismatch)?);
    }
    if profile.name != model.profile {
        let e = field("profile", model.profile.clone(), profile.name.clone());
        warnings.push(mismatch(&e, a.allow_mismatch)?);
    }
    let arch = Arch::load(&a.arch, task)?;
    let outside = model.extrapolation(&arch.genome);
    if let Some(why) = &outside {
        warnings.push(format!(
            "genome outside the genes the model was fitted on: {why}; the prediction extrapolates"
        ));
    }
    let p = model.predict(&arch, &profile);
    if a.json {
        let v = serde_json::json!({
            "id": arch.genome.id(),
            "fidelity_epochs": model.fidelity,
            "acc_1d": p.acc_1d.mean,
            "acc_1d_sd": p.acc_1d.sd,
            "avm": p.avm.mean,
            "avm_sd": p.avm.sd,
            "acc_1d_std": p.acc_1d_std.mean,
            "acc_1d_std_sd": p.acc_1d_std.sd,
            "extrapolated": outside.is_some(),
            "warnings": warnings,
        });
        println!("{v}");
        for w in &warnings {
            eprintln!("analognas: warning: {w}");
        }
        return Ok(());
    }
    println!(
        "{} ({}) on {}, profile {}, at {} epochs (ensemble mean +- calibrated sd)",
        arch.genome.summary(),
        arch.genome.id(),
        task,
        profile.name,
        model.fidelity
    );
    println!("acc_1d      {:>8.2} +- {:.2} %", p.acc_1d.mean, p.acc_1d.sd);
    println!("avm         {:>8.2} +- {:.2} points", p.avm.mean, p.avm.sd);
    println!(
        "acc_1d_std  {:>8.2} +- {:.2} points",
        p.acc_1d_std.mean, p.acc_1d_std.sd
    );
    for w in &warnings {
        println!("warning: {w}");
    }
    Ok(())
}

fn predict(a: PredictArgs) -> Result<()> {
    let model = match load_any(&a.model)? {
        AnyModel::Single(m) => m,
        AnyModel::Ensemble(m) => return predict_ensemble(&a, &m),
    };
    let profile = predict_profile(&a, &model.profile)?;
    let task = a.task.unwrap_or(model.task);
    let mut warnings = Vec::new();
    if let Err(e) = model.check_task(task) {
        warnings.push(mismatch(&e, a.allow_mismatch)?);
    }
    if let Err(e) = model.check_profile(&profile) {
        warnings.push(mismatch(&e, a.allow_mismatch)?);
    }
    let arch = Arch::load(&a.arch, task)?;
    // (Another task has another shape: said once, above.)
    if task == model.task
        && let Err(e) = model.check_arch(&arch)
    {
        warnings.push(mismatch(&e, a.allow_mismatch)?);
    }
    let outside = model.extrapolation(&arch.genome);
    if let Some(why) = &outside {
        warnings.push(format!(
            "genome outside the genes the model was fitted on: {why}; the prediction extrapolates"
        ));
    }
    let p = model.predict(&arch, &profile);
    if a.json {
        let v = serde_json::json!({
            "id": arch.genome.id(),
            "acc_1d": p.acc_1d,
            "avm": p.avm,
            "acc_1d_std": p.acc_1d_std,
            "extrapolated": outside.is_some(),
            "warnings": warnings,
        });
        println!("{v}");
        for w in &warnings {
            eprintln!("analognas: warning: {w}");
        }
        return Ok(());
    }
    println!(
        "{} ({}) on {}, profile {}",
        arch.genome.summary(),
        arch.genome.id(),
        task,
        profile.name
    );
    println!("acc_1d      {:>8.2} %", p.acc_1d);
    println!("avm         {:>8.2} points", p.avm);
    println!("acc_1d_std  {:>8.2} points", p.acc_1d_std);
    for w in &warnings {
        println!("warning: {w}");
    }
    Ok(())
}
