//! CPU convolution kernels over raw NCHW `f32` buffers: forward, input gradient and weight
//! gradient, each as im2col (or the input itself for a 1x1 stride-1 kernel) plus one `gemm`
//! per image, in the layout each pass wants:
//!
//! - forward: `Y[n] (O x OHW) = W (O x CKK) . cols[n] (CKK x OHW)`, straight into NCHW;
//! - input gradient: `dcols[n] = W^T (CKK x O) . dY[n] (O x OHW)`, then col2im (scatter-add);
//! - weight gradient: `dW (O x CKK) = sum_n dY[n] . cols[n]^T`, partial sums over fixed chunks
//!   of [`W_CHUNK`] images added in chunk order, so the result does not depend on the number
//!   of threads.
//!
//! Images run in parallel on the current rayon pool (one single-threaded `gemm` each); when
//! there are fewer images (or chunks) than threads, `gemm` itself is parallel instead.

use rayon::prelude::*;

/// Images per partial sum of the weight gradient.
pub const W_CHUNK: usize = 4;

/// The geometry of a dense (groups 1, dilation 1) 2-D convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeom {
    /// Batch size.
    pub n: usize,
    /// Input channels.
    pub c: usize,
    /// Input height and width.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Output channels.
    pub o: usize,
    /// Kernel height and width.
    pub k: [usize; 2],
    /// Stride (height, width).
    pub stride: [usize; 2],
    /// Zero padding on each side (height, width).
    pub pad: [usize; 2],
}

impl ConvGeom {
    /// Output height and width.
    pub fn out_hw(&self) -> [usize; 2] {
        let o = |i: usize, k: usize, s: usize, p: usize| (i + 2 * p).saturating_sub(k) / s + 1;
        [
            o(self.h, self.k[0], self.stride[0], self.pad[0]),
            o(self.w, self.k[1], self.stride[1], self.pad[1]),
        ]
    }

    fn ckk(&self) -> usize {
        self.c * self.k[0] * self.k[1]
    }

    fn ohw(&self) -> usize {
        let [oh, ow] = self.out_hw();
        oh * ow
    }

    /// A 1x1 stride-1 unpadded kernel: the input is its own im2col matrix.
    fn pointwise(&self) -> bool {
        self.k == [1, 1] && self.stride == [1, 1] && self.pad == [0, 0]
    }

    /// Whether the kernels cover this shape (positive sizes, kernel within the padded input).
    pub fn valid(&self) -> bool {
        self.n > 0
            && self.c > 0
            && self.o > 0
            && self.k[0] > 0
            && self.k[1] > 0
            && self.stride[0] > 0
            && self.stride[1] > 0
            && self.h + 2 * self.pad[0] >= self.k[0]
            && self.w + 2 * self.pad[1] >= self.k[1]
    }
}

/// The `[lo, hi)` output positions whose input index `o * s + k - p` lies in `[0, len)`.
fn valid_range(len: usize, out: usize, k: usize, s: usize, p: usize) -> (usize, usize) {
    let lo = if p > k { (p - k).div_ceil(s) } else { 0 };
    let hi = if len + p > k {
        (len + p - k).div_ceil(s).min(out)
    } else {
        0
    };
    (lo.min(out), hi.max(lo.min(out)))
}

/// The im2col matrix (`CKK x OHW`, rows in `(c, ky, kx)` order) of one image (`C x H x W`).
fn im2col(g: &ConvGeom, x: &[f32], cols: &mut [f32]) {
    let [oh, ow] = g.out_hw();
    let ohw = oh * ow;
    let [kh, kw] = g.k;
    let [sh, sw] = g.stride;
    let [ph, pw] = g.pad;
    for c in 0..g.c {
        let plane = &x[c * g.h * g.w..][..g.h * g.w];
        for ky in 0..kh {
            let (ylo, yhi) = valid_range(g.h, oh, ky, sh, ph);
            for kx in 0..kw {
                let row = &mut cols[((c * kh + ky) * kw + kx) * ohw..][..ohw];
                let (xlo, xhi) = valid_range(g.w, ow, kx, sw, pw);
                row[..ylo * ow].fill(0.0);
                row[yhi * ow..].fill(0.0);
                for oy in ylo..yhi {
                    let src = &plane[(oy * sh + ky - ph) * g.w..][..g.w];
                    let dst = &mut row[oy * ow..][..ow];
                    dst[..xlo].fill(0.0);
                    dst[xhi..].fill(0.0);
                    if sw == 1 {
                        dst[xlo..xhi].copy_from_slice(&src[xlo + kx - pw..xhi + kx - pw]);
                    } else {
                        for (ox, d) in dst.iter_mut().enumerate().take(xhi).skip(xlo) {
                            *d = src[ox * sw + kx - pw];
                        }
                    }
                }
            }
        }
    }
}

