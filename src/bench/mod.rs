//! Performance benchmarks, one module each; every report prints the reference it compares
//! with, measured in the same run, and the ratio:
//!
//! | benchmark | measures | reference |
//! |---|---|---|
//! | [`analog`](mod@analog) | analog inference of ResNet-20 at 1 day | burn's digital forward on the same batch |
//! | [`backends`] | ResNet-20 training and inference img/s per burn backend | flex (the default backend) |
//! | [`backends::train_report`] | hardware-aware training and one measured candidate on digits | digital training of the same network |
//! | [`train`](mod@train) | ResNet-20 digital and hardware-aware training and inference img/s | burn's flex operations and the PyTorch twin `benches/torch_resnet.py`, same run and threads |
//! | [`profile`](mod@profile) | a ResNet-20 training step per operation (convolutions, batch norm + ReLU) and per phase | burn's flex operations, interleaved |
//! | [`hwa`](mod@hwa) | accuracy over drift after digital, weight-noise and weight-noise + periphery training on digits | digital training of the same networks and seeds |
//! | [`normal`](mod@normal) | the analog simulation's normal sampler, ns per draw | `rand_distr::StandardNormal` |
//! | [`strategies`] | active learning, random sampling and LHS + search on a measured table, hypervolume vs measurements over 20+ seeds | random sampling at the same numbers of measurements |
//! | [`search`](mod@search) | surrogate-only searches of 200 x 200 | NSGA-II with the synthetic scorer in memory |
//! | [`surrogate`] | surrogate fit time and predictions per second | feature extraction of the same genomes |
//!
//! Performance targets live here, never in timed tests.

pub mod analog;
pub mod backends;
pub mod hwa;
pub mod normal;
pub mod profile;
pub mod search;
pub mod strategies;
pub mod surrogate;
pub mod train;

pub use analog::{AnalogBench, AnalogBenchConfig, analog};
pub use backends::{backends_report, train_report};
pub use search::search;

use std::time::Instant;

/// The median of `v` (NaN-free input; 0 for an empty one).
pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The CPU's model name (Linux), for the record of a benchmark.
pub fn cpu_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// Calls `f` repeatedly for at least `min_secs` and returns calls per second.
pub fn rate(min_secs: f64, mut f: impl FnMut(usize)) -> f64 {
    let start = Instant::now();
    let mut calls = 0usize;
    while start.elapsed().as_secs_f64() < min_secs {
        for _ in 0..64 {
            f(calls);
            calls += 1;
        }
    }
    calls as f64 / start.elapsed().as_secs_f64()
}

#[cfg(test)]
mod tests {
    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(super::median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(super::median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(super::median(vec![]), 0.0);
    }
}
