//! `bench normal`: the simulation's own normal sampler ([`crate::hw::normal`]) against
//! `rand_distr::StandardNormal`, the well-kept crate it must beat to exist.

use crate::hw::normal::{fast_normal, fill_normal};
use rand_distr::Distribution;
use std::time::Instant;

/// Nanoseconds per draw of each sampler over `n` draws into a touched buffer, `rounds` times
/// (medians reported), with the ratio to `StandardNormal` measured in the same run.
pub fn normal_report(n: usize, rounds: usize) -> String {
    let n = n.max(1);
    let mut v = vec![1f32; n];
    let mut rng = crate::rng::seeded(1);
    let per_draw = |t: Instant| t.elapsed().as_secs_f64() * 1e9 / n as f64;
    let (mut fill, mut single, mut reference) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds.max(1) {
        let t = Instant::now();
        fill_normal(&mut rng, &mut v);
        fill.push(per_draw(t));
        let t = Instant::now();
        for x in v.iter_mut() {
            *x = fast_normal(&mut rng);
        }
        single.push(per_draw(t));
        let t = Instant::now();
        for x in v.iter_mut() {
            *x = rand_distr::StandardNormal.sample(&mut rng);
        }
        reference.push(per_draw(t));
        std::hint::black_box(&v);
    }
    let (fill, single, reference) = (
        super::median(fill),
        super::median(single),
        super::median(reference),
    );
    format!(
        "normal draws ({n} per round, median of {} rounds)\n\
         rand_distr StandardNormal (reference) {reference:>6.2} ns per draw\n\
         hw::normal::fill_normal               {fill:>6.2} ns per draw ({:.2}x the reference's speed)\n\
         hw::normal::fast_normal               {single:>6.2} ns per draw ({:.2}x)\n",
        rounds.max(1),
        reference / fill,
        reference / single
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn report_names_the_reference_and_the_ratio() {
        let r = super::normal_report(1000, 1);
        assert!(
            r.contains("StandardNormal (reference)") && r.contains("x the reference"),
            "{r}"
        );
    }
}
