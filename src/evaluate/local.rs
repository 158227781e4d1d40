//! The local executor: measurements on this machine's threads.

use super::{Executor, Job, JobResult, Measurer};
use crate::error::{Error, Result};
use crate::progress::{Observer, Stage};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// Runs `parallel` measurements at a time, each on its own pool of `threads_per_candidate`
/// threads (burn's CPU backend parallelises inside the pool it runs in).
///
/// The default is one thread per candidate and as many candidates as the machine has cores,
/// because that measures at least as fast (`analognas bench threads`: hardware-aware training,
/// batch 64, 2 cores, img/s summed over the candidates running at once; two runs): a small
/// digits network is 1.03-1.10x faster as two candidates x 1 thread than as one candidate x 2
/// threads (18,557 against 17,958 img/s), ResNet-20 0.98-1.03x (208.9 against 212.3): a tie.
/// A small network's convolutions are too small to split well, and even ResNet-20's per-image
/// kernels lose to synchronisation and to the parts of a step that do not parallelise (batch
/// norm statistics, the optimiser, weight noise) about what they gain, while two independent
/// candidates keep both cores busy all the time. With one thread each, a measurement's
/// floating-point reductions also run in a fixed order, so its result does not depend on the
/// machine's load. Give a single network all threads instead (`LocalExecutor::new(1, cores)`),
/// as `export --train` does: one measurement has nothing to share its cores with. A
/// measurement's result depends on `threads_per_candidate`, never on `parallel`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalExecutor {
    /// Measurements that run at the same time (>= 1).
    pub parallel: usize,
    /// Threads each measurement may use (>= 1).
    pub threads_per_candidate: usize,
}

/// Cores of this machine (at least 1).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl Default for LocalExecutor {
    fn default() -> Self {
        LocalExecutor {
            parallel: cores(),
            threads_per_candidate: 1,
        }
    }
}

impl LocalExecutor {
    /// `parallel` candidates at a time with `threads_per_candidate` threads each (0 = 1).
    pub fn new(parallel: usize, threads_per_candidate: usize) -> Self {
        LocalExecutor {
            parallel: parallel.max(1),
            threads_per_candidate: threads_per_candidate.max(1),
        }
    }

    /// One candidate at a time with every core: for a single measurement.
    pub fn single() -> Self {
        LocalExecutor::new(1, cores())
    }

    fn pool(threads: usize) -> Result<rayon::ThreadPool> {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| Error::Training(format!("cannot start {threads} threads: {e}")))
    }
}

impl Executor for LocalExecutor {
    fn describe(&self) -> String {
        format!(
            "local: {} candidate{} at a time x {} thread{}",
            self.parallel,
            if self.parallel == 1 { "" } else { "s" },
            self.threads_per_candidate,
            if self.threads_per_candidate == 1 {
                ""
            } else {
                "s"
            }
        )
    }

    fn parallelism(&self) -> usize {
        self.parallel
    }

    fn threads_per_candidate(&self) -> usize {
        self.threads_per_candidate
    }

    fn run(
        &self,
        measurer: &dyn Measurer,
        jobs: Vec<Job>,
        observer: &dyn Observer,
        on_result: &mut (dyn FnMut(JobResult) -> Result<()> + Send),
    ) -> Result<()> {
        if jobs.is_empty() {
            return Ok(());
        }
        let stage = Stage::begin(observer, "measure", Some(jobs.len() as u64), 0);
        // `parallel` plain threads take jobs from a shared queue, each running its job in its
        // own pool of `threads_per_candidate` threads. (An outer rayon pool would not bound
        // the measurements at a time: a rayon worker blocked in another pool's `install`
        // steals more jobs from its own pool meanwhile, so every job would start at once.)
        let workers = self.parallel.min(jobs.len()).max(1);
        let pools = (0..workers)
            .map(|_| Self::pool(self.threads_per_candidate))
            .collect::<Result<Vec<_>>>()?;
        let sink = Mutex::new((on_result, None::<Error>));
        let stop = AtomicBool::new(false);
        let done = AtomicU64::new(0);
        let next = AtomicUsize::new(0);
        let jobs = &jobs;
        std::thread::scope(|scope| {
            for pool in &pools {
                let (sink, stop, done, next, stage) = (&sink, &stop, &done, &next, &stage);
                scope.spawn(move || {
                    loop {
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        let Some(job) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) else {
                            return;
                        };
                        let outcome = pool
                            .install(|| measurer.measure(&job.arch, job.seed, observer))
                            .and_then(|m| {
                                if m.id != job.id {
                                    return Err(Error::Training(format!(
                                        "the measurement has id {}, expected {}",
                                        m.id, job.id
                                    )));
                                }
                                Ok(m)
                            })
                            .map_err(|e| e.to_string());
                        if let Err(e) = &outcome {
                            stage.note(&format!("{}: measurement failed: {e}", job.id));
                        }
                        let mut s = sink.lock().unwrap_or_else(|e| e.into_inner());
                        if s.1.is_none()
                            && let Err(e) = (s.0)(JobResult {
                                id: job.id.clone(),
                                outcome,
                            })
                        {
                            s.1 = Some(e);
                            stop.store(true, Ordering::Relaxed);
                        }
                        drop(s);
                        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                        stage.advance(n, "");
                    }
                });
            }
        });
        let (_, err) = sink.into_inner().unwrap_or_else(|e| e.into_inner());
        match err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::{SyntheticMeasurer, measure_all};
    use crate::hw::HwProfile;
    use crate::measure::Measurement;
    use crate::nn::{Arch, Reference};
    use crate::progress::Silent;
    use crate::task::Task;
    use rayon::prelude::*;

