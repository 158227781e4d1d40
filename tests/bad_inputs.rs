//! Every bad input of issue 12 (and of the families handled before it) through the real
//! binary, as a table: each row names the arguments and the files to create in a fresh folder.
//! An error row must exit 2 with exactly one line on stderr that names the file or flag and the
//! field, never "panicked"; a warning row exits 0 and shows its warning. In every row each
//! file that existed before the command is byte-identical afterwards, and an error leaves no
//! new file behind. The whole table runs in a few seconds (tiny inputs, nothing trained).

use crate::util::*;
use analognas::surrogate::{Row, dataset};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What a row expects.
enum Expect {
    /// Exit 2, one stderr line containing every needle.
    Error(&'static [&'static str]),
    /// Exit 0, stdout containing every needle.
    Ok(&'static [&'static str]),
}

/// One row of the table.
struct Case {
    /// Shown on failure.
    name: &'static str,
    /// Arguments of the binary, run in the row's folder.
    args: Vec<String>,
    /// Files to create in the folder, relative paths.
    files: Vec<(&'static str, Vec<u8>)>,
    /// Empty folders to create.
    dirs: Vec<&'static str>,
    expect: Expect,
}

fn case(
    name: &'static str,
    args: &[&str],
    files: Vec<(&'static str, Vec<u8>)>,
    expect: Expect,
) -> Case {
    Case {
        name,
        args: args.iter().map(|s| s.to_string()).collect(),
        files,
        dirs: Vec::new(),
        expect,
    }
}

fn shipped(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap()
}

/// A shipped hardware profile with each `key = value` line replaced.
fn profile(name: &str, set: &[(&str, &str)]) -> Vec<u8> {
    let text = shipped(&format!("hw_profiles/{name}.toml"));
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    for (key, value) in set {
        let l = lines
            .iter_mut()
            .find(|l| l.split('=').next().map(str::trim) == Some(*key))
            .unwrap_or_else(|| panic!("{key} in {name}"));
        *l = format!("{key} = {value}");
    }
    (lines.join("\n") + "\n").into_bytes()
}

/// The tiny space with its `oc0` line replaced.
fn space_with_oc0(oc0: &str) -> Vec<u8> {
    let text = shipped("search_spaces/tiny.toml");
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            if l.starts_with("oc0") {
                format!("oc0 = {oc0}")
            } else {
                l.to_string()
            }
        })
        .collect();
    (lines.join("\n") + "\n").into_bytes()
}

/// The first `n` rows of the shipped data set.
fn rows(n: usize) -> Vec<Row> {
    let text = shipped("surrogates/digits_pcm_aihwkit.csv");
    let d = dataset::parse("d.csv", &text).unwrap();
    d.rows.into_iter().take(n).collect()
}

fn csv(rows: &[Row]) -> Vec<u8> {
    dataset::to_csv(rows).into_bytes()
}

/// The example run's first `n` lines of `history.csv`.
fn history_head(n: usize) -> Vec<u8> {
    let text = shipped("results/example/history.csv");
    let lines: Vec<&str> = text.lines().take(n).collect();
    (lines.join("\n") + "\n").into_bytes()
}

const MODEL: &str = "surrogates/digits_pcm_aihwkit.json";
const IN_SPACE: &str = r#"{"oc0":16,"ks0":3,"blocks":[{"r":1,"b":1,"ct":"A","wf":1}]}"#;
const OUTSIDE: &str = r#"{"oc0":16,"ks0":9,"blocks":[{"r":1,"b":1,"ct":"A","wf":1}]}"#;

