//! Hardware profiles: everything about the analog chip that the search needs (DESIGN.md 3).

use crate::error::{Error, Result, toml_error};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A hardware profile, read from `hw_profiles/*.toml`. Missing sections and fields take
/// AIHWKit's defaults (`InferenceRPUConfig` with `PCMLikeNoiseModel`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HwProfile {
    /// Name of the profile (default: the file stem).
    pub name: String,
    /// One line on what chip the profile describes.
    pub description: String,
    /// Crossbar tile geometry.
    pub tile: TileConfig,
    /// PCM device statistics (programming noise, drift, read noise).
    pub pcm: PcmConfig,
    /// DAC, ADC and output noise of each tile.
    pub periphery: PeripheryConfig,
    /// Global drift compensation.
    pub drift_compensation: DriftCompensationConfig,
    /// Weight noise used by hardware-aware training.
    pub training: TrainingNoiseConfig,
}

/// Crossbar tile geometry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TileConfig {
    /// Rows (inputs) of one tile. Must be >= 1. Default: 512.
    pub rows: usize,
    /// Columns (outputs) of one tile. Must be >= 1. Default: 512.
    pub cols: usize,
    /// Whether depthwise convolutions run in the digital periphery instead of on tiles
    /// (mapped as block-diagonal dense matrices otherwise). Default: false.
    pub digital_depthwise: bool,
}

/// PCM statistical model (DESIGN.md 3.2, AIHWKit's PCMLikeNoiseModel).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PcmConfig {
    /// Largest conductance in uS. Must be > 0. Default: 25.
    pub g_max: f64,
    /// Programming-noise polynomial coefficients c0, c1, c2 in uS. Default: [0.26348, 1.9650, -1.1731].
    pub prog_coeff: [f64; 3],
    /// Reference time of drift in seconds after programming. Must be > 0. Default: 20.
    pub t0: f64,
    /// Read duration in seconds for the 1/f noise. Must be > 0. Default: 250e-9.
    pub t_read: f64,
    /// Multiplies the programming-noise sigma (0 switches it off). Default: 1.
    pub prog_noise_scale: f64,
    /// Multiplies the read-noise sigma (0 switches it off). Default: 1.
    pub read_noise_scale: f64,
    /// Multiplies the drift exponent nu (0 switches drift off). Default: 1.
    pub drift_scale: f64,
}

/// How each input vector is scaled before the DAC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoiseManagement {
    /// Divide each input vector by its abs-max (AIHWKit default).
    AbsMax,
    /// No scaling.
    None,
}

/// What happens when an output hits the ADC bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoundManagement {
    /// Repeat the vector's product with the input halved (AIHWKit default ITERATIVE).
    Iterative,
    /// Clip and go on.
    None,
}

/// Periphery of a tile (DESIGN.md 3.3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PeripheryConfig {
    /// Input scaling before the DAC. Default: "abs_max".
    pub noise_management: NoiseManagement,
    /// DAC resolution as a fraction of the range: step = 2 * inp_bound * inp_res; 0 = no
    /// quantisation. Default: 1/126 (7 bits, 127 levels).
    pub inp_res: f64,
    /// DAC clipping bound; `inf` = no clipping. Must be > 0. Default: 1.
    pub inp_bound: f64,
    /// ADC resolution: step = 2 * out_bound * out_res; 0 = no quantisation. Default: 1/510.
    pub out_res: f64,
    /// ADC clipping bound; `inf` = no clipping. Must be > 0. Default: 12.
    pub out_bound: f64,
    /// Standard deviation of the additive output noise (0 = off). Default: 0.06.
    pub out_noise: f64,
    /// Handling of outputs at the bound. Default: "iterative".
    pub bound_management: BoundManagement,
    /// Largest input down-scaling factor of iterative bound management. Default: 1000.
    pub bm_max_factor: f64,
    /// Coarsest effective input resolution bound management may reach. Default: 0.25.
    pub bm_max_res: f64,
}

/// Global drift compensation (DESIGN.md 3.2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DriftCompensationConfig {
    /// Whether outputs are rescaled per tile by the drift-compensation factor. Default: true.
    pub enabled: bool,
}

/// How weights are clipped after each step of hardware-aware training.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightClip {
    /// No clipping.
    None,
    /// Clip to +- `clip_value`.
    Fixed,
    /// Clip each layer to +- `clip_value` standard deviations of its weights.
    Sigma,
}

