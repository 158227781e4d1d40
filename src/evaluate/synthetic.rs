//! A measurer for tests and benchmarks: no training, numbers that describe no hardware.

use super::Measurer;
use crate::error::Result;
use crate::hw::HwProfile;
use crate::measure::{DRIFT_TIMES, DriftPoint, Measurement};
use crate::nn::Arch;
use crate::progress::Observer;
use crate::synthetic::synthetic_prediction;

/// [`synthetic_prediction`] plus seeded noise, with a drift curve that loses `avm` points
/// between 1 s and 30 days linearly in log time. Deterministic for a genome and seed; takes
/// `delay` per measurement (tests use it to interrupt a run mid-way).
pub struct SyntheticMeasurer {
    /// Profile for the tile count.
    pub profile: HwProfile,
    /// Time each measurement takes. Default: none.
    pub delay: std::time::Duration,
}

impl SyntheticMeasurer {
    /// A synthetic measurer counting tiles on `profile`, without delay.
    pub fn new(profile: HwProfile) -> Self {
        SyntheticMeasurer {
            profile,
            delay: std::time::Duration::ZERO,
        }
    }
}

impl Measurer for SyntheticMeasurer {
    fn measure(&self, arch: &Arch, seed: u64, _: &dyn Observer) -> Result<Measurement> {
        if !self.delay.is_zero() {
            std::thread::sleep(self.delay);
        }
        let (acc_1d, avm, std) = synthetic_prediction(arch);
        let mut rng = crate::rng::seeded(seed);
        let shift = 0.5 * f64::from(crate::rng::normal(&mut rng));
        let f = crate::hw::footprint(arch, &self.profile);
        let slope = avm / (2_592_000f64).log10();
        let at =
            |t: f64| (acc_1d + shift - slope * (t.log10() - 86_400f64.log10())).clamp(0.0, 100.0);
        let drift = DRIFT_TIMES
            .iter()
            .map(|&(_, t)| DriftPoint {
                t_seconds: t,
                mean: at(t),
                std,
            })
            .collect();
        Ok(Measurement {
            id: arch.genome.id(),
            genome: arch.genome.clone(),
            acc_fp: (at(1.0) + 1.0).min(100.0),
            drift,
            acc_1d: at(86_400.0),
            acc_1d_std: std,
            avm: at(1.0) - at(2_592_000.0),
            tiles: f.tiles,
            utilisation: f.utilisation,
            params: f.params,
            macs: f.macs,
            depth: arch.depth(),
            train_seconds: 0.0,
            seed,
            precision: None,
        })
    }

    fn describe_budget(&self) -> String {
        "synthetic".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Reference;
    use crate::progress::Silent;
    use crate::task::Task;

    #[test]
    fn synthetic_measurer_is_seeded_and_consistent() {
        let v = SyntheticMeasurer::new(HwProfile::default());
        let a = Arch::for_task(Reference::Resnet8.genome(), Task::Digits);
        let m1 = v.measure(&a, 1, &Silent).unwrap();
        assert_eq!(m1, v.measure(&a, 1, &Silent).unwrap());
        assert_ne!(m1.acc_1d, v.measure(&a, 2, &Silent).unwrap().acc_1d);
        assert_eq!(m1.drift.len(), 5);
        assert!(m1.drift[0].mean >= m1.drift[4].mean);
        assert!((m1.avm - (m1.drift[0].mean - m1.drift[3].mean)).abs() < 1e-9);
    }
}
