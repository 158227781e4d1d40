//! Fixtures shared by the unit tests of every module: temporary folders, the shipped spaces,
//! fake measured rows and data sets, the synthetic scoring of a run.

use crate::hw::{HwProfile, footprint};
use crate::measure::{DRIFT_TIMES, DriftPoint, Measurement};
use crate::nn::Arch;
use crate::space::{ConvType, Genome, SearchSpace};
use crate::surrogate::dataset::{Dataset, Provenance, Row, parse, to_csv};
use crate::task::Task;
use std::path::PathBuf;

/// A fresh empty temporary folder for one test (`analognas-<name>-<pid>`).
pub(crate) fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("analognas-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The repository root.
pub(crate) fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shipped default space, `search_spaces/resnet_tinyml.toml`.
pub(crate) fn tinyml_space() -> SearchSpace {
    SearchSpace::load(repo().join(crate::files::DEFAULT_SPACE)).unwrap()
}

/// The synthetic scorer with the synthetic measurer for validation: a run's scoring that
/// models no hardware and costs nothing.
pub(crate) fn synthetic_scoring(profile: &HwProfile) -> crate::pipeline::Scoring {
    crate::pipeline::Scoring::new(
        Box::new(crate::search::synthetic_scorer(profile.clone())),
        Some(Box::new(crate::evaluate::SyntheticMeasurer::new(
            profile.clone(),
        ))),
    )
}

/// A plausible measurement of `g` on digits (a deterministic function of the genome).
pub(crate) fn fake_row(g: Genome, seed: u64) -> Row {
    let arch = Arch::for_task(g, Task::Digits);
    let fp = footprint(&arch, &HwProfile::default());
    // Below 99 %, so that acc_fp (acc + 1/3) stays a percentage.
    let acc = (80.0 + (fp.params as f64).ln() + 0.1 * arch.genome.oc0 as f64).min(98.5);
    let drift: Vec<DriftPoint> = DRIFT_TIMES
        .iter()
        .enumerate()
        .map(|(i, &(_, t))| DriftPoint {
            t_seconds: t,
            mean: acc - 0.5 * i as f64,
            std: 0.1 + 0.01 * i as f64,
        })
        .collect();
    let m = Measurement {
        id: arch.genome.id(),
        acc_fp: acc + 1.0 / 3.0,
        acc_1d: drift[2].mean,
        acc_1d_std: drift[2].std,
        avm: drift[0].mean - drift[3].mean,
        drift,
        tiles: fp.tiles,
        utilisation: fp.utilisation,
        params: fp.params,
        macs: fp.macs,
        depth: arch.depth(),
        train_seconds: 1.25,
        seed,
        precision: Some(crate::measure::Precision {
            samples: 360,
            reps: 5,
            acc_1d_se: (0.1 + 0.02) / 5f64.sqrt(),
            avm_se: 0.125,
        }),
        genome: arch.genome,
    };
    Row {
        measurement: m,
        provenance: Provenance::new(
            Task::Digits,
            "resnet_tinyml",
            "pcm_aihwkit",
            "epochs=2, reps=3 \"fast\"",
        ),
    }
}

/// `n` Latin-hypercube genomes of `space`, each once (a data set holds one row per genome):
/// fewer than `n` when the sample repeats one.
pub(crate) fn distinct_lhs(space: &SearchSpace, n: usize, seed: u64) -> Vec<Genome> {
    let mut rng = crate::rng::seeded(seed);
    let mut seen = std::collections::HashSet::new();
    space
        .sample_lhs(n, &mut rng)
        .into_iter()
        .filter(|g| seen.insert(g.id()))
        .collect()
}

/// `n` Latin-hypercube genomes of the TinyML space as [`fake_row`]s (each genome once).
pub(crate) fn fake_rows(n: usize, seed: u64) -> Vec<Row> {
    distinct_lhs(&tinyml_space(), n, seed)
        .into_iter()
        .enumerate()
        .map(|(i, g)| fake_row(g, i as u64))
        .collect()
}

/// Synthetic "measurements" from a known function of the genome, with noise:
/// accuracy rises with log(params) and falls with depth, separable convs (D) cost accuracy
/// and drift more, deep nets drift more.
pub(crate) fn synthetic_dataset(n: usize, seed: u64, noise: f64) -> Dataset {
    let space = tinyml_space();
    let profile = HwProfile::default();
    let mut rng = crate::rng::seeded(seed);
    let rows: Vec<Row> = distinct_lhs(&space, n, seed)
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
            let acc = (60.0 + 3.0 * (fp.params as f64).ln() - 0.3 * depth - 2.0 * sep + noisy(1.0))
                .min(98.5);
            let avm = 1.0 + 0.15 * depth + 0.8 * sep + noisy(0.3);
            let std = (0.3 + 0.02 * fp.tiles as f64 + noisy(0.05)).max(0.0);
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
                    precision: None,
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
