//! The periphery of a tile (DESIGN.md 3.3; AIHWKit's IO-managed analog matrix-vector product),
//! fused over raw buffers for whole blocks of input vectors:
//!
//! 1. noise management: each input vector divided by its abs-max;
//! 2. DAC: rounded to the input step and clipped to `[-inp_bound, inp_bound]`;
//! 3. the product with the tile's weights (one GEMM per tile and block);
//! 4. additive output noise `out_noise * N(0,1)`;
//! 5. ADC: rounded to the output step and clipped to `[-out_bound, out_bound]`;
//! 6. iterative bound management: a vector whose output left the ADC range is computed again
//!    with its input halved, until it fits or the reduction reaches its limit;
//! 7. the outputs multiplied back by the noise-management and bound-management factors and by
//!    the tile's digital factor (weight scale times drift compensation).
//!
//! Buffers hold a block of `m` vectors as `rows x m` (inputs) and `cols x m` (outputs), row-major.

use super::normal::fill_normal;
use super::{BoundManagement, HwProfile, NoiseManagement};
use crate::rng::SeededRng;

/// The periphery settings of a profile, resolved for the inner loops.
#[derive(Clone, Debug, PartialEq)]
pub struct Periphery {
    /// Whether each input vector is scaled by its abs-max.
    pub noise_management: bool,
    /// DAC step (0: no quantisation).
    pub inp_step: f32,
    /// `1 / inp_step`, computed in f64 (0 without quantisation).
    pub inp_inv: f32,
    /// DAC clipping bound (may be infinite).
    pub inp_bound: f32,
    /// ADC step (0: no quantisation).
    pub out_step: f32,
    /// `1 / out_step`, computed in f64 (0 without quantisation).
    pub out_inv: f32,
    /// ADC clipping bound (may be infinite).
    pub out_bound: f32,
    /// Standard deviation of the output noise.
    pub out_noise: f32,
    /// Whether iterative bound management is on.
    pub bound_management: bool,
    /// Largest reduction factor of bound management.
    pub bm_max_factor: f32,
    /// Coarsest effective input resolution bound management may reach.
    pub bm_max_res: f32,
}

/// Scratch buffers of the periphery, reused across blocks (one per thread). Buffers only grow,
/// so each is zeroed once.
#[derive(Debug, Default)]
pub struct Workspace {
    q: Vec<f32>,
    y: Vec<f32>,
    noise: Vec<f32>,
    nm: Vec<f32>,
    inv: Vec<f32>,
    red: Vec<f32>,
    peak: Vec<f32>,
    factor: Vec<f32>,
    xq: Vec<f32>,
    col: Vec<f32>,
    col_noise: Vec<f32>,
    /// The im2col patches of the block being processed.
    pub(crate) patches: Vec<f32>,
}

/// The first `n` elements of `v`, grown (zero-filled) when it is shorter.
pub(crate) fn grow(v: &mut Vec<f32>, n: usize) -> &mut [f32] {
    if v.len() < n {
        v.resize(n, 0.0);
    }
    &mut v[..n]
}

