//! `analognas surrogate fit | eval | predict` end to end on small synthetic data sets.

use crate::util::*;
use analognas::hw::{HwProfile, footprint};
use analognas::measure::{DRIFT_TIMES, DriftPoint, Measurement};
use analognas::nn::Arch;
use analognas::space::SearchSpace;
use analognas::surrogate::{Provenance, Row, SurrogateModel, dataset};
use analognas::task::Task;
use std::path::Path;

/// `n` rows of resnet_tinyml genomes with accuracies from a known function of the genome.
fn synthetic_csv(path: &Path, n: usize, seed: u64) {
    let space = SearchSpace::load(root().join("search_spaces/resnet_tinyml.toml")).unwrap();
    let profile = HwProfile::load(root().join("hw_profiles/pcm_aihwkit.toml")).unwrap();
    let mut rng = analognas::rng::seeded(seed);
    let mut seen = std::collections::HashSet::new();
    let rows: Vec<Row> = space
        .sample_lhs(n, &mut rng)
        .into_iter()
        // One row per genome: a data set refuses an id twice with other values.
        .filter(|g| seen.insert(g.id()))
        .map(|g| {
            let arch = Arch::for_task(g, Task::Digits);
            let fp = footprint(&arch, &profile);
            let depth = arch.depth() as f64;
            let noise = 0.3 * analognas::rng::normal(&mut rng) as f64;
            let acc = (55.0 + 3.0 * (fp.params as f64).ln() - 0.3 * depth + noise).min(98.5);
            let avm = 0.5 + 0.1 * depth;
            let std = 0.2 + 0.01 * fp.tiles as f64;
            let drift = DRIFT_TIMES
                .iter()
                .map(|&(_, t)| DriftPoint {
                    t_seconds: t,
                    mean: acc,
                    std,
                })
                .collect();
            Row {
                measurement: Measurement {
                    id: arch.genome.id(),
                    acc_fp: acc + 1.0,
                    acc_1d: acc,
                    acc_1d_std: std,
                    avm,
                    drift,
                    tiles: fp.tiles,
                    utilisation: fp.utilisation,
                    params: fp.params,
                    macs: fp.macs,
                    depth: arch.depth(),
                    train_seconds: 0.5,
                    seed,
                    precision: None,
                    genome: arch.genome,
                },
                provenance: Provenance::new(
                    Task::Digits,
                    "resnet_tinyml",
                    "pcm_aihwkit",
                    "synthetic",
                ),
            }
        })
        .collect();
    dataset::write(path, &rows).unwrap();
}

