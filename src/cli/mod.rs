//! The command-line interface: argument parsing, path resolution, printing and progress bars;
//! the work lives in the library. Nothing outside this module imports it.

mod active;
mod bench;
mod export;
mod footprint;
mod hw;
mod progress;
mod search;
mod space;
mod surrogate;
mod train;
mod worker;

use analognas::error::Result;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// analognas: hardware-aware neural architecture search for analog PCM chips.
#[derive(Parser, Debug)]
#[command(name = "analognas", version, about, long_about = None)]
pub struct Cli {
    /// Where training runs: cpu, gpu or gpu:N (a GPU needs a binary built with
    /// `--features gpu`; the analog drift evaluation stays on the CPU).
    #[arg(long, global = true, default_value = "cpu", value_name = "cpu|gpu[:N]")]
    pub device: String,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Inspect and sample search spaces.
    #[command(subcommand)]
    Space(space::SpaceCommand),
    /// List the shipped search spaces (search_spaces/*.toml).
    #[command(after_help = "Example:\n  analognas spaces")]
    Spaces,
    /// List the shipped hardware profiles (hw_profiles/*.toml).
    #[command(after_help = "Example:\n  analognas profiles")]
    Profiles,
    /// Tile footprint of an architecture on a hardware profile.
    Footprint(footprint::FootprintArgs),
    /// Train a network (hardware-aware by default) and save it as a model directory.
    Train(train::TrainArgs),
    /// Program a trained model on a hardware profile and measure accuracy versus time.
    Evaluate(train::EvaluateArgs),
    /// Export a found (or any) architecture as a model directory for use in your own code.
    Export(Box<export::ExportArgs>),
    /// Logits of a model directory on the first test samples, digitally or on a simulated chip.
    Infer(export::InferArgs),
    /// Fit, evaluate and query surrogate models of measured accuracy and drift.
    #[command(subcommand)]
    Surrogate(surrogate::SurrogateCommand),
    /// Inspect the analog chip model (PCM noise, drift).
    #[command(subcommand)]
    Hw(hw::HwCommand),
    /// Performance benchmarks.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Evolutionary search for the Pareto front of accuracy at 1 day versus tiles.
    Search(Box<search::SearchArgs>),
    /// Redraw the plots and report.md of a run directory.
    Report(search::ReportArgs),
    /// Make one measurement of a cluster job directory (run by its batch script).
    Worker(worker::WorkerArgs),
}

/// Runs the CLI on `args` and returns the process exit code (2 on any error). `--help` and
/// `--version` print clap's full text and exit 0; every other clap error is one line, like
/// every error of the tool.
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let args: Vec<OsString> = args.into_iter().collect();
    let parsed = command()
        .try_get_matches_from(&args)
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    let _ = e.print();
                    ExitCode::SUCCESS
                }
                _ => {
                    eprintln!("analognas: {}", clap_error_line(&e, &args));
                    ExitCode::from(2)
                }
            };
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Errors are built as one line; a line break inside a path or a value must not
            // make a second one.
            let line = e.to_string().replace(['\n', '\r'], " ");
            eprintln!("analognas: {line}");
            ExitCode::from(2)
        }
    }
}

/// The clap command, with every option that takes a value accepting a negative number as its
/// value, so that `--population -5` is a bad value of `--population` rather than an unknown
/// flag `-5`.
pub fn command() -> clap::Command {
    fn negatives(cmd: clap::Command) -> clap::Command {
        cmd.mut_args(|a| {
            if a.get_action().takes_values() {
                a.allow_negative_numbers(true)
            } else {
                a
            }
        })
        .mut_subcommands(negatives)
    }
    negatives(Cli::command())
}

/// `analognas` and the subcommands named at the start of `args` (`analognas space info`).
fn command_path(args: &[OsString]) -> String {
    let root = Cli::command();
    let mut cmd = &root;
    let mut path = String::from("analognas");
    for a in args.iter().skip(1) {
        if let Some(sub) = cmd.find_subcommand(a) {
            path.push(' ');
            path.push_str(sub.get_name());
            cmd = sub;
        } else if !a.to_string_lossy().starts_with('-') {
            break;
        }
    }
    path
}

/// The flag of a clap argument description: `--population` of `--population <POPULATION>`.
fn flag_of(arg: &str) -> String {
    arg.split_whitespace().next().unwrap_or(arg).to_string()
}

