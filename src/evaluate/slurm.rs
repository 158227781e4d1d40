//! The Slurm executor: measurements as one job array, one array task per measurement.
//!
//! The driver (this process) writes a job directory ([`JobDir`]: manifest, batch script),
//! submits `sbatch --parsable --array=<indices>%<max parallel> job.sbatch`, and each array task
//! runs `analognas worker --job DIR --index $SLURM_ARRAY_TASK_ID`, which measures its genome
//! and writes `results/<index>.json` atomically. The driver polls `squeue` (no accounting
//! needed) and the result files, hands each result on as it arrives, resubmits the indices
//! whose task ended without a result (failed, killed, timed out, node failure) up to
//! `retries` times, and records a genome that fails every attempt as a failed result.
//!
//! The job directory's name is a hash of what is measured and of the binary
//! ([`Manifest::key`]), so a driver killed at any moment and restarted with the same command
//! finds it again: finished indices are not measured again, tasks still queued or running are
//! not submitted twice (the submitted job ids are recorded in `submissions.json`).

use super::jobdir::{JobDir, Manifest, ManifestJob, Submission, binary_hash};
use super::{Executor, Job, JobResult, Measurer};
use crate::error::{Error, Result};
use crate::progress::{Observer, Stage};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Array-task settings: the `[slurm]` section of a config file and the `--slurm-*` flags.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlurmConfig {
    /// `--partition`.
    pub partition: Option<String>,
    /// `--time` of each array task (Slurm's formats: `MM`, `HH:MM:SS`, `D-HH`...).
    pub time: Option<String>,
    /// `--cpus-per-task` [default: the threads per candidate].
    pub cpus_per_task: Option<usize>,
    /// `--gpus-per-task`.
    pub gpus_per_task: Option<usize>,
    /// `--mem` of each array task (e.g. `4G`).
    pub mem: Option<String>,
    /// Array tasks running at the same time (the `%N` of `--array`).
    pub max_parallel: Option<usize>,
    /// More sbatch arguments, separated by spaces (e.g. `--account=lab --qos=long`).
    pub extra: Option<String>,
    /// Resubmissions of a task that ended without a result [default: 2].
    pub retries: Option<usize>,
    /// Folder of the job directories [default: next to the command's output].
    pub dir: Option<PathBuf>,
}

/// A config file: its `[slurm]` section.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlurmFile {
    /// The `[slurm]` section.
    pub slurm: SlurmConfig,
}

impl SlurmFile {
    /// Reads a config file (TOML with a `[slurm]` section).
    pub fn load(path: &Path) -> Result<Self> {
        let text = crate::error::read_to_string(path)?;
        let f: SlurmFile = toml::from_str(&text)
            .map_err(|e| crate::error::toml_error(&path.display().to_string(), &text, &e))?;
        f.slurm.check(&path.display().to_string())?;
        Ok(f)
    }
}

/// Default of [`SlurmConfig::retries`].
pub const DEFAULT_RETRIES: usize = 2;

impl SlurmConfig {
    /// `self` with every setting of `over` that is set.
    pub fn overridden_by(self, over: SlurmConfig) -> SlurmConfig {
        SlurmConfig {
            partition: over.partition.or(self.partition),
            time: over.time.or(self.time),
            cpus_per_task: over.cpus_per_task.or(self.cpus_per_task),
            gpus_per_task: over.gpus_per_task.or(self.gpus_per_task),
            mem: over.mem.or(self.mem),
            max_parallel: over.max_parallel.or(self.max_parallel),
            extra: over.extra.or(self.extra),
            retries: over.retries.or(self.retries),
            dir: over.dir.or(self.dir),
        }
    }

