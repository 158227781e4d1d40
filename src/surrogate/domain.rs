//! The genes a surrogate was fitted on: per gene the smallest and largest value of the training
//! rows (the convolution types and downsampling rules as sets). A genome outside these ranges
//! is an extrapolation ([`FittedGenes::violation`]); a search space reaching outside them is
//! one the model does not cover ([`FittedGenes::space_violation`]).

use crate::space::{ConvType, Downsample, Genome, SearchSpace};
use serde::{Deserialize, Serialize};

/// The gene ranges of a surrogate's training rows. Every range is `[min, max]`, inclusive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FittedGenes {
    /// Stem widths.
    pub oc0: [u32; 2],
    /// Stem kernel sizes.
    pub ks0: [u32; 2],
    /// Numbers of main blocks.
    pub m: [u32; 2],
    /// Residual blocks per main block (over every main block).
    pub r: [u32; 2],
    /// Branches per residual block.
    pub b: [u32; 2],
    /// Widening factors.
    pub wf: [u32; 2],
    /// Convolution types seen, sorted.
    pub ct: Vec<ConvType>,
    /// Downsampling rules seen.
    pub downsample: Vec<Downsample>,
}

fn widen(range: &mut Option<[u32; 2]>, v: u32) {
    let r = range.get_or_insert([v, v]);
    r[0] = r[0].min(v);
    r[1] = r[1].max(v);
}

fn add<T: PartialEq>(set: &mut Vec<T>, v: T) {
    if !set.contains(&v) {
        set.push(v);
    }
}

/// `gene = value (fitted on min..=max)` when `v` lies outside `range`.
fn outside(gene: &str, v: u32, range: [u32; 2]) -> Option<String> {
    (v < range[0] || v > range[1])
        .then(|| format!("{gene} = {v} (fitted on {}..={})", range[0], range[1]))
}

impl FittedGenes {
    /// The ranges of `genomes`; `None` when there are none.
    pub fn of<'a>(genomes: impl IntoIterator<Item = &'a Genome>) -> Option<Self> {
        let mut r: [Option<[u32; 2]>; 6] = [None; 6];
        let (mut ct, mut downsample) = (Vec::new(), Vec::new());
        for g in genomes {
            widen(&mut r[0], g.oc0);
            widen(&mut r[1], g.ks0);
            widen(&mut r[2], g.m() as u32);
            for blk in &g.blocks {
                widen(&mut r[3], blk.r);
                widen(&mut r[4], blk.b);
                widen(&mut r[5], blk.wf);
                add(&mut ct, blk.ct);
            }
            add(&mut downsample, g.downsample);
        }
        ct.sort();
        let [oc0, ks0, m, rr, b, wf] = r;
        Some(FittedGenes {
            oc0: oc0?,
            ks0: ks0?,
            m: m?,
            r: rr?,
            b: b?,
            wf: wf?,
            ct,
            downsample,
        })
    }

    /// The first gene of `g` outside the fitted ranges, as `gene = value (fitted on ...)`, or
    /// `None` when the genome lies inside them (a prediction interpolates).
    pub fn violation(&self, g: &Genome) -> Option<String> {
        if let Some(v) = outside("oc0", g.oc0, self.oc0)
            .or_else(|| outside("ks0", g.ks0, self.ks0))
            .or_else(|| outside("m", g.m() as u32, self.m))
        {
            return Some(v);
        }
        for (i, blk) in g.blocks.iter().enumerate() {
            let n = i + 1;
            if let Some(v) = outside(&format!("r{n}"), blk.r, self.r)
                .or_else(|| outside(&format!("b{n}"), blk.b, self.b))
                .or_else(|| outside(&format!("wf{n}"), blk.wf, self.wf))
            {
                return Some(v);
            }
            if !self.ct.contains(&blk.ct) {
                return Some(format!("ct{n} = {} (fitted on {})", blk.ct, self.ct_list()));
            }
        }
        if !self.downsample.contains(&g.downsample) {
            return Some(format!(
                "downsample = {:?} (fitted on {:?})",
                g.downsample, self.downsample
            ));
        }
        None
    }

    /// The first gene value of `space` outside the fitted ranges, as `gene = value (fitted on
    /// ...)`, or `None` when every genome of the space lies inside them.
    pub fn space_violation(&self, space: &SearchSpace) -> Option<String> {
        let genes: [(&str, &[u32], [u32; 2]); 6] = [
            ("oc0", &space.oc0, self.oc0),
            ("ks0", &space.ks0, self.ks0),
            ("m", &space.m, self.m),
            ("r", &space.r, self.r),
            ("b", &space.b, self.b),
            ("wf", &space.wf, self.wf),
        ];
        for (gene, values, range) in genes {
            if let Some(v) = values.iter().find_map(|&v| outside(gene, v, range)) {
                return Some(v);
            }
        }
        if let Some(ct) = space.ct.iter().find(|c| !self.ct.contains(c)) {
            return Some(format!("ct = {ct} (fitted on {})", self.ct_list()));
        }
        if !self.downsample.contains(&space.downsample) {
            return Some(format!(
                "downsample = {:?} (fitted on {:?})",
                space.downsample, self.downsample
            ));
        }
        None
    }

    fn ct_list(&self) -> String {
        let names: Vec<String> = self.ct.iter().map(ConvType::to_string).collect();
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Reference;

    #[test]
    fn ranges_and_violations() {
        let space = crate::test_support::tinyml_space();
        let mut rng = crate::rng::seeded(1);
        let genomes = space.sample_lhs(200, &mut rng);
        let d = FittedGenes::of(&genomes).unwrap();
        assert_eq!(d.oc0, [8, 64]);
        assert_eq!(d.ks0, [3, 7]);
        assert_eq!(d.ct, ConvType::ALL.to_vec());
        assert!(genomes.iter().all(|g| d.violation(g).is_none()));
        assert_eq!(d.space_violation(&space), None);
        let mut g = genomes[0].clone();
        g.ks0 = 9;
        assert_eq!(d.violation(&g).unwrap(), "ks0 = 9 (fitted on 3..=7)");
        let mut g = genomes[0].clone();
        let last = g.blocks.len();
        g.blocks[last - 1].wf = 16;
        assert_eq!(
            d.violation(&g).unwrap(),
            format!("wf{last} = 16 (fitted on 1..=4)")
        );
        let paper = crate::space::SearchSpace::load(
            crate::test_support::repo().join("search_spaces/paper.toml"),
        )
        .unwrap();
        assert_eq!(
            d.space_violation(&paper).unwrap(),
            "oc0 = 68 (fitted on 8..=64)"
        );
        assert!(FittedGenes::of(std::iter::empty::<&Genome>()).is_none());
        let only = FittedGenes::of(&[Reference::Resnet8.genome()]).unwrap();
        assert_eq!(only.oc0, [16, 16]);
    }
}
