//! NSGA-II (Deb et al. 2002) over genomes: elitist (mu + lambda) survival by constraint-
//! dominated non-dominated sorting and crowding distance, binary tournament on
//! (rank, crowding), uniform crossover then one mutation per child.

use super::{Algorithm, Candidate, crowding_distance, non_dominated_sort};
use crate::rng::SeededRng;
use crate::space::{Genome, SearchSpace};
use rand::RngExt;
use std::collections::HashSet;

/// Resampling rounds of the initial population when scoring fails.
const MAX_INIT_ROUNDS: usize = 10;
/// Probability that a child comes from crossover (else it is a copy of its first parent);
/// every child is then mutated once.
const CROSSOVER_PROB: f64 = 0.9;
/// Tries to make a child that is new to the population before giving up on it.
const CHILD_ATTEMPTS: usize = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Init,
    Offspring,
    Done,
}

/// NSGA-II; see the module doc.
pub struct Nsga2 {
    space: SearchSpace,
    size: usize,
    pop: Vec<Candidate>,
    phase: Phase,
    round: usize,
}

impl Nsga2 {
    /// NSGA-II on `space` with population `size`.
    pub fn new(space: SearchSpace, size: usize) -> Self {
        Nsga2 {
            space,
            size,
            pop: Vec::new(),
            phase: Phase::Done,
            round: 0,
        }
    }

    fn fresh(&self, n: usize, seen: &mut HashSet<String>, rng: &mut SeededRng) -> Vec<Genome> {
        let mut out = Vec::new();
        let candidates = if self.round == 0 && self.pop.is_empty() {
            self.space.sample_lhs(n, rng)
        } else {
            Vec::new()
        };
        for g in candidates {
            if seen.insert(g.id()) {
                out.push(g);
            }
        }
        let mut tries = 0;
        while out.len() < n && tries < 20 * n {
            tries += 1;
            let g = self.space.sample(rng);
            if seen.insert(g.id()) {
                out.push(g);
            }
        }
        out
    }

    fn offspring(&self, rng: &mut SeededRng) -> Vec<Genome> {
        let mut seen: HashSet<String> = self.pop.iter().map(|c| c.id.clone()).collect();
        if self.pop.is_empty() {
            return self.fresh(self.size, &mut seen, rng);
        }
        let (rank, crowd) = rank_and_crowding(&self.pop);
        let tournament = |rng: &mut SeededRng| {
            let i = rng.random_range(0..self.pop.len());
            let j = rng.random_range(0..self.pop.len());
            let better_j = rank[j] < rank[i] || (rank[j] == rank[i] && crowd[j] > crowd[i]);
            if better_j { j } else { i }
        };
        let mut children = Vec::with_capacity(self.size);
        'children: while children.len() < self.size {
            for _ in 0..CHILD_ATTEMPTS {
                let a = tournament(rng);
                let b = tournament(rng);
                let child = if rng.random_bool(CROSSOVER_PROB) {
                    self.space
                        .crossover(&self.pop[a].genome, &self.pop[b].genome, rng)
                } else {
                    self.pop[a].genome.clone()
                };
                let child = self.space.mutate(&child, rng);
                if seen.insert(child.id()) {
                    children.push(child);
                    continue 'children;
                }
            }
            break;
        }
        children
    }
}

/// Rank (front index) and crowding distance of every member of `pop`.
fn rank_and_crowding(pop: &[Candidate]) -> (Vec<usize>, Vec<f64>) {
    let (objs, viol) = objectives(pop);
    let mut rank = vec![0; pop.len()];
    let mut crowd = vec![0.0; pop.len()];
    for (r, front) in non_dominated_sort(&objs, &viol).into_iter().enumerate() {
        let pts: Vec<&[f64]> = front.iter().map(|&i| objs[i]).collect();
        for (&i, d) in front.iter().zip(crowding_distance(&pts)) {
            rank[i] = r;
            crowd[i] = d;
        }
    }
    (rank, crowd)
}

fn objectives(pop: &[Candidate]) -> (Vec<&[f64]>, Vec<f64>) {
    pop.iter()
        .map(|c| {
            let e = c
                .eval
                .as_ref()
                .expect("populations hold evaluated candidates");
            (e.objectives.as_slice(), e.violation)
        })
        .unzip()
}

