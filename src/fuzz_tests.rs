//! Mutation fuzzing of every parser of user files, and of genome building: whatever the bytes,
//! each gives `Ok` or a one-line error, never a panic, a hang or a large allocation.
//!
//! Each target starts from the shipped valid files (search spaces, hardware profiles, genomes
//! and architectures, the surrogate model and data set, the example run's `run.json`,
//! `checkpoint.json`, `history.csv`, `pareto.json`, `validation.json`, a Slurm config) and
//! applies 1 to 4 seeded random mutations per case: bit flips, byte overwrites with
//! syntax characters, deletions, insertions of random bytes, truncation, duplicated, swapped or
//! dropped lines, numbers replaced by extreme ones (`0`, `-1`, `1e308`, `nan`, `inf`,
//! `9223372036854775807`, `4294967295`, ...), unicode, a byte-order mark, `\r\n` line ends and
//! spliced chunks. Invalid UTF-8 is read lossily, as the loaders refuse it before parsing (a
//! test below checks that refusal). Whatever parses is then used the way the tool uses it:
//! a space is sized, described and sampled, and its genomes built; a profile programs, reads
//! and runs a small analog matrix (outputs must be finite) and maps a reference network; a
//! genome or architecture is mapped on both shipped profiles and predicted by the shipped
//! surrogate; a surrogate model predicts; a data set's rows are featurised and scored; the
//! genomes of a checkpoint or history that pass [`Genome::check`] are built and mapped.
//!
//! Checked for every case: no panic (`catch_unwind`), an error's text is one non-empty line
//! of at most [`MAX_ERROR_LEN`] bytes, no case takes over [`MAX_CASE_SECONDS`] (a watchdog
//! fails the test if a target does not finish in [`WATCHDOG_SECONDS`]), and no case allocates
//! a block over [`MAX_BLOCK`] or holds over [`MAX_LIVE`] at once (a counting allocator,
//! per thread).
//!
//! Budget: 11 targets, [`CASES`] cases each by default (`ANALOGNAS_FUZZ_CASES` sets another
//! count): 22,000 cases, about 8 s of CPU summed over the targets in a release build
//! (`cargo test --release --lib fuzz`: about 5 s wall on the project's 2 cores under load),
//! the slowest targets (the 266 KB surrogate model, the checkpoint) under 3 s each; the
//! largest block and live size seen are printed per target (`--nocapture`), at most 260 KiB
//! and 2.2 MiB. With 20,000 cases
//! per target (220,000 cases, about 3 minutes of CPU) it found a subnormal `pcm.t_read` that
//! passed validation and gave NaN outputs, and messages that echoed a carriage return or a
//! control character from a key or cell; both are fixed and the run finds nothing since.

use crate::error::Result;
use crate::hw::{HwProfile, footprint};
use crate::nn::{Arch, Reference};
use crate::rng::{SeededRng, seeded};
use crate::space::{Genome, SearchSpace};
use crate::surrogate::SurrogateModel;
use crate::task::Task;
use rand::RngExt as _;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::{Duration, Instant};

/// Cases per target by default.
const CASES: usize = 2000;
/// Longest error text accepted (a line that echoes a huge value is not a usable message).
const MAX_ERROR_LEN: usize = 1024;
/// Slowest case accepted.
const MAX_CASE_SECONDS: f64 = 2.0;
/// A target not done after this long is taken to hang.
const WATCHDOG_SECONDS: u64 = 120;
/// Largest single allocation accepted in a case.
const MAX_BLOCK: usize = 16 << 20;
/// Largest number of bytes live at once in a case (over what was live at its start).
const MAX_LIVE: usize = 64 << 20;

// ---------------------------------------------------------------------------------------------
// A counting allocator: per thread, while a case runs, the largest block and the peak of the
// bytes allocated and not yet freed on that thread.

struct Counting;

#[derive(Clone, Copy)]
struct Stats {
    on: bool,
    live: isize,
    peak: isize,
    block: usize,
}

thread_local! {
    static STATS: Cell<Stats> = const {
        Cell::new(Stats { on: false, live: 0, peak: 0, block: 0 })
    };
}

