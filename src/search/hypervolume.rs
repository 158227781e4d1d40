//! Exact hypervolume in two and three dimensions (all objectives minimised): the volume of the
//! region dominated by a set of points and bounded by a reference point. Points that are not
//! strictly better than the reference in every objective add nothing.

/// Hypervolume of `points` against `reference`, for 1, 2 or 3 objectives.
///
/// # Panics
/// If a point's length differs from the reference's or the dimension is above 3.
pub fn hypervolume<T: AsRef<[f64]>>(points: &[T], reference: &[f64]) -> f64 {
    let d = reference.len();
    let mut pts: Vec<&[f64]> = points
        .iter()
        .map(AsRef::as_ref)
        .inspect(|p| assert_eq!(p.len(), d, "point and reference dimensions differ"))
        .filter(|p| p.iter().zip(reference).all(|(x, r)| x < r))
        .collect();
    // A canonical order makes the float sums independent of the caller's order.
    pts.sort_by(|a, b| lexicographic(a, b));
    pts.dedup();
    match d {
        0 => 0.0,
        1 => pts.first().map_or(0.0, |p| reference[0] - p[0]),
        2 => hv2_sorted(pts.iter().map(|p| (p[0], p[1])), reference[0], reference[1]),
        3 => hv3(&pts, reference),
        _ => panic!("hypervolume: at most 3 objectives, got {d}"),
    }
}

fn lexicographic(a: &[f64], b: &[f64]) -> std::cmp::Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = x.total_cmp(y);
        if o.is_ne() {
            return o;
        }
    }
    std::cmp::Ordering::Equal
}

/// 2-D sweep over points sorted by x (then y): each point that lowers the staircase adds the
/// rectangle between it, the reference x and the previous staircase height.
fn hv2_sorted(points: impl Iterator<Item = (f64, f64)>, rx: f64, ry: f64) -> f64 {
    let mut hv = 0.0;
    let mut height = ry;
    for (x, y) in points {
        if y < height {
            hv += (rx - x) * (height - y);
            height = y;
        }
    }
    hv
}

/// 3-D by slicing along the axis with the fewest distinct values: between two consecutive
/// levels of that axis the dominated region is a prism over the 2-D hypervolume of the points
/// at or below the lower level.
fn hv3(pts: &[&[f64]], r: &[f64]) -> f64 {
    let distinct = |k: usize| {
        let mut v: Vec<f64> = pts.iter().map(|p| p[k]).collect();
        v.sort_by(f64::total_cmp);
        v.dedup();
        v
    };
    let (axis, levels) = (0..3)
        .map(|k| (k, distinct(k)))
        .min_by_key(|(k, v)| (v.len(), *k))
        .expect("three axes");
    let (a, b) = match axis {
        0 => (1, 2),
        1 => (0, 2),
        _ => (0, 1),
    };
    let mut hv = 0.0;
    for (i, &z) in levels.iter().enumerate() {
        let next = levels.get(i + 1).copied().unwrap_or(r[axis]);
        let mut slice: Vec<(f64, f64)> = pts
            .iter()
            .filter(|p| p[axis] <= z)
            .map(|p| (p[a], p[b]))
            .collect();
        slice.sort_by(|p, q| p.0.total_cmp(&q.0).then(p.1.total_cmp(&q.1)));
        hv += hv2_sorted(slice.into_iter(), r[a], r[b]) * (next - z);
    }
    hv
}

