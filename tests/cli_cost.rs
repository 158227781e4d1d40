//! Energy, latency and area (issue 17): `footprint` reports the cost model.

use crate::util::*;

#[test]
fn footprint_json_has_energy_latency_and_area() {
    for profile in [
        "hw_profiles/pcm_hermes.toml",
        "hw_profiles/pcm_aihwkit.toml",
    ] {
        let o = run(&[
            "footprint",
            "--reference",
            "resnet32",
            "--profile",
            profile,
            "--json",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        let e = v["energy_nj"].as_f64().unwrap();
        let seq = v["latency_us"]["sequential"].as_f64().unwrap();
        let pipe = v["latency_us"]["pipelined"].as_f64().unwrap();
        assert!(e > 0.0 && pipe > 0.0 && seq > pipe, "{v}");
        assert!(v["area_mm2"].as_f64().unwrap() > 0.0);
        let layers = v["cost"]["layers"].as_array().unwrap();
        assert!(layers.iter().any(|l| l["name"] == "pool"));
        let sum: f64 = layers
            .iter()
            .map(|l| l["energy_nj"].as_f64().unwrap())
            .sum();
        assert!((sum - e).abs() < 1e-6 * e);
    }
    let o = run(&[
        "footprint",
        "--reference",
        "resnet20",
        "--profile",
        "hw_profiles/pcm_hermes.toml",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("energy nJ") && out.contains("us sequential"),
        "{out}"
    );
}

#[test]
fn bad_cost_field_is_named() {
    let dir = fresh_dir("cost-profile");
    let p = dir.join("p.toml");
    std::fs::write(&p, "[cost]\nmvm_ns = -1\n").unwrap();
    let o = run(&[
        "footprint",
        "--reference",
        "resnet8",
        "--profile",
        p.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("field cost.mvm_ns: expected"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn search_with_energy_and_latency_objectives() {
    let base = fresh_dir("cost-search");
    let d = base.join("run");
    let o = run(&[
        "search",
        "--surrogate",
        "synthetic",
        "--objectives",
        "acc_1d,energy,latency",
        "--max-latency-us",
        "300",
        "--population",
        "16",
        "--generations",
        "4",
        "--validate-top",
        "0",
        "--out",
        d.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let p: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("pareto.json")).unwrap()).unwrap();
    assert_eq!(
        p["objectives"],
        serde_json::json!(["acc_1d", "energy", "latency"])
    );
    assert_eq!(p["budgets"]["max_latency_us"], 300.0);
    assert!(p["reference_point"]["energy_nj"].as_f64().unwrap() > 0.0);
    for m in p["front"].as_array().unwrap() {
        assert!(m["cost"]["latency_us"].as_f64().unwrap() <= 300.0, "{m}");
        assert!(m["cost"]["energy_nj"].as_f64().unwrap() > 0.0);
    }
    let report = std::fs::read_to_string(d.join("report.md")).unwrap();
    assert!(report.contains("minimise energy per inference"), "{report}");
    assert!(report.contains("Hardware cost of the front"), "{report}");
    let o = run(&[
        "search",
        "--surrogate",
        "synthetic",
        "--max-energy-nj",
        "0",
        "--out",
        base.join("bad").to_str().unwrap(),
    ]);
    assert_input_error(&o, &["--max-energy-nj: expected a number of nJ > 0, got 0"]);
}
