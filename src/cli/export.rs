//! `analognas export` and `analognas infer`.

use analognas::error::{Error, Result};
use analognas::export::{
    ExportFormat, ExportOptions, ExportTraining, Pick, Provenance, export_arch, export_from_run,
};
use analognas::hw::HwProfile;
use analognas::model::TrainedModel;
use analognas::nn::Arch;
use analognas::task::Task;
use clap::Args;
use std::path::PathBuf;

/// Arguments of `export`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  analognas export --run results/example --rank 1 --out found\n  analognas export --run results/example --id 1211557eace6 --out found --train --epochs 20\n  analognas export --arch genome.json --task mnist --out found --train\n  analognas export --arch genome.json --out found --train --format pytorch --test-set\n\nFormats: burn writes model.bpk (for infer, evaluate and Rust code); pytorch writes model.py\n(a PyTorch module generated from the genome), model.safetensors (its weights), check.safetensors\n(a check batch with burn's logits: `python3 model.py` compares) and aihwkit_model.py (the network on\naihwkit with an rpu_config mirroring --profile); all writes both."
)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["run", "arch"])))]
pub struct ExportArgs {
    /// Search run directory.
    #[arg(long)]
    pub run: Option<PathBuf>,
    /// 1-based rank in the run's front (the report's front table).
    #[arg(long, conflicts_with = "id")]
    pub rank: Option<usize>,
    /// Genome id on the run's front.
    #[arg(long)]
    pub id: Option<String>,
    /// A genome or architecture JSON instead of a run.
    #[arg(long, conflicts_with = "run")]
    pub arch: Option<PathBuf>,
    /// Task of --arch (a bare genome takes its input shape and classes).
    #[arg(long, value_parser = super::choice::<Task>(), default_value = "digits")]
    pub task: Task,
    /// Data folder of the task (for training and the check batch).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Hardware profile of --arch training, and the chip aihwkit_model.py mirrors (a run's own
    /// profile with --run).
    #[arg(long, default_value = "hw_profiles/pcm_aihwkit.toml")]
    pub profile: PathBuf,
    /// Train (hardware-aware) before exporting.
    #[arg(long)]
    pub train: bool,
    /// Epochs of --train.
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    /// Programmings of the drift evaluation after --train (export.json records the result).
    #[arg(long, default_value_t = 3)]
    pub reps: usize,
    /// Seed of --train.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Where --train runs.
    #[command(flatten)]
    pub executor: super::ExecutorArgs,
    /// Weight formats to write: burn, pytorch or all.
    #[arg(long, value_parser = super::choice::<ExportFormat>(), default_value = "all")]
    pub format: ExportFormat,
    /// Also write the task's test split as test.safetensors (inputs and labels), e.g. for
    /// examples/crosscheck_aihwkit.py.
    #[arg(long)]
    pub test_set: bool,
    /// Output directory.
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs `export`.
pub fn run_export(a: ExportArgs) -> Result<()> {
    if a.train && a.epochs == 0 {
        return Err(Error::input("--epochs: expected an integer >= 1, got 0"));
    }
    if a.train && a.reps == 0 {
        return Err(Error::input("--reps: expected an integer >= 1, got 0"));
    }
    let jobs_root = a.out.join(".slurm");
    let executor = a.executor.executor(true, &jobs_root)?;
    let bars = super::progress::Bars::new();
    let training = a.train.then_some(ExportTraining {
        epochs: a.epochs,
        reps: a.reps,
        seed: a.seed,
        executor: executor.as_ref(),
        observer: &bars,
    });
    let options = ExportOptions {
        format: a.format,
        test_set: a.test_set,
    };
    let info = match (&a.run, &a.arch) {
        (Some(run), _) => {
            let pick = match (a.rank, &a.id) {
                (Some(r), _) => Pick::Rank(r),
                (None, Some(id)) => Pick::Id(id.clone()),
                (None, None) => {
                    return Err(Error::input("export --run: expected --rank N or --id ID"));
                }
            };
            export_from_run(run, &pick, &a.out, training.as_ref(), options)?
        }
        (None, Some(path)) => {
            let arch = Arch::load(path, a.task)?;
            let profile = HwProfile::load(analognas::files::shipped_path(&a.profile))?;
            export_arch(
                &arch,
                &a.out,
                training.as_ref(),
                &profile,
                a.data.as_deref(),
                Provenance {
                    source: format!("genome file {}", path.display()),
                    ..Provenance::default()
                },
                options,
            )?
        }
        (None, None) => return Err(Error::input("export: expected --run DIR or --arch FILE")),
    };
    // The job directory of a cluster training has served: the weights are in the export.
    if jobs_root.is_dir() {
        let _ = std::fs::remove_dir_all(&jobs_root);
    }
    println!(
        "exported {} ({}, input {:?}, {} classes, {}) to {}",
        info.id,
        info.task,
        info.input,
        info.classes,
        if info.weights {
            "with trained weights"
        } else {
            "architecture only: add --train for weights"
        },
        a.out.display()
    );
    println!("files: {}", info.files.join(", "));
    Ok(())
}

/// Arguments of `infer`.
#[derive(Args, Debug)]
#[command(
    after_help = "Example:\n  analognas infer --model found --n 4\n  analognas infer --model found --profile hw_profiles/pcm_aihwkit.toml --time 1d --json"
)]
pub struct InferArgs {
    /// Model directory (from `train` or `export`).
    #[arg(long)]
    pub model: PathBuf,
    /// Data folder of the model's task.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// First test samples to run.
    #[arg(short, long, default_value_t = 8)]
    pub n: usize,
    /// Run on a simulated chip of this profile instead of digitally.
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// Time after programming for --profile (s, m, h, d, y suffixes).
    #[arg(long, default_value = "1d")]
    pub time: String,
    /// Seed of programming and read noise.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print the logits as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `infer`: logits of the first test samples, digital or analog.
pub fn run_infer(a: InferArgs) -> Result<()> {
    let device = analognas::device::default_device();
    let model = TrainedModel::load(&a.model, &device)?;
    let task = Task::for_shape(model.arch.input, model.arch.classes).ok_or_else(|| {
        Error::input(format!(
            "{}: the architecture matches no task",
            a.model.display()
        ))
    })?;
    let data = analognas::data::load(task, a.data.as_deref(), 0)?;
    let n = a.n.min(data.test.len());
    let (x, y) = data.test.gather(&(0..n).collect::<Vec<_>>());
    let logits = match &a.profile {
        None => model.digital_logits(&x, n),
        Some(p) => {
            let t = analognas::measure::parse_time(&a.time).ok_or_else(|| {
                Error::input(format!(
                    "--time: expected a time like 1s, 1h, 1d, 30d, 1y, got \"{}\"",
                    a.time
                ))
            })?;
            let profile = HwProfile::load(analognas::files::shipped_path(p))?;
            let chip = model.program(&profile, analognas::rng::derive_seed(a.seed, 1));
            chip.read(t, analognas::rng::derive_seed(a.seed, 2))
                .forward(&x, n, analognas::rng::derive_seed(a.seed, 3))
        }
    };
    if a.json {
        println!(
            "{}",
            serde_json::json!({ "logits": logits, "labels": y, "classes": model.arch.classes })
        );
        return Ok(());
    }
    let acc = analognas::train::logits_accuracy(&logits, &y, model.arch.classes);
    for (i, row) in logits.chunks(model.arch.classes).enumerate() {
        let pred = row
            .iter()
            .enumerate()
            .fold(
                (0, f32::NEG_INFINITY),
                |b, (j, &v)| if v > b.1 { (j, v) } else { b },
            )
            .0;
        println!("sample {i}: label {} predicted {pred}", y[i]);
    }
    println!("accuracy on these {n}: {acc:.1}%");
    Ok(())
}
