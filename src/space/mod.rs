//! Search spaces: which genomes exist (DESIGN.md 2), how to sample, mutate, cross and repair them.
//!
//! A space is read from a TOML file (`search_spaces/*.toml`):
//!
//! ```toml
//! name = "tiny"
//! downsample = "last_two"        # or "all_but_first"
//! [genes]
//! oc0 = [8, 16]                  # a list of values ...
//! ks0 = [3]
//! m = { min = 1, max = 2 }       # ... or min/max with an optional step
//! r = { min = 1, max = 2 }
//! b = [1, 2]
//! ct = ["A", "C"]
//! wf = [1, 2]
//! ```
//!
//! Every value must lie within the absolute gene limits ([`MAX_OC0`], [`MAX_KS0`] and odd,
//! [`MAX_BLOCKS`], [`MAX_R`], [`MAX_B`], [`MAX_WF`]), which include the paper's full ranges. Ranges
//! are checked before they are expanded and the space is counted arithmetically
//! ([`SearchSpace::size`]), so no file makes loading allocate much; genomes read from files are
//! checked against the same limits ([`Genome::check`]), and sample counts against
//! [`SearchSpace::MAX_SAMPLES`]. Errors are [`SpaceError`]s, one line each, e.g.
//! `space.toml:5:24: field genes.oc0.max: expected an integer in 1..=4096, got 9000`.

mod error;
mod genome;
mod ops;

pub use error::*;
pub use genome::*;
pub use ops::*;

use crate::error::{FieldError, Result, TomlError};
use serde::Deserialize;
use std::path::Path;

/// A gene range in a space file: a list of values or `{ min, max, step }`.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum RangeSpec {
    /// Explicit values.
    List(Vec<i64>),
    /// `min..=max` by `step` (default 1).
    Span {
        /// Smallest value.
        min: i64,
        /// Largest value.
        max: i64,
        /// Step between values; must be >= 1. Default: 1.
        #[serde(default = "one")]
        step: i64,
    },
}

fn one() -> i64 {
    1
}

/// The `[genes]` table of a space file, as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesFile {
    /// Stem output channels; values in 1..=[`MAX_OC0`] (4096).
    pub oc0: RangeSpec,
    /// Stem kernel size; odd values in 1..=[`MAX_KS0`] (11).
    pub ks0: RangeSpec,
    /// Number of main blocks; values in 1..=[`MAX_BLOCKS`] (5).
    pub m: RangeSpec,
    /// Residual blocks per main block; values in 1..=[`MAX_R`] (64).
    pub r: RangeSpec,
    /// Parallel branches per residual block; values in 1..=[`MAX_B`] (64).
    pub b: RangeSpec,
    /// Convolution types, a non-empty list of "A".."D".
    pub ct: Vec<String>,
    /// Widening factors; values in 1..=[`MAX_WF`] (16).
    pub wf: RangeSpec,
}

/// The `[hardware]` table of a space file, as written: the hardware genes of a co-search. Each
/// key is optional; a gene left out is not searched (the profile's value holds).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HardwareFile {
    /// Tile shapes, e.g. `["256x256", "512x512"]`; sides in 1..=[`MAX_TILE_SIDE`].
    #[serde(default)]
    pub tile: Option<Vec<String>>,
    /// ADC resolutions in bits, a list or `{ min, max, step }`; values in 2..=24.
    #[serde(default)]
    pub adc_bits: Option<RangeSpec>,
    /// DAC resolutions in bits, a list or `{ min, max, step }`; values in 2..=24.
    #[serde(default)]
    pub dac_bits: Option<RangeSpec>,
    /// Where depthwise convolutions run: a non-empty list of `"digital"`, `"analog"`.
    #[serde(default)]
    pub depthwise: Option<Vec<String>>,
}

/// The hardware genes of a validated space: each list sorted and deduplicated; an empty list
/// means the gene is not searched. At least one list is non-empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HardwareSpace {
    /// Allowed tile shapes.
    pub tile: Vec<TileShape>,
    /// Allowed ADC resolutions, bits.
    pub adc_bits: Vec<u32>,
    /// Allowed DAC resolutions, bits.
    pub dac_bits: Vec<u32>,
    /// Allowed depthwise placements.
    pub depthwise: Vec<DepthwiseGene>,
}

