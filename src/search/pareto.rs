//! Pareto dominance, constraint domination, non-dominated sorting and crowding distance
//! (Deb et al., "A fast and elitist multiobjective genetic algorithm: NSGA-II", 2002).
//!
//! Every objective here is minimised; the search turns "maximise accuracy" into `-acc`.

/// Whether `a` Pareto-dominates `b`: no worse in every objective and better in one.
pub fn dominates(a: &[f64], b: &[f64]) -> bool {
    let mut better = false;
    for (x, y) in a.iter().zip(b) {
        if x > y {
            return false;
        }
        if x < y {
            better = true;
        }
    }
    better
}

/// Deb's constraint domination: a feasible point (violation 0) dominates an infeasible one,
/// of two infeasible points the one with the smaller violation dominates, and two feasible
/// points compare by Pareto dominance.
pub fn constrained_dominates(a: &[f64], va: f64, b: &[f64], vb: f64) -> bool {
    match (va > 0.0, vb > 0.0) {
        (false, false) => dominates(a, b),
        (false, true) => true,
        (true, false) => false,
        (true, true) => va < vb,
    }
}

/// Fast non-dominated sort under constraint domination: the fronts as lists of indices,
/// best first; indices inside a front are in increasing order.
pub fn non_dominated_sort<T: AsRef<[f64]>>(objs: &[T], violation: &[f64]) -> Vec<Vec<usize>> {
    let n = objs.len();
    assert_eq!(n, violation.len(), "one violation per point");
    let mut dominated_by_me: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut count = vec![0usize; n];
    for i in 0..n {
        for j in i + 1..n {
            let (a, b) = (objs[i].as_ref(), objs[j].as_ref());
            if constrained_dominates(a, violation[i], b, violation[j]) {
                dominated_by_me[i].push(j);
                count[j] += 1;
            } else if constrained_dominates(b, violation[j], a, violation[i]) {
                dominated_by_me[j].push(i);
                count[i] += 1;
            }
        }
    }
    let mut fronts = Vec::new();
    let mut current: Vec<usize> = (0..n).filter(|&i| count[i] == 0).collect();
    while !current.is_empty() {
        let mut next = Vec::new();
        for &i in &current {
            for &j in &dominated_by_me[i] {
                count[j] -= 1;
                if count[j] == 0 {
                    next.push(j);
                }
            }
        }
        next.sort_unstable();
        fronts.push(current);
        current = next;
    }
    fronts
}

/// Crowding distance of the points of one front: for each objective, the normalised gap
/// between a point's two neighbours, summed; the extreme points of every objective get
/// infinity. Ties are broken by index, so the result is deterministic.
pub fn crowding_distance<T: AsRef<[f64]>>(front: &[T]) -> Vec<f64> {
    let n = front.len();
    let mut d = vec![0.0f64; n];
    if n == 0 {
        return d;
    }
    let m = front[0].as_ref().len();
    let mut order: Vec<usize> = (0..n).collect();
    for k in 0..m {
        let v = |i: usize| front[i].as_ref()[k];
        order.sort_by(|&a, &b| v(a).total_cmp(&v(b)).then(a.cmp(&b)));
        let (lo, hi) = (v(order[0]), v(order[n - 1]));
        d[order[0]] = f64::INFINITY;
        d[order[n - 1]] = f64::INFINITY;
        let range = hi - lo;
        if range <= 0.0 {
            continue;
        }
        for w in 1..n.saturating_sub(1) {
            let i = order[w];
            if d[i].is_finite() {
                d[i] += (v(order[w + 1]) - v(order[w - 1])) / range;
            }
        }
    }
    d
}

/// Indices of the non-dominated points (plain Pareto dominance), in increasing order.
pub fn non_dominated<T: AsRef<[f64]>>(objs: &[T]) -> Vec<usize> {
    (0..objs.len())
        .filter(|&i| {
            !(0..objs.len()).any(|j| j != i && dominates(objs[j].as_ref(), objs[i].as_ref()))
        })
        .collect()
}

/// An archive of the non-dominated points seen so far (an incremental [`non_dominated`]):
/// equal points are all kept, dominated ones dropped.
#[derive(Clone, Debug, Default)]
pub struct Archive {
    members: Vec<(usize, Vec<f64>)>,
}

impl Archive {
    /// An empty archive.
    pub fn new() -> Self {
        Self::default()
    }

    /// Offers the point `obj` with key `key`; returns whether it entered the archive.
    pub fn offer(&mut self, key: usize, obj: Vec<f64>) -> bool {
        if self.members.iter().any(|(_, m)| dominates(m, &obj)) {
            return false;
        }
        self.members.retain(|(_, m)| !dominates(&obj, m));
        self.members.push((key, obj));
        true
    }

