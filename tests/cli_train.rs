//! `analognas train`, `evaluate` and `surrogate collect` end to end on tiny budgets.

use crate::util::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn train_then_evaluate_writes_model_and_drift_table() {
    let dir = fresh_dir("train");
    let out = dir.join("m");
    let o = run(&[
        "train",
        "--task",
        "digits",
        "--reference",
        "resnet8",
        "--epochs",
        "1",
        "--seed",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics["curve"].as_array().unwrap().len(), 1);
    assert!(metrics["acc_fp"].as_f64().unwrap() > 30.0);
    let o = run(&[
        "evaluate",
        "--task",
        "digits",
        "--model",
        out.to_str().unwrap(),
        "--times",
        "1s,1d,30d",
        "--reps",
        "2",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let points = r["points"].as_array().unwrap();
    assert_eq!(points.len(), 3);
    assert_eq!(points[1]["t_seconds"], 86400.0);
    assert!(r["avm"].is_number());
    let again = run(&[
        "evaluate",
        "--task",
        "digits",
        "--model",
        out.to_str().unwrap(),
        "--times",
        "1s,1d,30d",
        "--reps",
        "2",
        "--json",
    ]);
    assert_eq!(stdout(&again), stdout(&o), "same seed, same drift table");
}

#[test]
fn train_and_evaluate_bad_input() {
    let dir = fresh_dir("train-bad");
    let out = dir.join("m");
    let o = run(&[
        "train",
        "--reference",
        "resnet8",
        "--epochs",
        "0",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_input_error(&o, &["--epochs"]);
    let o = run(&[
        "train",
        "--task",
        "cifar10",
        "--reference",
        "resnet8",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_input_error(&o, &["--data"]);
    let o = run(&[
        "train",
        "--task",
        "mnist",
        "--data",
        "/no/such/mnist",
        "--reference",
        "resnet8",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_input_error(&o, &["/no/such/mnist"]);
    let o = run(&["evaluate", "--model", dir.join("nothing").to_str().unwrap()]);
    assert_input_error(&o, &["arch.json"]);
    let o = run(&[
        "evaluate",
        "--model",
        out.to_str().unwrap(),
        "--times",
        "1d,soon",
    ]);
    assert_input_error(&o, &["--times", "soon"]);
}

fn collect_args(out: &str) -> Vec<String> {
    [
        "surrogate",
        "collect",
        "--space",
        "search_spaces/tiny.toml",
        "-n",
        "8",
        "--seed",
        "3",
        "--epochs",
        "1",
        "--reps",
        "1",
        "--out",
        out,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn data_rows(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .map(|t| t.lines().skip(1).map(String::from).collect())
        .unwrap_or_default()
}

/// The file's rows read with the project's CSV reader, without the wall-clock column, by id.
fn comparable(path: &std::path::Path) -> Vec<analognas::surrogate::Row> {
    let mut rows = analognas::surrogate::Dataset::read(path).unwrap().rows;
    for r in &mut rows {
        r.measurement.train_seconds = 0.0;
    }
    rows.sort_by(|a, b| a.measurement.id.cmp(&b.measurement.id));
    rows
}

#[test]
fn collect_killed_with_sigkill_resumes_without_loss_or_duplicates() {
    let dir = fresh_dir("collect-kill");
    let straight = dir.join("straight.csv");
    let o = run(&collect_args(straight.to_str().unwrap())
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>());
    assert!(o.status.success(), "{}", stderr(&o));
    let reference = data_rows(&straight);
    assert_eq!(reference.len(), 11, "3 references + 8 samples");

    let killed = dir.join("killed.csv");
    let mut child = Command::new(env!("CARGO_BIN_EXE_analognas"))
        .args(collect_args(killed.to_str().unwrap()))
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while data_rows(&killed).len() < 2 && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let partial = data_rows(&killed);
    assert!(
        !partial.is_empty() && partial.len() < reference.len(),
        "killed after {} rows",
        partial.len()
    );
    // The file read back cleanly (no half row) ...
    let o = run(&[
        "surrogate",
        "fit",
        "--data",
        killed.to_str().unwrap(),
        "--folds",
        "2",
        "--out",
        dir.join("m.json").to_str().unwrap(),
    ]);
    assert!(!stderr(&o).contains("truncated"), "{}", stderr(&o));
    // ... and a rerun finishes it without losing or duplicating a row.
    let o = run(&collect_args(killed.to_str().unwrap())
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(&format!("{} already measured", partial.len())),
        "{}",
        stdout(&o)
    );
    let resumed = data_rows(&killed);
    assert_eq!(resumed.len(), reference.len());
    assert_eq!(comparable(&killed), comparable(&straight));
    for row in &partial {
        assert!(
            resumed.contains(row),
            "a finished row was lost or changed: {row}"
        );
    }
}
