//! The surrogate's feature vector (DESIGN.md 5): the 23 genes, then five derived features; a
//! model fitted on co-search rows (genomes with hardware genes) reads five more,
//! [`HW_FEATURE_NAMES`].

use crate::hw::HwProfile;
use crate::nn::Arch;
use crate::space::{ConvType, DepthwiseGene, GENE_FEATURES, Genome};

/// Number of features: 23 genes and 5 derived features.
pub const N_FEATURES: usize = GENE_FEATURES + 5;

/// Feature names in the order of [`features`].
pub const FEATURE_NAMES: [&str; N_FEATURES] = [
    "oc0",
    "ks0",
    "m",
    "r1",
    "r2",
    "r3",
    "r4",
    "r5",
    "ct1",
    "wf1",
    "b1",
    "ct2",
    "wf2",
    "b2",
    "ct3",
    "wf3",
    "b3",
    "ct4",
    "wf4",
    "b4",
    "ct5",
    "wf5",
    "b5",
    "params",
    "macs",
    "tiles",
    "depth",
    "total_width",
];

/// Number of hardware features.
pub const N_HW_FEATURES: usize = 5;

/// Names of the hardware features, which a model fitted on rows with hardware genes reads after
/// the [`FEATURE_NAMES`] (a model fitted on rows without them reads exactly the
/// [`N_FEATURES`]).
pub const HW_FEATURE_NAMES: [&str; N_HW_FEATURES] = [
    "tile_rows",
    "tile_cols",
    "adc_bits",
    "dac_bits",
    "depthwise_analog",
];

/// The hardware features of `genome`, in [`HW_FEATURE_NAMES`] order: tile rows and columns,
/// ADC and DAC bits, 1 when depthwise convolutions run on tiles. A gene the genome does not
/// carry is 0 (the profile's value, the same for every row a model is fitted on, since a model
/// is fitted on one profile).
pub fn hardware_features(genome: &Genome) -> [f64; N_HW_FEATURES] {
    let h = genome.hardware.unwrap_or_default();
    let num = |v: Option<u32>| v.map_or(0.0, f64::from);
    [
        num(h.tile.map(|t| t.rows)),
        num(h.tile.map(|t| t.cols)),
        num(h.adc_bits),
        num(h.dac_bits),
        if h.depthwise == Some(DepthwiseGene::Analog) {
            1.0
        } else {
            0.0
        },
    ]
}

/// The feature names of a model: the [`FEATURE_NAMES`], then the [`HW_FEATURE_NAMES`] when
/// `hardware`.
pub fn feature_names(hardware: bool) -> Vec<String> {
    let hw: &[&str] = if hardware { &HW_FEATURE_NAMES } else { &[] };
    FEATURE_NAMES
        .iter()
        .chain(hw)
        .map(|s| s.to_string())
        .collect()
}

/// The feature vector of `arch` on `profile`: `Genome::gene_features()` (inactive genes 0, ct as
/// 1..4), then params, MACs, tiles on `profile` (with the genome's hardware genes applied),
/// depth and total width.
///
/// Computed from the genome arithmetic without building the layer plan (no allocation but the
/// result), so it takes well under a microsecond; a test checks it against
/// [`Arch::plan`] and [`crate::hw::footprint`].
pub fn features(arch: &Arch, profile: &HwProfile) -> Vec<f64> {
    let d = Derived::of(arch, Some(&profile.for_arch(arch)));
    assemble(arch, d, d.tiles)
}

/// The feature vector with the tile count given (as stored in a measured data set) instead of
/// computed from a profile.
pub fn features_with_tiles(arch: &Arch, tiles: usize) -> Vec<f64> {
    assemble(arch, Derived::of(arch, None), tiles)
}

fn assemble(arch: &Arch, d: Derived, tiles: usize) -> Vec<f64> {
    let mut f = Vec::with_capacity(N_FEATURES);
    f.extend_from_slice(&arch.genome.gene_features());
    f.extend([
        d.params as f64,
        d.macs as f64,
        tiles as f64,
        d.depth as f64,
        arch.total_width() as f64,
    ]);
    f
}

/// Params, MACs, tiles and depth, accumulated layer by layer with the formulas of
/// `LayerShape` and `layer_footprint`.
#[derive(Clone, Copy)]
struct Derived {
    params: usize,
    macs: usize,
    tiles: usize,
    depth: usize,
}

impl Derived {
    fn of(arch: &Arch, profile: Option<&HwProfile>) -> Self {
        let mut d = Derived {
            params: 0,
            macs: 0,
            tiles: 0,
            depth: 2,
        };
        let g = &arch.genome;
        let [c0, h, w] = arch.input;
        let mut hw = d.conv(profile, 1, c0, g.oc0 as usize, g.ks0 as usize, 1, 1, [h, w]);
        let mut c = g.oc0 as usize;
        let m = g.m();
        for (i, mb) in g.blocks.iter().enumerate() {
            let width = g.oc0 as usize * mb.wf as usize;
            let b = mb.b as usize;
            for j in 0..mb.r as usize {
                let stride = if j == 0 && g.downsample.downsamples(i, m) {
                    2
                } else {
                    1
                };
                let out = match mb.ct {
                    ConvType::A => {
                        let o = d.conv(profile, b, c, width, 3, stride, 1, hw);
                        d.conv(profile, b, width, width, 3, 1, 1, o)
                    }
                    ConvType::B => {
                        let mid = (width / 4).max(1);
                        let o = d.conv(profile, b, c, mid, 1, 1, 1, hw);
                        let o = d.conv(profile, b, mid, mid, 3, stride, 1, o);
                        d.conv(profile, b, mid, width, 1, 1, 1, o)
                    }
                    ConvType::C => d.conv(profile, b, c, width, 3, stride, 1, hw),
                    ConvType::D => {
                        let o = d.conv(profile, b, c, c, 3, stride, c, hw);
                        d.conv(profile, b, c, width, 1, 1, 1, o)
                    }
                };
                d.depth += match mb.ct {
                    ConvType::A | ConvType::D => 2,
                    ConvType::B => 3,
                    ConvType::C => 1,
                };
                if stride != 1 || c != width {
                    d.conv(profile, 1, c, width, 1, stride, 1, hw);
                }
                c = width;
                hw = out;
            }
        }
        let weights = c * arch.classes;
        d.params += weights + arch.classes;
        d.macs += weights;
        if let Some(p) = profile {
            d.tiles += c.div_ceil(p.tile.rows) * arch.classes.div_ceil(p.tile.cols);
        }
        d
    }

