//! Collecting a measured data set: measure architectures in parallel and append each finished
//! row to the CSV at once, atomically, so that an interrupted collection resumes where it
//! stopped and nothing is measured or written twice.

use super::dataset::{self, Dataset, Provenance, Row};
use crate::error::{Error, Result};
use crate::measure::Measurement;
use crate::nn::{Arch, Reference};
use crate::space::SearchSpace;
use crate::task::Task;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::collections::HashSet;
use std::path::Path;
use std::sync::Mutex;

/// Something that measures an architecture (the training path, or a fake in tests).
pub trait Measurer: Sync {
    /// Measures `arch`; all randomness must come from `seed`.
    fn measure(&self, arch: &Arch, seed: u64) -> Result<Measurement>;
    /// The training budget in a few words (goes into the `budget` column), e.g. `epochs=3 reps=5`.
    fn describe_budget(&self) -> String;
}

/// What a collection did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CollectSummary {
    /// Distinct architectures asked for.
    pub requested: usize,
    /// Of those, how many the file already held (skipped).
    pub already: usize,
    /// Rows measured and appended by this run.
    pub measured: usize,
    /// Architectures whose measurement failed: `(id, error)`. They are not written, so a rerun
    /// tries them again.
    pub failed: Vec<(String, String)>,
    /// Rows in the file at the end.
    pub rows: usize,
    /// Wall-clock seconds of the run.
    pub seconds: f64,
}

/// The seed of the measurement of the genome with id `id`: depends on the run seed and the
/// genome only, not on the order or the thread that measures it.
pub fn candidate_seed(seed: u64, id: &str) -> u64 {
    crate::rng::derive_seed(seed, crate::space::fnv1a64(id.as_bytes()))
}

/// The architectures a collection measures: the reference networks (ResNet-8/20/32 genomes),
/// then `n` Latin-hypercube samples of `space` drawn with `seed`, all on `task`.
///
/// The same `space`, `n` and `seed` give the same list, so a rerun resumes the same collection.
/// Latin-hypercube designs of different `n` do not nest: a larger `n` gives a new design.
pub fn collection_archs(space: &SearchSpace, task: Task, n: usize, seed: u64) -> Vec<Arch> {
    let mut rng = crate::rng::seeded(seed);
    Reference::ALL
        .iter()
        .map(|r| r.genome())
        .chain(space.sample_lhs(n, &mut rng))
        .map(|g| Arch::for_task(g, task))
        .collect()
}

