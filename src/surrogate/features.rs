//! The surrogate's feature vector (DESIGN.md 5): the 23 genes, then five derived features.

use crate::hw::HwProfile;
use crate::nn::Arch;
use crate::space::{ConvType, GENE_FEATURES};

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

/// The feature vector of `arch` on `profile`: `Genome::gene_features()` (inactive genes 0, ct as
/// 1..4), then params, MACs, tiles on `profile`, depth and total width.
///
/// Computed from the genome arithmetic without building the layer plan (no allocation but the
/// result), so it takes well under a microsecond; a test checks it against
/// [`Arch::plan`] and [`crate::hw::footprint`].
pub fn features(arch: &Arch, profile: &HwProfile) -> Vec<f64> {
    let d = Derived::of(arch, Some(profile));
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
