//! Test helpers shared by the surrogate's unit tests.

use super::dataset::{Dataset, Provenance, Row, parse, to_csv};
use crate::hw::{HwProfile, footprint};
use crate::measure::{DRIFT_TIMES, DriftPoint, Measurement};
use crate::nn::Arch;
use crate::space::{ConvType, SearchSpace};
use crate::task::Task;

/// Synthetic "measurements" from a known function of the genome, with noise:
/// accuracy rises with log(params) and falls with depth, separable convs (D) cost accuracy
/// and drift more, deep nets drift more.
pub(crate) fn synthetic(n: usize, seed: u64, noise: f64) -> Dataset {
    let space = SearchSpace::load(format!(
        "{}/search_spaces/resnet_tinyml.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let profile = HwProfile::default();
    let mut rng = crate::rng::seeded(seed);
    let rows: Vec<Row> = space
        .sample_lhs(n, &mut rng)
        .into_iter()
        .map(|g| {
            let arch = Arch::for_task(g, Task::Digits);
            let fp = footprint(&arch, &profile);
            let sep = arch
                .genome
                .blocks
                .iter()
                .filter(|b| b.ct == ConvType::D)
                .count() as f64;
            let depth = arch.depth() as f64;
            let mut noisy = |s: f64| s * noise * crate::rng::normal(&mut rng) as f64;
            let acc = 60.0 + 3.0 * (fp.params as f64).ln() - 0.3 * depth - 2.0 * sep + noisy(1.0);
            let avm = 1.0 + 0.15 * depth + 0.8 * sep + noisy(0.3);
            let std = 0.3 + 0.02 * fp.tiles as f64 + noisy(0.05);
            let drift: Vec<DriftPoint> = DRIFT_TIMES
                .iter()
                .map(|&(label, t)| DriftPoint {
                    t_seconds: t,
                    mean: if label == "1d" { acc } else { acc + 0.1 },
                    std,
                })
                .collect();
            Row {
                measurement: Measurement {
                    id: arch.genome.id(),
                    acc_fp: acc + 1.0,
                    acc_1d: acc,
                    acc_1d_std: std,
                    avm,
                    drift,
                    tiles: fp.tiles,
                    utilisation: fp.utilisation,
                    params: fp.params,
                    macs: fp.macs,
                    depth: arch.depth(),
                    train_seconds: 1.0,
                    seed: 0,
                    genome: arch.genome,
                },
                provenance: Provenance::new(
                    Task::Digits,
                    "resnet_tinyml",
                    profile.name.clone(),
                    "synthetic",
                ),
            }
        })
        .collect();
    parse("synthetic.csv", &to_csv(&rows)).unwrap()
}
