//! `report.md`: the run's inputs, the plots, the front, the reference networks and the
//! validation (predicted beside measured), with a plain verdict against ResNet-8.

use super::RunFiles;
use crate::measure::Measurement;
use crate::rundir::{RunInfo, SeedInterval, SeedSummary, ValidationEntry, ValidationRole};
use std::fmt::Write;

fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or("–".into(), |x| format!("{x:.digits$}"))
}

/// The hardware genes of `g` in short form, `profile's` when it has none.
fn hardware_of(g: &crate::space::Genome) -> String {
    match &g.hardware {
        Some(h) => h.summary(),
        None => "the profile's".into(),
    }
}

/// A figure's range over some values, e.g. `3.1-7.9` (one value alone when all are equal).
fn span(v: impl Iterator<Item = f64>, digits: usize) -> String {
    let (lo, hi) = v.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
        (a.min(x), b.max(x))
    });
    if !lo.is_finite() {
        "–".into()
    } else if (hi - lo).abs() < 0.5 * 10f64.powi(-(digits as i32)) {
        format!("{lo:.digits$}")
    } else {
        format!("{lo:.digits$}-{hi:.digits$}")
    }
}

/// The co-search section: the hardware configurations on the front with what their networks
/// reach and cost, and the trade-off in words, with the validated (measured, several seeds)
/// figures where there are some.
pub fn cosearch_text(f: &RunFiles) -> String {
    let front = &f.pareto.front;
    let energy = front.iter().all(|m| m.scores.cost.is_some());
    // The cost axis: energy when the run computed it, else tiles.
    let cost_of = |m: &crate::rundir::FrontMember| {
        m.scores.cost.map_or(m.scores.tiles as f64, |c| c.energy_nj)
    };
    let (unit, digits) = if energy { ("nJ", 1) } else { ("tiles", 0) };
    let mut configs: Vec<String> = Vec::new();
    for m in front {
        let h = hardware_of(&m.genome);
        if !configs.contains(&h) {
            configs.push(h);
        }
    }
    let mut s = String::new();
    let _ = writeln!(
        s,
        "The front holds {} hardware configuration(s) across its {} networks: the chip parameters were searched together with the networks, and each network was scored on the chip its genes describe (each hardware gene overrides the profile's field; reference networks use the profile as it is).\n",
        configs.len(),
        front.len()
    );
    let _ = writeln!(
        s,
        "| hardware | front networks | acc 1 d, as scored (%) | {} ({unit}) | tiles |\n|---|---|---|---|---|",
        if energy { "energy" } else { "footprint" }
    );
    for h in &configs {
        let ms: Vec<_> = front
            .iter()
            .filter(|m| hardware_of(&m.genome) == *h)
            .collect();
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} | {} |",
            cell(h),
            ms.len(),
            span(ms.iter().map(|m| m.scores.acc_1d), 2),
            span(ms.iter().map(|m| cost_of(m)), digits),
            span(ms.iter().map(|m| m.scores.tiles as f64), 0),
        );
    }
    s.push_str(&gene_effects(f));
    // The trade-off, measured: validated front networks by cost.
    let mut measured: Vec<(&ValidationEntry, &crate::rundir::FrontMember)> = f
        .validation
        .iter()
        .flat_map(|v| &v.entries)
        .filter(|e| e.role == ValidationRole::Front && e.mean_acc_1d().is_some())
        .filter_map(|e| front.iter().find(|m| m.id == e.id).map(|m| (e, m)))
        .collect();
    measured.sort_by(|a, b| cost_of(a.1).total_cmp(&cost_of(b.1)));
    if configs.len() < 2 {
        let _ = writeln!(
            s,
            "\nOnly one hardware configuration survived on the front: by these scores it is at least as good as the others for every network the search kept, so the front shows no hardware trade-off."
        );
    }
    let best_acc = measured.iter().max_by(|a, b| {
        a.0.mean_acc_1d()
            .unwrap_or(f64::NAN)
            .total_cmp(&b.0.mean_acc_1d().unwrap_or(f64::NAN))
    });
    match (measured.first(), best_acc) {
        (Some(cheap), Some(best)) if cheap.0.id == best.0.id && measured.len() >= 2 => {
            let _ = writeln!(
                s,
                "\nThe cheapest validated network, {} (`{}`), is also the most accurate validated one ({} at 1 day): among the validated networks, measurement shows no trade-off.",
                cheap.0.name,
                hardware_of(&cheap.1.genome),
                acc_text(cheap.0)
            );
        }
        (Some(cheap), Some(best_acc)) if measured.len() >= 2 => {
            let text = |x: &(&ValidationEntry, &crate::rundir::FrontMember)| {
                format!(
                    "{} (`{}`, {}) measures {} at 1 day for {:.digits$} {unit}",
                    x.0.name,
                    cell(&x.1.genome.network_summary()),
                    hardware_of(&x.1.genome),
                    acc_text(x.0),
                    cost_of(x.1)
                )
            };
            let diff = paired_against(best_acc.0, cheap.0);
            let d = &diff.diff;
            let sig = match d.half_width {
                Some(_) => format!(
                    "{:+.2} points [{:+.2}, {:+.2}] more (paired over the training seeds), {}",
                    d.mean,
                    d.low(),
                    d.high(),
                    if diff.significant {
                        "outside the noise"
                    } else {
                        "within the noise"
                    }
                ),
                None => format!(
                    "{:+.2} points more (too few training seeds for an interval)",
                    d.mean
                ),
            };
            let _ = writeln!(
                s,
                "\nTrade-off, as validated: the cheapest validated network {}; the most accurate, {}: {sig}, for {:.1}x the {}.",
                text(cheap),
                text(best_acc),
                cost_of(best_acc.1) / cost_of(cheap.1).max(f64::MIN_POSITIVE),
                if energy { "energy" } else { "tiles" }
            );
        }
        _ => {
            let _ = writeln!(
                s,
                "\nFewer than two front networks were validated, so the trade-off above rests on the search's scores alone."
            );
        }
    }
    s
}

