//! Sampling, mutation, crossover and repair: every operator returns a genome valid in its space.

use super::{ConvType, Genome, HardwareSpace, HwGenes, MainBlock, SearchSpace};
use rand::{Rng, RngExt};

/// Mutation families of the paper's Algorithm 1 (DESIGN.md 6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MutationFamily {
    /// Widening factor of one block, branches of one block, or stem width.
    Width,
    /// Residual blocks of one block, number of main blocks, or convolution type of one block.
    Depth,
    /// Stem kernel size.
    Other,
    /// One hardware gene (tile shape, ADC or DAC bits, depthwise placement); only in a space
    /// with `[hardware]` genes.
    Hardware,
}

impl MutationFamily {
    /// The three network families (the families of a space without hardware genes).
    pub const ALL: [MutationFamily; 3] = [Self::Width, Self::Depth, Self::Other];
    /// The network families and [`MutationFamily::Hardware`].
    pub const WITH_HARDWARE: [MutationFamily; 4] =
        [Self::Width, Self::Depth, Self::Other, Self::Hardware];
}

fn pick<T: Copy, R: Rng + ?Sized>(v: &[T], rng: &mut R) -> T {
    v[rng.random_range(0..v.len())]
}

/// A different value of `v` than `cur` when there is one, else `cur`.
fn pick_other<T: Copy + PartialEq, R: Rng + ?Sized>(v: &[T], cur: T, rng: &mut R) -> T {
    let others: Vec<T> = v.iter().copied().filter(|x| *x != cur).collect();
    if others.is_empty() {
        cur
    } else {
        pick(&others, rng)
    }
}

/// The allowed value nearest to `x` (ties to the smaller).
fn nearest(v: &[u32], x: u32) -> u32 {
    *v.iter()
        .min_by_key(|&&a| (a.abs_diff(x), a))
        .expect("validated space has values")
}

impl HardwareSpace {
    /// Hardware genes drawn uniformly gene by gene (genes the space does not search stay unset).
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> HwGenes {
        fn draw<T: Copy, R: Rng + ?Sized>(v: &[T], rng: &mut R) -> Option<T> {
            (!v.is_empty()).then(|| pick(v, rng))
        }
        HwGenes {
            tile: draw(&self.tile, rng),
            adc_bits: draw(&self.adc_bits, rng),
            dac_bits: draw(&self.dac_bits, rng),
            depthwise: draw(&self.depthwise, rng),
        }
    }

    /// The nearest genes of this space: each searched gene moved to its nearest allowed value
    /// (the first when unset), each gene the space does not search unset.
    pub fn repair(&self, h: Option<&HwGenes>) -> HwGenes {
        let h = h.copied().unwrap_or_default();
        fn near<T: Copy + PartialEq>(
            v: &[T],
            cur: Option<T>,
            dist: impl Fn(T, T) -> u64,
        ) -> Option<T> {
            let first = *v.first()?;
            let Some(cur) = cur else { return Some(first) };
            v.iter().copied().min_by_key(|&a| dist(a, cur))
        }
        HwGenes {
            tile: near(&self.tile, h.tile, |a, b| {
                u64::from(a.rows.abs_diff(b.rows)) + u64::from(a.cols.abs_diff(b.cols))
            }),
            adc_bits: near(&self.adc_bits, h.adc_bits, |a, b| a.abs_diff(b).into()),
            dac_bits: near(&self.dac_bits, h.dac_bits, |a, b| a.abs_diff(b).into()),
            depthwise: near(&self.depthwise, h.depthwise, |a, b| u64::from(a != b)),
        }
    }

