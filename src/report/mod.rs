//! Reports of a search run: the plots and `report.md`, made only from the files of the run
//! directory (`run.json`, `history.csv`, `pareto.json`, `validation.json`), so
//! `analognas report --run DIR` can redraw them at any time.

pub mod active;
pub mod markdown;
pub mod plots;

use crate::error::Result;
pub use crate::rundir::RunFiles;
use crate::search::Outcome;
use std::path::{Path, PathBuf};

/// The files [`write_report`] writes, relative to the run directory.
pub const REPORT_FILES: [&str; 5] = [
    "pareto.png",
    "pareto.svg",
    "drift.png",
    "hypervolume.png",
    "report.md",
];

/// Draws the plots and writes `report.md` in `dir`; returns the paths written.
pub fn write_report(dir: &Path) -> Result<Vec<PathBuf>> {
    let files = RunFiles::load(dir)?;
    let path = |name: &str| dir.join(name);
    plots::pareto(
        &path("pareto.png"),
        &path("pareto.svg"),
        &pareto_data(&files),
    )?;
    plots::drift(&path("drift.png"), &drift_data(&files))?;
    plots::hypervolume(&path("hypervolume.png"), &hv_data(&files))?;
    let mut md = markdown::render(&files);
    let mut written: Vec<PathBuf> = REPORT_FILES.iter().map(|f| path(f)).collect();
    if let Some(a) = crate::rundir::ActiveFile::load_if_present(dir)? {
        md.push_str(&active::section(dir, &a)?);
        written.extend(active::ACTIVE_FILES.iter().map(|f| path(f)));
    }
    crate::error::write_atomic(path("report.md"), md.as_bytes())?;
    Ok(written)
}

fn pareto_data(f: &RunFiles) -> plots::ParetoData {
    let budgets = f.info.settings.budgets;
    let mut d = plots::ParetoData {
        title: format!(
            "{} on {}: accuracy at 1 day vs tiles ({}, {} networks evaluated)",
            f.info.task,
            f.info.profile_name,
            f.info.settings.algorithm.name(),
            f.trials.len()
        ),
        tile_budget: budgets.max_tiles.map(|t| t as f64),
        ..Default::default()
    };
    for t in &f.trials {
        if let Outcome::Scored(s) = &t.outcome {
            let p = plots::Point {
                tiles: s.tiles as f64,
                acc: s.acc_1d,
                avm: s.avm,
            };
            if budgets.violation(s) == 0.0 {
                d.evaluated.push(p);
            } else {
                d.infeasible.push(p);
            }
        }
    }
    d.front = f
        .pareto
        .front
        .iter()
        .map(|m| plots::Point {
            tiles: m.scores.tiles as f64,
            acc: m.scores.acc_1d,
            avm: m.scores.avm,
        })
        .collect();
    d.references = f
        .pareto
        .references
        .iter()
        .filter_map(|r| {
            r.predicted.as_ref().map(|s| plots::Marked {
                label: r.name.clone(),
                tiles: s.tiles as f64,
                acc: s.acc_1d,
            })
        })
        .collect();
    if let Some(v) = &f.validation {
        d.measured = v
            .entries
            .iter()
            .filter_map(|e| {
                e.measured.as_ref().map(|m| plots::Marked {
                    // References are named by their predicted marker beside it.
                    label: match e.role {
                        crate::rundir::ValidationRole::Front => e.name.clone(),
                        crate::rundir::ValidationRole::Reference => String::new(),
                    },
                    tiles: e.tiles as f64,
                    acc: m.acc_1d,
                })
            })
            .collect();
    }
    d
}

fn drift_data(f: &RunFiles) -> plots::DriftData {
    let mut d = plots::DriftData {
        title: format!(
            "Measured accuracy after programming: {} on {}",
            f.info.task, f.info.profile_name
        ),
        ..Default::default()
    };
    match &f.validation {
        None => d.note = "validation has not run (no validation.json)".into(),
        Some(v) if v.skipped.is_some() => {
            d.note = format!(
                "validation skipped: {}",
                v.skipped.as_deref().unwrap_or_default()
            )
        }
        Some(v) => {
            d.curves = v
                .entries
                .iter()
                .filter_map(|e| {
                    let m = e.measured.as_ref()?;
                    let role = match e.role {
                        crate::rundir::ValidationRole::Front => "",
                        crate::rundir::ValidationRole::Reference => ", reference",
                    };
                    let seeds: Vec<&crate::measure::Measurement> = if e.seeds.is_empty() {
                        vec![m]
                    } else {
                        e.seeds.iter().map(|s| &s.measured).collect()
                    };
                    let n = seeds.len() as f64;
                    let points = m
                        .drift
                        .iter()
                        .enumerate()
                        .map(|(i, p)| {
                            let at = |f: &dyn Fn(&crate::measure::DriftPoint) -> f64| {
                                seeds
                                    .iter()
                                    .filter_map(|s| s.drift.get(i))
                                    .map(f)
                                    .sum::<f64>()
                                    / n
                            };
                            (p.t_seconds, at(&|d| d.mean), at(&|d| d.std))
                        })
                        .collect();
                    let band = e
                        .summary
                        .iter()
                        .flat_map(|s| &s.drift)
                        .filter_map(|p| Some((p.t_seconds, p.acc.ci_low?, p.acc.ci_high?)))
                        .collect();
                    Some(plots::Curve {
                        label: format!("{}: {} tiles{role}", e.name, e.tiles),
                        points,
                        band,
                        reference: e.role == crate::rundir::ValidationRole::Reference,
                    })
                })
                .collect();
            if d.curves.is_empty() {
                d.note = "every validation measurement failed (see validation.json)".into();
            }
        }
    }
    d
}

fn hv_data(f: &RunFiles) -> plots::HvData {
    plots::HvData {
        title: format!(
            "Hypervolume of the front per generation ({})",
            f.info.settings.objectives
        ),
        hv: f
            .pareto
            .hypervolume
            .iter()
            .map(|s| (s.generation, s.hypervolume_normalised))
            .collect(),
        note: markdown::reference_sentence(&f.info),
    }
}