#[cfg(test)]
thread_local! {
    /// Set by tests to run the plain copies of the [`multiversion!`] kernels on this thread.
    pub(crate) static FORCE_PLAIN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether a [`multiversion!`] kernel may take its AVX2 copy (always, outside tests).
#[inline(always)]
pub(crate) fn avx2_allowed() -> bool {
    #[cfg(test)]
    if FORCE_PLAIN.with(|f| f.get()) {
        return false;
    }
    true
}

/// Compiles a function body twice, plain and with AVX2+FMA enabled, and picks the second at run
/// time where the CPU has it. The body does not use `mul_add` and Rust never fuses a multiply
/// and an add by itself, so both copies give the same results, bit for bit (checked by
/// `plain_and_avx2_kernels_agree_bit_for_bit`).
///
/// The `multiversion` crate (0.9.2, `#[multiversion(targets("x86_64+avx2+fma"))]`) was tried on
/// `adc_kernel` (16 x 1024 block, 20,000 calls, 3 rounds, release, 2 shared cores): this macro
/// 0.28 ns per element and the crate 0.26 when the macro ran first; the macro 0.35 and the crate
/// 0.38 when the crate ran first: the same speed, within the order effect. It was not adopted: no gain, one more proc-macro dependency,
/// and this macro's plain copy can be forced in tests.
macro_rules! multiversion {
    ($(#[$meta:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $(#[$meta])*
        #[allow(clippy::too_many_arguments)]
        fn $name($($arg: $ty),*) {
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            fn kernel($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx2($($arg: $ty),*) {
                    kernel($($arg),*)
                }
                if $crate::hw::periphery::avx2_allowed()
                    && std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY: the CPU has the features `avx2` was compiled for.
                    return unsafe { avx2($($arg),*) };
                }
            }
            kernel($($arg),*)
        }
    };
}
pub(crate) use multiversion;

/// Rounds to the nearest integer, ties to even (exact for |v| < 2^22; faster than `f32::round`
/// and vectorisable without SSE4.1).
#[inline(always)]
fn round_even(v: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0;
    (v + MAGIC) - MAGIC
}

/// `v` clipped to `[-b, b]` (comparisons, so it vectorises to min/max).
#[inline(always)]
fn clip(v: f32, b: f32) -> f32 {
    let v = if v < -b { -b } else { v };
    if v > b { b } else { v }
}

/// Quantises `v` to `step` (`inv_step = 1/step`) without clipping; `step = 0` leaves it. Values
/// beyond `bound + step` are clipped first, which does not change the clipped result and keeps
/// the rounding exact.
#[inline(always)]
fn quantise(v: f32, step: f32, inv_step: f32, bound: f32) -> f32 {
    if step > 0.0 {
        round_even(clip(v, bound + step) * inv_step) * step
    } else {
        v
    }
}

multiversion! {
    /// `nm[j] = max_r |x[r * m + j]|`, 16 vectors at a time with the maxima in registers.
    fn absmax_kernel(x: &[f32], m: usize, nm: &mut [f32]) {
        const L: usize = 16;
        let mut j = 0;
        while j + L <= m {
            let mut acc = [0f32; L];
            for row in x.chunks_exact(m) {
                for (a, &v) in acc.iter_mut().zip(&row[j..j + L]) {
                    let v = v.abs();
                    *a = if v > *a { v } else { *a };
                }
            }
            nm[j..j + L].copy_from_slice(&acc);
            j += L;
        }
        for (jj, a) in nm.iter_mut().enumerate().skip(j) {
            *a = x.chunks_exact(m).fold(0f32, |acc, row| acc.max(row[jj].abs()));
        }
    }
}

multiversion! {
    /// The DAC on a block: `q = clip(quantise(x * inv[j]), bound)`.
    fn dac_kernel(x: &[f32], m: usize, inv: &[f32], q: &mut [f32], step: f32, inv_step: f32, bound: f32) {
        for (qrow, xrow) in q.chunks_exact_mut(m).zip(x.chunks_exact(m)) {
            if step > 0.0 {
                let pre = bound + step;
                for ((q, &v), &s) in qrow.iter_mut().zip(xrow).zip(inv) {
                    *q = clip(round_even(clip(v * s, pre) * inv_step) * step, bound);
                }
            } else {
                for ((q, &v), &s) in qrow.iter_mut().zip(xrow).zip(inv) {
                    *q = clip(v * s, bound);
                }
            }
        }
    }
}

multiversion! {
    /// Output noise and the ADC on a block, in place; `peak[j]` collects the largest |output|
    /// of vector `j` before clipping.
    fn adc_kernel(y: &mut [f32], noise: &[f32], sigma: f32, m: usize, peak: &mut [f32], step: f32, inv_step: f32, bound: f32) {
        peak.fill(0.0);
        let pre = bound + step;
        for (c, yrow) in y.chunks_exact_mut(m).enumerate() {
            if !noise.is_empty() {
                for (v, &n) in yrow.iter_mut().zip(&noise[c * m..(c + 1) * m]) {
                    *v += sigma * n;
                }
            }
            if step > 0.0 {
                for (v, p) in yrow.iter_mut().zip(peak.iter_mut()) {
                    let q = round_even(clip(*v, pre) * inv_step) * step;
                    *p = p.max(q.abs());
                    *v = clip(q, bound);
                }
            } else {
                for (v, p) in yrow.iter_mut().zip(peak.iter_mut()) {
                    *p = p.max(v.abs());
                    *v = clip(*v, bound);
                }
            }
        }
    }
}

multiversion! {
    /// `out[c * stride + j] (+)= y[c * m + j] * factor[j]`.
    fn scatter_kernel(out: &mut [f32], stride: usize, y: &[f32], m: usize, factor: &[f32], accumulate: bool) {
        for (c, yrow) in y.chunks_exact(m).enumerate() {
            let o = &mut out[c * stride..c * stride + m];
            if accumulate {
                for ((o, &v), &f) in o.iter_mut().zip(yrow).zip(factor) {
                    *o += v * f;
                }
            } else {
                for ((o, &v), &f) in o.iter_mut().zip(yrow).zip(factor) {
                    *o = v * f;
                }
            }
        }
    }
}

impl Periphery {
    /// The periphery a profile describes.
    pub fn new(profile: &HwProfile) -> Self {
        let p = &profile.periphery;
        let inv = |step: f64| if step > 0.0 { (1.0 / step) as f32 } else { 0.0 };
        Periphery {
            noise_management: p.noise_management == NoiseManagement::AbsMax,
            inp_step: profile.dac_step() as f32,
            inp_inv: inv(profile.dac_step()),
            inp_bound: p.inp_bound as f32,
            out_step: profile.adc_step() as f32,
            out_inv: inv(profile.adc_step()),
            out_bound: p.out_bound as f32,
            out_noise: p.out_noise as f32,
            bound_management: p.bound_management == BoundManagement::Iterative,
            bm_max_factor: p.bm_max_factor as f32,
            bm_max_res: p.bm_max_res as f32,
        }
    }

    /// The DAC: quantise to the input step, clip to the input bound.
    pub fn dac(&self, v: f32) -> f32 {
        clip(
            quantise(v, self.inp_step, self.inp_inv, self.inp_bound),
            self.inp_bound,
        )
    }

    /// The ADC: quantise to the output step, clip to the output bound.
    pub fn adc(&self, v: f32) -> f32 {
        clip(
            quantise(v, self.out_step, self.out_inv, self.out_bound),
            self.out_bound,
        )
    }

    /// Whether bound management stops after a try with input reduction `red` (AIHWKit: the
    /// reduction exceeds `bm_max_factor`, or the effective input step `red * inp_step` exceeds
    /// `bm_max_res`).
    pub fn bm_stop(&self, red: f32) -> bool {
        red > self.bm_max_factor || (self.inp_step > 0.0 && red > self.bm_max_res / self.inp_step)
    }

    /// Steps 1-2 for the inputs of one row split of a layer: the noise-management factor of each
    /// of the `m` vectors of `x` (`rows x m`) and the DAC outputs, kept in `ws` for the tiles of
    /// this row split.
    ///
    /// # Panics
    /// Panics when `x` is not `rows x m`.
    pub fn prepare_inputs(&self, x: &[f32], rows: usize, m: usize, ws: &mut Workspace) {
        assert_eq!(x.len(), rows * m, "input block must be rows x m");
        if m == 0 {
            return;
        }
        let nm = grow(&mut ws.nm, m);
        if self.noise_management {
            absmax_kernel(x, m, nm);
            for a in nm.iter_mut() {
                if !(*a > 0.0 && a.is_finite()) {
                    *a = 1.0;
                }
            }
        } else {
            nm.fill(1.0);
        }
        let inv = grow(&mut ws.inv, m);
        for (i, a) in inv.iter_mut().zip(&ws.nm[..m]) {
            *i = 1.0 / a;
        }
        dac_kernel(
            x,
            m,
            &ws.inv[..m],
            grow(&mut ws.q, rows * m),
            self.inp_step,
            self.inp_inv,
            self.inp_bound,
        );
    }

    /// Steps 3-7 for one tile: `out[c * out_stride + j]` receives (or, with `accumulate`, adds)
    /// output `c` of vector `j`, times `post` (the tile's weight scale and drift compensation)
    /// and, when given, `col_post[c]` (the column's weight scale).
    /// `w` is the tile's `rows x cols` matrix, `x` the raw inputs of its row split (used again by
    /// bound management); [`Periphery::prepare_inputs`] must have run on `x`.
    #[allow(clippy::too_many_arguments)]
    pub fn tile_output(
        &self,
        w: &[f32],
        rows: usize,
        cols: usize,
        x: &[f32],
        m: usize,
        ws: &mut Workspace,
        rng: &mut SeededRng,
        post: f32,
        col_post: Option<&[f32]>,
        out: &mut [f32],
        out_stride: usize,
        accumulate: bool,
    ) {
        if m == 0 {
            return;
        }
        let y = grow(&mut ws.y, cols * m);
        matmul_wt(w, rows, cols, &ws.q[..rows * m], m, y, m);
        self.finish(w, rows, cols, x, m, ws, rng);
        if let Some(cp) = col_post {
            for (yrow, &f) in ws.y[..cols * m].chunks_exact_mut(m).zip(cp) {
                yrow.iter_mut().for_each(|v| *v *= f);
            }
        }
        let factor = grow(&mut ws.factor, m);
        for ((f, &a), &r) in factor.iter_mut().zip(&ws.nm[..m]).zip(&ws.red[..m]) {
            *f = a * r * post;
        }
        scatter_kernel(
            out,
            out_stride,
            &ws.y[..cols * m],
            m,
            &ws.factor[..m],
            accumulate,
        );
    }

    /// Steps 4-6 on `ws.y` (the tile's `cols x m` analog outputs); leaves the ADC outputs in
    /// `ws.y` and each vector's bound-management reduction in `ws.red`.
    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        w: &[f32],
        rows: usize,
        cols: usize,
        x: &[f32],
        m: usize,
        ws: &mut Workspace,
        rng: &mut SeededRng,
    ) {
        let noise: &[f32] = if self.out_noise > 0.0 {
            let n = grow(&mut ws.noise, cols * m);
            fill_normal(rng, n);
            n
        } else {
            &[]
        };
        adc_kernel(
            &mut ws.y[..cols * m],
            noise,
            self.out_noise,
            m,
            grow(&mut ws.peak, m),
            self.out_step,
            self.out_inv,
            self.out_bound,
        );
        grow(&mut ws.red, m).fill(1.0);
        if !self.bound_management || self.bm_stop(1.0) {
            return;
        }
        for j in 0..m {
            if ws.peak[j] <= self.out_bound {
                continue;
            }
            let mut red = 1.0f32;
            while !self.bm_stop(red) {
                red *= 2.0;
                if !self.redo_vector(w, rows, cols, x, m, j, ws.inv[j] / red, ws, rng) {
                    break;
                }
            }
            ws.red[j] = red;
        }
    }

    /// Computes vector `j` again with input factor `scale`, writes its ADC outputs into `ws.y`
    /// and says whether an output still left the ADC range.
    #[allow(clippy::too_many_arguments)]
    fn redo_vector(
        &self,
        w: &[f32],
        rows: usize,
        cols: usize,
        x: &[f32],
        m: usize,
        j: usize,
        scale: f32,
        ws: &mut Workspace,
        rng: &mut SeededRng,
    ) -> bool {
        let xq = grow(&mut ws.xq, rows);
        for (r, q) in xq.iter_mut().enumerate() {
            *q = self.dac(x[r * m + j] * scale);
        }
        let col = grow(&mut ws.col, cols);
        col.fill(0.0);
        for (r, &v) in ws.xq[..rows].iter().enumerate() {
            if v != 0.0 {
                for (c, &wv) in col.iter_mut().zip(&w[r * cols..(r + 1) * cols]) {
                    *c += wv * v;
                }
            }
        }
        let noise = grow(&mut ws.col_noise, cols);
        if self.out_noise > 0.0 {
            fill_normal(rng, noise);
        } else {
            noise.fill(0.0);
        }
        let mut clipped = false;
        for c in 0..cols {
            let v = ws.col[c] + self.out_noise * ws.col_noise[c];
            let q = quantise(v, self.out_step, self.out_inv, self.out_bound);
            clipped |= q > self.out_bound || q < -self.out_bound;
            ws.y[c * m + j] = clip(q, self.out_bound);
        }
        clipped
    }

    /// The drift-compensation readout of a tile (DESIGN.md 3.2): the full forward pass on the
    /// identity matrix of its input size, `max(1e-4, mean |out|)`.
    pub fn readout(
        &self,
        w: &[f32],
        rows: usize,
        cols: usize,
        ws: &mut Workspace,
        rng: &mut SeededRng,
    ) -> f64 {
        self.readout_cells(w, rows, cols, None, ws, rng)
    }

    /// [`Periphery::readout`] averaged over the cells `nonzero` marks (`rows x cols`; all cells
    /// when `None`): the read-out of a tile with structural zeros that skips them.
    pub fn readout_cells(
        &self,
        w: &[f32],
        rows: usize,
        cols: usize,
        nonzero: Option<&[bool]>,
        ws: &mut Workspace,
        rng: &mut SeededRng,
    ) -> f64 {
        let mut eye = vec![0f32; rows * rows];
        for i in 0..rows {
            eye[i * rows + i] = 1.0;
        }
        self.prepare_inputs(&eye, rows, rows, ws);
        // The product with the identity picks rows of W: no GEMM needed.
        let y = grow(&mut ws.y, cols * rows);
        for j in 0..rows {
            let q = ws.q[j * rows + j];
            for c in 0..cols {
                y[c * rows + j] = q * w[j * cols + c];
            }
        }
        self.finish(w, rows, cols, &eye, rows, ws, rng);
        let mut sum = 0f64;
        let mut cells = 0usize;
        for (c, yrow) in ws.y[..cols * rows].chunks_exact(rows).enumerate() {
            for (j, ((&y, &a), &r)) in yrow
                .iter()
                .zip(&ws.nm[..rows])
                .zip(&ws.red[..rows])
                .enumerate()
            {
                // Output c of identity vector j reads cell (j, c).
                if nonzero.is_none_or(|m| m[j * cols + c]) {
                    sum += (y * a * r).abs() as f64;
                    cells += 1;
                }
            }
        }
        (sum / cells.max(1) as f64).max(1e-4)
    }
}

