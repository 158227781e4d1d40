//! Hardware profiles: everything about the analog chip that the search needs (DESIGN.md 3).
//!
//! Every numeric field has a stated range, checked when a profile is loaded
//! ([`HwProfile::check`]): a profile outside them is refused with a one-line error naming the
//! file, the field and the range, instead of making inference spin, allocate or return NaN.

use super::HwError;
use crate::error::{FieldError, Result, TomlError};
use crate::nn::Arch;
use crate::space::{DepthwiseGene, HwGenes};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
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
    /// Weight noise and periphery of hardware-aware training.
    pub training: TrainingNoiseConfig,
    /// Constants of the energy, latency and area model (`hw::cost`).
    pub cost: super::CostConfig,
}

/// Crossbar tile geometry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TileConfig {
    /// Rows (inputs) of one tile. Range: 1..=[`TileConfig::MAX_SIZE`] (65536). Default: 512.
    pub rows: usize,
    /// Columns (outputs) of one tile. Range: 1..=[`TileConfig::MAX_SIZE`] (65536). Default: 512.
    pub cols: usize,
    /// Where depthwise convolutions run. Default: "digital".
    pub depthwise: DepthwiseMapping,
    /// How weights are scaled onto the conductance range of a tile. Default: "tile".
    pub weight_scaling: WeightScaling,
}

/// Where depthwise (grouped, groups = c_in) convolutions run (DESIGN.md 3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DepthwiseMapping {
    /// In the digital periphery: no tiles, no noise, no drift; the footprint counts their MACs
    /// as `digital_macs`. What AIHWKit does (its analog convolutions refuse groups != 1).
    Digital,
    /// On tiles as a block-diagonal dense `(c * k * k) x c` matrix. Caveat: about (1 - 1/c) of
    /// the tile's cells are structural zeros; drift compensation is calibrated on the
    /// structurally non-zero cells only (otherwise its identity read-out averages mostly
    /// output noise and ADC rounding, which do not drift, and alpha stays near 1), but those
    /// layers still see the output noise and ADC rounding of a mostly empty tile, so their
    /// accuracy is pessimistic, and no chip maps depthwise convs this way.
    Analog,
}

/// How a tile's weights are scaled before programming (AIHWKit's `MappingParameter`
/// `weight_scaling_omega` and `weight_scaling_columnwise`); the scale goes back digitally
/// after the ADC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightScaling {
    /// No scaling: the tile computes with the weights as trained (AIHWKit's default,
    /// `weight_scaling_omega = 0`).
    None,
    /// The tile's max |W| mapped to 1 (`weight_scaling_omega = 1`, not columnwise).
    Tile,
    /// Each output column's max |W| mapped to 1 (`weight_scaling_omega = 1`,
    /// `weight_scaling_columnwise = true`: AIHWKit's hardware-aware presets).
    Column,
}