impl HardwareSpace {
    /// Every hardware configuration of the space (the product of its gene lists).
    pub fn configs(&self) -> Vec<HwGenes> {
        fn axis<T: Copy>(v: &[T]) -> Vec<Option<T>> {
            if v.is_empty() {
                vec![None]
            } else {
                v.iter().copied().map(Some).collect()
            }
        }
        let mut out = Vec::new();
        for &tile in &axis(&self.tile) {
            for &adc_bits in &axis(&self.adc_bits) {
                for &dac_bits in &axis(&self.dac_bits) {
                    for &depthwise in &axis(&self.depthwise) {
                        out.push(HwGenes {
                            tile,
                            adc_bits,
                            dac_bits,
                            depthwise,
                        });
                    }
                }
            }
        }
        out
    }

    /// Number of hardware configurations.
    pub fn size(&self) -> f64 {
        [
            self.tile.len(),
            self.adc_bits.len(),
            self.dac_bits.len(),
            self.depthwise.len(),
        ]
        .iter()
        .map(|&n| n.max(1) as f64)
        .product()
    }
}

/// A search-space file, as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpaceFile {
    /// Name of the space (default: the file stem).
    #[serde(default)]
    pub name: Option<String>,
    /// One line on what the space is for.
    #[serde(default)]
    pub description: Option<String>,
    /// Downsampling rule. Default: "last_two".
    #[serde(default)]
    pub downsample: Downsample,
    /// Gene ranges.
    pub genes: GenesFile,
    /// Hardware genes of a co-search (optional).
    #[serde(default)]
    pub hardware: Option<HardwareFile>,
}

/// A validated search space: every list is non-empty and sorted, every value legal.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchSpace {
    /// Name of the space.
    pub name: String,
    /// One line on what the space is for.
    pub description: String,
    /// Downsampling rule of every genome of the space.
    pub downsample: Downsample,
    /// Allowed stem widths.
    pub oc0: Vec<u32>,
    /// Allowed stem kernel sizes.
    pub ks0: Vec<u32>,
    /// Allowed numbers of main blocks.
    pub m: Vec<u32>,
    /// Allowed residual-block counts.
    pub r: Vec<u32>,
    /// Allowed branch counts.
    pub b: Vec<u32>,
    /// Allowed convolution types.
    pub ct: Vec<ConvType>,
    /// Allowed widening factors.
    pub wf: Vec<u32>,
    /// Hardware genes of a co-search (`[hardware]`); `None` searches networks only.
    pub hardware: Option<HardwareSpace>,
}

impl SpaceFile {
    /// Parses a space file from TOML text without checking the ranges; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Self, SpaceError> {
        toml::from_str(text).map_err(|e| TomlError::new(file, text, &e).into())
    }

    /// Checks every range against the absolute gene limits and turns the file into the space
    /// the rest of the code trusts: lists sorted and deduplicated, every value legal. Ranges are
    /// checked before they are expanded, so no file can make this allocate more than
    /// [`MAX_OC0`] values for a gene. `file` names the source in errors and `default_name` is
    /// the name when the file has none.
    pub fn validate(self, file: &str, default_name: &str) -> Result<SearchSpace, SpaceError> {
        let g = &self.genes;
        let oc0 = gene_values(file, "oc0", &g.oc0, MAX_OC0)?;
        let ks0 = gene_values(file, "ks0", &g.ks0, MAX_KS0)?;
        if let Some(k) = ks0.iter().find(|k| *k % 2 == 0) {
            return Err(SpaceError::Range(FieldError::new(
                file,
                "genes.ks0",
                "odd kernel sizes",
                k,
            )));
        }
        let m = gene_values(file, "m", &g.m, MAX_BLOCKS as u32)?;
        let r = gene_values(file, "r", &g.r, MAX_R)?;
        let b = gene_values(file, "b", &g.b, MAX_B)?;
        let ct_expected = "\"A\", \"B\", \"C\" or \"D\"";
        if g.ct.is_empty() {
            return Err(SpaceError::Range(FieldError::missing(
                file,
                "genes.ct",
                format!("a non-empty list of {ct_expected}"),
            )));
        }
        let mut ct = Vec::new();
        for s in &g.ct {
            let t = ConvType::parse(s).ok_or_else(|| {
                SpaceError::Range(FieldError::new(
                    file,
                    "genes.ct",
                    ct_expected,
                    format!("\"{s}\""),
                ))
            })?;
            if !ct.contains(&t) {
                ct.push(t);
            }
        }
        ct.sort();
        let wf = gene_values(file, "wf", &g.wf, MAX_WF)?;
        let hardware = match &self.hardware {
            Some(h) => Some(hardware_values(file, h)?),
            None => None,
        };
        Ok(SearchSpace {
            hardware,
            oc0,
            ks0,
            m,
            r,
            b,
            ct,
            wf,
            name: self.name.unwrap_or_else(|| default_name.to_string()),
            description: self.description.unwrap_or_default(),
            downsample: self.downsample,
        })
    }
}

