//! `analognas footprint`

use analognas::error::{Error, Result};
use analognas::hw::{Cost, Footprint, HwProfile, cost, footprint};
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
    let c = cost(&arch, &profile);
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&JsonOut::new(&f, &c, &arch))
                .expect("footprint serializes")
        );
        return Ok(());
    }
    // The chip the genome's hardware genes describe, if it has any.
    let chip = profile.for_arch(&arch);
    println!(
        "{} on {} ({}x{} tiles{}), input {:?}, {} classes",
        arch.genome.summary(),
        profile.name,
        chip.tile.rows,
        chip.tile.cols,
        if arch.genome.hardware.is_some() {
            ", with the genome's hardware genes"
        } else {
            ""
        },
        arch.input,
        arch.classes
    );
    println!(
        "{:<24} {:>7} {:>7} {:>6} {:>8} {:>10}",
        "layer", "rows", "cols", "tiles", "util", "MACs"
    );
    for l in &f.layers {
        let util = if l.digital {
            "digital".to_string()
        } else {
            format!("{:.1}%", 100.0 * l.utilisation)
        };
        println!(
            "{:<24} {:>7} {:>7} {:>6} {:>8} {:>10}",
            l.name, l.rows, l.cols, l.tiles, util, l.macs
        );
    }
    println!(
        "total: {} tiles, utilisation {:.1}%, {} layers, {} params, {} MACs ({} digital)",
        f.tiles,
        100.0 * f.utilisation,
        f.layers.len(),
        f.params,
        f.macs,
        f.digital_macs
    );
    print_cost(&c);
    Ok(())
}

/// `footprint --json`: the footprint's fields, then the cost model's.
#[derive(serde::Serialize)]
struct JsonOut<'a> {
    /// The genome's hardware genes, when it has any (the footprint and cost are on the chip
    /// they describe).
    #[serde(skip_serializing_if = "Option::is_none")]
    hardware: Option<analognas::space::HwGenes>,
    #[serde(flatten)]
    footprint: &'a Footprint,
    energy_nj: f64,
    latency_us: analognas::hw::Latency,
    area_mm2: f64,
    inferences_per_s: f64,
    inferences_per_s_per_w: f64,
    cost: &'a Cost,
}

impl<'a> JsonOut<'a> {
    fn new(footprint: &'a Footprint, c: &'a Cost, arch: &Arch) -> Self {
        JsonOut {
            hardware: arch.genome.hardware,
            footprint,
            energy_nj: c.energy_nj,
            latency_us: c.latency_us,
            area_mm2: c.area_mm2,
            inferences_per_s: c.inferences_per_s,
            inferences_per_s_per_w: c.inferences_per_s_per_w,
            cost: c,
        }
    }
}

fn print_cost(c: &Cost) {
    println!();
    println!(
        "{:<24} {:>8} {:>9} {:>10} {:>10} {:>11} {:>10} {:>10}",
        "layer", "kind", "MVMs", "DAC conv", "ADC conv", "digital ops", "energy nJ", "time us"
    );
    for l in &c.layers {
        println!(
            "{:<24} {:>8} {:>9} {:>10} {:>10} {:>11} {:>10.2} {:>10.3}",
            l.name,
            l.kind,
            l.mvms,
            l.dac_conversions,
            l.adc_conversions,
            l.digital_adds + l.digital_muls,
            l.energy_nj,
            l.latency_us
        );
    }
    let e = &c.energy_split_nj;
    println!(
        "energy: {:.1} nJ per inference (array {:.1}, DAC {:.1}, ADC {:.1}, digital {:.1}, SRAM {:.1}; {}-bit DAC, {}-bit ADC), {:.0} inferences/s/W",
        c.energy_nj,
        e.array,
        e.dac,
        e.adc,
        e.digital,
        e.sram,
        c.dac_bits,
        c.adc_bits,
        c.inferences_per_s_per_w
    );
    println!(
        "latency: {:.2} us sequential, {:.2} us per inference pipelined ({:.0} inferences/s); area {:.2} mm2",
        c.latency_us.sequential, c.latency_us.pipelined, c.inferences_per_s, c.area_mm2
    );
}