/// PCM statistical model (DESIGN.md 3.2, AIHWKit's PCMLikeNoiseModel).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PcmConfig {
    /// Largest conductance in uS. Range: > 0 and <= 1000. Default: 25.
    pub g_max: f64,
    /// Programming-noise polynomial coefficients c0, c1, c2 in uS. Range: each in [-10, 10],
    /// and the noise `c0 + c1 x + c2 x^2` >= 0 for every relative conductance x in [0, 1].
    /// Default: [0.26348, 1.9650, -1.1731].
    pub prog_coeff: [f64; 3],
    /// Reference time of drift in seconds after programming. Range: > 0 and <= 86400 (a day).
    /// Default: 20.
    pub t0: f64,
    /// Read duration in seconds for the 1/f noise. Range: [1e-12, 1]. Default: 250e-9.
    pub t_read: f64,
    /// Multiplies the programming-noise sigma (0 switches it off). Range: [0, 10]. Default: 1.
    pub prog_noise_scale: f64,
    /// Multiplies the read-noise sigma (0 switches it off). Range: [0, 10]. Default: 1.
    pub read_noise_scale: f64,
    /// Multiplies the drift exponent nu (0 switches drift off). Range: [0, 10]. Default: 1.
    pub drift_scale: f64,
    /// Differential pairs programmed to the same weight and summed (read back as their mean):
    /// programming and read noise, independent per pair, average down by sqrt(N); drift does
    /// not (it is systematic: the mean decay stays, and the model keeps one drift exponent per
    /// device of the weight). Range: 1..=16. Default: 1 (AIHWKit's single pair).
    pub pairs_per_weight: u32,
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
    /// quantisation. Range: 0, or [2^-24, 1/2] (from 3 levels to 24 bits; a coarser step
    /// rounds every input to 0). Default: 1/126 (7 bits, 127 levels).
    pub inp_res: f64,
    /// DAC clipping bound; `inf` = no clipping. Range: [1e-3, 1e6] or inf. Default: 1.
    pub inp_bound: f64,
    /// ADC resolution: step = 2 * out_bound * out_res; 0 = no quantisation. Range: 0, or
    /// [2^-24, 1/2] (3 levels to 24 bits). Default: 1/510 (9 bits).
    pub out_res: f64,
    /// ADC clipping bound; `inf` = no clipping. Range: [1e-3, 1e6] or inf. Default: 12.
    pub out_bound: f64,
    /// Standard deviation of the additive output noise (0 = off). Range: [0, 10].
    /// Default: 0.06.
    pub out_noise: f64,
    /// Handling of outputs at the bound. Default: "iterative".
    pub bound_management: BoundManagement,
    /// Largest input down-scaling factor of iterative bound management, which halves the input
    /// until the output fits or the factor is passed. Range: [1, 1e6]
    /// ([`PeripheryConfig::MAX_BM_FACTOR`]: at most 21 rounds). Default: 1000.
    pub bm_max_factor: f64,
    /// Coarsest effective input resolution bound management may reach. Range: > 0 and <= 1.
    /// Default: 0.25.
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

/// Noise of hardware-aware training (DESIGN.md 3.4): weight noise, and which parts of the
/// periphery the training forward applies (as AIHWKit's `InferenceRPUConfig` does).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainingNoiseConfig {
    /// Std of the Gaussian weight noise relative to each layer's max |W| (0 = off).
    /// Range: [0, 1] (0.02..0.1 is typical). Default: 0.06 (the AnalogNAS-Bench recipe).
    pub weight_noise: f64,
    /// Clipping after each optimiser step. Default: "sigma".
    pub clip: WeightClip,
    /// Bound of the clipping (a value or a number of sigmas). Range: > 0 and <= 100.
    /// Default: 2.5.
    pub clip_value: f64,
    /// Whether the training forward of every analog layer divides each input vector by its
    /// abs-max (`[periphery]` noise management, if that is "abs_max"). Default: false.
    pub forward_noise_management: bool,
    /// Whether the training forward quantises and clips inputs with the DAC of `[periphery]`
    /// (straight-through gradient). Default: false.
    pub forward_dac: bool,
    /// Whether the training forward adds the output noise of `[periphery]`. Default: false.
    pub forward_out_noise: bool,
    /// Whether the training forward quantises and clips outputs with the ADC of `[periphery]`,
    /// with its bound management (straight-through gradient). Default: false.
    pub forward_adc: bool,
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
            cost: super::CostConfig::default(),
        }
    }
}

impl Default for TileConfig {
    fn default() -> Self {
        TileConfig {
            rows: 512,
            cols: 512,
            depthwise: DepthwiseMapping::Digital,
            weight_scaling: WeightScaling::Tile,
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
            pairs_per_weight: 1,
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
            forward_noise_management: false,
            forward_dac: false,
            forward_out_noise: false,
            forward_adc: false,
        }
    }
}

