//! Batched inference of a network over raw f32 buffers, shared by the digital reference and the
//! analog simulation: convolutions as im2col blocks handed to a [`MatrixEngine`] (an exact GEMM,
//! or the tiles with their periphery), batch norm, ReLU, residual sums, global average pooling
//! and the head's bias digital.
//!
//! The batch is cut into chunks of whole images whose size depends only on the input shape; each
//! chunk runs the whole network on one rayon task with its own RNG stream
//! (`derive_seed(seed, chunk)`), so results do not depend on the number of threads. Activations
//! of a chunk are stored channel-major across its images (`[c][image][y][x]`), so a conv's output
//! block `c_out x positions` is already the next layer's input.

use super::periphery::{Workspace, grow, matmul_wt, multiversion};
use super::weights::{ConvWeights, NetworkWeights};
use crate::nn::LayerShape;
use crate::rng::{SeededRng, derive_seed, seeded};
use rayon::prelude::*;

/// Applies the weight matrix of analog layer `layer` (forward order) to a block of input vectors.
pub(crate) trait MatrixEngine: Sync {
    /// `out[c * out_stride + j]` = output `c` of vector `j` of `x` (`rows x m`, row-major).
    #[allow(clippy::too_many_arguments)]
    fn apply(
        &self,
        layer: usize,
        x: &[f32],
        m: usize,
        out: &mut [f32],
        out_stride: usize,
        ws: &mut Workspace,
        rng: &mut SeededRng,
    );
}

/// Exact products with the dense matrices (the digital reference).
pub(crate) struct DigitalEngine {
    /// `(rows, cols, matrix)` per layer.
    pub(crate) layers: Vec<(usize, usize, Vec<f32>)>,
}

impl MatrixEngine for DigitalEngine {
    fn apply(
        &self,
        layer: usize,
        x: &[f32],
        m: usize,
        out: &mut [f32],
        out_stride: usize,
        _ws: &mut Workspace,
        _rng: &mut SeededRng,
    ) {
        let (rows, cols, w) = &self.layers[layer];
        matmul_wt(w, *rows, *cols, x, m, out, out_stride);
    }
}

/// Floats of one im2col block (about 256 KB, so a block and its outputs stay in L2).
const BLOCK_FLOATS: usize = 1 << 16;
/// Output positions per chunk of images (a chunk is at least one image).
const CHUNK_POSITIONS: usize = 4096;

struct ConvNode {
    layer: usize,
    shape: LayerShape,
    scale: Vec<f32>,
    shift: Vec<f32>,
}

struct BlockNode {
    branches: Vec<Vec<ConvNode>>,
    shortcut: Option<ConvNode>,
}

/// The digital structure of a network: which layer feeds which, batch norms folded.
pub(crate) struct Graph {
    input: [usize; 3],
    classes: usize,
    stem: ConvNode,
    blocks: Vec<BlockNode>,
    head_layer: usize,
    head_bias: Vec<f32>,
}

impl Graph {
    /// The graph of a network's weights; layer indices follow [`NetworkWeights::layer_shapes`].
    pub(crate) fn new(w: &NetworkWeights) -> Self {
        let mut next = 0;
        let mut node = |c: &ConvWeights| {
            let (scale, shift) = c.bn.fold();
            next += 1;
            ConvNode {
                layer: next - 1,
                shape: c.shape.clone(),
                scale,
                shift,
            }
        };
        let stem = node(&w.stem);
        let blocks = w
            .blocks
            .iter()
            .map(|b| BlockNode {
                branches: b
                    .branches
                    .iter()
                    .map(|br| br.iter().map(&mut node).collect())
                    .collect(),
                shortcut: b.shortcut.as_ref().map(&mut node),
            })
            .collect();
        Graph {
            input: w.input,
            classes: w.classes,
            stem,
            blocks,
            head_layer: next,
            head_bias: w.head.bias.clone(),
        }
    }

    /// Runs the network on `batch` inputs `x` (`[batch, c, h, w]` row-major) and returns the
    /// logits `[batch, classes]`.
    ///
    /// # Panics
    /// Panics when `x` does not hold `batch` inputs of the network's shape.
    pub(crate) fn run(
        &self,
        engine: &dyn MatrixEngine,
        x: &[f32],
        batch: usize,
        seed: u64,
    ) -> Vec<f32> {
        let [c, h, w] = self.input;
        let per_image = c * h * w;
        assert_eq!(
            x.len(),
            batch * per_image,
            "input must be [batch, {c}, {h}, {w}] with batch = {batch}"
        );
        let per_chunk = (CHUNK_POSITIONS / (h * w)).max(1);
        let chunks: Vec<(usize, usize)> = (0..batch)
            .step_by(per_chunk)
            .map(|i| (i, (i + per_chunk).min(batch)))
            .collect();
        let parts: Vec<Vec<f32>> = chunks
            .par_iter()
            .enumerate()
            .map(|(ci, &(i0, i1))| {
                let mut rng = seeded(derive_seed(seed, ci as u64));
                let mut ws = Workspace::default();
                self.run_chunk(
                    engine,
                    &x[i0 * per_image..i1 * per_image],
                    i1 - i0,
                    &mut ws,
                    &mut rng,
                )
            })
            .collect();
        parts.concat()
    }