/// Adds the im2col-shaped `cols` back onto one image's gradient `dx` (`C x H x W`).
fn col2im(g: &ConvGeom, cols: &[f32], dx: &mut [f32]) {
    let [oh, ow] = g.out_hw();
    let ohw = oh * ow;
    let [kh, kw] = g.k;
    let [sh, sw] = g.stride;
    let [ph, pw] = g.pad;
    for c in 0..g.c {
        let plane = &mut dx[c * g.h * g.w..][..g.h * g.w];
        for ky in 0..kh {
            let (ylo, yhi) = valid_range(g.h, oh, ky, sh, ph);
            for kx in 0..kw {
                let row = &cols[((c * kh + ky) * kw + kx) * ohw..][..ohw];
                let (xlo, xhi) = valid_range(g.w, ow, kx, sw, pw);
                for oy in ylo..yhi {
                    let dst = &mut plane[(oy * sh + ky - ph) * g.w..][..g.w];
                    let src = &row[oy * ow..][..ow];
                    if sw == 1 {
                        for (d, s) in dst[xlo + kx - pw..xhi + kx - pw]
                            .iter_mut()
                            .zip(&src[xlo..xhi])
                        {
                            *d += *s;
                        }
                    } else {
                        for (ox, s) in src.iter().enumerate().take(xhi).skip(xlo) {
                            dst[ox * sw + kx - pw] += *s;
                        }
                    }
                }
            }
        }
    }
}

/// Row-major `dst (m x n) = [dst +] lhs . rhs` with explicit strides (row, column) for each
/// operand.
#[allow(clippy::too_many_arguments)]
fn matmul(
    [m, n, k]: [usize; 3],
    dst: &mut [f32],
    accumulate: bool,
    lhs: &[f32],
    [lhs_rs, lhs_cs]: [usize; 2],
    rhs: &[f32],
    [rhs_rs, rhs_cs]: [usize; 2],
    par: gemm::Parallelism,
) {
    assert!(dst.len() >= m * n, "dst too small");
    assert!(m == 0 || k == 0 || lhs.len() > (m - 1) * lhs_rs + (k - 1) * lhs_cs);
    assert!(n == 0 || k == 0 || rhs.len() > (k - 1) * rhs_rs + (n - 1) * rhs_cs);
    if m == 0 || n == 0 {
        return;
    }
    // SAFETY: the asserts keep every strided access inside its slice: dst is m x n row-major,
    // lhs element (i, l) is at i * lhs_rs + l * lhs_cs, rhs element (l, j) at l * rhs_rs +
    // j * rhs_cs.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.as_ptr(),
            lhs_cs as isize,
            lhs_rs as isize,
            rhs.as_ptr(),
            rhs_cs as isize,
            rhs_rs as isize,
            1.0f32,
            1.0f32,
            false,
            false,
            false,
            par,
        );
    }
}

/// Runs `f(index, chunk, scratch, parallelism)` over the `chunk`-sized pieces of `out`: in
/// parallel with single-threaded `gemm`s when there are at least as many pieces as threads,
/// otherwise in order with parallel `gemm`s.
fn for_each_chunk(
    out: &mut [f32],
    chunk: usize,
    scratch: usize,
    f: impl Fn(usize, &mut [f32], &mut Vec<f32>, gemm::Parallelism) + Sync + Send,
) {
    let count = out.len() / chunk.max(1);
    let threads = rayon::current_num_threads();
    if count >= threads && threads > 1 {
        out.par_chunks_mut(chunk).enumerate().for_each_init(
            || vec![0f32; scratch],
            |buf, (i, t)| f(i, t, buf, gemm::Parallelism::None),
        );
    } else {
        let par = if threads > 1 {
            gemm::Parallelism::Rayon(0)
        } else {
            gemm::Parallelism::None
        };
        let mut buf = vec![0f32; scratch];
        for (i, t) in out.chunks_mut(chunk.max(1)).enumerate() {
            f(i, t, &mut buf, par);
        }
    }
}

/// The convolution of `x` (`N x C x H x W`) with `w` (`O x C x KH x KW`): `N x O x OH x OW`.
pub fn conv_forward(g: &ConvGeom, x: &[f32], w: &[f32]) -> Vec<f32> {
    let (ckk, ohw, chw) = (g.ckk(), g.ohw(), g.c * g.h * g.w);
    assert_eq!(x.len(), g.n * chw, "input size");
    assert_eq!(w.len(), g.o * ckk, "weight size");
    let mut y = vec![0f32; g.n * g.o * ohw];
    let scratch = if g.pointwise() { 0 } else { ckk * ohw };
    let pointwise = g.pointwise();
    for_each_chunk(&mut y, g.o * ohw, scratch, |img, out, cols, par| {
        let xi = &x[img * chw..][..chw];
        let rhs: &[f32] = if pointwise {
            xi
        } else {
            im2col(g, xi, cols);
            cols
        };
        matmul([g.o, ohw, ckk], out, false, w, [ckk, 1], rhs, [ohw, 1], par);
    });
    y
}

/// Smallest input plane (height x width) whose input gradient goes through [`transposed`].
pub const MIN_TRANSPOSED_HW: usize = 256;