    /// Adds `copies` identical convs and returns their output size.
    #[allow(clippy::too_many_arguments)]
    fn conv(
        &mut self,
        profile: Option<&HwProfile>,
        copies: usize,
        c_in: usize,
        c_out: usize,
        k: usize,
        stride: usize,
        groups: usize,
        hw: [usize; 2],
    ) -> [usize; 2] {
        let pad = k / 2;
        let out = |x: usize| (x + 2 * pad - k) / stride + 1;
        let o = [out(hw[0]), out(hw[1])];
        let rows = c_in / groups * k * k;
        let weights = rows * c_out;
        self.params += copies * (weights + 2 * c_out);
        self.macs += copies * weights * o[0] * o[1];
        if let Some(p) = profile {
            let depthwise = groups > 1 && groups == c_in;
            if !(depthwise && p.tile.digital_depthwise()) {
                let mapped_rows = if depthwise { c_in * k * k } else { rows };
                self.tiles +=
                    copies * mapped_rows.div_ceil(p.tile.rows) * c_out.div_ceil(p.tile.cols);
            }
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hw::footprint;
    use crate::nn::Reference;
    use crate::task::Task;

    #[test]
    fn derived_features_match_the_crate_definitions() {
        let profile = HwProfile::default();
        for r in Reference::ALL {
            let arch = Arch::for_task(r.genome(), Task::Cifar10);
            let f = features(&arch, &profile);
            assert_eq!(f.len(), N_FEATURES);
            assert_eq!(&f[..GENE_FEATURES], &arch.genome.gene_features());
            let fp = footprint(&arch, &profile);
            let derived = &f[GENE_FEATURES..];
            assert_eq!(
                derived,
                &[
                    fp.params as f64,
                    fp.macs as f64,
                    fp.tiles as f64,
                    arch.depth() as f64,
                    arch.total_width() as f64
                ]
            );
            assert_eq!(features_with_tiles(&arch, fp.tiles), f);
        }
        assert_eq!(FEATURE_NAMES[GENE_FEATURES], "params");
        assert_eq!(FEATURE_NAMES[8..11], ["ct1", "wf1", "b1"]);
    }

    #[test]
    fn hardware_features_and_names() {
        use crate::space::{HwGenes, TileShape};
        let mut g = Reference::Resnet8.genome();
        assert_eq!(hardware_features(&g), [0.0; N_HW_FEATURES]);
        assert_eq!(feature_names(false), FEATURE_NAMES);
        assert_eq!(feature_names(true).len(), N_FEATURES + N_HW_FEATURES);
        assert_eq!(feature_names(true)[N_FEATURES], "tile_rows");
        g.hardware = Some(HwGenes {
            tile: Some(TileShape {
                rows: 256,
                cols: 128,
            }),
            adc_bits: Some(6),
            dac_bits: None,
            depthwise: Some(DepthwiseGene::Analog),
        });
        assert_eq!(hardware_features(&g), [256.0, 128.0, 6.0, 0.0, 1.0]);
        // The tile feature counts tiles on the chip the genes describe.
        let arch = Arch::for_task(g, Task::Cifar10);
        let f = features(&arch, &HwProfile::default());
        assert_eq!(
            f[GENE_FEATURES + 2],
            footprint(&arch, &HwProfile::default()).tiles as f64
        );
        let small = crate::hw::footprint(
            &Arch::for_task(Reference::Resnet8.genome(), Task::Cifar10),
            &HwProfile::default(),
        );
        assert!(f[GENE_FEATURES + 2] > small.tiles as f64);
    }

    #[test]
    fn fast_path_equals_the_layer_plan_on_random_genomes() {
        let root = env!("CARGO_MANIFEST_DIR");
        let mut hermes = HwProfile::load(format!("{root}/hw_profiles/pcm_hermes.toml")).unwrap();
        let mut profiles = vec![HwProfile::default(), hermes.clone()];
        hermes.tile.depthwise = crate::hw::DepthwiseMapping::Analog;
        profiles.push(hermes);
        let mut rng = crate::rng::seeded(9);
        for space in ["paper", "resnet_tinyml", "tiny"] {
            let s = crate::space::SearchSpace::load(format!("{root}/search_spaces/{space}.toml"))
                .unwrap();
            for (i, g) in s.sample_lhs(150, &mut rng).into_iter().enumerate() {
                let task = [Task::Digits, Task::Cifar10, Task::Kws, Task::Vww][i % 4];
                let arch = Arch::for_task(g, task);
                let profile = &profiles[i % profiles.len()];
                let fp = footprint(&arch, profile);
                let want = [
                    fp.params as f64,
                    fp.macs as f64,
                    fp.tiles as f64,
                    arch.depth() as f64,
                    arch.total_width() as f64,
                ];
                let f = features(&arch, profile);
                assert_eq!(&f[GENE_FEATURES..], &want, "{}", arch.genome.summary());
            }
        }
    }
}
