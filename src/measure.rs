//! What measuring an architecture produces (DESIGN.md 4): the record shared by training,
//! the surrogate's data sets, the search's validation and the reports.

use crate::space::Genome;
use serde::{Deserialize, Serialize};

/// The drift times of an evaluation, in seconds after programming, with their labels.
pub const DRIFT_TIMES: [(&str, f64); 5] = [
    ("1s", 1.0),
    ("1h", 3600.0),
    ("1d", 86_400.0),
    ("30d", 2_592_000.0),
    ("1y", 31_536_000.0),
];

/// Parses a time like `1s`, `1h`, `1d`, `30d`, `1y`, `250ms` or a plain number of seconds.
pub fn parse_time(s: &str) -> Option<f64> {
    let s = s.trim();
    let (num, mult) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = s.strip_suffix('h') {
        (n, 3600.0)
    } else if let Some(n) = s.strip_suffix('d') {
        (n, 86_400.0)
    } else if let Some(n) = s.strip_suffix('y') {
        (n, 31_536_000.0)
    } else {
        (s, 1.0)
    };
    let v: f64 = num.trim().parse().ok()?;
    (v >= 0.0 && v.is_finite()).then_some(v * mult)
}

/// A short label for `t` seconds (`1s`, `1h`, `1d`, `30d`, `1y`, or seconds).
pub fn time_label(t: f64) -> String {
    for (label, secs) in DRIFT_TIMES {
        if (t - secs).abs() < 1e-9 {
            return label.to_string();
        }
    }
    if t == 0.0 {
        "0s".into()
    } else {
        format!("{t}s")
    }
}

/// Test accuracy at one time after programming, over repetitions (fresh programming each).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriftPoint {
    /// Seconds after programming.
    pub t_seconds: f64,
    /// Mean test accuracy in percent.
    pub mean: f64,
    /// Standard deviation of the test accuracy over repetitions, in percent points.
    pub std: f64,
}

/// The full measurement of one architecture on a task and hardware profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// Short id of the genome.
    pub id: String,
    /// The genome measured.
    pub genome: Genome,
    /// Digital test accuracy in percent.
    pub acc_fp: f64,
    /// Accuracy at each drift time.
    pub drift: Vec<DriftPoint>,
    /// Mean accuracy at 1 day, percent.
    pub acc_1d: f64,
    /// Std of the accuracy at 1 day over repetitions, percent points.
    pub acc_1d_std: f64,
    /// Accuracy variation over a month: acc(1 s) - acc(30 days), percent points.
    pub avm: f64,
    /// Tiles on the profile.
    pub tiles: usize,
    /// Tile utilisation.
    pub utilisation: f64,
    /// Trainable parameters.
    pub params: usize,
    /// Multiply-accumulates per input.
    pub macs: usize,
    /// Depth in analog layers.
    pub depth: usize,
    /// Seconds spent training.
    pub train_seconds: f64,
    /// Seed of the measurement.
    pub seed: u64,
    /// How precise the drift means are: test samples, programmings and standard errors.
    /// Absent in rows measured before analognas recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<Precision>,
}

/// The precision of a measurement's drift means: how many test samples and programmings they
/// average over, and the standard errors that follow.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Precision {
    /// Test samples of each accuracy.
    pub samples: usize,
    /// Programmings (fresh programming each) averaged at every time.
    pub reps: usize,
    /// Standard error of the mean 1-day accuracy over programmings, percent points
    /// (`acc_1d_std / sqrt(reps)`).
    pub acc_1d_se: f64,
    /// Standard error of the AVM over programmings, percent points: the spread of the paired
    /// per-programming differences acc(1 s) - acc(30 d), divided by `sqrt(reps)`.
    pub avm_se: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_and_label() {
        assert_eq!(parse_time("1d"), Some(86_400.0));
        assert_eq!(parse_time("30d"), Some(2_592_000.0));
        assert_eq!(parse_time("250ms"), Some(0.25));
        assert_eq!(parse_time("7"), Some(7.0));
        assert_eq!(parse_time("x"), None);
        assert_eq!(parse_time("-1s"), None);
        assert_eq!(time_label(3600.0), "1h");
    }
}
