//! `bench hwa`: what hardware-aware training through the periphery buys (DESIGN.md 3.4).
//!
//! Each network is trained on `digits` with several seeds in three modes: digital (no noise),
//! weight noise only (the profile's `weight_noise`, periphery switches off) and weight noise
//! plus the whole training periphery (abs-max noise management, DAC, output noise, ADC). Each
//! trained model is programmed `reps` times on the profile and read at 1 s, 1 day, 30 days and
//! 1 year; a seed's accuracy at a time is the mean over its programmings, and the table gives
//! the mean over seeds with a 95 % t-interval (seeds - 1 degrees of freedom).

use crate::data::TaskData;
use crate::error::{Error, Result};
use crate::hw::HwProfile;
use crate::nn::{Arch, Reference};
use crate::rng::derive_seed;
use crate::space::{ConvType, Downsample, Genome, MainBlock};
use crate::task::Task;
use crate::train::{Budget, TrainConfig, evaluate_drift, train};
use serde::{Deserialize, Serialize};

/// The read times of the table: 1 s, 1 day, 30 days, 1 year.
pub const HWA_TIMES: [(&str, f64); 4] = [
    ("1 s", 1.0),
    ("1 d", 86_400.0),
    ("30 d", 2_592_000.0),
    ("1 y", 31_536_000.0),
];

/// A training mode compared by the benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HwaMode {
    /// No noise in training.
    Digital,
    /// Weight noise only.
    WeightNoise,
    /// Weight noise and the training periphery.
    Periphery,
}

impl HwaMode {
    /// The three modes in table order.
    pub const ALL: [HwaMode; 3] = [HwaMode::Digital, HwaMode::WeightNoise, HwaMode::Periphery];

    /// Name in the table.
    pub fn name(self) -> &'static str {
        match self {
            HwaMode::Digital => "digital",
            HwaMode::WeightNoise => "weight noise",
            HwaMode::Periphery => "w.noise+periphery",
        }
    }

    /// The training configuration of this mode on `profile`.
    pub fn config(self, profile: &HwProfile, epochs: usize) -> TrainConfig {
        let mut p = profile.clone();
        let on = self == HwaMode::Periphery;
        p.training.forward_noise_management = on;
        p.training.forward_dac = on;
        p.training.forward_out_noise = on;
        p.training.forward_adc = on;
        let mut cfg = TrainConfig::hardware_aware(&p);
        if self == HwaMode::Digital {
            cfg.hwa_noise = 0.0;
            cfg.forward_periphery = None;
        }
        cfg.budget = Budget::Epochs(epochs);
        cfg
    }
}

/// Settings of the benchmark.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HwaBenchConfig {
    /// Networks (genome summaries, e.g. `oc0=48 ks0=5 | r1b1Cw1 r1b1Cw3`, or `resnet8`).
    pub networks: Vec<String>,
    /// Modes to train.
    pub modes: Vec<HwaMode>,
    /// Training seeds per network and mode.
    pub seeds: usize,
    /// Training epochs.
    pub epochs: usize,
    /// Programmings per trained model.
    pub reps: usize,
}

impl Default for HwaBenchConfig {
    fn default() -> Self {
        HwaBenchConfig {
            networks: vec![
                "resnet8".into(),
                "oc0=48 ks0=5 | r1b1Cw1 r1b1Cw3".into(),
                "oc0=16 ks0=3 | r1b1Aw2 r1b1Bw4".into(),
            ],
            modes: HwaMode::ALL.to_vec(),
            seeds: 5,
            epochs: 10,
            reps: 3,
        }
    }
}

/// One cell group of the table: a network and mode over seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HwaRow {
    /// Genome summary.
    pub network: String,
    /// Training mode.
    pub mode: HwaMode,
    /// Digital test accuracy per seed.
    pub acc_fp: Vec<f64>,
    /// Per read time (as [`HWA_TIMES`]): the accuracy of each seed (mean over programmings).
    pub acc: Vec<Vec<f64>>,
}

/// Parses a genome summary (`oc0=32 ks0=3 | r1b1Dw2 r1b1Dw2`, the form of
/// [`Genome::summary`]) with the default downsampling (`last_two`), or a reference name.
pub fn parse_genome(s: &str) -> Result<Genome> {
    let bad = || {
        Error::input(format!(
            "network {s:?}: expected a reference name or `oc0=N ks0=K | rRbBTwW ...` (T in A-D)"
        ))
    };
    if let Some(r) = Reference::ALL.iter().find(|r| r.name() == s.trim()) {
        return Ok(r.genome());
    }
    let (head, tail) = s.split_once('|').ok_or_else(bad)?;
    let mut oc0 = None;
    let mut ks0 = None;
    for tok in head.split_whitespace() {
        match tok.split_once('=') {
            Some(("oc0", v)) => oc0 = v.parse().ok(),
            Some(("ks0", v)) => ks0 = v.parse().ok(),
            _ => return Err(bad()),
        }
    }
    let mut blocks = Vec::new();
    for tok in tail.split_whitespace() {
        let t = tok.strip_prefix('r').ok_or_else(bad)?;
        let (r, t) = t.split_once('b').ok_or_else(bad)?;
        let pos = t.find(|c: char| c.is_ascii_alphabetic()).ok_or_else(bad)?;
        let (b, t) = t.split_at(pos);
        let (ct, wf) = t.split_at(1);
        let wf = wf.strip_prefix('w').ok_or_else(bad)?;
        blocks.push(MainBlock {
            r: r.parse().map_err(|_| bad())?,
            b: b.parse().map_err(|_| bad())?,
            ct: ConvType::parse(ct).ok_or_else(bad)?,
            wf: wf.parse().map_err(|_| bad())?,
        });
    }
    if blocks.is_empty() {
        return Err(bad());
    }
    Ok(Genome {
        oc0: oc0.ok_or_else(bad)?,
        ks0: ks0.ok_or_else(bad)?,
        blocks,
        downsample: Downsample::LastTwo,
        hardware: None,
    })
}

