//! Foundation CLI: spaces, profiles, sampling, footprint, bad input.

use crate::util::*;

#[test]
fn footprint_reference_counts() {
    for (profile, tiles) in [
        ("hw_profiles/pcm_aihwkit.toml", 43),
        ("hw_profiles/pcm_hermes.toml", 62),
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
        assert_eq!(v["tiles"], tiles);
        for key in ["utilisation", "params", "macs"] {
            assert!(v[key].is_number(), "{key}");
        }
        let l = &v["layers"][0];
        for key in ["name", "rows", "cols", "tiles"] {
            assert!(!l[key].is_null(), "{key}");
        }
    }
    let o = run(&[
        "footprint",
        "--reference",
        "resnet20",
        "--profile",
        "hw_profiles/pcm_aihwkit.toml",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["tiles"], 27);
    assert_eq!(v["layers"].as_array().unwrap().len(), 22);
}

#[test]
fn sample_then_footprint_of_a_genome() {
    let dir = fresh_dir("sample");
    let o = run(&[
        "space",
        "sample",
        "--space",
        "search_spaces/tiny.toml",
        "-n",
        "3",
        "--seed",
        "4",
        "--lhs",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<String> = stdout(&o).lines().map(String::from).collect();
    assert_eq!(lines.len(), 3);
    let again = run(&[
        "space",
        "sample",
        "--space",
        "search_spaces/tiny.toml",
        "-n",
        "3",
        "--seed",
        "4",
        "--lhs",
    ]);
    assert_eq!(stdout(&again), stdout(&o), "same seed, same genomes");
    let g = dir.join("g.json");
    std::fs::write(&g, &lines[0]).unwrap();
    let o = run(&[
        "footprint",
        "--arch",
        g.to_str().unwrap(),
        "--task",
        "mnist",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("total:"));
}

#[test]
fn listings_and_info() {
    let o = run(&["spaces"]);
    assert!(stdout(&o).contains("resnet_tinyml.toml") && stdout(&o).contains("tiny.toml"));
    let o = run(&["profiles"]);
    assert!(stdout(&o).contains("pcm_hermes.toml") && stdout(&o).contains("256x256"));
    let o = run(&[
        "space",
        "info",
        "--space",
        "search_spaces/resnet_tinyml.toml",
    ]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("architectures"));
}

#[test]
fn bad_spaces_and_profiles_are_one_line_errors() {
    let dir = fresh_dir("bad");
    let good = std::fs::read_to_string(root().join("search_spaces/tiny.toml")).unwrap();
    let cases = [
        (
            "unknown.toml",
            good.replace("wf = [1, 2]", "wf = [1, 2]\ndepth = 3"),
            "depth",
        ),
        (
            "empty.toml",
            good.replace("b = [1, 2]", "b = []"),
            "genes.b",
        ),
        (
            "minmax.toml",
            good.replace("m = { min = 1, max = 2 }", "m = { min = 2, max = 1 }"),
            "genes.m",
        ),
        (
            "type.toml",
            good.replace("ks0 = [3]", "ks0 = \"3\""),
            "genes.ks0",
        ),
    ];
    for (name, text, key) in cases {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        let o = run(&["space", "info", "--space", p.to_str().unwrap()]);
        assert_input_error(&o, &[name, key]);
    }
    let o = run(&["space", "info", "--space", "/no/such/space.toml"]);
    assert_input_error(&o, &["/no/such/space.toml"]);
    let p = dir.join("prof.toml");
    std::fs::write(&p, "[tile]\nrows = -4\n").unwrap();
    let o = run(&[
        "footprint",
        "--reference",
        "resnet8",
        "--profile",
        p.to_str().unwrap(),
    ]);
    assert_input_error(&o, &["prof.toml", "tile.rows"]);
    std::fs::write(&p, "[periphery]\nadc_bits = 8\n").unwrap();
    let o = run(&[
        "footprint",
        "--reference",
        "resnet8",
        "--profile",
        p.to_str().unwrap(),
    ]);
    assert_input_error(&o, &["prof.toml", "adc_bits"]);
    let o = run(&[
        "footprint",
        "--reference",
        "resnet8",
        "--profile",
        "/no/such/profile.toml",
    ]);
    assert_input_error(&o, &["/no/such/profile.toml"]);
}
