//! `analognas footprint`

use analognas::error::{Error, Result};
use analognas::hw::{HwProfile, footprint};
use analognas::nn::{Arch, Reference};
use analognas::task::Task;
use clap::Args;
use std::path::PathBuf;

/// Arguments of `footprint`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  analognas footprint --reference resnet32 --profile hw_profiles/pcm_aihwkit.toml --task cifar10\n  analognas footprint --arch genome.json --profile hw_profiles/pcm_hermes.toml --json"
)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["arch", "reference"])))]
pub struct FootprintArgs {
    /// Genome or architecture JSON file.
    #[arg(long)]
    pub arch: Option<PathBuf>,
    /// A built-in reference network.
    #[arg(long, value_parser = super::choice::<Reference>())]
    pub reference: Option<Reference>,
    /// Hardware profile.
    #[arg(long, default_value = "hw_profiles/pcm_aihwkit.toml")]
    pub profile: PathBuf,
    /// Task that fixes the input shape and classes (reference networks default to cifar10).
    #[arg(long, value_parser = super::choice::<Task>())]
    pub task: Option<Task>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `footprint`.
pub fn run(a: FootprintArgs) -> Result<()> {
    let profile = HwProfile::load(analognas::files::shipped_path(&a.profile))?;
    let arch = match (&a.arch, a.reference) {
        (Some(path), _) => Arch::load(path, a.task.unwrap_or(Task::Digits))?,
        (None, Some(r)) => Arch::for_task(r.genome(), a.task.unwrap_or(Task::Cifar10)),
        (None, None) => {
            return Err(Error::input(
                "footprint: expected --arch FILE or --reference NAME",
            ));
        }
    };
    let f = footprint(&arch, &profile);
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&f).expect("footprint serializes")
        );
        return Ok(());
    }
    println!(
        "{} on {} ({}x{} tiles), input {:?}, {} classes",
        arch.genome.summary(),
        profile.name,
        profile.tile.rows,
        profile.tile.cols,
        arch.input,
        arch.classes
    );
    println!(
        "{:<24} {:>7} {:>7} {:>6} {:>8}",
        "layer", "rows", "cols", "tiles", "util"
    );
    for l in &f.layers {
        let util = if l.digital {
            "digital".to_string()
        } else {
            format!("{:.1}%", 100.0 * l.utilisation)
        };
        println!(
            "{:<24} {:>7} {:>7} {:>6} {:>8}",
            l.name, l.rows, l.cols, l.tiles, util
        );
    }
    println!(
        "total: {} tiles, utilisation {:.1}%, {} layers, {} params, {} MACs",
        f.tiles,
        100.0 * f.utilisation,
        f.layers.len(),
        f.params,
        f.macs
    );
    Ok(())
}
