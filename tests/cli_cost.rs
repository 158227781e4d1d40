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