/// The validated `[hardware]` section: every list non-empty, every value legal, at least one
/// gene.
fn hardware_values(file: &str, h: &HardwareFile) -> Result<HardwareSpace, SpaceError> {
    let range = |field: &str, expected: &str, got: String| {
        SpaceError::Range(FieldError::new(
            file,
            format!("hardware.{field}"),
            expected,
            got,
        ))
    };
    let mut out = HardwareSpace::default();
    if let Some(list) = &h.tile {
        let expected = format!(
            "a non-empty list of tile shapes \"ROWSxCOLS\" with sides in 1..={MAX_TILE_SIDE}"
        );
        if list.is_empty() {
            return Err(SpaceError::Range(FieldError::missing(
                file,
                "hardware.tile",
                expected,
            )));
        }
        for t in list {
            let shape = TileShape::parse(t)
                .filter(|s| {
                    (1..=MAX_TILE_SIDE).contains(&s.rows) && (1..=MAX_TILE_SIDE).contains(&s.cols)
                })
                .ok_or_else(|| range("tile", &expected, format!("\"{t}\"")))?;
            out.tile.push(shape);
        }
        out.tile.sort_unstable();
        out.tile.dedup();
    }
    let (lo, hi) = (*CONVERTER_BITS.start(), *CONVERTER_BITS.end());
    if let Some(spec) = &h.adc_bits {
        out.adc_bits = bounded_values(file, "hardware", "adc_bits", spec, lo, hi)?;
    }
    if let Some(spec) = &h.dac_bits {
        out.dac_bits = bounded_values(file, "hardware", "dac_bits", spec, lo, hi)?;
    }
    if let Some(list) = &h.depthwise {
        let expected = "a non-empty list of \"digital\", \"analog\"";
        if list.is_empty() {
            return Err(SpaceError::Range(FieldError::missing(
                file,
                "hardware.depthwise",
                expected,
            )));
        }
        for d in list {
            let gene = DepthwiseGene::parse(d)
                .ok_or_else(|| range("depthwise", expected, format!("\"{d}\"")))?;
            out.depthwise.push(gene);
        }
        out.depthwise.sort_unstable();
        out.depthwise.dedup();
    }
    if out.tile.is_empty()
        && out.adc_bits.is_empty()
        && out.dac_bits.is_empty()
        && out.depthwise.is_empty()
    {
        return Err(SpaceError::Range(FieldError::missing(
            file,
            "hardware",
            "at least one of tile, adc_bits, dac_bits, depthwise",
        )));
    }
    Ok(out)
}

/// The sorted, deduplicated values of the range `spec` of gene `key`, each in `1..=max`. The
/// bounds of a `{ min, max, step }` range are checked before it is expanded.
fn gene_values(file: &str, key: &str, spec: &RangeSpec, max: u32) -> Result<Vec<u32>, SpaceError> {
    bounded_values(file, "genes", key, spec, 1, max)
}

