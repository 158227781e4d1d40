//! Small-sample statistics for validation: mean, sample standard deviation, Student's t
//! quantile, 95 % confidence intervals and the paired t-test.

/// `t_{0.975, df}` for df = 1..=30 (scipy `t.ppf(0.975, df)`).
const T975: [f64; 30] = [
    12.706_204_736,
    4.302_652_730,
    3.182_446_305,
    2.776_445_105,
    2.570_581_836,
    2.446_911_851,
    2.364_624_252,
    2.306_004_135,
    2.262_157_163,
    2.228_138_852,
    2.200_985_160,
    2.178_812_830,
    2.160_368_656,
    2.144_786_688,
    2.131_449_546,
    2.119_905_299,
    2.109_815_578,
    2.100_922_040,
    2.093_024_054,
    2.085_963_447,
    2.079_613_845,
    2.073_873_068,
    2.068_657_610,
    2.063_898_562,
    2.059_538_553,
    2.055_529_439,
    2.051_830_516,
    2.048_407_142,
    2.045_229_642,
    2.042_272_456,
];

/// `z_{0.975}`, the normal quantile.
const Z975: f64 = 1.959_963_985;

/// Arithmetic mean (`NaN` for no values).
pub fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Sample standard deviation (divisor n - 1); 0 for fewer than two values.
pub fn sample_std(x: &[f64]) -> f64 {
    if x.len() < 2 {
        return 0.0;
    }
    let m = mean(x);
    (x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() - 1) as f64).sqrt()
}

/// The two-sided 95 % quantile of Student's t with `df` degrees of freedom, `t_{0.975, df}`:
/// tabulated for df 1..=30, beyond by the Cornish-Fisher expansion around the normal quantile
/// (error below 1e-5). `df` = 0 is infinite.
pub fn t975(df: usize) -> f64 {
    match df {
        0 => f64::INFINITY,
        1..=30 => T975[df - 1],
        _ => {
            let (z, n) = (Z975, df as f64);
            z + (z.powi(3) + z) / (4.0 * n)
                + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * n * n)
        }
    }
}

/// The mean of a sample with its 95 % confidence interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    /// Values.
    pub n: usize,
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation.
    pub std: f64,
    /// Half-width of the 95 % t-interval (n - 1 degrees of freedom); `None` for fewer than
    /// two values.
    pub half_width: Option<f64>,
}

impl Interval {
    /// Lower end of the interval (the mean when there is none).
    pub fn low(&self) -> f64 {
        self.mean - self.half_width.unwrap_or(0.0)
    }
    /// Upper end of the interval (the mean when there is none).
    pub fn high(&self) -> f64 {
        self.mean + self.half_width.unwrap_or(0.0)
    }
}

/// Mean and 95 % t-interval of `x`: `mean ± t_{0.975, n-1} · s / √n`.
pub fn ci95(x: &[f64]) -> Interval {
    let n = x.len();
    let std = sample_std(x);
    Interval {
        n,
        mean: mean(x),
        std,
        half_width: (n >= 2).then(|| t975(n - 1) * std / (n as f64).sqrt()),
    }
}

/// A two-sided paired t-test at alpha = 0.05.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PairedTest {
    /// The differences `a_k - b_k` with their 95 % interval.
    pub diff: Interval,
    /// The t statistic `mean / (s / √n)` (infinite when every difference is the same and not
    /// zero; `NaN` for fewer than two pairs).
    pub t: f64,
    /// Whether the difference is significant: the 95 % interval of the mean difference
    /// excludes zero (equivalently |t| > t_{0.975, n-1}, p < 0.05).
    pub significant: bool,
}

/// The paired t-test of `a` against `b` (pairs by position; both of the same length).
pub fn paired_t_test(a: &[f64], b: &[f64]) -> PairedTest {
    assert_eq!(a.len(), b.len(), "paired samples of different lengths");
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let diff = ci95(&d);
    let n = d.len();
    let t = if n < 2 {
        f64::NAN
    } else if diff.std == 0.0 {
        if diff.mean == 0.0 {
            0.0
        } else {
            diff.mean.signum() * f64::INFINITY
        }
    } else {
        diff.mean / (diff.std / (n as f64).sqrt())
    };
    let significant = diff
        .half_width
        .is_some_and(|h| diff.mean - h > 0.0 || diff.mean + h < 0.0);
    PairedTest {
        diff,
        t,
        significant,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_scipy() {
        // scipy.stats.t.ppf(0.975, df)
        assert!((t975(1) - 12.7062).abs() < 1e-4);
        assert!((t975(2) - 4.3027).abs() < 1e-4);
        assert!((t975(4) - 2.7764).abs() < 1e-4);
        assert!((t975(30) - 2.0423).abs() < 1e-4);
        assert!((t975(40) - 2.021_075).abs() < 1e-4);
        assert!((t975(60) - 2.000_298).abs() < 1e-4);
        assert!((t975(120) - 1.979_930).abs() < 1e-4);
        assert!((t975(100_000) - Z975).abs() < 1e-4);
        // monotone decreasing across the table's end
        for df in 1..200 {
            assert!(t975(df + 1) < t975(df), "df {df}");
        }
    }

    #[test]
    fn mean_std_and_interval() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(mean(&x), 3.0);
        assert!((sample_std(&x) - 1.581_138_83).abs() < 1e-8);
        let ci = ci95(&x);
        // scipy: t.interval(0.95, 4, loc=3, scale=sem) = (1.0367, 4.9633)
        assert!((ci.low() - 1.036_757).abs() < 1e-5, "{ci:?}");
        assert!((ci.high() - 4.963_243).abs() < 1e-5, "{ci:?}");
        let one = ci95(&[7.0]);
        assert_eq!((one.mean, one.std, one.half_width), (7.0, 0.0, None));
    }

    #[test]
    fn paired_test_matches_scipy() {
        // scipy.stats.ttest_rel(a, b): t = 3.4641, p = 0.0742 (n = 3): not significant
        let a = [10.0, 12.0, 14.0];
        let b = [9.0, 10.0, 11.0];
        let p = paired_t_test(&a, &b);
        assert!((p.t - 3.464_101_6).abs() < 1e-6, "{p:?}");
        assert!(!p.significant);
        assert!((p.diff.mean - 2.0).abs() < 1e-12);
        assert!(
            (p.diff.half_width.unwrap() - 2.484_138).abs() < 1e-5,
            "{p:?}"
        );
        // ttest_rel([5.1,6.2,7.3,8.1,9.0],[4.0,5.1,6.0,7.2,8.1]): t = 14.16, p = 0.000145
        let a = [5.1, 6.2, 7.3, 8.1, 9.0];
        let b = [4.0, 5.1, 6.0, 7.2, 8.1];
        let p = paired_t_test(&a, &b);
        assert!((p.t - 14.1648).abs() < 1e-3, "{p:?}");
        assert!(p.significant);
        // one pair: nothing can be concluded
        let p = paired_t_test(&[2.0], &[1.0]);
        assert!(!p.significant && p.t.is_nan());
    }
}
