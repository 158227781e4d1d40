//! The PCM statistical model (DESIGN.md 3.2; AIHWKit's `PCMLikeNoiseModel`): weights on a
//! differential pair of conductances, programming noise, drift with a per-device exponent, and
//! 1/f read noise.
//!
//! A matrix is programmed once with [`PcmModel::program`] (programming noise and the drift
//! exponents are drawn then) and read any number of times with [`PcmModel::read`] (drift to the
//! inference time and fresh read noise), as on a real chip.

use super::PcmConfig;
use super::normal::fast_normal;
use crate::rng::SeededRng;

/// Smallest relative conductance used in the drift-exponent formulas (AIHWKit's `_ZERO_CLIP`).
const ZERO_CLIP: f64 = 1e-7;

/// The PCM formulas of one profile.
#[derive(Clone, Debug, PartialEq)]
pub struct PcmModel {
    /// The profile's PCM section.
    pub cfg: PcmConfig,
}

/// A programmed weight matrix: the weights as programmed (programming noise included) and the
/// drift exponent of each of the two devices of every weight's pair.
#[derive(Clone, Debug, PartialEq)]
pub struct ProgrammedWeights {
    /// The programmed weights `(G+ - G-) / scale`, in the units of the target weights.
    pub weights: Vec<f32>,
    /// Drift exponent of the positive device of each pair (`drift_scale` applied).
    pub nu_plus: Vec<f32>,
    /// Drift exponent of the negative device of each pair (`drift_scale` applied).
    pub nu_minus: Vec<f32>,
}

impl PcmModel {
    /// The model of a profile's PCM section.
    pub fn new(cfg: &PcmConfig) -> Self {
        PcmModel { cfg: cfg.clone() }
    }

    /// Standard deviation of the programming noise in uS at target conductance `g` (uS):
    /// `(c0 + c1 g/g_max + c2 (g/g_max)^2) * g_max/25`, times `prog_noise_scale`.
    pub fn prog_sigma(&self, g: f64) -> f64 {
        let [c0, c1, c2] = self.cfg.prog_coeff;
        let x = g / self.cfg.g_max;
        (c0 + c1 * x + c2 * x * x) * self.cfg.g_max / 25.0 * self.cfg.prog_noise_scale
            / self.pair_averaging()
    }

    /// `sqrt(pairs_per_weight)`: the factor by which summing N pairs programmed to the same
    /// weight divides the programming and read noise (independent per pair); drift does not
    /// average (every weight keeps one drift exponent per device of its pair, as with one pair).
    pub fn pair_averaging(&self) -> f64 {
        f64::from(self.cfg.pairs_per_weight.max(1)).sqrt()
    }

    /// Mean and standard deviation of the drift exponent at target conductance `g` (uS), before
    /// `drift_scale`: `mu = clamp(-0.0155 ln(g_rel) + 0.0244, 0.049, 0.1)` and
    /// `sigma = clamp(-0.0125 ln(g_rel) - 0.0059, 0.008, 0.045)`, `g_rel = max(|g|/g_max, 1e-7)`.
    pub fn drift_mu_sigma(&self, g: f64) -> (f64, f64) {
        let ln = (g.abs() / self.cfg.g_max).max(ZERO_CLIP).ln();
        let mu = (-0.0155 * ln + 0.0244).clamp(0.049, 0.1);
        let sigma = (-0.0125 * ln - 0.0059).clamp(0.008, 0.045);
        (mu, sigma)
    }

    /// The 1/f noise coefficient at programmed conductance `g` (uS):
    /// `Q_s = min(0.2, 0.0088 / max(1e-3, (|g|/g_max)^0.65))`.
    pub fn read_qs(&self, g: f64) -> f64 {
        (0.0088 / (g.abs() / self.cfg.g_max).powf(0.65).max(1e-3)).min(0.2)
    }