fn note(add: isize, block: usize) {
    let _ = STATS.try_with(|s| {
        let mut v = s.get();
        if v.on {
            v.live += add;
            v.peak = v.peak.max(v.live);
            v.block = v.block.max(block);
            s.set(v);
        }
    });
}

// SAFETY: every call forwards to the system allocator unchanged; the bookkeeping touches only
// a const-initialised thread-local `Cell` (no allocation, no destructor).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size() as isize, layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size() as isize, layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(-(layout.size() as isize), 0);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size as isize - layout.size() as isize, new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` with the allocation counters of this thread on; returns its result, the largest
/// block and the peak live bytes.
fn counted<T>(f: impl FnOnce() -> T) -> (T, usize, usize) {
    STATS.with(|s| {
        s.set(Stats {
            on: true,
            live: 0,
            peak: 0,
            block: 0,
        })
    });
    let out = f();
    let v = STATS.with(|s| {
        let v = s.get();
        s.set(Stats { on: false, ..v });
        v
    });
    (out, v.block, v.peak.max(0) as usize)
}

// ---------------------------------------------------------------------------------------------
// Mutations.

const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "-1",
    "1",
    "2",
    "3",
    "0.5",
    "-2.5",
    "1e-6",
    "1e-320",
    "1e308",
    "-1e308",
    "1e1000",
    "1e300",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "+inf",
    "4294967295",
    "4294967296",
    "65536",
    "4096",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999",
    "0x10",
    "1_000",
    "",
];

const SNIPPETS: &[&str] = &[
    "\u{feff}",
    "é",
    "\u{202e}",
    "🦀",
    "\u{0}",
    "\\u0000",
    "\"",
    "\"\"",
    "'",
    ",",
    ",,",
    "=",
    "[",
    "]",
    "{",
    "}",
    "[[",
    "#",
    "\n",
    "\r\n",
    "\r",
    "\t",
    " ",
    "-",
    ":",
    "null",
    "true",
    "[]",
    "{}",
    "\"\\ud800\"",
    "\\",
];

/// One random mutation of `b`.
fn mutate(b: &mut Vec<u8>, rng: &mut SeededRng) {
    let pos = |rng: &mut SeededRng, len: usize| rng.random_range(0..=len);
    match rng.random_range(0..15u32) {
        0 if !b.is_empty() => {
            let i = rng.random_range(0..b.len());
            b[i] ^= 1 << rng.random_range(0..8u32);
        }
        1 if !b.is_empty() => {
            let i = rng.random_range(0..b.len());
            let set = b"\0\n\r\"',=[]{}#-.:0123456789eE\xff\xef\xbb\xbf\x80";
            b[i] = set[rng.random_range(0..set.len())];
        }
        2 if !b.is_empty() => {
            let i = rng.random_range(0..b.len());
            let n = rng.random_range(1..=16.min(b.len() - i));
            b.drain(i..i + n);
        }
        3 => {
            let i = pos(rng, b.len());
            let n = rng.random_range(1..=8);
            let bytes: Vec<u8> = (0..n).map(|_| rng.random()).collect();
            b.splice(i..i, bytes);
        }
        4 => {
            let i = pos(rng, b.len());
            b.truncate(i);
        }
        5..=8 => {
            // A number replaced by an extreme one.
            let digits: Vec<usize> = (0..b.len()).filter(|&i| b[i].is_ascii_digit()).collect();
            if digits.is_empty() {
                return;
            }
            let i = digits[rng.random_range(0..digits.len())];
            let num = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'+' | b'_');
            let mut s = i;
            while s > 0 && num(b[s - 1]) {
                s -= 1;
            }
            let mut e = i;
            while e < b.len() && num(b[e]) {
                e += 1;
            }
            let n = NUMBERS[rng.random_range(0..NUMBERS.len())];
            b.splice(s..e, n.bytes());
        }
        9 => {
            let i = pos(rng, b.len());
            let s = SNIPPETS[rng.random_range(0..SNIPPETS.len())];
            b.splice(i..i, s.bytes());
        }
        10..=12 => {
            // Line operations: duplicate, drop or swap.
            let mut lines: Vec<Vec<u8>> = b.split(|&c| c == b'\n').map(<[u8]>::to_vec).collect();
            let n = lines.len();
            let i = rng.random_range(0..n);
            match rng.random_range(0..3u32) {
                0 => {
                    let l = lines[i].clone();
                    lines.insert(rng.random_range(0..=n), l);
                }
                1 if n > 1 => {
                    lines.remove(i);
                }
                _ => lines.swap(i, rng.random_range(0..n)),
            }
            *b = lines.join(&b'\n');
        }
        13 => {
            if rng.random_bool(0.5) {
                b.splice(0..0, "\u{feff}".bytes());
            } else {
                let crlf: Vec<u8> = b
                    .iter()
                    .flat_map(|&c| {
                        if c == b'\n' {
                            vec![b'\r', b'\n']
                        } else {
                            vec![c]
                        }
                    })
                    .collect();
                *b = crlf;
            }
        }
        _ if b.len() > 1 => {
            // A chunk of the input copied elsewhere in it.
            let s = rng.random_range(0..b.len());
            let e = (s + rng.random_range(1..=64)).min(b.len());
            let chunk = b[s..e].to_vec();
            let i = pos(rng, b.len());
            b.splice(i..i, chunk);
        }
        _ => b.push(rng.random()),
    }
}