    fn run_chunk(
        &self,
        engine: &dyn MatrixEngine,
        x: &[f32],
        n: usize,
        ws: &mut Workspace,
        rng: &mut SeededRng,
    ) -> Vec<f32> {
        let [c, h, w] = self.input;
        let hw = h * w;
        // [image][c][hw] -> [c][image][hw]
        let mut act = vec![0f32; x.len()];
        for img in 0..n {
            for ch in 0..c {
                let src = &x[(img * c + ch) * hw..(img * c + ch + 1) * hw];
                act[(ch * n + img) * hw..(ch * n + img + 1) * hw].copy_from_slice(src);
            }
        }
        let mut act = conv(&self.stem, &act, n, engine, ws, rng, true);
        for block in &self.blocks {
            let mut sum: Option<Vec<f32>> = None;
            for branch in &block.branches {
                let last = branch.len() - 1;
                let mut y = conv(&branch[0], &act, n, engine, ws, rng, last > 0);
                for (i, node) in branch.iter().enumerate().skip(1) {
                    y = conv(node, &y, n, engine, ws, rng, i < last);
                }
                sum = Some(match sum {
                    None => y,
                    Some(mut s) => {
                        s.iter_mut().zip(&y).for_each(|(a, b)| *a += b);
                        s
                    }
                });
            }
            let mut sum = sum.expect("a block has branches");
            match &block.shortcut {
                Some(node) => {
                    let s = conv(node, &act, n, engine, ws, rng, false);
                    sum.iter_mut()
                        .zip(&s)
                        .for_each(|(a, b)| *a = (*a + b).max(0.0));
                }
                None => sum
                    .iter_mut()
                    .zip(&act)
                    .for_each(|(a, b)| *a = (*a + b).max(0.0)),
            }
            act = sum;
        }
        // Global average pooling: act is [c][image][positions].
        let positions = self.last_positions();
        let pooled: Vec<f32> = act
            .chunks_exact(positions)
            .map(|p| p.iter().sum::<f32>() / positions as f32)
            .collect();
        let classes = self.classes;
        let mut logits = vec![0f32; classes * n];
        engine.apply(self.head_layer, &pooled, n, &mut logits, n, ws, rng);
        let mut out = vec![0f32; n * classes];
        for k in 0..classes {
            for img in 0..n {
                out[img * classes + k] = logits[k * n + img] + self.head_bias[k];
            }
        }
        out
    }

    fn last_positions(&self) -> usize {
        let shape = match self.blocks.last() {
            Some(b) => &b.branches[0].last().expect("a branch has convs").shape,
            None => &self.stem.shape,
        };
        shape.out_hw[0] * shape.out_hw[1]
    }
}

/// One conv + batch norm (+ ReLU) on a chunk of `n` images.
fn conv(
    node: &ConvNode,
    input: &[f32],
    n: usize,
    engine: &dyn MatrixEngine,
    ws: &mut Workspace,
    rng: &mut SeededRng,
    relu: bool,
) -> Vec<f32> {
    let s = &node.shape;
    let positions = s.out_hw[0] * s.out_hw[1];
    let total = n * positions;
    let rows = s.c_in * s.k * s.k;
    let mut out = vec![0f32; s.c_out * total];
    if s.k == 1 && s.stride == 1 && s.padding == 0 {
        engine.apply(node.layer, input, total, &mut out, total, ws, rng);
    } else {
        let block = (BLOCK_FLOATS / rows).clamp(16, total.max(16)).min(total);
        let mut patches = std::mem::take(&mut ws.patches);
        let mut m0 = 0;
        while m0 < total {
            let b = block.min(total - m0);
            im2col(input, n, s, m0, b, grow(&mut patches, rows * b));
            engine.apply(
                node.layer,
                &patches[..rows * b],
                b,
                &mut out[m0..],
                total,
                ws,
                rng,
            );
            m0 += b;
        }
        ws.patches = patches;
    }
    batch_norm(&mut out, total, &node.scale, &node.shift, relu);
    out
}

multiversion! {
    /// Batch norm folded to `scale * x + shift` per channel (rows of `total` values), then ReLU.
    fn batch_norm(x: &mut [f32], total: usize, scale: &[f32], shift: &[f32], relu: bool) {
        for ((row, &a), &b) in x.chunks_exact_mut(total).zip(scale).zip(shift) {
            if relu {
                row.iter_mut().for_each(|v| {
                    let y = *v * a + b;
                    *v = if y > 0.0 { y } else { 0.0 };
                });
            } else {
                row.iter_mut().for_each(|v| *v = *v * a + b);
            }
        }
    }
}