    /// The keys of the members, in increasing order.
    pub fn keys(&self) -> Vec<usize> {
        let mut k: Vec<usize> = self.members.iter().map(|(k, _)| *k).collect();
        k.sort_unstable();
        k
    }

    /// The objective vectors of the members, in key order.
    pub fn points(&self) -> Vec<Vec<f64>> {
        let mut m: Vec<&(usize, Vec<f64>)> = self.members.iter().collect();
        m.sort_by_key(|(k, _)| *k);
        m.into_iter().map(|(_, o)| o.clone()).collect()
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the archive is empty.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dominance_by_hand() {
        assert!(dominates(&[1.0, 2.0], &[1.0, 3.0]));
        assert!(!dominates(&[1.0, 2.0], &[1.0, 2.0]));
        assert!(!dominates(&[1.0, 4.0], &[2.0, 3.0]));
        // Feasible beats infeasible whatever the objectives.
        assert!(constrained_dominates(&[9.0, 9.0], 0.0, &[0.0, 0.0], 0.1));
        assert!(!constrained_dominates(&[0.0, 0.0], 0.1, &[9.0, 9.0], 0.0));
        // Two infeasible: the smaller violation wins.
        assert!(constrained_dominates(&[9.0, 9.0], 0.1, &[0.0, 0.0], 0.2));
        assert!(!constrained_dominates(&[0.0, 0.0], 0.2, &[9.0, 9.0], 0.1));
    }

    #[test]
    fn sort_ranks_by_hand() {
        // Minimise both. Front 0: a(1,5) b(2,3) c(4,1); front 1: d(3,4) e(5,2); front 2: f(6,6).
        let pts = [
            [1.0, 5.0],
            [2.0, 3.0],
            [4.0, 1.0],
            [3.0, 4.0],
            [5.0, 2.0],
            [6.0, 6.0],
        ];
        let fronts = non_dominated_sort(&pts, &[0.0; 6]);
        assert_eq!(fronts, vec![vec![0, 1, 2], vec![3, 4], vec![5]]);
        // Make c infeasible: it falls behind every feasible point, and e, which only c
        // dominated, joins the first front.
        let fronts = non_dominated_sort(&pts, &[0.0, 0.0, 0.5, 0.0, 0.0, 0.0]);
        assert_eq!(fronts, vec![vec![0, 1, 4], vec![3], vec![5], vec![2]]);
        // Two infeasible points rank by violation.
        let fronts = non_dominated_sort(&pts[..3], &[0.3, 0.1, 0.2]);
        assert_eq!(fronts, vec![vec![1], vec![2], vec![0]]);
    }

    #[test]
    fn crowding_by_hand() {
        // Points on a line: (0,4) (1,3) (3,1) (4,0): ranges 4 and 4.
        // Inner (1,3): neighbours (0,4),(3,1): (3-0)/4 + (4-1)/4 = 1.5; inner (3,1): (4-1)/4 + (3-0)/4 = 1.5.
        let pts = [[1.0, 3.0], [0.0, 4.0], [4.0, 0.0], [3.0, 1.0]];
        let d = crowding_distance(&pts);
        assert_eq!(d[0], 1.5);
        assert_eq!(d[3], 1.5);
        assert!(d[1].is_infinite() && d[2].is_infinite());
        // Uneven spacing: (0,10) (1,9) (5,5) (10,0): inner (1,9): 5/10 + 5/10 = 1; (5,5): 9/10 + 9/10 = 1.8.
        let pts = [[0.0, 10.0], [1.0, 9.0], [5.0, 5.0], [10.0, 0.0]];
        let d = crowding_distance(&pts);
        assert!(
            (d[1] - 1.0).abs() < 1e-12 && (d[2] - 1.8).abs() < 1e-12,
            "{d:?}"
        );
        assert_eq!(crowding_distance(&[[1.0, 1.0]]), vec![f64::INFINITY]);
    }

    #[test]
    fn archive_matches_non_dominated() {
        let mut rng = crate::rng::seeded(3);
        use rand::RngExt;
        let pts: Vec<Vec<f64>> = (0..300)
            .map(|_| {
                vec![
                    rng.random_range(0..20) as f64,
                    rng.random_range(0..20) as f64,
                ]
            })
            .collect();
        let mut a = Archive::new();
        for (i, p) in pts.iter().enumerate() {
            a.offer(i, p.clone());
        }
        assert_eq!(a.keys(), non_dominated(&pts));
    }
}
