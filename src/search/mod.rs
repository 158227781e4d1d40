//! Evolutionary multi-objective search (DESIGN.md 6): NSGA-II and the AnalogNAS paper's
//! Algorithm 1 behind one ask/tell engine, Pareto fronts and their hypervolume.
//!
//! The search knows architectures only through a [`Scorer`]. It writes no files: the
//! [`pipeline`](crate::pipeline) runs it in a run directory, checkpoints it and validates the
//! front it finds. Everything random comes from one seed: generation `g` draws from
//! `rng::seeded(rng::derive_seed(seed, g))`, so a resumed run repeats an uninterrupted one.
//!
//! ```
//! use analognas::search::{Search, SearchSettings, synthetic_scorer};
//! use analognas::{hw::HwProfile, space::SearchSpace, task::Task};
//! # fn main() -> analognas::Result<()> {
//! let space = SearchSpace::load(analognas::files::shipped_path("search_spaces/tiny.toml"))?;
//! let profile = HwProfile::default();
//! let mut settings = SearchSettings::defaults(&space, Task::Digits, &profile);
//! (settings.population, settings.generations) = (16, 4);
//! let mut search = Search::new(&space, Task::Digits, settings)?;
//! search.run(&mut synthetic_scorer(profile))?;
//! assert!(!search.front().is_empty());
//! # Ok(())
//! # }
//! ```

mod analognas_ea;
mod engine;
mod error;
mod hypervolume;
mod nsga2;
mod pareto;
mod scorer;

pub use analognas_ea::AnalogNasEa;
pub use engine::*;
pub use error::SearchError;
pub use hypervolume::*;
pub use nsga2::Nsga2;
pub use pareto::*;
pub use scorer::*;

use crate::error::{Error, Result};
use crate::hw::HwProfile;
use crate::space::{Genome, MainBlock, SearchSpace};
use crate::task::Task;
use serde::{Deserialize, Serialize};

/// Which evolutionary algorithm drives the search.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlgorithmKind {
    /// NSGA-II: non-dominated sorting, crowding distance, binary tournament, crossover and
    /// mutation, constraint domination for the budgets.
    Nsga2,
    /// The AnalogNAS paper's Algorithm 1: LHS start, budget repair by resampling, best half
    /// by predicted 1-day accuracy kept, mutated children appended (mu + lambda).
    Analognas,
}

impl AlgorithmKind {
    /// The name as the CLI spells it.
    pub fn name(self) -> &'static str {
        match self {
            AlgorithmKind::Nsga2 => "nsga2",
            AlgorithmKind::Analognas => "analognas",
        }
    }
}

impl crate::choice::Choice for AlgorithmKind {
    const ALL: &'static [Self] = &[AlgorithmKind::Nsga2, AlgorithmKind::Analognas];
    fn name(self) -> &'static str {
        AlgorithmKind::name(self)
    }
}

/// The objectives: accuracy at 1 day (maximised) and tiles (minimised), optionally AVM
/// (minimised). Written as `acc_1d,tiles` or `acc_1d,tiles,avm`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Objectives {
    /// Whether AVM is a third objective.
    pub avm: bool,
}

impl Objectives {
    /// Parses `acc_1d,tiles[,avm]` (any order, no repeats).
    pub fn parse(s: &str) -> Result<Self> {
        let bad = || {
            Error::from(SearchError::setting(
                "--objectives",
                "acc_1d,tiles or acc_1d,tiles,avm",
                format!("\"{s}\""),
            ))
        };
        let mut names: Vec<&str> = s.split(',').map(str::trim).collect();
        names.sort_unstable();
        match names.as_slice() {
            ["acc_1d", "tiles"] => Ok(Objectives { avm: false }),
            ["acc_1d", "avm", "tiles"] => Ok(Objectives { avm: true }),
            _ => Err(bad()),
        }
    }

    /// The objective names, in vector order.
    pub fn names(self) -> Vec<&'static str> {
        if self.avm {
            vec!["acc_1d", "tiles", "avm"]
        } else {
            vec!["acc_1d", "tiles"]
        }
    }

    /// Number of objectives.
    pub fn count(self) -> usize {
        2 + usize::from(self.avm)
    }

    /// The objective vector of `s` in minimisation form: `[-acc_1d, tiles(, avm)]`.
    pub fn vector(self, s: &Scores) -> Vec<f64> {
        let mut v = vec![-s.acc_1d, s.tiles as f64];
        if self.avm {
            v.push(s.avm);
        }
        v
    }
}

