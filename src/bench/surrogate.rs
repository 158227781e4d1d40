//! Benchmark of the surrogate: fit time and predictions per second on a measured data set.

use super::rate;
use crate::error::Result;
use crate::hw::HwProfile;
use crate::nn::Arch;
use crate::surrogate::dataset::Dataset;
use crate::surrogate::features::features;
use crate::surrogate::model::{
    FitParams, ModelKind, SurrogateModel, Target, fit_targets, format_scores,
};
use std::path::Path;
use std::time::Instant;

/// Fits both model kinds on the data set at `csv` (5-fold cross-validation plus final fit, and
/// the final fit alone), then measures predictions per second, one genome at a time and in one
/// batch. Returns the printed report.
pub fn run(csv: &Path) -> Result<String> {
    let data = Dataset::read(csv)?;
    let (_, profile_name) = data.task_and_profile()?;
    let (profile, profile_note) =
        if let Some(shipped) = crate::files::shipped_profile(&profile_name) {
            (HwProfile::load(&shipped)?, shipped.display().to_string())
        } else {
            (
                HwProfile::default(),
                format!("{profile_name} not found; the default 512x512 profile"),
            )
        };
    let archs: Vec<Arch> = data.rows.iter().map(|r| r.arch()).collect();
    let x: Vec<Vec<f64>> = data.rows.iter().map(|r| r.features()).collect();
    let y: Vec<Vec<f64>> = Target::ALL
        .iter()
        .map(|t| data.rows.iter().map(|r| t.of(&r.measurement)).collect())
        .collect();

    let mut out = format!(
        "surrogate benchmark on {} ({} rows, profile {profile_note}, {} threads)\n",
        csv.display(),
        data.rows.len(),
        rayon::current_num_threads()
    );
    let feature_rate = rate(0.3, |i| {
        std::hint::black_box(features(&archs[i % archs.len()], &profile));
    });
    out.push_str(&format!(
        "features: {:.0} genomes/s ({:.2} us each)\n",
        feature_rate,
        1e6 / feature_rate
    ));
    for kind in [ModelKind::Xgboost, ModelKind::Forest] {
        let params = FitParams {
            kind,
            ..FitParams::default()
        };
        let start = Instant::now();
        let model = SurrogateModel::fit(&data, &params)?;
        let fit_seconds = start.elapsed().as_secs_f64();
        let start = Instant::now();
        fit_targets(&params, &x, &y)?;
        let final_fit = start.elapsed().as_secs_f64();
        let single = rate(0.5, |i| {
            std::hint::black_box(model.predict(&archs[i % archs.len()], &profile));
        });
        let start = Instant::now();
        let mut batches = 0;
        while batches == 0 || start.elapsed().as_secs_f64() < 0.5 {
            std::hint::black_box(model.predict_many(&archs, &profile));
            batches += 1;
        }
        let batch = (batches * archs.len()) as f64 / start.elapsed().as_secs_f64();
        out.push_str(&format!(
            "\n{kind}: fit {:.2} s with {}-fold cross-validation, final fit alone {:.2} s; \
             JSON {:.1} kB\n",
            fit_seconds,
            params.folds,
            final_fit,
            model.to_json().len() as f64 / 1e3
        ));
        out.push_str(&format!(
            "  predict one genome: {single:.0} predictions/s ({:.1} us each); \
             batch of {}: {batch:.0} predictions/s\n",
            1e6 / single,
            archs.len()
        ));
        for line in format_scores(&model.cv).lines() {
            out.push_str("  ");
            out.push_str(line);
            out.push('\n');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_has_fit_times_and_rates() {
        let dir = std::env::temp_dir().join(format!("analognas-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let csv = dir.join("d.csv");
        crate::surrogate::dataset::write(&csv, &crate::test_support::fake_rows(30, 2)).unwrap();
        let report = run(&csv).unwrap();
        assert!(report.contains("(30 rows, profile "), "{report}");
        for kind in ["xgboost", "forest"] {
            assert!(report.contains(&format!("\n{kind}: fit ")), "{report}");
        }
        assert_eq!(report.matches("predictions/s (").count(), 2, "{report}");
        assert_eq!(report.matches("\n  acc_1d ").count(), 2, "{report}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
