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

/// A standard normal draw: `rand_distr::StandardNormal` (a ziggurat in f64), rounded to f32.
///
/// The simulation's bulk noise uses [`crate::hw::normal`] instead, which is several times
/// faster (its module doc has the figures).
pub fn normal<R: rand::Rng + ?Sized>(rng: &mut R) -> f32 {
    use rand_distr::Distribution;
    rand_distr::StandardNormal.sample(rng)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_draws_are_seeded_and_standard() {
        let draw = |seed| -> Vec<f32> {
            let mut rng = seeded(seed);
            (0..200_000).map(|_| normal(&mut rng)).collect()
        };
        let v = draw(5);
        assert_eq!(v, draw(5));
        assert_ne!(v[..10], draw(6)[..10]);
        let n = v.len() as f64;
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n;
        let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.01, "var {var}");
        let below = v.iter().filter(|&&x| x < -1.0).count() as f64 / n;
        assert!((below - 0.158655).abs() < 0.003, "P(z<-1) {below}");
    }
}