/// The sorted, deduplicated values of the range `spec` of `section.key`, each in `lo..=max`.
fn bounded_values(
    file: &str,
    section: &str,
    key: &str,
    spec: &RangeSpec,
    lo: u32,
    max: u32,
) -> Result<Vec<u32>, SpaceError> {
    let hi = i64::from(max);
    let low = i64::from(lo);
    let expected = format!("an integer in {lo}..={max}");
    let bad = |field: String, expected: String, got: String| {
        SpaceError::Range(FieldError::new(file, field, expected, got))
    };
    let mut v: Vec<i64> = match spec {
        RangeSpec::List(v) => {
            if v.is_empty() {
                return Err(SpaceError::Range(FieldError::missing(
                    file,
                    format!("{section}.{key}"),
                    "a non-empty range",
                )));
            }
            if let Some(x) = v.iter().find(|&&x| !(low..=hi).contains(&x)) {
                return Err(bad(
                    format!("{section}.{key}"),
                    format!("values in {lo}..={max}"),
                    x.to_string(),
                ));
            }
            v.clone()
        }
        RangeSpec::Span { min, max, step } => {
            if *step < 1 {
                return Err(bad(
                    format!("{section}.{key}.step"),
                    "an integer >= 1".into(),
                    step.to_string(),
                ));
            }
            for (k, x) in [("min", min), ("max", max)] {
                if !(low..=hi).contains(x) {
                    return Err(bad(
                        format!("{section}.{key}.{k}"),
                        expected.clone(),
                        x.to_string(),
                    ));
                }
            }
            if min > max {
                return Err(bad(
                    format!("{section}.{key}"),
                    "min <= max".into(),
                    format!("min {min} > max {max}"),
                ));
            }
            // Both bounds are in 1..=hi, so this is at most `hi` values.
            (*min..=*max).step_by(*step as usize).collect()
        }
    };
    v.sort_unstable();
    v.dedup();
    Ok(v.into_iter().map(|x| x as u32).collect())
}

impl SearchSpace {
    /// Most genomes one request may draw ([`SearchSpace::sample_many`],
    /// [`SearchSpace::check_sample_count`]): a million genomes take a few hundred MB.
    pub const MAX_SAMPLES: usize = 1_000_000;