    /// Checks the settings; `source` names where they come from in the error (a file, or
    /// `--slurm` for the flags: the field is appended as `-max-parallel`...).
    pub fn check(&self, source: &str) -> Result<()> {
        let flag = |field: &str| {
            if source == "--slurm" {
                format!("--slurm-{}", field.replace('_', "-"))
            } else {
                format!("{source}: field slurm.{field}")
            }
        };
        for (field, v) in [
            ("cpus_per_task", self.cpus_per_task),
            ("max_parallel", self.max_parallel),
        ] {
            if v == Some(0) {
                return Err(Error::input(format!(
                    "{}: expected an integer >= 1, got 0",
                    flag(field)
                )));
            }
        }
        for (field, v) in [
            ("partition", &self.partition),
            ("time", &self.time),
            ("mem", &self.mem),
        ] {
            if let Some(s) = v
                && (s.trim().is_empty() || s.chars().any(char::is_whitespace))
            {
                return Err(Error::input(format!(
                    "{}: expected one word without spaces, got {s:?}",
                    flag(field)
                )));
            }
        }
        Ok(())
    }
}

/// Runs measurements as Slurm array tasks (see the module documentation).
#[derive(Clone, Debug, PartialEq)]
pub struct SlurmExecutor {
    /// Array-task settings.
    pub config: SlurmConfig,
    /// Threads of each measurement (the same setting gives the same results as
    /// [`super::LocalExecutor`]).
    pub threads_per_candidate: usize,
    /// Folder of the job directories (`<root>/<manifest key>`).
    pub root: PathBuf,
    /// The analognas binary the array tasks run (on a shared filesystem).
    pub binary: PathBuf,
    /// Time between two polls of `squeue` and the result files.
    pub poll: Duration,
    /// How long a task may be seen ended before its result file must be there (a shared
    /// filesystem may show a file late).
    pub grace: Duration,
}

/// How long `squeue` may keep failing before the driver gives up.
const SQUEUE_PATIENCE: Duration = Duration::from_secs(300);

impl SlurmExecutor {
    /// An executor running this binary, with job directories under `root`.
    pub fn new(config: SlurmConfig, threads_per_candidate: usize, root: PathBuf) -> Result<Self> {
        let binary = std::env::current_exe()
            .map_err(|e| Error::input(format!("cannot find the analognas binary: {e}")))?;
        Ok(SlurmExecutor {
            config,
            threads_per_candidate: threads_per_candidate.max(1),
            root,
            binary,
            poll: Duration::from_millis(500),
            grace: Duration::from_secs(5),
        })
    }

    fn retries(&self) -> usize {
        self.config.retries.unwrap_or(DEFAULT_RETRIES)
    }

    fn cpus_per_task(&self) -> usize {
        self.config
            .cpus_per_task
            .unwrap_or(self.threads_per_candidate)
    }

    /// The batch script of a job directory: one array task runs one manifest index.
    pub fn script(&self, dir: &JobDir, name: &str, workdir: &Path) -> String {
        let mut s = String::from(
            "#!/bin/bash\n# Generated by analognas: one array task per manifest index.\n",
        );
        let mut opt = |k: &str, v: String| s.push_str(&format!("#SBATCH --{k}={v}\n"));
        opt("job-name", name.to_string());
        opt(
            "output",
            dir.logs_dir().join("%a-%A.log").display().to_string(),
        );
        opt("chdir", workdir.display().to_string());
        opt("ntasks", "1".into());
        opt("cpus-per-task", self.cpus_per_task().to_string());
        if let Some(p) = &self.config.partition {
            opt("partition", p.clone());
        }
        if let Some(t) = &self.config.time {
            opt("time", t.clone());
        }
        if let Some(m) = &self.config.mem {
            opt("mem", m.clone());
        }
        if let Some(g) = self.config.gpus_per_task {
            opt("gpus-per-task", g.to_string());
        }
        s.push_str(&format!(
            "exec {} worker --job {} --index \"$SLURM_ARRAY_TASK_ID\"\n",
            shell_quote(&self.binary.display().to_string()),
            shell_quote(&dir.path.display().to_string())
        ));
        s
    }

