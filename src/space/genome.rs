//! The genome: the paper's macro-architecture of a ResNet-like network (DESIGN.md 2.1).

use super::SpaceError;
use crate::error::FieldError;
use serde::{Deserialize, Serialize};

// Absolute gene limits. Every search-space range and every genome read from a file is checked
// against them before anything is allocated for it; they include the paper's full ranges
// (DESIGN.md 2.1) with room to spare.

/// Most main blocks a genome can have (the paper's range of `m`, 1..=5).
pub const MAX_BLOCKS: usize = 5;
/// Largest stem width `oc0` (the paper's range is 8..=128).
pub const MAX_OC0: u32 = 4096;
/// Largest stem kernel size `ks0`, which must be odd (the paper's set is {3, 5, 7}).
pub const MAX_KS0: u32 = 11;
/// Largest number of residual blocks `r` per main block (the paper's range is 1..=16).
pub const MAX_R: u32 = 64;
/// Largest number of parallel branches `b` per residual block (the paper's range is 1..=12).
pub const MAX_B: u32 = 64;
/// Largest widening factor `wf` (the paper's range is 1..=4).
pub const MAX_WF: u32 = 16;
/// Length of the surrogate's gene feature vector (DESIGN.md 5).
pub const GENE_FEATURES: usize = 3 + MAX_BLOCKS + 3 * MAX_BLOCKS;
/// Largest tile side (rows or columns) a hardware gene may ask for (the profile's limit,
/// `hw::TileConfig::MAX_SIZE`).
pub const MAX_TILE_SIDE: u32 = 65_536;
/// Converter resolutions a hardware gene may ask for, in bits: 2 bits is the coarsest
/// resolution a profile accepts (3 levels), 24 the finest.
pub const CONVERTER_BITS: std::ops::RangeInclusive<u32> = 2..=24;

/// Convolution-block type of the branches of a main block (DESIGN.md 2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ConvType {
    /// Basic: 3x3 -> 3x3.
    A,
    /// Bottleneck: 1x1 (to c/4) -> 3x3 -> 1x1 (to c).
    B,
    /// Single 3x3.
    C,
    /// Separable: depthwise 3x3 -> pointwise 1x1.
    D,
}

impl ConvType {
    /// All four types in order.
    pub const ALL: [ConvType; 4] = [ConvType::A, ConvType::B, ConvType::C, ConvType::D];

    /// The type's code in feature vectors: A = 1 .. D = 4.
    pub fn code(self) -> u32 {
        self as u32 + 1
    }

    /// Parses "A".."D".
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "A" | "a" => Some(ConvType::A),
            "B" | "b" => Some(ConvType::B),
            "C" | "c" => Some(ConvType::C),
            "D" | "d" => Some(ConvType::D),
            _ => None,
        }
    }
}

impl std::fmt::Display for ConvType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

/// Which main blocks downsample by stride 2 in their first residual block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Downsample {
    /// The last two main blocks (the paper's intent; with one main block, that block).
    #[default]
    LastTwo,
    /// Every main block but the first (the classic ResNet convention).
    AllButFirst,
}

impl Downsample {
    /// Whether main block `i` (0-based) of `m` downsamples.
    pub fn downsamples(self, i: usize, m: usize) -> bool {
        match self {
            Downsample::LastTwo => i + 2 >= m,
            Downsample::AllButFirst => i > 0,
        }
    }
}

/// Genes of one main block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MainBlock {
    /// Residual blocks in the main block.
    pub r: u32,
    /// Parallel branches in each residual block.
    pub b: u32,
    /// Convolution-block type of the branches.
    pub ct: ConvType,
    /// Widening factor: the block's width is `oc0 * wf`.
    pub wf: u32,
}

/// A crossbar tile shape, written `"ROWSxCOLS"` (e.g. `"256x256"`) in space files and genomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileShape {
    /// Rows (inputs) of a tile.
    pub rows: u32,
    /// Columns (outputs) of a tile.
    pub cols: u32,
}

