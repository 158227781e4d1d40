//! `hw noise-stats` and `bench analog` end to end.

use crate::util::*;

fn noise_stats_json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["hw", "noise-stats", "--json"];
    all.extend_from_slice(args);
    let o = run(&all);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).expect("noise-stats prints one JSON object")
}

#[test]
fn noise_stats_json_shape_and_trends() {
    let v = noise_stats_json(&[
        "--profile",
        "hw_profiles/pcm_aihwkit.toml",
        "--rows",
        "256",
        "--cols",
        "128",
        "--seed",
        "1",
    ]);
    let obj = v.as_object().unwrap();
    assert_eq!(obj.len(), 2, "{v}");
    let p = &v["programmed"];
    assert_eq!(p.as_object().unwrap().len(), 2);
    assert!(p["std"].as_f64().unwrap() > 0.0);
    assert!(p["mean"].is_number());
    let times = v["times"].as_array().unwrap();
    let t: Vec<f64> = times
        .iter()
        .map(|x| x["t_seconds"].as_f64().unwrap())
        .collect();
    assert_eq!(t, vec![0.0, 3600.0, 86_400.0, 2_592_000.0, 31_536_000.0]);
    for pair in times.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(
            b["std"].as_f64() > a["std"].as_f64(),
            "std must grow: {a} {b}"
        );
        assert!(
            b["drift_factor"].as_f64() < a["drift_factor"].as_f64(),
            "drift factor must fall: {a} {b}"
        );
        assert!(b["mean"].is_number());
    }
    // The programmed state has only programming noise: its error is below every read's.
    assert!(p["std"].as_f64() < times[0]["std"].as_f64());
    // Same seed, same numbers; another seed, other numbers.
    let again = noise_stats_json(&["--rows", "256", "--cols", "128", "--seed", "1"]);
    assert_eq!(again, v);
    let other = noise_stats_json(&["--rows", "256", "--cols", "128", "--seed", "2"]);
    assert_ne!(other, v);
}

#[test]
fn noise_stats_table() {
    let o = run(&[
        "hw",
        "noise-stats",
        "--profile",
        "hw_profiles/pcm_hermes.toml",
        "--rows",
        "300",
        "--cols",
        "40",
        "--seed",
        "3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("pcm_hermes") && out.contains("on 2 tile(s)"),
        "{out}"
    );
    for label in ["programmed", "0s", "1h", "1d", "30d", "1y"] {
        assert!(
            out.lines().any(|l| l.starts_with(label)),
            "missing row {label}: {out}"
        );
    }
}

#[test]
fn noise_stats_bad_input() {
    let dir = fresh_dir("noise-stats-bad");
    std::fs::write(dir.join("bad.toml"), "[tile]\nrows = 0\n").unwrap();
    let o = run_in(&dir, &["hw", "noise-stats", "--profile", "bad.toml"]);
    assert_input_error(
        &o,
        &["bad.toml", "field tile.rows", "expected an integer >= 1"],
    );
    std::fs::write(dir.join("typo.toml"), "[pcm]\ng_maks = 3.0\n").unwrap();
    let o = run_in(&dir, &["hw", "noise-stats", "--profile", "typo.toml"]);
    assert_input_error(&o, &["typo.toml:2:1", "g_maks"]);
    let o = run_in(&dir, &["hw", "noise-stats", "--profile", "missing.toml"]);
    assert_input_error(&o, &["missing.toml"]);
    let o = run(&["hw", "noise-stats", "--rows", "0"]);
    assert_input_error(&o, &["--rows", "expected an integer >= 1"]);
}

#[test]
fn bench_analog_small_batch() {
    let o = run(&["bench", "analog", "--batch", "2", "--reps", "1", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["batch"], 2);
    for key in [
        "analog_forward_s",
        "digital_forward_s",
        "ratio",
        "analog_read_s",
        "analog_program_s",
    ] {
        assert!(v[key].as_f64().unwrap() > 0.0, "{key}: {v}");
    }
    assert!(v["memory_method"].as_str().unwrap().contains("VmHWM"));
    let o = run(&["bench", "analog", "--reps", "0"]);
    assert_input_error(&o, &["--reps"]);
}