    fn jobs() -> Vec<Job> {
        let space = crate::space::SearchSpace::load(crate::files::shipped_path(
            crate::files::DEFAULT_SPACE,
        ))
        .unwrap();
        let mut rng = crate::rng::seeded(4);
        space
            .sample_lhs(12, &mut rng)
            .into_iter()
            .map(|g| Job::new(Arch::for_task(g, Task::Digits), 9))
            .collect()
    }

    /// A measurer that records how many measurements run at once.
    struct Counting {
        inner: SyntheticMeasurer,
        now: AtomicUsize,
        most: AtomicUsize,
    }

    impl Measurer for Counting {
        fn measure(&self, arch: &Arch, seed: u64, o: &dyn Observer) -> Result<Measurement> {
            let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(n, Ordering::SeqCst);
            // Work inside the candidate's pool, as burn's kernels do.
            let sum: u64 = (0..20_000u64).into_par_iter().map(|x| x % 7).sum();
            std::thread::sleep(std::time::Duration::from_millis(5 + sum % 2));
            self.now.fetch_sub(1, Ordering::SeqCst);
            self.inner.measure(arch, seed, o)
        }
        fn describe_budget(&self) -> String {
            "counting".into()
        }
    }

    #[test]
    fn at_most_parallel_measurements_run_at_once() {
        for (parallel, tpc) in [(1, 1), (2, 1), (3, 2)] {
            let m = Counting {
                inner: SyntheticMeasurer::new(HwProfile::default()),
                now: AtomicUsize::new(0),
                most: AtomicUsize::new(0),
            };
            let got = measure_all(&LocalExecutor::new(parallel, tpc), &m, jobs(), &Silent);
            assert_eq!(got.unwrap().len(), 12);
            let most = m.most.load(Ordering::SeqCst);
            assert!(
                most <= parallel,
                "{most} at once with parallel = {parallel}"
            );
        }
    }

    #[test]
    fn results_do_not_depend_on_parallelism() {
        let m = SyntheticMeasurer::new(HwProfile::default());
        let one = measure_all(&LocalExecutor::new(1, 1), &m, jobs(), &Silent).unwrap();
        let four = measure_all(&LocalExecutor::new(4, 1), &m, jobs(), &Silent).unwrap();
        assert_eq!(one, four);
        assert_eq!(one.len(), 12);
        assert!(one.iter().all(|r| r.outcome.is_ok()));
    }

    struct Failing;
    impl Measurer for Failing {
        fn measure(&self, arch: &Arch, _: u64, _: &dyn Observer) -> Result<Measurement> {
            Err(Error::Training(format!("no {}", arch.genome.id())))
        }
        fn describe_budget(&self) -> String {
            "none".into()
        }
    }

    #[test]
    fn failures_are_results_and_sink_errors_stop() {
        let a = Arch::for_task(Reference::Resnet8.genome(), Task::Digits);
        let r = measure_all(
            &LocalExecutor::default(),
            &Failing,
            vec![Job::new(a, 1)],
            &Silent,
        )
        .unwrap();
        assert!(
            r[0].outcome
                .as_ref()
                .unwrap_err()
                .starts_with("training failed: no ")
        );
        let m = SyntheticMeasurer::new(HwProfile::default());
        let mut calls = 0;
        let e = LocalExecutor::new(1, 1)
            .run(&m, jobs(), &Silent, &mut |_| {
                calls += 1;
                Err(Error::input("disk full"))
            })
            .unwrap_err();
        assert_eq!(e.to_string(), "disk full");
        assert_eq!(calls, 1);
    }
}
