//! `analognas hw ...`: inspect the analog chip model.

use analognas::error::{Error, Result};
use analognas::hw::{HwProfile, noise_stats, tile_slots};
use analognas::measure::time_label;
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// Hardware-model subcommands.
#[derive(Subcommand, Debug)]
pub enum HwCommand {
    /// Weight error of the PCM model over time: program a random matrix, read it at
    /// 0 s, 1 h, 1 day, 30 days and 1 year, report (W_read - W)/max|W| and the drift factor.
    #[command(
        after_help = "Example:\n  analognas hw noise-stats --profile hw_profiles/pcm_aihwkit.toml --rows 256 --cols 128 --seed 1\n  analognas hw noise-stats --profile hw_profiles/pcm_hermes.toml --rows 512 --cols 512 --seed 2 --json"
    )]
    NoiseStats(NoiseStatsArgs),
}

/// Arguments of `hw noise-stats`.
#[derive(Args, Debug)]
pub struct NoiseStatsArgs {
    /// Hardware profile.
    #[arg(long, default_value = "hw_profiles/pcm_aihwkit.toml")]
    pub profile: PathBuf,
    /// Rows (inputs) of the random matrix.
    #[arg(long, default_value_t = 256)]
    pub rows: usize,
    /// Columns (outputs) of the random matrix.
    #[arg(long, default_value_t = 128)]
    pub cols: usize,
    /// Random seed (matrix, programming and reads).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs a hw subcommand.
pub fn run(cmd: HwCommand) -> Result<()> {
    match cmd {
        HwCommand::NoiseStats(a) => noise_stats_cmd(a),
    }
}

fn noise_stats_cmd(a: NoiseStatsArgs) -> Result<()> {
    for (flag, v) in [("--rows", a.rows), ("--cols", a.cols)] {
        if v == 0 {
            return Err(Error::input(format!(
                "{flag}: expected an integer >= 1, got 0"
            )));
        }
    }
    if a.rows.saturating_mul(a.cols) > 1 << 26 {
        return Err(Error::input(format!(
            "--rows x --cols: expected at most 67108864 weights, got {}",
            a.rows.saturating_mul(a.cols)
        )));
    }
    let profile = HwProfile::load(analognas::files::shipped_path(&a.profile))?;
    let stats = noise_stats(&profile, a.rows, a.cols, a.seed);
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&stats).expect("stats serialize")
        );
        return Ok(());
    }
    println!(
        "noise-stats on {}: W {} x {} ~ N(0,1) scaled to max|W| = 1 on {} tile(s), seed {}",
        profile.name,
        a.rows,
        a.cols,
        tile_slots(a.rows, a.cols, &profile).len(),
        a.seed
    );
    println!(
        "{:<12} {:>12} {:>12} {:>13}",
        "read at", "mean err", "std err", "drift factor"
    );
    println!(
        "{:<12} {:>12.6} {:>12.6} {:>13}",
        "programmed", stats.programmed.mean, stats.programmed.std, "-"
    );
    for t in &stats.times {
        println!(
            "{:<12} {:>12.6} {:>12.6} {:>13.4}",
            time_label(t.t_seconds),
            t.mean,
            t.std,
            t.drift_factor
        );
    }
    println!(
        "err = (W_read - W) / max|W| without drift compensation; drift factor = least-squares slope of W_read on W"
    );
    Ok(())
}