/// Noise of hardware-aware training (DESIGN.md 3.4).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainingNoiseConfig {
    /// Std of the Gaussian weight noise relative to each layer's max |W| (0 = off).
    /// Default: 0.06 (the AnalogNAS-Bench recipe).
    pub weight_noise: f64,
    /// Clipping after each optimiser step. Default: "sigma".
    pub clip: WeightClip,
    /// Bound of the clipping (a value or a number of sigmas). Must be > 0. Default: 2.5.
    pub clip_value: f64,
}

impl Default for HwProfile {
    fn default() -> Self {
        HwProfile {
            name: "pcm_aihwkit".into(),
            description: String::new(),
            tile: TileConfig::default(),
            pcm: PcmConfig::default(),
            periphery: PeripheryConfig::default(),
            drift_compensation: DriftCompensationConfig::default(),
            training: TrainingNoiseConfig::default(),
        }
    }
}

impl Default for TileConfig {
    fn default() -> Self {
        TileConfig {
            rows: 512,
            cols: 512,
            digital_depthwise: false,
        }
    }
}

impl Default for PcmConfig {
    fn default() -> Self {
        PcmConfig {
            g_max: 25.0,
            prog_coeff: [0.26348, 1.9650, -1.1731],
            t0: 20.0,
            t_read: 250e-9,
            prog_noise_scale: 1.0,
            read_noise_scale: 1.0,
            drift_scale: 1.0,
        }
    }
}

impl Default for PeripheryConfig {
    fn default() -> Self {
        PeripheryConfig {
            noise_management: NoiseManagement::AbsMax,
            inp_res: 1.0 / 126.0,
            inp_bound: 1.0,
            out_res: 1.0 / 510.0,
            out_bound: 12.0,
            out_noise: 0.06,
            bound_management: BoundManagement::Iterative,
            bm_max_factor: 1000.0,
            bm_max_res: 0.25,
        }
    }
}

impl Default for DriftCompensationConfig {
    fn default() -> Self {
        DriftCompensationConfig { enabled: true }
    }
}

impl Default for TrainingNoiseConfig {
    fn default() -> Self {
        TrainingNoiseConfig {
            weight_noise: 0.06,
            clip: WeightClip::Sigma,
            clip_value: 2.5,
        }
    }
}

