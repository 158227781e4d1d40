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
use crate::space::{Genome, HwGenes, MainBlock, SearchSpace};
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

/// The objectives: accuracy at 1 day (maximised) and one or two minimised ones among tiles,
/// AVM, energy, latency and area (the last three from the cost model of the hardware profile,
/// [`crate::hw::cost`]). Written as `acc_1d,tiles` (the default), `acc_1d,tiles,avm`,
/// `acc_1d,energy`, `acc_1d,energy,latency`, ...
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Objectives {
    /// Whether AVM is an objective.
    pub avm: bool,
    /// Whether tiles are an objective (true by default).
    pub tiles: bool,
    /// Whether energy per inference (nJ) is an objective.
    pub energy: bool,
    /// Whether the sequential latency per inference (us) is an objective.
    pub latency: bool,
    /// Whether the tile area (mm^2) is an objective.
    pub area: bool,
}

impl Default for Objectives {
    fn default() -> Self {
        Objectives {
            avm: false,
            tiles: true,
            energy: false,
            latency: false,
            area: false,
        }
    }
}

/// Energy, latency and area of an architecture on the search's hardware profile (see
/// [`crate::hw::cost`]); filled in by the search when an objective or budget needs them.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CostScores {
    /// Energy per inference, nJ.
    pub energy_nj: f64,
    /// Latency per inference with the sequential schedule, us.
    pub latency_us: f64,
    /// Latency per inference with the pipelined schedule (initiation interval), us.
    pub pipelined_us: f64,
    /// Tile area, mm^2.
    pub area_mm2: f64,
}

impl CostScores {
    /// The cost scores of `arch` on `profile`.
    pub fn of(arch: &crate::nn::Arch, profile: &HwProfile) -> Self {
        let c = crate::hw::cost(arch, profile);
        CostScores {
            energy_nj: c.energy_nj,
            latency_us: c.latency_us.sequential,
            pipelined_us: c.latency_us.pipelined,
            area_mm2: c.area_mm2,
        }
    }
}

impl Objectives {
    /// The minimised objectives a run may choose besides acc_1d, in vector order.
    pub const MINIMISED: [&'static str; 5] = ["tiles", "avm", "energy", "latency", "area"];

    /// Parses `acc_1d` and one or two of tiles, avm, energy, latency, area (any order, no
    /// repeats), e.g. `acc_1d,tiles`, `acc_1d,tiles,avm`, `acc_1d,energy,latency`.
    pub fn parse(s: &str) -> Result<Self> {
        let bad = || {
            Error::from(SearchError::setting(
                "--objectives",
                "acc_1d and one or two of tiles, avm, energy, latency, area (e.g. acc_1d,tiles or acc_1d,tiles,avm)",
                format!("\"{s}\""),
            ))
        };
        let names: Vec<&str> = s.split(',').map(str::trim).collect();
        let mut o = Objectives {
            tiles: false,
            ..Objectives::default()
        };
        let mut acc = false;
        for n in &names {
            let flag = match *n {
                "acc_1d" => &mut acc,
                "tiles" => &mut o.tiles,
                "avm" => &mut o.avm,
                "energy" => &mut o.energy,
                "latency" => &mut o.latency,
                "area" => &mut o.area,
                _ => return Err(bad()),
            };
            if *flag {
                return Err(bad());
            }
            *flag = true;
        }
        if !acc || !(2..=3).contains(&names.len()) {
            return Err(bad());
        }
        Ok(o)
    }

    fn flags(self) -> [bool; 5] {
        [self.tiles, self.avm, self.energy, self.latency, self.area]
    }

    /// The objective names, in vector order.
    pub fn names(self) -> Vec<&'static str> {
        let mut v = vec!["acc_1d"];
        v.extend(
            Self::MINIMISED
                .iter()
                .zip(self.flags())
                .filter(|(_, on)| *on)
                .map(|(n, _)| *n),
        );
        v
    }

