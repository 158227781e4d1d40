//! `analognas worker`: one array task of a cluster executor.

use analognas::error::{Error, Result};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `worker`.
#[derive(Args, Debug)]
#[command(
    after_help = "Run by the batch script of a job directory (job.sbatch), not by hand:\n  analognas worker --job results/run-0/slurm/0123456789abcdef --index $SLURM_ARRAY_TASK_ID"
)]
pub struct WorkerArgs {
    /// Job directory written by the driver (holds manifest.json).
    #[arg(long)]
    pub job: PathBuf,
    /// Index of the measurement in the manifest (the array task id).
    #[arg(long)]
    pub index: usize,
}

/// Runs `worker`: measures one index and writes its result file. Exits 1 when the measurement
/// failed (the failure is recorded in the result file), 2 when no result could be written.
pub fn run(a: WorkerArgs) -> Result<()> {
    let binary = std::env::current_exe()
        .map_err(|e| Error::input(format!("cannot find the analognas binary: {e}")))?;
    let bars = super::progress::Bars::new();
    let o = analognas::evaluate::run_worker(&a.job, a.index, &binary, &bars)?;
    match o.measured {
        Ok(()) => {
            println!("measured {} -> {}", o.id, o.path.display());
            Ok(())
        }
        Err(e) => {
            eprintln!("analognas: {}: measurement failed: {e}", o.id);
            println!("recorded the failure of {} in {}", o.id, o.path.display());
            std::process::exit(1);
        }
    }
}
