//! Quality figures of a surrogate: rank correlations (what the search needs) and mean absolute
//! error, and the [`Score`] table a fitted model records.

use super::params::Target;
use serde::{Deserialize, Serialize};

/// Kendall's tau-b of `x` and `y` (ties corrected), or `None` when it is undefined (fewer than
/// two pairs, or one side constant).
///
/// # Panics
/// If `x` and `y` differ in length.
pub fn kendall_tau(x: &[f64], y: &[f64]) -> Option<f64> {
    assert_eq!(x.len(), y.len(), "kendall_tau: lengths differ");
    let n = x.len();
    let (mut concordant, mut discordant) = (0i64, 0i64);
    let (mut tied_x, mut tied_y) = (0i64, 0i64);
    for i in 0..n {
        for j in i + 1..n {
            let dx = x[i] - x[j];
            let dy = y[i] - y[j];
            match (dx == 0.0, dy == 0.0) {
                (true, true) => {}
                (true, false) => tied_x += 1,
                (false, true) => tied_y += 1,
                (false, false) => {
                    if (dx > 0.0) == (dy > 0.0) {
                        concordant += 1;
                    } else {
                        discordant += 1;
                    }
                }
            }
        }
    }
    let untied = concordant + discordant;
    let denom = (((untied + tied_x) as f64) * ((untied + tied_y) as f64)).sqrt();
    (denom > 0.0).then(|| (concordant - discordant) as f64 / denom)
}

/// Spearman's rho: Pearson correlation of the ranks (ties get their average rank), or `None`
/// when it is undefined (fewer than two values, or one side constant).
///
/// # Panics
/// If `x` and `y` differ in length.
pub fn spearman_rho(x: &[f64], y: &[f64]) -> Option<f64> {
    assert_eq!(x.len(), y.len(), "spearman_rho: lengths differ");
    pearson(&ranks(x), &ranks(y))
}

/// Mean absolute error, or `None` for empty input.
///
/// # Panics
/// If `pred` and `truth` differ in length.
pub fn mae(pred: &[f64], truth: &[f64]) -> Option<f64> {
    assert_eq!(pred.len(), truth.len(), "mae: lengths differ");
    (!pred.is_empty()).then(|| {
        pred.iter()
            .zip(truth)
            .map(|(p, t)| (p - t).abs())
            .sum::<f64>()
            / pred.len() as f64
    })
}

/// Ranks 1..=n, ties sharing their average rank.
pub fn ranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && x[order[j + 1]] == x[order[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}

fn pearson(a: &[f64], b: &[f64]) -> Option<f64> {
    let n = a.len() as f64;
    if a.len() < 2 {
        return None;
    }
    let ma = a.iter().sum::<f64>() / n;
    let mb = b.iter().sum::<f64>() / n;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    let denom = (saa * sbb).sqrt();
    (denom > 0.0).then(|| sab / denom)
}

/// Quality of one target's predictions on data the model did not see.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// Target name.
    pub target: String,
    /// Number of rows scored.
    pub n: usize,
    /// Kendall tau-b of predicted against measured (`None`: undefined, a side is constant).
    pub kendall_tau: Option<f64>,
    /// Spearman rho of predicted against measured.
    pub spearman_rho: Option<f64>,
    /// Mean absolute error, in the target's unit.
    pub mae: Option<f64>,
    /// Kendall tau within each held-out fold (cross-validation only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fold_kendall_tau: Vec<Option<f64>>,
}

impl Score {
    /// The scores of predictions `pred` of `target` against the measured `truth`.
    pub(crate) fn new(target: Target, pred: &[f64], truth: &[f64]) -> Self {
        Score {
            target: target.name().to_string(),
            n: pred.len(),
            kendall_tau: kendall_tau(pred, truth),
            spearman_rho: spearman_rho(pred, truth),
            mae: mae(pred, truth),
            fold_kendall_tau: Vec::new(),
        }
    }
}

