//! `analognas search` and `analognas report` end to end, with the synthetic test scorer.

use crate::util::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn search(out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "search",
        "--surrogate",
        "synthetic",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run(&args)
}

const KILL_RUN: [&str; 8] = [
    "--population",
    "60",
    "--generations",
    "80",
    "--seed",
    "3",
    "--max-tiles",
    "30",
];

/// A scorer that takes 25 ms per batch: the slowdown that lets a test kill a run mid-way,
/// injected through the library's API (the production CLI has no such flag).
struct Slow(Box<dyn analognas::search::Scorer>);

impl analognas::search::Scorer for Slow {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn score(&mut self, batch: &[analognas::nn::Arch]) -> Vec<analognas::search::Outcome> {
        std::thread::sleep(Duration::from_millis(25));
        self.0.score(batch)
    }
}

/// Not a test of its own: the child process that `kill_mid_run` starts and kills. It runs the
/// search of `KILL_RUN` in `$ANALOGNAS_KILL_DIR` through the library with the [`Slow`] scorer,
/// creating the run or, with `$ANALOGNAS_KILL_RESUME`, resuming it.
#[test]
#[ignore = "child process of sigkill_and_resume_ends_with_the_uninterrupted_front"]
fn slow_search_child() {
    use analognas::pipeline::{Run, RunOptions, Scoring, SearchRequest};
    let Some(dir) = std::env::var_os("ANALOGNAS_KILL_DIR") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let mut run = if std::env::var_os("ANALOGNAS_KILL_RESUME").is_some() {
        Run::open(&dir).unwrap()
    } else {
        let req = SearchRequest {
            surrogate: Some("synthetic".into()),
            population: Some(60),
            generations: Some(80),
            seed: Some(3),
            max_tiles: Some(30),
            ..SearchRequest::default()
        };
        Run::create(&dir, req.spec().unwrap()).unwrap()
    };
    let scoring = Scoring::for_run(&run).unwrap();
    let mut slow = Scoring::new(Box::new(Slow(scoring.scorer)), scoring.measurer);
    run.execute(
        &mut slow,
        &analognas::evaluate::LocalExecutor::default(),
        &analognas::progress::Silent,
        &RunOptions::default(),
    )
    .unwrap();
}

