//! `bench strategies`: search strategies compared on a measured data set used as a table (the
//! pool): measuring a network is looking its row up through the [`TableScorer`]. Each strategy
//! spends the same numbers of measurements over many seeds; the figures are the hypervolume of
//! the measured front (1-day accuracy against tiles, normalised by the pool's true front) and
//! the fraction of the pool's true Pareto front found.
//!
//! - `random`: pool rows in a random order.
//! - `lhs+search`: half the budget on a Latin-hypercube sample of the pool, an ensemble
//!   surrogate fitted on it, the other half on the predicted front (non-dominated layers of the
//!   predicted means, best accuracy first): the offline "collect, fit, search" recipe.
//! - `active`: a Latin-hypercube start, then batches chosen by the acquisition of
//!   [`crate::pipeline::acquisition`] (optimistic hypervolume improvement, mean + k * sd of the
//!   ensemble), refitted after every batch.

use crate::error::{Error, Result};
use crate::nn::Arch;
use crate::pipeline::TableScorer;
use crate::pipeline::acquisition::select_batch;
use crate::search::{Scorer, hypervolume, non_dominated, non_dominated_sort};
use crate::stats::{Interval, ci95};
use crate::surrogate::ensemble::{has_hardware, row_features};
use crate::surrogate::{Dataset, EnsembleModel, EnsembleParams};
use rand::RngExt;
use rayon::prelude::*;
use std::path::Path;

/// What `bench strategies` runs.
#[derive(Clone, Debug)]
pub struct StrategyConfig {
    /// Seeds per strategy. Default: 20.
    pub seeds: usize,
    /// Numbers of measurements at which the strategies are compared (ascending).
    pub budgets: Vec<usize>,
    /// Latin-hypercube start of active learning. Default: 10.
    pub initial: usize,
    /// Networks measured per active-learning round. Default: 5.
    pub batch: usize,
    /// Optimism of the acquisition, `mean + kappa * sd`. Default: 1.
    pub kappa: f64,
    /// The ensemble refitted every round (its `seed` is replaced per seed and round).
    pub ensemble: EnsembleParams,
}

impl Default for StrategyConfig {
    fn default() -> Self {
        StrategyConfig {
            seeds: 20,
            budgets: vec![10, 20, 30, 40, 50, 60, 80, 100, 150],
            initial: 10,
            batch: 5,
            kappa: 1.0,
            ensemble: EnsembleParams {
                members: 5,
                trees: 20,
                folds: 0,
                ..EnsembleParams::default()
            },
        }
    }
}

/// The names of the strategies, in report order.
pub const STRATEGIES: [&str; 3] = ["random", "lhs+search", "active"];

/// One strategy at one budget, over the seeds.
#[derive(Clone, Debug)]
pub struct StrategyRow {
    /// Strategy name.
    pub strategy: &'static str,
    /// Measurements spent.
    pub budget: usize,
    /// Hypervolume of the measured front / that of the pool's true front.
    pub hv: Interval,
    /// Fraction of the pool's true front measured.
    pub front: Interval,
}

/// The comparison "measurements active learning needs for the hypervolume random sampling
/// reaches with `budget`".
#[derive(Clone, Copy, Debug)]
pub struct Ratio {
    /// Random sampling's measurements.
    pub budget: usize,
    /// Mean normalised hypervolume random sampling reaches with them.
    pub random_hv: f64,
    /// Fewest measurements after which active learning's mean hypervolume is at least that
    /// (`None`: not within the largest budget).
    pub active_needs: Option<usize>,
}

impl Ratio {
    /// `active_needs / budget`.
    pub fn ratio(&self) -> Option<f64> {
        self.active_needs.map(|n| n as f64 / self.budget as f64)
    }
}