    /// Submits the array of `indices`; returns its job id.
    fn submit(&self, dir: &JobDir, indices: &[usize]) -> Result<String> {
        let mut array = array_spec(indices);
        if let Some(m) = self.config.max_parallel {
            array.push_str(&format!("%{m}"));
        }
        let mut cmd = Command::new("sbatch");
        cmd.arg("--parsable").arg(format!("--array={array}"));
        if let Some(extra) = &self.config.extra {
            cmd.args(extra.split_whitespace());
        }
        cmd.arg(dir.script_path());
        let out = slurm_command(&mut cmd, "sbatch")?;
        if !out.status.success() {
            return Err(Error::input(format!(
                "sbatch --array={array} {} failed: {}",
                dir.script_path().display(),
                one_line(&String::from_utf8_lossy(&out.stderr))
            )));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let id = text.trim().split(';').next().unwrap_or("").to_string();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
            return Err(Error::input(format!(
                "sbatch --parsable: expected a job id, got {:?}",
                text.trim()
            )));
        }
        Ok(id)
    }
}

/// The state of the array tasks of some jobs: `(job id, index) -> STATE`.
type States = HashMap<(String, usize), String>;

/// `squeue -h -r -t all` of `selector` (`-j IDS` or `--name NAME`), tasks of job name `name` only.
fn squeue(selector: &[String], name: &str) -> Result<States> {
    let mut cmd = Command::new("squeue");
    cmd.args(["-h", "-r", "-t", "all"])
        .args(selector)
        .args(["-o", "%i %T %j"]);
    let out = slurm_command(&mut cmd, "squeue")?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        // Every job asked for is gone from the controller (MinJobAge): nothing listed.
        if stderr.contains("Invalid job id") {
            return Ok(States::new());
        }
        return Err(Error::input(format!(
            "squeue failed: {}",
            one_line(&stderr)
        )));
    }
    let mut states = States::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let mut f = line.split_whitespace();
        let (Some(task), Some(state), Some(job_name)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        if job_name != name {
            continue;
        }
        if let Some((job, idx)) = task.split_once('_')
            && let Ok(i) = idx.parse::<usize>()
        {
            states.insert((job.to_string(), i), state.to_string());
        }
    }
    Ok(states)
}

fn slurm_command(cmd: &mut Command, what: &str) -> Result<std::process::Output> {
    cmd.output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::input(format!(
                "--executor slurm: {what} not found on PATH (run on a Slurm login node, or use --executor local)"
            ))
        } else {
            Error::input(format!("{what}: {e}"))
        }
    })
}

fn scancel(job_ids: &[String]) {
    if !job_ids.is_empty() {
        let _ = Command::new("scancel").args(job_ids).output();
    }
}

/// Whether a Slurm state means the task is over.
fn is_terminal(state: &str) -> bool {
    matches!(
        state,
        "COMPLETED"
            | "FAILED"
            | "CANCELLED"
            | "TIMEOUT"
            | "NODE_FAIL"
            | "OUT_OF_MEMORY"
            | "PREEMPTED"
            | "BOOT_FAIL"
            | "DEADLINE"
            | "SPECIAL_EXIT"
            | "REVOKED"
    )
}