/// NSGA-II survival: whole fronts while they fit, then the most isolated members (largest
/// crowding distance; ties to the earlier) of the front that does not.
pub fn survive(union: Vec<Candidate>, n: usize) -> Vec<Candidate> {
    let (objs, viol) = objectives(&union);
    let mut keep: Vec<usize> = Vec::with_capacity(n);
    for front in non_dominated_sort(&objs, &viol) {
        if keep.len() + front.len() <= n {
            keep.extend(&front);
            continue;
        }
        let pts: Vec<&[f64]> = front.iter().map(|&i| objs[i]).collect();
        let d = crowding_distance(&pts);
        let mut order: Vec<usize> = (0..front.len()).collect();
        order.sort_by(|&a, &b| d[b].total_cmp(&d[a]).then(a.cmp(&b)));
        keep.extend(order.into_iter().take(n - keep.len()).map(|k| front[k]));
        break;
    }
    let mut slots: Vec<Option<Candidate>> = union.into_iter().map(Some).collect();
    keep.into_iter()
        .map(|i| slots[i].take().expect("kept once"))
        .collect()
}

impl Algorithm for Nsga2 {
    fn start_generation(&mut self, generation: usize) {
        self.phase = if generation == 0 {
            Phase::Init
        } else {
            Phase::Offspring
        };
        self.round = 0;
    }

    fn ask(&mut self, rng: &mut SeededRng) -> Vec<Genome> {
        let batch = match self.phase {
            Phase::Init if self.pop.len() < self.size && self.round < MAX_INIT_ROUNDS => {
                let mut seen = self.pop.iter().map(|c| c.id.clone()).collect();
                self.fresh(self.size - self.pop.len(), &mut seen, rng)
            }
            Phase::Offspring if self.round == 0 => self.offspring(rng),
            _ => Vec::new(),
        };
        self.round += 1;
        if batch.is_empty() {
            self.phase = Phase::Done;
        }
        batch
    }

    fn tell(&mut self, told: Vec<Candidate>) {
        let mut ids: HashSet<String> = self.pop.iter().map(|c| c.id.clone()).collect();
        let new = told
            .into_iter()
            .filter(|c| c.eval.is_some() && ids.insert(c.id.clone()));
        match self.phase {
            Phase::Init => self.pop.extend(new),
            _ => {
                let mut union = std::mem::take(&mut self.pop);
                union.extend(new);
                self.pop = survive(union, self.size);
            }
        }
    }

    fn population(&self) -> &[Candidate] {
        &self.pop
    }

    fn restore(&mut self, population: Vec<Candidate>) {
        self.pop = population;
        self.phase = Phase::Done;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::Eval;

    fn cand(id: &str, obj: [f64; 2], violation: f64) -> Candidate {
        Candidate {
            id: id.into(),
            genome: Genome {
                oc0: 8,
                ks0: 3,
                blocks: vec![],
                downsample: Default::default(),
                hardware: None,
            },
            eval: Some(Eval {
                objectives: obj.to_vec(),
                violation,
                acc_1d: -obj[0],
            }),
        }
    }

    #[test]
    fn survival_keeps_fronts_then_the_most_isolated() {
        // Front 0: a b c d (on a line); front 1: e; infeasible: f.
        let union = vec![
            cand("f", [-99.0, 1.0], 0.2),
            cand("a", [-90.0, 10.0], 0.0),
            cand("b", [-80.0, 6.0], 0.0),
            cand("c", [-79.0, 5.0], 0.0),
            cand("d", [-50.0, 1.0], 0.0),
            cand("e", [-70.0, 8.0], 0.0),
        ];
        let ids = |v: Vec<Candidate>| v.into_iter().map(|c| c.id).collect::<Vec<_>>();
        assert_eq!(
            ids(survive(union.clone(), 6)),
            ["a", "b", "c", "d", "e", "f"]
        );
        assert_eq!(ids(survive(union.clone(), 5)), ["a", "b", "c", "d", "e"]);
        // Three of front 0: both extremes (infinite crowding), then the more isolated of b and c.
        // b's neighbours a and c: 11/40 + 5/9; c's neighbours b and d: 30/40 + 5/9.
        assert_eq!(ids(survive(union, 3)), ["a", "d", "c"]);
    }
}