/// What `bench strategies` found.
#[derive(Clone, Debug)]
pub struct StrategyReport {
    /// The data set.
    pub file: String,
    /// Rows of the pool.
    pub pool: usize,
    /// Members of the pool's true front.
    pub true_front: usize,
    /// The settings.
    pub config: StrategyConfig,
    /// One row per strategy and budget.
    pub rows: Vec<StrategyRow>,
    /// Mean normalised hypervolume (with its 95 % interval) after every measurement, for the
    /// sequential strategies (`random`, `active`): `(strategy, [(n, interval)])`.
    pub curves: Vec<(&'static str, Vec<(usize, Interval)>)>,
    /// The ratio at each budget.
    pub ratios: Vec<Ratio>,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// The pool as the strategies see it.
struct Pool {
    archs: Vec<Arch>,
    features: Vec<Vec<f64>>,
    /// Rank-normalised features in [0, 1] (for the Latin-hypercube pick).
    unit: Vec<Vec<f64>>,
    data: Dataset,
    reference: Vec<f64>,
    true_hv: f64,
    on_front: Vec<bool>,
}

impl Pool {
    fn new(data: Dataset) -> Self {
        let archs: Vec<Arch> = data.rows.iter().map(|r| r.arch()).collect();
        let hardware = has_hardware(&data);
        let features: Vec<Vec<f64>> = data
            .rows
            .iter()
            .map(|r| row_features(r, hardware))
            .collect();
        let d = features.first().map_or(0, Vec::len);
        let mut unit = vec![vec![0.0; d]; features.len()];
        for j in 0..d {
            let col: Vec<f64> = features.iter().map(|f| f[j]).collect();
            let r = crate::surrogate::metrics::ranks(&col);
            let n = r.len().max(2) as f64;
            for (u, rank) in unit.iter_mut().zip(r) {
                u[j] = (rank - 1.0) / (n - 1.0);
            }
        }
        let pts: Vec<Vec<f64>> = data
            .rows
            .iter()
            .map(|r| vec![-r.measurement.acc_1d, r.measurement.tiles as f64])
            .collect();
        let max_tiles = data
            .rows
            .iter()
            .map(|r| r.measurement.tiles)
            .max()
            .unwrap_or(0);
        let reference = vec![0.0, max_tiles as f64 + 1.0];
        let true_hv = hypervolume(&pts, &reference);
        let mut on_front = vec![false; pts.len()];
        for i in non_dominated(&pts) {
            on_front[i] = true;
        }
        Pool {
            archs,
            features,
            unit,
            data,
            reference,
            true_hv,
            on_front,
        }
    }

    fn len(&self) -> usize {
        self.archs.len()
    }

    /// `n` rows nearest to the points of a Latin hypercube in the rank-normalised features,
    /// each row once, skipping `taken`.
    fn lhs(&self, n: usize, rng: &mut crate::rng::SeededRng, taken: &mut [bool]) -> Vec<usize> {
        let d = self.unit.first().map_or(0, Vec::len);
        let perms: Vec<Vec<usize>> = (0..d)
            .map(|_| {
                let mut p: Vec<usize> = (0..n).collect();
                for i in (1..n).rev() {
                    p.swap(i, rng.random_range(0..=i));
                }
                p
            })
            .collect();
        let mut out = Vec::new();
        for i in 0..n {
            let point: Vec<f64> = perms
                .iter()
                .map(|p| (p[i] as f64 + rng.random::<f64>()) / n as f64)
                .collect();
            let best = (0..self.len()).filter(|&r| !taken[r]).min_by(|&a, &b| {
                let dist = |r: usize| -> f64 {
                    self.unit[r]
                        .iter()
                        .zip(&point)
                        .map(|(x, y)| (x - y) * (x - y))
                        .sum()
                };
                dist(a).total_cmp(&dist(b))
            });
            if let Some(r) = best {
                taken[r] = true;
                out.push(r);
            }
        }
        out
    }
}

/// The measurements of one strategy and seed, in order, with what the table answered.
struct Trace {
    /// `(pool index, [-acc_1d, tiles])` in measurement order.
    measured: Vec<(usize, Vec<f64>)>,
}

impl Trace {
    fn new() -> Self {
        Trace {
            measured: Vec::new(),
        }
    }

    /// Measures `idx` by looking the rows up through the table scorer.
    fn measure(&mut self, pool: &Pool, table: &mut TableScorer, idx: &[usize]) -> Result<()> {
        let archs: Vec<Arch> = idx.iter().map(|&i| pool.archs[i].clone()).collect();
        for (&i, o) in idx.iter().zip(table.score(&archs)) {
            let s = o.scores().ok_or_else(|| {
                Error::input(format!("bench strategies: row {i} not in the table"))
            })?;
            self.measured.push((i, vec![-s.acc_1d, s.tiles as f64]));
        }
        Ok(())
    }

    /// Normalised hypervolume and front fraction after the first `n` measurements.
    fn figures(&self, pool: &Pool, n: usize) -> (f64, f64) {
        let m = &self.measured[..n.min(self.measured.len())];
        let pts: Vec<&[f64]> = m.iter().map(|(_, p)| p.as_slice()).collect();
        let hv = hypervolume(&pts, &pool.reference) / pool.true_hv;
        let total = pool.on_front.iter().filter(|&&f| f).count().max(1);
        let found = m.iter().filter(|(i, _)| pool.on_front[*i]).count();
        (hv, found as f64 / total as f64)
    }

    fn is_measured(&self, n: usize) -> Vec<bool> {
        let mut v = vec![false; n];
        for (i, _) in &self.measured {
            v[*i] = true;
        }
        v
    }
}

fn fit(pool: &Pool, trace: &Trace, params: &EnsembleParams) -> Result<EnsembleModel> {
    let rows = trace
        .measured
        .iter()
        .map(|(i, _)| pool.data.rows[*i].clone())
        .collect::<Vec<_>>();
    let data = Dataset::from_rows(pool.data.file.clone(), rows);
    EnsembleModel::fit(&data, params)
}

fn random(pool: &Pool, seed: u64, budget: usize) -> Result<Trace> {
    let mut rng = crate::rng::seeded(crate::rng::derive_seed(seed, 1));
    let mut order: Vec<usize> = (0..pool.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.random_range(0..=i));
    }
    let mut table = TableScorer::new(&pool.data)?;
    let mut t = Trace::new();
    t.measure(pool, &mut table, &order[..budget])?;
    Ok(t)
}

fn active(pool: &Pool, cfg: &StrategyConfig, seed: u64, budget: usize) -> Result<Trace> {
    let mut rng = crate::rng::seeded(crate::rng::derive_seed(seed, 2));
    let mut table = TableScorer::new(&pool.data)?;
    let mut t = Trace::new();
    let mut taken = vec![false; pool.len()];
    let init = pool.lhs(cfg.initial.min(budget), &mut rng, &mut taken);
    t.measure(pool, &mut table, &init)?;
    let mut round = 0u64;
    while t.measured.len() < budget {
        round += 1;
        let params = EnsembleParams {
            seed: crate::rng::derive_seed(seed, 1000 + round),
            ..cfg.ensemble.clone()
        };
        let model = fit(pool, &t, &params)?;
        let done = t.is_measured(pool.len());
        let open: Vec<usize> = (0..pool.len()).filter(|&i| !done[i]).collect();
        let (mut cands, mut sd) = (Vec::new(), Vec::new());
        for &i in &open {
            let p = model.predict_features(&pool.features[i]).acc_1d;
            cands.push(vec![
                -p.optimistic(cfg.kappa),
                pool.data.rows[i].measurement.tiles as f64,
            ]);
            sd.push(p.sd);
        }
        let front: Vec<Vec<f64>> = t.measured.iter().map(|(_, p)| p.clone()).collect();
        let k = cfg.batch.min(budget - t.measured.len());
        let pick: Vec<usize> = select_batch(&front, &cands, &sd, &pool.reference, k)
            .into_iter()
            .map(|j| open[j])
            .collect();
        if pick.is_empty() {
            break;
        }
        t.measure(pool, &mut table, &pick)?;
    }
    Ok(t)
}

fn lhs_search(pool: &Pool, cfg: &StrategyConfig, seed: u64, budget: usize) -> Result<Trace> {
    let mut rng = crate::rng::seeded(crate::rng::derive_seed(seed, 3));
    let mut table = TableScorer::new(&pool.data)?;
    let mut t = Trace::new();
    let mut taken = vec![false; pool.len()];
    let n0 = (budget / 2).max(2).min(budget);
    let init = pool.lhs(n0, &mut rng, &mut taken);
    t.measure(pool, &mut table, &init)?;
    if t.measured.len() >= budget {
        return Ok(t);
    }
    let params = EnsembleParams {
        seed: crate::rng::derive_seed(seed, 999),
        ..cfg.ensemble.clone()
    };
    let model = fit(pool, &t, &params)?;
    let done = t.is_measured(pool.len());
    let open: Vec<usize> = (0..pool.len()).filter(|&i| !done[i]).collect();
    let pred: Vec<Vec<f64>> = open
        .iter()
        .map(|&i| {
            let p = model.predict_features(&pool.features[i]).acc_1d;
            vec![-p.mean, pool.data.rows[i].measurement.tiles as f64]
        })
        .collect();
    let mut pick = Vec::new();
    for mut layer in non_dominated_sort(&pred, &vec![0.0; pred.len()]) {
        layer.sort_by(|&a, &b| pred[a][0].total_cmp(&pred[b][0]).then(a.cmp(&b)));
        pick.extend(layer.into_iter().map(|j| open[j]));
    }
    pick.truncate(budget - t.measured.len());
    t.measure(pool, &mut table, &pick)?;
    Ok(t)
}

/// Runs the three strategies on the pool of `data` over `cfg.seeds` seeds.
pub fn strategies(data: Dataset, cfg: &StrategyConfig) -> Result<StrategyReport> {
    let start = std::time::Instant::now();
    let pool = Pool::new(data);
    let n = pool.len();
    let bad = |m: String| Err(Error::input(format!("bench strategies: {m}")));
    if cfg.seeds == 0 || cfg.batch == 0 || cfg.initial < 2 {
        return bad("--seeds and --batch: expected >= 1, --initial: expected >= 2".into());
    }
    if cfg.budgets.is_empty() || cfg.budgets.windows(2).any(|w| w[0] >= w[1]) {
        return bad("--budgets: expected ascending numbers of measurements".into());
    }
    let max = *cfg.budgets.last().expect("not empty");
    if max > n || cfg.budgets[0] < 2 {
        return bad(format!(
            "--budgets: expected numbers in 2..={n} (the rows of the pool), got {:?}",
            cfg.budgets
        ));
    }
    ensure_params(&cfg.ensemble)?;
    let seeds: Vec<u64> = (0..cfg.seeds as u64).collect();
    // Per seed: the random and active traces to the largest budget, lhs+search per budget.
    type PerSeed = (Trace, Trace, Vec<(f64, f64)>);
    let per_seed: Vec<PerSeed> = seeds
        .par_iter()
        .map(|&s| {
            let r = random(&pool, s, max)?;
            let a = active(&pool, cfg, s, max)?;
            let l = cfg
                .budgets
                .iter()
                .map(|&b| Ok(lhs_search(&pool, cfg, s, b)?.figures(&pool, b)))
                .collect::<Result<Vec<_>>>()?;
            Ok((r, a, l))
        })
        .collect::<Result<_>>()?;

    let curve = |pick: &dyn Fn(&PerSeed) -> &Trace| -> Vec<(usize, Interval, Interval)> {
        (1..=max)
            .map(|k| {
                let (hv, fr): (Vec<f64>, Vec<f64>) =
                    per_seed.iter().map(|p| pick(p).figures(&pool, k)).unzip();
                (k, ci95(&hv), ci95(&fr))
            })
            .collect()
    };
    let random_curve = curve(&|p| &p.0);
    let active_curve = curve(&|p| &p.1);
    let mut rows = Vec::new();
    for (bi, &b) in cfg.budgets.iter().enumerate() {
        let r = &random_curve[b - 1];
        rows.push(StrategyRow {
            strategy: STRATEGIES[0],
            budget: b,
            hv: r.1,
            front: r.2,
        });
        let (hv, fr): (Vec<f64>, Vec<f64>) = per_seed.iter().map(|p| p.2[bi]).unzip();
        rows.push(StrategyRow {
            strategy: STRATEGIES[1],
            budget: b,
            hv: ci95(&hv),
            front: ci95(&fr),
        });
        let a = &active_curve[b - 1];
        rows.push(StrategyRow {
            strategy: STRATEGIES[2],
            budget: b,
            hv: a.1,
            front: a.2,
        });
    }
    let ratios = cfg
        .budgets
        .iter()
        .map(|&b| {
            let h = random_curve[b - 1].1.mean;
            Ratio {
                budget: b,
                random_hv: h,
                active_needs: active_curve.iter().find(|c| c.1.mean >= h).map(|c| c.0),
            }
        })
        .collect();
    let strip = |c: &[(usize, Interval, Interval)]| c.iter().map(|x| (x.0, x.1)).collect();
    Ok(StrategyReport {
        file: pool.data.file.clone(),
        pool: n,
        true_front: pool.on_front.iter().filter(|&&f| f).count(),
        config: cfg.clone(),
        rows,
        curves: vec![
            (STRATEGIES[0], strip(&random_curve)),
            (STRATEGIES[2], strip(&active_curve)),
        ],
        ratios,
        seconds: start.elapsed().as_secs_f64(),
    })
}

fn ensure_params(p: &EnsembleParams) -> Result<()> {
    p.validate()
        .map_err(|e| Error::input(format!("bench strategies: {e}")))
}

/// The report as a table (Markdown), with the ratio.
pub fn table(r: &StrategyReport) -> String {
    let c = &r.config;
    let mut s = format!(
        "strategies on {} ({} rows as the pool, {} on its true front of 1-day accuracy vs tiles), \
         {} seeds each, {:.1} s\n\
         active: {} Latin-hypercube rows, then batches of {} by optimistic hypervolume improvement \
         (mean + {} sd of a {}-member ensemble), refitted each batch; lhs+search: half the budget \
         on a Latin-hypercube sample, half on the front predicted by the same ensemble.\n\
         hv = hypervolume of the measured front / the pool's true front; front = fraction of the \
         true front measured; mean [95 % CI] over seeds.\n\n",
        r.file,
        r.pool,
        r.true_front,
        c.seeds,
        r.seconds,
        c.initial,
        c.batch,
        c.kappa,
        c.ensemble.members
    );
    s.push_str("| measurements |");
    for st in STRATEGIES {
        s.push_str(&format!(" {st} hv | {st} front |"));
    }
    s.push_str("\n|---:|");
    s.push_str(&"---:|---:|".repeat(STRATEGIES.len()));
    s.push('\n');
    let f = |i: &Interval| match i.half_width {
        Some(h) => format!("{:.3} [{:.3}, {:.3}]", i.mean, i.mean - h, i.mean + h),
        None => format!("{:.3}", i.mean),
    };
    for &b in &c.budgets {
        s.push_str(&format!("| {b} |"));
        for st in STRATEGIES {
            let row = r
                .rows
                .iter()
                .find(|x| x.budget == b && x.strategy == st)
                .expect("a row per strategy and budget");
            s.push_str(&format!(" {} | {} |", f(&row.hv), f(&row.front)));
        }
        s.push('\n');
    }
    s.push_str(
        "\nmeasurements active learning needs to reach the mean hypervolume random sampling \
         reaches with N (goal: ratio <= 1/3):\n\n| N | random hv | active needs | ratio |\n|---:|---:|---:|---:|\n",
    );
    for q in &r.ratios {
        s.push_str(&format!(
            "| {} | {:.3} | {} | {} |\n",
            q.budget,
            q.random_hv,
            q.active_needs
                .map_or(format!("> {}", c.budgets.last().unwrap_or(&0)), |n| n
                    .to_string()),
            q.ratio().map_or("n/a".into(), |x| format!("{x:.2}"))
        ));
    }
    s
}

/// Draws the hypervolume of each strategy against the measurements spent (PNG).
pub fn plot(r: &StrategyReport, png: &Path) -> Result<()> {
    use crate::report::plots::{Series, XyData, xy};
    let mut series: Vec<Series> = r
        .curves
        .iter()
        .map(|(name, c)| Series {
            label: format!("{name} (mean, 95 % CI)"),
            points: c.iter().map(|(k, i)| (*k as f64, i.mean)).collect(),
            band: c
                .iter()
                .map(|(k, i)| (*k as f64, i.low(), i.high()))
                .collect(),
            markers_only: false,
        })
        .collect();
    let lhs: Vec<&StrategyRow> = r
        .rows
        .iter()
        .filter(|x| x.strategy == STRATEGIES[1])
        .collect();
    series.push(Series {
        label: "lhs+search (at each budget)".into(),
        points: lhs.iter().map(|x| (x.budget as f64, x.hv.mean)).collect(),
        band: lhs
            .iter()
            .map(|x| (x.budget as f64, x.hv.low(), x.hv.high()))
            .collect(),
        markers_only: false,
    });
    xy(
        png,
        &XyData {
            title: format!("Strategies on {} ({} seeds)", r.file, r.config.seeds),
            note: format!(
                "pool of {} measured networks; hypervolume of 1-day accuracy vs tiles, / the pool's true front",
                r.pool
            ),
            x_desc: "measurements spent".into(),
            y_desc: "hypervolume / true front's".into(),
            series,
            diagonal: false,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_on_the_shipped_table_with_few_seeds() {
        let data =
            Dataset::read(crate::test_support::repo().join("surrogates/digits_pcm_aihwkit.csv"))
                .unwrap();
        let cfg = StrategyConfig {
            seeds: 3,
            budgets: vec![10, 20, 30],
            initial: 6,
            batch: 4,
            ..StrategyConfig::default()
        };
        let r = strategies(data.clone(), &cfg).unwrap();
        assert_eq!(r.rows.len(), 9);
        assert_eq!(r.pool, data.rows.len());
        for row in &r.rows {
            assert!(row.hv.mean > 0.0 && row.hv.mean <= 1.0 + 1e-9, "{row:?}");
            assert!((0.0..=1.0).contains(&row.front.mean));
            assert_eq!(row.hv.n, 3);
        }
        // Deterministic.
        let again = strategies(data, &cfg).unwrap();
        let body = |r: &StrategyReport| table(r).lines().skip(1).collect::<Vec<_>>().join("\n");
        assert_eq!(body(&again), body(&r));
        let t = table(&r);
        assert!(t.contains("| 30 |") && t.contains("ratio"), "{t}");
        let d = crate::test_support::temp_dir("strategies");
        plot(&r, &d.join("s.png")).unwrap();
        assert!(std::fs::metadata(d.join("s.png")).unwrap().len() > 1000);
        std::fs::remove_dir_all(d).unwrap();
        let e = strategies(
            Dataset::read(crate::test_support::repo().join("surrogates/digits_pcm_aihwkit.csv"))
                .unwrap(),
            &StrategyConfig {
                budgets: vec![10, 5000],
                ..cfg
            },
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("bench strategies: --budgets: expected numbers in 2..="),
            "{e}"
        );
    }
}
