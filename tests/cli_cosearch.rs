//! Hardware co-search (issue 17): a space with `[hardware]` genes, end to end.

use crate::util::*;

/// A network-only genome of the shipped surrogate data set: its id must never change (the
/// shipped CSV and results/example name networks by it).
const SHIPPED_GENOME: &str =
    r#"{"oc0":32,"ks0":7,"blocks":[{"r":1,"b":1,"ct":"A","wf":1}],"downsample":"last_two"}"#;

#[test]
fn cosearch_space_puts_hardware_in_the_front_and_keeps_network_ids() {
    let dir = fresh_dir("cosearch-synthetic");
    let space = dir.join("co.toml");
    std::fs::write(
        &space,
        "[genes]\noc0 = [4, 8]\nks0 = [3]\nm = [1, 2]\nr = [1]\nb = [1]\nct = [\"A\", \"D\"]\nwf = [1, 2]\n\
         [hardware]\ntile = [\"128x128\", \"512x512\"]\nadc_bits = [6, 8]\ndepthwise = [\"digital\", \"analog\"]\n",
    )
    .unwrap();
    let out = dir.join("run");
    let o = run(&[
        "search",
        "--surrogate",
        "synthetic",
        "--space",
        space.to_str().unwrap(),
        "--objectives",
        "acc_1d,energy",
        "--population",
        "12",
        "--generations",
        "3",
        "--validate-top",
        "0",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let pareto: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("pareto.json")).unwrap()).unwrap();
    let front = pareto["front"].as_array().unwrap();
    assert!(!front.is_empty());
    for m in front {
        let hw = &m["genome"]["hardware"];
        assert!(hw["tile"].is_string() && hw["adc_bits"].is_u64(), "{m}");
        assert!(m["genes"].as_str().unwrap().contains("tile="), "{m}");
    }
    // The references have no hardware genes: their ids are the network-only ones.
    let refs = pareto["references"].as_array().unwrap();
    assert!(refs.iter().all(|r| r["genome"].get("hardware").is_none()));
    let csv = std::fs::read_to_string(out.join("pareto.csv")).unwrap();
    assert!(csv.contains(r#"""hardware"":{""tile"":"#), "{csv}");
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("## Hardware co-search"), "{report}");
    assert!(report.contains("| hardware |"), "{report}");

    // footprint: a genome with hardware genes is costed on its own chip; without, unchanged.
    let plain = dir.join("plain.json");
    std::fs::write(&plain, SHIPPED_GENOME).unwrap();
    let with_hw = dir.join("hw.json");
    std::fs::write(
        &with_hw,
        SHIPPED_GENOME.replace(
            "\"downsample\":\"last_two\"}",
            "\"downsample\":\"last_two\",\"hardware\":{\"tile\":\"128x128\",\"adc_bits\":6}}",
        ),
    )
    .unwrap();
    let fp = |arch: &std::path::Path| {
        let o = run(&["footprint", "--arch", arch.to_str().unwrap(), "--json"]);
        assert!(o.status.success(), "{}", stderr(&o));
        serde_json::from_str::<serde_json::Value>(&stdout(&o)).unwrap()
    };
    let (a, b) = (fp(&plain), fp(&with_hw));
    assert!(a.get("hardware").is_none());
    assert_eq!(b["hardware"]["tile"], "128x128");
    assert_eq!(
        (
            a["cost"]["adc_bits"].as_u64(),
            b["cost"]["adc_bits"].as_u64()
        ),
        (Some(9), Some(6))
    );
    assert!(b["tiles"].as_u64() > a["tiles"].as_u64(), "{a} {b}");
    // The shipped data set names this genome by the same id.
    let shipped =
        std::fs::read_to_string(root().join("surrogates/digits_pcm_aihwkit.csv")).unwrap();
    assert!(shipped.contains("\n5468b7475814,32,7,1,1,"));
    let o = run(&["space", "info", "--space", space.to_str().unwrap()]);
    assert!(stdout(&o).contains("hardware tile"), "{}", stdout(&o));
}

#[test]
fn bad_hardware_sections_are_one_line_errors() {
    let dir = fresh_dir("cosearch-bad");
    let genes =
        "[genes]\noc0 = [4]\nks0 = [3]\nm = [1]\nr = [1]\nb = [1]\nct = [\"A\"]\nwf = [1]\n";
    for (hw, needle) in [
        (
            "[hardware]\ntile = [\"256\"]\n",
            "field hardware.tile: expected a non-empty list of tile shapes \"ROWSxCOLS\" with sides in 1..=65536, got \"256\"",
        ),
        (
            "[hardware]\nadc_bits = [1, 8]\n",
            "field hardware.adc_bits: expected values in 2..=24, got 1",
        ),
        (
            "[hardware]\ndepthwise = [\"gpu\"]\n",
            "field hardware.depthwise: expected a non-empty list of \"digital\", \"analog\", got \"gpu\"",
        ),
        (
            "[hardware]\n",
            "field hardware: expected at least one of tile, adc_bits, dac_bits, depthwise",
        ),
        ("[hardware]\nadc = [8]\n", "unknown field `adc`"),
    ] {
        let space = dir.join("bad.toml");
        std::fs::write(&space, format!("{genes}{hw}")).unwrap();
        let o = run(&["space", "info", "--space", space.to_str().unwrap()]);
        assert_input_error(&o, &["bad.toml", needle]);
    }
}
