//! The scorer boundary: the search knows only this trait, not whether a score comes from the
//! surrogate, from training, or from a test function.

use crate::hw::{HwProfile, layer_footprint};
use crate::nn::Arch;
pub use crate::synthetic::synthetic_prediction;
use crate::synthetic::synthetic_with_params;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// The objectives of one architecture as a scorer sees them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Accuracy one day after programming, in percent.
    pub acc_1d: f64,
    /// Accuracy variation over a month, `acc(1 s) - acc(30 d)`, in percent points.
    pub avm: f64,
    /// Standard deviation of the 1-day accuracy over programming repetitions, in points.
    pub acc_1d_std: f64,
    /// Crossbar tiles the network occupies on the hardware profile.
    pub tiles: usize,
    /// Trainable parameters.
    pub params: usize,
    /// Energy, latency and area on the hardware profile; set by the search when an objective
    /// or budget needs them, and written only then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<super::CostScores>,
}

impl Scores {
    /// Whether every float is finite.
    pub fn is_finite(&self) -> bool {
        self.acc_1d.is_finite() && self.avm.is_finite() && self.acc_1d_std.is_finite()
    }
}

/// What scoring one architecture produced.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The objectives.
    Scored(Scores),
    /// The scorer could not score it; the reason is one line. A failed candidate never
    /// enters a population (as Optuna treats a FAIL trial).
    Failed(String),
}

impl Outcome {
    /// The scores, when scored.
    pub fn scores(&self) -> Option<&Scores> {
        match self {
            Outcome::Scored(s) => Some(s),
            Outcome::Failed(_) => None,
        }
    }
}

/// Scores batches of architectures. The search calls it with every genome it has not seen
/// before and never looks behind it.
pub trait Scorer {
    /// Short name recorded in `run.json` (e.g. `surrogate:digits_pcm_aihwkit`, `synthetic`).
    fn name(&self) -> &str;
    /// One outcome per architecture of `batch`, in order.
    fn score(&mut self, batch: &[Arch]) -> Vec<Outcome>;
    /// [`Scorer::score`] for a scorer that measures candidates: its measurements run through
    /// `executor` and report to `observer` (a run hands it its own). The default ignores both.
    fn score_on(
        &mut self,
        batch: &[Arch],
        executor: &dyn crate::evaluate::Executor,
        observer: &dyn crate::progress::Observer,
    ) -> Vec<Outcome> {
        let _ = (executor, observer);
        self.score(batch)
    }
}

/// A scorer bound to an executor and an observer: its [`Scorer::score`] is the inner scorer's
/// [`Scorer::score_on`]. A run scores its search through one.
pub struct ScoreOn<'a> {
    /// The scorer.
    pub inner: &'a mut dyn Scorer,
    /// Where its measurements run.
    pub executor: &'a dyn crate::evaluate::Executor,
    /// Where its progress goes.
    pub observer: &'a dyn crate::progress::Observer,
}

impl Scorer for ScoreOn<'_> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn score(&mut self, batch: &[Arch]) -> Vec<Outcome> {
        self.inner.score_on(batch, self.executor, self.observer)
    }
}

/// Tiles and parameters of `arch` on `profile` with its hardware genes applied, from one layer
/// plan (the same numbers as [`crate::hw::footprint`], at a third of its cost).
pub fn tiles_and_params(arch: &Arch, profile: &HwProfile) -> (usize, usize) {
    let profile = &*profile.for_arch(arch);
    let plan = arch.plan();
    let layers = plan.layers();
    let tiles = layers
        .iter()
        .map(|l| layer_footprint(l, profile).tiles)
        .sum();
    let params = layers.iter().map(|l| l.params()).sum();
    (tiles, params)
}

/// A scorer from a prediction function: the function predicts `(acc_1d, avm, acc_1d_std)`
/// and the scorer adds tiles and parameters from the hardware profile. Batches are scored in
/// parallel; the function must be pure so that results do not depend on the thread count.
///
/// The surrogate plugs in as
/// `ClosureScorer::new("surrogate:NAME", profile.clone(), move |a| { let p = model.predict(a, &profile); (p.acc_1d, p.avm, p.acc_1d_std) })`.
pub struct ClosureScorer<F> {
    name: String,
    profile: HwProfile,
    predict: F,
}

