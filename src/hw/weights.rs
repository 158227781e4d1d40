//! The weights of a [`Network`] as plain buffers, in the layout the analog simulation maps onto
//! tiles: conv kernels, batch-norm statistics (inference mode) and the linear head.

use crate::nn::{Arch, ConvBn, LayerShape, Network};
use burn::tensor::Tensor;

/// Batch-norm parameters and running statistics (inference mode).
#[derive(Clone, Debug, PartialEq)]
pub struct BatchNormWeights {
    /// Scale `gamma` per channel.
    pub gamma: Vec<f32>,
    /// Shift `beta` per channel.
    pub beta: Vec<f32>,
    /// Running mean per channel.
    pub mean: Vec<f32>,
    /// Running variance per channel.
    pub var: Vec<f32>,
    /// Added to the variance.
    pub epsilon: f64,
}

impl BatchNormWeights {
    /// The per-channel affine map `y = scale * x + shift` it computes:
    /// `scale = gamma / sqrt(var + eps)`, `shift = beta - mean * scale`.
    pub fn fold(&self) -> (Vec<f32>, Vec<f32>) {
        let scale: Vec<f32> = self
            .gamma
            .iter()
            .zip(&self.var)
            .map(|(&g, &v)| (g as f64 / (v as f64 + self.epsilon).sqrt()) as f32)
            .collect();
        let shift = self
            .beta
            .iter()
            .zip(&self.mean)
            .zip(&scale)
            .map(|((&b, &m), &s)| b - m * s)
            .collect();
        (scale, shift)
    }
}

/// A bias-free convolution and the batch norm after it.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvWeights {
    /// The layer's shape.
    pub shape: LayerShape,
    /// The kernel, `[c_out, c_in / groups, k, k]` row-major (burn's layout).
    pub weight: Vec<f32>,
    /// The batch norm after the conv.
    pub bn: BatchNormWeights,
}

impl ConvWeights {
    /// The dense matrix the conv occupies on tiles, `rows x c_out` row-major, with rows ordered
    /// `(c_in, ky, kx)` as an unfolded input (torch's `unfold`, AIHWKit's order). A grouped conv
    /// (depthwise: groups = c_in) becomes the block-diagonal `(c_in * k * k) x c_out` matrix.
    pub fn matrix(&self) -> Vec<f32> {
        let s = &self.shape;
        let kk = s.k * s.k;
        let cin_g = s.c_in / s.groups;
        let cout_g = s.c_out / s.groups;
        let rows = s.c_in * kk;
        let mut m = vec![0f32; rows * s.c_out];
        for o in 0..s.c_out {
            let g = o / cout_g;
            for ci in 0..cin_g {
                for j in 0..kk {
                    let r = (g * cin_g + ci) * kk + j;
                    m[r * s.c_out + o] = self.weight[(o * cin_g + ci) * kk + j];
                }
            }
        }
        m
    }
}

/// The linear head: weight `[in, out]` (burn's layout, already the tile matrix) and digital bias.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearWeights {
    /// The layer's shape.
    pub shape: LayerShape,
    /// Weight `[in, out]` row-major.
    pub weight: Vec<f32>,
    /// Bias `[out]` (zeros when the layer has none).
    pub bias: Vec<f32>,
}

/// One residual block.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockWeights {
    /// Each branch's convs in order.
    pub branches: Vec<Vec<ConvWeights>>,
    /// The projection shortcut, when the block has one.
    pub shortcut: Option<ConvWeights>,
}

/// All weights of a network, extracted from its burn module.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkWeights {
    /// Input shape `[channels, height, width]`.
    pub input: [usize; 3],
    /// Number of classes.
    pub classes: usize,
    /// Stem conv.
    pub stem: ConvWeights,
    /// Residual blocks in order.
    pub blocks: Vec<BlockWeights>,
    /// Linear head.
    pub head: LinearWeights,
}

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("tensor data converts to f32")
}

fn conv_weights(m: &ConvBn, shape: &LayerShape) -> ConvWeights {
    let weight = to_vec(m.conv.weight.val());
    assert_eq!(
        weight.len(),
        shape.weights(),
        "layer {}: the module's kernel does not match the architecture",
        shape.name
    );
    ConvWeights {
        shape: shape.clone(),
        weight,
        bn: BatchNormWeights {
            gamma: to_vec(m.bn.gamma.val()),
            beta: to_vec(m.bn.beta.val()),
            mean: to_vec(m.bn.running_mean.value()),
            var: to_vec(m.bn.running_var.value()),
            epsilon: m.bn.epsilon,
        },
    }
}