    /// Reads and validates a space file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        Ok(Self::read(path)?)
    }

    /// Parses and validates a space from TOML text; `file` names it in errors.
    pub fn parse(file: &str, default_name: &str, text: &str) -> Result<Self> {
        Ok(Self::from_toml(file, default_name, text)?)
    }

    /// [`SearchSpace::load`] with the module's own error type.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, SpaceError> {
        let path = path.as_ref();
        let f = crate::files::read_named(path).map_err(|source| SpaceError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml(&f.shown, &f.stem, &f.text)
    }

    /// [`SearchSpace::parse`] with the module's own error type: errors about a range carry the
    /// line and column of the value in `text`.
    pub fn from_toml(file: &str, default_name: &str, text: &str) -> Result<Self, SpaceError> {
        SpaceFile::parse(file, text)?
            .validate(file, default_name)
            .map_err(|e| e.located(text))
    }

    /// Checks a requested number of genomes: 1..=[`SearchSpace::MAX_SAMPLES`]. Call it before
    /// drawing or allocating anything for a count that comes from the user.
    pub fn check_sample_count(n: usize) -> Result<(), SpaceError> {
        if (1..=Self::MAX_SAMPLES).contains(&n) {
            Ok(())
        } else {
            Err(SpaceError::SampleCount {
                got: n,
                max: Self::MAX_SAMPLES,
            })
        }
    }

    /// `n` genomes, by Latin hypercube with `lhs` ([`SearchSpace::sample_lhs`]) or else drawn
    /// one by one ([`SearchSpace::sample`]), after [`SearchSpace::check_sample_count`].
    pub fn sample_many<R: rand::Rng + ?Sized>(
        &self,
        n: usize,
        lhs: bool,
        rng: &mut R,
    ) -> Result<Vec<Genome>, SpaceError> {
        Self::check_sample_count(n)?;
        Ok(if lhs {
            self.sample_lhs(n, rng)
        } else {
            (0..n).map(|_| self.sample(rng)).collect()
        })
    }

    /// Number of distinct architectures in the space.
    pub fn size(&self) -> f64 {
        let per_block = (self.r.len() * self.b.len() * self.ct.len() * self.wf.len()) as f64;
        let stem = (self.oc0.len() * self.ks0.len()) as f64;
        let hardware = self.hardware.as_ref().map_or(1.0, HardwareSpace::size);
        hardware
            * self
                .m
                .iter()
                .map(|&m| stem * per_block.powi(m as i32))
                .sum::<f64>()
    }

    /// The hardware genes of every configuration of the space: `[None]` without `[hardware]`.
    pub fn hardware_configs(&self) -> Vec<Option<HwGenes>> {
        match &self.hardware {
            Some(h) => h.configs().into_iter().map(Some).collect(),
            None => vec![None],
        }
    }

    /// Largest number of main blocks.
    pub fn max_m(&self) -> usize {
        *self.m.last().expect("validated space") as usize
    }

    /// Whether `g` lies in this space.
    pub fn contains(&self, g: &Genome) -> bool {
        self.violation(g).is_none()
    }

    /// The first gene of `g` outside this space, as `gene = value`, or `None` when valid.
    pub fn violation(&self, g: &Genome) -> Option<String> {
        if !self.oc0.contains(&g.oc0) {
            return Some(format!("oc0 = {}", g.oc0));
        }
        if !self.ks0.contains(&g.ks0) {
            return Some(format!("ks0 = {}", g.ks0));
        }
        if !self.m.contains(&(g.m() as u32)) {
            return Some(format!("m = {}", g.m()));
        }
        if g.downsample != self.downsample {
            return Some(format!("downsample = {:?}", g.downsample));
        }
        for (i, b) in g.blocks.iter().enumerate() {
            let n = i + 1;
            if !self.r.contains(&b.r) {
                return Some(format!("r{n} = {}", b.r));
            }
            if !self.b.contains(&b.b) {
                return Some(format!("b{n} = {}", b.b));
            }
            if !self.ct.contains(&b.ct) {
                return Some(format!("ct{n} = {}", b.ct));
            }
            if !self.wf.contains(&b.wf) {
                return Some(format!("wf{n} = {}", b.wf));
            }
        }
        self.hardware_violation(g.hardware.as_ref())
    }

    /// The first hardware gene of `h` outside this space's `[hardware]`, or `None`.
    fn hardware_violation(&self, h: Option<&HwGenes>) -> Option<String> {
        let (space, h) = match (&self.hardware, h) {
            (None, None) => return None,
            (None, Some(h)) => {
                return Some(format!(
                    "hardware = {{{}}} (the space has no [hardware] genes)",
                    h.summary()
                ));
            }
            (Some(_), None) => {
                return Some("hardware = none (the space has [hardware] genes)".into());
            }
            (Some(s), Some(h)) => (s, h),
        };
        fn gene<T: PartialEq + std::fmt::Display>(
            name: &str,
            allowed: &[T],
            got: Option<T>,
        ) -> Option<String> {
            match got {
                None if allowed.is_empty() => None,
                None => Some(format!("{name} = none")),
                Some(v) if !allowed.contains(&v) => Some(format!("{name} = {v}")),
                Some(_) => None,
            }
        }
        gene("tile", &space.tile, h.tile)
            .or_else(|| gene("adc_bits", &space.adc_bits, h.adc_bits))
            .or_else(|| gene("dac_bits", &space.dac_bits, h.dac_bits))
            .or_else(|| gene("depthwise", &space.depthwise, h.depthwise))
    }

    /// One line per gene: its name and allowed values.
    pub fn describe(&self) -> Vec<(String, String)> {
        let fmt = |v: &[u32]| v.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
        let mut lines: Vec<(String, String)> = vec![
            ("oc0".into(), fmt(&self.oc0)),
            ("ks0".into(), fmt(&self.ks0)),
            ("m".into(), fmt(&self.m)),
            ("r (per main block)".into(), fmt(&self.r)),
            ("b (per main block)".into(), fmt(&self.b)),
            (
                "ct (per main block)".into(),
                self.ct
                    .iter()
                    .map(ConvType::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            ("wf (per main block)".into(), fmt(&self.wf)),
            ("downsample".into(), format!("{:?}", self.downsample)),
        ];
        if let Some(h) = &self.hardware {
            let list = |v: Vec<String>| v.join(", ");
            let genes = [
                (
                    "hardware tile",
                    list(h.tile.iter().map(|t| t.to_string()).collect()),
                ),
                ("hardware adc_bits", fmt(&h.adc_bits)),
                ("hardware dac_bits", fmt(&h.dac_bits)),
                (
                    "hardware depthwise",
                    list(h.depthwise.iter().map(|d| d.to_string()).collect()),
                ),
            ];
            for (name, values) in genes {
                if !values.is_empty() {
                    lines.push((name.into(), values));
                }
            }
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const TINY: &str = r#"
name = "tiny"
downsample = "last_two"
[genes]
oc0 = [8, 16]
ks0 = [3]
m = { min = 1, max = 2 }
r = { min = 1, max = 2 }
b = [1, 2]
ct = ["A", "B", "C", "D"]
wf = [1, 2]
"#;

    fn err(text: &str) -> String {
        SearchSpace::parse("s.toml", "s", text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn parses_and_counts() {
        let s = SearchSpace::parse("t.toml", "t", TINY).unwrap();
        assert_eq!(s.m, vec![1, 2]);
        let per = (2 * 2 * 4 * 2) as f64;
        assert_eq!(s.size(), 2.0 * (per + per * per));
    }

    #[test]
    fn errors_name_file_and_key() {
        let unknown = TINY.replace("wf = [1, 2]", "wf = [1, 2]\nfoo = 3");
        let e = err(&unknown);
        assert!(e.starts_with("s.toml:") && e.contains("foo"), "{e}");
        let empty = TINY.replace("b = [1, 2]", "b = []");
        assert_eq!(
            err(&empty),
            "s.toml:9:5: field genes.b: expected a non-empty range"
        );
        let minmax = TINY.replace("r = { min = 1, max = 2 }", "r = { min = 3, max = 2 }");
        assert_eq!(
            err(&minmax),
            "s.toml:8:5: field genes.r: expected min <= max, got min 3 > max 2"
        );
        let ty = TINY.replace("ks0 = [3]", "ks0 = \"three\"");
        let e = err(&ty);
        assert!(e.starts_with("s.toml:6:7: field genes.ks0:"), "{e}");
        let m = TINY.replace("m = { min = 1, max = 2 }", "m = [1, 9]");
        assert_eq!(
            err(&m),
            "s.toml:7:5: field genes.m: expected values in 1..=5, got 9"
        );
        let ct = TINY.replace("\"D\"]", "\"E\"]");
        assert_eq!(
            err(&ct),
            "s.toml:10:6: field genes.ct: expected \"A\", \"B\", \"C\" or \"D\", got \"E\""
        );
        let missing = SearchSpace::load("/nonexistent/space.toml")
            .unwrap_err()
            .to_string();
        assert!(
            missing.starts_with("/nonexistent/space.toml: "),
            "{missing}"
        );
    }

    /// Ranges are checked against the absolute limits before they are expanded: these used to
    /// panic with a capacity overflow or abort on a 32 GB allocation in `space info`.
    #[test]
    fn huge_ranges_are_refused_before_allocating() {
        let with = |old: &str, new: &str| {
            assert!(TINY.contains(old), "{old}");
            err(&TINY.replace(old, new))
        };
        assert_eq!(
            with(
                "oc0 = [8, 16]",
                "oc0 = { min = 1, max = 9223372036854775807 }"
            ),
            "s.toml:5:24: field genes.oc0.max: expected an integer in 1..=4096, got 9223372036854775807"
        );
        assert_eq!(
            with("oc0 = [8, 16]", "oc0 = { min = 1, max = 4000000000 }"),
            "s.toml:5:24: field genes.oc0.max: expected an integer in 1..=4096, got 4000000000"
        );
        assert_eq!(
            with("oc0 = [8, 16]", "oc0 = { min = 0, max = 8 }"),
            "s.toml:5:15: field genes.oc0.min: expected an integer in 1..=4096, got 0"
        );
        assert_eq!(
            with("oc0 = [8, 16]", "oc0 = { min = 8, max = 16, step = 0 }"),
            "s.toml:5:35: field genes.oc0.step: expected an integer >= 1, got 0"
        );
        assert_eq!(
            with("oc0 = [8, 16]", "oc0 = [8, -16]"),
            "s.toml:5:7: field genes.oc0: expected values in 1..=4096, got -16"
        );
        assert_eq!(
            with("wf = [1, 2]", "wf = [1, 17]"),
            "s.toml:11:6: field genes.wf: expected values in 1..=16, got 17"
        );
        assert_eq!(
            with("r = { min = 1, max = 2 }", "r = { min = 1, max = 65 }"),
            "s.toml:8:22: field genes.r.max: expected an integer in 1..=64, got 65"
        );
        assert_eq!(
            with("b = [1, 2]", "b = [1, 65]"),
            "s.toml:9:5: field genes.b: expected values in 1..=64, got 65"
        );
        assert_eq!(
            with("ks0 = [3]", "ks0 = [13]"),
            "s.toml:6:7: field genes.ks0: expected values in 1..=11, got 13"
        );
        assert_eq!(
            with("ks0 = [3]", "ks0 = [3, 4]"),
            "s.toml:6:7: field genes.ks0: expected odd kernel sizes, got 4"
        );
        let e = SearchSpace::from_toml("s.toml", "s", &TINY.replace("wf = [1, 2]", "wf = [0]"));
        assert!(matches!(e, Err(SpaceError::Range(_))), "{e:?}");
    }

    /// The largest space the limits allow is counted without expanding anything.
    #[test]
    fn largest_space_is_counted_arithmetically() {
        let text = "[genes]\noc0 = { min = 1, max = 4096 }\nks0 = [1, 3, 5, 7, 9, 11]\nm = { min = 1, max = 5 }\nr = { min = 1, max = 64 }\nb = { min = 1, max = 64 }\nct = [\"A\", \"B\", \"C\", \"D\"]\nwf = { min = 1, max = 16 }\n";
        let s = SearchSpace::parse("big.toml", "big", text).unwrap();
        assert_eq!(s.name, "big");
        assert_eq!(s.oc0.len(), 4096);
        assert!(s.size().is_finite() && s.size() > 1e27, "{}", s.size());
        let paper = SearchSpace::load(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/search_spaces/paper.toml"
        ))
        .unwrap();
        assert!(paper.size() > 1e12, "{}", paper.size());
    }

    pub(crate) const COSEARCH: &str = r#"
[genes]
oc0 = [8, 16]
ks0 = [3]
m = [1, 2]
r = [1]
b = [1, 2]
ct = ["A", "D"]
wf = [1, 2]
[hardware]
tile = ["512x512", "256x256", "256x256"]
adc_bits = { min = 6, max = 8, step = 2 }
depthwise = ["analog", "digital"]
"#;

    #[test]
    fn hardware_section_parses_and_counts() {
        let s = SearchSpace::parse("c.toml", "c", COSEARCH).unwrap();
        let h = s.hardware.as_ref().unwrap();
        let t = |rows, cols| TileShape { rows, cols };
        assert_eq!(h.tile, vec![t(256, 256), t(512, 512)]);
        assert_eq!(h.adc_bits, vec![6, 8]);
        assert!(h.dac_bits.is_empty());
        assert_eq!(
            h.depthwise,
            vec![DepthwiseGene::Digital, DepthwiseGene::Analog]
        );
        assert_eq!(h.configs().len(), 8);
        assert_eq!(s.hardware_configs().len(), 8);
        let net = SearchSpace::parse("c.toml", "c", COSEARCH.split("[hardware]").next().unwrap())
            .unwrap();
        assert_eq!(net.hardware_configs(), vec![None]);
        assert_eq!(s.size(), 8.0 * net.size());
        let lines = s.describe();
        assert!(lines.contains(&("hardware tile".into(), "256x256, 512x512".into())));
        assert!(!lines.iter().any(|(k, _)| k == "hardware dac_bits"));
        // Membership: hardware genes must match the space's section, and only it.
        let mut g = s.sample(&mut crate::rng::seeded(1));
        assert!(s.contains(&g), "{:?}", s.violation(&g));
        assert_eq!(
            net.violation(&g).unwrap(),
            format!(
                "hardware = {{{}}} (the space has no [hardware] genes)",
                g.hardware.unwrap().summary()
            )
        );
        g.hardware.as_mut().unwrap().adc_bits = Some(7);
        assert_eq!(s.violation(&g).unwrap(), "adc_bits = 7");
        g.hardware.as_mut().unwrap().adc_bits = None;
        assert_eq!(s.violation(&g).unwrap(), "adc_bits = none");
        g.hardware = None;
        assert!(s.violation(&g).unwrap().starts_with("hardware = none"));
    }

    #[test]
    fn hardware_errors_name_file_field_and_expectation() {
        let with = |old: &str, new: &str| {
            assert!(COSEARCH.contains(old), "{old}");
            err(&COSEARCH.replace(old, new))
        };
        assert_eq!(
            with("\"256x256\", \"256x256\"", "\"256x0\""),
            "s.toml:11:8: field hardware.tile: expected a non-empty list of tile shapes \"ROWSxCOLS\" with sides in 1..=65536, got \"256x0\""
        );
        assert_eq!(
            with(
                "adc_bits = { min = 6, max = 8, step = 2 }",
                "adc_bits = [8, 30]"
            ),
            "s.toml:12:12: field hardware.adc_bits: expected values in 2..=24, got 30"
        );
        assert_eq!(
            with(
                "adc_bits = { min = 6, max = 8, step = 2 }",
                "dac_bits = { min = 1, max = 8 }"
            ),
            "s.toml:12:20: field hardware.dac_bits.min: expected an integer in 2..=24, got 1"
        );
        assert_eq!(
            with("[\"analog\", \"digital\"]", "[]"),
            "s.toml:13:13: field hardware.depthwise: expected a non-empty list of \"digital\", \"analog\""
        );
        let e = with("depthwise", "dw");
        assert!(
            e.starts_with("s.toml:13:1: field hardware.dw: unknown field"),
            "{e}"
        );
        let empty = COSEARCH.split("tile =").next().unwrap();
        assert_eq!(
            err(empty),
            "s.toml: field hardware: expected at least one of tile, adc_bits, dac_bits, depthwise"
        );
    }

    /// `space sample -n 100000000` used to abort on its allocation: the count is checked first.
    #[test]
    fn sample_counts_are_checked() {
        let s = SearchSpace::parse("t.toml", "t", TINY).unwrap();
        let mut rng = crate::rng::seeded(1);
        for n in [0, SearchSpace::MAX_SAMPLES + 1, 100_000_000, usize::MAX] {
            let e = s.sample_many(n, true, &mut rng).unwrap_err();
            assert!(matches!(e, SpaceError::SampleCount { got, .. } if got == n));
            assert_eq!(
                e.to_string(),
                format!("expected a sample count in 1..=1000000, got {n}")
            );
        }
        assert!(SearchSpace::check_sample_count(SearchSpace::MAX_SAMPLES).is_ok());
        let uniform = s.sample_many(5, false, &mut crate::rng::seeded(2)).unwrap();
        let mut rng = crate::rng::seeded(2);
        let by_hand: Vec<Genome> = (0..5).map(|_| s.sample(&mut rng)).collect();
        assert_eq!(uniform, by_hand);
        let lhs = s.sample_many(5, true, &mut crate::rng::seeded(2)).unwrap();
        assert_eq!(lhs, s.sample_lhs(5, &mut crate::rng::seeded(2)));
    }
}