/// What changing one hardware gene does to the same network: every pair of evaluated genomes
/// (history.csv) that differ in that gene only, as the mean difference with its 95 %
/// t-interval over the pairs (accuracy, AVM) and the mean energy ratio on the run's profile
/// (when it can be read). One sentence per gene that takes two values or more.
fn gene_effects(f: &RunFiles) -> String {
    use crate::space::{Genome, HwGenes};
    let profile = crate::hw::HwProfile::load(crate::files::shipped_path(&f.info.profile)).ok();
    let scored: Vec<(&Genome, &crate::search::Scores)> = f
        .trials
        .iter()
        .filter_map(|t| Some((&t.genome, t.outcome.scores()?)))
        .filter(|(g, s)| g.hardware.is_some() && s.is_finite())
        .collect();
    type Get = fn(&HwGenes) -> Option<String>;
    type Clear = fn(&mut HwGenes);
    let genes: [(&str, Get, Clear); 4] = [
        ("tile", |h| h.tile.map(|t| t.to_string()), |h| h.tile = None),
        (
            "adc_bits",
            |h| h.adc_bits.map(|b| b.to_string()),
            |h| h.adc_bits = None,
        ),
        (
            "dac_bits",
            |h| h.dac_bits.map(|b| b.to_string()),
            |h| h.dac_bits = None,
        ),
        (
            "depthwise",
            |h| h.depthwise.map(|d| d.to_string()),
            |h| h.depthwise = None,
        ),
    ];
    let energy = |g: &Genome| {
        profile.as_ref().map(|p| {
            let c = crate::hw::cost(&crate::nn::Arch::for_task(g.clone(), f.info.task), p);
            (c.energy_nj, c.area_mm2)
        })
    };
    let mut out = String::new();
    for (name, get, clear) in genes {
        let mut values: Vec<String> = scored
            .iter()
            .filter_map(|(g, _)| get(g.hardware.as_ref()?))
            .collect();
        values.sort_by_key(|v| (v.len(), v.clone()));
        values.dedup();
        if values.len() < 2 {
            continue;
        }
        // The genome with this gene cleared: what must match for a pair.
        let rest = |g: &Genome| {
            let mut g = g.clone();
            if let Some(h) = g.hardware.as_mut() {
                clear(h);
            }
            g
        };
        for w in values.windows(2) {
            let (lo, hi) = (&w[0], &w[1]);
            let (mut acc, mut avm, mut ratio, mut area) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for (a, sa) in &scored {
                if get(a.hardware.as_ref().expect("filtered")).as_ref() != Some(lo) {
                    continue;
                }
                let key = rest(a);
                for (b, sb) in &scored {
                    if get(b.hardware.as_ref().expect("filtered")).as_ref() == Some(hi)
                        && rest(b) == key
                    {
                        acc.push(sb.acc_1d - sa.acc_1d);
                        avm.push(sb.avm - sa.avm);
                        if let (Some(ea), Some(eb)) = (energy(a), energy(b)) {
                            ratio.push(eb.0 / ea.0.max(f64::MIN_POSITIVE));
                            area.push(eb.1 / ea.1.max(f64::MIN_POSITIVE));
                        }
                    }
                }
            }
            if acc.is_empty() {
                continue;
            }
            let ci = |v: &[f64]| {
                let i = crate::stats::ci95(v);
                match i.half_width {
                    Some(_) => format!("{:+.2} [{:+.2}, {:+.2}]", i.mean, i.low(), i.high()),
                    None => format!("{:+.2}", i.mean),
                }
            };
            let e = if ratio.is_empty() {
                String::new()
            } else {
                let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
                format!(
                    ", energy x{:.2} and tile area x{:.2} on average",
                    mean(&ratio),
                    mean(&area)
                )
            };
            let _ = writeln!(
                out,
                "\n- `{name}` {lo} -> {hi} on the same network and otherwise the same chip ({} pair(s) the search measured, one training seed each): accuracy at 1 day {} points, AVM {} points (mean difference, 95 % t-interval over the pairs){e}.",
                acc.len(),
                ci(&acc),
                ci(&avm)
            );
        }
    }
    if out.is_empty() {
        return out;
    }
    format!(
        "\nThe hardware genes one at a time, from every evaluated network (history.csv) that was also evaluated with only that gene changed:\n{out}"
    )
}