/// What a numeric value should have been, from the parse error clap got for it.
fn expected_number(source: Option<&(dyn std::error::Error + 'static)>, value: &str) -> String {
    use std::num::IntErrorKind;
    if let Some(e) = source.and_then(|s| s.downcast_ref::<std::num::ParseIntError>()) {
        let negative =
            value.trim().starts_with('-') && value.trim()[1..].chars().all(|c| c.is_ascii_digit());
        return match e.kind() {
            IntErrorKind::InvalidDigit if negative => "an integer >= 0".into(),
            IntErrorKind::PosOverflow => "a smaller integer".into(),
            IntErrorKind::NegOverflow => "a larger integer".into(),
            IntErrorKind::Zero => "an integer other than 0".into(),
            _ => "an integer".into(),
        };
    }
    if source.is_some_and(|s| s.is::<std::num::ParseFloatError>()) {
        return "a number".into();
    }
    match source {
        Some(s) => format!("a valid value ({})", s.to_string().replace('\n', " ")),
        None => "a valid value".into(),
    }
}

/// A clap error as one line: the flag or subcommand, what was expected and what was given,
/// suggestions, and where the full usage is (`see 'analognas search --help'`).
fn clap_error_line(e: &clap::Error, args: &[OsString]) -> String {
    use clap::error::{ContextKind as K, ContextValue as V, ErrorKind};
    let text = |k: K| -> Option<String> {
        match e.get(k)? {
            V::String(s) => Some(s.clone()),
            V::Strings(v) if !v.is_empty() => Some(v.join(", ")),
            V::StyledStr(s) => Some(s.to_string()),
            V::StyledStrs(v) if !v.is_empty() => Some(
                v.iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            V::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let path = command_path(args);
    let help = format!("see '{path} --help'");
    let arg = text(K::InvalidArg).unwrap_or_default();
    let flag = flag_of(&arg);
    let value = text(K::InvalidValue).unwrap_or_default();
    // The subcommand's path without the program name, as a prefix: `space info: `.
    let sub_path = path
        .strip_prefix("analognas")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map_or(String::new(), |p| format!("{p}: "));
    let mut hints: Vec<String> = Vec::new();
    for k in [K::SuggestedArg, K::SuggestedSubcommand, K::SuggestedValue] {
        let names: Vec<String> = match e.get(k) {
            Some(V::String(s)) => vec![format!("'{s}'")],
            Some(V::Strings(v)) => v.iter().map(|s| format!("'{s}'")).collect(),
            _ => continue,
        };
        if let Some((last, rest)) = names.split_last() {
            let options = match rest {
                [] => last.clone(),
                _ => format!("{} or {last}", rest.join(", ")),
            };
            hints.push(format!("did you mean {options}?"));
        }
    }
    if let Some(s) = text(K::Suggested) {
        hints.push(s);
    }
    let line = match e.kind() {
        ErrorKind::InvalidValue => {
            let valid = text(K::ValidValue);
            match (value.is_empty(), valid) {
                (true, Some(v)) => format!("{flag}: expected one of {v}, got nothing"),
                (true, None) => format!("{flag}: expected a value, got nothing"),
                (false, Some(v)) => format!("{flag}: expected one of {v}, got {value:?}"),
                (false, None) => format!("{flag}: expected a valid value, got {value:?}"),
            }
        }
        ErrorKind::ValueValidation => {
            let expected = expected_number(std::error::Error::source(e), &value);
            format!("{flag}: expected {expected}, got {value:?}")
        }
        ErrorKind::UnknownArgument => format!("unexpected argument '{arg}'"),
        ErrorKind::InvalidSubcommand => {
            let sub = text(K::InvalidSubcommand).unwrap_or_default();
            format!("{sub_path}unknown subcommand '{sub}'")
        }
        ErrorKind::MissingRequiredArgument => {
            let missing: Vec<String> = match e.get(K::InvalidArg) {
                Some(V::Strings(v)) => v.clone(),
                _ => vec![arg.clone()],
            };
            let missing: Vec<String> = missing
                .iter()
                .map(|m| {
                    let group = m.strip_prefix('<').and_then(|m| m.strip_suffix('>'));
                    match group {
                        Some(g) if g.contains('|') => g.split('|').collect::<Vec<_>>().join(" or "),
                        _ => m.clone(),
                    }
                })
                .collect();
            format!("{sub_path}expected {}", missing.join(" and "))
        }
        ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let root = Cli::command();
            let mut cmd = &root;
            for name in path.split(' ').skip(1) {
                cmd = cmd.find_subcommand(name).unwrap_or(cmd);
            }
            let subs: Vec<&str> = cmd
                .get_subcommands()
                .filter(|c| !c.is_hide_set())
                .map(|c| c.get_name())
                .collect();
            if subs.is_empty() {
                format!("{sub_path}expected arguments")
            } else {
                format!("{sub_path}expected a subcommand ({})", subs.join(", "))
            }
        }
        ErrorKind::ArgumentConflict => {
            let prior: Vec<String> = match e.get(K::PriorArg) {
                Some(V::String(s)) => vec![flag_of(s)],
                Some(V::Strings(v)) => v.iter().map(|s| flag_of(s)).collect(),
                _ => Vec::new(),
            };
            format!("{flag}: cannot be used with {}", prior.join(", "))
        }
        ErrorKind::NoEquals => format!("{flag}: expected {flag}=VALUE"),
        ErrorKind::TooManyValues => format!("{flag}: expected one value, got also {value:?}"),
        ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues => {
            let want = text(K::ExpectedNumValues)
                .or_else(|| text(K::MinValues))
                .unwrap_or_default();
            let got = text(K::ActualNumValues).unwrap_or_default();
            format!("{flag}: expected {want} values, got {got}")
        }
        ErrorKind::InvalidUtf8 => "expected UTF-8 arguments".to_string(),
        _ => {
            let rendered = e.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            first.trim_start_matches("error: ").to_string()
        }
    };
    hints.push(help);
    format!("{line}; {}", hints.join("; ")).replace(['\n', '\r'], " ")
}

/// Executes a parsed command.
pub fn run(cli: Cli) -> Result<()> {
    analognas::device::set_compute_device(cli.device.parse()?)?;
    match cli.command {
        Command::Space(c) => space::run(c),
        Command::Spaces => list_shipped("search_spaces"),
        Command::Profiles => list_shipped("hw_profiles"),
        Command::Footprint(a) => footprint::run(a),
        Command::Train(a) => train::run_train(a),
        Command::Evaluate(a) => train::run_evaluate(a),
        Command::Export(a) => export::run_export(*a),
        Command::Infer(a) => export::run_infer(a),
        Command::Surrogate(c) => surrogate::run(c),
        Command::Hw(c) => hw::run(c),
        Command::Bench(c) => bench::run(c),
        Command::Search(a) => search::run(*a),
        Command::Report(a) => search::report(a),
        Command::Worker(a) => worker::run(a),
    }
}

/// A clap value parser for a library [`Choice`](analognas::choice::Choice): the names as possible
/// values (shown in `--help`), parsed into the value.
pub fn choice<T: analognas::choice::Choice + Clone>()
-> impl clap::builder::TypedValueParser<Value = T> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(T::ALL.iter().map(|c| c.name()))
        .map(|s| T::parse(&s).expect("a possible value parses"))
}

/// Where measurements run (`search` validation, `surrogate collect`, `export --train`).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ExecutorArgs {
    /// Where measurements run: `local` (this machine's threads) or `slurm` (one Slurm array
    /// task per measurement; see the README, "Running on a cluster").
    #[arg(long, default_value = "local", value_parser = ["local", "slurm"])]
    pub executor: String,
    /// Measurements at the same time with --executor local [default: the number of cores, or
    /// 1 for a single network].
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Threads of each measurement [default: 1, or every core for a single network; with
    /// --executor slurm, --slurm-cpus-per-task]. A measurement's result depends on this
    /// setting, never on --jobs or the executor.
    #[arg(long)]
    pub threads_per_candidate: Option<usize>,
    /// Config file whose [slurm] section sets the keys of the --slurm-* flags (partition,
    /// time, cpus_per_task, gpus_per_task, mem, max_parallel, extra, retries, dir); the flags
    /// override it.
    #[arg(long, help_heading = "Slurm executor")]
    pub slurm_config: Option<PathBuf>,
    /// Partition of the array tasks (sbatch --partition).
    #[arg(long, help_heading = "Slurm executor")]
    pub slurm_partition: Option<String>,
    /// Time limit of each array task (sbatch --time, e.g. 30 or 02:00:00).
    #[arg(long, help_heading = "Slurm executor")]
    pub slurm_time: Option<String>,
    /// CPUs of each array task [default: --threads-per-candidate, else 1].
    #[arg(long, help_heading = "Slurm executor")]
    pub slurm_cpus_per_task: Option<usize>,
    /// GPUs of each array task (sbatch --gpus-per-task).
    #[arg(long, help_heading = "Slurm executor")]
    pub slurm_gpus_per_task: Option<usize>,
    /// Memory of each array task (sbatch --mem, e.g. 4G).
    #[arg(long, help_heading = "Slurm executor")]
    pub slurm_mem: Option<String>,
    /// Array tasks running at the same time (the %N of sbatch --array) [default: no limit].
    #[arg(long, help_heading = "Slurm executor")]
    pub slurm_max_parallel: Option<usize>,
    /// More sbatch arguments, separated by spaces (e.g. "--account=lab --qos=long").
    #[arg(long, allow_hyphen_values = true, help_heading = "Slurm executor")]
    pub slurm_extra: Option<String>,
    /// Resubmissions of an array task that ends without a result (failed, killed, timed out)
    /// [default: 2].
    #[arg(long, help_heading = "Slurm executor")]
    pub slurm_retries: Option<usize>,
    /// Folder of the job directories, on a filesystem every node sees [default: next to the
    /// output: <csv>.slurm, <run>/slurm, <export>/.slurm].
    #[arg(long, help_heading = "Slurm executor")]
    pub slurm_dir: Option<PathBuf>,
}

impl ExecutorArgs {
    /// The --slurm-* flags as a config (unset flags unset).
    fn slurm_flags(&self) -> analognas::evaluate::SlurmConfig {
        analognas::evaluate::SlurmConfig {
            partition: self.slurm_partition.clone(),
            time: self.slurm_time.clone(),
            cpus_per_task: self.slurm_cpus_per_task,
            gpus_per_task: self.slurm_gpus_per_task,
            mem: self.slurm_mem.clone(),
            max_parallel: self.slurm_max_parallel,
            extra: self.slurm_extra.clone(),
            retries: self.slurm_retries,
            dir: self.slurm_dir.clone(),
        }
    }

    /// The executor these flags describe; `single` picks the defaults for one network;
    /// `jobs_root` is where a cluster executor puts its job directories unless told otherwise.
    pub fn executor(
        &self,
        single: bool,
        jobs_root: &Path,
    ) -> Result<Box<dyn analognas::evaluate::Executor>> {
        use analognas::evaluate::{LocalExecutor, SlurmConfig, SlurmExecutor, SlurmFile};
        for (flag, v) in [
            ("--jobs", self.jobs),
            ("--threads-per-candidate", self.threads_per_candidate),
        ] {
            if v == Some(0) {
                return Err(analognas::Error::input(format!(
                    "{flag}: expected an integer >= 1, got 0"
                )));
            }
        }
        let flags = self.slurm_flags();
        if self.executor != "slurm" {
            let set = [
                ("--slurm-config", self.slurm_config.is_some()),
                ("--slurm-partition", flags.partition.is_some()),
                ("--slurm-time", flags.time.is_some()),
                ("--slurm-cpus-per-task", flags.cpus_per_task.is_some()),
                ("--slurm-gpus-per-task", flags.gpus_per_task.is_some()),
                ("--slurm-mem", flags.mem.is_some()),
                ("--slurm-max-parallel", flags.max_parallel.is_some()),
                ("--slurm-extra", flags.extra.is_some()),
                ("--slurm-retries", flags.retries.is_some()),
                ("--slurm-dir", flags.dir.is_some()),
            ];
            if let Some((flag, _)) = set.iter().find(|f| f.1) {
                return Err(analognas::Error::input(format!(
                    "{flag}: only with --executor slurm"
                )));
            }
            let base = if single {
                LocalExecutor::single()
            } else {
                LocalExecutor::default()
            };
            return Ok(Box::new(LocalExecutor::new(
                self.jobs.unwrap_or(base.parallel),
                self.threads_per_candidate
                    .unwrap_or(base.threads_per_candidate),
            )));
        }
        if self.jobs.is_some() {
            return Err(analognas::Error::input(
                "--jobs: only with --executor local (with slurm, --slurm-max-parallel limits the array tasks running at once)",
            ));
        }
        flags.check("--slurm")?;
        let file = match &self.slurm_config {
            Some(p) => SlurmFile::load(p)?.slurm,
            None => SlurmConfig::default(),
        };
        let config = file.overridden_by(flags);
        let threads = self
            .threads_per_candidate
            .or(config.cpus_per_task)
            .unwrap_or(1);
        let root = config
            .dir
            .clone()
            .unwrap_or_else(|| jobs_root.to_path_buf());
        Ok(Box::new(SlurmExecutor::new(config, threads, root)?))
    }
}

fn list_shipped(dir: &str) -> Result<()> {
    for (shown, p) in analognas::files::list_toml(dir)? {
        let line = if dir == analognas::files::SPACES_DIR {
            analognas::space::SearchSpace::load(&p).map(|s| {
                format!(
                    "{:<36} {:>10.3e} architectures  {}",
                    shown.display(),
                    s.size(),
                    s.description
                )
            })
        } else {
            analognas::hw::HwProfile::load(&p).map(|h| {
                format!(
                    "{:<32} {}x{} tiles  {}",
                    shown.display(),
                    h.tile.rows,
                    h.tile.cols,
                    h.description
                )
            })
        };
        match line {
            Ok(l) => println!("{l}"),
            Err(e) => println!("{:<36} (invalid: {e})", shown.display()),
        }
    }
    Ok(())
}
