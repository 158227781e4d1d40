//! CPU kernels of training-mode batch norm fused with the ReLU (and residual add) after it,
//! over raw NCHW `f32` buffers.
//!
//! burn's `batch_norm_train` (the default `ModuleOps` body, which flex keeps) is a chain of
//! tensor operations: swap-dims copies, two mean reductions, a broadcast normalisation, then a
//! separate ReLU and residual add, each a full pass over the activation and each recorded by
//! autodiff. Here the forward is two passes (per-channel statistics; normalise, add, clamp)
//! and the backward two (per-channel sums; input and residual gradients), which is what the
//! `bench profile` figures in the README measure.
//!
//! Statistics are accumulated in `f64`, one channel per task, in a fixed order: the results do
//! not depend on the number of threads.

use rayon::prelude::*;

/// The shape of a batch-norm input: `n` images of `c` channels of `hw` values each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BnGeom {
    /// Images.
    pub n: usize,
    /// Channels.
    pub c: usize,
    /// Values per channel plane (height x width).
    pub hw: usize,
}

impl BnGeom {
    fn per_channel(&self) -> usize {
        self.n * self.hw
    }

    /// Planes handed to one rayon task: about 4096 values.
    fn min_planes(&self) -> usize {
        (4096 / self.hw.max(1)).max(1)
    }
}

/// The values of channel `ch`, image by image.
fn planes<'a>(g: &'a BnGeom, x: &'a [f32], ch: usize) -> impl Iterator<Item = &'a [f32]> + 'a {
    (0..g.n).map(move |i| &x[(i * g.c + ch) * g.hw..][..g.hw])
}

/// `sum f(v)` over a plane: eight `f32` lanes (which the compiler vectorises), added in `f64`.
fn lane_sum(p: &[f32], f: impl Fn(f32) -> f32) -> f64 {
    let mut lanes = [0f32; 8];
    let chunks = p.chunks_exact(8);
    let rest: f64 = chunks.remainder().iter().map(|&v| f(v) as f64).sum();
    for c in chunks {
        for (l, &v) in lanes.iter_mut().zip(c) {
            *l += f(v);
        }
    }
    lanes.iter().map(|&l| l as f64).sum::<f64>() + rest
}

/// The batch mean and biased variance of every channel.
pub fn stats(g: &BnGeom, x: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let m = g.per_channel().max(1) as f64;
    let both: Vec<(f32, f32)> = (0..g.c)
        .into_par_iter()
        .map(|ch| {
            let mean = planes(g, x, ch).map(|p| lane_sum(p, |v| v)).sum::<f64>() / m;
            let mu = mean as f32;
            let var = planes(g, x, ch)
                .map(|p| lane_sum(p, |v| (v - mu) * (v - mu)))
                .sum::<f64>()
                / m;
            (mu, var as f32)
        })
        .collect();
    both.into_iter().unzip()
}

fn inv_std(var: &[f32], eps: f64) -> Vec<f32> {
    var.iter()
        .map(|&v| (1.0 / (v as f64 + eps).sqrt()) as f32)
        .collect()
}

/// `y = act(gamma * (x - mean) / sqrt(var + eps) + beta + residual)`, with `act` the ReLU
/// when `relu`, else the identity.
#[allow(clippy::too_many_arguments)]
pub fn forward(
    g: &BnGeom,
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    mean: &[f32],
    var: &[f32],
    eps: f64,
    residual: Option<&[f32]>,
    relu: bool,
) -> Vec<f32> {
    let inv = inv_std(var, eps);
    let mut y = vec![0f32; x.len()];
    if g.hw == 0 {
        return y;
    }
    y.par_chunks_mut(g.hw)
        .with_min_len(g.min_planes())
        .enumerate()
        .for_each(|(plane, out)| {
            let ch = plane % g.c;
            let scale = gamma[ch] * inv[ch];
            let shift = beta[ch] - mean[ch] * scale;
            let xs = &x[plane * g.hw..][..g.hw];
            match residual {
                Some(r) => {
                    let rs = &r[plane * g.hw..][..g.hw];
                    for ((o, &v), &rv) in out.iter_mut().zip(xs).zip(rs) {
                        *o = v * scale + shift + rv;
                    }
                }
                None => {
                    for (o, &v) in out.iter_mut().zip(xs) {
                        *o = v * scale + shift;
                    }
                }
            }
            if relu {
                for o in out.iter_mut() {
                    *o = o.max(0.0);
                }
            }
        });
    y
}