/// Two-sided 95 % quantile of Student's t with `df` degrees of freedom.
pub fn t95(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => T[df - 1],
        _ => 1.96,
    }
}

/// Mean and half-width of the 95 % t-interval of `v` (half-width NaN for one value).
pub fn mean_ci(v: &[f64]) -> (f64, f64) {
    let n = v.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mean = v.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return (mean, f64::NAN);
    }
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    (mean, t95(n - 1) * (var / n as f64).sqrt())
}

/// Trains and evaluates every network, mode and seed; `progress` is called with a line after
/// each trained model (the library prints nothing).
pub fn hwa(
    profile: &HwProfile,
    data: &TaskData,
    cfg: &HwaBenchConfig,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<HwaRow>> {
    let times: Vec<f64> = HWA_TIMES.iter().map(|(_, t)| *t).collect();
    let mut rows = Vec::new();
    for (ni, net) in cfg.networks.iter().enumerate() {
        let genome = parse_genome(net)?;
        let arch = Arch::for_task(genome, Task::Digits);
        for &mode in &cfg.modes {
            let tc = mode.config(profile, cfg.epochs);
            let mut row = HwaRow {
                network: arch.genome.summary(),
                mode,
                acc_fp: Vec::new(),
                acc: vec![Vec::new(); times.len()],
            };
            for s in 0..cfg.seeds {
                // The same seeds in every mode: paired comparisons.
                let seed = derive_seed(ni as u64, s as u64);
                let t0 = std::time::Instant::now();
                let trained = train(&arch, data, &tc, seed)?;
                let report = evaluate_drift(
                    &trained.net,
                    &arch,
                    &data.test,
                    profile,
                    &times,
                    cfg.reps,
                    derive_seed(seed, 77),
                )?;
                row.acc_fp.push(report.acc_fp);
                for (ti, p) in report.points.iter().enumerate() {
                    row.acc[ti].push(p.mean);
                }
                progress(&format!(
                    "{} | {} | seed {s}: fp {:.2}, 1 s {:.2}, 30 d {:.2} ({:.1} s)",
                    row.network,
                    mode.name(),
                    report.acc_fp,
                    report.points[0].mean,
                    report.points[2].mean,
                    t0.elapsed().as_secs_f64()
                ));
            }
            rows.push(row);
        }
    }
    Ok(rows)
}

/// The table of [`hwa`] as Markdown: mean and 95 % CI over seeds at each time.
pub fn hwa_table(rows: &[HwaRow], profile: &HwProfile, cfg: &HwaBenchConfig) -> String {
    let mut out = format!(
        "digits on {}, {} epochs, {} training seeds x {} programmings; accuracy in %, mean +- 95 % CI (t, over seeds)\n\n",
        profile.name, cfg.epochs, cfg.seeds, cfg.reps
    );
    out += "| network | training | fp |";
    for (name, _) in HWA_TIMES {
        out += &format!(" {name} |");
    }
    out += "\n|---|---|---|";
    for _ in HWA_TIMES {
        out += "---|";
    }
    out += "\n";
    let cell = |v: &[f64]| {
        let (m, ci) = mean_ci(v);
        format!("{m:.2} +- {ci:.2}")
    };
    for r in rows {
        out += &format!(
            "| `{}` | {} | {} |",
            r.network.replace('|', "\\|"),
            r.mode.name(),
            cell(&r.acc_fp)
        );
        for a in &r.acc {
            out += &format!(" {} |", cell(a));
        }
        out += "\n";
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genome_summaries_parse_back() {
        for s in [
            "oc0=32 ks0=3 | r1b1Dw2 r1b1Dw2",
            "oc0=48 ks0=5 | r1b1Cw1 r1b1Cw3",
            "oc0=16 ks0=3 | r2b3Aw2 r1b1Bw4",
        ] {
            assert_eq!(parse_genome(s).unwrap().summary(), s);
        }
        assert_eq!(
            parse_genome("resnet8").unwrap(),
            Reference::Resnet8.genome()
        );
        assert!(parse_genome("oc0=32 | r1b1Ew2").is_err());
    }

    #[test]
    fn t_interval() {
        let (m, ci) = mean_ci(&[1.0, 2.0, 3.0]);
        assert_eq!(m, 2.0);
        // sd 1, n 3: 4.303 / sqrt(3).
        assert!((ci - 4.303 / 3f64.sqrt()).abs() < 1e-9);
        assert!(mean_ci(&[1.0]).1.is_nan());
    }
}