    /// Number of objectives.
    pub fn count(self) -> usize {
        1 + self.flags().iter().filter(|&&on| on).count()
    }

    /// Whether an objective comes from the cost model (energy, latency or area).
    pub fn needs_cost(self) -> bool {
        self.energy || self.latency || self.area
    }

    /// The objective vector of `s` in minimisation form: `[-acc_1d, then the chosen ones of
    /// tiles, avm, energy, latency, area]`. A cost objective of scores without cost is
    /// infinite (the search fills the cost in before it ranks).
    pub fn vector(self, s: &Scores) -> Vec<f64> {
        let cost = |f: fn(&CostScores) -> f64| s.cost.as_ref().map_or(f64::INFINITY, f);
        let mut v = vec![-s.acc_1d];
        if self.tiles {
            v.push(s.tiles as f64);
        }
        if self.avm {
            v.push(s.avm);
        }
        if self.energy {
            v.push(cost(|c| c.energy_nj));
        }
        if self.latency {
            v.push(cost(|c| c.latency_us));
        }
        if self.area {
            v.push(cost(|c| c.area_mm2));
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
    /// Most energy per inference, nJ (cost model of the profile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_energy_nj: Option<f64>,
    /// Longest sequential latency per inference, us (cost model of the profile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_latency_us: Option<f64>,
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
        let cost = |budget: Option<f64>, f: fn(&CostScores) -> f64| match budget {
            Some(b) => {
                let x = s.cost.as_ref().map_or(f64::INFINITY, f);
                if x > b { ((x - b) / b).min(1e6) } else { 0.0 }
            }
            None => 0.0,
        };
        v += cost(self.max_energy_nj, |c| c.energy_nj);
        v += cost(self.max_latency_us, |c| c.latency_us);
        v
    }

    /// Whether a budget comes from the cost model (energy or latency).
    pub fn needs_cost(&self) -> bool {
        self.max_energy_nj.is_some() || self.max_latency_us.is_some()
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
        if let Some(e) = self.max_energy_nj {
            parts.push(format!("energy <= {e} nJ"));
        }
        if let Some(l) = self.max_latency_us {
            parts.push(format!("latency <= {l} us"));
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
    /// Energy in nJ: the energy budget, or 1.1 x the largest network of the space
    /// (set by [`ReferencePoint::add_cost`] when a cost objective is chosen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub energy_nj: Option<f64>,
    /// Sequential latency in us: the latency budget, or 1.1 x the largest network's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_us: Option<f64>,
    /// Area in mm^2: one tile more than the reference tiles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area_mm2: Option<f64>,
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
            energy_nj: None,
            latency_us: None,
            area_mm2: None,
        }
    }

    /// Sets the energy, latency and area coordinates `objectives` need (left unset
    /// otherwise, so a run without cost objectives keeps its files unchanged): the budget
    /// where there is one, else 1.1 x the cost of the largest network of `space` (every gene
    /// at its largest value, the most expensive convolution type per block), and for the
    /// area the reference tiles times the tile area.
    pub fn add_cost(
        &mut self,
        space: &SearchSpace,
        task: Task,
        profile: &HwProfile,
        objectives: Objectives,
        b: &Budgets,
    ) {
        if !objectives.needs_cost() {
            return;
        }
        let big = max_cost(space, task, profile);
        if objectives.energy {
            self.energy_nj = Some(b.max_energy_nj.unwrap_or(1.1 * big.energy_nj));
        }
        if objectives.latency {
            self.latency_us = Some(b.max_latency_us.unwrap_or(1.1 * big.latency_us));
        }
        if objectives.area {
            self.area_mm2 = Some(if space.hardware.is_some() {
                // The tile area depends on the tile-shape gene: the largest over the space.
                match b.max_tiles {
                    Some(t) => space
                        .hardware_configs()
                        .iter()
                        .map(|h| (t + 1) as f64 * profile.with_genes(h.as_ref()).cost.tile_area_mm2)
                        .fold(0.0, f64::max),
                    None => max_area(space, task, profile),
                }
            } else {
                self.tiles * profile.cost.tile_area_mm2
            });
        }
    }

    fn cost_coords(&self, objectives: Objectives) -> Vec<f64> {
        let mut v = Vec::new();
        let get = |x: Option<f64>| x.unwrap_or(f64::INFINITY);
        if objectives.energy {
            v.push(get(self.energy_nj));
        }
        if objectives.latency {
            v.push(get(self.latency_us));
        }
        if objectives.area {
            v.push(get(self.area_mm2));
        }
        v
    }

    /// The point in minimisation form for `objectives`.
    pub fn vector(&self, objectives: Objectives) -> Vec<f64> {
        let mut v = vec![-self.acc_1d];
        if objectives.tiles {
            v.push(self.tiles);
        }
        if objectives.avm {
            v.push(self.avm);
        }
        v.extend(self.cost_coords(objectives));
        v
    }

    /// Volume of the box between the ideal point (100 %, 0 tiles, 0 AVM, no cost) and this
    /// point: the hypervolume of a perfect front, used to normalise.
    pub fn box_volume(&self, objectives: Objectives) -> f64 {
        let mut v = 100.0 - self.acc_1d;
        if objectives.tiles {
            v *= self.tiles;
        }
        if objectives.avm {
            v *= self.avm.max(f64::MIN_POSITIVE);
        }
        for c in self.cost_coords(objectives) {
            v *= c.max(f64::MIN_POSITIVE);
        }
        v
    }
}

/// The largest tile footprint of any genome of `space`: every gene at its largest value and,
/// block by block, the convolution type that costs the most tiles (blocks' tiles add up, and
/// a block's width does not depend on its type); in a co-search space, the largest over its
/// hardware configurations.
pub fn max_tiles(space: &SearchSpace, task: Task, profile: &HwProfile) -> usize {
    space
        .hardware_configs()
        .into_iter()
        .map(|h| max_tiles_on(space, task, profile, h))
        .max()
        .expect("at least one configuration")
}

/// The largest tile area (tiles times the tile's area) of any genome of `space`, over its
/// hardware configurations.
pub fn max_area(space: &SearchSpace, task: Task, profile: &HwProfile) -> f64 {
    space
        .hardware_configs()
        .into_iter()
        .map(|h| {
            let area = profile.with_genes(h.as_ref()).cost.tile_area_mm2;
            (max_tiles_on(space, task, profile, h) + 1) as f64 * area
        })
        .fold(0.0, f64::max)
}

fn max_tiles_on(
    space: &SearchSpace,
    task: Task,
    profile: &HwProfile,
    hardware: Option<HwGenes>,
) -> usize {
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
        hardware,
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

/// The largest energy and latency of any genome of `space` as [`max_tiles`] finds its
/// largest network: every gene at its largest value and, block by block, the convolution
/// type that costs the most energy; in a co-search space, each figure's largest over the
/// hardware configurations.
pub fn max_cost(space: &SearchSpace, task: Task, profile: &HwProfile) -> CostScores {
    let all: Vec<CostScores> = space
        .hardware_configs()
        .into_iter()
        .map(|h| max_cost_on(space, task, profile, h))
        .collect();
    let max = |f: fn(&CostScores) -> f64| all.iter().map(f).fold(f64::NEG_INFINITY, f64::max);
    CostScores {
        energy_nj: max(|c| c.energy_nj),
        latency_us: max(|c| c.latency_us),
        pipelined_us: max(|c| c.pipelined_us),
        area_mm2: max(|c| c.area_mm2),
    }
}

fn max_cost_on(
    space: &SearchSpace,
    task: Task,
    profile: &HwProfile,
    hardware: Option<HwGenes>,
) -> CostScores {
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
        hardware,
    };
    let cost = |g: &Genome| CostScores::of(&crate::nn::Arch::for_task(g.clone(), task), profile);
    for i in 0..g.blocks.len() {
        let mut best = (f64::NEG_INFINITY, space.ct[0]);
        for &ct in &space.ct {
            let mut h = g.clone();
            h.blocks[i].ct = ct;
            let e = cost(&h).energy_nj;
            if e > best.0 {
                best = (e, ct);
            }
        }
        g.blocks[i].ct = best.1;
    }
    cost(&g)
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
    /// The hardware profile whose cost model gives energy, latency and area, when an
    /// objective or budget needs them (set by [`SearchSettings::prepare_cost`]; absent
    /// otherwise, so that runs without them keep their files unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_profile: Option<HwProfile>,
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
            cost_profile: None,
        }
    }

    /// Whether an objective or budget comes from the cost model.
    pub fn needs_cost(&self) -> bool {
        self.objectives.needs_cost() || self.budgets.needs_cost()
    }

    /// When an objective or budget needs the cost model: keeps `profile` as the cost profile
    /// and sets the reference point's cost coordinates. Does nothing otherwise.
    pub fn prepare_cost(&mut self, space: &SearchSpace, task: Task, profile: &HwProfile) {
        if self.needs_cost() {
            self.cost_profile = Some(profile.clone());
            self.reference
                .add_cost(space, task, profile, self.objectives, &self.budgets);
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
        if let Some(e) = self
            .budgets
            .max_energy_nj
            .filter(|e| !e.is_finite() || *e <= 0.0)
        {
            return bad("--max-energy-nj", "a number of nJ > 0", &e);
        }
        if let Some(l) = self
            .budgets
            .max_latency_us
            .filter(|l| !l.is_finite() || *l <= 0.0)
        {
            return bad("--max-latency-us", "a number of us > 0", &l);
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
            "--objectives: expected acc_1d and one or two of tiles, avm, energy, latency, area (e.g. acc_1d,tiles or acc_1d,tiles,avm), got \"acc_1d\""
        );
        assert!(Objectives::parse("acc_1d,tiles,tiles").is_err());
        assert!(Objectives::parse("tiles,energy").is_err());
        assert!(Objectives::parse("acc_1d,tiles,avm,energy").is_err());
        assert!(Objectives::parse("acc_1d,watts").is_err());
        assert_eq!(
            Objectives::parse("acc_1d,tiles").unwrap(),
            Objectives::default()
        );
        let o = Objectives::parse("latency,acc_1d,energy").unwrap();
        assert_eq!(o.names(), ["acc_1d", "energy", "latency"]);
        assert!(o.needs_cost() && !o.tiles);
        assert_eq!(o.to_string(), "acc_1d,energy,latency");
        let j = serde_json::to_string(&Objectives::parse("acc_1d,tiles,avm").unwrap()).unwrap();
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
            cost: None,
        };
        let b = Budgets {
            max_tiles: Some(10),
            max_params: Some(2000),
            max_avm: Some(2.0),
            ..Budgets::default()
        };
        assert_eq!(b.violation(&s), 0.5 + 0.5);
        assert_eq!(Budgets::default().violation(&s), 0.0);
        let e = Budgets {
            max_energy_nj: Some(100.0),
            ..Budgets::default()
        };
        let with_cost = Scores {
            cost: Some(CostScores {
                energy_nj: 150.0,
                latency_us: 1.0,
                pipelined_us: 1.0,
                area_mm2: 1.0,
            }),
            ..s.clone()
        };
        assert_eq!(e.violation(&with_cost), 0.5);
        assert!(e.violation(&s) > 0.0);
        let o = Objectives::parse("acc_1d,energy").unwrap();
        assert_eq!(o.vector(&with_cost), vec![-90.0, 150.0]);
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
