//! The surrogate's feature vector (DESIGN.md 5): the 23 genes, then five derived features.

use crate::hw::{HwProfile, layer_footprint};
use crate::nn::{Arch, NetworkPlan};
use crate::space::GENE_FEATURES;

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
/// The layer plan is built once, so this costs a few microseconds.
pub fn features(arch: &Arch, profile: &HwProfile) -> Vec<f64> {
    let plan = arch.plan();
    let tiles = plan
        .layers()
        .into_iter()
        .map(|l| layer_footprint(l, profile).tiles)
        .sum();
    features_of_plan(arch, &plan, tiles)
}

/// The feature vector with the tile count given (as stored in a measured data set) instead of
/// computed from a profile.
pub fn features_with_tiles(arch: &Arch, tiles: usize) -> Vec<f64> {
    features_of_plan(arch, &arch.plan(), tiles)
}

fn features_of_plan(arch: &Arch, plan: &NetworkPlan, tiles: usize) -> Vec<f64> {
    let layers = plan.layers();
    let params: usize = layers.iter().map(|l| l.params()).sum();
    let macs: usize = layers.iter().map(|l| l.macs()).sum();
    let depth = 2 + plan
        .blocks
        .iter()
        .map(|b| b.branches.iter().map(Vec::len).max().unwrap_or(0))
        .sum::<usize>();
    let mut f = Vec::with_capacity(N_FEATURES);
    f.extend_from_slice(&arch.genome.gene_features());
    f.extend([
        params as f64,
        macs as f64,
        tiles as f64,
        depth as f64,
        arch.total_width() as f64,
    ]);
    f
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
}