impl std::fmt::Display for Objectives {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.names().join(","))
    }
}

impl Serialize for Objectives {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.names().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Objectives {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        Objectives::parse(&names.join(",")).map_err(serde::de::Error::custom)
    }
}

/// Budgets; a candidate over one is infeasible (constraint domination ranks it behind every
/// feasible one by its normalised excess).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budgets {
    /// Most tiles a network may occupy.
    pub max_tiles: Option<usize>,
    /// Most trainable parameters.
    pub max_params: Option<usize>,
    /// Largest accuracy variation over a month, in points.
    pub max_avm: Option<f64>,
}

impl Budgets {
    /// Sum of the relative excesses over each budget; 0 when every budget holds.
    pub fn violation(&self, s: &Scores) -> f64 {
        let mut v = 0.0;
        if let Some(t) = self.max_tiles.filter(|&t| s.tiles > t) {
            v += (s.tiles - t) as f64 / t.max(1) as f64;
        }
        if let Some(p) = self.max_params.filter(|&p| s.params > p) {
            v += (s.params - p) as f64 / p.max(1) as f64;
        }
        if let Some(a) = self.max_avm.filter(|&a| s.avm > a) {
            v += (s.avm - a) / a.abs().max(1.0);
        }
        v
    }

    /// One line, e.g. `tiles <= 20, params <= 100000`, or `none`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(t) = self.max_tiles {
            parts.push(format!("tiles <= {t}"));
        }
        if let Some(p) = self.max_params {
            parts.push(format!("params <= {p}"));
        }
        if let Some(a) = self.max_avm {
            parts.push(format!("AVM <= {a} points"));
        }
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(", ")
        }
    }
}

/// The hypervolume reference point, in the objectives' own units.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferencePoint {
    /// Accuracy at 1 day, percent (0).
    pub acc_1d: f64,
    /// Tiles: the tile budget plus one, or the largest footprint of the space plus one.
    pub tiles: f64,
    /// AVM in points: the AVM budget, or 100 (the largest possible loss).
    pub avm: f64,
}

impl ReferencePoint {
    /// The reference point of a run: 0 % accuracy; one tile more than the tile budget (or the
    /// largest footprint in `space`), so that a network at the budget counts; the AVM budget or
    /// 100 points.
    pub fn for_run(space: &SearchSpace, task: Task, profile: &HwProfile, b: &Budgets) -> Self {
        let tiles = b
            .max_tiles
            .unwrap_or_else(|| max_tiles(space, task, profile));
        ReferencePoint {
            acc_1d: 0.0,
            tiles: tiles as f64 + 1.0,
            avm: b.max_avm.unwrap_or(100.0),
        }
    }

    /// The point in minimisation form for `objectives`.
    pub fn vector(&self, objectives: Objectives) -> Vec<f64> {
        let mut v = vec![-self.acc_1d, self.tiles];
        if objectives.avm {
            v.push(self.avm);
        }
        v
    }

    /// Volume of the box between the ideal point (100 %, 0 tiles, 0 AVM) and this point:
    /// the hypervolume of a perfect front, used to normalise.
    pub fn box_volume(&self, objectives: Objectives) -> f64 {
        let mut v = (100.0 - self.acc_1d) * self.tiles;
        if objectives.avm {
            v *= self.avm.max(f64::MIN_POSITIVE);
        }
        v
    }
}

/// The largest tile footprint of any genome of `space`: every gene at its largest value and,
/// block by block, the convolution type that costs the most tiles (blocks' tiles add up, and
/// a block's width does not depend on its type).
pub fn max_tiles(space: &SearchSpace, task: Task, profile: &HwProfile) -> usize {
    let last = |v: &[u32]| *v.last().expect("validated space");
    let mut g = Genome {
        oc0: last(&space.oc0),
        ks0: last(&space.ks0),
        blocks: vec![
            MainBlock {
                r: last(&space.r),
                b: last(&space.b),
                ct: space.ct[0],
                wf: last(&space.wf),
            };
            space.max_m()
        ],
        downsample: space.downsample,
    };
    let tiles =
        |g: &Genome| tiles_and_params(&crate::nn::Arch::for_task(g.clone(), task), profile).0;
    for i in 0..g.blocks.len() {
        let best = space
            .ct
            .iter()
            .copied()
            .max_by_key(|&ct| {
                let mut h = g.clone();
                h.blocks[i].ct = ct;
                tiles(&h)
            })
            .expect("validated space");
        g.blocks[i].ct = best;
    }
    tiles(&g)
}