impl TileConfig {
    /// Largest tile side (rows or columns) a profile may ask for.
    pub const MAX_SIZE: usize = 65536;

    /// Whether depthwise convolutions run digitally (`depthwise = "digital"`).
    pub fn digital_depthwise(&self) -> bool {
        self.depthwise == DepthwiseMapping::Digital
    }
}

impl PeripheryConfig {
    /// Largest `bm_max_factor`: bound management doubles its input reduction each round, so
    /// this caps it at 21 rounds per vector.
    pub const MAX_BM_FACTOR: f64 = 1e6;
    /// Finest converter resolution (`inp_res`, `out_res`): 24 bits.
    pub const MIN_RES: f64 = 1.0 / 16_777_216.0;
    /// Coarsest converter resolution: a step of one bound, 3 levels (-bound, 0, bound).
    pub const MAX_RES: f64 = 0.5;
}

impl HwProfile {
    /// Reads and validates a profile file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        Ok(Self::read(path)?)
    }

    /// Parses and validates a profile from TOML text; `file` names it in errors.
    pub fn parse(file: &str, default_name: &str, text: &str) -> Result<Self> {
        Ok(Self::from_toml(file, default_name, text)?)
    }

    /// [`HwProfile::load`] with the module's own error type.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, HwError> {
        let path = path.as_ref();
        let f = crate::files::read_named(path).map_err(|source| HwError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml(&f.shown, &f.stem, &f.text)
    }

    /// [`HwProfile::parse`] with the module's own error type: an error about a field carries the
    /// line and column of its value in `text`.
    pub fn from_toml(file: &str, default_name: &str, text: &str) -> Result<Self, HwError> {
        let mut p: HwProfile = toml::from_str(text).map_err(|e| TomlError::new(file, text, &e))?;
        if !text.lines().any(|l| l.trim_start().starts_with("name")) {
            p.name = default_name.to_string();
        }
        p.check(file).map_err(|e| e.located(text))?;
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

    /// Checks every numeric field against its stated range (see the field docs), in file
    /// order; the error names `file`, the field, the range and the value. Loading runs it; a
    /// profile built in code can run it too.
    pub fn check(&self, file: &str) -> Result<(), HwError> {
        let bad = |field: &str, expected: &str, got: String| {
            Err(HwError::Field(FieldError::new(file, field, expected, got)))
        };
        // `{:?}` keeps 1e-6, 1e300, NaN and inf short.
        let num = |key: &str, v: f64, ok: bool, expected: &str| {
            if ok {
                Ok(())
            } else {
                bad(key, expected, format!("{v:?}"))
            }
        };
        let within = |v: f64, lo: f64, hi: f64| (lo..=hi).contains(&v);
        let above = |v: f64, lo: f64, hi: f64| v > lo && v <= hi;
        let max = TileConfig::MAX_SIZE;
        for (key, v) in [("tile.rows", self.tile.rows), ("tile.cols", self.tile.cols)] {
            if !(1..=max).contains(&v) {
                return bad(key, &format!("an integer >= 1 and <= {max}"), v.to_string());
            }
        }
        let pcm = &self.pcm;
        num(
            "pcm.g_max",
            pcm.g_max,
            above(pcm.g_max, 0.0, 1000.0),
            "a number > 0 and <= 1000 (uS)",
        )?;
        let c = pcm.prog_coeff;
        if !c.iter().all(|&x| within(x, -10.0, 10.0)) {
            return bad(
                "pcm.prog_coeff",
                "three numbers in [-10, 10] (uS)",
                format!("{c:?}"),
            );
        }
        if prog_poly_min(c) < 0.0 {
            return bad(
                "pcm.prog_coeff",
                "a noise c0 + c1*x + c2*x^2 >= 0 for x in [0, 1]",
                format!("{c:?}"),
            );
        }
        num(
            "pcm.t0",
            pcm.t0,
            above(pcm.t0, 0.0, 86_400.0),
            "a number of seconds > 0 and <= 86400",
        )?;
        // At least a picosecond: the read-noise factor ln((t + t_read) / (2 t_read)) is
        // infinite for a subnormal t_read (found by the fuzz test: 1e-320 gave NaN outputs).
        num(
            "pcm.t_read",
            pcm.t_read,
            within(pcm.t_read, 1e-12, 1.0),
            "a number of seconds in [1e-12, 1]",
        )?;
        for (key, v) in [
            ("pcm.prog_noise_scale", pcm.prog_noise_scale),
            ("pcm.read_noise_scale", pcm.read_noise_scale),
            ("pcm.drift_scale", pcm.drift_scale),
        ] {
            num(key, v, within(v, 0.0, 10.0), "a number in [0, 10]")?;
        }
        if !(1..=16).contains(&pcm.pairs_per_weight) {
            return bad(
                "pcm.pairs_per_weight",
                "an integer >= 1 and <= 16",
                pcm.pairs_per_weight.to_string(),
            );
        }
        let per = &self.periphery;
        let res_ok =
            |v: f64| v == 0.0 || within(v, PeripheryConfig::MIN_RES, PeripheryConfig::MAX_RES);
        let res = "0 (no quantisation) or a number in [2^-24, 0.5] (3 levels to 24 bits)";
        let bound_ok = |v: f64| v == f64::INFINITY || within(v, 1e-3, 1e6);
        let bound = "a number in [0.001, 1e6], or inf for no clipping";
        num("periphery.inp_res", per.inp_res, res_ok(per.inp_res), res)?;
        num(
            "periphery.inp_bound",
            per.inp_bound,
            bound_ok(per.inp_bound),
            bound,
        )?;
        num("periphery.out_res", per.out_res, res_ok(per.out_res), res)?;
        num(
            "periphery.out_bound",
            per.out_bound,
            bound_ok(per.out_bound),
            bound,
        )?;
        num(
            "periphery.out_noise",
            per.out_noise,
            within(per.out_noise, 0.0, 10.0),
            "a number in [0, 10]",
        )?;
        num(
            "periphery.bm_max_factor",
            per.bm_max_factor,
            within(per.bm_max_factor, 1.0, PeripheryConfig::MAX_BM_FACTOR),
            "a number in [1, 1e6]",
        )?;
        num(
            "periphery.bm_max_res",
            per.bm_max_res,
            above(per.bm_max_res, 0.0, 1.0),
            "a number > 0 and <= 1",
        )?;
        let tr = &self.training;
        num(
            "training.weight_noise",
            tr.weight_noise,
            within(tr.weight_noise, 0.0, 1.0),
            "a number in [0, 1]",
        )?;
        num(
            "training.clip_value",
            tr.clip_value,
            above(tr.clip_value, 0.0, 100.0),
            "a number > 0 and <= 100",
        )?;
        self.cost.check(file)?;
        Ok(())
    }

    /// The chip a genome's hardware genes describe: this profile with each gene that is set
    /// overriding its field (a co-search, DESIGN-style in the README "Hardware co-search"):
    /// `tile` sets `tile.rows` and `tile.cols`, `adc_bits` sets `periphery.out_res` and
    /// `dac_bits` sets `periphery.inp_res` to [`resolution_of_bits`] (`1/(2^bits - 2)`: 8 bits
    /// is 1/254, as `pcm_hermes.toml`; the bounds stay), `depthwise` sets `tile.depthwise`;
    /// a tile shape also scales `cost.tile_area_mm2` by its cell count over the profile's.
    /// Without genes, the profile itself (no copy). Applying the same genes twice changes
    /// nothing, so every place that computes tiles, cost, training periphery or drift for an
    /// architecture can call it on whatever profile it holds.
    pub fn with_genes(&self, genes: Option<&HwGenes>) -> Cow<'_, HwProfile> {
        let Some(g) = genes else {
            return Cow::Borrowed(self);
        };
        let mut p = self.clone();
        if let Some(t) = g.tile {
            // The tile area scales with the cells (as the shipped profiles scale the HERMES
            // core: periphery pitch-matched to the array).
            let cells = |rows: usize, cols: usize| (rows * cols) as f64;
            p.cost.tile_area_mm2 *=
                cells(t.rows as usize, t.cols as usize) / cells(p.tile.rows, p.tile.cols);
            p.tile.rows = t.rows as usize;
            p.tile.cols = t.cols as usize;
        }
        if let Some(b) = g.adc_bits {
            p.periphery.out_res = resolution_of_bits(b);
        }
        if let Some(b) = g.dac_bits {
            p.periphery.inp_res = resolution_of_bits(b);
        }
        if let Some(d) = g.depthwise {
            p.tile.depthwise = match d {
                DepthwiseGene::Digital => DepthwiseMapping::Digital,
                DepthwiseGene::Analog => DepthwiseMapping::Analog,
            };
        }
        Cow::Owned(p)
    }

    /// The effective profile of `arch`: [`HwProfile::with_genes`] with its genome's hardware
    /// genes.
    pub fn for_arch(&self, arch: &Arch) -> Cow<'_, HwProfile> {
        self.with_genes(arch.genome.hardware.as_ref())
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