impl TileShape {
    /// Parses `"ROWSxCOLS"` (spaces around the parts allowed); `None` when malformed. The
    /// sides are not range-checked here.
    pub fn parse(s: &str) -> Option<Self> {
        let (r, c) = s.trim().split_once(['x', 'X'])?;
        Some(TileShape {
            rows: r.trim().parse().ok()?,
            cols: c.trim().parse().ok()?,
        })
    }
}

impl std::fmt::Display for TileShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}x{}", self.rows, self.cols)
    }
}

impl Serialize for TileShape {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TileShape {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        TileShape::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!("expected a tile shape \"ROWSxCOLS\", got {s:?}"))
        })
    }
}

/// Where depthwise convolutions run, as a hardware gene (the profile's `tile.depthwise`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DepthwiseGene {
    /// In the digital periphery (no tiles).
    Digital,
    /// On tiles, block-diagonal.
    Analog,
}

impl DepthwiseGene {
    /// Parses `"digital"` or `"analog"`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "digital" => Some(DepthwiseGene::Digital),
            "analog" => Some(DepthwiseGene::Analog),
            _ => None,
        }
    }
}

impl std::fmt::Display for DepthwiseGene {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DepthwiseGene::Digital => "digital",
            DepthwiseGene::Analog => "analog",
        })
    }
}

/// The hardware genes of a co-search genome (a search space's `[hardware]` section). Each gene
/// that is set overrides the corresponding field of the hardware profile
/// (`HwProfile::with_genes`); a gene left out keeps the profile's value. Only the genes that
/// are set appear in the canonical JSON.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HwGenes {
    /// Tile shape (the profile's `tile.rows` x `tile.cols`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tile: Option<TileShape>,
    /// ADC resolution in bits: the profile's `periphery.out_res` becomes `1/(2^bits - 2)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adc_bits: Option<u32>,
    /// DAC resolution in bits: the profile's `periphery.inp_res` becomes `1/(2^bits - 2)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dac_bits: Option<u32>,
    /// Where depthwise convolutions run (the profile's `tile.depthwise`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depthwise: Option<DepthwiseGene>,
}

impl HwGenes {
    /// Short form, e.g. `tile=256x256 adc=6 dac=8 dw=analog` (only the genes that are set).
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if let Some(t) = self.tile {
            parts.push(format!("tile={t}"));
        }
        if let Some(b) = self.adc_bits {
            parts.push(format!("adc={b}"));
        }
        if let Some(b) = self.dac_bits {
            parts.push(format!("dac={b}"));
        }
        if let Some(d) = self.depthwise {
            parts.push(format!("dw={d}"));
        }
        parts.join(" ")
    }

    /// Checks every gene that is set: tile sides in 1..=[`MAX_TILE_SIDE`], converter bits in
    /// [`CONVERTER_BITS`]; errors name `file` and the field `{prefix}hardware.GENE`.
    pub(crate) fn check_fields(&self, file: &str, prefix: &str) -> Result<(), SpaceError> {
        let bad = |field: &str, expected: String, got: String| {
            Err(SpaceError::Gene(FieldError::new(
                file,
                format!("{prefix}hardware.{field}"),
                expected,
                got,
            )))
        };
        let side = 1..=MAX_TILE_SIDE;
        if let Some(t) = self.tile
            && !(side.contains(&t.rows) && side.contains(&t.cols))
        {
            return bad(
                "tile",
                format!("rows and columns in 1..={MAX_TILE_SIDE}"),
                format!("\"{t}\""),
            );
        }
        for (gene, v) in [("adc_bits", self.adc_bits), ("dac_bits", self.dac_bits)] {
            if let Some(b) = v
                && !CONVERTER_BITS.contains(&b)
            {
                let (lo, hi) = (CONVERTER_BITS.start(), CONVERTER_BITS.end());
                return bad(gene, format!("an integer in {lo}..={hi}"), b.to_string());
            }
        }
        Ok(())
    }
}