    /// Relative read-noise sigma at conductance `g` and `t_inf` seconds after programming:
    /// `Q_s * sqrt(ln((t + t_read) / (2 t_read)))` with `t = t_inf + t0`, times `read_noise_scale`.
    pub fn read_sigma(&self, g: f64, t_inf: f64) -> f64 {
        self.read_qs(g) * self.read_time_factor(t_inf)
    }

    fn read_time_factor(&self, t_inf: f64) -> f64 {
        let t = t_inf + self.cfg.t0;
        let t_read = self.cfg.t_read;
        ((t + t_read) / (2.0 * t_read)).ln().max(0.0).sqrt() * self.cfg.read_noise_scale
            / self.pair_averaging()
    }

    /// The drift factor `(t/t0)^(-nu)` of a device with exponent `nu` at `t_inf` seconds after
    /// programming (`t = t_inf + t0`; 1 while `t <= t0`).
    pub fn drift_factor(&self, nu: f64, t_inf: f64) -> f64 {
        let t = t_inf + self.cfg.t0;
        if t > self.cfg.t0 {
            (-nu * (t / self.cfg.t0).ln()).exp()
        } else {
            1.0
        }
    }

    /// Programs a weight matrix (any shape, as a flat slice): maps it onto conductance pairs with
    /// `scale = g_max / max|W|`, draws each device's programming noise and drift exponent, and
    /// returns the programmed state.
    pub fn program(&self, w: &[f32], rng: &mut SeededRng) -> ProgrammedWeights {
        let g_max = self.cfg.g_max;
        let amax = w.iter().fold(0f32, |m, x| m.max(x.abs())) as f64;
        let scale = g_max / amax.max(ZERO_CLIP);
        let mut weights = Vec::with_capacity(w.len());
        let mut nu_plus = Vec::with_capacity(w.len());
        let mut nu_minus = Vec::with_capacity(w.len());
        let drift_scale = self.cfg.drift_scale;
        let device = |g: f64, rng: &mut SeededRng| {
            let sigma = self.prog_sigma(g);
            let g_prog = if sigma > 0.0 {
                (g + sigma * fast_normal(rng) as f64).max(0.0)
            } else {
                g
            };
            let (mu, s) = self.drift_mu_sigma(g);
            let nu = (mu + s * fast_normal(rng) as f64).abs() * drift_scale;
            (g_prog, nu as f32)
        };
        for &x in w {
            let x = x as f64 * scale;
            let (gp, np) = device(x.clamp(0.0, g_max), rng);
            let (gm, nm) = device((-x).clamp(0.0, g_max), rng);
            weights.push(((gp - gm) / scale) as f32);
            nu_plus.push(np);
            nu_minus.push(nm);
        }
        ProgrammedWeights {
            weights,
            nu_plus,
            nu_minus,
        }
    }