impl HwProfile {
    /// Reads and validates a profile file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = crate::error::read_to_string(path)?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Self::parse(&path.display().to_string(), &stem, &text)
    }

    /// Parses and validates a profile from TOML text; `file` names it in errors.
    pub fn parse(file: &str, default_name: &str, text: &str) -> Result<Self> {
        let mut p: HwProfile = toml::from_str(text).map_err(|e| toml_error(file, text, &e))?;
        if !text.lines().any(|l| l.trim_start().starts_with("name")) {
            p.name = default_name.to_string();
        }
        p.validate(file)?;
        Ok(p)
    }

    /// A profile with every noise, quantisation and clipping effect switched off
    /// (analog inference then equals digital inference).
    pub fn ideal() -> Self {
        let mut p = HwProfile {
            name: "ideal".into(),
            ..HwProfile::default()
        };
        p.pcm.prog_noise_scale = 0.0;
        p.pcm.read_noise_scale = 0.0;
        p.pcm.drift_scale = 0.0;
        p.periphery.noise_management = NoiseManagement::None;
        p.periphery.inp_res = 0.0;
        p.periphery.inp_bound = f64::INFINITY;
        p.periphery.out_res = 0.0;
        p.periphery.out_bound = f64::INFINITY;
        p.periphery.out_noise = 0.0;
        p.periphery.bound_management = BoundManagement::None;
        p.drift_compensation.enabled = false;
        p
    }

    fn validate(&self, file: &str) -> Result<()> {
        let check = |ok: bool, key: &str, what: &str, got: String| {
            if ok {
                Ok(())
            } else {
                Err(Error::input(format!(
                    "{file}: field {key}: expected {what}, got {got}"
                )))
            }
        };
        check(
            self.tile.rows >= 1,
            "tile.rows",
            "an integer >= 1",
            self.tile.rows.to_string(),
        )?;
        check(
            self.tile.cols >= 1,
            "tile.cols",
            "an integer >= 1",
            self.tile.cols.to_string(),
        )?;
        let pos = |v: f64| v > 0.0 && !v.is_nan();
        let nonneg = |v: f64| v >= 0.0 && v.is_finite();
        check(
            pos(self.pcm.g_max) && self.pcm.g_max.is_finite(),
            "pcm.g_max",
            "a number > 0",
            self.pcm.g_max.to_string(),
        )?;
        check(
            pos(self.pcm.t0) && self.pcm.t0.is_finite(),
            "pcm.t0",
            "a number > 0",
            self.pcm.t0.to_string(),
        )?;
        check(
            pos(self.pcm.t_read) && self.pcm.t_read.is_finite(),
            "pcm.t_read",
            "a number > 0",
            self.pcm.t_read.to_string(),
        )?;
        for (k, v) in [
            ("pcm.prog_noise_scale", self.pcm.prog_noise_scale),
            ("pcm.read_noise_scale", self.pcm.read_noise_scale),
            ("pcm.drift_scale", self.pcm.drift_scale),
            ("periphery.inp_res", self.periphery.inp_res),
            ("periphery.out_res", self.periphery.out_res),
            ("periphery.out_noise", self.periphery.out_noise),
            ("training.weight_noise", self.training.weight_noise),
        ] {
            check(nonneg(v), k, "a finite number >= 0", v.to_string())?;
        }
        check(
            pos(self.periphery.inp_bound),
            "periphery.inp_bound",
            "a number > 0 (inf for none)",
            self.periphery.inp_bound.to_string(),
        )?;
        check(
            pos(self.periphery.out_bound),
            "periphery.out_bound",
            "a number > 0 (inf for none)",
            self.periphery.out_bound.to_string(),
        )?;
        check(
            self.periphery.bm_max_factor >= 1.0,
            "periphery.bm_max_factor",
            "a number >= 1",
            self.periphery.bm_max_factor.to_string(),
        )?;
        check(
            pos(self.periphery.bm_max_res),
            "periphery.bm_max_res",
            "a number > 0",
            self.periphery.bm_max_res.to_string(),
        )?;
        check(
            pos(self.training.clip_value),
            "training.clip_value",
            "a number > 0",
            self.training.clip_value.to_string(),
        )?;
        Ok(())
    }

    /// DAC step (`2 * inp_bound * inp_res`), or 0 when the input is not quantised.
    pub fn dac_step(&self) -> f64 {
        step(self.periphery.inp_bound, self.periphery.inp_res)
    }

    /// ADC step (`2 * out_bound * out_res`), or 0 when the output is not quantised.
    pub fn adc_step(&self) -> f64 {
        step(self.periphery.out_bound, self.periphery.out_res)
    }
}

fn step(bound: f64, res: f64) -> f64 {
    if res > 0.0 && bound.is_finite() {
        2.0 * bound * res
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped(name: &str) -> HwProfile {
        HwProfile::load(format!(
            "{}/hw_profiles/{name}.toml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn shipped_profiles_parse() {
        let a = shipped("pcm_aihwkit");
        assert_eq!(a.name, "pcm_aihwkit");
        assert_eq!((a.tile.rows, a.tile.cols), (512, 512));
        let expect = HwProfile {
            description: a.description.clone(),
            ..HwProfile::default()
        };
        assert_eq!(
            a, expect,
            "pcm_aihwkit.toml must spell out AIHWKit's defaults"
        );
        let h = shipped("pcm_hermes");
        assert_eq!((h.tile.rows, h.tile.cols), (256, 256));
        assert!((h.dac_step() - 2.0 / 254.0).abs() < 1e-12);
        assert!((h.adc_step() - 20.0 / 254.0).abs() < 1e-12);
    }

    #[test]
    fn step_sizes() {
        let p = HwProfile::default();
        assert!((p.dac_step() - 1.0 / 63.0).abs() < 1e-12);
        assert!((p.adc_step() - 24.0 / 510.0).abs() < 1e-12);
        assert_eq!(HwProfile::ideal().dac_step(), 0.0);
    }

    #[test]
    fn errors_name_field() {
        let e = HwProfile::parse("p.toml", "p", "[tile]\nrows = 0\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "p.toml: field tile.rows: expected an integer >= 1, got 0"
        );
        let e = HwProfile::parse("p.toml", "p", "[tile]\nrowz = 3\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("p.toml:2:1: field tile.rowz: unknown field `rowz`"),
            "{e}"
        );
        let e = HwProfile::parse("p.toml", "p", "[pcm]\ng_max = \"big\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("p.toml:2:9: field pcm.g_max:"), "{e}");
        let e = HwProfile::parse("p.toml", "p", "[periphery]\nout_noise = -1.0\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("field periphery.out_noise"), "{e}");
    }
}
