//! Tile footprint (DESIGN.md 3.1): how many crossbar tiles each analog layer occupies.

use super::HwProfile;
use crate::nn::{Arch, LayerShape};
use serde::{Deserialize, Serialize};

/// Sizes of `n = ceil(size / max)` balanced pieces of `size`, differing by at most one
/// (AIHWKit's split of a layer over tiles).
pub fn balanced_split(size: usize, max: usize) -> Vec<usize> {
    let n = size.div_ceil(max).max(1);
    let base = size / n;
    let extra = size % n;
    (0..n).map(|i| base + usize::from(i < extra)).collect()
}

/// How one layer maps onto tiles.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerFootprint {
    /// Layer name.
    pub name: String,
    /// Rows of the mapped matrix (inputs).
    pub rows: usize,
    /// Columns of the mapped matrix (outputs).
    pub cols: usize,
    /// Tiles occupied.
    pub tiles: usize,
    /// Used cells / (tiles * tile rows * tile cols).
    pub utilisation: f64,
    /// Whether the layer runs digitally (a depthwise conv on a profile with digital depthwise).
    pub digital: bool,
    /// Multiply-accumulates of the layer per input.
    pub macs: usize,
}

/// Footprint of a whole network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Footprint {
    /// Total tiles.
    pub tiles: usize,
    /// Used cells over all tile cells.
    pub utilisation: f64,
    /// Trainable parameters of the network.
    pub params: usize,
    /// Multiply-accumulates per input (analog and digital layers).
    pub macs: usize,
    /// Multiply-accumulates per input of the layers computed digitally (depthwise convs on a
    /// profile with `depthwise = "digital"`); the rest run on the tiles.
    pub digital_macs: usize,
    /// Per layer, in forward order.
    pub layers: Vec<LayerFootprint>,
}

/// The matrix `(rows, cols)` a layer occupies on tiles; depthwise convs as block-diagonal dense.
pub fn mapped_matrix(layer: &LayerShape) -> (usize, usize) {
    if layer.is_depthwise() {
        (layer.c_in * layer.k * layer.k, layer.c_out)
    } else {
        (layer.rows(), layer.c_out)
    }
}

/// Tile footprint of one layer on `profile`.
pub fn layer_footprint(layer: &LayerShape, profile: &HwProfile) -> LayerFootprint {
    let (rows, cols) = mapped_matrix(layer);
    let (tr, tc) = (profile.tile.rows, profile.tile.cols);
    if layer.is_depthwise() && profile.tile.digital_depthwise() {
        return LayerFootprint {
            name: layer.name.clone(),
            rows,
            cols,
            tiles: 0,
            utilisation: 0.0,
            digital: true,
            macs: layer.macs(),
        };
    }
    let tiles = rows.div_ceil(tr) * cols.div_ceil(tc);
    LayerFootprint {
        name: layer.name.clone(),
        rows,
        cols,
        tiles,
        utilisation: (rows * cols) as f64 / (tiles * tr * tc) as f64,
        digital: false,
        macs: layer.macs(),
    }
}

/// Tile footprint of an architecture on `profile`, with the genome's hardware genes applied
/// ([`HwProfile::for_arch`]).
pub fn footprint(arch: &Arch, profile: &HwProfile) -> Footprint {
    let profile = &*profile.for_arch(arch);
    let plan = arch.plan();
    let layers: Vec<LayerFootprint> = plan
        .layers()
        .into_iter()
        .map(|l| layer_footprint(l, profile))
        .collect();
    let tiles: usize = layers.iter().map(|l| l.tiles).sum();
    let used: usize = layers
        .iter()
        .filter(|l| !l.digital)
        .map(|l| l.rows * l.cols)
        .sum();
    let cells = tiles * profile.tile.rows * profile.tile.cols;
    Footprint {
        tiles,
        utilisation: if cells == 0 {
            0.0
        } else {
            used as f64 / cells as f64
        },
        params: arch.params(),
        macs: arch.macs(),
        digital_macs: layers.iter().filter(|l| l.digital).map(|l| l.macs).sum(),
        layers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Reference;
    use crate::task::Task;

    fn profile(name: &str) -> HwProfile {
        HwProfile::load(format!(
            "{}/hw_profiles/{name}.toml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn balanced_splits() {
        assert_eq!(balanced_split(576, 512), vec![288, 288]);
        assert_eq!(balanced_split(1025, 512), vec![342, 342, 341]);
        assert_eq!(balanced_split(100, 512), vec![100]);
        assert_eq!(balanced_split(512, 512), vec![512]);
    }

    #[test]
    fn paper_tile_counts() {
        let r32 = Arch::for_task(Reference::Resnet32.genome(), Task::Cifar10);
        assert_eq!(footprint(&r32, &profile("pcm_aihwkit")).tiles, 43);
        assert_eq!(footprint(&r32, &profile("pcm_hermes")).tiles, 62);
        let r20 = Arch::for_task(Reference::Resnet20.genome(), Task::Cifar10);
        let f = footprint(&r20, &profile("pcm_aihwkit"));
        assert_eq!((f.tiles, f.layers.len()), (27, 22));
        assert!(f.utilisation > 0.0 && f.utilisation < 1.0);
    }

    #[test]
    fn depthwise_is_block_diagonal() {
        let mut g = Reference::Resnet8.genome();
        g.blocks[0].ct = crate::space::ConvType::D;
        let a = Arch::for_task(g, Task::Cifar10);
        let mut analog = HwProfile::default();
        analog.tile.depthwise = crate::hw::DepthwiseMapping::Analog;
        let f = footprint(&a, &analog);
        let dw = f
            .layers
            .iter()
            .find(|l| l.name == "b1.r0.br0.conv0")
            .unwrap();
        assert_eq!((dw.rows, dw.cols, dw.tiles), (16 * 9, 16, 1));
        let mut p = analog.clone();
        p.tile.depthwise = crate::hw::DepthwiseMapping::Digital;
        let f2 = footprint(&a, &p);
        assert_eq!(f2.tiles, f.tiles - 1);
        assert_eq!(f.digital_macs, 0);
        // Two depthwise 3x3 convs of 16 channels on 32x32 outputs (both branches of block 1).
        let dw_macs: usize = a
            .plan()
            .layers()
            .iter()
            .filter(|l| l.is_depthwise())
            .map(|l| l.macs())
            .sum();
        assert!(dw_macs > 0);
        assert_eq!(f2.digital_macs, dw_macs);
        assert_eq!(f2.macs, f.macs);
        // The shipped profiles compute depthwise convs digitally.
        for name in ["pcm_aihwkit", "pcm_hermes"] {
            assert!(profile(name).tile.digital_depthwise(), "{name}");
        }
    }
}