/// A genome: stem, main blocks, the downsampling rule of its space and, in a co-search, the
/// hardware genes.
///
/// `m` is `blocks.len()`; genes of blocks beyond `m` do not exist. A genome without hardware
/// genes has the canonical JSON (and id) it had before hardware genes existed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genome {
    /// Output channels of the stem convolution.
    pub oc0: u32,
    /// Stem kernel size.
    pub ks0: u32,
    /// The main blocks, in order.
    pub blocks: Vec<MainBlock>,
    /// Downsampling rule (from the search space).
    #[serde(default)]
    pub downsample: Downsample,
    /// Hardware genes (a co-search space's `[hardware]`); `None` in a network-only space, and
    /// then absent from the canonical JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hardware: Option<HwGenes>,
}

impl Genome {
    /// Number of main blocks.
    pub fn m(&self) -> usize {
        self.blocks.len()
    }

    /// Checks every gene against the absolute limits ([`MAX_OC0`], [`MAX_KS0`] and odd,
    /// 1..=[`MAX_BLOCKS`] main blocks, [`MAX_R`], [`MAX_B`], [`MAX_WF`]; all >= 1), so that a
    /// genome read from a file cannot ask for an absurd network. `file` names the source in the
    /// error, which names the gene as its JSON field (`oc0`, `blocks[2].wf`).
    pub fn check(&self, file: &str) -> Result<(), SpaceError> {
        self.check_fields(file, "")
    }

    /// [`Genome::check`] with `prefix` before every field name (`genome.` inside an architecture).
    pub(crate) fn check_fields(&self, file: &str, prefix: &str) -> Result<(), SpaceError> {
        let bad = |field: &str, expected: String, got: u64| {
            Err(SpaceError::Gene(FieldError::new(
                file,
                format!("{prefix}{field}"),
                expected,
                got,
            )))
        };
        let int_in = |max: u32| format!("an integer in 1..={max}");
        if !(1..=MAX_OC0).contains(&self.oc0) {
            return bad("oc0", int_in(MAX_OC0), self.oc0.into());
        }
        if !(1..=MAX_KS0).contains(&self.ks0) || self.ks0.is_multiple_of(2) {
            return bad(
                "ks0",
                format!("an odd integer in 1..={MAX_KS0}"),
                self.ks0.into(),
            );
        }
        if !(1..=MAX_BLOCKS).contains(&self.blocks.len()) {
            return Err(SpaceError::Gene(FieldError::new(
                file,
                format!("{prefix}blocks"),
                format!("1 to {MAX_BLOCKS} main blocks"),
                format!("{} blocks", self.blocks.len()),
            )));
        }
        for (i, b) in self.blocks.iter().enumerate() {
            for (gene, v, max) in [("r", b.r, MAX_R), ("b", b.b, MAX_B), ("wf", b.wf, MAX_WF)] {
                if !(1..=max).contains(&v) {
                    return bad(&format!("blocks[{i}].{gene}"), int_in(max), v.into());
                }
            }
        }
        if let Some(h) = &self.hardware {
            h.check_fields(file, prefix)?;
        }
        Ok(())
    }

    /// Canonical JSON: fixed key order, no whitespace.
    pub fn canonical_json(&self) -> String {
        serde_json::to_string(self).expect("a genome always serializes")
    }

    /// Stable short id: 12 hex digits of the FNV-1a 64-bit hash of the canonical JSON.
    pub fn id(&self) -> String {
        format!("{:012x}", fnv1a64(self.canonical_json().as_bytes()) >> 16)
    }

    /// The 23 gene features `oc0, ks0, m, r1..r5, (ct_i, wf_i, b_i) for i = 1..5`
    /// with inactive genes 0 and ct as 1..4.
    pub fn gene_features(&self) -> [f64; GENE_FEATURES] {
        let mut f = [0.0; GENE_FEATURES];
        f[0] = self.oc0 as f64;
        f[1] = self.ks0 as f64;
        f[2] = self.m() as f64;
        for (i, b) in self.blocks.iter().enumerate().take(MAX_BLOCKS) {
            f[3 + i] = b.r as f64;
            let o = 3 + MAX_BLOCKS + 3 * i;
            f[o] = b.ct.code() as f64;
            f[o + 1] = b.wf as f64;
            f[o + 2] = b.b as f64;
        }
        f
    }