// ---------------------------------------------------------------------------------------------
// The harness.

/// What one case of a target does with its (lossily decoded) input; `Err` is the error the
/// user would see.
type Case = dyn Fn(&str) -> Result<()> + Sync;

/// Runs `cases` mutated inputs from `seeds` through `case` (see the module doc for what is
/// checked), on a thread watched for hangs.
fn fuzz(name: &'static str, seeds: Vec<Vec<u8>>, case: &'static Case) {
    let cases = std::env::var("ANALOGNAS_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CASES);
    let current = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    let shared = current.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_cases(name, &seeds, cases, case, &shared)
        }));
        let _ = tx.send(r);
    });
    match rx.recv_timeout(Duration::from_secs(WATCHDOG_SECONDS)) {
        Ok(Ok(Ok(_summary))) => {}
        Ok(Ok(Err(failure))) => panic!("fuzz {name}: {failure}"),
        Ok(Err(_)) => panic!("fuzz {name}: the harness itself panicked"),
        Err(_) => {
            let input = current.lock().map(|v| v.clone()).unwrap_or_default();
            panic!(
                "fuzz {name}: no result after {WATCHDOG_SECONDS} s (a hang?) on input {}",
                shown(&input)
            )
        }
    }
}

/// The input as a quoted string, cut to 600 characters.
fn shown(input: &[u8]) -> String {
    let s = String::from_utf8_lossy(input);
    let cut: String = s.chars().take(600).collect();
    format!("{cut:?}{}", if cut.len() < s.len() { " (cut)" } else { "" })
}