impl NetworkWeights {
    /// Extracts the weights of `net`, built from `arch` (batch norm in inference mode: running
    /// statistics).
    ///
    /// # Panics
    /// Panics when the module's structure or a kernel's size does not match `arch`.
    pub fn from_network(net: &Network, arch: &Arch) -> Self {
        let plan = arch.plan();
        assert_eq!(
            net.blocks.len(),
            plan.blocks.len(),
            "the network's blocks do not match the architecture"
        );
        let blocks = net
            .blocks
            .iter()
            .zip(&plan.blocks)
            .map(|(b, p)| {
                assert_eq!(b.branches.len(), p.branches.len(), "branch count mismatch");
                assert_eq!(
                    b.shortcut.is_some(),
                    p.shortcut.is_some(),
                    "shortcut mismatch"
                );
                BlockWeights {
                    branches: b
                        .branches
                        .iter()
                        .zip(&p.branches)
                        .map(|(br, shapes)| {
                            assert_eq!(br.layers.len(), shapes.len(), "branch depth mismatch");
                            br.layers
                                .iter()
                                .zip(shapes)
                                .map(|(l, s)| conv_weights(l, s))
                                .collect()
                        })
                        .collect(),
                    shortcut: b
                        .shortcut
                        .as_ref()
                        .zip(p.shortcut.as_ref())
                        .map(|(l, s)| conv_weights(l, s)),
                }
            })
            .collect();
        let weight = to_vec(net.head.weight.val());
        assert_eq!(
            weight.len(),
            plan.head.weights(),
            "head does not match the architecture"
        );
        let bias = match &net.head.bias {
            Some(b) => to_vec(b.val()),
            None => vec![0.0; plan.head.c_out],
        };
        NetworkWeights {
            input: arch.input,
            classes: arch.classes,
            stem: conv_weights(&net.stem, &plan.stem),
            blocks,
            head: LinearWeights {
                shape: plan.head.clone(),
                weight,
                bias,
            },
        }
    }

    /// Every conv in forward order (stem, then per block the branches' convs and the shortcut),
    /// the order of [`crate::nn::NetworkPlan::layers`] without the head.
    pub fn convs(&self) -> Vec<&ConvWeights> {
        let mut v = vec![&self.stem];
        for b in &self.blocks {
            for br in &b.branches {
                v.extend(br.iter());
            }
            v.extend(b.shortcut.iter());
        }
        v
    }

    /// The shape of every analog layer in forward order (convs, then the head).
    pub fn layer_shapes(&self) -> Vec<&LayerShape> {
        let mut v: Vec<&LayerShape> = self.convs().into_iter().map(|c| &c.shape).collect();
        v.push(&self.head.shape);
        v
    }

    /// The tile matrix (`rows x cols` row-major) of every analog layer in forward order.
    pub fn matrices(&self) -> Vec<Vec<f32>> {
        let mut v: Vec<Vec<f32>> = self.convs().into_iter().map(|c| c.matrix()).collect();
        v.push(self.head.weight.clone());
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{LayerKind, Reference};
    use crate::task::Task;

    #[test]
    fn extraction_matches_the_plan() {
        let a = Arch::for_task(Reference::Resnet8.genome(), Task::Cifar10);
        let net = Network::from_arch_seeded(&a, &crate::device::default_device(), 3);
        let w = NetworkWeights::from_network(&net, &a);
        let plan = a.plan();
        let shapes: Vec<&LayerShape> = plan.layers();
        assert_eq!(w.layer_shapes(), shapes);
        for (m, s) in w.matrices().iter().zip(&shapes) {
            let rows = if s.kind == LayerKind::Linear {
                s.c_in
            } else {
                s.c_in * s.k * s.k
            };
            assert_eq!(m.len(), rows * s.c_out, "{}", s.name);
        }
        assert_eq!(w.stem.bn.var, vec![1.0; 16]);
        assert_eq!(w.head.bias.len(), 10);
    }

    #[test]
    fn depthwise_matrix_is_block_diagonal() {
        let shape = LayerShape {
            name: "dw".into(),
            kind: LayerKind::Conv,
            c_in: 3,
            c_out: 3,
            k: 3,
            stride: 1,
            padding: 1,
            groups: 3,
            in_hw: [4, 4],
            out_hw: [4, 4],
        };
        let weight: Vec<f32> = (0..27).map(|i| i as f32 + 1.0).collect();
        let bn = BatchNormWeights {
            gamma: vec![1.0; 3],
            beta: vec![0.0; 3],
            mean: vec![0.0; 3],
            var: vec![1.0; 3],
            epsilon: 1e-5,
        };
        let c = ConvWeights { shape, weight, bn };
        let m = c.matrix();
        assert_eq!(m.len(), 27 * 3);
        for r in 0..27 {
            for o in 0..3 {
                let expect = if r / 9 == o {
                    (o * 9 + r % 9) as f32 + 1.0
                } else {
                    0.0
                };
                assert_eq!(m[r * 3 + o], expect, "row {r} col {o}");
            }
        }
    }

    #[test]
    fn batch_norm_fold() {
        let bn = BatchNormWeights {
            gamma: vec![2.0],
            beta: vec![0.5],
            mean: vec![1.0],
            var: vec![3.0],
            epsilon: 1.0,
        };
        let (s, b) = bn.fold();
        assert_eq!(s, vec![1.0]);
        assert_eq!(b, vec![-0.5]);
    }
}
