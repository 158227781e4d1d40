//! The active-learning options of `analognas search` (`--surrogate auto`) and how such a run
//! starts or resumes.

use super::search::SearchArgs;
use analognas::error::{Error, Result};
use analognas::pipeline::active::{AUTO, execute, is_active_run};
use analognas::pipeline::{Overwrite, Run, RunOptions};
use analognas::rundir::ActiveSettings;
use clap::Args;

/// Options of active learning (with `--surrogate auto`, or no `--surrogate` on a task that
/// no shipped surrogate was fitted on).
#[derive(Args, Debug, Default)]
pub struct ActiveArgs {
    /// Active learning: measurements to spend, every fidelity counting one [default: 60].
    #[arg(long)]
    pub budget_evals: Option<usize>,
    /// Active learning: wall-clock hours to spend (the loop stops at whichever budget comes
    /// first).
    #[arg(long)]
    pub budget_hours: Option<f64>,
    /// Active learning: networks chosen by the acquisition per round [default: the
    /// executor's parallelism, at least 2].
    #[arg(long)]
    pub batch: Option<usize>,
    /// Active learning: Latin-hypercube networks of the first round, besides the reference
    /// networks [default: 20].
    #[arg(long)]
    pub initial: Option<usize>,
    /// Active learning: training epochs of the fidelity rungs, ascending; new networks are
    /// measured at the first, promising ones promoted (successive halving); the last is also
    /// the training budget of the validation [default: 1,4].
    #[arg(long, value_delimiter = ',')]
    pub fidelities: Vec<usize>,
    /// Active learning: optimism of the acquisition, mean + KAPPA * sd [default: 1].
    #[arg(long)]
    pub kappa: Option<f64>,
    /// Active learning: promotion ratio of successive halving [default: 3].
    #[arg(long)]
    pub eta: Option<usize>,
}

impl ActiveArgs {
    fn given(&self) -> Option<&'static str> {
        [
            ("--budget-evals", self.budget_evals.is_some()),
            ("--budget-hours", self.budget_hours.is_some()),
            ("--batch", self.batch.is_some()),
            ("--initial", self.initial.is_some()),
            ("--fidelities", !self.fidelities.is_empty()),
            ("--kappa", self.kappa.is_some()),
            ("--eta", self.eta.is_some()),
        ]
        .into_iter()
        .find(|f| f.1)
        .map(|f| f.0)
    }

    fn settings(&self, parallelism: usize) -> ActiveSettings {
        let d = ActiveSettings::defaults(parallelism);
        ActiveSettings {
            initial: self.initial.unwrap_or(d.initial),
            batch: self.batch.unwrap_or(d.batch),
            budget_evals: self.budget_evals.unwrap_or(d.budget_evals),
            budget_hours: self.budget_hours,
            fidelities: if self.fidelities.is_empty() {
                d.fidelities.clone()
            } else {
                self.fidelities.clone()
            },
            eta: self.eta.unwrap_or(d.eta),
            kappa: self.kappa.unwrap_or(d.kappa),
            ..d
        }
    }
}

/// Runs the search when it is an active-learning one (a new run whose surrogate resolves to
/// `auto`, or a resumed run that was one); returns false, having done nothing, otherwise.
pub fn try_run(a: &SearchArgs) -> Result<bool> {
    let (mut run, executor, settings, label) = match &a.resume {
        Some(dir) => {
            if !is_active_run(dir) {
                return Ok(false);
            }
            if let Some(flag) = a.active.given() {
                return Err(Error::input(format!(
                    "{flag}: not allowed with --resume (the loop's settings come from {})",
                    dir.join(analognas::rundir::ACTIVE_JSON).display()
                )));
            }
            let run = super::search::resume(a, dir)?;
            let executor = a.executor.executor(false, &run.dir.join("slurm"))?;
            (run, executor, None, "resumed")
        }
        None => {
            let (spec, out) = super::search::new_spec(a)?;
            if spec.surrogate != AUTO {
                if let Some(flag) = a.active.given() {
                    return Err(Error::input(format!(
                        "{flag}: expected with --surrogate auto (active learning), got --surrogate {}",
                        spec.surrogate
                    )));
                }
                return Ok(false);
            }
            // Everything that can fail on bad input, before the directory is touched.
            analognas::evaluate::DataSource {
                task: spec.task,
                path: spec.data.as_ref().map(Into::into),
                seed: 0,
            }
            .load()?;
            let executor = a.executor.executor(false, &out.join("slurm"))?;
            let settings = a.active.settings(executor.parallelism());
            settings.validate()?;
            let overwrite = if a.force {
                Overwrite::Force
            } else {
                Overwrite::Never
            };
            let run = Run::create_with(&out, spec, overwrite)?;
            if a.force {
                analognas::pipeline::active::clear(&run.dir)?;
            }
            (run, executor, Some(settings), "started")
        }
    };
    eprintln!(
        "analognas: {label} active-learning search in {} (seed {}, measurements {})",
        run.dir.display(),
        run.info.settings.seed,
        executor.describe()
    );
    let bars = super::progress::Bars::new();
    let (l, s) = execute(
        &mut run,
        settings,
        executor.as_ref(),
        &bars,
        &RunOptions::default(),
    )?;
    let rows: Vec<String> = l
        .rows
        .iter()
        .map(|(e, n)| format!("{n} at {e} epochs"))
        .collect();
    println!(
        "active learning: {} rounds, {} measurements ({}), stopped: {}, {:.0} s",
        l.rounds,
        l.evaluations,
        rows.join(", "),
        l.stopped,
        l.seconds
    );
    println!(
        "search on the final surrogate: {} generations, {} networks evaluated, front of {}, hypervolume {:.4} of the reference box",
        s.generations, s.evaluations, s.front_size, s.hypervolume.1
    );
    match s.validated {
        0 => println!("validation: skipped (see report.md)"),
        n => println!("validation: {n} networks measured"),
    }
    println!(
        "surrogate: {}",
        run.dir.join(analognas::rundir::SURROGATE_JSON).display()
    );
    println!("report: {}", run.dir.join("report.md").display());
    Ok(true)
}