fn run_cases(
    name: &str,
    seeds: &[Vec<u8>],
    cases: usize,
    case: &Case,
    current: &std::sync::Mutex<Vec<u8>>,
) -> std::result::Result<String, String> {
    let mut rng = seeded(crate::space::fnv1a64(name.as_bytes()));
    let (mut oks, mut max_block, mut max_live, mut slowest) = (0usize, 0usize, 0usize, 0f64);
    let mut outcome = Ok(());
    for i in 0..cases {
        let mut input = seeds[rng.random_range(0..seeds.len())].clone();
        // A few cases run a seed unchanged (each must be Ok).
        let rounds = if i < seeds.len() {
            input = seeds[i].clone();
            0
        } else if rng.random_bool(0.5) {
            1
        } else {
            rng.random_range(2..=4)
        };
        for _ in 0..rounds {
            mutate(&mut input, &mut rng);
        }
        if let Ok(mut c) = current.lock() {
            c.clone_from(&input);
        }
        let text = String::from_utf8_lossy(&input);
        let t = Instant::now();
        let (r, block, live) =
            counted(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case(&text))));
        let secs = t.elapsed().as_secs_f64();
        slowest = slowest.max(secs);
        max_block = max_block.max(block);
        max_live = max_live.max(live);
        let fail = |what: String| {
            let keep = std::env::temp_dir().join(format!("analognas-fuzz-{name}-case-{i}"));
            let _ = std::fs::write(&keep, &input);
            let at = keep.display();
            Err(format!(
                "case {i}: {what}; input (in {at}) {}",
                shown(&input)
            ))
        };
        outcome = match r {
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                fail(format!("panicked: {msg}"))
            }
            Ok(Err(_)) if i < seeds.len() => fail("a shipped file fails".into()),
            Ok(Err(e)) => {
                let line = e.to_string();
                let breaks = |c: char| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}');
                if line.is_empty() || line.chars().any(breaks) {
                    fail(format!("the error is not one line: {line:?}"))
                } else if line.len() > MAX_ERROR_LEN {
                    fail(format!("an error of {} bytes: {line:.200}...", line.len()))
                } else {
                    Ok(())
                }
            }
            Ok(Ok(())) => {
                oks += 1;
                Ok(())
            }
        };
        if outcome.is_ok() && secs > MAX_CASE_SECONDS {
            outcome = fail(format!("took {secs:.2} s"));
        }
        if outcome.is_ok() && block > MAX_BLOCK {
            outcome = fail(format!("allocated a block of {block} bytes"));
        }
        if outcome.is_ok() && live > MAX_LIVE {
            outcome = fail(format!("held {live} bytes at once"));
        }
        if outcome.is_err() {
            break;
        }
    }
    outcome?;
    Ok(format!(
        "{oks} parsed; largest block {} KiB, peak live {} KiB, slowest case {:.1} ms",
        max_block >> 10,
        max_live >> 10,
        slowest * 1e3
    ))
}

// ---------------------------------------------------------------------------------------------
// What each target does with an input that parses.

fn repo_file(path: &str) -> Vec<u8> {
    std::fs::read(crate::test_support::repo().join(path)).unwrap()
}

/// The first `n` lines of a repository file (the header and `n - 1` rows of a CSV).
fn head(path: &str, n: usize) -> Vec<u8> {
    let text = String::from_utf8(repo_file(path)).unwrap();
    let lines: Vec<&str> = text.lines().take(n).collect();
    (lines.join("\n") + "\n").into_bytes()
}

fn profiles() -> &'static [HwProfile; 2] {
    static P: std::sync::OnceLock<[HwProfile; 2]> = std::sync::OnceLock::new();
    P.get_or_init(|| {
        let load = |name: &str| {
            HwProfile::load(crate::test_support::repo().join(format!("hw_profiles/{name}.toml")))
                .unwrap()
        };
        [load("pcm_aihwkit"), load("pcm_hermes")]
    })
}

fn model() -> &'static SurrogateModel {
    static M: std::sync::OnceLock<SurrogateModel> = std::sync::OnceLock::new();
    M.get_or_init(|| {
        SurrogateModel::load(crate::test_support::repo().join(crate::files::DEFAULT_SURROGATE))
            .unwrap()
    })
}

/// What the tool does with a genome it accepted: check it, map it on both profiles, predict
/// it. Returns the check's error for a genome outside the absolute limits.
fn build(g: &Genome, task: Task) -> Result<()> {
    g.check("g.json")?;
    use_arch(&Arch::for_task(g.clone(), task))
}

fn use_arch(arch: &Arch) -> Result<()> {
    arch.check("a.json")?;
    for p in profiles() {
        let f = footprint(arch, p);
        assert_eq!(f.layers.len(), arch.plan().layers().len());
    }
    let p = model().predict(arch, &profiles()[0]);
    assert!(p.acc_1d.is_finite() && p.avm.is_finite() && p.acc_1d_std.is_finite());
    let _ = model().extrapolation(&arch.genome);
    Ok(())
}