/// `0-5,7,9-10` for `[0,1,2,3,4,5,7,9,10]` (sorted, distinct).
pub fn array_spec(indices: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < indices.len() {
        let mut j = i;
        while j + 1 < indices.len() && indices[j + 1] == indices[j] + 1 {
            j += 1;
        }
        parts.push(if j == i {
            indices[i].to_string()
        } else {
            format!("{}-{}", indices[i], indices[j])
        });
        i = j + 1;
    }
    parts.join(",")
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Executor for SlurmExecutor {
    fn describe(&self) -> String {
        let mut s = format!(
            "slurm: array tasks of {} cpu{}",
            self.cpus_per_task(),
            if self.cpus_per_task() == 1 { "" } else { "s" }
        );
        if let Some(g) = self.config.gpus_per_task {
            s.push_str(&format!(" + {g} gpu{}", if g == 1 { "" } else { "s" }));
        }
        if let Some(p) = &self.config.partition {
            s.push_str(&format!(" on {p}"));
        }
        if let Some(m) = self.config.max_parallel {
            s.push_str(&format!(", {m} at a time"));
        }
        s.push_str(&format!(
            " x {} thread{}",
            self.threads_per_candidate,
            if self.threads_per_candidate == 1 {
                ""
            } else {
                "s"
            }
        ));
        s
    }

    fn parallelism(&self) -> usize {
        self.config.max_parallel.unwrap_or(usize::MAX)
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
        let spec = measurer.spec().ok_or_else(|| {
            Error::input(format!(
                "--executor slurm: this measurer ({}) cannot be described to a worker process; use --executor local",
                measurer.describe_budget()
            ))
        })?;
        let workdir = std::env::current_dir().map_err(|e| Error::io(".", e))?;
        let binary = if self.binary.is_absolute() {
            self.binary.clone()
        } else {
            workdir.join(&self.binary)
        };
        let hash = binary_hash(&binary)?;
        let mut manifest = Manifest::new(
            binary,
            hash,
            workdir.clone(),
            self.threads_per_candidate,
            spec,
        );
        let key = manifest.key();
        let root = if self.root.is_absolute() {
            self.root.clone()
        } else {
            workdir.join(&self.root)
        };
        let dir = JobDir::new(root.join(&key));
        dir.create()?;
        let _lock = dir.lock()?;

        // The manifest: the directory's jobs, then the new ones appended.
        let mut changed = true;
        if let Some(old) = dir.load_manifest()? {
            if old.key() != key {
                return Err(Error::input(format!(
                    "{}: written for another measurement (key {}, expected {key}); move the directory away",
                    dir.manifest_path().display(),
                    old.key()
                )));
            }
            manifest.jobs = old.jobs;
            manifest.nonce = old.nonce;
            changed = false;
        }
        let mut index_of: HashMap<(String, u64), usize> = manifest
            .jobs
            .iter()
            .map(|j| ((j.id.clone(), j.seed), j.index))
            .collect();
        let mut wanted = BTreeSet::new();
        for job in jobs {
            let k = (job.id.clone(), job.seed);
            let i = match index_of.get(&k) {
                Some(&i) => i,
                None => {
                    let i = manifest.jobs.len();
                    manifest.jobs.push(ManifestJob {
                        index: i,
                        id: job.id,
                        seed: job.seed,
                        arch: job.arch,
                    });
                    index_of.insert(k, i);
                    changed = true;
                    i
                }
            };
            wanted.insert(i);
        }
        if changed {
            dir.save_manifest(&manifest)?;
        }
        // The job name tells this directory's arrays from every other's (adoption, polling).
        let name = manifest.job_name(&dir.path);
        crate::error::write_atomic(
            dir.script_path(),
            self.script(&dir, &name, &workdir).as_bytes(),
        )?;

        let mut driver = Driver {
            exec: self,
            dir: &dir,
            name: &name,
            manifest: &manifest,
            subs: dir.load_submissions()?,
            pending: wanted.clone(),
            ended_at: HashMap::new(),
            squeue_failing: None,
        };
        let stage = Stage::begin(observer, "measure", Some(wanted.len() as u64), 0);
        stage.note(&format!(
            "slurm: job directory {} ({} measurement{})",
            dir.path.display(),
            wanted.len(),
            if wanted.len() == 1 { "" } else { "s" }
        ));
        driver.adopt(&stage)?;
        let outcome = driver.poll_until_done(&stage, on_result);
        if outcome.is_err() {
            // Stop what is still queued or running: the error ends the execution.
            let active = driver.active_jobs();
            scancel(&active);
        }
        outcome
    }
}

/// The state of one execution.
struct Driver<'a> {
    exec: &'a SlurmExecutor,
    dir: &'a JobDir,
    name: &'a str,
    manifest: &'a Manifest,
    subs: Vec<Submission>,
    /// Indices without a result handed on yet.
    pending: BTreeSet<usize>,
    /// When a pending index was first seen ended without a result.
    ended_at: HashMap<usize, Instant>,
    /// Since when `squeue` fails.
    squeue_failing: Option<Instant>,
}