/// Greedy hypervolume subset selection: `k` indices of `points`, each step adding the point
/// that adds the most hypervolume to those already chosen (ties to the lower index). The
/// first pick is the point with the largest box to the reference (the "knee" for this
/// reference), the next ones fill the widest gaps of the front.
pub fn greedy_subset<T: AsRef<[f64]>>(points: &[T], reference: &[f64], k: usize) -> Vec<usize> {
    let mut chosen: Vec<usize> = Vec::new();
    let mut base = 0.0;
    while chosen.len() < k.min(points.len()) {
        let mut best: Option<(usize, f64)> = None;
        for i in (0..points.len()).filter(|i| !chosen.contains(i)) {
            let mut set: Vec<&[f64]> = chosen.iter().map(|&j| points[j].as_ref()).collect();
            set.push(points[i].as_ref());
            let gain = hypervolume(&set, reference) - base;
            if best.is_none_or(|(_, g)| gain > g) {
                best = Some((i, gain));
            }
        }
        let (i, gain) = best.expect("a point is left");
        chosen.push(i);
        base += gain;
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_d_by_hand() {
        // Staircase (1,3) (2,2) (3,1) against (4,4): 3*1 + 2*1 + 1*1 = 6.
        let pts = [[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]];
        assert_eq!(hypervolume(&pts, &[4.0, 4.0]), 6.0);
        // A dominated point and one outside the reference change nothing; order does not matter.
        let more = [[3.0, 3.0], [3.0, 1.0], [5.0, 0.0], [1.0, 3.0], [2.0, 2.0]];
        assert_eq!(hypervolume(&more, &[4.0, 4.0]), 6.0);
        assert_eq!(hypervolume::<[f64; 2]>(&[], &[4.0, 4.0]), 0.0);
        // Accuracy 90 % at 10 tiles, as (-acc, tiles) against (0 %, 21 tiles): 90 * 11.
        assert_eq!(hypervolume(&[[-90.0, 10.0]], &[0.0, 21.0]), 990.0);
    }

    #[test]
    fn three_d_by_hand() {
        assert_eq!(hypervolume(&[[1.0, 1.0, 1.0]], &[2.0, 2.0, 2.0]), 1.0);
        // Boxes 2*2*1 and 1*1*2 overlapping in a unit cube: 4 + 2 - 1 = 5.
        let pts = [[0.0, 0.0, 1.0], [1.0, 1.0, 0.0]];
        assert_eq!(hypervolume(&pts, &[2.0, 2.0, 2.0]), 5.0);
        // Three boxes of volume 2 whose pairwise and triple overlaps are the cube [1,2]^3:
        // 3 * 2 - 3 * 1 + 1 = 4.
        let pts = [[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]];
        assert_eq!(hypervolume(&pts, &[2.0, 2.0, 2.0]), 4.0);
    }

    #[test]
    fn three_d_matches_grid_count() {
        use rand::RngExt;
        let mut rng = crate::rng::seeded(9);
        for _ in 0..30 {
            let n = rng.random_range(1..12);
            let pts: Vec<[f64; 3]> = (0..n)
                .map(|_| {
                    [
                        rng.random_range(0..6) as f64,
                        rng.random_range(0..6) as f64,
                        rng.random_range(0..6) as f64,
                    ]
                })
                .collect();
            let mut cells = 0;
            for x in 0..6 {
                for y in 0..6 {
                    for z in 0..6 {
                        let c = [x as f64, y as f64, z as f64];
                        if pts.iter().any(|p| (0..3).all(|k| p[k] <= c[k])) {
                            cells += 1;
                        }
                    }
                }
            }
            assert_eq!(hypervolume(&pts, &[6.0, 6.0, 6.0]), cells as f64, "{pts:?}");
            let flat: Vec<[f64; 2]> = pts.iter().map(|p| [p[0], p[1]]).collect();
            let mut cells2 = 0;
            for x in 0..6 {
                for y in 0..6 {
                    if flat.iter().any(|p| p[0] <= x as f64 && p[1] <= y as f64) {
                        cells2 += 1;
                    }
                }
            }
            assert_eq!(hypervolume(&flat, &[6.0, 6.0]), cells2 as f64);
        }
    }

    #[test]
    fn greedy_subset_by_hand() {
        // Against (4,4): boxes (1,3)->3, (2,2)->4, (3,1)->3; the knee (2,2) comes first,
        // then (1,3) and (3,1) each add 1 (tie: lower index).
        let pts = [[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]];
        assert_eq!(greedy_subset(&pts, &[4.0, 4.0], 2), vec![1, 0]);
        assert_eq!(greedy_subset(&pts, &[4.0, 4.0], 9).len(), 3);
    }
}