#[test]
fn fuzz_search_space_toml() {
    let seeds = ["paper", "resnet_tinyml", "tiny"]
        .map(|s| repo_file(&format!("search_spaces/{s}.toml")))
        .to_vec();
    fuzz("space", seeds, &|text| {
        let space = SearchSpace::from_toml("s.toml", "s", text)?;
        assert!(space.size() >= 1.0, "{}", space.size());
        let _ = space.describe();
        let _ = model().check_space(&space);
        let mut rng = seeded(1);
        let mut genomes = space.sample_many(3, false, &mut rng)?;
        genomes.extend(space.sample_many(3, true, &mut rng)?);
        for g in &genomes {
            assert!(space.contains(g), "a sample outside its space");
            build(g, Task::Digits)?;
        }
        Ok(())
    });
}

#[test]
fn fuzz_hardware_profile_toml() {
    let seeds = ["pcm_aihwkit", "pcm_hermes"]
        .map(|s| repo_file(&format!("hw_profiles/{s}.toml")))
        .to_vec();
    fuzz("profile", seeds, &|text| {
        let p = HwProfile::from_toml("p.toml", "p", text)?;
        // A small matrix through the whole chip model: programming, drift, read noise, the
        // periphery with bound management; a valid profile gives finite outputs.
        let (rows, cols) = (12, 5);
        let w: Vec<f32> = (0..rows * cols)
            .map(|i| ((i * 7 % 11) as f32 - 5.0) / 5.0)
            .collect();
        let mut rng = seeded(2);
        let m = crate::hw::AnalogMatrix::program(&w, rows, cols, &p, &mut rng);
        let x: Vec<f32> = (0..rows * 2)
            .map(|i| (i as f32 * 0.37).sin() * 3.0)
            .collect();
        for t in [1.0, 86_400.0] {
            let out = m.read(t, &mut rng).forward(&x, 2, &mut rng);
            assert!(
                out.iter().all(|v| v.is_finite()),
                "non-finite output {out:?}"
            );
        }
        let r = Arch::for_task(Reference::Resnet8.genome(), Task::Cifar10);
        let f = footprint(&r, &p);
        assert!(f.tiles >= 1);
        Ok(())
    });
}

#[test]
fn fuzz_genome_and_arch_json() {
    let mut seeds: Vec<Vec<u8>> = Reference::ALL
        .iter()
        .map(|r| r.genome().canonical_json().into_bytes())
        .collect();
    let five = r#"{"oc0":8,"ks0":5,"blocks":[{"r":1,"b":2,"ct":"A","wf":1},{"r":2,"b":1,"ct":"B","wf":2},{"r":1,"b":1,"ct":"C","wf":3},{"r":1,"b":3,"ct":"D","wf":4},{"r":3,"b":1,"ct":"A","wf":1}],"downsample":"all_but_first"}"#;
    seeds.push(five.as_bytes().to_vec());
    seeds.push(repo_file("results/example/export/arch.json"));
    seeds.push(repo_file("results/example/export/genome.json"));
    fuzz("genome", seeds, &|text| {
        let arch = Arch::from_json("g.json", text, Task::Digits)?;
        use_arch(&arch)
    });
}

#[test]
fn fuzz_surrogate_model_json() {
    // The shipped model (266 KB) and a small one fitted here.
    let data = crate::test_support::synthetic_dataset(12, 3, 0.5);
    let params = crate::surrogate::FitParams {
        kind: crate::surrogate::ModelKind::Forest,
        folds: 2,
        seed: 1,
    };
    let small = SurrogateModel::fit(&data, &params).unwrap();
    let seeds = vec![
        repo_file(crate::files::DEFAULT_SURROGATE),
        small.to_json().into_bytes(),
    ];
    fuzz("surrogate-model", seeds, &|text| {
        let m = SurrogateModel::parse("m.json", text)?;
        for r in [Reference::Resnet8, Reference::Resnet32] {
            let arch = Arch::for_task(r.genome(), m.task);
            let p = m.predict(&arch, &profiles()[0]);
            assert!(p.acc_1d.is_finite() && p.avm.is_finite() && p.acc_1d_std.is_finite());
            let _ = m.extrapolation(&arch.genome);
        }
        let _ = m.check_space(&crate::test_support::tinyml_space());
        Ok(())
    });
}