/// The sentence that states the hypervolume reference point and normalisation.
pub fn reference_sentence(info: &RunInfo) -> String {
    let r = info.settings.reference;
    let o = info.settings.objectives;
    if o.needs_cost() || !o.tiles {
        let coords: Vec<String> = o
            .names()
            .iter()
            .zip(r.vector(o))
            .map(|(n, x)| match *n {
                "acc_1d" => format!("{} % accuracy at 1 day", -x),
                "tiles" => format!("{x} tiles"),
                "avm" => format!("{x} points AVM"),
                "energy" => format!("{x:.0} nJ"),
                "latency" => format!("{x:.1} us"),
                _ => format!("{x:.2} mm2"),
            })
            .collect();
        return format!(
            "Reference point: {}; normalised by the box up to (100 %, 0 for the rest).",
            coords.join(", ")
        );
    }
    if info.settings.objectives.avm {
        format!(
            "Reference point: {} % accuracy at 1 day, {} tiles, {} points AVM; normalised by the box up to (100 %, 0 tiles, 0 points).",
            r.acc_1d, r.tiles, r.avm
        )
    } else {
        format!(
            "Reference point: {} % accuracy at 1 day, {} tiles; normalised by the box up to (100 %, 0 tiles).",
            r.acc_1d, r.tiles
        )
    }
}

/// Mean AVM over the seeds of `e` (its one measurement for an old file).
fn mean_avm(e: &ValidationEntry) -> f64 {
    match (&e.summary, &e.measured) {
        (Some(s), _) => s.avm.mean,
        (None, Some(m)) => m.avm,
        _ => f64::NAN,
    }
}