    /// Reads a programmed matrix `t_inf` seconds after programming: the programmed weights are
    /// mapped onto pairs again (`scale' = g_max / max|W_prog|`, the idle device of each pair at 0),
    /// each device drifts with its exponent and gets fresh 1/f read noise. Returns the weights
    /// read, in the units of the target weights.
    pub fn read(&self, p: &ProgrammedWeights, t_inf: f64, rng: &mut SeededRng) -> Vec<f32> {
        let g_max = self.cfg.g_max;
        let amax = p.weights.iter().fold(0f32, |m, x| m.max(x.abs())) as f64;
        let scale = g_max / amax.max(ZERO_CLIP);
        let t = t_inf + self.cfg.t0;
        let ln_t = if t > self.cfg.t0 {
            (t / self.cfg.t0).ln()
        } else {
            0.0
        };
        let time_factor = self.read_time_factor(t_inf);
        p.weights
            .iter()
            .zip(p.nu_plus.iter().zip(&p.nu_minus))
            .map(|(&w, (&np, &nm))| {
                if w == 0.0 {
                    return 0.0;
                }
                let g = (w.abs() as f64 * scale).min(g_max);
                let nu = if w > 0.0 { np } else { nm } as f64;
                let g_drift = g * (-nu * ln_t).exp();
                let sigma = self.read_qs(g) * time_factor;
                let g_final = if sigma > 0.0 {
                    (g_drift + g_drift * sigma * fast_normal(rng) as f64).max(0.0)
                } else {
                    g_drift
                };
                (w.signum() as f64 * g_final / scale) as f32
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> PcmModel {
        PcmModel::new(&PcmConfig::default())
    }

    #[test]
    fn formulas_against_hand_values() {
        let m = model();
        // 0.26348 + 1.9650 - 1.1731 = 1.05538 uS at g = g_max; 0.26348 at g = 0.
        assert!((m.prog_sigma(25.0) - 1.05538).abs() < 1e-9);
        assert!((m.prog_sigma(0.0) - 0.26348).abs() < 1e-12);
        // g = g_max/2: 0.26348 + 0.98250 - 0.293275 = 0.952705.
        assert!((m.prog_sigma(12.5) - 0.952705).abs() < 1e-9);
        // g_rel = 1: mu = clamp(0.0244) = 0.049, sigma = clamp(-0.0059) = 0.008.
        let (mu, s) = m.drift_mu_sigma(25.0);
        assert!((mu - 0.049).abs() < 1e-12 && (s - 0.008).abs() < 1e-12);
        // g_rel = 0.01: ln = -4.60517; mu = 0.0713802+0.0244 = 0.0957801; sigma = 0.0575646-0.0059 = 0.0516646 -> 0.045.
        let (mu, s) = m.drift_mu_sigma(0.25);
        assert!((mu - 0.095_780_1).abs() < 1e-6, "{mu}");
        assert!((s - 0.045).abs() < 1e-12);
        // g = 0: g_rel clipped to 1e-7, mu and sigma at their upper bounds.
        assert_eq!(m.drift_mu_sigma(0.0), (0.1, 0.045));
        // Q_s at g_rel = 0.01: 0.01^0.65 = 0.0501187; 0.0088 / 0.0501187 = 0.175583.
        assert!((m.read_qs(0.25) - 0.175_583).abs() < 1e-5);
        assert!((m.read_qs(25.0) - 0.0088).abs() < 1e-12);
        assert_eq!(m.read_qs(0.0), 0.2);
        // Read sigma at t_inf = 0 (t = 20 s): sqrt(ln((20 + 2.5e-7) / 5e-7)) = sqrt(17.504390) = 4.183824.
        assert!((m.read_sigma(25.0, 0.0) - 0.0088 * 4.183_824).abs() < 1e-6);
        // Drift factor at 1 day with nu = 0.05: (86420/20)^-0.05 = exp(-0.05 * 8.371243) = 0.657992.
        assert!((m.drift_factor(0.05, 86_400.0) - 0.657_992).abs() < 1e-5);
        assert_eq!(m.drift_factor(0.05, 0.0), 1.0);
    }

    fn random_matrix(n: usize, seed: u64) -> Vec<f32> {
        let mut rng = crate::rng::seeded(seed);
        (0..n).map(|_| crate::rng::normal(&mut rng)).collect()
    }

    #[test]
    fn programming_noise_has_the_right_size() {
        // At W = max|W| (g = g_max) the positive device has sigma 1.05538 uS and the negative one
        // (g = 0) is max(0, 0.26348 N) uS: the weight's error in units of max|W| has a mean of
        // -0.26348/sqrt(2 pi)/25 = -0.0042045 and a std of
        // sqrt(1.05538^2 + 0.26348^2 (1/2 - 1/(2 pi)))/25 = 0.0426613.
        let n = 400_000;
        let w = vec![1f32; n];
        let p = model().program(&w, &mut crate::rng::seeded(1));
        let err: Vec<f64> = p.weights.iter().map(|&x| x as f64 - 1.0).collect();
        let mean = err.iter().sum::<f64>() / n as f64;
        let std = (err.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
        assert!((mean + 0.004_204_5).abs() < 2.5e-4, "mean {mean}");
        assert!((std - 0.042_661_3).abs() < 3e-4, "std {std}");
        // Drift exponents at g_max: |N(0.049, 0.008)| has mean 0.049.
        let nu_mean = p.nu_plus.iter().map(|&x| x as f64).sum::<f64>() / n as f64;
        assert!((nu_mean - 0.049).abs() < 2e-4, "{nu_mean}");
    }

    #[test]
    fn drift_shrinks_weights_monotonically_in_time() {
        let w = random_matrix(20_000, 2);
        let m = model();
        let p = m.program(&w, &mut crate::rng::seeded(3));
        let mut last = f64::INFINITY;
        for t in [0.0, 3600.0, 86_400.0, 2_592_000.0, 31_536_000.0] {
            let r = m.read(&p, t, &mut crate::rng::seeded(4));
            let mass: f64 = r.iter().map(|x| x.abs() as f64).sum();
            assert!(mass < last, "mean |W| must fall with t: {mass} at {t}");
            last = mass;
        }
        // Without read noise, every single weight shrinks in magnitude with t.
        let quiet = PcmConfig {
            read_noise_scale: 0.0,
            ..PcmConfig::default()
        };
        let m = PcmModel::new(&quiet);
        let p = m.program(&w, &mut crate::rng::seeded(3));
        let a = m.read(&p, 3600.0, &mut crate::rng::seeded(5));
        let b = m.read(&p, 86_400.0, &mut crate::rng::seeded(5));
        assert!(a.iter().zip(&b).all(|(x, y)| y.abs() <= x.abs()));
        assert!(a.iter().zip(&b).any(|(x, y)| y.abs() < x.abs()));
    }

    #[test]
    fn read_reuses_programmed_state_and_draws_fresh_noise() {
        let w = random_matrix(1000, 6);
        let m = model();
        let p = m.program(&w, &mut crate::rng::seeded(7));
        assert_eq!(p, m.program(&w, &mut crate::rng::seeded(7)));
        let a = m.read(&p, 86_400.0, &mut crate::rng::seeded(8));
        let b = m.read(&p, 86_400.0, &mut crate::rng::seeded(8));
        let c = m.read(&p, 86_400.0, &mut crate::rng::seeded(9));
        assert_eq!(a, b);
        assert_ne!(a, c);
        // Two reads share the programming noise and the drift exponents, so their errors are
        // strongly correlated; the read noise alone makes them differ.
        let err =
            |x: &[f32]| -> Vec<f64> { x.iter().zip(&w).map(|(a, b)| (a - b) as f64).collect() };
        let (ea, ec) = (err(&a), err(&c));
        let dot = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(a, b)| a * b).sum::<f64>();
        let corr = dot(&ea, &ec) / (dot(&ea, &ea) * dot(&ec, &ec)).sqrt();
        assert!(
            corr > 0.5 && corr < 0.9999,
            "correlation of two reads' errors: {corr}"
        );
        // With the read noise off, a read at t_inf = 0 returns the programmed weights.
        let quiet = PcmConfig {
            read_noise_scale: 0.0,
            ..PcmConfig::default()
        };
        let q = PcmModel::new(&quiet).read(&p, 0.0, &mut crate::rng::seeded(1));
        for (x, y) in q.iter().zip(&p.weights) {
            assert!((x - y).abs() <= 1e-6 * y.abs().max(1e-3));
        }
    }

    #[test]
    fn scales_switch_effects_off() {
        let w = random_matrix(500, 10);
        let cfg = PcmConfig {
            prog_noise_scale: 0.0,
            read_noise_scale: 0.0,
            drift_scale: 0.0,
            ..PcmConfig::default()
        };
        let m = PcmModel::new(&cfg);
        let p = m.program(&w, &mut crate::rng::seeded(1));
        let amax = w.iter().fold(0f32, |a, x| a.max(x.abs()));
        for (a, b) in p.weights.iter().zip(&w) {
            assert!((a - b).abs() <= 1e-6 * amax);
        }
        let r = m.read(&p, 31_536_000.0, &mut crate::rng::seeded(2));
        for (a, b) in r.iter().zip(&w) {
            assert!((a - b).abs() <= 1e-6 * amax);
        }
    }
}