/// The gradients of [`forward`]: `(dx, dgamma, dbeta, dresidual)` given the output gradient
/// `dy` and the output `y` (whose sign is the ReLU's mask). `dresidual`, the gradient after
/// the ReLU (which is also the residual's), is computed only `with_residual` (else empty).
#[allow(clippy::too_many_arguments)]
pub fn backward(
    g: &BnGeom,
    x: &[f32],
    gamma: &[f32],
    mean: &[f32],
    var: &[f32],
    eps: f64,
    y: &[f32],
    dy: &[f32],
    relu: bool,
    with_residual: bool,
) -> (Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>) {
    let inv = inv_std(var, eps);
    // The gradient after the activation.
    let act = |yv: f32, d: f32| if !relu || yv > 0.0 { d } else { 0.0 };
    // Per channel: sum dz (dbeta) and sum dz * xhat (dgamma), in eight f32 lanes per plane.
    let sums: Vec<(f32, f32)> = (0..g.c)
        .into_par_iter()
        .map(|ch| {
            let mu = mean[ch];
            let (mut sb, mut sc) = (0f64, 0f64);
            for ((xp, yp), dp) in planes(g, x, ch)
                .zip(planes(g, y, ch))
                .zip(planes(g, dy, ch))
            {
                let (mut lb, mut lc) = ([0f32; 8], [0f32; 8]);
                let (xc, yc, dc) = (xp.chunks_exact(8), yp.chunks_exact(8), dp.chunks_exact(8));
                for ((xv, yv), dv) in xc
                    .remainder()
                    .iter()
                    .zip(yc.remainder())
                    .zip(dc.remainder())
                {
                    let z = act(*yv, *dv);
                    sb += z as f64;
                    sc += (z * (xv - mu)) as f64;
                }
                for ((xs, ys), ds) in xc.zip(yc).zip(dc) {
                    for l in 0..8 {
                        let z = act(ys[l], ds[l]);
                        lb[l] += z;
                        lc[l] += z * (xs[l] - mu);
                    }
                }
                sb += lb.iter().map(|&v| v as f64).sum::<f64>();
                sc += lc.iter().map(|&v| v as f64).sum::<f64>();
            }
            ((sc * inv[ch] as f64) as f32, sb as f32)
        })
        .collect();
    let (dgamma, dbeta): (Vec<f32>, Vec<f32>) = sums.into_iter().unzip();
    let m = g.per_channel().max(1) as f32;
    let mut dx = vec![0f32; x.len()];
    let mut dres = if with_residual {
        vec![0f32; x.len()]
    } else {
        Vec::new()
    };
    if g.hw > 0 {
        let pass = |plane: usize, out: &mut [f32], res: Option<&mut [f32]>| {
            let ch = plane % g.c;
            let k = gamma[ch] * inv[ch];
            let (mb, mg) = (dbeta[ch] / m, dgamma[ch] / m * inv[ch]);
            let (mu, o) = (mean[ch], plane * g.hw);
            let (xs, ys, ds) = (&x[o..][..g.hw], &y[o..][..g.hw], &dy[o..][..g.hw]);
            for (((d, xv), yv), dv) in out.iter_mut().zip(xs).zip(ys).zip(ds) {
                *d = k * (act(*yv, *dv) - mb - (xv - mu) * mg);
            }
            if let Some(res) = res {
                for ((r, yv), dv) in res.iter_mut().zip(ys).zip(ds) {
                    *r = act(*yv, *dv);
                }
            }
        };
        let min = g.min_planes();
        if with_residual {
            dx.par_chunks_mut(g.hw)
                .zip(dres.par_chunks_mut(g.hw))
                .with_min_len(min)
                .enumerate()
                .for_each(|(plane, (out, res))| pass(plane, out, Some(res)));
        } else {
            dx.par_chunks_mut(g.hw)
                .with_min_len(min)
                .enumerate()
                .for_each(|(plane, out)| pass(plane, out, None));
        }
    }
    (dx, dgamma, dbeta, dres)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_are_per_channel_and_biased() {
        // 2 images, 2 channels, 2 values: channel 0 holds 1,2,3,4; channel 1 holds 5,5,5,5.
        let g = BnGeom { n: 2, c: 2, hw: 2 };
        let x = [1.0, 2.0, 5.0, 5.0, 3.0, 4.0, 5.0, 5.0];
        let (mean, var) = stats(&g, &x);
        assert_eq!(mean, vec![2.5, 5.0]);
        assert_eq!(var, vec![1.25, 0.0]);
        let eps = 1e-5;
        let y = forward(
            &g,
            &x,
            &[1.0, 2.0],
            &[0.0, 1.0],
            &mean,
            &var,
            eps,
            None,
            true,
        );
        let s = (1.0 / (1.25f64 + eps).sqrt()) as f32;
        let want = [0.0, 0.0, 1.0, 1.0, 0.5 * s, 1.5 * s, 1.0, 1.0];
        for (a, b) in y.iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{y:?} vs {want:?}");
        }
        // Without the ReLU the negative values stay; a residual is added before it.
        let r = [1.0f32; 8];
        let y = forward(
            &g,
            &x,
            &[1.0, 2.0],
            &[0.0, 1.0],
            &mean,
            &var,
            eps,
            Some(&r),
            false,
        );
        assert!((y[0] - (1.0 - 1.5 * s)).abs() < 1e-6, "{y:?}");
        assert!((y[2] - 2.0).abs() < 1e-6, "{y:?}");
    }
}