/// For a stride-1 convolution padded by at most `k - 1`: the convolution whose forward is
/// its input gradient (`dY` padded by `k - 1 - p`, convolved with the weight transposed in
/// its channels and flipped in space), and that weight.
fn transposed(g: &ConvGeom, w: &[f32]) -> Option<(ConvGeom, Vec<f32>)> {
    // Small planes (8x8 measured) are faster through col2im.
    if g.stride != [1, 1]
        || g.pad[0] >= g.k[0]
        || g.pad[1] >= g.k[1]
        || g.pointwise()
        || g.h * g.w < MIN_TRANSPOSED_HW
    {
        return None;
    }
    let [oh, ow] = g.out_hw();
    let [kh, kw] = g.k;
    let t = ConvGeom {
        n: g.n,
        c: g.o,
        h: oh,
        w: ow,
        o: g.c,
        k: g.k,
        stride: [1, 1],
        pad: [kh - 1 - g.pad[0], kw - 1 - g.pad[1]],
    };
    if t.out_hw() != [g.h, g.w] {
        return None;
    }
    let mut wt = vec![0f32; w.len()];
    for o in 0..g.o {
        for c in 0..g.c {
            for ky in 0..kh {
                for kx in 0..kw {
                    wt[((c * g.o + o) * kh + (kh - 1 - ky)) * kw + (kw - 1 - kx)] =
                        w[((o * g.c + c) * kh + ky) * kw + kx];
                }
            }
        }
    }
    Some((t, wt))
}

/// The gradient of the input of [`conv_forward`] given the output gradient `dy`: for stride 1
/// the forward kernel on the transposed convolution (an im2col gather, which measures about
/// twice as fast as the scatter-add of col2im), else `W^T dY` and col2im.
pub fn conv_backward_x(g: &ConvGeom, w: &[f32], dy: &[f32]) -> Vec<f32> {
    let (ckk, ohw, chw) = (g.ckk(), g.ohw(), g.c * g.h * g.w);
    assert_eq!(dy.len(), g.n * g.o * ohw, "output gradient size");
    assert_eq!(w.len(), g.o * ckk, "weight size");
    if let Some((t, wt)) = transposed(g, w) {
        return conv_forward(&t, dy, &wt);
    }
    let mut dx = vec![0f32; g.n * chw];
    let pointwise = g.pointwise();
    let scratch = if pointwise { 0 } else { ckk * ohw };
    for_each_chunk(&mut dx, chw, scratch, |img, dxi, dcols, par| {
        let dyi = &dy[img * g.o * ohw..][..g.o * ohw];
        if pointwise {
            matmul([ckk, ohw, g.o], dxi, false, w, [1, ckk], dyi, [ohw, 1], par);
        } else {
            matmul(
                [ckk, ohw, g.o],
                dcols,
                false,
                w,
                [1, ckk],
                dyi,
                [ohw, 1],
                par,
            );
            col2im(g, dcols, dxi);
        }
    });
    dx
}

/// The gradient of the weight of [`conv_forward`] given the input `x` and the output gradient
/// `dy`.
pub fn conv_backward_w(g: &ConvGeom, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let (ckk, ohw, chw) = (g.ckk(), g.ohw(), g.c * g.h * g.w);
    assert_eq!(x.len(), g.n * chw, "input size");
    assert_eq!(dy.len(), g.n * g.o * ohw, "output gradient size");
    let chunks = g.n.div_ceil(W_CHUNK);
    let mut partial = vec![0f32; chunks * g.o * ckk];
    let pointwise = g.pointwise();
    let scratch = if pointwise { 0 } else { ckk * ohw };
    for_each_chunk(&mut partial, g.o * ckk, scratch, |chunk, acc, cols, par| {
        let first = chunk * W_CHUNK;
        for img in first..(first + W_CHUNK).min(g.n) {
            let xi = &x[img * chw..][..chw];
            let dyi = &dy[img * g.o * ohw..][..g.o * ohw];
            let rhs: &[f32] = if pointwise {
                xi
            } else {
                im2col(g, xi, cols);
                cols
            };
            // acc^T (CKK x O) += cols (CKK x OHW) . dY^T (OHW x O): the long side first
            // measures faster in `gemm` than dY . cols^T.
            matmul(
                [ckk, g.o, ohw],
                acc,
                img > first,
                rhs,
                [ohw, 1],
                dyi,
                [1, ohw],
                par,
            );
        }
    });
    let (head, rest) = partial.split_at_mut(g.o * ckk);
    for p in rest.chunks(g.o * ckk) {
        for (a, b) in head.iter_mut().zip(p) {
            *a += *b;
        }
    }
    // head is CKK x O: transpose to O x CKK.
    let mut dw = vec![0f32; g.o * ckk];
    for (r, row) in head.chunks_exact(g.o).enumerate() {
        for (o, v) in row.iter().enumerate() {
            dw[o * ckk + r] = *v;
        }
    }
    dw
}
