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
    /// Fitted model (JSON): a single model or an ensemble (`fit --ensemble`, a run's
    /// `surrogate.json`), whose coverage of its intervals is printed too.
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
    /// Fitted model (JSON): a single model or an ensemble, whose predictions come with
    /// their calibrated standard deviation.
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

fn eval(a: EvalArgs) -> Result<()> {
    let model = load_any(&a.model)?;
    let data = Dataset::read(&a.data)?;
    let checked = match &model {
        AnyModel::Single(m) => m.check_data(&data),
        AnyModel::Ensemble(m) => m.check_data(&data),
    };
    if let Err(e) = checked {
        if !a.allow_mismatch {
            return Err(Error::input(format!(
                "{e}; --allow-mismatch evaluates anyway"
            )));
        }
        eprintln!("analognas: warning: {e} (--allow-mismatch)");
    }
    let (what, fitted, scores, calibration) = match &model {
        AnyModel::Single(m) => (m.kind.to_string(), &m.data, m.scores(&data), None),
        AnyModel::Ensemble(m) => {
            let (scores, calibration) = m.scores(&data);
            (m.regressor.clone(), &m.data, scores, Some(calibration))
        }
    };
    println!(
        "{} ({what}, fitted on {} rows of {}) on {} rows of {}{}:",
        a.model.display(),
        fitted.rows,
        fitted.file,
        data.rows.len(),
        a.data.display(),
        if calibration.is_some() {
            ", each at its own fidelity"
        } else {
            ""
        }
    );
    print!("{}", format_scores(&scores));
    if let Some(c) = calibration {
        println!(
            "share of the values inside the model's intervals (raw: mean +- its calibrated sd, +- 1.96 sd; sd scale: the factor these rows would call for):"
        );
        print!("{}", analognas::surrogate::format_calibration(&c));
    }
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
    if let AnyModel::Ensemble(m) = &model {
        let unseen = data
            .rows
            .iter()
            .filter(|r| {
                let f = analognas::surrogate::ensemble::fidelity(&r.provenance.budget);
                !m.fidelities.contains(&f)
            })
            .count();
        if unseen > 0 {
            println!(
                "warning: {unseen} of {} rows are at a fidelity the model was not fitted on (it knows {:?} epochs)",
                data.rows.len(),
                m.fidelities
            );
        }
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

impl AnyModel {
    fn task(&self) -> analognas::task::Task {
        match self {
            AnyModel::Single(m) => m.task,
            AnyModel::Ensemble(m) => m.task,
        }
    }

    fn profile(&self) -> &str {
        match self {
            AnyModel::Single(m) => &m.profile,
            AnyModel::Ensemble(m) => &m.profile,
        }
    }

    /// Task and profile mismatches of a prediction, in that order.
    fn mismatches(
        &self,
        task: analognas::task::Task,
        profile: &HwProfile,
    ) -> Vec<analognas::surrogate::SurrogateError> {
        let (t, p) = match self {
            AnyModel::Single(m) => (m.check_task(task), m.check_profile(profile)),
            AnyModel::Ensemble(m) => (m.check_task(task), m.check_profile(profile)),
        };
        [t, p].into_iter().filter_map(|r| r.err()).collect()
    }

    fn check_arch(&self, arch: &Arch) -> Result<(), analognas::surrogate::SurrogateError> {
        match self {
            AnyModel::Single(m) => m.check_arch(arch),
            AnyModel::Ensemble(m) => m.check_arch(arch),
        }
    }

    fn extrapolation(&self, genome: &analognas::space::Genome) -> Option<String> {
        match self {
            AnyModel::Single(m) => m.extrapolation(genome),
            AnyModel::Ensemble(m) => m.extrapolation(genome),
        }
    }

    /// `(target, mean, sd)` of acc_1d, avm and acc_1d_std; the sd of an ensemble only.
    fn predict(&self, arch: &Arch, profile: &HwProfile) -> [(&'static str, f64, Option<f64>); 3] {
        match self {
            AnyModel::Single(m) => {
                let p = m.predict(arch, profile);
                [
                    ("acc_1d", p.acc_1d, None),
                    ("avm", p.avm, None),
                    ("acc_1d_std", p.acc_1d_std, None),
                ]
            }
            AnyModel::Ensemble(m) => {
                let p = m.predict(arch, profile);
                [
                    ("acc_1d", p.acc_1d.mean, Some(p.acc_1d.sd)),
                    ("avm", p.avm.mean, Some(p.avm.sd)),
                    ("acc_1d_std", p.acc_1d_std.mean, Some(p.acc_1d_std.sd)),
                ]
            }
        }
    }
}

fn predict(a: PredictArgs) -> Result<()> {
    let model = load_any(&a.model)?;
    let profile = predict_profile(&a, model.profile())?;
    let task = a.task.unwrap_or(model.task());
    let mut warnings = Vec::new();
    for e in model.mismatches(task, &profile) {
        warnings.push(mismatch(&e, a.allow_mismatch)?);
    }
    let arch = Arch::load(&a.arch, task)?;
    // (Another task has another shape: said once, above.)
    if task == model.task()
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
    let fidelity = match &model {
        AnyModel::Ensemble(m) => Some(m.fidelity),
        AnyModel::Single(_) => None,
    };
    if a.json {
        let mut v = serde_json::json!({ "id": arch.genome.id() });
        if let Some(f) = fidelity {
            v["fidelity_epochs"] = f.into();
        }
        for (name, mean, sd) in p {
            v[name] = mean.into();
            if let Some(sd) = sd {
                v[format!("{name}_sd")] = sd.into();
            }
        }
        v["extrapolated"] = outside.is_some().into();
        v["warnings"] = warnings.clone().into();
        println!("{v}");
        for w in &warnings {
            eprintln!("analognas: warning: {w}");
        }
        return Ok(());
    }
    let at = match fidelity {
        Some(f) => format!(", at {f} epochs (ensemble mean +- calibrated sd)"),
        None => String::new(),
    };
    println!(
        "{} ({}) on {}, profile {}{at}",
        arch.genome.summary(),
        arch.genome.id(),
        task,
        profile.name
    );
    for (name, mean, sd) in p {
        let unit = if name == "acc_1d" { "%" } else { "points" };
        match sd {
            Some(sd) => println!("{name:<11} {mean:>8.2} +- {sd:.2} {unit}"),
            None => println!("{name:<11} {mean:>8.2} {unit}"),
        }
    }
    for w in &warnings {
        println!("warning: {w}");
    }
    Ok(())
}
