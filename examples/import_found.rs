//! Import a network found by `analognas search` (exported with `analognas export`) into your
//! own program: load it as a burn model, run it digitally, then program it onto a simulated PCM
//! chip and run it one day later.
//!
//! ```sh
//! cargo run --release --example import_found -- results/example/export
//! ```

use analognas::data;
use analognas::hw::HwProfile;
use analognas::model::TrainedModel;
use analognas::task::Task;
use analognas::train::logits_accuracy;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| "results/example/export".into());
    match run(&dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("import_found: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(dir: &std::path::Path) -> analognas::Result<()> {
    // Any burn device works; flex is the fast CPU backend.
    let device = analognas::device::default_device();
    let model = TrainedModel::load(dir, &device)?;
    println!(
        "loaded {} ({}) from {}",
        model.arch.genome.id(),
        model.arch.genome.summary(),
        dir.display()
    );

    let test = data::load(Task::Digits, None, 0)?.test;
    let classes = model.arch.classes;

    // Digital inference with burn.
    let digital = model.digital_logits(&test.x, test.len());
    println!(
        "digital accuracy:           {:.2}%",
        logits_accuracy(&digital, &test.y, classes)
    );

    // Analog inference: program once, read one day later (drift, read noise, DAC/ADC, GDC).
    let profile = HwProfile::load(analognas::files::shipped_path(
        "hw_profiles/pcm_aihwkit.toml",
    ))?;
    let chip = model.program(&profile, 1);
    let logits = chip.read(86_400.0, 2).forward(&test.x, test.len(), 3);
    println!(
        "accuracy 1 day after programming on {}: {:.2}%",
        profile.name,
        logits_accuracy(&logits, &test.y, classes)
    );
    Ok(())
}