/// The test behind the verdict, as the report states it.
pub const PAIRED_TEST: &str = "two-sided paired t-test over the training seeds, seed k of each network paired with seed k of resnet8, alpha 0.05";

/// `mean % [low, high]` at 1 day over the seeds of `e` (or its one measurement).
fn acc_text(e: &ValidationEntry) -> String {
    match &e.summary {
        Some(s) if s.acc_1d.n >= 2 => format!("{} %", s.acc_1d.format(2)),
        _ => format!("{:.2} %", e.mean_acc_1d().unwrap_or(f64::NAN)),
    }
}

/// The paired t-test of `e`'s accuracy at 1 day against `base`'s over their common seed
/// indices.
pub fn paired_against(e: &ValidationEntry, base: &ValidationEntry) -> crate::stats::PairedTest {
    let b = base.seed_acc_1d();
    let (x, y): (Vec<f64>, Vec<f64>) = e
        .seed_acc_1d()
        .into_iter()
        .filter_map(|(k, a)| b.iter().find(|(j, _)| *j == k).map(|(_, v)| (a, *v)))
        .unzip();
    crate::stats::paired_t_test(&x, &y)
}

/// Whether a validated front network beats ResNet-8 at 1 day with fewer tiles, in one
/// paragraph: "yes" only when the difference is significant ([`PAIRED_TEST`]), "within noise"
/// with the interval of the difference when the mean is higher but not significantly; when
/// none is higher, it says why.
pub fn verdict(f: &RunFiles) -> String {
    let skipped = match &f.validation {
        None => Some("validation.json is missing".to_string()),
        Some(v) => v.skipped.clone(),
    };
    let r8_pred = f
        .pareto
        .references
        .iter()
        .find(|r| r.name == "resnet8")
        .and_then(|r| r.predicted.clone());
    if let Some(why) = skipped {
        let mut s = format!(
            "Validation was skipped ({why}), so no network was measured and no measured comparison with resnet8 can be made."
        );
        if let Some(p) = r8_pred {
            let n = f
                .pareto
                .front
                .iter()
                .filter(|m| m.scores.acc_1d > p.acc_1d && m.scores.tiles < p.tiles)
                .count();
            let _ = write!(
                s,
                " By prediction alone, {n} of the {} front members are more accurate at 1 day than resnet8 ({:.2} % predicted on {} tiles) with fewer tiles.",
                f.pareto.front.len(),
                p.acc_1d,
                p.tiles
            );
        }
        return s;
    }
    let entries = &f.validation.as_ref().expect("not skipped").entries;
    let Some(r8) = entries.iter().find(|e| e.name == "resnet8") else {
        return "resnet8 is not among the validated networks, so the comparison cannot be made."
            .into();
    };
    let Some(r8_acc) = r8.mean_acc_1d().filter(|_| r8.measured.is_some()) else {
        return format!(
            "resnet8 could not be measured ({}), so the comparison cannot be made.",
            r8.error.as_deref().unwrap_or("no measurement")
        );
    };
    let front: Vec<&ValidationEntry> = entries
        .iter()
        .filter(|e| e.role == ValidationRole::Front)
        .collect();
    let measured: Vec<(&ValidationEntry, f64)> = front
        .iter()
        .filter_map(|e| e.mean_acc_1d().map(|m| (*e, m)))
        .collect();
    let failed = front.len() - measured.len();
    let base = format!("resnet8 ({} on {} tiles)", acc_text(r8), r8.tiles);
    // Paired t-tests over the training seeds of every smaller front network against resnet8.
    let tests: Vec<(&ValidationEntry, f64, crate::stats::PairedTest)> = measured
        .iter()
        .filter(|(e, _)| e.tiles < r8.tiles)
        .map(|&(e, acc)| (e, acc, paired_against(e, r8)))
        .collect();
    let mut winners: Vec<&(&ValidationEntry, f64, crate::stats::PairedTest)> = tests
        .iter()
        .filter(|(_, _, t)| t.significant && t.diff.mean > 0.0)
        .collect();
    winners.sort_by(|a, b| b.1.total_cmp(&a.1));
    if let Some((best, _, t)) = winners.first() {
        return format!(
            "**Yes:** {} of the {} validated front networks are measured as significantly more accurate at 1 day than {base} with fewer tiles ({PAIRED_TEST}). The most accurate of them, {} (`{}`), reaches {} on {} tiles ({} fewer than resnet8): {:+.2} points, 95 % CI of the difference [{:+.2}, {:+.2}], t = {:.2} over {} seeds.",
            winners.len(),
            front.len(),
            best.name,
            best.genes,
            acc_text(best),
            best.tiles,
            r8.tiles - best.tiles,
            t.diff.mean,
            t.diff.low(),
            t.diff.high(),
            t.t,
            t.diff.n
        );
    }
    // Above resnet8 on the mean, with fewer tiles, but not significantly.
    let mut noisy: Vec<&(&ValidationEntry, f64, crate::stats::PairedTest)> =
        tests.iter().filter(|(_, acc, _)| *acc > r8_acc).collect();
    noisy.sort_by(|a, b| b.1.total_cmp(&a.1));
    if let Some((best, _, t)) = noisy.first() {
        let why = if t.diff.half_width.is_some() {
            format!(
                "{:+.2} points, 95 % CI of the difference [{:+.2}, {:+.2}] includes zero ({PAIRED_TEST}, {} seeds)",
                t.diff.mean,
                t.diff.low(),
                t.diff.high(),
                t.diff.n
            )
        } else {
            format!(
                "{:+.2} points from one training seed, so no test is possible (run with --validate-seeds 2 or more)",
                t.diff.mean
            )
        };
        let mut s = format!(
            "**Within noise:** {} of the {} validated front networks have fewer tiles than {base} and a higher mean accuracy at 1 day, but none significantly. The best of them, {} (`{}`, {} on {} tiles): {why}.",
            noisy.len(),
            front.len(),
            best.name,
            best.genes,
            acc_text(best),
            best.tiles
        );
        if failed > 0 {
            let _ = write!(s, " {failed} front measurement(s) failed.");
        }
        return s;
    }
    let mut s = format!(
        "**No:** none of the {} validated front networks is measured as more accurate at 1 day than {base} with fewer tiles.",
        front.len()
    );
    let smaller: Vec<&(&ValidationEntry, f64)> = measured
        .iter()
        .filter(|(e, _)| e.tiles < r8.tiles)
        .collect();
    if measured.is_empty() {
        let _ = write!(
            s,
            " Every measurement of a front network failed (see validation.json)."
        );
    } else if smaller.is_empty() {
        let min = measured.iter().map(|(e, _)| e.tiles).min().unwrap_or(0);
        let _ = write!(
            s,
            " Why: no validated front member has fewer tiles than resnet8 (the smallest occupies {min}), so the front found here trades tiles for accuracy above resnet8's footprint."
        );
    } else {
        let (e, acc) = smaller
            .iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .expect("non-empty");
        let pred = e.predicted.as_ref().map(|p| p.acc_1d);
        let _ = write!(
            s,
            " Why: the best of those with fewer tiles, {} ({} tiles), is measured at {}, {:.2} points below resnet8",
            e.name,
            e.tiles,
            acc_text(e),
            r8_acc - acc
        );
        // A gap whose interval holds zero is no evidence that it is worse either.
        let tie = tests
            .iter()
            .find(|(t, _, _)| t.name == e.name)
            .map(|(_, _, t)| t)
            .filter(|t| t.diff.half_width.is_some() && t.diff.low() <= 0.0 && t.diff.high() >= 0.0);
        if let Some(t) = tie {
            let _ = write!(
                s,
                ", but the 95 % CI of the difference [{:+.2}, {:+.2}] includes zero ({PAIRED_TEST}, {} seeds): within noise it is as accurate as resnet8 on {} fewer tiles, not shown better.",
                t.diff.low(),
                t.diff.high(),
                t.diff.n,
                r8.tiles - e.tiles
            );
            if failed > 0 {
                let _ = write!(s, " {failed} front measurement(s) failed.");
            }
            return s;
        }
        match pred {
            Some(p) if p > r8_acc => {
                let _ = write!(
                    s,
                    "; it was predicted at {p:.2} %, so the scorer over-predicted it by {:.2} points.",
                    p - acc
                );
            }
            Some(p) => {
                let _ = write!(
                    s,
                    "; it was predicted at {p:.2} % already, so on this task and profile the scorer sees no network smaller than resnet8 that matches its accuracy."
                );
            }
            None => s.push('.'),
        }
    }
    if failed > 0 {
        let _ = write!(s, " {failed} front measurement(s) failed.");
    }
    s
}

