//! DESIGN-level figures that are cheap to check (issue 11, item 7): the paper's tile counts,
//! the README's noise statistics, and that an ideal profile is digital inference.

use analognas::hw::{
    AnalogNetwork, DepthwiseMapping, HwProfile, NetworkWeights, WeightScaling, digital_forward,
    footprint, noise_stats,
};
use analognas::nn::{Arch, Network, Reference};
use analognas::space::{ConvType, Downsample, Genome, MainBlock};
use analognas::task::Task;

fn root() -> &'static str {
    env!("CARGO_MANIFEST_DIR")
}

fn shipped(name: &str) -> HwProfile {
    HwProfile::load(format!("{}/hw_profiles/{name}.toml", root())).unwrap()
}

/// DESIGN.md 3.1: ResNet-32 for CIFAR-10 takes 43 tiles at 512x512 (the AnalogNAS paper's
/// number) and 62 at 256x256.
#[test]
fn resnet32_tile_counts() {
    let r32 = Arch::for_task(Reference::Resnet32.genome(), Task::Cifar10);
    assert_eq!(footprint(&r32, &shipped("pcm_aihwkit")).tiles, 43);
    assert_eq!(footprint(&r32, &shipped("pcm_hermes")).tiles, 62);
    // No depthwise conv in ResNet-32: nothing digital.
    assert_eq!(footprint(&r32, &shipped("pcm_aihwkit")).digital_macs, 0);
}

/// The `hw noise-stats` table of the README, as (std of the error, drift factor) per row.
fn readme_noise_stats() -> Vec<(f64, Option<f64>)> {
    let readme = std::fs::read_to_string(format!("{}/README.md", root())).unwrap();
    let section = readme
        .split("### `hw noise-stats`")
        .nth(1)
        .expect("README has a `hw noise-stats` section");
    let rows: Vec<(f64, Option<f64>)> = section
        .lines()
        .skip_while(|l| !l.starts_with("| read at"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells[3].parse().unwrap(), cells[4].parse().ok())
        })
        .collect();
    assert_eq!(rows.len(), 6, "programmed + 5 read times");
    rows
}

/// The README's `hw noise-stats --rows 256 --cols 128 --seed 1` table on pcm_aihwkit is still
/// what the model gives, within 5 %.
#[test]
fn noise_stats_match_the_readme_table() {
    let expect = readme_noise_stats();
    let got = noise_stats(&shipped("pcm_aihwkit"), 256, 128, 1);
    let mut rows = vec![(got.programmed.std, None)];
    rows.extend(got.times.iter().map(|t| (t.std, Some(t.drift_factor))));
    for (i, ((std, factor), (e_std, e_factor))) in rows.iter().zip(&expect).enumerate() {
        assert!(
            (std / e_std - 1.0).abs() < 0.05,
            "row {i}: std {std} vs README {e_std}"
        );
        if let (Some(f), Some(e)) = (factor, e_factor) {
            assert!(
                (f / e - 1.0).abs() < 0.05,
                "row {i}: drift {f} vs README {e}"
            );
        }
    }
}

/// An ideal profile (every noise, quantisation and clipping off) gives digital inference, with
/// depthwise convs digital or on tiles and with every weight scaling.
#[test]
fn ideal_profile_equals_digital_inference() {
    let mb = |r, b, ct, wf| MainBlock { r, b, ct, wf };
    let genome = Genome {
        oc0: 8,
        ks0: 3,
        blocks: vec![
            mb(1, 1, ConvType::A, 1),
            mb(1, 2, ConvType::D, 2),
            mb(1, 1, ConvType::B, 4),
        ],
        downsample: Downsample::LastTwo,
        hardware: None,
    };
    let arch = Arch::for_task(genome, Task::Digits);
    let net = Network::from_arch_seeded(&arch, &analognas::device::default_device(), 3);
    let weights = NetworkWeights::from_network(&net, &arch);
    let batch = 17;
    let x: Vec<f32> = (0..batch * 64)
        .map(|i| ((i * 37) % 17) as f32 / 8.0)
        .collect();
    let digital = digital_forward(&weights, &x, batch);
    for depthwise in [DepthwiseMapping::Digital, DepthwiseMapping::Analog] {
        for scaling in [
            WeightScaling::None,
            WeightScaling::Tile,
            WeightScaling::Column,
        ] {
            let mut p = HwProfile::ideal();
            p.tile.depthwise = depthwise;
            p.tile.weight_scaling = scaling;
            p.tile.rows = 40;
            p.tile.cols = 24;
            let chip = AnalogNetwork::program(&weights, &p, 1);
            assert_eq!(chip.tiles(), footprint(&arch, &p).tiles);
            let analog = chip.read(31_536_000.0, 2).forward(&x, batch, 3);
            let scale = digital.iter().fold(1f32, |m, v| m.max(v.abs()));
            for (a, d) in analog.iter().zip(&digital) {
                assert!(
                    (a - d).abs() <= 1e-4 * scale,
                    "{depthwise:?} {scaling:?}: {a} vs {d}"
                );
            }
        }
    }
}

/// Issue 11, item 1: the type-D network `oc0=32 ks0=3 | r1b1Dw2 r1b1Dw2` on digits (10 HWA
/// epochs on the default profile, 5 programmings) loses no more than 3 points from 1 s to 30
/// days now that its depthwise convs run digitally (12.9 points with the block-diagonal mapping
/// and GDC over all cells). Seed 0 of `analognas bench hwa --network 'oc0=32 ks0=3 | r1b1Dw2
/// r1b1Dw2' --mode weight-noise --seeds 3 --reps 5` (README: 1.55 points).
#[test]
fn depthwise_network_keeps_its_accuracy_over_a_month() {
    use analognas::bench::hwa::{HWA_TIMES, HwaMode, parse_genome};
    use analognas::rng::derive_seed;
    let profile = shipped("pcm_aihwkit");
    let data = analognas::data::load(Task::Digits, None, 0).unwrap();
    let arch = Arch::for_task(
        parse_genome("oc0=32 ks0=3 | r1b1Dw2 r1b1Dw2").unwrap(),
        Task::Digits,
    );
    let cfg = HwaMode::WeightNoise.config(&profile, 10);
    let seed = derive_seed(0, 0);
    let trained = analognas::train::train(&arch, &data, &cfg, seed).unwrap();
    let times: Vec<f64> = HWA_TIMES.iter().map(|(_, t)| *t).collect();
    let report = analognas::train::evaluate_drift(
        &trained.net,
        &arch,
        &data.test,
        &profile,
        &times,
        5,
        derive_seed(seed, 77),
    )
    .unwrap();
    let loss = report.points[0].mean - report.points[2].mean;
    assert!(loss <= 3.0, "1 s -> 30 d: {loss:.2} points");
}
