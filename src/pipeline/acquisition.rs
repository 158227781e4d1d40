//! The acquisition of active learning: which candidates to measure next. Each candidate is
//! placed at an optimistic prediction (mean + k * sd of the ensemble surrogate), and a batch is
//! chosen greedily by hypervolume improvement over the current front: after each pick, the
//! picked candidate joins the front at its optimistic point, so the next pick must improve
//! somewhere else (diversity inside the batch). When no optimistic prediction improves the
//! front any more, the candidates closest to improving it are picked: the fewest standard
//! deviations of extra accuracy they would need (a probability-of-improvement order).

use crate::search::hypervolume;

/// Whether `a` is at least as good as `b` in every objective (minimisation).
fn weakly_dominates(a: &[f64], b: &[f64]) -> bool {
    a.iter().zip(b).all(|(x, y)| x <= y)
}

/// How much objective 0 of `c` must drop to leave the region dominated by `pts`: 0 when no
/// point is as good in the other objectives.
fn gap(pts: &[Vec<f64>], c: &[f64]) -> f64 {
    pts.iter()
        .filter(|p| p[1..].iter().zip(&c[1..]).all(|(x, y)| x <= y))
        .map(|p| c[0] - p[0])
        .fold(0.0, f64::max)
}

/// Picks up to `k` of `candidates` (objective vectors in minimisation form at their optimistic
/// prediction, with `sd` their uncertainty) to add to `front` (measured points, minimisation
/// form, objective 0 the accuracy), bounded by `reference`. Returns the indices in the order
/// picked: the largest hypervolume improvement first; among candidates that improve nothing,
/// the smallest gap to the front in units of `sd`; then the lower index.
///
/// # Panics
/// If `sd` and `candidates` differ in length.
pub fn select_batch(
    front: &[Vec<f64>],
    candidates: &[Vec<f64>],
    sd: &[f64],
    reference: &[f64],
    k: usize,
) -> Vec<usize> {
    assert_eq!(candidates.len(), sd.len(), "one sd per candidate");
    let mut pts: Vec<Vec<f64>> = front.to_vec();
    let mut hv0 = hypervolume(&pts, reference);
    let mut taken = vec![false; candidates.len()];
    let mut chosen = Vec::new();
    for _ in 0..k.min(candidates.len()) {
        let mut best: Option<(f64, f64, usize)> = None;
        for (i, c) in candidates.iter().enumerate() {
            if taken[i] {
                continue;
            }
            let gain = if pts.iter().any(|p| weakly_dominates(p, c)) {
                0.0
            } else {
                pts.push(c.clone());
                let g = hypervolume(&pts, reference) - hv0;
                pts.pop();
                g.max(0.0)
            };
            // Among the candidates without gain: minus the sds of accuracy they lack.
            let closeness = if gain > 0.0 {
                0.0
            } else {
                -gap(&pts, c) / sd[i].max(1e-12)
            };
            let better = match best {
                None => true,
                Some((bg, bc, _)) => gain > bg || (gain == bg && closeness > bc),
            };
            if better {
                best = Some((gain, closeness, i));
            }
        }
        let Some((_, _, i)) = best else { break };
        taken[i] = true;
        chosen.push(i);
        pts.push(candidates[i].clone());
        hv0 = hypervolume(&pts, reference);
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_improvement_then_diversity_then_uncertainty() {
        let r = [0.0, 10.0];
        // The front: 80 % at 5 tiles.
        let front = vec![vec![-80.0, 5.0]];
        let cands = vec![
            vec![-90.0, 5.0], // an improvement at 5 tiles
            vec![-89.0, 5.0], // almost the same place: dominated once 0 is picked
            vec![-85.0, 2.0], // a bigger improvement at fewer tiles
            vec![-50.0, 8.0], // dominated by the front
            vec![-40.0, 9.0], // dominated, but the most uncertain
        ];
        let sd = [1.0, 1.0, 1.0, 2.0, 5.0];
        // Candidate 2 adds 280 (5 x 8 + 80 x 3), candidate 0 adds 50. After both: candidate 1
        // lacks 1 point (1 sd), 4 lacks 50 (10 sd), 3 lacks 40 (20 sd).
        let got = select_batch(&front, &cands, &sd, &r, 5);
        assert_eq!(got, vec![2, 0, 1, 4, 3]);
        assert!(select_batch(&front, &[], &[], &r, 3).is_empty());
    }
}