    /// Changes one searched gene to another allowed value (when it has one).
    pub fn mutate<R: Rng + ?Sized>(&self, h: &HwGenes, rng: &mut R) -> HwGenes {
        let mut out = *h;
        let searched: Vec<usize> = [
            self.tile.len(),
            self.adc_bits.len(),
            self.dac_bits.len(),
            self.depthwise.len(),
        ]
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 1)
        .map(|(i, _)| i)
        .collect();
        if searched.is_empty() {
            return out;
        }
        match pick(&searched, rng) {
            0 => out.tile = out.tile.map(|t| pick_other(&self.tile, t, rng)),
            1 => out.adc_bits = out.adc_bits.map(|b| pick_other(&self.adc_bits, b, rng)),
            2 => out.dac_bits = out.dac_bits.map(|b| pick_other(&self.dac_bits, b, rng)),
            _ => out.depthwise = out.depthwise.map(|d| pick_other(&self.depthwise, d, rng)),
        }
        out
    }

    /// Uniform crossover: each gene from either parent.
    pub fn crossover<R: Rng + ?Sized>(&self, a: &HwGenes, b: &HwGenes, rng: &mut R) -> HwGenes {
        let mut from_a = [false; 4];
        for f in &mut from_a {
            *f = rng.random_bool(0.5);
        }
        fn either<T>(first: bool, x: T, y: T) -> T {
            if first { x } else { y }
        }
        HwGenes {
            tile: either(from_a[0], a.tile, b.tile),
            adc_bits: either(from_a[1], a.adc_bits, b.adc_bits),
            dac_bits: either(from_a[2], a.dac_bits, b.dac_bits),
            depthwise: either(from_a[3], a.depthwise, b.depthwise),
        }
    }
}