fn cases() -> Vec<Case> {
    use Expect::*;
    let model = root().join(MODEL).display().to_string();
    let model = model.as_str();
    let fp = |file: &'static str| -> Vec<&'static str> {
        vec!["footprint", "--reference", "resnet8", "--profile", file]
    };
    // Every row runs from its own folder; shipped paths resolve through the source tree.
    vec![
        // ---- Hardware profiles: every numeric field checked at load.
        case(
            "profile that made infer spin (inp_res 0, bm_max_factor inf, out_bound 1e-6)",
            &fp("p.toml"),
            vec![(
                "p.toml",
                profile(
                    "pcm_aihwkit",
                    &[
                        ("inp_res", "0"),
                        ("bm_max_factor", "inf"),
                        ("out_bound", "1e-6"),
                    ],
                ),
            )],
            Error(&["p.toml:", "field periphery.", "expected"]),
        ),
        case(
            "bm_max_factor = inf",
            &fp("p.toml"),
            vec![(
                "p.toml",
                profile("pcm_aihwkit", &[("bm_max_factor", "inf")]),
            )],
            Error(&["p.toml:", "field periphery.bm_max_factor", "got inf"]),
        ),
        case(
            "out_bound = 1e-6",
            &fp("p.toml"),
            vec![("p.toml", profile("pcm_aihwkit", &[("out_bound", "1e-6")]))],
            Error(&["p.toml:", "field periphery.out_bound", "got 1e-6"]),
        ),
        case(
            "prog_coeff = [nan, 1, 0]",
            &fp("p.toml"),
            vec![(
                "p.toml",
                profile("pcm_aihwkit", &[("prog_coeff", "[nan, 1, 0]")]),
            )],
            Error(&["p.toml:", "field pcm.prog_coeff", "NaN"]),
        ),
        case(
            "prog_coeff = [1e300, 1e300, 0]",
            &fp("p.toml"),
            vec![(
                "p.toml",
                profile("pcm_aihwkit", &[("prog_coeff", "[1e300, 1e300, 0]")]),
            )],
            Error(&["p.toml:", "field pcm.prog_coeff", "1e300"]),
        ),
        case(
            "a 0-bit DAC (inp_res = 1)",
            &fp("p.toml"),
            vec![("p.toml", profile("pcm_aihwkit", &[("inp_res", "1.0")]))],
            Error(&["p.toml:", "field periphery.inp_res", "bits"]),
        ),
        case(
            "a 0-bit ADC (out_res = 2)",
            &fp("p.toml"),
            vec![("p.toml", profile("pcm_hermes", &[("out_res", "2.0")]))],
            Error(&["p.toml:", "field periphery.out_res", "bits"]),
        ),
        case(
            "drift_scale = 1e6",
            &["hw", "noise-stats", "--profile", "p.toml", "--rows", "4"],
            vec![(
                "p.toml",
                profile("pcm_aihwkit", &[("drift_scale", "1e6")]),
            )],
            Error(&["p.toml:", "field pcm.drift_scale", "1000000"]),
        ),
        case(
            "t_read subnormal (NaN outputs, found by the fuzz test)",
            &fp("p.toml"),
            vec![("p.toml", profile("pcm_aihwkit", &[("t_read", "1e-320")]))],
            Error(&["p.toml:", "field pcm.t_read", "1e-12"]),
        ),
        // ---- Search spaces and genomes: checked before anything is allocated.
        case(
            "oc0 up to i64::MAX (capacity overflow)",
            &["space", "info", "--space", "s.toml"],
            vec![(
                "s.toml",
                space_with_oc0("{ min = 1, max = 9223372036854775807 }"),
            )],
            Error(&["s.toml:", "field genes.oc0.max", "9223372036854775807"]),
        ),
        case(
            "oc0 up to 4e9 (a 32 GB allocation)",
            &["space", "sample", "--space", "s.toml", "-n", "2"],
            vec![("s.toml", space_with_oc0("{ min = 1, max = 4000000000 }"))],
            Error(&["s.toml:", "field genes.oc0.max", "4000000000"]),
        ),
        case(
            "every gene at 4294967295 (a 103 GB allocation)",
            &["footprint", "--arch", "g.json"],
            vec![(
                "g.json",
                br#"{"oc0":4294967295,"ks0":4294967295,"blocks":[{"r":4294967295,"b":4294967295,"ct":"A","wf":4294967295}]}"#.to_vec(),
            )],
            Error(&["g.json", "oc0", "4294967295"]),
        ),
        case(
            "space sample -n 100000000",
            &["space", "sample", "-n", "100000000"],
            vec![],
            Error(&["-n", "1000000", "100000000"]),
        ),
        // ---- Measured data sets: values in range, one measurement per genome id.
        case(
            "fit on a row with accuracy 150 %",
            &["surrogate", "fit", "--data", "d.csv", "--out", "m.json"],
            vec![("d.csv", {
                let mut r = rows(4);
                r[2].measurement.acc_fp = 150.0;
                csv(&r)
            })],
            Error(&["d.csv:4: column acc_fp", "0..=100", "150"]),
        ),
        case(
            "eval on a row with accuracy -20 %",
            &["surrogate", "eval", "--model", model, "--data", "d.csv"],
            vec![("d.csv", {
                let mut r = rows(4);
                r[0].measurement.drift[2].mean = -20.0;
                csv(&r)
            })],
            Error(&["d.csv:2: column acc_1d_mean", "0..=100", "-20"]),
        ),
        case(
            "fit on a negative spread",
            &["surrogate", "fit", "--data", "d.csv", "--out", "m.json"],
            vec![("d.csv", {
                let mut r = rows(3);
                r[1].measurement.drift[0].std = -1.0;
                csv(&r)
            })],
            Error(&["d.csv:3: column acc_1s_std", "got \"-1\""]),
        ),
        case(
            "fit on the same id twice with other values",
            &["surrogate", "fit", "--data", "d.csv", "--out", "m.json"],
            vec![("d.csv", {
                let mut r = rows(4);
                let mut twin = r[1].clone();
                twin.measurement.acc_fp = 12.5;
                r.push(twin);
                csv(&r)
            })],
            Error(&["d.csv:6: column acc_fp", "as on line 3", "same id", "12.5"]),
        ),
        case(
            "eval on the same id twice with other values",
            &["surrogate", "eval", "--model", model, "--data", "d.csv"],
            vec![("d.csv", {
                let mut r = rows(3);
                let mut twin = r[0].clone();
                twin.measurement.seed += 1;
                r.push(twin);
                csv(&r)
            })],
            Error(&["d.csv:5: column seed", "as on line 2", "same id"]),
        ),
        case(
            "a data set with a UTF-8 byte-order mark is read",
            &["surrogate", "eval", "--model", model, "--data", "d.csv"],
            vec![("d.csv", {
                let mut b = "\u{feff}".as_bytes().to_vec();
                b.extend(csv(&rows(6)));
                b
            })],
            Ok(&["on 6 rows of d.csv"]),
        ),
        // ---- Surrogate outputs and mismatches.
        case(
            "fit --out onto its own --data",
            &["surrogate", "fit", "--data", "d.csv", "--out", "d.csv"],
            vec![("d.csv", csv(&rows(8)))],
            Error(&["--out d.csv", "--data"]),
        ),
        case(
            "fit --out onto a file that is not a model",
            &["surrogate", "fit", "--data", "d.csv", "--out", "notes.txt"],
            vec![("d.csv", csv(&rows(8))), ("notes.txt", b"my notes\n".to_vec())],
            Error(&["--out notes.txt", "not", "--force"]),
        ),
        case(
            "a digits surrogate asked for mnist",
            &[
                "surrogate",
                "predict",
                "--model",
                model,
                "--arch",
                "g.json",
                "--task",
                "mnist",
            ],
            vec![("g.json", IN_SPACE.as_bytes().to_vec())],
            Error(&["--task: expected digits", "got mnist", "--allow-mismatch"]),
        ),
        case(
            "a pcm_aihwkit surrogate asked for pcm_hermes",
            &[
                "surrogate",
                "predict",
                "--model",
                model,
                "--arch",
                "g.json",
                "--profile",
                "hw_profiles/pcm_hermes.toml",
            ],
            vec![("g.json", IN_SPACE.as_bytes().to_vec())],
            Error(&["--profile: expected pcm_aihwkit", "got pcm_hermes"]),
        ),
        case(
            "an mnist-shaped architecture on a digits surrogate",
            &["surrogate", "predict", "--model", model, "--arch", "a.json"],
            vec![(
                "a.json",
                format!(
                    r#"{{"genome":{IN_SPACE},"input":[1,28,28],"classes":10}}"#
                )
                .into_bytes(),
            )],
            Error(&["--arch: expected input [1, 8, 8]", "got input [1, 28, 28]"]),
        ),
        case(
            "eval on rows of another profile",
            &["surrogate", "eval", "--model", model, "--data", "d.csv"],
            vec![("d.csv", {
                let mut r = rows(3);
                for row in &mut r {
                    row.provenance.profile = "pcm_hermes".into();
                }
                csv(&r)
            })],
            Error(&["d.csv:2: column profile", "pcm_aihwkit", "--allow-mismatch"]),
        ),
        case(
            "predict outside the fitted genes warns (ks0 = 9)",
            &["surrogate", "predict", "--model", model, "--arch", "g.json"],
            vec![("g.json", OUTSIDE.as_bytes().to_vec())],
            Ok(&["warning: genome outside the genes", "ks0 = 9 (fitted on 3..=7)"]),
        ),
        case(
            "predict --json outside the fitted genes flags it",
            &[
                "surrogate",
                "predict",
                "--model",
                model,
                "--arch",
                "g.json",
                "--json",
            ],
            vec![("g.json", OUTSIDE.as_bytes().to_vec())],
            Ok(&["\"extrapolated\":true", "ks0 = 9"]),
        ),
        case(
            "eval on rows outside the fitted genes warns",
            &["surrogate", "eval", "--model", model, "--data", "d.csv"],
            vec![("d.csv", {
                let mut r = rows(3);
                let g = &mut r[1].measurement.genome;
                g.oc0 = 128;
                r[1].measurement.id = g.id();
                csv(&r)
            })],
            Ok(&["warning: 1 of 3 rows lie outside", "line 3, oc0 = 128 (fitted on 8..=64)"]),
        ),
        case(
            "collect --max-macs nan",
            &[
                "surrogate",
                "collect",
                "-n",
                "1",
                "--max-macs",
                "nan",
                "--out",
                "c.csv",
            ],
            vec![],
            Error(&["--max-macs", "NaN"]),
        ),
        // ---- clap's own errors, on one line.
        case(
            "--population -5",
            &["search", "--population", "-5"],
            vec![],
            Error(&["--population: expected an integer >= 0, got \"-5\"", "search --help"]),
        ),
        case(
            "an unknown flag",
            &["search", "--foo"],
            vec![],
            Error(&["unexpected argument '--foo'", "analognas search --help"]),
        ),
        case(
            "a misspelt flag",
            &["space", "info", "--spce", "x"],
            vec![],
            Error(&["unexpected argument '--spce'", "did you mean '--space'?"]),
        ),
        case(
            "a value that is not a number",
            &["space", "sample", "-n", "many"],
            vec![],
            Error(&["-n: expected an integer, got \"many\""]),
        ),
        case(
            "a value not among the choices",
            &["surrogate", "fit", "--data", "d", "--out", "o", "--model", "xgb"],
            vec![],
            Error(&["--model: expected one of xgboost, forest, got \"xgb\""]),
        ),
        case(
            "missing required flags",
            &["surrogate", "fit"],
            vec![],
            Error(&["surrogate fit: expected --data <DATA> and --out <OUT>"]),
        ),
        case(
            "a missing subcommand",
            &["space"],
            vec![],
            Error(&["space: expected a subcommand (info, sample)"]),
        ),
        case(
            "--help stays clap's full text",
            &["search", "--help"],
            vec![],
            Ok(&["Usage: analognas search [OPTIONS]", "Options:", "--population"]),
        ),
        case(
            "an unknown subcommand",
            &["serch"],
            vec![],
            Error(&["unknown subcommand 'serch'", "did you mean", "'search'"]),
        ),
        // ---- Model directories and outputs.
        Case {
            dirs: vec!["m/model.bpk"],
            ..case(
                "infer on a model whose model.bpk is a directory",
                &["infer", "--model", "m"],
                vec![(
                    "m/arch.json",
                    shipped("results/example/export/arch.json").into_bytes(),
                )],
                Error(&["m/model.bpk", "got a directory"]),
            )
        },
        Case {
            dirs: vec!["m/model.bpk"],
            ..case(
                "evaluate on a model whose model.bpk is a directory",
                &["evaluate", "--model", "m"],
                vec![(
                    "m/arch.json",
                    shipped("results/example/export/arch.json").into_bytes(),
                )],
                Error(&["m/model.bpk", "got a directory"]),
            )
        },
        case(
            "train --out onto a file",
            &["train", "--reference", "resnet8", "--out", "notes.txt"],
            vec![("notes.txt", b"my notes\n".to_vec())],
            Error(&["--out notes.txt", "got a file"]),
        ),
        // ---- Run directories.
        case(
            "report on a run that has not finished",
            &["report", "--run", "r"],
            vec![
                ("r/run.json", shipped("results/example/run.json").into_bytes()),
                ("r/history.csv", history_head(20)),
            ],
            Error(&["r/pareto.json", "not finished", "--resume r"]),
        ),
        case(
            "export from a run that has not finished",
            &["export", "--run", "r", "--rank", "1", "--out", "found"],
            vec![
                ("r/run.json", shipped("results/example/run.json").into_bytes()),
                ("r/history.csv", history_head(20)),
            ],
            Error(&["pareto.json", "--resume"]),
        ),
        // ---- search, resume, locks and overwrites (issue 12 items 1-3): the lead adds the
        // rows of those reproducers here (a resume over an edited checkpoint or history, two
        // writers on one run directory or CSV, --out over an existing directory, a bad
        // run.json, a failed start leaving a stub).
    ]
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

fn check(c: &Case, i: usize) -> Result<(), String> {
    let dir = fresh_dir(&format!("bad-inputs-{i}"));
    for d in &c.dirs {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    for (path, bytes) in &c.files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    let before = snapshot(&dir);
    let args: Vec<&str> = c.args.iter().map(String::as_str).collect();
    let o = run_in(&dir, &args);
    let (out, err) = (stdout(&o), stderr(&o));
    let after = snapshot(&dir);
    let fail = |what: String| Err(format!("{}: {what}\nstdout: {out}\nstderr: {err}", c.name));
    for (path, bytes) in &before {
        if after.get(path) != Some(bytes) {
            return fail(format!("{} changed or removed", path.display()));
        }
    }
    if err.contains("panicked") {
        return fail("a panic".into());
    }
    match c.expect {
        Expect::Error(needles) => {
            if o.status.code() != Some(2) {
                return fail(format!("exit {:?}, expected 2", o.status.code()));
            }
            if err.trim_end().lines().count() != 1 || !err.starts_with("analognas: ") {
                return fail("expected one stderr line starting with \"analognas: \"".into());
            }
            if let Some(n) = needles.iter().find(|n| !err.contains(*n)) {
                return fail(format!("stderr lacks {n:?}"));
            }
            if let Some(new) = after.keys().find(|p| !before.contains_key(*p)) {
                return fail(format!("the error left a new file {}", new.display()));
            }
        }
        Expect::Ok(needles) => {
            if !o.status.success() {
                return fail(format!("exit {:?}, expected 0", o.status.code()));
            }
            let both = format!("{out}{err}");
            if let Some(n) = needles.iter().find(|n| !both.contains(*n)) {
                return fail(format!("output lacks {n:?}"));
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    Ok(())
}

#[test]
fn every_bad_input_is_one_line_and_changes_nothing() {
    let cases = cases();
    // Two at a time: each row is one short process.
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|k| {
                let cases = &cases;
                s.spawn(move || {
                    (k..cases.len())
                        .step_by(2)
                        .filter_map(|i| check(&cases[i], i).err())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}
