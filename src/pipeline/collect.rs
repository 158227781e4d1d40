//! Collecting a measured data set: measure architectures in parallel and append each finished
//! row to the CSV at once, atomically, so that an interrupted collection resumes where it
//! stopped and nothing is measured or written twice.

use crate::error::Result;
use crate::evaluate::{Executor, Job, Measurer};
use crate::nn::{Arch, Reference};
use crate::progress::Observer;
use crate::space::SearchSpace;
use crate::surrogate::dataset::{self, Dataset, Provenance, Row};
use crate::task::Task;
use std::collections::HashSet;
use std::path::Path;

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

pub use crate::evaluate::candidate_seed;

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

/// Measures `archs` with `measurer` through `executor` and appends one row per architecture to
/// the CSV at `out`.
///
/// - Architectures already in `out` (same genome id) are skipped, as are repeats in `archs`.
/// - The rest are measured by the executor, in any order; each gets [`candidate_seed`]`(seed, id)`.
/// - Each finished row is appended at once: the whole file is rewritten to a temporary file and
///   renamed, so a kill at any moment loses no finished row and leaves no half row.
/// - A failed measurement is reported to `observer` (a note) and in the summary, and skipped.
/// - At the end the rows are put in a canonical order (rows not in `archs` first, then in the
///   order of `archs`), so an interrupted and resumed collection gives the same file as an
///   uninterrupted one.
///
/// The rows' provenance is `provenance` with `budget` set to `measurer.describe_budget()` and
/// `version` to this crate's version. Existing rows of another task, profile or budget are an
/// error (one data set, one provenance).
pub fn collect(
    executor: &dyn Executor,
    measurer: &dyn Measurer,
    archs: Vec<Arch>,
    out: &Path,
    provenance: &Provenance,
    seed: u64,
    observer: &dyn Observer,
) -> Result<CollectSummary> {
    let start = std::time::Instant::now();
    // The rows' bits depend on the threads of each measurement: a count other than one is part
    // of the budget (one thread, the default, keeps the shorter form of earlier data sets).
    let threads = executor.threads_per_candidate();
    let budget = match threads {
        1 => measurer.describe_budget(),
        t => format!("{} threads={t}", measurer.describe_budget()),
    };
    let prov = Provenance {
        budget,
        version: env!("CARGO_PKG_VERSION").to_string(),
        ..provenance.clone()
    };
    // One writer per CSV: a second collection into the same file is refused while this one
    // runs (the lock is released when this function returns or the process dies).
    let dir = out
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let _lock = crate::lock::Lock::acquire(&dir.join(format!(".{name}.lock")), out)?;
    crate::lock::remove_stale_temp_files(dir, &name);
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

    let jobs: Vec<Job> = todo.iter().map(|a| Job::new((*a).clone(), seed)).collect();
    let mut text = dataset::to_csv(&existing.rows);
    let mut rows = existing.rows.clone();
    let mut measured = 0;
    let mut failed = Vec::new();
    executor.run(measurer, jobs, observer, &mut |r| {
        let row = r.outcome.and_then(|m| {
            let row = Row {
                measurement: m,
                provenance: prov.clone(),
            };
            match row.non_finite() {
                Some((col, v)) => Err(format!("training failed: {col} is {v}")),
                None => Ok(row),
            }
        });
        match row {
            Ok(row) => {
                text.push_str(&dataset::row_line(&row));
                text.push('\n');
                crate::error::write_atomic(out, text.as_bytes())?;
                rows.push(row);
                measured += 1;
            }
            Err(e) => failed.push((r.id, e)),
        }
        Ok(())
    })?;

    let position: std::collections::HashMap<String, usize> = archs
        .iter()
        .enumerate()
        .map(|(i, a)| (a.genome.id(), i))
        .collect();
    rows.sort_by_key(|r| position.get(&r.measurement.id).map_or((0, 0), |&i| (1, i)));
    let sorted = dataset::to_csv(&rows);
    if sorted != text {
        crate::error::write_atomic(out, sorted.as_bytes())?;
    }
    summary.measured = measured;
    summary.failed = failed;
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
    use crate::Error;
    use crate::evaluate::LocalExecutor;
    use crate::measure::Measurement;
    use crate::progress::Silent;
    use crate::test_support::fake_row;

    /// A deterministic fake: the measurement is a function of the genome and the seed, and it
    /// takes a few milliseconds. Genomes whose id is in `fail` fail.
    struct Fake {
        fail: Vec<String>,
        budget: &'static str,
    }

    impl Measurer for Fake {
        fn measure(&self, arch: &Arch, seed: u64, _: &dyn Observer) -> Result<Measurement> {
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
        let s = collect(
            &LocalExecutor::default(),
            &fake(),
            all.clone(),
            &full,
            &prov(),
            5,
            &Silent,
        )
        .unwrap();
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
        collect(
            &LocalExecutor::default(),
            &fake(),
            some,
            &part,
            &prov(),
            5,
            &Silent,
        )
        .unwrap();
        let s = collect(
            &LocalExecutor::default(),
            &fake(),
            all.clone(),
            &part,
            &prov(),
            5,
            &Silent,
        )
        .unwrap();
        assert_eq!((s.already, s.measured, s.rows), (3, 13, 16));
        assert_eq!(std::fs::read_to_string(&part).unwrap(), full_text);

        // A rerun on a complete file measures nothing and changes nothing.
        let s = collect(
            &LocalExecutor::default(),
            &fake(),
            all,
            &part,
            &prov(),
            5,
            &Silent,
        )
        .unwrap();
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
        let s = collect(
            &LocalExecutor::default(),
            &flaky,
            all.clone(),
            &out,
            &prov(),
            1,
            &Silent,
        )
        .unwrap();
        assert_eq!((s.measured, s.rows), (6, 6));
        let mut want = bad.clone();
        want.sort();
        assert_eq!(
            s.failed.iter().map(|f| f.0.clone()).collect::<Vec<_>>(),
            want
        );
        assert!(s.failed[0].1.contains("fake divergence"));
        let s = collect(
            &LocalExecutor::default(),
            &fake(),
            all.clone(),
            &out,
            &prov(),
            1,
            &Silent,
        )
        .unwrap();
        assert_eq!((s.already, s.measured, s.rows), (6, 2, 8));
        let reference = d.join("ref.csv");
        collect(
            &LocalExecutor::default(),
            &fake(),
            all,
            &reference,
            &prov(),
            1,
            &Silent,
        )
        .unwrap();
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
        collect(
            &LocalExecutor::default(),
            &fake(),
            archs(3),
            &out,
            &prov(),
            1,
            &Silent,
        )
        .unwrap();
        let other = Fake {
            fail: Vec::new(),
            budget: "epochs=9",
        };
        let e = collect(
            &LocalExecutor::default(),
            &other,
            archs(3),
            &out,
            &prov(),
            1,
            &Silent,
        )
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

    #[test]
    fn threads_per_candidate_is_recorded_in_the_budget() {
        let d = dir("threads");
        let out = d.join("d.csv");
        collect(
            &LocalExecutor::new(1, 2),
            &fake(),
            archs(3),
            &out,
            &prov(),
            1,
            &Silent,
        )
        .unwrap();
        let rows = Dataset::read(&out).unwrap().rows;
        assert!(
            rows.iter()
                .all(|r| r.provenance.budget == "fake, 3 ms threads=2")
        );
        // One thread keeps the plain budget, so another thread count is another data set.
        let e = collect(
            &LocalExecutor::new(1, 1),
            &fake(),
            archs(3),
            &out,
            &prov(),
            1,
            &Silent,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("column budget"), "{e}");
        std::fs::remove_dir_all(d).unwrap();
    }
}