impl Driver<'_> {
    /// The latest submission that ran `i`.
    fn latest(&self, i: usize) -> Option<&Submission> {
        self.subs.iter().rev().find(|s| s.indices.contains(&i))
    }

    /// Submissions that count as attempts of `i`.
    fn attempts(&self, i: usize) -> usize {
        self.subs
            .iter()
            .filter(|s| !s.cancelled && s.indices.contains(&i))
            .count()
    }

    /// Job ids whose tasks may still run a pending index.
    fn active_jobs(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .pending
            .iter()
            .filter_map(|&i| self.latest(i).map(|s| s.job_id.clone()))
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// Records the tasks still queued or running of arrays of this directory that a killed
    /// driver submitted but did not record (it died between sbatch and the record).
    fn adopt(&mut self, stage: &Stage) -> Result<()> {
        let states = squeue(&["--name".into(), self.name.to_string()], self.name)?;
        let mut found: HashMap<String, Vec<usize>> = HashMap::new();
        for ((job, i), state) in &states {
            if !is_terminal(state) && !self.subs.iter().any(|s| &s.job_id == job) {
                found.entry(job.clone()).or_default().push(*i);
            }
        }
        if found.is_empty() {
            return Ok(());
        }
        let mut found: Vec<(String, Vec<usize>)> = found.into_iter().collect();
        found.sort_by_key(|(j, _)| j.parse::<u64>().unwrap_or(0));
        for (job_id, mut indices) in found {
            indices.sort_unstable();
            stage.note(&format!(
                "slurm: found unrecorded job {job_id} of this directory (indices {})",
                array_spec(&indices)
            ));
            self.subs.push(Submission {
                job_id,
                indices,
                cancelled: false,
            });
        }
        self.dir.save_submissions(&self.subs)
    }

    fn poll_until_done(
        &mut self,
        stage: &Stage,
        on_result: &mut (dyn FnMut(JobResult) -> Result<()> + Send),
    ) -> Result<()> {
        let total = self.pending.len() as u64;
        let retries = self.exec.retries();
        loop {
            // 1. Task states first, then result files: a task seen ended has written its file.
            let active = self.active_jobs();
            let states = if active.is_empty() {
                States::new()
            } else {
                match squeue(&["-j".into(), active.join(",")], self.name) {
                    Ok(s) => {
                        self.squeue_failing = None;
                        s
                    }
                    Err(e) => {
                        let since = *self.squeue_failing.get_or_insert_with(Instant::now);
                        if since.elapsed() > SQUEUE_PATIENCE {
                            return Err(e);
                        }
                        stage.note(&format!("slurm: {e}; retrying"));
                        std::thread::sleep(self.exec.poll.max(Duration::from_secs(2)));
                        continue;
                    }
                }
            };

            // 2. Results (one listing of the folder, not one look-up per index: cheaper on a
            // network filesystem).
            for i in self.dir.result_indices() {
                if !self.pending.contains(&i) {
                    continue;
                }
                let Some(r) = self.dir.load_result(i).unwrap_or(None) else {
                    continue;
                };
                let job = &self.manifest.jobs[i];
                if r.id != job.id || r.seed != job.seed {
                    // Left by a task of an earlier directory at this path: not ours.
                    stage.note(&format!(
                        "slurm: {} holds {} seed {}, not {} seed {}; removed",
                        self.dir.result_path(i).display(),
                        r.id,
                        r.seed,
                        job.id,
                        job.seed
                    ));
                    let _ = std::fs::remove_file(self.dir.result_path(i));
                    continue;
                }
                let outcome = r.outcome();
                if let Err(e) = &outcome {
                    stage.note(&format!("{}: measurement failed: {e}", job.id));
                }
                self.pending.remove(&i);
                self.ended_at.remove(&i);
                on_result(JobResult {
                    id: job.id.clone(),
                    outcome,
                })?;
                stage.advance(total - self.pending.len() as u64, "");
            }
            if self.pending.is_empty() {
                return Ok(());
            }

            // 3. Whole arrays cancelled (scancel JOBID): stop and say so.
            for s in self.subs.iter().filter(|s| !s.cancelled) {
                let mine: Vec<usize> = self
                    .pending
                    .iter()
                    .copied()
                    .filter(|&i| self.latest(i).is_some_and(|l| l.job_id == s.job_id))
                    .collect();
                let cancelled = mine
                    .iter()
                    .filter(|&&i| {
                        states.get(&(s.job_id.clone(), i)).map(String::as_str) == Some("CANCELLED")
                    })
                    .count();
                if mine.len() >= 2 && cancelled == mine.len() {
                    let job_id = s.job_id.clone();
                    for sub in self.subs.iter_mut().filter(|x| x.job_id == job_id) {
                        sub.cancelled = true;
                    }
                    self.dir.save_submissions(&self.subs)?;
                    return Err(Error::input(format!(
                        "slurm job {job_id} was cancelled (scancel): {} of {total} measurements not done; the results so far are kept in {}; rerun the same command to submit the rest",
                        self.pending.len(),
                        self.dir.path.display()
                    )));
                }
            }

            // 4. Tasks that ended without a result: resubmit, or record the failure.
            let (mut running, mut queued) = (0, 0);
            let mut submit = Vec::new();
            for i in self.pending.clone() {
                let Some(sub) = self.latest(i).filter(|s| !s.cancelled) else {
                    // Never submitted, or its array was cancelled as a whole.
                    submit.push(i);
                    continue;
                };
                let job_id = sub.job_id.clone();
                let state = states.get(&(job_id.clone(), i)).cloned();
                match state.as_deref() {
                    Some(st) if !is_terminal(st) => {
                        self.ended_at.remove(&i);
                        if st == "PENDING" {
                            queued += 1;
                        } else {
                            running += 1;
                        }
                        continue;
                    }
                    _ => {}
                }
                let since = *self.ended_at.entry(i).or_insert_with(Instant::now);
                if since.elapsed() < self.exec.grace {
                    continue;
                }
                self.ended_at.remove(&i);
                let how = state.unwrap_or_else(|| "(no longer listed by squeue)".into());
                let id = self.manifest.jobs[i].id.clone();
                let attempts = self.attempts(i);
                if attempts <= retries {
                    stage.note(&format!(
                        "slurm: task {job_id}_{i} ({id}) ended {how} without a result; resubmitting (attempt {} of {})",
                        attempts + 1,
                        retries + 1
                    ));
                    submit.push(i);
                } else {
                    let log = self
                        .dir
                        .log_tail(i, &job_id)
                        .map(|l| format!("; its log ends: {l}"))
                        .unwrap_or_default();
                    let e = format!(
                        "slurm task {job_id}_{i} ended {how} without a result after {attempts} attempt{}{log}",
                        if attempts == 1 { "" } else { "s" }
                    );
                    stage.note(&format!("{id}: measurement failed: {e}"));
                    self.pending.remove(&i);
                    on_result(JobResult {
                        id,
                        outcome: Err(e),
                    })?;
                    stage.advance(total - self.pending.len() as u64, "");
                }
            }
            if self.pending.is_empty() {
                return Ok(());
            }

            // 5. Submit what has no task.
            if !submit.is_empty() {
                let job_id = self.exec.submit(self.dir, &submit)?;
                stage.note(&format!(
                    "slurm: submitted job {job_id} (array {})",
                    array_spec(&submit)
                ));
                queued += submit.len();
                self.subs.push(Submission {
                    job_id,
                    indices: submit,
                    cancelled: false,
                });
                self.dir.save_submissions(&self.subs)?;
            }
            stage.advance(
                total - self.pending.len() as u64,
                &format!("{running} running, {queued} queued"),
            );
            std::thread::sleep(self.exec.poll);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_specs_are_compact() {
        assert_eq!(array_spec(&[0, 1, 2, 3, 4, 5]), "0-5");
        assert_eq!(array_spec(&[0, 1, 2, 5, 7, 8]), "0-2,5,7-8");
        assert_eq!(array_spec(&[4]), "4");
        assert_eq!(array_spec(&[]), "");
    }

    #[test]
    fn config_files_and_flags() {
        let d = std::env::temp_dir().join(format!("analognas-slurmcfg-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let p = d.join("c.toml");
        std::fs::write(
            &p,
            "[slurm]\npartition = \"gpu\"\ntime = \"01:00:00\"\nmax_parallel = 4\nextra = \"--qos=long --account=lab\"\n",
        )
        .unwrap();
        let f = SlurmFile::load(&p).unwrap();
        assert_eq!(f.slurm.partition.as_deref(), Some("gpu"));
        let merged = f.slurm.clone().overridden_by(SlurmConfig {
            partition: Some("cpu".into()),
            ..Default::default()
        });
        assert_eq!(merged.partition.as_deref(), Some("cpu"));
        assert_eq!(merged.max_parallel, Some(4));

        std::fs::write(&p, "[slurm]\nmax_paralel = 4\n").unwrap();
        let e = SlurmFile::load(&p).unwrap_err().to_string();
        assert!(e.contains("c.toml:2:1: field slurm.max_paralel"), "{e}");
        std::fs::write(&p, "[slurm]\nmax_parallel = 0\n").unwrap();
        let e = SlurmFile::load(&p).unwrap_err().to_string();
        assert!(
            e.ends_with("c.toml: field slurm.max_parallel: expected an integer >= 1, got 0"),
            "{e}"
        );
        let e = SlurmConfig {
            time: Some("1 h".into()),
            ..Default::default()
        }
        .check("--slurm")
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "--slurm-time: expected one word without spaces, got \"1 h\""
        );
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn scripts_run_one_index_per_task() {
        let mut e = SlurmExecutor::new(
            SlurmConfig {
                partition: Some("gpu".into()),
                gpus_per_task: Some(1),
                time: Some("02:00:00".into()),
                ..Default::default()
            },
            4,
            PathBuf::from("/shared/runs"),
        )
        .unwrap();
        e.binary = PathBuf::from("/shared/bin/analognas");
        let d = JobDir::new("/shared/runs/0123");
        let s = e.script(&d, "analognas-0123", Path::new("/shared/work"));
        assert!(s.contains("#SBATCH --cpus-per-task=4\n"), "{s}");
        assert!(s.contains("#SBATCH --gpus-per-task=1\n"), "{s}");
        assert!(s.contains("#SBATCH --output=/shared/runs/0123/logs/%a-%A.log\n"));
        assert!(s.contains("#SBATCH --chdir=/shared/work\n"));
        assert!(s.ends_with(
            "exec '/shared/bin/analognas' worker --job '/shared/runs/0123' --index \"$SLURM_ARRAY_TASK_ID\"\n"
        ));
        assert_eq!(
            e.describe(),
            "slurm: array tasks of 4 cpus + 1 gpu on gpu x 4 threads"
        );
    }

    #[test]
    fn unshippable_measurers_are_refused() {
        let e = SlurmExecutor::new(SlurmConfig::default(), 1, std::env::temp_dir()).unwrap();
        let m = super::super::SyntheticMeasurer::new(crate::hw::HwProfile::default());
        let a = crate::nn::Arch::for_task(
            crate::nn::Reference::Resnet8.genome(),
            crate::task::Task::Digits,
        );
        let err = e
            .run(
                &m,
                vec![Job::new(a, 1)],
                &crate::progress::Silent,
                &mut |_| Ok(()),
            )
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "--executor slurm: this measurer (synthetic) cannot be described to a worker process; use --executor local"
        );
    }
}
