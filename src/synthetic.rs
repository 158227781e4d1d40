//! A deterministic test function of an architecture, for tests and benchmarks of the search and
//! of the evaluation executor. Its numbers describe no hardware.

use crate::nn::Arch;

/// A deterministic test function of an architecture, shaped like what the measured path finds
/// (it is NOT a model of any chip): accuracy grows with the logarithm of the parameter count and
/// saturates, drift loss (AVM) grows with separable and bottleneck convolutions and with depth
/// and shrinks with width, and a ripple of up to ±0.5 points from the genome's hash makes the
/// landscape rugged. Returns `(acc_1d, avm, acc_1d_std)`.
pub fn synthetic_prediction(arch: &Arch) -> (f64, f64, f64) {
    synthetic_with_params(arch, arch.params())
}

pub(crate) fn synthetic_with_params(arch: &Arch, params: usize) -> (f64, f64, f64) {
    use crate::space::ConvType;
    let g = &arch.genome;
    let acc_fp = 97.5 - 62.0 / (1.0 + (params as f64 / 3000.0).powf(0.8));
    let blocks = g.blocks.len().max(1) as f64;
    let ct_loss: f64 = g
        .blocks
        .iter()
        .map(|b| match b.ct {
            ConvType::A => 0.8,
            ConvType::B => 1.6,
            ConvType::C => 0.5,
            ConvType::D => 3.0,
        })
        .sum::<f64>()
        / blocks;
    let mean_width = arch.total_width() as f64 / blocks;
    let depth: u32 = g.blocks.iter().map(|b| b.r).sum();
    let avm = 1.0 + ct_loss + 5.0 / (mean_width / 8.0).sqrt() + 0.15 * depth as f64;
    let hash = crate::space::fnv1a64(g.canonical_json().as_bytes());
    let ripple = (hash % 1000) as f64 / 1000.0 - 0.5;
    let acc_1d = (acc_fp - 0.6 * avm + ripple).clamp(0.0, 100.0);
    (acc_1d, avm, 0.3 + 0.08 * avm)
}