/// Everything that decides a search's result (with the space, task and scorer).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchSettings {
    /// The algorithm.
    pub algorithm: AlgorithmKind,
    /// The objectives.
    pub objectives: Objectives,
    /// The budgets.
    pub budgets: Budgets,
    /// Population size. Must be >= 4. Default: 200.
    pub population: usize,
    /// Generations, the first being the initial population. Must be >= 1. Default: 200.
    pub generations: usize,
    /// The seed of every random draw.
    pub seed: u64,
    /// Reference point of the hypervolume.
    pub reference: ReferencePoint,
}

impl SearchSettings {
    /// Settings with the defaults (NSGA-II, accuracy and tiles, no budgets, 200 x 200, seed 0)
    /// and the reference point of `space` on `task` and `profile`.
    pub fn defaults(space: &SearchSpace, task: Task, profile: &HwProfile) -> Self {
        let budgets = Budgets::default();
        SearchSettings {
            algorithm: AlgorithmKind::Nsga2,
            objectives: Objectives::default(),
            budgets,
            population: 200,
            generations: 200,
            seed: 0,
            reference: ReferencePoint::for_run(space, task, profile, &budgets),
        }
    }

    /// Checks the ranges; messages name the flag.
    pub fn validate(&self) -> Result<()> {
        let bad = |flag, expected, got: &dyn ToString| {
            Err(SearchError::setting(flag, expected, got.to_string()).into())
        };
        if self.population < 4 {
            return bad("--population", "an integer >= 4", &self.population);
        }
        if self.generations < 1 {
            return bad("--generations", "an integer >= 1", &0);
        }
        if self.budgets.max_tiles == Some(0) {
            return bad("--max-tiles", "an integer >= 1", &0);
        }
        if self.budgets.max_params == Some(0) {
            return bad("--max-params", "an integer >= 1", &0);
        }
        if let Some(a) = self.budgets.max_avm.filter(|a| !a.is_finite() || *a <= 0.0) {
            return bad("--max-avm", "a number of points > 0", &a);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objectives_parse() {
        assert_eq!(Objectives::parse("acc_1d,tiles").unwrap().count(), 2);
        assert!(Objectives::parse("tiles, acc_1d,avm").unwrap().avm);
        let e = Objectives::parse("acc_1d").unwrap_err().to_string();
        assert_eq!(
            e,
            "--objectives: expected acc_1d,tiles or acc_1d,tiles,avm, got \"acc_1d\""
        );
        assert!(Objectives::parse("acc_1d,tiles,tiles").is_err());
        let j = serde_json::to_string(&Objectives { avm: true }).unwrap();
        assert_eq!(j, r#"["acc_1d","tiles","avm"]"#);
        assert!(serde_json::from_str::<Objectives>(&j).unwrap().avm);
    }

    #[test]
    fn violation_is_relative_excess() {
        let s = Scores {
            acc_1d: 90.0,
            avm: 3.0,
            acc_1d_std: 0.1,
            tiles: 15,
            params: 1000,
        };
        let b = Budgets {
            max_tiles: Some(10),
            max_params: Some(2000),
            max_avm: Some(2.0),
        };
        assert_eq!(b.violation(&s), 0.5 + 0.5);
        assert_eq!(Budgets::default().violation(&s), 0.0);
    }

    #[test]
    fn max_tiles_bounds_every_sample() {
        let space = SearchSpace::load(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/search_spaces/resnet_tinyml.toml"
        ))
        .unwrap();
        let p = HwProfile::default();
        let bound = max_tiles(&space, Task::Digits, &p);
        let mut rng = crate::rng::seeded(2);
        for _ in 0..300 {
            let a = crate::nn::Arch::for_task(space.sample(&mut rng), Task::Digits);
            assert!(tiles_and_params(&a, &p).0 <= bound);
        }
    }
}
