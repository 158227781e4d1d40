//! Drift evaluation (DESIGN.md 4): program a trained network on a hardware profile and measure
//! its test accuracy at times after programming, with fresh programming per repetition.

use super::{TrainConfig, accuracy, train};
use crate::data::{Dataset, TaskData};
use crate::error::Result;
use crate::hw::{AnalogNetwork, HwProfile, NetworkWeights, footprint};
use crate::measure::{DRIFT_TIMES, DriftPoint, Measurement, Precision};
use crate::nn::{Arch, Network};
use crate::rng::derive_seed;
use serde::{Deserialize, Serialize};

/// Accuracy versus time after programming.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    /// Digital test accuracy in percent.
    pub acc_fp: f64,
    /// Mean and std of the test accuracy at each time.
    pub points: Vec<DriftPoint>,
    /// acc(1 s) - acc(30 days) in points, when both times were evaluated.
    pub avm: Option<f64>,
    /// Standard error of `avm` over programmings: the sample std of the paired
    /// per-programming differences divided by `sqrt(reps)` (0 for one programming).
    #[serde(default)]
    pub avm_se: Option<f64>,
    /// Repetitions per time (each a fresh programming).
    pub reps: usize,
    /// Test samples.
    pub samples: usize,
}

impl DriftReport {
    /// The point at `t` seconds, if evaluated.
    pub fn at(&self, t: f64) -> Option<&DriftPoint> {
        self.points.iter().find(|p| (p.t_seconds - t).abs() < 1e-9)
    }
}

/// Fraction (percent) of rows of `logits` whose argmax equals the label.
pub fn logits_accuracy(logits: &[f32], labels: &[u32], classes: usize) -> f64 {
    if labels.is_empty() {
        return 0.0;
    }
    let correct = logits
        .chunks(classes)
        .zip(labels)
        .filter(|(row, y)| {
            let best = row
                .iter()
                .enumerate()
                .fold((0usize, f32::NEG_INFINITY), |b, (i, &v)| {
                    if v > b.1 { (i, v) } else { b }
                });
            best.0 == **y as usize
        })
        .count();
    100.0 * correct as f64 / labels.len() as f64
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 {
        v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var.sqrt())
}

/// Programs `net` on `profile` (with the genome's hardware genes applied,
/// [`HwProfile::for_arch`]) `reps` times and evaluates test accuracy at each of `times`
/// (seconds after programming). Deterministic for a seed.
pub fn evaluate_drift(
    net: &Network,
    arch: &Arch,
    test: &Dataset,
    profile: &HwProfile,
    times: &[f64],
    reps: usize,
    seed: u64,
) -> Result<DriftReport> {
    let profile = &*profile.for_arch(arch);
    let device = crate::device::default_device();
    let acc_fp = accuracy(net, test, &device);
    let weights = NetworkWeights::from_network(net, arch);
    let reps = reps.max(1);
    let mut acc = vec![Vec::with_capacity(reps); times.len()];
    for rep in 0..reps {
        let rep_seed = derive_seed(seed, 1000 + rep as u64);
        let chip = AnalogNetwork::program(&weights, profile, derive_seed(rep_seed, 0));
        for (ti, &t) in times.iter().enumerate() {
            let readout = chip.read(t, derive_seed(rep_seed, 1 + ti as u64));
            let logits =
                readout.forward(&test.x, test.len(), derive_seed(rep_seed, 100 + ti as u64));
            acc[ti].push(logits_accuracy(&logits, &test.y, arch.classes));
        }
    }
    let points: Vec<DriftPoint> = times
        .iter()
        .zip(&acc)
        .map(|(&t, a)| {
            let (mean, std) = mean_std(a);
            DriftPoint {
                t_seconds: t,
                mean,
                std,
            }
        })
        .collect();
    let find = |t: f64| {
        points
            .iter()
            .find(|p| (p.t_seconds - t).abs() < 1e-9)
            .map(|p| p.mean)
    };
    let avm = match (find(1.0), find(DRIFT_TIMES[3].1)) {
        (Some(a), Some(b)) => Some(a - b),
        _ => None,
    };
    // Each programming is read at every time, so acc(1 s) and acc(30 d) are paired.
    let index = |t: f64| times.iter().position(|&x| (x - t).abs() < 1e-9);
    let avm_se = match (index(1.0), index(DRIFT_TIMES[3].1)) {
        (Some(a), Some(b)) => {
            let diffs: Vec<f64> = acc[a].iter().zip(&acc[b]).map(|(x, y)| x - y).collect();
            Some(mean_std(&diffs).1 / (reps as f64).sqrt())
        }
        _ => None,
    };
    Ok(DriftReport {
        acc_fp,
        points,
        avm,
        avm_se,
        reps,
        samples: test.len(),
    })
}

/// Settings of the measured path.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeasureConfig {
    /// Training settings (hardware-aware noise included).
    pub train: TrainConfig,
    /// Repetitions of the drift evaluation.
    pub reps: usize,
}

/// The measured path of one architecture: hardware-aware training, then drift evaluation at
/// 1 s, 1 h, 1 day, 30 days and 1 year.
pub fn measure(
    arch: &Arch,
    data: &TaskData,
    profile: &HwProfile,
    cfg: &MeasureConfig,
    seed: u64,
) -> Result<Measurement> {
    let trained = train(arch, data, &cfg.train, derive_seed(seed, 10))?;
    let times: Vec<f64> = DRIFT_TIMES.iter().map(|(_, t)| *t).collect();
    let report = evaluate_drift(
        &trained.net,
        arch,
        &data.test,
        profile,
        &times,
        cfg.reps,
        derive_seed(seed, 11),
    )?;
    Ok(measurement_of(
        arch,
        profile,
        &trained.net,
        trained.train_seconds,
        &report,
        seed,
    ))
}

/// Assembles a [`Measurement`] from a drift report.
pub fn measurement_of(
    arch: &Arch,
    profile: &HwProfile,
    _net: &Network,
    train_seconds: f64,
    report: &DriftReport,
    seed: u64,
) -> Measurement {
    let fp = footprint(arch, profile);
    let day = report.at(DRIFT_TIMES[2].1).cloned().unwrap_or(DriftPoint {
        t_seconds: DRIFT_TIMES[2].1,
        mean: 0.0,
        std: 0.0,
    });
    Measurement {
        id: arch.genome.id(),
        genome: arch.genome.clone(),
        acc_fp: report.acc_fp,
        drift: report.points.clone(),
        acc_1d: day.mean,
        acc_1d_std: day.std,
        avm: report.avm.unwrap_or(0.0),
        tiles: fp.tiles,
        utilisation: fp.utilisation,
        params: fp.params,
        macs: fp.macs,
        depth: arch.depth(),
        train_seconds,
        seed,
        precision: Some(Precision {
            samples: report.samples,
            reps: report.reps,
            acc_1d_se: day.std / (report.reps.max(1) as f64).sqrt(),
            avm_se: report.avm_se.unwrap_or(0.0),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logits_accuracy_counts_argmax() {
        let logits = [0.1, 0.9, 0.8, 0.2, 0.3, 0.7];
        assert_eq!(logits_accuracy(&logits, &[1, 0, 0], 2), 200.0 / 3.0);
        let (m, s) = mean_std(&[1.0, 3.0]);
        assert_eq!(m, 2.0);
        assert!((s - 2f64.sqrt()).abs() < 1e-12);
    }
}
