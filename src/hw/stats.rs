//! Weight-error statistics of the PCM model over time (`analognas hw noise-stats`).

use super::HwProfile;
use super::analog::AnalogMatrix;
use crate::rng::{derive_seed, normal, seeded};
use serde::{Deserialize, Serialize};

/// The read times of [`noise_stats`]: 0 s, 1 h, 1 day, 30 days and 1 year after programming.
pub const NOISE_STATS_TIMES: [f64; 5] = [0.0, 3600.0, 86_400.0, 2_592_000.0, 31_536_000.0];

/// Mean and standard deviation of the weight error `(W_read - W) / max|W|`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorStats {
    /// Mean of the relative error.
    pub mean: f64,
    /// Standard deviation of the relative error.
    pub std: f64,
}

/// The error at one read time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimeStats {
    /// Seconds after programming.
    pub t_seconds: f64,
    /// Mean of `(W_read - W) / max|W|` (no drift compensation).
    pub mean: f64,
    /// Standard deviation of `(W_read - W) / max|W|`.
    pub std: f64,
    /// Least-squares slope of `W_read` on `W`.
    pub drift_factor: f64,
}

/// What `hw noise-stats` reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoiseStats {
    /// Error of the programmed weights (programming noise only).
    pub programmed: ErrorStats,
    /// Error at each read time.
    pub times: Vec<TimeStats>,
}

fn error_stats(read: &[f32], w: &[f32], amax: f64) -> ErrorStats {
    let n = w.len() as f64;
    let errs = || read.iter().zip(w).map(|(&r, &t)| (r - t) as f64 / amax);
    let mean = errs().sum::<f64>() / n;
    let var = errs().map(|e| (e - mean).powi(2)).sum::<f64>() / n;
    ErrorStats {
        mean,
        std: var.sqrt(),
    }
}

/// Least-squares slope of `y` on `x`.
pub fn slope(x: &[f32], y: &[f32]) -> f64 {
    let n = x.len() as f64;
    let mx = x.iter().map(|&v| v as f64).sum::<f64>() / n;
    let my = y.iter().map(|&v| v as f64).sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (&a, &b) in x.iter().zip(y) {
        sxy += (a as f64 - mx) * (b as f64 - my);
        sxx += (a as f64 - mx).powi(2);
    }
    if sxx > 0.0 { sxy / sxx } else { 0.0 }
}

/// Draws W from N(0,1) with `rows` inputs and `cols` outputs, scales it to max|W| = 1, programs
/// it on the profile's tiles, reads it at each of [`NOISE_STATS_TIMES`] and reports the error
/// statistics (no drift compensation). `seed` fixes the matrix, the programming and the reads.
///
/// # Panics
/// Panics when `rows` or `cols` is 0.
pub fn noise_stats(profile: &HwProfile, rows: usize, cols: usize, seed: u64) -> NoiseStats {
    assert!(rows > 0 && cols > 0, "the matrix needs rows and columns");
    let mut rng = seeded(derive_seed(seed, 0));
    let mut w: Vec<f32> = (0..rows * cols).map(|_| normal(&mut rng)).collect();
    let amax = w.iter().fold(0f32, |a, v| a.max(v.abs()));
    w.iter_mut().for_each(|v| *v /= amax);
    let matrix = AnalogMatrix::program(&w, rows, cols, profile, &mut seeded(derive_seed(seed, 1)));
    let programmed = error_stats(&matrix.programmed_weights(), &w, 1.0);
    let times = NOISE_STATS_TIMES
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            let read = matrix
                .read(t, &mut seeded(derive_seed(seed, 2 + i as u64)))
                .weights();
            let e = error_stats(&read, &w, 1.0);
            TimeStats {
                t_seconds: t,
                mean: e.mean,
                std: e.std,
                drift_factor: slope(&w, &read),
            }
        })
        .collect();
    NoiseStats { programmed, times }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn std_grows_and_drift_factor_falls_with_time() {
        let s = noise_stats(&HwProfile::default(), 256, 128, 1);
        assert_eq!(s.times.len(), 5);
        assert!(
            s.programmed.std > 0.005 && s.programmed.std < 0.1,
            "{:?}",
            s.programmed
        );
        for pair in s.times.windows(2) {
            assert!(pair[1].std > pair[0].std, "{pair:?}");
            assert!(pair[1].drift_factor < pair[0].drift_factor, "{pair:?}");
        }
        assert!(s.times[0].drift_factor > 0.9 && s.times[0].drift_factor < 1.05);
        assert!(s.times[4].drift_factor < 0.6);
        assert_eq!(s, noise_stats(&HwProfile::default(), 256, 128, 1));
    }

    #[test]
    fn slope_of_a_line() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let y = [2.5, 4.5, 6.5, 8.5];
        assert!((slope(&x, &y) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn ideal_profile_has_no_error() {
        let s = noise_stats(&HwProfile::ideal(), 30, 20, 2);
        assert!(s.programmed.std < 1e-6);
        for t in &s.times {
            assert!(t.std < 1e-6 && (t.drift_factor - 1.0).abs() < 1e-5, "{t:?}");
        }
    }
}
