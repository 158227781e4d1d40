//! The model file: a fitted [`SurrogateModel`] as JSON, with the checks that make a loaded
//! model safe to predict with (format tag, feature list, targets, well-formed trees).

use super::SurrogateError;
use super::features::{FEATURE_NAMES, HW_FEATURE_NAMES, N_FEATURES, feature_names};
use super::model::SurrogateModel;
use super::params::Target;
use crate::error::Result;
use std::path::Path;

/// Format tag of the model JSON.
pub const MODEL_FORMAT: &str = "analognas-surrogate-1";

impl SurrogateModel {
    /// The model as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a surrogate model serializes")
    }

    /// Writes the model as JSON, atomically.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        crate::error::write_atomic(path, self.to_json().as_bytes())
    }

    /// Reads a model written by [`SurrogateModel::save`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = crate::error::read_to_string(path)?;
        Self::parse(&path.display().to_string(), &text)
    }

    /// Parses a model from JSON; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Self> {
        let field = |field: &str, expected: String, got: String| SurrogateError::ModelField {
            file: file.into(),
            field: field.into(),
            expected,
            got,
        };
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| SurrogateError::Json {
                file: file.into(),
                line: e.line(),
                column: e.column(),
                message: crate::error::one_line(&e.to_string()),
            })?;
        let format = value.get("format").and_then(|f| f.as_str()).unwrap_or("");
        if format != MODEL_FORMAT {
            return Err(field(
                "format",
                format!("{MODEL_FORMAT:?}"),
                crate::error::quoted(format),
            )
            .into());
        }
        let model: SurrogateModel =
            serde_json::from_value(value).map_err(|e| SurrogateError::Model {
                file: file.into(),
                message: crate::error::one_line(&e.to_string()),
            })?;
        if model.features != feature_names(false) && model.features != feature_names(true) {
            let expected = format!(
                "{N_FEATURES} features ({}, ..., {}), or those and {} hardware features ({}, ..., {})",
                FEATURE_NAMES[0],
                FEATURE_NAMES[N_FEATURES - 1],
                HW_FEATURE_NAMES.len(),
                HW_FEATURE_NAMES[0],
                HW_FEATURE_NAMES[HW_FEATURE_NAMES.len() - 1]
            );
            return Err(field("features", expected, model.features.len().to_string()).into());
        }
        let targets: Vec<Target> = model.targets.iter().map(|t| t.target).collect();
        if targets != Target::ALL {
            let expected = "acc_1d, avm, acc_1d_std".to_string();
            return Err(field("targets", expected, format!("{targets:?}")).into());
        }
        for t in &model.targets {
            let name = format!("targets.{}", t.target.name());
            if !(t.mean.is_finite() && t.scale.is_finite() && t.scale > 0.0) {
                let expected = "a finite mean and a positive scale".to_string();
                let got = format!("mean {}, scale {}", t.mean, t.scale);
                return Err(field(&name, expected, got).into());
            }
            t.trees
                .check(model.features.len())
                .map_err(|e| field(&format!("{name}.trees"), "well-formed trees".into(), e))?;
        }
        Ok(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hw::HwProfile;
    use crate::nn::Arch;
    use crate::surrogate::SurrogateError;
    use crate::surrogate::params::{FitParams, ModelKind};
    use crate::test_support::synthetic_dataset as synthetic;

    #[test]
    fn fit_is_deterministic_and_json_round_trip_predicts_identically() {
        let data = synthetic(40, 4, 0.5);
        let profile = HwProfile::default();
        let probe = synthetic(10, 5, 0.5);
        for kind in [ModelKind::Xgboost, ModelKind::Forest] {
            let params = FitParams {
                kind,
                folds: 4,
                seed: 7,
            };
            let model = SurrogateModel::fit(&data, &params).unwrap();
            let pool = |n| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n)
                    .build()
                    .unwrap()
            };
            let again = pool(1).install(|| SurrogateModel::fit(&data, &params).unwrap());
            assert_eq!(again.to_json(), model.to_json(), "1 thread");
            let again = pool(3).install(|| SurrogateModel::fit(&data, &params).unwrap());
            assert_eq!(again.to_json(), model.to_json(), "3 threads");
            let back = SurrogateModel::parse("m.json", &model.to_json()).unwrap();
            assert_eq!(back.cv, model.cv);
            let archs: Vec<Arch> = probe.rows.iter().map(|r| r.arch()).collect();
            let many = back.predict_many(&archs, &profile);
            for (a, m) in archs.iter().zip(&many) {
                let p = model.predict(a, &profile);
                assert_eq!(p, back.predict(a, &profile));
                assert_eq!(p, again.predict(a, &profile));
                assert_eq!(&p, m);
                assert!(p.acc_1d.is_finite() && p.avm.is_finite() && p.acc_1d_std.is_finite());
            }
        }
    }

    /// Rows with hardware genes add the five hardware features; rows without keep the 28.
    #[test]
    fn co_search_rows_add_hardware_features() {
        use crate::space::HwGenes;
        let params = FitParams {
            kind: ModelKind::Forest,
            folds: 4,
            seed: 7,
        };
        let plain = SurrogateModel::fit(&synthetic(40, 4, 0.5), &params).unwrap();
        assert_eq!(plain.features, FEATURE_NAMES);
        assert!(!plain.hardware_features());
        let mut data = synthetic(40, 4, 0.5);
        for (i, r) in data.rows.iter_mut().enumerate() {
            r.measurement.genome.hardware = Some(HwGenes {
                adc_bits: Some(if i % 2 == 0 { 6 } else { 8 }),
                ..HwGenes::default()
            });
            r.measurement.id = r.measurement.genome.id();
            // The 6-bit chips measure 5 points lower.
            if i % 2 == 0 {
                r.measurement.acc_1d -= 5.0;
            }
        }
        let model = SurrogateModel::fit(&data, &params).unwrap();
        assert_eq!(model.features.len(), N_FEATURES + HW_FEATURE_NAMES.len());
        assert_eq!(model.features[N_FEATURES + 2], "adc_bits");
        let back = SurrogateModel::parse("m.json", &model.to_json()).unwrap();
        let profile = HwProfile::default();
        let mut six = data.rows[1].arch();
        let eight = six.clone();
        six.genome.hardware.as_mut().unwrap().adc_bits = Some(6);
        assert_eq!(
            back.predict(&eight, &profile),
            model.predict(&eight, &profile)
        );
        assert!(model.predict(&six, &profile).acc_1d < model.predict(&eight, &profile).acc_1d);
        assert_eq!(back.scores(&data), model.scores(&data));
        // A network-only model refuses a co-search space.
        let co = crate::space::SearchSpace::load(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/search_spaces/cosearch_tiny.toml"
        ))
        .unwrap();
        let e = plain.check_space(&co).unwrap_err().to_string();
        assert!(e.contains("[hardware]"), "{e}");
    }

    #[test]
    fn bad_files_are_one_line_errors() {
        let data = synthetic(6, 4, 0.5);
        let e = SurrogateModel::parse("m.json", "{\"format\": 3")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("m.json:1:"), "{e}");
        let e = SurrogateModel::parse("m.json", "{\"format\": \"x\"}")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "m.json: field format: expected \"analognas-surrogate-1\", got \"x\""
        );
        let model = SurrogateModel::fit(
            &data,
            &FitParams {
                folds: 2,
                ..Default::default()
            },
        )
        .unwrap();
        let json = model.to_json().replacen("\"oc0\"", "\"stem\"", 1);
        let e = SurrogateModel::parse("m.json", &json)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("m.json: field features: expected 28 features"),
            "{e}"
        );
    }

    #[test]
    fn a_model_knows_its_task_profile_and_genes() {
        let dir = env!("CARGO_MANIFEST_DIR");
        let model =
            SurrogateModel::load(format!("{dir}/surrogates/digits_pcm_aihwkit.json")).unwrap();
        let space = crate::test_support::tinyml_space();
        let profile = HwProfile::default();
        model
            .check_use(crate::task::Task::Digits, &profile, &space)
            .unwrap();
        let e = model.check_task(crate::task::Task::Mnist).unwrap_err();
        assert_eq!(
            e.to_string(),
            "task: expected digits (what the surrogate model was fitted on), got mnist"
        );
        let hermes = HwProfile::load(format!("{dir}/hw_profiles/pcm_hermes.toml")).unwrap();
        let e = model.check_profile(&hermes).unwrap_err().to_string();
        assert!(e.starts_with("profile: expected pcm_aihwkit"), "{e}");
        let tiny =
            crate::space::SearchSpace::load(format!("{dir}/search_spaces/tiny.toml")).unwrap();
        let e = model.check_space(&tiny).unwrap_err().to_string();
        assert_eq!(
            e,
            "space: expected a space within the genes of resnet_tinyml (what the surrogate \
             model was fitted on), got space tiny with oc0 = 4 (fitted on 8..=64)"
        );
        let e = model
            .check_use(crate::task::Task::Digits, &profile, &tiny)
            .unwrap_err();
        assert!(matches!(e, SurrogateError::Mismatch { .. }));
        let mnist = Arch::for_task(
            crate::nn::Reference::Resnet8.genome(),
            crate::task::Task::Mnist,
        );
        let e = model.check_arch(&mnist).unwrap_err().to_string();
        assert!(
            e.starts_with("arch: expected input [1, 8, 8] and 10 classes"),
            "{e}"
        );
        // Genes outside the fitted ranges flag the prediction.
        let mut g = crate::nn::Reference::Resnet8.genome();
        assert_eq!(model.extrapolation(&g), None);
        g.ks0 = 9;
        assert_eq!(
            model.extrapolation(&g).as_deref(),
            Some("ks0 = 9 (fitted on 3..=7)")
        );
        // A model file without the gene ranges checks the space by name.
        let mut old = SurrogateModel::parse("m.json", &model.to_json()).unwrap();
        old.data.genes = None;
        let back = SurrogateModel::parse("m.json", &old.to_json()).unwrap();
        assert!(!back.to_json().contains("\"genes\""));
        back.check_space(&space).unwrap();
        assert!(back.check_space(&tiny).is_err());
        assert_eq!(back.extrapolation(&g), None);
    }

    #[test]
    fn shipped_model_loads_and_predicts_in_range() {
        let dir = env!("CARGO_MANIFEST_DIR");
        let model =
            SurrogateModel::load(format!("{dir}/surrogates/digits_pcm_aihwkit.json")).unwrap();
        let data =
            crate::surrogate::Dataset::read(format!("{dir}/surrogates/digits_pcm_aihwkit.csv"))
                .unwrap();
        let profile = HwProfile::default();
        for row in data.rows.iter().take(20) {
            let p = model.predict(&row.arch(), &profile);
            let acc = &model.targets[0];
            assert!(p.acc_1d >= acc.min && p.acc_1d <= acc.max);
        }
    }
}