impl SearchSpace {
    /// The mutation families of this space: [`MutationFamily::ALL`], plus
    /// [`MutationFamily::Hardware`] when it has hardware genes.
    pub fn families(&self) -> &'static [MutationFamily] {
        if self.hardware.is_some() {
            &MutationFamily::WITH_HARDWARE
        } else {
            &MutationFamily::ALL
        }
    }

    fn random_block<R: Rng + ?Sized>(&self, rng: &mut R) -> MainBlock {
        MainBlock {
            r: pick(&self.r, rng),
            b: pick(&self.b, rng),
            ct: pick(&self.ct, rng),
            wf: pick(&self.wf, rng),
        }
    }

    /// A genome drawn uniformly gene by gene.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Genome {
        let m = pick(&self.m, rng) as usize;
        let mut g = Genome {
            oc0: pick(&self.oc0, rng),
            ks0: pick(&self.ks0, rng),
            blocks: (0..m).map(|_| self.random_block(rng)).collect(),
            downsample: self.downsample,
            hardware: None,
        };
        // Drawn after the network genes, so that a space without hardware genes draws what it
        // always drew.
        g.hardware = self.hardware.as_ref().map(|h| h.sample(rng));
        g
    }

    /// `n` genomes by Latin hypercube: each gene's range is cut into `n` equal strata and every
    /// stratum is used once, so every value of every range appears when `n` >= its size.
    pub fn sample_lhs<R: Rng + ?Sized>(&self, n: usize, rng: &mut R) -> Vec<Genome> {
        let max_m = self.max_m();
        // One column per gene slot: oc0, ks0, m, then (r, b, ct, wf) per block slot, then the
        // four hardware genes when the space has them (last, so that a space without them
        // draws what it always drew).
        let net_cols = 3 + 4 * max_m;
        let cols = net_cols + if self.hardware.is_some() { 4 } else { 0 };
        let mut unit = vec![vec![0.0f64; cols]; n];
        for c in 0..cols {
            let mut perm: Vec<usize> = (0..n).collect();
            for i in (1..n).rev() {
                perm.swap(i, rng.random_range(0..=i));
            }
            for (row, p) in unit.iter_mut().zip(perm) {
                row[c] = (p as f64 + rng.random::<f64>()) / n as f64;
            }
        }
        fn at<T: Copy>(v: &[T], u: f64) -> T {
            v[((u * v.len() as f64) as usize).min(v.len() - 1)]
        }
        unit.into_iter()
            .map(|u| {
                let m = at(&self.m, u[2]) as usize;
                Genome {
                    oc0: at(&self.oc0, u[0]),
                    ks0: at(&self.ks0, u[1]),
                    blocks: (0..m)
                        .map(|i| MainBlock {
                            r: at(&self.r, u[3 + 4 * i]),
                            b: at(&self.b, u[4 + 4 * i]),
                            ct: at(&self.ct, u[5 + 4 * i]),
                            wf: at(&self.wf, u[6 + 4 * i]),
                        })
                        .collect(),
                    downsample: self.downsample,
                    hardware: self.hardware.as_ref().map(|h| {
                        let gene =
                            |v: &[_], c: usize| (!v.is_empty()).then(|| at(v, u[net_cols + c]));
                        HwGenes {
                            tile: (!h.tile.is_empty()).then(|| at(&h.tile, u[net_cols])),
                            adc_bits: gene(&h.adc_bits, 1),
                            dac_bits: gene(&h.dac_bits, 2),
                            depthwise: (!h.depthwise.is_empty())
                                .then(|| at(&h.depthwise, u[net_cols + 3])),
                        }
                    }),
                }
            })
            .collect()
    }

    /// Mutates one gene of the given family; the result is valid in this space.
    pub fn mutate_family<R: Rng + ?Sized>(
        &self,
        g: &Genome,
        family: MutationFamily,
        rng: &mut R,
    ) -> Genome {
        let mut out = self.repair(g);
        let i = rng.random_range(0..out.m());
        match family {
            MutationFamily::Width => match rng.random_range(0..3) {
                0 => out.blocks[i].wf = pick_other(&self.wf, out.blocks[i].wf, rng),
                1 => out.blocks[i].b = pick_other(&self.b, out.blocks[i].b, rng),
                _ => out.oc0 = pick_other(&self.oc0, out.oc0, rng),
            },
            MutationFamily::Depth => match rng.random_range(0..3) {
                0 => out.blocks[i].r = pick_other(&self.r, out.blocks[i].r, rng),
                1 => {
                    let m = pick_other(&self.m, out.m() as u32, rng) as usize;
                    if m < out.m() {
                        out.blocks.truncate(m);
                    }
                    while out.blocks.len() < m {
                        let b = self.random_block(rng);
                        out.blocks.push(b);
                    }
                }
                _ => out.blocks[i].ct = pick_other(&self.ct, out.blocks[i].ct, rng),
            },
            MutationFamily::Other => out.ks0 = pick_other(&self.ks0, out.ks0, rng),
            MutationFamily::Hardware => {
                if let (Some(space), Some(h)) = (&self.hardware, &out.hardware) {
                    out.hardware = Some(space.mutate(h, rng));
                }
            }
        }
        out
    }

    /// Mutates one gene of a family drawn uniformly from [`SearchSpace::families`].
    pub fn mutate<R: Rng + ?Sized>(&self, g: &Genome, rng: &mut R) -> Genome {
        let family = pick(self.families(), rng);
        self.mutate_family(g, family, rng)
    }

    /// Uniform crossover: stem genes, `m` and each main block come from either parent.
    pub fn crossover<R: Rng + ?Sized>(&self, a: &Genome, b: &Genome, rng: &mut R) -> Genome {
        let (a, b) = (self.repair(a), self.repair(b));
        let m = if rng.random_bool(0.5) { a.m() } else { b.m() };
        let blocks = (0..m)
            .map(|i| {
                let from_a = rng.random_bool(0.5);
                match (a.blocks.get(i), b.blocks.get(i)) {
                    (Some(x), Some(y)) => {
                        if from_a {
                            *x
                        } else {
                            *y
                        }
                    }
                    (Some(x), None) | (None, Some(x)) => *x,
                    (None, None) => self.random_block(rng),
                }
            })
            .collect();
        let mut child = Genome {
            oc0: if rng.random_bool(0.5) { a.oc0 } else { b.oc0 },
            ks0: if rng.random_bool(0.5) { a.ks0 } else { b.ks0 },
            blocks,
            downsample: self.downsample,
            hardware: None,
        };
        // Drawn last, so that a space without hardware genes draws what it always drew.
        if let (Some(space), Some(ha), Some(hb)) = (&self.hardware, &a.hardware, &b.hardware) {
            child.hardware = Some(space.crossover(ha, hb, rng));
        }
        child
    }

    /// The nearest genome of this space: each gene moved to its nearest allowed value, blocks
    /// dropped or repeated to reach an allowed `m`.
    pub fn repair(&self, g: &Genome) -> Genome {
        let m = nearest(&self.m, g.m() as u32) as usize;
        let mut blocks: Vec<MainBlock> = g.blocks.iter().take(m).copied().collect();
        while blocks.len() < m {
            let last = blocks.last().copied().unwrap_or(MainBlock {
                r: self.r[0],
                b: self.b[0],
                ct: self.ct[0],
                wf: self.wf[0],
            });
            blocks.push(last);
        }
        for b in &mut blocks {
            b.r = nearest(&self.r, b.r);
            b.b = nearest(&self.b, b.b);
            b.wf = nearest(&self.wf, b.wf);
            if !self.ct.contains(&b.ct) {
                b.ct = *self
                    .ct
                    .iter()
                    .min_by_key(|t| (t.code()).abs_diff(b.ct.code()))
                    .unwrap_or(&ConvType::A);
            }
        }
        Genome {
            oc0: nearest(&self.oc0, g.oc0),
            ks0: nearest(&self.ks0, g.ks0),
            blocks,
            downsample: self.downsample,
            hardware: self
                .hardware
                .as_ref()
                .map(|h| h.repair(g.hardware.as_ref())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::seeded;

    fn space(text: &str) -> SearchSpace {
        SearchSpace::parse("t.toml", "t", text).unwrap()
    }

    fn default_space() -> SearchSpace {
        SearchSpace::load(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/search_spaces/resnet_tinyml.toml"
        ))
        .unwrap()
    }

    #[test]
    fn operators_return_valid_genomes() {
        for s in [default_space(), space(super::super::tests::TINY)] {
            let mut rng = seeded(7);
            let pop: Vec<Genome> = (0..50).map(|_| s.sample(&mut rng)).collect();
            for g in &pop {
                assert!(s.contains(g));
                for fam in MutationFamily::ALL {
                    let c = s.mutate_family(g, fam, &mut rng);
                    assert!(s.contains(&c), "{fam:?}: {:?}", s.violation(&c));
                }
            }
            for w in pop.windows(2) {
                let c = s.crossover(&w[0], &w[1], &mut rng);
                assert!(s.contains(&c), "{:?}", s.violation(&c));
            }
        }
    }

    #[test]
    fn operators_cover_the_hardware_genes() {
        let s = space(super::super::tests::COSEARCH);
        let h = s.hardware.clone().unwrap();
        let mut rng = seeded(13);
        let pop = s.sample_lhs(16, &mut rng);
        assert!(pop.iter().all(|g| s.contains(g)));
        let hw: Vec<_> = pop.iter().map(|g| g.hardware.unwrap()).collect();
        // The Latin hypercube uses every value of every hardware gene.
        assert!(h.tile.iter().all(|t| hw.iter().any(|x| x.tile == Some(*t))));
        assert!(
            h.adc_bits
                .iter()
                .all(|b| hw.iter().any(|x| x.adc_bits == Some(*b)))
        );
        assert!(
            h.depthwise
                .iter()
                .all(|d| hw.iter().any(|x| x.depthwise == Some(*d)))
        );
        assert!(hw.iter().all(|x| x.dac_bits.is_none()));
        assert_eq!(s.families().len(), 4);
        for g in &pop {
            let c = s.mutate_family(g, MutationFamily::Hardware, &mut rng);
            assert!(s.contains(&c));
            assert_eq!(c.network_summary(), g.network_summary());
            assert_ne!(
                c.hardware, g.hardware,
                "a hardware mutation changes one gene"
            );
            for fam in MutationFamily::WITH_HARDWARE {
                assert!(s.contains(&s.mutate_family(g, fam, &mut rng)));
            }
        }
        // Crossover draws each hardware gene from a parent.
        let mut seen = std::collections::HashSet::new();
        for w in pop.windows(2) {
            let c = s.crossover(&w[0], &w[1], &mut rng);
            assert!(s.contains(&c));
            let ch = c.hardware.unwrap();
            let (a, b) = (w[0].hardware.unwrap(), w[1].hardware.unwrap());
            assert!(ch.tile == a.tile || ch.tile == b.tile);
            assert!(ch.adc_bits == a.adc_bits || ch.adc_bits == b.adc_bits);
            seen.insert(ch);
        }
        assert!(seen.len() > 1);
        // Repair adds missing hardware genes and drops them in a network-only space.
        let mut bare = pop[0].clone();
        bare.hardware = None;
        assert!(s.contains(&s.repair(&bare)));
        let net = space(super::super::tests::TINY);
        assert_eq!(net.repair(&pop[0]).hardware, None);
        let mut odd = pop[0].clone();
        odd.hardware.as_mut().unwrap().adc_bits = Some(7);
        odd.hardware.as_mut().unwrap().dac_bits = Some(8);
        let fixed = s.repair(&odd).hardware.unwrap();
        assert_eq!((fixed.adc_bits, fixed.dac_bits), (Some(6), None));
    }

    /// A space without hardware genes draws what it drew before they existed: the same
    /// genomes as a co-search space with the same network genes, without the hardware part.
    #[test]
    fn network_only_spaces_draw_as_before() {
        let co = space(super::super::tests::COSEARCH);
        let net = space(co_text_without_hardware().as_str());
        let (mut r1, mut r2) = (seeded(4), seeded(4));
        for _ in 0..20 {
            let a = net.sample(&mut r1);
            let mut b = co.sample(&mut r2);
            b.hardware = None;
            assert_eq!(a, b);
            // The co-search space drew its hardware genes after: realign the streams.
            r1 = r2.clone();
        }
        let a = net.sample_lhs(12, &mut seeded(6));
        let b = co.sample_lhs(12, &mut seeded(6));
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.network_summary(), y.network_summary());
        }
        assert_eq!(net.families(), &MutationFamily::ALL);
    }

    fn co_text_without_hardware() -> String {
        super::super::tests::COSEARCH
            .split("[hardware]")
            .next()
            .unwrap()
            .to_string()
    }

    #[test]
    fn mutation_changes_something_when_possible() {
        let s = default_space();
        let mut rng = seeded(3);
        let g = s.sample(&mut rng);
        let changed = (0..20).filter(|_| s.mutate(&g, &mut rng) != g).count();
        assert!(changed >= 18, "{changed}");
    }

    #[test]
    fn lhs_covers_every_range() {
        let s = default_space();
        let mut rng = seeded(11);
        let pop = s.sample_lhs(40, &mut rng);
        assert_eq!(pop.len(), 40);
        assert!(pop.iter().all(|g| s.contains(g)));
        let covers = |vals: &[u32], got: Vec<u32>| vals.iter().all(|v| got.contains(v));
        assert!(covers(&s.oc0, pop.iter().map(|g| g.oc0).collect()));
        assert!(covers(&s.ks0, pop.iter().map(|g| g.ks0).collect()));
        assert!(covers(&s.m, pop.iter().map(|g| g.m() as u32).collect()));
        assert!(covers(&s.r, pop.iter().map(|g| g.blocks[0].r).collect()));
        assert!(covers(&s.b, pop.iter().map(|g| g.blocks[0].b).collect()));
        assert!(covers(&s.wf, pop.iter().map(|g| g.blocks[0].wf).collect()));
        let cts: Vec<ConvType> = pop.iter().map(|g| g.blocks[0].ct).collect();
        assert!(s.ct.iter().all(|c| cts.contains(c)));
    }

    #[test]
    fn repair_moves_to_nearest_values() {
        let s = space(super::super::tests::TINY);
        let g = Genome {
            oc0: 13,
            ks0: 7,
            blocks: vec![
                MainBlock {
                    r: 9,
                    b: 0,
                    ct: ConvType::A,
                    wf: 3
                };
                4
            ],
            downsample: crate::space::Downsample::AllButFirst,
            hardware: None,
        };
        let r = s.repair(&g);
        assert!(s.contains(&r));
        assert_eq!((r.oc0, r.ks0, r.m()), (16, 3, 2));
        assert_eq!(
            r.blocks[0],
            MainBlock {
                r: 2,
                b: 1,
                ct: ConvType::A,
                wf: 2
            }
        );
    }

    #[test]
    fn sampling_is_deterministic() {
        let s = default_space();
        let a = s.sample_lhs(10, &mut seeded(5));
        let b = s.sample_lhs(10, &mut seeded(5));
        assert_eq!(a, b);
    }
}