/// The converter resolution (a fraction of the range) of `bits` bits: `1/(2^bits - 2)`, so that
/// the step `2 * bound * res` gives `2^bits - 1` levels from -bound to bound (AIHWKit's
/// convention: 1/126 is 7 bits, 1/254 is 8, 1/510 is 9). The inverse of
/// [`converter_bits`](super::converter_bits). `bits` must be in 2..=24.
pub fn resolution_of_bits(bits: u32) -> f64 {
    1.0 / (2f64.powi(bits as i32) - 2.0)
}

/// Smallest value of `c0 + c1 x + c2 x^2` over x in [0, 1].
fn prog_poly_min([c0, c1, c2]: [f64; 3]) -> f64 {
    let at = |x: f64| c0 + c1 * x + c2 * x * x;
    let mut m = at(0.0).min(at(1.0));
    if c2 > 0.0 {
        let x = -c1 / (2.0 * c2);
        if x > 0.0 && x < 1.0 {
            m = m.min(at(x));
        }
    }
    m
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
    fn hardware_genes_override_their_fields_only() {
        use crate::space::TileShape;
        let base = shipped("pcm_aihwkit");
        assert!(matches!(base.with_genes(None), Cow::Borrowed(_)));
        let genes = HwGenes {
            tile: Some(TileShape {
                rows: 256,
                cols: 128,
            }),
            adc_bits: Some(6),
            dac_bits: Some(8),
            depthwise: Some(DepthwiseGene::Analog),
        };
        let p = base.with_genes(Some(&genes)).into_owned();
        assert_eq!((p.tile.rows, p.tile.cols), (256, 128));
        assert_eq!(p.tile.depthwise, DepthwiseMapping::Analog);
        assert_eq!(p.periphery.out_res, 1.0 / 62.0);
        assert_eq!(p.periphery.inp_res, 1.0 / 254.0);
        assert_eq!(super::super::converter_bits(p.periphery.out_res), Some(6));
        assert_eq!(super::super::converter_bits(p.periphery.inp_res), Some(8));
        // Everything else is the profile's; twice is once; the result is a valid profile.
        let mut expect = base.clone();
        expect.tile = p.tile.clone();
        expect.cost.tile_area_mm2 = base.cost.tile_area_mm2 / 8.0;
        expect.periphery.out_res = p.periphery.out_res;
        expect.periphery.inp_res = p.periphery.inp_res;
        assert_eq!(p, expect);
        assert_eq!(*p.with_genes(Some(&genes)), p);
        p.check("genes").unwrap();
        // The shipped resolutions are the bits they claim.
        assert_eq!(
            resolution_of_bits(7),
            HwProfile::default().periphery.inp_res
        );
        assert_eq!(
            resolution_of_bits(9),
            HwProfile::default().periphery.out_res
        );
        // The gene limits of the space module are the profile's.
        assert_eq!(crate::space::MAX_TILE_SIDE as usize, TileConfig::MAX_SIZE);
        for bits in [
            *crate::space::CONVERTER_BITS.start(),
            *crate::space::CONVERTER_BITS.end(),
        ] {
            let mut q = HwProfile::default();
            q.periphery.out_res = resolution_of_bits(bits);
            q.check("bits").unwrap();
        }
        let only_adc = HwGenes {
            adc_bits: Some(8),
            ..HwGenes::default()
        };
        let q = base.with_genes(Some(&only_adc));
        assert_eq!(
            (q.tile.rows, q.periphery.inp_res),
            (512, base.periphery.inp_res)
        );
    }

    #[test]
    fn step_sizes() {
        let p = HwProfile::default();
        assert!((p.dac_step() - 1.0 / 63.0).abs() < 1e-12);
        assert!((p.adc_step() - 24.0 / 510.0).abs() < 1e-12);
        assert_eq!(HwProfile::ideal().dac_step(), 0.0);
    }

    fn err(text: &str) -> String {
        HwProfile::parse("p.toml", "p", text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn errors_name_field() {
        assert_eq!(
            err("[tile]\nrows = 0\n"),
            "p.toml:2:8: field tile.rows: expected an integer >= 1 and <= 65536, got 0"
        );
        let e = err("[tile]\nrowz = 3\n");
        assert!(
            e.starts_with("p.toml:2:1: field tile.rowz: unknown field `rowz`"),
            "{e}"
        );
        let e = err("[pcm]\ng_max = \"big\"\n");
        assert!(e.starts_with("p.toml:2:9: field pcm.g_max:"), "{e}");
        assert_eq!(
            err("[periphery]\nout_noise = -1.0\n"),
            "p.toml:2:13: field periphery.out_noise: expected a number in [0, 10], got -1.0"
        );
        let typed = HwProfile::from_toml("p.toml", "p", "[tile]\ncols = 70000\n");
        assert!(matches!(typed, Err(HwError::Field(_))), "{typed:?}");
        let missing = HwProfile::read("/nonexistent/p.toml").unwrap_err();
        assert!(matches!(missing, HwError::Io { .. }), "{missing:?}");
        assert!(missing.to_string().starts_with("/nonexistent/p.toml: "));
    }

    /// This profile made `analognas infer` spin forever in bound management.
    #[test]
    fn spinning_bound_management_profile_is_refused() {
        let text = "[periphery]\ninp_res = 0\nbm_max_factor = inf\nout_bound = 1e-6\n";
        assert_eq!(
            err(text),
            "p.toml:4:13: field periphery.out_bound: expected a number in [0.001, 1e6], or inf for no clipping, got 1e-6"
        );
        assert_eq!(
            err("[periphery]\ninp_res = 0\nbm_max_factor = inf\n"),
            "p.toml:3:17: field periphery.bm_max_factor: expected a number in [1, 1e6], got inf"
        );
        assert!(err("[periphery]\nbm_max_factor = nan\n").contains("got NaN"));
        assert!(err("[periphery]\nbm_max_factor = 1e7\n").contains("bm_max_factor"));
    }

    #[test]
    fn every_numeric_field_is_range_checked() {
        let cases = [
            ("[tile]\ncols = 65537", "tile.cols"),
            ("[pcm]\ng_max = 0", "pcm.g_max"),
            ("[pcm]\ng_max = inf", "pcm.g_max"),
            ("[pcm]\nprog_coeff = [nan, 1, 0]", "pcm.prog_coeff"),
            ("[pcm]\nprog_coeff = [1e300, 1e300, 0]", "pcm.prog_coeff"),
            ("[pcm]\nprog_coeff = [-0.1, 1, 0]", "pcm.prog_coeff"),
            ("[pcm]\nprog_coeff = [0.1, -1, 0.5]", "pcm.prog_coeff"),
            ("[pcm]\nt0 = 0", "pcm.t0"),
            ("[pcm]\nt0 = 1e9", "pcm.t0"),
            ("[pcm]\nt_read = -1e-9", "pcm.t_read"),
            ("[pcm]\nt_read = 2", "pcm.t_read"),
            ("[pcm]\nt_read = 1e-320", "pcm.t_read"),
            ("[pcm]\nprog_noise_scale = -1", "pcm.prog_noise_scale"),
            ("[pcm]\nread_noise_scale = nan", "pcm.read_noise_scale"),
            ("[pcm]\ndrift_scale = 1e6", "pcm.drift_scale"),
            ("[pcm]\npairs_per_weight = 0", "pcm.pairs_per_weight"),
            ("[pcm]\npairs_per_weight = 17", "pcm.pairs_per_weight"),
            ("[periphery]\ninp_res = 1", "periphery.inp_res"),
            ("[periphery]\ninp_res = 1e-9", "periphery.inp_res"),
            ("[periphery]\ninp_res = -0.01", "periphery.inp_res"),
            ("[periphery]\nout_res = 0.75", "periphery.out_res"),
            ("[periphery]\ninp_bound = 0", "periphery.inp_bound"),
            ("[periphery]\ninp_bound = -inf", "periphery.inp_bound"),
            ("[periphery]\nout_bound = nan", "periphery.out_bound"),
            ("[periphery]\nout_noise = inf", "periphery.out_noise"),
            (
                "[periphery]\nbm_max_factor = 0.5",
                "periphery.bm_max_factor",
            ),
            ("[periphery]\nbm_max_res = 0", "periphery.bm_max_res"),
            ("[periphery]\nbm_max_res = 2", "periphery.bm_max_res"),
            ("[training]\nweight_noise = 5", "training.weight_noise"),
            ("[training]\nclip_value = 0", "training.clip_value"),
        ];
        for (text, field) in cases {
            let e = err(text);
            assert!(
                e.starts_with("p.toml:2:") && e.contains(&format!(" field {field}: expected ")),
                "{text}: {e}"
            );
            assert!(!e.contains('\n'), "{e}");
        }
        assert_eq!(
            err("[pcm]\nprog_coeff = [nan, 1, 0]"),
            "p.toml:2:14: field pcm.prog_coeff: expected three numbers in [-10, 10] (uS), got [NaN, 1.0, 0.0]"
        );
        assert_eq!(
            err("[pcm]\nprog_coeff = [1e300, 1e300, 0]"),
            "p.toml:2:14: field pcm.prog_coeff: expected three numbers in [-10, 10] (uS), got [1e300, 1e300, 0.0]"
        );
        assert_eq!(
            err("[pcm]\ndrift_scale = 1e6"),
            "p.toml:2:15: field pcm.drift_scale: expected a number in [0, 10], got 1000000.0"
        );
        // The edges of the ranges are accepted, and so are the switched-off effects.
        let edges = "[tile]\nrows = 65536\ncols = 1\n[pcm]\nprog_noise_scale = 0\ndrift_scale = 10\n\
                     [periphery]\ninp_res = 0\nout_res = 0.5\ninp_bound = inf\nout_bound = 1e6\n\
                     bm_max_factor = 1e6\nout_noise = 0\n[training]\nweight_noise = 0\n";
        HwProfile::parse("p.toml", "p", edges).unwrap();
        HwProfile::default().check("default").unwrap();
        HwProfile::ideal().check("ideal").unwrap();
    }
}
