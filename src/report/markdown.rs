//! `report.md`: the run's inputs, the plots, the front, the reference networks and the
//! validation (predicted beside measured), with a plain verdict against ResNet-8.

use super::RunFiles;
use crate::rundir::{RunInfo, ValidationEntry, ValidationRole};
use std::fmt::Write;

fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or("–".into(), |x| format!("{x:.digits$}"))
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

/// Whether a validated front network beats ResNet-8 at 1 day with fewer tiles, in one
/// paragraph; when none does, it says why.
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
    let Some(r8m) = &r8.measured else {
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
        .filter_map(|e| e.measured.as_ref().map(|m| (*e, m.acc_1d)))
        .collect();
    let failed = front.len() - measured.len();
    let base = format!("resnet8 ({:.2} % on {} tiles)", r8m.acc_1d, r8.tiles);
    let mut winners: Vec<&(&ValidationEntry, f64)> = measured
        .iter()
        .filter(|(e, acc)| *acc > r8m.acc_1d && e.tiles < r8.tiles)
        .collect();
    winners.sort_by(|a, b| b.1.total_cmp(&a.1));
    if let Some((best, acc)) = winners.first() {
        return format!(
            "**Yes:** {} of the {} validated front networks are measured as more accurate at 1 day than {base} with fewer tiles. The most accurate of them, {} (`{}`), reaches {acc:.2} % on {} tiles ({} fewer than resnet8).",
            winners.len(),
            front.len(),
            best.name,
            best.genes,
            best.tiles,
            r8.tiles - best.tiles
        );
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
            " Why: the best of those with fewer tiles, {} ({} tiles), is measured at {acc:.2} %, {:.2} points below resnet8",
            e.name,
            e.tiles,
            r8m.acc_1d - acc
        );
        match pred {
            Some(p) if p > r8m.acc_1d => {
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
    let _ = writeln!(
        s,
        "| # | id | genes | tiles | params | predicted acc 1 d (%) | predicted AVM (pts) | predicted std (pts) | measured acc 1 d (%) | measured AVM (pts) |\n|---|---|---|---|---|---|---|---|---|---|"
    );
    for (k, m) in f.pareto.front.iter().enumerate() {
        let v = validated(&m.id);
        let meas = v.and_then(|e| e.measured.as_ref());
        let _ = writeln!(
            s,
            "| {} | `{}` | `{}` | {} | {} | {:.2} | {:.2} | {:.2} | {} | {} |",
            k + 1,
            m.id,
            cell(&m.genes),
            m.scores.tiles,
            m.scores.params,
            m.scores.acc_1d,
            m.scores.avm,
            m.scores.acc_1d_std,
            opt(meas.map(|x| x.acc_1d), 2),
            opt(meas.map(|x| x.avm), 2),
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

    let _ = writeln!(s, "\n## Reference networks\n");
    let _ = writeln!(
        s,
        "| network | genes | tiles | params | predicted acc 1 d (%) | measured acc 1 d (%) |\n|---|---|---|---|---|---|"
    );
    for r in &f.pareto.references {
        let meas = f.validation.as_ref().and_then(|v| {
            v.entries
                .iter()
                .find(|e| e.name == r.name)
                .and_then(|e| e.measured.as_ref())
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
            opt(meas.map(|m| m.acc_1d), 2)
        );
    }

    let _ = writeln!(s, "\n## Validation\n\n{}\n", verdict(f));
    let _ = writeln!(
        s,
        "![Measured accuracy vs time after programming](drift.png)\n"
    );
    if let Some(v) = f.validation.as_ref().filter(|v| v.skipped.is_none()) {
        let _ = writeln!(
            s,
            "Networks chosen for validation: the front members that together cover the most hypervolume (greedy), plus the reference networks. Each was measured by the run's validator (the measured path: training, programming onto the profile, evaluation at each drift time); its seed is in validation.json.\n"
        );
        let _ = writeln!(
            s,
            "| network | genes | tiles | predicted acc 1 d (%) | measured acc 1 d (%) | measured − predicted | predicted AVM | measured AVM | digital acc (%) | note |\n|---|---|---|---|---|---|---|---|---|---|"
        );
        for e in &v.entries {
            let p = e.predicted.as_ref();
            let m = e.measured.as_ref();
            let diff = match (p, m) {
                (Some(p), Some(m)) => format!("{:+.2}", m.acc_1d - p.acc_1d),
                _ => "–".into(),
            };
            let _ = writeln!(
                s,
                "| {} | `{}` | {} | {} | {} | {diff} | {} | {} | {} | {} |",
                e.name,
                cell(&e.genes),
                e.tiles,
                opt(p.map(|p| p.acc_1d), 2),
                opt(m.map(|m| m.acc_1d), 2),
                opt(p.map(|p| p.avm), 2),
                opt(m.map(|m| m.avm), 2),
                opt(m.map(|m| m.acc_fp), 2),
                cell(e.error.as_deref().unwrap_or(""))
            );
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