/// Unfolds output positions `m0 .. m0 + b` of a conv on a chunk of `n` images into `dst`
/// (`(c_in * k * k) x b`, rows ordered `(c, ky, kx)`, zero padding).
fn im2col(input: &[f32], n: usize, s: &LayerShape, m0: usize, b: usize, dst: &mut [f32]) {
    let [h, w] = s.in_hw;
    let [ho, wo] = s.out_hw;
    let (k, stride, pad) = (s.k, s.stride, s.padding);
    let positions = ho * wo;
    // Runs of consecutive output x within one output row: (offset in block, len, image, oy, ox0).
    let mut segs = Vec::new();
    let mut m = m0;
    while m < m0 + b {
        let img = m / positions;
        let rem = m % positions;
        let (oy, ox0) = (rem / wo, rem % wo);
        let run = (wo - ox0).min(m0 + b - m);
        segs.push((m - m0, run, img, oy, ox0));
        m += run;
    }
    for r in 0..s.c_in * k * k {
        let (c, ky, kx) = (r / (k * k), (r / k) % k, r % k);
        // Output x whose input x = ox * stride + kx - pad lies inside [0, w).
        let lo = if kx >= pad {
            0
        } else {
            (pad - kx).div_ceil(stride)
        };
        let hi = if w + pad > kx {
            (w + pad - kx).div_ceil(stride).min(wo)
        } else {
            0
        };
        let row = &mut dst[r * b..(r + 1) * b];
        for &(d, run, img, oy, ox0) in &segs {
            let out = &mut row[d..d + run];
            let iy = (oy * stride + ky) as isize - pad as isize;
            if iy < 0 || iy >= h as isize {
                out.fill(0.0);
                continue;
            }
            let src = &input[(c * n + img) * h * w + iy as usize * w..][..w];
            let a = lo.clamp(ox0, ox0 + run);
            let z = hi.clamp(a, ox0 + run);
            out[..a - ox0].fill(0.0);
            out[z - ox0..].fill(0.0);
            if z == a {
                continue;
            }
            let first = a * stride + kx - pad;
            if stride == 1 {
                out[a - ox0..z - ox0].copy_from_slice(&src[first..first + (z - a)]);
            } else {
                for (t, o) in out[a - ox0..z - ox0].iter_mut().enumerate() {
                    *o = src[first + t * stride];
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::LayerKind;

    fn shape(c_in: usize, k: usize, stride: usize, hw: [usize; 2]) -> LayerShape {
        let padding = k / 2;
        let out = |x: usize| (x + 2 * padding - k) / stride + 1;
        LayerShape {
            name: "t".into(),
            kind: LayerKind::Conv,
            c_in,
            c_out: 1,
            k,
            stride,
            padding,
            groups: 1,
            in_hw: hw,
            out_hw: [out(hw[0]), out(hw[1])],
        }
    }

    /// Direct definition of the unfolded input.
    fn naive(input: &[f32], n: usize, s: &LayerShape) -> Vec<f32> {
        let [h, w] = s.in_hw;
        let [ho, wo] = s.out_hw;
        let total = n * ho * wo;
        let rows = s.c_in * s.k * s.k;
        let mut out = vec![0f32; rows * total];
        for r in 0..rows {
            let (c, ky, kx) = (r / (s.k * s.k), (r / s.k) % s.k, r % s.k);
            for m in 0..total {
                let (img, oy, ox) = (m / (ho * wo), (m % (ho * wo)) / wo, m % wo);
                let iy = (oy * s.stride + ky) as isize - s.padding as isize;
                let ix = (ox * s.stride + kx) as isize - s.padding as isize;
                if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w {
                    out[r * total + m] =
                        input[(c * n + img) * h * w + iy as usize * w + ix as usize];
                }
            }
        }
        out
    }

    #[test]
    fn im2col_matches_definition_on_any_block() {
        for (c_in, k, stride, hw) in [
            (2, 3, 1, [5, 6]),
            (3, 3, 2, [7, 7]),
            (1, 5, 1, [4, 3]),
            (2, 7, 2, [9, 8]),
            (2, 1, 2, [6, 6]),
        ] {
            let s = shape(c_in, k, stride, hw);
            let n = 3;
            let input: Vec<f32> = (0..c_in * n * hw[0] * hw[1])
                .map(|i| i as f32 + 1.0)
                .collect();
            let full = naive(&input, n, &s);
            let total = n * s.out_hw[0] * s.out_hw[1];
            let rows = c_in * k * k;
            for b in [1, 4, 7, total] {
                let mut m0 = 0;
                while m0 < total {
                    let bb = b.min(total - m0);
                    let mut dst = vec![f32::NAN; rows * bb];
                    im2col(&input, n, &s, m0, bb, &mut dst);
                    for r in 0..rows {
                        assert_eq!(
                            &dst[r * bb..(r + 1) * bb],
                            &full[r * total + m0..r * total + m0 + bb],
                            "shape {c_in} {k} {stride} {hw:?} block {b} at {m0} row {r}"
                        );
                    }
                    m0 += bb;
                }
            }
        }
    }
}
