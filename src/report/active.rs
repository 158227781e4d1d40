//! The active-learning part of a run's report (runs with `active.json`): the hypervolume of
//! the measured front against the measurements spent, the surrogate's prediction against the
//! measurement for every proposal (before it was measured: an out-of-sample check of the
//! ensemble's intervals), and the rows per fidelity.

use super::plots::{Series, XyData, xy};
use crate::error::Result;
use crate::rundir::{ActiveFile, ProposalKind, measured_csv};
use std::path::Path;

/// The plots the active-learning section draws, relative to the run directory.
pub const ACTIVE_FILES: [&str; 2] = ["active_hv.png", "active_predicted.png"];

/// Draws the plots and returns the report section (Markdown).
pub fn section(dir: &Path, f: &ActiveFile) -> Result<String> {
    let s = &f.settings;
    let done: Vec<_> = f.rounds.iter().filter(|r| r.done).collect();
    let curve = |get: &dyn Fn(&crate::rundir::ActiveRound) -> Option<f64>| -> Vec<(f64, f64)> {
        done.iter()
            .filter_map(|r| get(r).map(|v| (r.evaluations as f64, v)))
            .collect()
    };
    let top = *s.fidelities.last().unwrap_or(&0);
    xy(
        &dir.join(ACTIVE_FILES[0]),
        &XyData {
            title: "Active learning: hypervolume of the measured front".into(),
            note: "normalised by the reference box; after each round".into(),
            x_desc: "measurements spent (all fidelities)".into(),
            y_desc: "hypervolume / reference box".into(),
            series: vec![
                Series {
                    label: "each network at its highest fidelity".into(),
                    points: curve(&|r| r.hv_measured),
                    ..Series::default()
                },
                Series {
                    label: format!("networks measured at {top} epochs only"),
                    points: curve(&|r| r.hv_top),
                    ..Series::default()
                },
            ],
            diagonal: false,
        },
    )?;
    let mut by_fid: Vec<Series> = Vec::new();
    let (mut n, mut in68, mut in95, mut abs) = (0usize, 0usize, 0usize, 0.0);
    for &e in &s.fidelities {
        let pts: Vec<(f64, f64)> = done
            .iter()
            .flat_map(|r| &r.proposals)
            .filter(|p| p.epochs == e)
            .filter_map(|p| {
                let (pr, m) = (p.predicted?, p.measured?);
                n += 1;
                let d = (m - pr.mean).abs();
                abs += d;
                in68 += usize::from(d <= pr.sd);
                in95 += usize::from(d <= 1.96 * pr.sd);
                Some((m, pr.mean))
            })
            .collect();
        by_fid.push(Series {
            label: format!("{e} epochs"),
            points: pts,
            markers_only: true,
            ..Series::default()
        });
    }
    xy(
        &dir.join(ACTIVE_FILES[1]),
        &XyData {
            title: "Active learning: predicted (before measuring) vs measured 1-day accuracy"
                .into(),
            note: "every proposal after the first round, at the fidelity it was measured at".into(),
            x_desc: "measured accuracy at 1 day, %".into(),
            y_desc: "predicted (ensemble mean), %".into(),
            series: by_fid,
            diagonal: true,
        },
    )?;

    let mut md = String::from("\n## Active learning\n\n");
    md.push_str(&format!(
        "The surrogate was fitted by the loop itself (`--surrogate auto`): {} initial networks \
         plus the references at {} epochs, then rounds of {} networks chosen by optimistic \
         hypervolume improvement (mean + {} sd of a {}-member ensemble) with successive halving \
         over the fidelities {:?} epochs (eta {}). Budget: {} measurements{}. Stopped: {}. \
         Wall time in the loop: {:.0} s.\n\n",
        s.initial,
        s.fidelities.first().unwrap_or(&0),
        s.batch,
        s.kappa,
        s.members,
        s.fidelities,
        s.eta,
        s.budget_evals,
        s.budget_hours
            .map_or(String::new(), |h| format!(" or {h} hours")),
        f.stopped.as_deref().unwrap_or("not yet"),
        f.seconds
    ));
    md.push_str("| fidelity | rows measured |\n|---:|---:|\n");
    for &e in &s.fidelities {
        let p = measured_csv(dir, e);
        let rows = if p.exists() {
            crate::surrogate::Dataset::read(&p)?.rows.len()
        } else {
            0
        };
        md.push_str(&format!(
            "| {e} epochs (`{}`) | {rows} |\n",
            p.file_name()
                .map_or(String::new(), |n| n.to_string_lossy().into_owned())
        ));
    }
    md.push_str(
        "\n| round | initial | acquired | promoted | measurements | HV (highest fidelity each) | HV (top fidelity only) | mean abs. error of the prediction |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in &done {
        let count = |k: ProposalKind| r.proposals.iter().filter(|p| p.kind == k).count();
        let errs: Vec<f64> = r
            .proposals
            .iter()
            .filter_map(|p| Some((p.measured? - p.predicted?.mean).abs()))
            .collect();
        let f4 = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.4}"));
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.round,
            count(ProposalKind::Initial),
            count(ProposalKind::Acquired),
            count(ProposalKind::Promoted),
            r.evaluations,
            f4(r.hv_measured),
            f4(r.hv_top),
            if errs.is_empty() {
                "-".into()
            } else {
                format!("{:.2}", crate::stats::mean(&errs))
            }
        ));
    }
    if n > 0 {
        md.push_str(&format!(
            "\nOut of sample (each prediction made before its network was measured): {n} \
             predictions, mean absolute error {:.2} points, {:.0} % of the measurements inside \
             the predicted 68 % interval and {:.0} % inside the 95 % interval.\n",
            abs / n as f64,
            100.0 * in68 as f64 / n as f64,
            100.0 * in95 as f64 / n as f64
        ));
    }
    md.push_str(&format!(
        "\n![hypervolume vs measurements]({})\n\n![predicted vs measured]({})\n",
        ACTIVE_FILES[0], ACTIVE_FILES[1]
    ));
    Ok(md)
}
