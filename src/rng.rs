//! The project's seeded random number generator: every random draw comes from one of these,
//! passed down explicitly.

use rand::SeedableRng;

/// The RNG used everywhere (xoshiro256++: fast, small state, stable across platforms).
pub type SeededRng = rand::rngs::Xoshiro256PlusPlus;

/// A generator seeded from a `u64`.
pub fn seeded(seed: u64) -> SeededRng {
    SeededRng::seed_from_u64(seed)
}

/// A seed derived from a parent seed and a stream label, so that independent streams
/// (per candidate, per repetition, per chunk) do not overlap and do not depend on thread count.
pub fn derive_seed(seed: u64, stream: u64) -> u64 {
    let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A standard normal draw (Box-Muller on two uniforms; no extra crate, stable output).
pub fn normal<R: rand::Rng + ?Sized>(rng: &mut R) -> f32 {
    use rand::RngExt;
    let u1: f64 = rng.random::<f64>().max(1e-300);
    let u2: f64 = rng.random::<f64>();
    ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
}