/// A table of scores: target, n, Kendall tau, Spearman rho, MAE (and the per-fold tau range).
pub fn format_scores(scores: &[Score]) -> String {
    let f = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{v:.3}"));
    let mut s = format!(
        "{:<12} {:>6} {:>12} {:>13} {:>9}  {}\n",
        "target", "n", "kendall_tau", "spearman_rho", "mae", "fold tau range"
    );
    for sc in scores {
        let taus: Vec<f64> = sc.fold_kendall_tau.iter().flatten().copied().collect();
        let range = if taus.is_empty() {
            String::new()
        } else {
            let lo = taus.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = taus.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            format!("{lo:.3} .. {hi:.3}")
        };
        s.push_str(&format!(
            "{:<12} {:>6} {:>12} {:>13} {:>9}  {}\n",
            sc.target,
            sc.n,
            f(sc.kendall_tau),
            f(sc.spearman_rho),
            f(sc.mae),
            range
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64) {
        let a = a.expect("defined");
        assert!((a - b).abs() < 1e-12, "{a} != {b}");
    }

    #[test]
    fn kendall_by_hand() {
        close(kendall_tau(&[1., 2., 3., 4.], &[10., 20., 30., 40.]), 1.0);
        close(kendall_tau(&[1., 2., 3., 4.], &[4., 3., 2., 1.]), -1.0);
        // Pairs of [1,2,3,4] vs [1,3,2,4]: 5 concordant, 1 discordant -> 4/6.
        close(kendall_tau(&[1., 2., 3., 4.], &[1., 3., 2., 4.]), 4.0 / 6.0);
        // Ties: x = [1,2,2,3], y = [1,2,3,4]. Pairs: (0,1)c (0,2)c (0,3)c (1,2) tie in x only,
        // (1,3)c (2,3)c -> C=5, D=0, tx=1, ty=0: 5 / sqrt(6 * 5).
        close(
            kendall_tau(&[1., 2., 2., 3.], &[1., 2., 3., 4.]),
            5.0 / 30f64.sqrt(),
        );
        // Ties on both sides: x = [1,1,2], y = [1,2,2]: (0,1) tx, (0,2) c, (1,2) ty -> 1/sqrt(2*2).
        close(kendall_tau(&[1., 1., 2.], &[1., 2., 2.]), 0.5);
        assert_eq!(kendall_tau(&[1., 1., 1.], &[1., 2., 3.]), None);
        assert_eq!(kendall_tau(&[1.], &[1.]), None);
    }

    #[test]
    fn spearman_by_hand() {
        close(spearman_rho(&[1., 2., 3.], &[1., 4., 9.]), 1.0);
        // Ranks [1,2,3,4] vs [1,3,2,4]: d^2 sum = 2 -> 1 - 6*2/(4*15) = 0.8.
        close(spearman_rho(&[1., 2., 3., 4.], &[5., 7., 6., 8.]), 0.8);
        // Ties: x ranks [1, 2.5, 2.5, 4], y ranks [1,2,3,4]; Pearson of those.
        let rx = [1.0, 2.5, 2.5, 4.0];
        let ry = [1.0, 2.0, 3.0, 4.0];
        let mx = 2.5;
        let num: f64 = rx.iter().zip(&ry).map(|(a, b)| (a - mx) * (b - mx)).sum();
        let da: f64 = rx.iter().map(|a| (a - mx) * (a - mx)).sum();
        let db: f64 = ry.iter().map(|b| (b - mx) * (b - mx)).sum();
        close(
            spearman_rho(&[1., 2., 2., 3.], &[1., 2., 3., 4.]),
            num / (da * db).sqrt(),
        );
        assert_eq!(ranks(&[3., 1., 3., 2.]), vec![3.5, 1.0, 3.5, 2.0]);
        assert_eq!(spearman_rho(&[2., 2.], &[1., 2.]), None);
    }

    #[test]
    fn mae_by_hand() {
        close(mae(&[1., 2., 3.], &[2., 2., 5.]), 1.0);
        assert_eq!(mae(&[], &[]), None);
    }
}