    /// Short human-readable form, e.g. `oc0=16 ks0=3 | r2b1Aw1 r1b3Dw2`, followed by
    /// ` | tile=256x256 adc=6` when the genome has hardware genes.
    pub fn summary(&self) -> String {
        let net = self.network_summary();
        match &self.hardware {
            Some(h) => format!("{net} | {}", h.summary()),
            None => net,
        }
    }

    /// [`Genome::summary`] without the hardware genes.
    pub fn network_summary(&self) -> String {
        let blocks: Vec<String> = self
            .blocks
            .iter()
            .map(|b| format!("r{}b{}{}w{}", b.r, b.b, b.ct, b.wf))
            .collect();
        format!("oc0={} ks0={} | {}", self.oc0, self.ks0, blocks.join(" "))
    }

    /// The hardware genes in short form (`tile=256x256 adc=6`), or `""` without any.
    pub fn hardware_summary(&self) -> String {
        self.hardware.map(|h| h.summary()).unwrap_or_default()
    }
}

/// FNV-1a, 64 bit: a tiny stable hash for ids and cache keys.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g() -> Genome {
        Genome {
            oc0: 16,
            ks0: 3,
            blocks: vec![
                MainBlock {
                    r: 2,
                    b: 1,
                    ct: ConvType::A,
                    wf: 1,
                },
                MainBlock {
                    r: 1,
                    b: 3,
                    ct: ConvType::D,
                    wf: 2,
                },
            ],
            downsample: Downsample::LastTwo,
            hardware: None,
        }
    }

    #[test]
    fn json_round_trip_and_stable_id() {
        let g = g();
        let json = g.canonical_json();
        assert_eq!(
            json,
            r#"{"oc0":16,"ks0":3,"blocks":[{"r":2,"b":1,"ct":"A","wf":1},{"r":1,"b":3,"ct":"D","wf":2}],"downsample":"last_two"}"#
        );
        let back: Genome = serde_json::from_str(&json).unwrap();
        assert_eq!(back, g);
        assert_eq!(back.id(), g.id());
        // Pinned: ids name files and caches, so they must never change.
        assert_eq!(g.id(), format!("{:012x}", fnv1a64(json.as_bytes()) >> 16));
        assert_eq!(g.id().len(), 12);
        let mut other = g.clone();
        other.oc0 = 24;
        assert_ne!(other.id(), g.id());
    }

    /// Ids name files, caches and the rows of the shipped surrogate data set: a genome without
    /// hardware genes keeps its canonical JSON and id byte for byte.
    #[test]
    fn network_only_ids_are_pinned() {
        let json = r#"{"oc0":32,"ks0":7,"blocks":[{"r":1,"b":1,"ct":"A","wf":1}],"downsample":"last_two"}"#;
        let g: Genome = serde_json::from_str(json).unwrap();
        assert_eq!(g.hardware, None);
        assert_eq!(g.canonical_json(), json);
        // The first row of surrogates/digits_pcm_aihwkit.csv.
        assert_eq!(g.id(), "5468b7475814");
        assert_eq!(g.summary(), "oc0=32 ks0=7 | r1b1Aw1");
    }

    #[test]
    fn hardware_genes_join_the_json_and_the_id() {
        let mut h = g();
        h.hardware = Some(HwGenes {
            tile: Some(TileShape {
                rows: 256,
                cols: 512,
            }),
            adc_bits: Some(6),
            dac_bits: None,
            depthwise: Some(DepthwiseGene::Analog),
        });
        let json = h.canonical_json();
        assert!(
            json.ends_with(r#""downsample":"last_two","hardware":{"tile":"256x512","adc_bits":6,"depthwise":"analog"}}"#),
            "{json}"
        );
        let back: Genome = serde_json::from_str(&json).unwrap();
        assert_eq!(back, h);
        assert_ne!(h.id(), g().id());
        assert_eq!(
            h.summary(),
            format!("{} | tile=256x512 adc=6 dw=analog", g().summary())
        );
        assert_eq!(h.network_summary(), g().summary());
        assert_eq!(h.gene_features(), g().gene_features());
        // Unknown hardware keys and malformed shapes are refused.
        let bad = json.replace("\"adc_bits\"", "\"adc\"");
        assert!(serde_json::from_str::<Genome>(&bad).is_err());
        let bad = json.replace("256x512", "256by512");
        let e = serde_json::from_str::<Genome>(&bad)
            .unwrap_err()
            .to_string();
        assert!(e.contains("ROWSxCOLS"), "{e}");
        // Limits.
        h.check("g.json").unwrap();
        let mut x = h.clone();
        x.hardware.as_mut().unwrap().adc_bits = Some(1);
        assert_eq!(
            x.check("g.json").unwrap_err().to_string(),
            "g.json: field hardware.adc_bits: expected an integer in 2..=24, got 1"
        );
        let mut x = h.clone();
        x.hardware.as_mut().unwrap().tile = Some(TileShape { rows: 0, cols: 8 });
        assert_eq!(
            x.check_fields("a.json", "genome.").unwrap_err().to_string(),
            "a.json: field genome.hardware.tile: expected rows and columns in 1..=65536, got \"0x8\""
        );
        assert_eq!(
            TileShape::parse(" 128 x 64 "),
            Some(TileShape {
                rows: 128,
                cols: 64
            })
        );
        assert_eq!(TileShape::parse("128"), None);
    }

    #[test]
    fn features_have_inactive_zeros() {
        let f = g().gene_features();
        assert_eq!(f.len(), 23);
        assert_eq!(&f[..5], &[16.0, 3.0, 2.0, 2.0, 1.0]);
        assert_eq!(&f[5..8], &[0.0, 0.0, 0.0]);
        assert_eq!(&f[8..14], &[1.0, 1.0, 1.0, 4.0, 2.0, 3.0]);
        assert!(f[14..].iter().all(|&x| x == 0.0));
    }

    #[test]
    fn check_names_the_gene_outside_the_limits() {
        assert!(g().check("g.json").is_ok());
        let huge = u32::MAX;
        let mut all_max = g();
        all_max.oc0 = huge;
        all_max.ks0 = huge;
        for b in &mut all_max.blocks {
            (b.r, b.b, b.wf) = (huge, huge, huge);
        }
        assert_eq!(
            all_max.check("g.json").unwrap_err().to_string(),
            "g.json: field oc0: expected an integer in 1..=4096, got 4294967295"
        );
        let mut x = g();
        x.ks0 = 4;
        assert_eq!(
            x.check("g.json").unwrap_err().to_string(),
            "g.json: field ks0: expected an odd integer in 1..=11, got 4"
        );
        let mut x = g();
        x.blocks[1].wf = 17;
        assert_eq!(
            x.check_fields("a.json", "genome.").unwrap_err().to_string(),
            "a.json: field genome.blocks[1].wf: expected an integer in 1..=16, got 17"
        );
        let mut x = g();
        x.blocks[0].r = 0;
        assert!(matches!(x.check("g.json"), Err(SpaceError::Gene(_))));
        let mut x = g();
        x.blocks = vec![x.blocks[0]; 6];
        assert_eq!(
            x.check("g.json").unwrap_err().to_string(),
            "g.json: field blocks: expected 1 to 5 main blocks, got 6 blocks"
        );
    }

    #[test]
    fn downsample_rules() {
        assert!(Downsample::LastTwo.downsamples(0, 1));
        assert!(!Downsample::LastTwo.downsamples(0, 3));
        assert!(Downsample::LastTwo.downsamples(1, 3));
        assert!(!Downsample::AllButFirst.downsamples(0, 3));
        assert!(Downsample::AllButFirst.downsamples(2, 3));
    }
}