/// Measures `archs` with `measurer` and appends one row per architecture to the CSV at `out`.
///
/// - Architectures already in `out` (same genome id) are skipped, as are repeats in `archs`.
/// - The rest are measured in parallel (rayon); each gets [`candidate_seed`]`(seed, id)`.
/// - Each finished row is appended at once: the whole file is rewritten to a temporary file and
///   renamed, under a lock, so a kill at any moment loses no finished row and leaves no half row.
/// - A failed measurement is reported on stderr and in the summary, and skipped.
/// - At the end the rows are put in a canonical order (rows not in `archs` first, then in the
///   order of `archs`), so an interrupted and resumed collection gives the same file as an
///   uninterrupted one.
///
/// The rows' provenance is `provenance` with `budget` set to `measurer.describe_budget()` and
/// `version` to this crate's version. Existing rows of another task, profile or budget are an
/// error (one data set, one provenance).
pub fn collect(
    measurer: &dyn Measurer,
    archs: Vec<Arch>,
    out: &Path,
    provenance: &Provenance,
    seed: u64,
    progress: bool,
) -> Result<CollectSummary> {
    let start = std::time::Instant::now();
    let prov = Provenance {
        budget: measurer.describe_budget(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        ..provenance.clone()
    };
    let existing = if out.exists() {
        Dataset::read(out)?
    } else {
        dataset::parse(&out.display().to_string(), &dataset::header_line())?
    };
    check_provenance(&existing, &prov)?;
    let done: HashSet<String> = existing
        .rows
        .iter()
        .map(|r| r.measurement.id.clone())
        .collect();

    let mut seen = HashSet::new();
    let archs: Vec<Arch> = archs
        .into_iter()
        .filter(|a| seen.insert(a.genome.id()))
        .collect();
    let todo: Vec<&Arch> = archs
        .iter()
        .filter(|a| !done.contains(&a.genome.id()))
        .collect();
    let mut summary = CollectSummary {
        requested: archs.len(),
        already: archs.len() - todo.len(),
        ..Default::default()
    };

    let pb = if progress {
        let pb = ProgressBar::new(todo.len() as u64);
        pb.set_style(
            ProgressStyle::with_template(
                "{spinner} measuring [{bar:30}] {pos}/{len} elapsed {elapsed} eta {eta} {msg}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        pb
    } else {
        ProgressBar::hidden()
    };

    struct Shared {
        text: String,
        rows: Vec<Row>,
        measured: usize,
        failed: Vec<(String, String)>,
        write_error: Option<Error>,
    }
    let shared = Mutex::new(Shared {
        text: dataset::to_csv(&existing.rows),
        rows: existing.rows.clone(),
        measured: 0,
        failed: Vec::new(),
        write_error: None,
    });
    let lock = || shared.lock().unwrap_or_else(|e| e.into_inner());

    todo.par_iter().for_each(|arch| {
        if lock().write_error.is_some() {
            return;
        }
        let id = arch.genome.id();
        let result = measurer
            .measure(arch, candidate_seed(seed, &id))
            .and_then(|m| {
                let row = Row {
                    measurement: m,
                    provenance: prov.clone(),
                };
                if row.measurement.id != id {
                    return Err(Error::Training(format!(
                        "the measurement has id {}, expected {id}",
                        row.measurement.id
                    )));
                }
                if let Some((col, v)) = row.non_finite() {
                    return Err(Error::Training(format!("{col} is {v}")));
                }
                Ok(row)
            });
        match result {
            Ok(row) => {
                let mut s = lock();
                s.text.push_str(&dataset::row_line(&row));
                s.text.push('\n');
                match crate::error::write_atomic(out, s.text.as_bytes()) {
                    Ok(()) => {
                        s.rows.push(row);
                        s.measured += 1;
                    }
                    Err(e) => s.write_error = Some(e),
                }
            }
            Err(e) => {
                pb.suspend(|| eprintln!("analognas: {id}: measurement failed: {e}"));
                lock().failed.push((id, e.to_string()));
            }
        }
        pb.inc(1);
    });
    pb.finish_and_clear();

    let s = shared.into_inner().unwrap_or_else(|e| e.into_inner());
    if let Some(e) = s.write_error {
        return Err(e);
    }
    let position: std::collections::HashMap<String, usize> = archs
        .iter()
        .enumerate()
        .map(|(i, a)| (a.genome.id(), i))
        .collect();
    let mut rows = s.rows;
    rows.sort_by_key(|r| position.get(&r.measurement.id).map_or((0, 0), |&i| (1, i)));
    let text = dataset::to_csv(&rows);
    if text != s.text {
        crate::error::write_atomic(out, text.as_bytes())?;
    }
    summary.measured = s.measured;
    summary.failed = s.failed;
    summary.failed.sort();
    summary.rows = rows.len();
    summary.seconds = start.elapsed().as_secs_f64();
    Ok(summary)
}

fn check_provenance(existing: &Dataset, prov: &Provenance) -> Result<()> {
    for (i, r) in existing.rows.iter().enumerate() {
        let p = &r.provenance;
        let mismatch = if p.task != prov.task {
            Some(("task", prov.task.to_string(), p.task.to_string()))
        } else if p.profile != prov.profile {
            Some(("profile", prov.profile.clone(), p.profile.clone()))
        } else if p.budget != prov.budget {
            Some(("budget", prov.budget.clone(), p.budget.clone()))
        } else {
            None
        };
        if let Some((col, want, got)) = mismatch {
            return Err(existing.row_error(
                i,
                col,
                &format!(
                    "expected {want:?} (this collection), got {got:?}; collect into another file"
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surrogate::dataset::tests::fake_row;

    /// A deterministic fake: the measurement is a function of the genome and the seed, and it
    /// takes a few milliseconds. Genomes whose id is in `fail` fail.
    struct Fake {
        fail: Vec<String>,
        budget: &'static str,
    }

    impl Measurer for Fake {
        fn measure(&self, arch: &Arch, seed: u64) -> Result<Measurement> {
            std::thread::sleep(std::time::Duration::from_millis(3));
            let id = arch.genome.id();
            if self.fail.contains(&id) {
                return Err(Error::Training(format!("fake divergence of {id}")));
            }
            let mut m = fake_row(arch.genome.clone(), seed).measurement;
            m.acc_fp += (seed % 1000) as f64 / 1000.0;
            Ok(m)
        }

        fn describe_budget(&self) -> String {
            self.budget.to_string()
        }
    }

    fn fake() -> Fake {
        Fake {
            fail: Vec::new(),
            budget: "fake, 3 ms",
        }
    }

    fn archs(n: usize) -> Vec<Arch> {
        let space = SearchSpace::load(format!(
            "{}/search_spaces/resnet_tinyml.toml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let mut rng = crate::rng::seeded(11);
        let mut v: Vec<Arch> = space
            .sample_lhs(n, &mut rng)
            .into_iter()
            .map(|g| Arch::for_task(g, Task::Digits))
            .collect();
        v.push(v[2].clone());
        v
    }

    #[test]
    fn collection_list_is_references_then_lhs() {
        let space = SearchSpace::load(format!(
            "{}/search_spaces/resnet_tinyml.toml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let a = collection_archs(&space, Task::Digits, 20, 4);
        assert_eq!(a.len(), 23);
        assert_eq!(a[1].genome, Reference::Resnet20.genome());
        assert_eq!(a[5].input, [1, 8, 8]);
        assert!(a[3..].iter().all(|x| space.contains(&x.genome)));
        assert_eq!(a, collection_archs(&space, Task::Digits, 20, 4));
        assert_ne!(a[3..], collection_archs(&space, Task::Digits, 20, 5)[3..]);
    }

    fn prov() -> Provenance {
        Provenance::new(Task::Digits, "resnet_tinyml", "pcm_aihwkit", "")
    }

    fn dir(name: &str) -> std::path::PathBuf {
        let d =
            std::env::temp_dir().join(format!("analognas-collect-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn resume_gives_the_uninterrupted_file() {
        let d = dir("resume");
        let all = archs(16);
        let full = d.join("full.csv");
        let s = collect(&fake(), all.clone(), &full, &prov(), 5, false).unwrap();
        assert_eq!(
            (s.requested, s.already, s.measured, s.rows),
            (16, 0, 16, 16)
        );
        let full_text = std::fs::read_to_string(&full).unwrap();
        let rows = Dataset::read(&full).unwrap().rows;
        let ids: Vec<String> = rows.iter().map(|r| r.measurement.id.clone()).collect();
        let want: Vec<String> = all[..16].iter().map(|a| a.genome.id()).collect();
        assert_eq!(ids, want, "canonical order, no duplicate");
        assert!(rows.iter().all(|r| r.provenance.budget == "fake, 3 ms"));
        assert_eq!(rows[0].measurement.seed, candidate_seed(5, &ids[0]));

        // An interrupted run: a few rows written (out of order), then a rerun on all.
        let part = d.join("part.csv");
        let some = vec![all[9].clone(), all[3].clone(), all[12].clone()];
        collect(&fake(), some, &part, &prov(), 5, false).unwrap();
        let s = collect(&fake(), all.clone(), &part, &prov(), 5, false).unwrap();
        assert_eq!((s.already, s.measured, s.rows), (3, 13, 16));
        assert_eq!(std::fs::read_to_string(&part).unwrap(), full_text);

        // A rerun on a complete file measures nothing and changes nothing.
        let s = collect(&fake(), all, &part, &prov(), 5, false).unwrap();
        assert_eq!((s.already, s.measured), (16, 0));
        assert_eq!(std::fs::read_to_string(&part).unwrap(), full_text);
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn failures_are_skipped_and_retried() {
        let d = dir("fail");
        let all = archs(8);
        let out = d.join("d.csv");
        let bad = vec![all[1].genome.id(), all[6].genome.id()];
        let flaky = Fake {
            fail: bad.clone(),
            budget: "fake, 3 ms",
        };
        let s = collect(&flaky, all.clone(), &out, &prov(), 1, false).unwrap();
        assert_eq!((s.measured, s.rows), (6, 6));
        let mut want = bad.clone();
        want.sort();
        assert_eq!(
            s.failed.iter().map(|f| f.0.clone()).collect::<Vec<_>>(),
            want
        );
        assert!(s.failed[0].1.contains("fake divergence"));
        let s = collect(&fake(), all.clone(), &out, &prov(), 1, false).unwrap();
        assert_eq!((s.already, s.measured, s.rows), (6, 2, 8));
        let reference = d.join("ref.csv");
        collect(&fake(), all, &reference, &prov(), 1, false).unwrap();
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            std::fs::read_to_string(&reference).unwrap()
        );
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn another_budget_is_refused() {
        let d = dir("budget");
        let out = d.join("d.csv");
        // With a progress bar (hidden when stderr is not a terminal).
        collect(&fake(), archs(3), &out, &prov(), 1, true).unwrap();
        let other = Fake {
            fail: Vec::new(),
            budget: "epochs=9",
        };
        let e = collect(&other, archs(3), &out, &prov(), 1, false)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(&format!(
                "{}:2: column budget: expected \"epochs=9\"",
                out.display()
            )),
            "{e}"
        );
        std::fs::remove_dir_all(d).unwrap();
    }
}
