//! `--executor slurm` against a real Slurm cluster (`scripts/slurm-local.sh start`): the rows
//! equal the local executor's, a killed driver resumes without loss or double submission, a
//! cancelled array task is retried, a worker failure is recorded.
//!
//! Without `sbatch` on PATH these tests skip with a message; with `ANALOGNAS_REQUIRE_SLURM=1`
//! (CI) a missing cluster is a failure. With `ANALOGNAS_SLURM_REPORT=FILE` the timings are
//! appended to FILE.

use crate::util::*;
use analognas::evaluate::{Manifest, Submission};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Whether a cluster answers; skips (or fails, when required) otherwise.
fn cluster(test: &str) -> bool {
    let required = std::env::var("ANALOGNAS_REQUIRE_SLURM").is_ok_and(|v| v == "1");
    let why = match Command::new("sbatch").arg("--version").output() {
        Err(_) => Some("sbatch is not on PATH".to_string()),
        Ok(_) => match Command::new("sinfo").arg("-h").output() {
            Ok(o) if o.status.success() => None,
            Ok(o) => Some(format!(
                "sinfo fails ({}); is SLURM_CONF set?",
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Err(e) => Some(format!("sinfo: {e}")),
        },
    };
    match why {
        None => true,
        Some(why) if required => panic!("ANALOGNAS_REQUIRE_SLURM=1 but {why}"),
        Some(why) => {
            eprintln!(
                "skipping {test}: {why} (scripts/slurm-local.sh start, then export SLURM_CONF)"
            );
            false
        }
    }
}

/// 6 genomes (the 3 reference networks + 3 samples of the tiny space), 1 epoch, 1 programming.
fn collect_args(out: &Path, executor: &str) -> Vec<String> {
    [
        "surrogate",
        "collect",
        "--space",
        "search_spaces/tiny.toml",
        "-n",
        "3",
        "--seed",
        "3",
        "--epochs",
        "1",
        "--reps",
        "1",
        "--executor",
        executor,
        "--out",
        out.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn collect(out: &Path, executor: &str) -> (std::process::Output, f64) {
    let t = Instant::now();
    let args = collect_args(out, executor);
    let o = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    (o, t.elapsed().as_secs_f64())
}

fn spawn_collect(out: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_analognas"))
        .args(collect_args(out, "slurm"))
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The CSV's lines without the wall-clock column (train_seconds), sorted by genome id.
fn rows(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut lines = text.lines();
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let col = header
        .split(',')
        .position(|c| c == "train_seconds")
        .unwrap();
    let mut v: Vec<String> = lines
        .map(|l| {
            let mut r = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(l.as_bytes());
            let rec = r.records().next().unwrap().unwrap();
            rec.iter()
                .enumerate()
                .filter(|(i, _)| *i != col)
                .map(|(_, f)| f.to_string())
                .collect::<Vec<_>>()
                .join("\u{1f}")
        })
        .collect();
    v.sort();
    v
}

/// Raw CSV lines (train_seconds included).
fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .map(|t| t.lines().skip(1).map(String::from).collect())
        .unwrap_or_default()
}

/// The one job directory under `<out>.slurm`.
fn job_dir(out: &Path) -> PathBuf {
    let root = PathBuf::from(format!("{}.slurm", out.display()));
    let dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.into_iter().next().unwrap()
}

fn submissions(dir: &Path) -> Vec<Submission> {
    std::fs::read_to_string(dir.join("submissions.json"))
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or_default()
}

fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let t = Instant::now();
    while !ok() {
        assert!(t.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn report(line: &str) {
    println!("{line}");
    if let Ok(p) = std::env::var("ANALOGNAS_SLURM_REPORT") {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .unwrap();
        writeln!(f, "{line}").unwrap();
    }
}

/// The reference collection, made once: the local rows, and the slurm run's output file.
struct Reference {
    dir: PathBuf,
    local_rows: Vec<String>,
    slurm_out: PathBuf,
}

/// Serialises the slurm tests (the cluster's cores are few) and holds the reference.
static CLUSTER: Mutex<Option<Reference>> = Mutex::new(None);

fn with_reference(test: &str, f: impl FnOnce(&Reference)) {
    if !cluster(test) {
        return;
    }
    let mut guard = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    if guard.is_none() {
        let dir = fresh_dir("slurm");
        let local = dir.join("local.csv");
        let (o, local_s) = collect(&local, "local");
        assert!(o.status.success(), "{}", stderr(&o));
        let local_rows = rows(&local);
        assert_eq!(local_rows.len(), 6);
        let slurm_out = dir.join("slurm.csv");
        let (o, slurm_s) = collect(&slurm_out, "slurm");
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(
            stdout(&o).contains("6 measured now, 0 failed"),
            "{}",
            stdout(&o)
        );
        report(&format!(
            "slurm: 6-genome collect: local {local_s:.1} s, slurm {slurm_s:.1} s, overhead {:.1} s ({:.2} s per array task)",
            slurm_s - local_s,
            (slurm_s - local_s) / 6.0
        ));
        *guard = Some(Reference {
            dir,
            local_rows,
            slurm_out,
        });
    }
    f(guard.as_ref().unwrap());
}

#[test]
fn slurm_rows_equal_local_rows() {
    with_reference("slurm_rows_equal_local_rows", |r| {
        assert_eq!(rows(&r.slurm_out), r.local_rows);
        let dir = job_dir(&r.slurm_out);
        let subs = submissions(&dir);
        assert_eq!(subs.len(), 1, "one array: {subs:?}");
        assert_eq!(subs[0].indices, (0..6).collect::<Vec<_>>());
        let script = std::fs::read_to_string(dir.join("job.sbatch")).unwrap();
        assert!(script.contains("worker --job"), "{script}");
        // A rerun finds everything measured and submits nothing.
        let (o, _) = collect(&r.slurm_out, "slurm");
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stdout(&o).contains("6 already measured, 0 measured now"));
        assert_eq!(submissions(&dir).len(), 1);
    });
}

#[test]
fn slurm_driver_killed_and_restarted_loses_and_repeats_nothing() {
    with_reference("slurm_driver_killed_and_restarted", |r| {
        let out = r.dir.join("killed.csv");
        let mut child = spawn_collect(&out);
        wait_for("the first row", Duration::from_secs(120), || {
            !lines(&out).is_empty()
        });
        child.kill().unwrap();
        child.wait().unwrap();
        let partial = lines(&out);
        assert!(partial.len() < 6, "killed after {} rows", partial.len());
        let dir = job_dir(&out);
        let before = submissions(&dir);
        assert_eq!(before.len(), 1, "{before:?}");

        let o = run(&collect_args(&out, "slurm")
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>());
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(
            stdout(&o).contains(&format!("{} already measured", partial.len())),
            "{}",
            stdout(&o)
        );
        // Nothing submitted twice: the restart picked up the array still queued or running.
        assert_eq!(submissions(&dir), before, "{}", stderr(&o));
        let all = lines(&out);
        assert_eq!(all.len(), 6, "no row lost or duplicated");
        for row in &partial {
            assert!(all.contains(row), "a finished row was lost or changed");
        }
        assert_eq!(rows(&out), r.local_rows);
    });
}

#[test]
fn slurm_cancelled_task_is_retried() {
    with_reference("slurm_cancelled_task_is_retried", |r| {
        // The cancel races with the task's end: on a loaded machine ResNet-32 may finish between
        // `squeue` saying RUNNING and `scancel`. That attempt proves nothing; try again (3 times).
        for attempt in 0..3 {
            let out = r.dir.join(format!("cancelled-{attempt}.csv"));
            let child = spawn_collect(&out);
            // ResNet-32 (index 2) is the longest measurement: cancel it while it runs.
            let mut job = String::new();
            wait_for("index 2 running", Duration::from_secs(120), || {
                let root = PathBuf::from(format!("{}.slurm", out.display()));
                let Some(dir) = std::fs::read_dir(&root)
                    .ok()
                    .and_then(|mut d| d.next())
                    .map(|e| e.unwrap().path())
                else {
                    return false;
                };
                let Some(s) = submissions(&dir).into_iter().next() else {
                    return false;
                };
                job = s.job_id;
                let q = Command::new("squeue")
                    .args(["-h", "-r", "-j", &job, "-t", "RUNNING", "-o", "%i"])
                    .output()
                    .unwrap();
                String::from_utf8_lossy(&q.stdout)
                    .lines()
                    .any(|l| l.trim() == format!("{job}_2"))
            });
            let c = Command::new("scancel")
                .arg(format!("{job}_2"))
                .output()
                .unwrap();
            assert!(c.status.success());
            let o = child.wait_with_output().unwrap();
            assert!(o.status.success(), "{}", stderr(&o));
            let subs = submissions(&job_dir(&out));
            if subs.len() == 1 && attempt < 2 {
                // The task ended before the cancel reached it: every row is there, nothing retried.
                assert_eq!(rows(&out), r.local_rows);
                continue;
            }
            assert!(
            stderr(&o).contains(&format!(
                "task {job}_2 (514b7d50a9c3) ended CANCELLED without a result; resubmitting (attempt 2 of 3)"
            )),
            "{}",
            stderr(&o)
        );
            assert_eq!(subs.len(), 2, "{subs:?}");
            assert_eq!(subs[1].indices, vec![2]);
            assert_eq!(rows(&out), r.local_rows);
            return;
        }
    });
}

#[test]
fn slurm_cancelled_array_is_reported_and_resumed() {
    with_reference("slurm_cancelled_array_is_reported_and_resumed", |r| {
        let out = r.dir.join("scancelled.csv");
        let child = spawn_collect(&out);
        let mut job = String::new();
        wait_for("the submission", Duration::from_secs(60), || {
            let root = PathBuf::from(format!("{}.slurm", out.display()));
            let Some(dir) = std::fs::read_dir(&root)
                .ok()
                .and_then(|mut d| d.next())
                .map(|e| e.unwrap().path())
            else {
                return false;
            };
            match submissions(&dir).into_iter().next() {
                Some(s) => {
                    job = s.job_id;
                    true
                }
                None => false,
            }
        });
        let c = Command::new("scancel").arg(&job).output().unwrap();
        assert!(c.status.success());
        let o = child.wait_with_output().unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&format!("slurm job {job} was cancelled (scancel): ")),
            "{err}"
        );
        assert!(
            err.contains("rerun the same command to submit the rest"),
            "{err}"
        );
        // The same command resubmits what was cancelled, and only that.
        let done = lines(&out).len();
        let (o, _) = collect(&out, "slurm");
        assert!(o.status.success(), "{}", stderr(&o));
        let subs = submissions(&job_dir(&out));
        assert_eq!(subs.len(), 2, "{subs:?}");
        assert!(subs[0].cancelled && !subs[1].cancelled);
        assert_eq!(subs[1].indices.len(), 6 - done);
        assert_eq!(rows(&out), r.local_rows);
    });
}

#[test]
fn slurm_worker_failure_is_recorded_and_the_rest_completes() {
    with_reference("slurm_worker_failure_is_recorded", |r| {
        // A job directory of the same measurement whose manifest gives entry 4 an input shape
        // its network cannot take (a shape error in the worker).
        let reference_dir = job_dir(&r.slurm_out);
        let mut m: Manifest = serde_json::from_str(
            &std::fs::read_to_string(reference_dir.join("manifest.json")).unwrap(),
        )
        .unwrap();
        m.jobs[4].arch.input = [1, 2, 2];
        let broken_id = m.jobs[4].id.clone();
        let out = r.dir.join("broken.csv");
        let dir = PathBuf::from(format!("{}.slurm", out.display()))
            .join(reference_dir.file_name().unwrap());
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("manifest.json"),
            serde_json::to_string_pretty(&m).unwrap(),
        )
        .unwrap();

        let (o, _) = collect(&out, "slurm");
        assert!(o.status.success(), "{}", stderr(&o));
        let text = stdout(&o);
        assert!(
            text.contains("5 measured now, 1 failed; 5 rows"),
            "{text}\n{}",
            stderr(&o)
        );
        assert!(
            text.contains(&format!("failed {broken_id}: the measurement panicked")),
            "{text}"
        );
        let result = std::fs::read_to_string(dir.join("results/4.json")).unwrap();
        assert!(
            result.contains("\"error\": \"the measurement panicked"),
            "{result}"
        );
        // Recorded, not retried: a measurement that fails fails again.
        assert_eq!(submissions(&dir).len(), 1);
        let good: Vec<String> = r
            .local_rows
            .iter()
            .filter(|l| !l.starts_with(&broken_id))
            .cloned()
            .collect();
        assert_eq!(rows(&out), good);
    });
}

#[test]
fn slurm_flags_need_the_slurm_executor() {
    let o = run(&[
        "surrogate",
        "collect",
        "-n",
        "1",
        "--out",
        "/nonexistent/x.csv",
        "--slurm-partition",
        "gpu",
    ]);
    assert_input_error(&o, &["--slurm-partition: only with --executor slurm"]);
    let o = run(&[
        "surrogate",
        "collect",
        "-n",
        "1",
        "--out",
        "/nonexistent/x.csv",
        "--executor",
        "slurm",
        "--slurm-max-parallel",
        "0",
    ]);
    assert_input_error(
        &o,
        &["--slurm-max-parallel: expected an integer >= 1, got 0"],
    );
    let dir = fresh_dir("slurm-config");
    let cfg = dir.join("cluster.toml");
    std::fs::write(&cfg, "[slurm]\npartiton = \"gpu\"\n").unwrap();
    let o = run(&[
        "export",
        "--arch",
        "nothing.json",
        "--out",
        dir.join("e").to_str().unwrap(),
        "--executor",
        "slurm",
        "--slurm-config",
        cfg.to_str().unwrap(),
    ]);
    assert_input_error(&o, &["cluster.toml:2:1: field slurm.partiton"]);
}
