//! MFCC features as in MLPerf Tiny's keyword-spotting benchmark (TensorFlow's `tf.signal`
//! pipeline): periodic Hann window, magnitude spectrum (a real FFT from the `realfft` crate),
//! HTK-mel triangular filters, log, DCT-II.
//!
//! With [`MfccConfig::default`] a 1 s clip at 16 kHz gives 49 frames of 10 coefficients
//! (40 ms windows every 20 ms, FFT size 1024, 40 mel bands from 20 Hz to 4 kHz).

use realfft::{RealFftPlanner, RealToComplex};
use std::sync::Arc;

/// Parameters of the feature extraction.
#[derive(Clone, Debug, PartialEq)]
pub struct MfccConfig {
    /// Samples per second. Default: 16000.
    pub sample_rate: u32,
    /// Window length in samples. Default: 640 (40 ms).
    pub frame_len: usize,
    /// Hop between windows in samples. Default: 320 (20 ms).
    pub hop: usize,
    /// FFT size, `>= frame_len` (any size; powers of two are fastest). Default: 1024.
    pub fft_len: usize,
    /// Number of mel bands. Default: 40.
    pub mel_bands: usize,
    /// Lower edge of the first mel band in Hz. Default: 20.
    pub f_low: f64,
    /// Upper edge of the last mel band in Hz. Default: 4000.
    pub f_high: f64,
    /// Number of cepstral coefficients kept. Default: 10.
    pub coeffs: usize,
    /// Added to the mel energies before the log. Default: 1e-6.
    pub log_offset: f32,
}

impl Default for MfccConfig {
    fn default() -> Self {
        MfccConfig {
            sample_rate: 16000,
            frame_len: 640,
            hop: 320,
            fft_len: 1024,
            mel_bands: 40,
            f_low: 20.0,
            f_high: 4000.0,
            coeffs: 10,
            log_offset: 1e-6,
        }
    }
}

/// HTK mel scale: `1127 ln(1 + f / 700)`.
pub fn hz_to_mel(hz: f64) -> f64 {
    1127.0 * (1.0 + hz / 700.0).ln()
}

/// Inverse of [`hz_to_mel`].
pub fn mel_to_hz(mel: f64) -> f64 {
    700.0 * ((mel / 1127.0).exp() - 1.0)
}

/// A ready-to-use MFCC extractor (window, FFT plan, filter bank and DCT precomputed).
#[derive(Clone)]
pub struct Mfcc {
    cfg: MfccConfig,
    window: Vec<f32>,
    fft: Arc<dyn RealToComplex<f32>>,
    /// Per mel band: the first spectrum bin and the weights of the following bins.
    filters: Vec<(usize, Vec<f32>)>,
    /// `coeffs x mel_bands`, row-major.
    dct: Vec<f32>,
}

impl std::fmt::Debug for Mfcc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mfcc")
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

impl Default for Mfcc {
    fn default() -> Self {
        Mfcc::new(MfccConfig::default())
    }
}

