//! Evaluation: measuring many genomes with the measured path (DESIGN.md 4), wherever the
//! measurements run.
//!
//! Two roles, kept apart:
//! - a [`Measurer`] says *what* a measurement is: train one architecture under a budget,
//!   program it, read it at the drift times ([`TrainingMeasurer`]; [`SyntheticMeasurer`] for
//!   tests and benchmarks);
//! - an [`Executor`] says *where* measurements run: [`LocalExecutor`] runs them on this
//!   machine's threads with a stated thread budget per candidate; [`SlurmExecutor`] runs them
//!   as a Slurm job array, one array task per measurement, each rebuilding the measurer from
//!   its [`MeasureSpec`] in a job directory ([`JobDir`]) and writing its result file there.
//!
//! `surrogate collect`, the search's validation and `export --train` all measure through this
//! pair. Results come back keyed by genome id, in whatever order the executor finishes them, and
//! the seed of each measurement comes from the run seed and the genome id ([`candidate_seed`]),
//! never from the order of execution, so every executor gives the same rows.

mod jobdir;
mod local;
mod slurm;
mod spec;
mod synthetic;
mod training;

pub use jobdir::{
    JobDir, Manifest, ManifestJob, ResultFile, Submission, WorkerOutcome, binary_hash, run_worker,
};
pub use local::LocalExecutor;
pub use slurm::{SlurmConfig, SlurmExecutor, SlurmFile};
pub use spec::{DataSource, MeasureSpec};
pub use synthetic::SyntheticMeasurer;
pub use training::{MeasureConfig, TrainingMeasurer};

use crate::error::Result;
use crate::measure::Measurement;
use crate::nn::Arch;
use crate::progress::Observer;

/// Measures one architecture: what a row of a measured data set is.
pub trait Measurer: Sync {
    /// Measures `arch`; every random draw must come from `seed`. Progress goes to `observer`.
    fn measure(&self, arch: &Arch, seed: u64, observer: &dyn Observer) -> Result<Measurement>;
    /// The measurement budget in a few words (the `budget` column of a data set), e.g.
    /// `epochs=4 hwa=0.06 batch=64 lr=0.05 reps=3`.
    fn describe_budget(&self) -> String;
    /// This measurer as data, when it can be rebuilt in another process from it
    /// ([`TrainingMeasurer::from_spec`]); executors that run measurements elsewhere (a cluster)
    /// need it. Default: none.
    fn spec(&self) -> Option<MeasureSpec> {
        None
    }
}

/// One measurement to make: a genome (its id is the key of the result) and its seed.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    /// Genome id: the key of the result.
    pub id: String,
    /// The architecture to measure.
    pub arch: Arch,
    /// Seed of the measurement (see [`candidate_seed`]).
    pub seed: u64,
}

impl Job {
    /// A job for `arch` whose seed derives from `run_seed` and the genome id.
    pub fn new(arch: Arch, run_seed: u64) -> Self {
        let id = arch.genome.id();
        Job {
            seed: candidate_seed(run_seed, &id),
            id,
            arch,
        }
    }
}

/// What one job gave: the measurement, or the one-line reason it failed.
#[derive(Clone, Debug, PartialEq)]
pub struct JobResult {
    /// Genome id of the job.
    pub id: String,
    /// The measurement or the error message.
    pub outcome: std::result::Result<Measurement, String>,
}

/// Runs measurements somewhere: on local threads, or on a cluster.
pub trait Executor: Sync {
    /// A short description for logs and run files, e.g. `local: 2 candidates x 1 thread`.
    fn describe(&self) -> String;
    /// How many measurements run at the same time.
    fn parallelism(&self) -> usize;
    /// Threads each measurement uses. A measurement's bits depend on it (the order of its
    /// floating-point reductions), never on [`Executor::parallelism`], so it is recorded with
    /// every measured row.
    fn threads_per_candidate(&self) -> usize;
    /// Measures every job with `measurer` and hands each result to `on_result` as soon as it is
    /// finished, in any order (one call at a time). A failed measurement is a result, not an
    /// error; an error returned by `on_result` stops the execution (jobs not yet started are
    /// not started) and is returned.
    fn run(
        &self,
        measurer: &dyn Measurer,
        jobs: Vec<Job>,
        observer: &dyn Observer,
        on_result: &mut (dyn FnMut(JobResult) -> Result<()> + Send),
    ) -> Result<()>;
}

/// The seed of the measurement of the genome with id `id` in a run seeded `seed`: depends on
/// the run seed and the genome only, not on the order or the thread that measures it.
pub fn candidate_seed(seed: u64, id: &str) -> u64 {
    crate::rng::derive_seed(seed, crate::space::fnv1a64(id.as_bytes()))
}

/// Measures `jobs` through `executor` and returns the results in the order of `jobs`.
pub fn measure_all(
    executor: &dyn Executor,
    measurer: &dyn Measurer,
    jobs: Vec<Job>,
    observer: &dyn Observer,
) -> Result<Vec<JobResult>> {
    let order: Vec<String> = jobs.iter().map(|j| j.id.clone()).collect();
    let mut got = std::collections::HashMap::new();
    executor.run(measurer, jobs, observer, &mut |r: JobResult| {
        got.insert(r.id.clone(), r);
        Ok(())
    })?;
    Ok(order
        .into_iter()
        .map(|id| {
            got.remove(&id).unwrap_or(JobResult {
                outcome: Err("the executor returned no result".into()),
                id,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Reference;
    use crate::task::Task;

    #[test]
    fn seeds_depend_on_the_genome_not_the_order() {
        let a = Arch::for_task(Reference::Resnet8.genome(), Task::Digits);
        let b = Arch::for_task(Reference::Resnet20.genome(), Task::Digits);
        let (ja, jb) = (Job::new(a.clone(), 3), Job::new(b, 3));
        assert_ne!(ja.seed, jb.seed);
        assert_eq!(ja.seed, Job::new(a, 3).seed);
        assert_eq!(ja.seed, candidate_seed(3, &ja.id));
    }
}