#[test]
fn fit_eval_predict() {
    let dir = fresh_dir("surrogate-e2e");
    synthetic_csv(&dir.join("train.csv"), 60, 1);
    synthetic_csv(&dir.join("test.csv"), 30, 2);
    let o = run_in(
        &dir,
        &[
            "surrogate",
            "fit",
            "--data",
            "train.csv",
            "--model",
            "forest",
            "--folds",
            "3",
            "--seed",
            "4",
            "--out",
            "m.json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("forest on 60 rows of train.csv (task digits, profile pcm_aihwkit)"));
    assert!(out.contains("kendall_tau"), "{out}");
    for target in ["acc_1d ", "avm ", "acc_1d_std "] {
        assert!(out.lines().any(|l| l.starts_with(target)), "{out}");
    }
    let model = SurrogateModel::load(dir.join("m.json")).unwrap();
    assert_eq!(model.cv.len(), 3);
    assert!(model.cv[0].kendall_tau.unwrap() > 0.5, "{out}");

    let o = run_in(
        &dir,
        &[
            "surrogate",
            "eval",
            "--model",
            "m.json",
            "--data",
            "test.csv",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("on 30 rows of test.csv"),
        "{}",
        stdout(&o)
    );

    let genome = r#"{"oc0":16,"ks0":3,"blocks":[{"r":2,"b":1,"ct":"A","wf":1},{"r":1,"b":2,"ct":"C","wf":2}]}"#;
    std::fs::write(dir.join("g.json"), genome).unwrap();
    let o = run_in(
        &root(),
        &[
            "surrogate",
            "predict",
            "--model",
            dir.join("m.json").to_str().unwrap(),
            "--arch",
            dir.join("g.json").to_str().unwrap(),
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let arch = Arch::load(dir.join("g.json"), Task::Digits).unwrap();
    let profile = HwProfile::load(root().join("hw_profiles/pcm_aihwkit.toml")).unwrap();
    let p = model.predict(&arch, &profile);
    assert_eq!(v["acc_1d"].as_f64(), Some(p.acc_1d));
    assert_eq!(v["avm"].as_f64(), Some(p.avm));
    assert_eq!(v["acc_1d_std"].as_f64(), Some(p.acc_1d_std));
    assert_eq!(v["id"].as_str(), Some(arch.genome.id().as_str()));

    // Another profile than the model's is refused.
    let o = run_in(
        &root(),
        &[
            "surrogate",
            "predict",
            "--model",
            dir.join("m.json").to_str().unwrap(),
            "--arch",
            dir.join("g.json").to_str().unwrap(),
            "--profile",
            "hw_profiles/pcm_hermes.toml",
        ],
    );
    assert_input_error(&o, &["--profile: expected pcm_aihwkit", "got pcm_hermes"]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_csv_names_line_and_column() {
    let dir = fresh_dir("surrogate-bad");
    synthetic_csv(&dir.join("d.csv"), 8, 3);
    let text = std::fs::read_to_string(dir.join("d.csv")).unwrap();
    // A row cut short, as a crash of a non-atomic writer would leave it.
    let cut = &text[..text.len() - 40];
    std::fs::write(dir.join("cut.csv"), cut).unwrap();
    let o = run_in(
        &dir,
        &["surrogate", "fit", "--data", "cut.csv", "--out", "m.json"],
    );
    assert_input_error(&o, &["cut.csv:9: column ", "got the end of the row"]);
    // A hand-edited number.
    let lines: Vec<&str> = text.lines().collect();
    let mut fields: Vec<String> = lines[3].split(',').map(String::from).collect();
    let avm = dataset::columns().iter().position(|c| c == "avm").unwrap();
    // The genome column is quoted and holds commas: count from the end instead.
    let from_end = dataset::columns().len() - avm;
    let i = fields.len() - from_end;
    fields[i] = "high".into();
    let mut edited: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    edited[3] = fields.join(",");
    std::fs::write(dir.join("edit.csv"), edited.join("\n")).unwrap();
    let o = run_in(
        &dir,
        &["surrogate", "fit", "--data", "edit.csv", "--out", "m.json"],
    );
    assert_input_error(
        &o,
        &["edit.csv:4: column avm: expected a finite number, got \"high\""],
    );
    assert!(!dir.join("m.json").exists());
    let o = run_in(
        &dir,
        &[
            "surrogate",
            "fit",
            "--data",
            "d.csv",
            "--folds",
            "1",
            "--out",
            "m.json",
        ],
    );
    assert_input_error(&o, &["--folds: expected an integer >= 2, got 1"]);
    std::fs::remove_dir_all(dir).unwrap();
}

/// A measurer that takes 200 ms per genome: the slowdown that lets a second process meet a
/// running collection, injected through the library's API.
struct SlowSynthetic(analognas::evaluate::SyntheticMeasurer);

impl analognas::evaluate::Measurer for SlowSynthetic {
    fn measure(
        &self,
        arch: &Arch,
        seed: u64,
        observer: &dyn analognas::progress::Observer,
    ) -> analognas::Result<Measurement> {
        std::thread::sleep(std::time::Duration::from_millis(200));
        self.0.measure(arch, seed, observer)
    }
    fn describe_budget(&self) -> String {
        "slow synthetic".into()
    }
}

/// Not a test of its own: the child process of `a_second_collection_into_one_csv_is_refused`,
/// collecting 12 genomes slowly into `$ANALOGNAS_COLLECT_CSV`.
#[test]
#[ignore = "child process of a_second_collection_into_one_csv_is_refused"]
fn slow_collect_child() {
    let Some(out) = std::env::var_os("ANALOGNAS_COLLECT_CSV") else {
        return;
    };
    let space = SearchSpace::load(root().join("search_spaces/resnet_tinyml.toml")).unwrap();
    let archs = analognas::pipeline::collection_archs(&space, Task::Digits, 12, 1);
    let prov = Provenance::new(Task::Digits, "resnet_tinyml", "pcm_aihwkit", "");
    let m = SlowSynthetic(analognas::evaluate::SyntheticMeasurer::new(
        HwProfile::default(),
    ));
    analognas::pipeline::collect(
        &analognas::evaluate::LocalExecutor::new(1, 1),
        &m,
        archs,
        Path::new(&out),
        &prov,
        1,
        &analognas::progress::Silent,
    )
    .unwrap();
}

/// Issue 12: two `surrogate collect` into one CSV at once: the second is refused with the
/// holder's pid, and the first finishes with every row.
#[test]
fn a_second_collection_into_one_csv_is_refused() {
    let d = fresh_dir("collect-lock");
    let csv = d.join("d.csv");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "cli_surrogate::slow_collect_child",
            "--test-threads",
            "1",
        ])
        .env("ANALOGNAS_COLLECT_CSV", &csv)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    while !csv.exists() {
        assert!(t0.elapsed().as_secs() < 60, "no row appeared");
        assert!(child.try_wait().unwrap().is_none(), "the child ended early");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let before = std::fs::read(&csv).unwrap();
    let o = run(&[
        "surrogate",
        "collect",
        "-n",
        "2",
        "--epochs",
        "1",
        "--reps",
        "1",
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert_input_error(
        &o,
        &[
            csv.to_str().unwrap(),
            "in use by another analognas process",
            &child.id().to_string(),
        ],
    );
    assert!(child.wait().unwrap().success());
    let rows = dataset::Dataset::read(&csv).unwrap().rows;
    assert_eq!(rows.len(), 15, "3 references + 12 samples");
    assert!(
        std::fs::read(&csv)
            .unwrap()
            .starts_with(&before[..before.len().min(100)])
    );
    std::fs::remove_dir_all(d).unwrap();
}