impl Mfcc {
    /// An extractor for `cfg`.
    ///
    /// # Panics
    /// If `fft_len < frame_len`, `hop` or `frame_len` is zero,
    /// `coeffs > mel_bands`, or the band edges are not `0 <= f_low < f_high <= sample_rate / 2`.
    pub fn new(cfg: MfccConfig) -> Self {
        assert!(
            cfg.frame_len > 0 && cfg.hop > 0,
            "frame_len and hop must be > 0"
        );
        assert!(cfg.fft_len >= cfg.frame_len, "fft_len must be >= frame_len");
        assert!(cfg.coeffs <= cfg.mel_bands, "coeffs must be <= mel_bands");
        let nyquist = cfg.sample_rate as f64 / 2.0;
        assert!(
            0.0 <= cfg.f_low && cfg.f_low < cfg.f_high && cfg.f_high <= nyquist,
            "mel band edges must satisfy 0 <= f_low < f_high <= sample_rate / 2"
        );
        let window = (0..cfg.frame_len)
            .map(|i| {
                let a = std::f64::consts::TAU * i as f64 / cfg.frame_len as f64;
                (0.5 - 0.5 * a.cos()) as f32
            })
            .collect();
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(cfg.fft_len);
        let bins = cfg.fft_len / 2 + 1;
        let (lo, hi) = (hz_to_mel(cfg.f_low), hz_to_mel(cfg.f_high));
        let edges: Vec<f64> = (0..cfg.mel_bands + 2)
            .map(|i| lo + (hi - lo) * i as f64 / (cfg.mel_bands + 1) as f64)
            .collect();
        let bin_mel: Vec<f64> = (0..bins)
            .map(|k| hz_to_mel(k as f64 * nyquist / (bins - 1) as f64))
            .collect();
        let filters = (0..cfg.mel_bands)
            .map(|m| {
                let (l, c, u) = (edges[m], edges[m + 1], edges[m + 2]);
                // The DC bin never contributes (as tf.signal.linear_to_mel_weight_matrix).
                let w: Vec<f32> = (0..bins)
                    .map(|k| {
                        if k == 0 {
                            return 0.0;
                        }
                        let down = (bin_mel[k] - l) / (c - l);
                        let up = (u - bin_mel[k]) / (u - c);
                        down.min(up).max(0.0) as f32
                    })
                    .collect();
                let first = w.iter().position(|&v| v > 0.0).unwrap_or(0);
                let last = w.iter().rposition(|&v| v > 0.0).map_or(first, |i| i + 1);
                (first, w[first..last].to_vec())
            })
            .collect();
        let n = cfg.mel_bands as f64;
        let dct = (0..cfg.coeffs)
            .flat_map(|k| {
                (0..cfg.mel_bands).map(move |i| {
                    ((2.0 / n).sqrt()
                        * (std::f64::consts::PI * k as f64 * (2 * i + 1) as f64 / (2.0 * n)).cos())
                        as f32
                })
            })
            .collect();
        Mfcc {
            cfg,
            window,
            fft,
            filters,
            dct,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &MfccConfig {
        &self.cfg
    }

    /// Number of frames of a clip of `samples` samples (windows that fit entirely).
    pub fn frames(&self, samples: usize) -> usize {
        if samples < self.cfg.frame_len {
            0
        } else {
            1 + (samples - self.cfg.frame_len) / self.cfg.hop
        }
    }

    /// Centre frequency in Hz of each mel band.
    pub fn band_centres(&self) -> Vec<f64> {
        let (lo, hi) = (hz_to_mel(self.cfg.f_low), hz_to_mel(self.cfg.f_high));
        (1..=self.cfg.mel_bands)
            .map(|i| mel_to_hz(lo + (hi - lo) * i as f64 / (self.cfg.mel_bands + 1) as f64))
            .collect()
    }

    /// Log mel energies, `frames x mel_bands`, row-major.
    pub fn log_mel(&self, x: &[f32]) -> Vec<f32> {
        let n = self.cfg.fft_len;
        let frames = self.frames(x.len());
        let mut out = Vec::with_capacity(frames * self.cfg.mel_bands);
        let mut input = vec![0.0f32; n];
        let mut spectrum = self.fft.make_output_vec();
        let mut scratch = self.fft.make_scratch_vec();
        let mut mag = vec![0.0f32; n / 2 + 1];
        for f in 0..frames {
            let seg = &x[f * self.cfg.hop..f * self.cfg.hop + self.cfg.frame_len];
            // The FFT uses its input as scratch: the zero padding is written on every frame.
            input.fill(0.0);
            for ((i, &v), &w) in input.iter_mut().zip(seg).zip(&self.window) {
                *i = v * w;
            }
            self.fft
                .process_with_scratch(&mut input, &mut spectrum, &mut scratch)
                .expect("buffers made by the plan have its sizes");
            for (m, c) in mag.iter_mut().zip(&spectrum) {
                *m = c.norm_sqr().sqrt();
            }
            for (first, w) in &self.filters {
                let e: f32 = w.iter().zip(&mag[*first..]).map(|(a, b)| a * b).sum();
                out.push((e + self.cfg.log_offset).ln());
            }
        }
        out
    }

    /// MFCCs, `frames x coeffs`, row-major.
    pub fn compute(&self, x: &[f32]) -> Vec<f32> {
        let bands = self.cfg.mel_bands;
        let lm = self.log_mel(x);
        let mut out = Vec::with_capacity(lm.len() / bands * self.cfg.coeffs);
        for frame in lm.chunks_exact(bands) {
            for row in self.dct.chunks_exact(bands) {
                out.push(row.iter().zip(frame).map(|(a, b)| a * b).sum());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(hz: f64, amp: f64, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (amp * (std::f64::consts::TAU * hz * i as f64 / 16000.0).sin()) as f32)
            .collect()
    }

    #[test]
    fn mfcc_shape_is_49_by_10_and_silence_is_finite() {
        let m = Mfcc::default();
        assert_eq!(m.frames(16000), 49);
        let f = m.compute(&vec![0.0; 16000]);
        assert_eq!(f.len(), 49 * 10);
        assert!(f.iter().all(|v| v.is_finite()));
        // Silence: every band at log(1e-6), so only c0 is non-zero and all frames are equal.
        let c0 = (1e-6f64).ln() * (2.0 * 40.0f64).sqrt();
        assert!((f[0] as f64 - c0).abs() < 1e-2, "{}", f[0]);
        assert!(f[1..10].iter().all(|v| v.abs() < 1e-3));
    }

    #[test]
    fn tone_energy_lands_in_the_nearest_mel_band() {
        let m = Mfcc::default();
        let centres = m.band_centres();
        for hz in [300.0, 1000.0, 2500.0] {
            let lm = m.log_mel(&tone(hz, 0.5, 16000));
            let frame = &lm[20 * 40..21 * 40];
            let peak = (0..40)
                .max_by(|&a, &b| frame[a].total_cmp(&frame[b]))
                .unwrap();
            let nearest = (0..40)
                .min_by(|&a, &b| (centres[a] - hz).abs().total_cmp(&(centres[b] - hz).abs()))
                .unwrap();
            assert!(
                peak.abs_diff(nearest) <= 1,
                "{hz} Hz: peak band {peak}, nearest {nearest}"
            );
            // Far bands see almost nothing of the tone.
            let far = if nearest > 20 { 0 } else { 39 };
            assert!(frame[peak] - frame[far] > 5.0, "{hz} Hz");
        }
        // A tone above the last band leaves the bands near silence.
        let lm = m.log_mel(&tone(6000.0, 0.5, 16000));
        assert!(
            lm[20 * 40..21 * 40].iter().all(|&v| v < -2.0),
            "{:?}",
            &lm[800..840]
        );
    }

    #[test]
    fn louder_clip_raises_only_c0() {
        let m = Mfcc::default();
        // Broadband pseudo-noise, so that every band is far above the log offset.
        let mut state = 12345u32;
        let noise: Vec<f32> = (0..16000)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect();
        let a = m.compute(&noise.iter().map(|v| v * 0.1).collect::<Vec<_>>());
        let b = m.compute(&noise.iter().map(|v| v * 0.4).collect::<Vec<_>>());
        // Four times the amplitude adds ln 4 to every log-mel band: c0 grows by ln 4 * sqrt(2*40).
        let d0 = b[200] - a[200];
        assert!((d0 - 4f32.ln() * 80f32.sqrt()).abs() < 0.01, "{d0}");
        for k in 1..10 {
            assert!((b[200 + k] - a[200 + k]).abs() < 0.01, "c{k}");
        }
    }

    /// The test clip of [`matches_an_independent_numpy_reference`]: two tones and a little
    /// pseudo-noise, computed in f64 and rounded to f32 (the reference rounds the same way).
    fn reference_clip() -> Vec<f32> {
        let mut state = 12345u32;
        (0..16000)
            .map(|t| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = (state >> 8) as f64 / (1u32 << 24) as f64 - 0.5;
                let t = t as f64;
                let tau = std::f64::consts::TAU;
                (0.5 * (tau * 440.0 * t / 16000.0).sin()
                    + 0.25 * (tau * 1800.0 * t / 16000.0 + 0.3).sin()
                    + 0.05 * noise) as f32
            })
            .collect()
    }

    #[test]
    fn matches_an_independent_numpy_reference() {
        // Reference: numpy 2.4.6 and scipy 1.17.1 (Python 3.11), in f64, computed once and
        // copied here. The same clip as `reference_clip` (cast to float32 and back); then per
        // frame f of 49: `seg = x[320 f : 320 f + 640] * (0.5 - 0.5 cos(2 pi i / 640))`
        // (periodic Hann), `mag = abs(numpy.fft.rfft(seg, n=1024))`; the mel matrix is
        // tf.signal.linear_to_mel_weight_matrix's definition written out in numpy: 42 edges
        // `numpy.linspace(mel(20), mel(4000), 42)` with `mel(f) = 1127 log1p(f / 700)`, bin
        // mels `mel(numpy.linspace(0, 8000, 513))`, weight `max(0, min((m - lo) / (c - lo),
        // (up - m) / (up - c)))`, DC row zeroed; `logmel = log(mag @ W + 1e-6)`; and
        // `scipy.fft.dct(logmel, type=2)[:10] / sqrt(2 * 40)` (TensorFlow's
        // mfccs_from_log_mel_spectrograms scaling). librosa was not used: its mel filters
        // (Slaney, or HTK triangles in Hz), power spectrum and centred frames are a different
        // definition. Frames 0, 24 and 48, rounded to 6 decimals:
        let reference: [(usize, [f32; 10]); 3] = [
            (
                0,
                [
                    4.454769, -1.705921, -0.512765, -0.613565, -4.085652, -4.140574, 0.930495,
                    0.007562, 2.475792, 3.747312,
                ],
            ),
            (
                24,
                [
                    5.285854, -2.010055, -0.566426, -0.508748, -4.186057, -3.730862, 0.998711,
                    0.349566, 1.727211, 3.811645,
                ],
            ),
            (
                48,
                [
                    5.293195, -1.825911, -1.554423, -1.044984, -4.184311, -4.123746, 0.594376,
                    0.078958, 1.762741, 3.891515,
                ],
            ),
        ];
        let got = Mfcc::default().compute(&reference_clip());
        assert_eq!(got.len(), 49 * 10);
        for (frame, want) in reference {
            for (k, w) in want.iter().enumerate() {
                let g = got[frame * 10 + k];
                // f32 arithmetic against f64: agreement to 1e-3 absolute.
                assert!((g - w).abs() < 1e-3, "frame {frame} c{k}: {g} vs {w}");
            }
        }
    }
}
