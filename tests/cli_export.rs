//! `analognas export` and `analognas infer`: a trained network leaves the tool and comes back
//! identical in a fresh process.

use crate::util::*;

const GENOME: &str = r#"{"oc0":8,"ks0":3,"blocks":[{"r":1,"b":1,"ct":"C","wf":1},{"r":1,"b":2,"ct":"D","wf":2}],"downsample":"last_two"}"#;

fn logits_of(json: &str) -> Vec<f32> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    let arr = if v.get("check_logits").is_some() {
        &v["check_logits"]
    } else {
        &v["logits"]
    };
    arr.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

#[test]
fn exported_network_is_identical_in_a_fresh_process() {
    let dir = fresh_dir("export");
    let g = dir.join("genome.json");
    std::fs::write(&g, GENOME).unwrap();
    let out = dir.join("found");
    let o = run(&[
        "export",
        "--arch",
        g.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--train",
        "--epochs",
        "2",
        "--seed",
        "1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in [
        "arch.json",
        "genome.json",
        "export.json",
        "model.bpk",
        "metrics.json",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let before = logits_of(&std::fs::read_to_string(out.join("export.json")).unwrap());
    assert_eq!(before.len(), 8 * 10);
    // A fresh process imports the directory and runs the same batch.
    let o = run(&[
        "infer",
        "--model",
        out.to_str().unwrap(),
        "--n",
        "8",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(logits_of(&stdout(&o)), before);
    // The library API gives the same numbers.
    let device = analognas::device::default_device();
    let model = analognas::model::TrainedModel::load(&out, &device).unwrap();
    let test = analognas::data::load(analognas::task::Task::Digits, None, 0)
        .unwrap()
        .test;
    let (x, _) = test.gather(&(0..8).collect::<Vec<_>>());
    assert_eq!(model.digital_logits(&x, 8), before);
    // Analog inference on the simulated chip runs too.
    let o = run(&[
        "infer",
        "--model",
        out.to_str().unwrap(),
        "--profile",
        "hw_profiles/pcm_aihwkit.toml",
        "--time",
        "30d",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("accuracy on these 8"));
}

#[test]
fn missing_or_corrupt_records_name_the_file() {
    let dir = fresh_dir("export-bad");
    let g = dir.join("genome.json");
    std::fs::write(&g, GENOME).unwrap();
    let out = dir.join("m");
    let o = run(&[
        "export",
        "--arch",
        g.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--train",
        "--epochs",
        "1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let record = out.join("model.bpk");
    let bytes = std::fs::read(&record).unwrap();
    std::fs::write(&record, &bytes[..bytes.len() / 3]).unwrap();
    let o = run(&["infer", "--model", out.to_str().unwrap()]);
    assert_input_error(&o, &["model.bpk"]);
    std::fs::write(&record, b"not a burnpack file at all").unwrap();
    let o = run(&["infer", "--model", out.to_str().unwrap()]);
    assert_input_error(&o, &["model.bpk"]);
    std::fs::remove_file(&record).unwrap();
    let o = run(&["infer", "--model", out.to_str().unwrap()]);
    assert_input_error(&o, &["model.bpk", "missing"]);
    std::fs::remove_file(out.join("arch.json")).unwrap();
    let o = run(&["infer", "--model", out.to_str().unwrap()]);
    assert_input_error(&o, &["arch.json"]);
}

#[test]
fn export_from_a_search_run() {
    let dir = fresh_dir("export-run");
    let run_dir = dir.join("run");
    let o = run(&[
        "search",
        "--surrogate",
        "synthetic",
        "--population",
        "20",
        "--generations",
        "3",
        "--validate-top",
        "0",
        "--out",
        run_dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = dir.join("first");
    let o = run(&[
        "export",
        "--run",
        run_dir.to_str().unwrap(),
        "--rank",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("export.json")).unwrap()).unwrap();
    assert_eq!(info["weights"], false);
    assert_eq!(info["task"], "digits");
    assert!(info["predicted"]["acc_1d"].is_number());
    let o = run(&[
        "export",
        "--run",
        run_dir.to_str().unwrap(),
        "--rank",
        "999",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_input_error(&o, &["--rank"]);
}