/// Starts [`slow_search_child`] on `dir` (resuming it with `resume`) and waits until it has
/// written a new `dir/checkpoint.json`.
fn start_slow_child(dir: &Path, resume: bool) -> std::process::Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--ignored",
        "--exact",
        "cli_search::slow_search_child",
        "--test-threads",
        "1",
    ])
    .env("ANALOGNAS_KILL_DIR", dir)
    .current_dir(root())
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    if resume {
        cmd.env("ANALOGNAS_KILL_RESUME", "1");
    }
    let seen_before = std::fs::metadata(dir.join("checkpoint.json"))
        .map(|m| m.modified().unwrap())
        .ok();
    let mut child = cmd.spawn().unwrap();
    let ck = dir.join("checkpoint.json");
    let t0 = Instant::now();
    loop {
        let now = std::fs::metadata(&ck).map(|m| m.modified().unwrap()).ok();
        if now.is_some() && now != seen_before {
            return child;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "no checkpoint appeared"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "exited before a checkpoint"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Starts [`slow_search_child`] on `dir` (resuming it with `resume`), waits for a checkpoint,
/// lets it run `after` longer and kills it with SIGKILL; returns whether it was still running
/// when killed.
fn kill_mid_run(dir: &Path, resume: bool, after: Duration) -> bool {
    let mut child = start_slow_child(dir, resume);
    std::thread::sleep(after);
    let running = child.try_wait().unwrap().is_none();
    child.kill().unwrap();
    child.wait().unwrap();
    running
}

/// Issue 12: two processes on one run directory: the second is refused with the holder's pid
/// and changes nothing.
#[test]
fn a_second_search_on_a_running_directory_is_refused() {
    let base = fresh_dir("search-lock");
    let d = base.join("run");
    let mut child = start_slow_child(&d, false);
    let pid = child.id().to_string();
    let ds = d.to_str().unwrap();
    for args in [
        vec!["search", "--resume", ds],
        vec!["search", "--surrogate", "synthetic", "--out", ds, "--force"],
    ] {
        let o = run(&args);
        assert_input_error(&o, &[ds, "in use by another analognas process", &pid]);
    }
    let o = search(&d, &["--seed", "4"]);
    assert_input_error(&o, &["already holds a run", "--resume"]);
    child.kill().unwrap();
    child.wait().unwrap();
    // The lock dies with the process: the run resumes and finishes.
    let o = run(&["search", "--resume", ds]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::remove_dir_all(base).unwrap();
}

/// Every file of a directory, by name, with its bytes; but the lock file, which holds the pid
/// of whichever process last held the directory.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_file() && e.file_name() != ".analognas.lock")
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Issue 12: a resume that fails leaves every file as it was (history.csv is not cut before the
/// rest has been checked).
#[test]
fn a_failed_resume_changes_nothing() {
    let base = fresh_dir("search-badresume");
    let d = base.join("run");
    let o = search(&d, &["--population", "12", "--generations", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let ck_path = d.join("checkpoint.json");
    let good: serde_json::Value = serde_json::from_str(&read(&d, "checkpoint.json")).unwrap();
    let history = read(&d, "history.csv");
    let first_row = history.lines().nth(1).unwrap().to_string();
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "history_bytes past the end",
            Box::new(|c| c["history_bytes"] = 100_000.into()),
            "expected at least 100000 bytes",
        ),
        (
            "fewer bytes than rows",
            Box::new(|c| c["history_bytes"] = 200.into()),
            "history.csv",
        ),
        (
            "empty population",
            Box::new(|c| c["population"] = serde_json::json!([])),
            "field population",
        ),
        (
            "generations past the run",
            Box::new(|c| c["generations_done"] = 1000.into()),
            "field generations_done",
        ),
    ];
    for (what, edit, needle) in cases {
        let mut ck = good.clone();
        edit(&mut ck);
        std::fs::write(&ck_path, serde_json::to_string(&ck).unwrap()).unwrap();
        // Rows after the checkpoint would be cut by a resume that went ahead.
        std::fs::write(d.join("history.csv"), format!("{history}{first_row}\n")).unwrap();
        let before = snapshot(&d);
        let o = run(&[
            "search",
            "--resume",
            d.to_str().unwrap(),
            "--generations",
            "5",
        ]);
        assert_input_error(&o, &[needle]);
        assert_eq!(snapshot(&d), before, "{what}: files changed");
    }
    std::fs::remove_dir_all(base).unwrap();
}

/// Issue 12: `--out` never replaces what the user did not ask to replace; `--force` does; a
/// failed start leaves no directory behind; stale temp files go at the next start.
#[test]
fn out_is_new_or_forced_and_failed_starts_leave_nothing() {
    let base = fresh_dir("search-out");
    let mine = base.join("mine");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(mine.join("report.md"), "my notes").unwrap();
    let o = search(&mine, &["--population", "8", "--generations", "2"]);
    assert_input_error(&o, &["exists and is not empty", "--force"]);
    assert_eq!(snapshot(&mine).len(), 1);
    assert!(!mine.join(".analognas.lock").exists());
    assert_eq!(read(&mine, "report.md"), "my notes");

    let file = base.join("afile");
    std::fs::write(&file, "x").unwrap();
    let o = search(&file, &["--population", "8", "--generations", "2"]);
    assert_input_error(&o, &["is a file"]);

    let d = base.join("run");
    let o = search(&d, &["--population", "8", "--generations", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::write(d.join(".checkpoint.json.tmp999999999"), "half").unwrap();
    let o = search(
        &d,
        &[
            "--population",
            "8",
            "--generations",
            "2",
            "--seed",
            "5",
            "--force",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(read(&d, "run.json").contains("\"seed\": 5"));
    assert!(!d.join(".checkpoint.json.tmp999999999").exists());

    let stub = base.join("stub");
    let o = run(&[
        "search",
        "--surrogate",
        "no/such/model.json",
        "--out",
        stub.to_str().unwrap(),
    ]);
    assert_input_error(&o, &["--surrogate"]);
    assert!(!stub.exists(), "a failed start left {}", stub.display());
    let o = run(&[
        "search",
        "--task",
        "mnist",
        "--data",
        "no/such/folder",
        "--surrogate",
        "synthetic",
        "--population",
        "8",
        "--out",
        stub.to_str().unwrap(),
    ]);
    // The synthetic scorer validates nothing, so its run needs no data: it may start. With
    // the shipped surrogate the data is needed for validation and a bad folder stops the start.
    let _ = o;
    let _ = std::fs::remove_dir_all(&stub);
    let o = run(&[
        "search",
        "--data",
        "no/such/folder",
        "--task",
        "mnist",
        "--out",
        stub.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!stub.exists(), "a failed start left {}", stub.display());
    std::fs::remove_dir_all(base).unwrap();
}

#[test]
fn sigkill_and_resume_ends_with_the_uninterrupted_front() {
    let base = fresh_dir("search-kill");
    let (a, b) = (base.join("a"), base.join("b"));
    let o = search(&a, &KILL_RUN);
    assert!(o.status.success(), "{}", stderr(&o));

    assert!(kill_mid_run(&b, false, Duration::from_millis(250)));
    assert!(
        !b.join("pareto.json").exists(),
        "the run finished before the kill"
    );
    // Kill the resumed run too, then let a second resume finish.
    let bs = b.to_str().unwrap();
    assert!(kill_mid_run(&b, true, Duration::from_millis(170)));
    assert!(!b.join("pareto.json").exists());
    let o = run(&["search", "--resume", bs]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("resumed after generation"),
        "{}",
        stdout(&o)
    );

    for file in ["pareto.json", "pareto.csv", "history.csv"] {
        assert_eq!(
            read(&a, file),
            read(&b, file),
            "{file} differs after kill and resume"
        );
    }
    let rows = read(&b, "history.csv").lines().count() - 1;
    let pareto: serde_json::Value = serde_json::from_str(&read(&b, "pareto.json")).unwrap();
    assert_eq!(pareto["evaluations"], rows);
    assert_eq!(pareto["hypervolume"].as_array().unwrap().len(), 80);
    std::fs::remove_dir_all(base).unwrap();
}

#[test]
fn search_writes_the_run_directory_and_report_redraws() {
    let base = fresh_dir("search-files");
    let d = base.join("run");
    let o = search(
        &d,
        &[
            "--population",
            "20",
            "--generations",
            "6",
            "--objectives",
            "acc_1d,tiles,avm",
            "--algorithm",
            "analognas",
            "--seed",
            "9",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("validation: skipped"), "{}", stdout(&o));
    for f in [
        "run.json",
        "history.csv",
        "pareto.json",
        "pareto.csv",
        "checkpoint.json",
        "validation.json",
        "pareto.png",
        "pareto.svg",
        "drift.png",
        "hypervolume.png",
        "report.md",
    ] {
        let len = std::fs::metadata(d.join(f)).map(|m| m.len()).unwrap_or(0);
        assert!(len > 0, "{f} missing or empty");
    }
    let info: serde_json::Value = serde_json::from_str(&read(&d, "run.json")).unwrap();
    assert_eq!(info["algorithm"], "analognas");
    assert_eq!(
        info["objectives"],
        serde_json::json!(["acc_1d", "tiles", "avm"])
    );
    assert_eq!(info["seed"], 9);
    assert!(info["finished"].is_string());
    let report = read(&d, "report.md");
    assert!(report.contains("Validation was skipped"), "{report}");
    assert!(report.contains("![Pareto front"));
    assert!(read(&d, "pareto.svg").contains("<text"));

    for f in ["report.md", "pareto.png", "drift.png", "hypervolume.png"] {
        std::fs::remove_file(d.join(f)).unwrap();
    }
    let o = run(&["report", "--run", d.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 5);
    assert_eq!(read(&d, "report.md"), report);
    std::fs::remove_dir_all(base).unwrap();
}

#[test]
fn budgets_hold_for_every_front_member() {
    let base = fresh_dir("search-budget");
    let d = base.join("run");
    let o = search(
        &d,
        &[
            "--population",
            "30",
            "--generations",
            "10",
            "--max-tiles",
            "12",
            "--max-params",
            "150000",
            "--max-avm",
            "3.5",
            "--validate-top",
            "0",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let p: serde_json::Value = serde_json::from_str(&read(&d, "pareto.json")).unwrap();
    let front = p["front"].as_array().unwrap();
    assert!(!front.is_empty());
    for m in front {
        assert!(m["tiles"].as_u64().unwrap() <= 12, "{m}");
        assert!(m["params"].as_u64().unwrap() <= 150_000, "{m}");
        assert!(m["avm"].as_f64().unwrap() <= 3.5, "{m}");
    }
    assert_eq!(p["reference_point"]["tiles"], 13.0);
    let history = read(&d, "history.csv");
    assert!(history.lines().skip(1).any(|l| l.contains(",false,")));
    std::fs::remove_dir_all(base).unwrap();
}

#[test]
fn search_bad_input_is_one_line() {
    let base = fresh_dir("search-bad");
    let d = base.join("run");
    let ds = d.to_str().unwrap();
    assert_input_error(
        &search(&d, &["--objectives", "acc_1d"]),
        &["--objectives: expected acc_1d and one or two of tiles, avm, energy, latency, area"],
    );
    assert_input_error(
        &search(&d, &["--population", "2"]),
        &["--population: expected an integer >= 4, got 2"],
    );
    assert_input_error(
        &search(&d, &["--max-avm", "0"]),
        &["--max-avm: expected a number of points > 0, got 0"],
    );
    assert_input_error(
        &search(&d, &["--validate-seeds", "0"]),
        &["--validate-seeds: expected at least 1 training seed, got 0"],
    );
    let o = run(&["search", "--surrogate", "nope.json", "--out", ds]);
    assert_input_error(&o, &["--surrogate", "nope.json"]);
    assert!(!d.exists(), "a failed start leaves no run directory");
    assert_input_error(
        &run(&["search", "--resume", base.to_str().unwrap()]),
        &["--resume: expected a run directory with run.json"],
    );
    let o = search(&d, &["--population", "8", "--generations", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_input_error(
        &search(&d, &["--population", "8"]),
        &["already holds a run", "--resume"],
    );
    assert_input_error(
        &run(&["search", "--resume", ds, "--seed", "4"]),
        &["--seed: not allowed with --resume"],
    );
    assert_input_error(
        &run(&["search", "--resume", ds, "--generations", "1"]),
        &["--generations: expected at least 2"],
    );
    assert_input_error(
        &run(&["search", "--resume", ds, "--validate-seeds", "0"]),
        &["--validate-seeds: expected at least 1"],
    );
    // Extending a finished run continues it.
    let o = run(&["search", "--resume", ds, "--generations", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let p: serde_json::Value = serde_json::from_str(&read(&d, "pareto.json")).unwrap();
    assert_eq!(p["generations"], 3);
    let e = base.join("three");
    let o = search(&e, &["--population", "8", "--generations", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(read(&d, "pareto.json"), read(&e, "pareto.json"));
    std::fs::remove_dir_all(base).unwrap();
}

/// `validation.json` without its wall-clock figures (`train_seconds`).
fn measured_rows(dir: &Path) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_str(&read(dir, "validation.json")).unwrap();
    v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let strip = |m: &serde_json::Value| {
                let mut m = m.clone();
                m.as_object_mut()
                    .expect("every network measured")
                    .remove("train_seconds");
                m
            };
            let seeds: Vec<serde_json::Value> = e["seeds"]
                .as_array()
                .expect("per-seed measurements")
                .iter()
                .map(|s| serde_json::json!({ "index": s["index"], "seed": s["seed"], "measured": strip(&s["measured"]) }))
                .collect();
            serde_json::json!({ "id": e["id"], "measured": strip(&e["measured"]), "seeds": seeds, "summary": e["summary"] })
        })
        .collect()
}

/// Issue 12: a measurement does not depend on the machine's load or the order in which
/// candidates run: the same validation, run twice (the second time beside three busy threads
/// and one candidate at a time instead of two), gives identical rows apart from timings.
#[test]
fn validation_is_identical_under_load() {
    let base = fresh_dir("search-repro");
    let args = |d: &Path, jobs: &'static str| {
        vec![
            "search".to_string(),
            "--population".into(),
            "12".into(),
            "--generations".into(),
            "2".into(),
            "--validate-top".into(),
            "1".into(),
            // Two training seeds: both reproduce, and the test stays short.
            "--validate-seeds".into(),
            "2".into(),
            "--jobs".into(),
            jobs.into(),
            "--out".into(),
            d.to_str().unwrap().to_string(),
        ]
    };
    let (a, b) = (base.join("a"), base.join("b"));
    let args_a = args(&a, "2");
    let o = run(&args_a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", stderr(&o));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load: Vec<_> = (0..3)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut x = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                }
            })
        })
        .collect();
    let args_b = args(&b, "1");
    let o = run(&args_b.iter().map(String::as_str).collect::<Vec<_>>());
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in load {
        t.join().unwrap();
    }
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = measured_rows(&a);
    assert_eq!(rows.len(), 3, "front-1, resnet8, resnet20");
    for r in &rows {
        assert_eq!(r["seeds"].as_array().unwrap().len(), 2, "{r}");
        assert!(r["summary"]["acc_1d"]["ci_low"].is_number(), "{r}");
    }
    assert_eq!(rows, measured_rows(&b));
    let report = read(&a, "report.md");
    assert!(
        report.contains("paired t-test") && report.contains("95 % CI"),
        "{report}"
    );
    std::fs::remove_dir_all(base).unwrap();
}

/// Issue 15: active learning from the command line on the tiny space (a few one-epoch
/// measurements), resumed, and its surrogate reused by another search.
#[test]
fn active_learning_runs_resumes_and_ships_its_surrogate() {
    let base = fresh_dir("search-active");
    let out = base.join("al");
    let ds = out.to_str().unwrap();
    let common = [
        "--space",
        "search_spaces/tiny.toml",
        "--population",
        "8",
        "--generations",
        "2",
        "--validate-top",
        "0",
    ];
    let mut args = vec![
        "search",
        "--budget-evals",
        "9",
        "--initial",
        "4",
        "--batch",
        "1",
        "--fidelities",
        "1",
        "--out",
        ds,
    ];
    // No --surrogate: the shipped one was not fitted on the tiny space, so the loop runs.
    args.extend_from_slice(&common);
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("active learning:") && text.contains("9 measurements"),
        "{text}"
    );
    for f in [
        "active.json",
        "surrogate.json",
        "measured-e1.csv",
        "report.md",
        "active_hv.png",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }
    assert!(read(&out, "report.md").contains("## Active learning"));
    // A resume of the finished run measures nothing more.
    let o = run(&["search", "--resume", ds]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("9 measurements"), "{}", stdout(&o));
    let o = run(&["search", "--resume", ds, "--budget-evals", "9"]);
    assert_input_error(&o, &["--budget-evals: not allowed with --resume"]);
    // The run's ensemble is a surrogate for another search (its Latin-hypercube start covers
    // every gene of the tiny space).
    let model = out.join("surrogate.json");
    let other = base.join("reuse");
    let mut args = vec![
        "search",
        "--surrogate",
        model.to_str().unwrap(),
        "--out",
        other.to_str().unwrap(),
    ];
    args.extend_from_slice(&common);
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    // `surrogate eval` and `predict` read the run's ensemble: quality and interval coverage on
    // its own rows, a mean with its sd for a genome.
    let data = out.join("measured-e1.csv");
    let o = run(&[
        "surrogate",
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("kendall_tau") && text.contains("in 95 % int.") && text.contains("acc_1d"),
        "{text}"
    );
    let genome = base.join("g.json");
    std::fs::write(
        &genome,
        r#"{"oc0":16,"ks0":3,"blocks":[{"r":1,"b":1,"ct":"A","wf":1}],"downsample":"all_but_first"}"#,
    )
    .unwrap();
    let o = run(&[
        "surrogate",
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--arch",
        genome.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert!(v["acc_1d"].as_f64().unwrap().is_finite(), "{v}");
    assert!(v["acc_1d_sd"].as_f64().unwrap() >= 0.0, "{v}");
    assert_eq!(v["fidelity_epochs"].as_f64(), Some(1.0), "{v}");
    // Loop options without the loop are refused.
    let o = run(&["search", "--surrogate", "synthetic", "--batch", "3"]);
    assert_input_error(&o, &["--batch: expected with --surrogate auto"]);
    std::fs::remove_dir_all(base).unwrap();
}