/// The whole `report.md`.
pub fn render(f: &RunFiles) -> String {
    let i = &f.info;
    let st = &i.settings;
    let mut s = String::new();
    let _ = writeln!(s, "# Search report: {} on {}\n", i.task, i.profile_name);
    let _ = writeln!(s, "| input | value |\n|---|---|");
    let rows = [
        (
            "task",
            match &i.data {
                Some(d) => format!("{} (data: `{d}`)", i.task),
                None => i.task.to_string(),
            },
        ),
        ("search space", format!("{} (`{}`)", i.space_name, i.space)),
        (
            "hardware profile",
            format!("{} (`{}`)", i.profile_name, i.profile),
        ),
        (
            "scorer",
            format!("{} (`--surrogate {}`)", i.scorer, i.surrogate),
        ),
        ("algorithm", st.algorithm.name().to_string()),
        (
            "objectives",
            std::iter::once("maximise accuracy at 1 day".to_string())
                .chain(st.objectives.names()[1..].iter().map(|n| {
                    let what = match *n {
                        "avm" => "AVM",
                        "energy" => "energy per inference",
                        "latency" => "latency per inference (sequential)",
                        other => other,
                    };
                    format!("minimise {what}")
                }))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        ("budgets", st.budgets.describe()),
        (
            "population x generations",
            format!("{} x {}", st.population, st.generations),
        ),
        ("seed", st.seed.to_string()),
        ("networks evaluated", f.trials.len().to_string()),
        ("analognas version", i.analognas_version.clone()),
        (
            "started / finished (UTC)",
            format!(
                "{} / {}",
                i.started,
                i.finished.as_deref().unwrap_or("not finished")
            ),
        ),
    ];
    for (k, v) in rows {
        let _ = writeln!(s, "| {k} | {} |", cell(&v));
    }

    let _ = writeln!(
        s,
        "\n## Pareto front\n\n![Pareto front: accuracy at 1 day vs tiles](pareto.png)\n"
    );
    let last = f.pareto.hypervolume.last();
    let _ = writeln!(
        s,
        "Every evaluated network is a dot coloured by its predicted AVM; the {} networks of the front (feasible, not dominated by any other evaluated network) are circled and joined. Vector version: [pareto.svg](pareto.svg). Final hypervolume: {} ({} of the reference box). {}\n",
        f.pareto.front.len(),
        last.map_or("–".into(), |h| format!("{:.1}", h.hypervolume)),
        last.map_or("–".into(), |h| format!("{:.4}", h.hypervolume_normalised)),
        reference_sentence(i)
    );
    let validated = |id: &str| {
        f.validation.as_ref().and_then(|v| {
            v.entries
                .iter()
                .find(|e| e.id == id && e.role == ValidationRole::Front)
        })
    };
    // A co-search front gets a hardware column (the chip each network was found for).
    let cosearch = f.pareto.front.iter().any(|m| m.genome.hardware.is_some());
    if i.surrogate == crate::pipeline::MEASURED {
        let _ = writeln!(
            s,
            "The scorer measured every network it saw (`--surrogate measured`: hardware-aware training with the validation budget, one training seed, programmed on the chip its hardware genes describe), so the \"predicted\" columns are those single-seed measurements; validation below repeats them with more training seeds.\n"
        );
    }
    let _ = writeln!(
        s,
        "| # | id | genes |{} tiles | params | predicted acc 1 d (%) | predicted AVM (pts) | predicted std (pts) | measured acc 1 d (%) | measured AVM (pts) |\n|---|---|---|{}---|---|---|---|---|---|---|",
        if cosearch { " hardware |" } else { "" },
        if cosearch { "---|" } else { "" }
    );
    for (k, m) in f.pareto.front.iter().enumerate() {
        let v = validated(&m.id).filter(|e| e.measured.is_some());
        let genes = if cosearch {
            format!(
                "{}` | `{}",
                cell(&m.genome.network_summary()),
                cell(&hardware_of(&m.genome))
            )
        } else {
            cell(&m.genes)
        };
        let _ = writeln!(
            s,
            "| {} | `{}` | `{}` | {} | {} | {:.2} | {:.2} | {:.2} | {} | {} |",
            k + 1,
            m.id,
            genes,
            m.scores.tiles,
            m.scores.params,
            m.scores.acc_1d,
            m.scores.avm,
            m.scores.acc_1d_std,
            opt(v.and_then(ValidationEntry::mean_acc_1d), 2),
            opt(v.map(mean_avm), 2),
        );
    }

    if f.pareto.front.iter().any(|m| m.scores.cost.is_some()) {
        let _ = writeln!(
            s,
            "\nHardware cost of the front (the profile's cost model; README \"Energy, latency and area\"):\n\n| # | id | energy (nJ) | inferences/s/W | latency, sequential (us) | latency, pipelined (us) | area (mm2) |\n|---|---|---|---|---|---|---|"
        );
        for (k, m) in f.pareto.front.iter().enumerate() {
            if let Some(c) = &m.scores.cost {
                let _ = writeln!(
                    s,
                    "| {} | `{}` | {:.1} | {:.0} | {:.2} | {:.2} | {:.2} |",
                    k + 1,
                    m.id,
                    c.energy_nj,
                    1e9 / c.energy_nj.max(f64::MIN_POSITIVE),
                    c.latency_us,
                    c.pipelined_us,
                    c.area_mm2
                );
            }
        }
    }

    if cosearch {
        let _ = writeln!(s, "\n## Hardware co-search\n\n{}", cosearch_text(f));
    }

    let _ = writeln!(s, "\n## Reference networks\n");
    let _ = writeln!(
        s,
        "| network | genes | tiles | params | predicted acc 1 d (%) | measured acc 1 d (%) |\n|---|---|---|---|---|---|"
    );
    for r in &f.pareto.references {
        let meas = f.validation.as_ref().and_then(|v| {
            v.entries
                .iter()
                .find(|e| e.name == r.name && e.measured.is_some())
        });
        let (tiles, params) = r.predicted.as_ref().map_or(("–".into(), "–".into()), |p| {
            (p.tiles.to_string(), p.params.to_string())
        });
        let _ = writeln!(
            s,
            "| {} | `{}` | {tiles} | {params} | {} | {} |",
            r.name,
            cell(&r.genome.summary()),
            opt(r.predicted.as_ref().map(|p| p.acc_1d), 2),
            opt(meas.and_then(ValidationEntry::mean_acc_1d), 2)
        );
    }

    let _ = writeln!(s, "\n## Validation\n\n{}\n", verdict(f));
    let _ = writeln!(
        s,
        "![Measured accuracy vs time after programming](drift.png)\n"
    );
    if let Some(v) = f.validation.as_ref().filter(|v| v.skipped.is_none()) {
        let seeds = v.seeds.max(1);
        let _ = writeln!(
            s,
            "Networks chosen for validation: the front members that together cover the most hypervolume (greedy), plus the reference networks. Each was measured by the run's validator (the measured path: training, programming onto the profile, evaluation at each drift time) with {seeds} training seed(s), each trained model programmed several times; the seeds and every per-seed measurement are in validation.json. Measured figures are means over the training seeds (each seed's value is the mean over its programmings) with the 95 % confidence interval in brackets: a Student t-interval over the seeds, n - 1 degrees of freedom{}. The verdict above uses a {PAIRED_TEST}.\n",
            if seeds < 2 {
                " (none with one seed)"
            } else {
                ""
            }
        );
        let _ = writeln!(
            s,
            "| network | genes | tiles | predicted acc 1 d (%) | measured acc 1 d (%) | measured − predicted | predicted AVM | measured AVM (pts) | digital acc (%) | note |\n|---|---|---|---|---|---|---|---|---|---|"
        );
        for e in &v.entries {
            let p = e.predicted.as_ref();
            let ok = e.measured.is_some();
            let diff = match (p, e.mean_acc_1d().filter(|_| ok)) {
                (Some(p), Some(m)) => format!("{:+.2}", m - p.acc_1d),
                _ => "–".into(),
            };
            let stat = |f: &dyn Fn(&SeedSummary) -> &SeedInterval,
                        g: &dyn Fn(&Measurement) -> f64| {
                match (&e.summary, &e.measured) {
                    (Some(sm), Some(_)) => f(sm).format(2),
                    (None, Some(m)) => format!("{:.2}", g(m)),
                    _ => "–".into(),
                }
            };
            let _ = writeln!(
                s,
                "| {} | `{}` | {} | {} | {} | {diff} | {} | {} | {} | {} |",
                e.name,
                cell(&e.genes),
                e.tiles,
                opt(p.map(|p| p.acc_1d), 2),
                stat(&|x| &x.acc_1d, &|m| m.acc_1d),
                opt(p.map(|p| p.avm), 2),
                stat(&|x| &x.avm, &|m| m.avm),
                stat(&|x| &x.acc_fp, &|m| m.acc_fp),
                cell(e.error.as_deref().unwrap_or(""))
            );
        }
        let times: Vec<f64> = crate::measure::DRIFT_TIMES.iter().map(|t| t.1).collect();
        let _ = writeln!(
            s,
            "\nMeasured accuracy (%) at every time after programming, mean over seeds [95 % CI]:\n\n| network | {} |\n|---|{}",
            crate::measure::DRIFT_TIMES
                .iter()
                .map(|t| t.0)
                .collect::<Vec<_>>()
                .join(" | "),
            "---|".repeat(times.len())
        );
        for e in v.entries.iter().filter(|e| e.measured.is_some()) {
            let cells: Vec<String> = times
                .iter()
                .map(|t| {
                    let from_summary = e.summary.as_ref().and_then(|sm| {
                        sm.drift
                            .iter()
                            .find(|p| (p.t_seconds - t).abs() < 1e-9)
                            .map(|p| p.acc.format(2))
                    });
                    from_summary
                        .or_else(|| {
                            e.measured.as_ref().and_then(|m| {
                                m.drift
                                    .iter()
                                    .find(|p| (p.t_seconds - t).abs() < 1e-9)
                                    .map(|p| format!("{:.2}", p.mean))
                            })
                        })
                        .unwrap_or_else(|| "–".into())
                })
                .collect();
            let _ = writeln!(s, "| {} | {} |", e.name, cells.join(" | "));
        }
    }

    let _ = writeln!(
        s,
        "\n## Hypervolume\n\n![Hypervolume per generation](hypervolume.png)\n\n{}\n",
        reference_sentence(i)
    );
    let _ = writeln!(
        s,
        "## Files\n\n`run.json` (inputs), `history.csv` (every evaluated network), `pareto.json` / `pareto.csv` (the front, hypervolume per generation), `checkpoint.json` (resume with `analognas search --resume DIR`), `validation.json`, and the plots. Redraw with `analognas report --run DIR`."
    );
    s
}