#[test]
fn fuzz_surrogate_data_set_csv() {
    let path = "surrogates/digits_pcm_aihwkit.csv";
    let seeds = vec![head(path, 6), head(path, 2)];
    fuzz("surrogate-csv", seeds, &|text| {
        let d = crate::surrogate::dataset::parse("d.csv", text)?;
        for r in &d.rows {
            assert_eq!(r.features().len(), crate::surrogate::N_FEATURES);
        }
        if !d.rows.is_empty() {
            let _ = model().check_data(&d);
            let _ = model().scores(&d);
        }
        Ok(())
    });
}

#[test]
fn fuzz_history_csv() {
    let seeds = vec![head("results/example/history.csv", 12)];
    fuzz("history-csv", seeds, &|text| {
        for t in crate::rundir::parse_history("history.csv", text)? {
            let _ = build(&t.genome, Task::Digits);
        }
        Ok(())
    });
}

/// A serde_json read into a run-directory type, with the error the run directory gives.
fn run_json<T: for<'de> serde::Deserialize<'de>>(file: &str, text: &str) -> Result<T> {
    serde_json::from_str(text)
        .map_err(|e| crate::rundir::RunFileError::json(std::path::Path::new(file), &e).into())
}

#[test]
fn fuzz_checkpoint_json() {
    let seeds = vec![repo_file("results/example/checkpoint.json")];
    fuzz("checkpoint", seeds, &|text| {
        let ck: crate::rundir::Checkpoint = run_json("checkpoint.json", text)?;
        for m in &ck.population {
            let _ = build(&m.genome, Task::Digits);
        }
        Ok(())
    });
}

#[test]
fn fuzz_run_json() {
    let seeds = vec![repo_file("results/example/run.json")];
    fuzz("run-json", seeds, &|text| {
        run_json::<crate::rundir::RunInfo>("run.json", text).map(|_| ())
    });
}

#[test]
fn fuzz_pareto_json() {
    let seeds = vec![repo_file("results/example/pareto.json")];
    fuzz("pareto-json", seeds, &|text| {
        let p: crate::rundir::ParetoFile = run_json("pareto.json", text)?;
        for m in &p.front {
            let _ = build(&m.genome, Task::Digits);
        }
        Ok(())
    });
}

#[test]
fn fuzz_validation_json() {
    let seeds = vec![repo_file("results/example/validation.json")];
    fuzz("validation-json", seeds, &|text| {
        run_json::<crate::rundir::ValidationFile>("validation.json", text).map(|_| ())
    });
}

#[test]
fn fuzz_slurm_config_toml() {
    let seed = "# cluster settings\n[slurm]\npartition = \"gpu\"\ntime = \"02:00:00\"\n\
                cpus_per_task = 4\ngpus_per_task = 1\nmem = \"8G\"\nmax_parallel = 16\n\
                extra = \"--account=lab --qos=long\"\nretries = 2\ndir = \"/scratch/jobs\"\n";
    fuzz("slurm-config", vec![seed.as_bytes().to_vec()], &|text| {
        let f: crate::evaluate::SlurmFile =
            toml::from_str(text).map_err(|e| crate::error::toml_error("s.toml", text, &e))?;
        f.slurm.check("s.toml")
    });
}

/// The loaders refuse bytes that are not UTF-8 with one line naming the file.
#[test]
fn invalid_utf8_files_are_one_line_errors() {
    let dir = crate::test_support::temp_dir("fuzz-utf8");
    let p = dir.join("bad");
    std::fs::write(&p, b"name = \"\xff\xfe\"\n").unwrap();
    let errors: Vec<String> = vec![
        SearchSpace::load(&p).unwrap_err().to_string(),
        HwProfile::load(&p).unwrap_err().to_string(),
        Arch::load(&p, Task::Digits).unwrap_err().to_string(),
        SurrogateModel::load(&p).unwrap_err().to_string(),
        crate::surrogate::Dataset::read(&p).unwrap_err().to_string(),
        crate::rundir::Checkpoint::load(&p).unwrap_err().to_string(),
    ];
    for e in errors {
        assert!(e.contains("bad") && !e.contains('\n'), "{e}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}