impl<F> ClosureScorer<F>
where
    F: Fn(&Arch) -> (f64, f64, f64) + Send + Sync,
{
    /// A scorer named `name` that predicts with `predict` and counts tiles on `profile`.
    pub fn new(name: impl Into<String>, profile: HwProfile, predict: F) -> Self {
        ClosureScorer {
            name: name.into(),
            profile,
            predict,
        }
    }
}

impl<F> Scorer for ClosureScorer<F>
where
    F: Fn(&Arch) -> (f64, f64, f64) + Send + Sync,
{
    fn name(&self) -> &str {
        &self.name
    }

    fn score(&mut self, batch: &[Arch]) -> Vec<Outcome> {
        let one = |a: &Arch| {
            let (acc_1d, avm, acc_1d_std) = (self.predict)(a);
            let (tiles, params) = tiles_and_params(a, &self.profile);
            Outcome::Scored(Scores {
                acc_1d,
                avm,
                acc_1d_std,
                tiles,
                params,
                cost: None,
            })
        };
        batch.par_iter().with_min_len(8).map(one).collect()
    }
}

/// The name `--surrogate synthetic` selects: [`synthetic_prediction`] as a scorer (for tests
/// and benchmarks; its numbers describe no hardware).
pub const SYNTHETIC: &str = "synthetic";

/// [`synthetic_prediction`] as a [`Scorer`], with tiles counted on a profile (one layer plan
/// per architecture).
pub struct SyntheticScorer {
    profile: HwProfile,
}

impl Scorer for SyntheticScorer {
    fn name(&self) -> &str {
        SYNTHETIC
    }

    fn score(&mut self, batch: &[Arch]) -> Vec<Outcome> {
        let one = |a: &Arch| {
            let (tiles, params) = tiles_and_params(a, &self.profile);
            let (acc_1d, avm, acc_1d_std) = synthetic_with_params(a, params);
            Outcome::Scored(Scores {
                acc_1d,
                avm,
                acc_1d_std,
                tiles,
                params,
                cost: None,
            })
        };
        batch.par_iter().with_min_len(8).map(one).collect()
    }
}

/// The synthetic test scorer with tiles counted on `profile`.
pub fn synthetic_scorer(profile: HwProfile) -> SyntheticScorer {
    SyntheticScorer { profile }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Reference;
    use crate::task::Task;

    #[test]
    fn tiles_and_params_match_footprint() {
        let profile = HwProfile::default();
        for r in Reference::ALL {
            let a = Arch::for_task(r.genome(), Task::Cifar10);
            let f = crate::hw::footprint(&a, &profile);
            assert_eq!(tiles_and_params(&a, &profile), (f.tiles, f.params));
        }
    }

    #[test]
    fn closure_scorer_fills_footprint_and_is_deterministic() {
        let profile = HwProfile::default();
        let mut s = synthetic_scorer(profile.clone());
        let space = crate::space::SearchSpace::load(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/search_spaces/resnet_tinyml.toml"
        ))
        .unwrap();
        let mut rng = crate::rng::seeded(1);
        let batch: Vec<Arch> = (0..40)
            .map(|_| Arch::for_task(space.sample(&mut rng), Task::Digits))
            .collect();
        let a = s.score(&batch);
        let b = s.score(&batch);
        assert_eq!(a, b);
        for (arch, o) in batch.iter().zip(&a) {
            let sc = o.scores().unwrap();
            assert!(sc.is_finite());
            assert!((0.0..=100.0).contains(&sc.acc_1d));
            assert_eq!(sc.tiles, crate::hw::footprint(arch, &profile).tiles);
        }
        assert_eq!(s.name(), "synthetic");
    }

    #[test]
    fn closure_scorer_matches_the_synthetic_scorer() {
        let profile = HwProfile::default();
        let batch: Vec<Arch> = Reference::ALL
            .iter()
            .map(|r| Arch::for_task(r.genome(), Task::Digits))
            .collect();
        let mut c = ClosureScorer::new("c", profile.clone(), synthetic_prediction);
        assert_eq!(c.score(&batch), synthetic_scorer(profile).score(&batch));
        assert_eq!(c.name(), "c");
    }

    #[test]
    fn synthetic_accuracy_grows_with_size() {
        let small = Arch::for_task(Reference::Resnet8.genome(), Task::Cifar10);
        let big = Arch::for_task(Reference::Resnet32.genome(), Task::Cifar10);
        assert!(synthetic_prediction(&big).0 > synthetic_prediction(&small).0);
    }
}