/// `dst[c * dst_stride + j] = sum_r w[r * cols + c] * x[r * m + j]`: the product of a tile's
/// transposed `rows x cols` matrix with a `rows x m` block (single-threaded GEMM; the callers
/// parallelise over blocks).
///
/// # Panics
/// Panics when a buffer is too small for the shapes.
pub fn matmul_wt(
    w: &[f32],
    rows: usize,
    cols: usize,
    x: &[f32],
    m: usize,
    dst: &mut [f32],
    dst_stride: usize,
) {
    if m == 0 || cols == 0 {
        return;
    }
    assert!(w.len() >= rows * cols, "weight buffer too small");
    assert!(x.len() >= rows * m, "input buffer too small");
    assert!(
        dst_stride >= m && dst.len() >= (cols - 1) * dst_stride + m,
        "output buffer too small"
    );
    if rows == 0 {
        for c in 0..cols {
            dst[c * dst_stride..c * dst_stride + m].fill(0.0);
        }
        return;
    }
    // SAFETY: the asserts above keep every strided access of the three operands inside its
    // slice: dst has rows c < cols at stride dst_stride with m entries, lhs element (c, r) is
    // w[r * cols + c], rhs element (r, j) is x[r * m + j].
    unsafe {
        gemm::gemm(
            cols,
            m,
            rows,
            dst.as_mut_ptr(),
            1,
            dst_stride as isize,
            false,
            w.as_ptr(),
            cols as isize,
            1,
            x.as_ptr(),
            1,
            m as isize,
            0.0f32,
            1.0f32,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aihwkit() -> Periphery {
        Periphery::new(&HwProfile::default())
    }

    #[test]
    fn dac_and_adc_steps() {
        let p = aihwkit();
        assert!((p.inp_step - 1.0 / 63.0).abs() < 1e-7);
        assert!((p.out_step - 24.0 / 510.0).abs() < 1e-7);
        // 127 input levels: 0.5 lies between 31/63 and 32/63 and rounds to 32/63 (0.50794).
        assert!((p.dac(0.5) - 32.0 / 63.0).abs() < 1e-7);
        assert!((p.dac(0.01) - 1.0 / 63.0).abs() < 1e-7);
        assert_eq!(p.dac(0.007), 0.0);
        assert_eq!(p.dac(1.7), 1.0);
        assert_eq!(p.dac(-3.0), -1.0);
        // ADC: step 24/510 = 0.0470588; 1.0 -> 21 steps = 0.988235; clipped at 12.
        assert!((p.adc(1.0) - 21.0 * 24.0 / 510.0).abs() < 1e-6);
        assert_eq!(p.adc(100.0), 12.0);
        assert_eq!(p.adc(-12.01), -12.0);
        let levels: std::collections::BTreeSet<i32> = (0..=2000)
            .map(|i| (p.dac(-1.0 + i as f32 / 1000.0) * 63.0).round() as i32)
            .collect();
        assert_eq!(levels.len(), 127);
        let hermes = Periphery::new(
            &HwProfile::load(format!(
                "{}/hw_profiles/pcm_hermes.toml",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap(),
        );
        assert!((hermes.inp_step - 2.0 / 254.0).abs() < 1e-7);
        assert!((hermes.out_step - 20.0 / 254.0).abs() < 1e-7);
        let ideal = Periphery::new(&HwProfile::ideal());
        assert_eq!(ideal.dac(1.234_567), 1.234_567);
        assert_eq!(ideal.adc(-1e6), -1e6);
    }

    #[test]
    fn bound_management_limit() {
        // inp_step 1/63, bm_max_res 0.25: reductions 1, 2, 4, 8, 16 (16 > 15.75 stops).
        let p = aihwkit();
        assert!(!p.bm_stop(8.0));
        assert!(p.bm_stop(16.0));
    }

    fn forward(
        p: &Periphery,
        w: &[f32],
        rows: usize,
        cols: usize,
        x: &[f32],
        m: usize,
    ) -> Vec<f32> {
        let mut ws = Workspace::default();
        let mut out = vec![0f32; cols * m];
        p.prepare_inputs(x, rows, m, &mut ws);
        p.tile_output(
            w,
            rows,
            cols,
            x,
            m,
            &mut ws,
            &mut crate::rng::seeded(1),
            1.0,
            None,
            &mut out,
            m,
            false,
        );
        out
    }

    fn exact(w: &[f32], rows: usize, cols: usize, x: &[f32], m: usize) -> Vec<f32> {
        let mut out = vec![0f32; cols * m];
        for c in 0..cols {
            for j in 0..m {
                out[c * m + j] = (0..rows).map(|r| w[r * cols + c] * x[r * m + j]).sum();
            }
        }
        out
    }

    fn random(n: usize, seed: u64) -> Vec<f32> {
        let mut rng = crate::rng::seeded(seed);
        (0..n).map(|_| crate::rng::normal(&mut rng)).collect()
    }

    #[test]
    fn ideal_periphery_is_the_exact_product() {
        let (rows, cols, m) = (37, 11, 29);
        let w = random(rows * cols, 1);
        let x = random(rows * m, 2);
        let got = forward(&Periphery::new(&HwProfile::ideal()), &w, rows, cols, &x, m);
        for (a, b) in got.iter().zip(exact(&w, rows, cols, &x, m)) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
    }

    #[test]
    fn quantised_output_lies_on_the_adc_grid_times_the_input_scale() {
        let mut prof = HwProfile::default();
        prof.periphery.out_noise = 0.0;
        prof.periphery.bound_management = BoundManagement::None;
        let p = Periphery::new(&prof);
        let (rows, cols, m) = (16, 4, 8);
        let w: Vec<f32> = random(rows * cols, 3).iter().map(|v| v * 0.1).collect();
        let x = random(rows * m, 4);
        let got = forward(&p, &w, rows, cols, &x, m);
        let exact = exact(&w, rows, cols, &x, m);
        for j in 0..m {
            let amax = (0..rows).fold(0f32, |a, r| a.max(x[r * m + j].abs()));
            for c in 0..cols {
                let steps = got[c * m + j] / amax / p.out_step;
                assert!((steps - steps.round()).abs() < 1e-3, "{steps}");
                // DAC error (half a step of 1/63 on each of 16 inputs) plus half an ADC step.
                let tol = amax * (16.0 * 0.5 / 63.0 * 0.3 + 0.5 * p.out_step);
                assert!((got[c * m + j] - exact[c * m + j]).abs() <= tol);
            }
        }
    }

    #[test]
    fn bound_management_rescues_saturated_outputs() {
        // All-ones weights and inputs: each output is `rows` = 40 > out_bound 12. Without bound
        // management it clips at 12; with it the input is halved until 40/4 = 10 fits.
        let (rows, cols, m) = (40, 3, 2);
        let w = vec![1f32; rows * cols];
        let x = vec![1f32; rows * m];
        let mut prof = HwProfile::default();
        prof.periphery.out_noise = 0.0;
        prof.periphery.bound_management = BoundManagement::None;
        let clipped = forward(&Periphery::new(&prof), &w, rows, cols, &x, m);
        assert!(clipped.iter().all(|&v| v == 12.0));
        prof.periphery.bound_management = BoundManagement::Iterative;
        let p = Periphery::new(&prof);
        let managed = forward(&p, &w, rows, cols, &x, m);
        // Reduction 4: DAC(0.25) = 16/63, 40 of them = 10.159, ADC, times 4.
        let expect = 4.0 * p.adc(40.0 * p.dac(0.25));
        assert!((expect - 40.635).abs() < 0.03, "{expect}");
        for v in managed {
            assert!((v - expect).abs() < 1e-4, "{v} vs {expect}");
        }
    }

    #[test]
    fn output_noise_has_the_profile_std() {
        let mut prof = HwProfile::ideal();
        prof.periphery.out_noise = 0.06;
        let p = Periphery::new(&prof);
        let (rows, cols, m) = (4, 50, 400);
        let w = vec![0f32; rows * cols];
        let x = random(rows * m, 5);
        let got = forward(&p, &w, rows, cols, &x, m);
        let n = got.len() as f64;
        let var = got.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / n;
        assert!((var.sqrt() - 0.06).abs() < 0.003, "{}", var.sqrt());
    }

    #[test]
    fn readout_of_identity_is_mean_abs_weight() {
        let p = Periphery::new(&HwProfile::ideal());
        let (rows, cols) = (20, 7);
        let w = random(rows * cols, 6);
        let mean_abs = w.iter().map(|v| v.abs() as f64).sum::<f64>() / w.len() as f64;
        let r = p.readout(
            &w,
            rows,
            cols,
            &mut Workspace::default(),
            &mut crate::rng::seeded(1),
        );
        assert!((r - mean_abs).abs() < 1e-6);
    }

    /// Runs `f` with the plain (non-AVX2) kernel copies forced on this thread.
    fn plain<T>(f: impl FnOnce() -> T) -> T {
        FORCE_PLAIN.with(|p| p.set(true));
        let out = f();
        FORCE_PLAIN.with(|p| p.set(false));
        out
    }

    fn bits(v: &[f32]) -> Vec<u32> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    #[test]
    fn plain_and_avx2_kernels_agree_bit_for_bit() {
        // On a CPU without AVX2 and FMA both runs take the plain copy and the test is vacuous.
        let (rows, cols, m) = (37, 13, 45); // m not a multiple of 16: the remainder loop runs
        for seed in 0..4u64 {
            // Scaled normals with a few outliers, so that clipping and rounding ties occur.
            let x: Vec<f32> = random(rows * m, 10 + seed)
                .iter()
                .enumerate()
                .map(|(i, v)| if i % 17 == 0 { v * 40.0 } else { v * 0.7 })
                .collect();
            let inv: Vec<f32> = random(m, 20 + seed).iter().map(|v| 0.5 + v.abs()).collect();
            let noise = random(cols * m, 30 + seed);
            let y0: Vec<f32> = random(cols * m, 40 + seed)
                .iter()
                .map(|v| v * 9.0)
                .collect();
            let (step, inv_step) = (1.0f32 / 63.0, 63.0f32);
            let run = || {
                let mut nm = vec![0f32; m];
                absmax_kernel(&x, m, &mut nm);
                let mut q = vec![0f32; rows * m];
                dac_kernel(&x, m, &inv, &mut q, step, inv_step, 1.0);
                let mut q0 = vec![0f32; rows * m];
                dac_kernel(&x, m, &inv, &mut q0, 0.0, 0.0, 1.0);
                let (mut y, mut peak) = (y0.clone(), vec![0f32; m]);
                adc_kernel(
                    &mut y,
                    &noise,
                    0.06,
                    m,
                    &mut peak,
                    24.0 / 510.0,
                    510.0 / 24.0,
                    12.0,
                );
                let (mut y2, mut peak2) = (y0.clone(), vec![0f32; m]);
                adc_kernel(&mut y2, &[], 0.0, m, &mut peak2, 0.0, 0.0, 12.0);
                let mut out = vec![0.5f32; cols * (m + 3)];
                scatter_kernel(&mut out, m + 3, &y, m, &inv, true);
                scatter_kernel(&mut out, m + 3, &y2, m, &nm, false);
                let p = Periphery::new(&HwProfile::default());
                let w: Vec<f32> = random(rows * cols, 50 + seed);
                let full = forward(&p, &w, rows, cols, &x, m);
                [nm, q, q0, y, peak, y2, peak2, out, full].map(|v| bits(&v))
            };
            let fast = run();
            let slow = plain(run);
            let names = [
                "absmax",
                "dac",
                "dac(step 0)",
                "adc",
                "adc peak",
                "adc(step 0)",
                "adc(step 0) peak",
                "scatter",
                "tile forward",
            ];
            for ((name, a), b) in names.iter().zip(&fast).zip(&slow) {
                assert!(
                    a == b,
                    "seed {seed}: {name} differs between the AVX2 and plain copies"
                );
            }
        }
    }
}
