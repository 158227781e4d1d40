//! The job directory of measurements that run in other processes (a Slurm job array): the
//! manifest that describes them, the record of submissions, one result file per measurement,
//! and the worker that makes one measurement from it.
//!
//! ```text
//! <dir>/manifest.json      Manifest: version, binary hash, MeasureSpec, every job (index, id, seed, arch)
//! <dir>/submissions.json   the job arrays submitted so far (job id, indices)
//! <dir>/job.sbatch         the generated batch script
//! <dir>/results/<i>.json   ResultFile of index i, written atomically by the worker
//! <dir>/logs/<i>-<job>.log output of array task i of job <job>
//! <dir>/driver.lock        held (flock) by the driver while it runs
//! ```
//!
//! Every file is written atomically (temporary file + rename). Jobs are only ever appended to a
//! manifest, so an index names the same measurement for the life of the directory.

use super::{MeasureSpec, TrainingMeasurer};
use crate::error::{Error, Result, write_atomic};
use crate::measure::Measurement;
use crate::nn::Arch;
use crate::progress::Observer;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Version of the manifest format.
pub const MANIFEST_FORMAT: u32 = 1;
/// File name of the manifest.
pub const MANIFEST_FILE: &str = "manifest.json";
/// File name of the submission record.
pub const SUBMISSIONS_FILE: &str = "submissions.json";
/// File name of the generated batch script.
pub const SCRIPT_FILE: &str = "job.sbatch";

/// Everything a worker needs to make the measurements of a job directory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`MANIFEST_FORMAT`].
    pub format: u32,
    /// The analognas version of the driver; a worker of another version refuses to measure.
    pub version: String,
    /// The binary the workers run.
    pub binary: PathBuf,
    /// [`binary_hash`] of that binary when the driver started; a worker whose binary differs
    /// (rebuilt since) refuses to measure.
    pub binary_hash: String,
    /// Working directory of the driver: the workers run there, so relative paths of the spec
    /// mean the same to them.
    pub workdir: PathBuf,
    /// Threads of each measurement (a measurement's result depends on it).
    pub threads_per_candidate: usize,
    /// The measurer.
    pub spec: MeasureSpec,
    /// Drawn when the directory is created: the Slurm job name derives from it, so the arrays
    /// of a deleted and recreated directory are never taken for this one's.
    pub nonce: String,
    /// The measurements, `jobs[i].index == i`.
    pub jobs: Vec<ManifestJob>,
}

/// One measurement of a manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestJob {
    /// Array index (the position in the manifest).
    pub index: usize,
    /// Genome id.
    pub id: String,
    /// Seed of the measurement.
    pub seed: u64,
    /// The architecture to measure.
    pub arch: Arch,
}

impl Manifest {
    /// A manifest without jobs.
    pub fn new(
        binary: PathBuf,
        binary_hash: String,
        workdir: PathBuf,
        threads_per_candidate: usize,
        spec: MeasureSpec,
    ) -> Self {
        Manifest {
            format: MANIFEST_FORMAT,
            version: env!("CARGO_PKG_VERSION").to_string(),
            binary,
            binary_hash,
            workdir,
            threads_per_candidate,
            spec,
            nonce: new_nonce(),
            jobs: Vec::new(),
        }
    }

    /// The Slurm job name of the arrays of this manifest's directory `dir`.
    pub fn job_name(&self, dir: &Path) -> String {
        let mut bytes = dir.as_os_str().as_encoded_bytes().to_vec();
        bytes.extend_from_slice(self.nonce.as_bytes());
        format!("analognas-{:016x}", crate::space::fnv1a64(&bytes))
    }

    /// 16 hex digits that identify what the manifest measures and with which binary (every
    /// field but the jobs, the nonce and the binary's path): the name of its job directory.
    pub fn key(&self) -> String {
        let v = serde_json::json!([
            self.format,
            self.version,
            self.binary_hash,
            self.workdir,
            self.threads_per_candidate,
            self.spec,
        ]);
        format!("{:016x}", crate::space::fnv1a64(v.to_string().as_bytes()))
    }
}

/// One submitted job array.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    /// Slurm job id of the array.
    pub job_id: String,
    /// Manifest indices it runs (its array task ids).
    pub indices: Vec<usize>,
    /// Cancelled as a whole (scancel): its tasks do not count as attempts.
    #[serde(default)]
    pub cancelled: bool,
}

/// What a worker wrote for one index: the measurement or the reason it failed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultFile {
    /// Manifest index.
    pub index: usize,
    /// Genome id.
    pub id: String,
    /// Seed of the measurement.
    pub seed: u64,
    /// The measurement, when it succeeded.
    pub measurement: Option<Measurement>,
    /// Why it failed (one line), otherwise.
    pub error: Option<String>,
    /// Slurm job id of the task (`$SLURM_JOB_ID`), when run by Slurm.
    pub slurm_job: Option<String>,
    /// Host that measured.
    pub host: String,
    /// Wall-clock seconds of the worker (loading included).
    pub seconds: f64,
}

impl ResultFile {
    /// The outcome as an executor reports it.
    pub fn outcome(&self) -> std::result::Result<Measurement, String> {
        match (&self.measurement, &self.error) {
            (Some(m), None) => Ok(m.clone()),
            (_, Some(e)) => Err(e.clone()),
            (None, None) => Err("the result file holds neither a measurement nor an error".into()),
        }
    }
}

/// A job directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobDir {
    /// Its path.
    pub path: PathBuf,
}

impl JobDir {
    /// The job directory at `path` (nothing is created).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        JobDir { path: path.into() }
    }

    /// `manifest.json`.
    pub fn manifest_path(&self) -> PathBuf {
        self.path.join(MANIFEST_FILE)
    }

    /// `submissions.json`.
    pub fn submissions_path(&self) -> PathBuf {
        self.path.join(SUBMISSIONS_FILE)
    }

    /// `job.sbatch`.
    pub fn script_path(&self) -> PathBuf {
        self.path.join(SCRIPT_FILE)
    }

    /// `results/<index>.json`.
    pub fn result_path(&self, index: usize) -> PathBuf {
        self.path.join("results").join(format!("{index}.json"))
    }

    /// `logs/`, where the array tasks' output goes.
    pub fn logs_dir(&self) -> PathBuf {
        self.path.join("logs")
    }

    /// `logs/<index>-<job>.log`: the output of array task `index` of job `job_id`.
    pub fn log_path(&self, index: usize, job_id: &str) -> PathBuf {
        self.logs_dir().join(format!("{index}-{job_id}.log"))
    }

    /// Creates the directory and its `results/` and `logs/` folders.
    pub fn create(&self) -> Result<()> {
        for d in [self.path.join("results"), self.logs_dir()] {
            std::fs::create_dir_all(&d).map_err(|e| Error::io(&d, e))?;
        }
        Ok(())
    }

    /// Takes the directory for this process (`driver.lock`, flock): a second driver on the
    /// same directory is refused.
    pub fn lock(&self) -> Result<crate::lock::Lock> {
        crate::lock::Lock::acquire(&self.path.join("driver.lock"), &self.path)
    }

    /// The manifest, when the directory has one.
    pub fn load_manifest(&self) -> Result<Option<Manifest>> {
        read_json(&self.manifest_path())
    }

    /// Writes the manifest.
    pub fn save_manifest(&self, m: &Manifest) -> Result<()> {
        write_json(&self.manifest_path(), m)
    }

    /// The submissions so far (none when the file is missing).
    pub fn load_submissions(&self) -> Result<Vec<Submission>> {
        Ok(read_json(&self.submissions_path())?.unwrap_or_default())
    }

    /// Writes the submissions.
    pub fn save_submissions(&self, s: &[Submission]) -> Result<()> {
        write_json(&self.submissions_path(), &s)
    }

    /// The result of `index`, when its worker has written one.
    pub fn load_result(&self, index: usize) -> Result<Option<ResultFile>> {
        read_json(&self.result_path(index))
    }

    /// The indices that have a result file, in increasing order.
    pub fn result_indices(&self) -> Vec<usize> {
        let mut v: Vec<usize> = std::fs::read_dir(self.path.join("results"))
            .map(|d| {
                d.filter_map(|e| {
                    let name = e.ok()?.file_name();
                    name.to_str()?.strip_suffix(".json")?.parse().ok()
                })
                .collect()
            })
            .unwrap_or_default();
        v.sort_unstable();
        v
    }

    /// Writes the result of `r.index`.
    pub fn write_result(&self, r: &ResultFile) -> Result<()> {
        write_json(&self.result_path(r.index), r)
    }

    /// The last non-empty line of the output of array task `index` of job `job_id`.
    pub fn log_tail(&self, index: usize, job_id: &str) -> Option<String> {
        let text = std::fs::read_to_string(self.log_path(index, job_id)).ok()?;
        let line = text.lines().rev().find(|l| !l.trim().is_empty())?.trim();
        Some(line.chars().take(300).collect())
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| Error::input(format!("{}: {e}", path.display())))
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value).expect("job files serialize");
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

fn new_nonce() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let seed = crate::rng::derive_seed(t as u64 ^ (t >> 64) as u64, u64::from(std::process::id()));
    format!("{seed:016x}")
}

/// A fingerprint of a binary (FNV-1a 64 of its bytes, 16 hex digits): a rebuilt binary has
/// another.
pub fn binary_hash(path: &Path) -> Result<String> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        for &b in &buf[..n] {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    Ok(format!("{h:016x}"))
}

/// What [`run_worker`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkerOutcome {
    /// Genome id of the index.
    pub id: String,
    /// The result file written.
    pub path: PathBuf,
    /// `Err` with the message when the measurement failed (the failure is recorded in the
    /// result file).
    pub measured: std::result::Result<(), String>,
}

/// Makes the measurement `index` of the job directory `dir` and writes `results/<index>.json`
/// atomically.
///
/// A failure of the measurement itself (an error, a panic, a worker of another version than the
/// manifest's) is recorded in the result file, so the driver reports it and does not retry;
/// that is `Ok` with `measured: Err`. A failure to get that far (no manifest, no such index,
/// data that cannot be read) is returned as `Err` and no result is written: the array task
/// fails and the driver retries it.
pub fn run_worker(
    dir: &Path,
    index: usize,
    binary: &Path,
    observer: &dyn Observer,
) -> Result<WorkerOutcome> {
    let start = std::time::Instant::now();
    let jd = JobDir::new(dir);
    let manifest = jd.load_manifest()?.ok_or_else(|| {
        Error::input(format!(
            "{}: not found (expected the job directory of a driver)",
            jd.manifest_path().display()
        ))
    })?;
    let job = manifest.jobs.get(index).ok_or_else(|| {
        Error::input(format!(
            "--index: expected 0..{} (the jobs of {}), got {index}",
            manifest.jobs.len(),
            jd.manifest_path().display()
        ))
    })?;
    let version = env!("CARGO_PKG_VERSION");
    let hash = binary_hash(binary)?;
    let measured = if manifest.version != version || manifest.binary_hash != hash {
        Err(format!(
            "worker version {version} (binary {} hash {hash}) does not match the manifest's {} (hash {}): the binary changed after submission; rerun the driver",
            binary.display(),
            manifest.version,
            manifest.binary_hash
        ))
    } else {
        let measurer = TrainingMeasurer::from_spec(&manifest.spec)?;
        measure_caught(&measurer, job, manifest.threads_per_candidate, observer)
    };
    let (measurement, error) = match measured {
        Ok(m) => (Some(m), None),
        Err(e) => (None, Some(e)),
    };
    let r = ResultFile {
        index,
        id: job.id.clone(),
        seed: job.seed,
        measurement,
        error: error.clone(),
        slurm_job: std::env::var("SLURM_JOB_ID").ok(),
        host: hostname(),
        seconds: start.elapsed().as_secs_f64(),
    };
    jd.write_result(&r)?;
    Ok(WorkerOutcome {
        id: job.id.clone(),
        path: jd.result_path(index),
        measured: error.map_or(Ok(()), Err),
    })
}

/// Measures `job` on a pool of `threads` threads, a panic turned into an error.
fn measure_caught(
    measurer: &TrainingMeasurer,
    job: &ManifestJob,
    threads: usize,
    observer: &dyn Observer,
) -> std::result::Result<Measurement, String> {
    use super::Measurer;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| format!("cannot start {threads} threads: {e}"))?;
    let run = std::panic::AssertUnwindSafe(|| {
        pool.install(|| measurer.measure(&job.arch, job.seed, observer))
    });
    let m = match std::panic::catch_unwind(run) {
        Ok(r) => r.map_err(|e| e.to_string())?,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            return Err(format!(
                "the measurement panicked: {}",
                msg.lines().next().unwrap_or("")
            ));
        }
    };
    if m.id != job.id {
        return Err(format!(
            "the measurement has id {}, expected {}",
            m.id, job.id
        ));
    }
    Ok(m)
}

fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most `len` bytes into the buffer.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return String::new();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::DataSource;
    use crate::hw::HwProfile;
    use crate::nn::Reference;
    use crate::progress::Silent;
    use crate::task::Task;

    fn spec() -> MeasureSpec {
        let profile =
            HwProfile::load(crate::files::shipped_path("hw_profiles/pcm_aihwkit.toml")).unwrap();
        MeasureSpec {
            data: DataSource {
                task: Task::Digits,
                path: None,
                seed: 3,
            },
            config: crate::train::MeasureConfig {
                train: crate::train::TrainConfig::hardware_aware(&profile),
                reps: 2,
            },
            profile,
            save_dir: None,
        }
    }

    fn dir(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("analognas-jobdir-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn manifests_round_trip_and_keys_ignore_the_jobs() {
        let mut m = Manifest::new("/bin/a".into(), "00".into(), "/w".into(), 1, spec());
        let key = m.key();
        m.jobs.push(ManifestJob {
            index: 0,
            id: Reference::Resnet8.genome().id(),
            seed: 7,
            arch: Arch::for_task(Reference::Resnet8.genome(), Task::Digits),
        });
        assert_eq!(m.key(), key);
        let mut renewed = m.clone();
        renewed.nonce = "another".into();
        assert_eq!(renewed.key(), key);
        assert_ne!(
            renewed.job_name(Path::new("/d")),
            m.job_name(Path::new("/d"))
        );
        assert_ne!(m.job_name(Path::new("/e")), m.job_name(Path::new("/d")));
        let back: Manifest = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
        let mut other = m.clone();
        other.spec.config.reps = 3;
        assert_ne!(other.key(), key);
        other = m.clone();
        other.binary_hash = "01".into();
        assert_ne!(other.key(), key);
    }

    #[test]
    fn workers_refuse_another_binary_and_unknown_indices() {
        let d = dir("worker");
        let jd = JobDir::new(&d);
        jd.create().unwrap();
        let e = run_worker(&d, 0, Path::new("/bin/sh"), &Silent).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("manifest.json: not found (expected the job directory of a driver)"),
            "{e}"
        );
        let a = Arch::for_task(Reference::Resnet8.genome(), Task::Digits);
        let mut m = Manifest::new("/bin/a".into(), "0".into(), "/w".into(), 1, spec());
        m.jobs.push(ManifestJob {
            index: 0,
            id: a.genome.id(),
            seed: 7,
            arch: a,
        });
        jd.save_manifest(&m).unwrap();
        let e = run_worker(&d, 1, Path::new("/bin/sh"), &Silent).unwrap_err();
        assert!(e.to_string().starts_with("--index: expected 0..1"), "{e}");
        assert!(jd.load_result(1).unwrap().is_none());
        // Another binary: the refusal is the result (final, not retried).
        let o = run_worker(&d, 0, Path::new("/bin/sh"), &Silent).unwrap();
        let err = o.measured.unwrap_err();
        assert!(err.contains("does not match the manifest's"), "{err}");
        let r = jd.load_result(0).unwrap().unwrap();
        assert_eq!(r.outcome().unwrap_err(), err);
        assert_eq!((r.index, r.seed), (0, 7));
        assert_eq!(jd.result_indices(), vec![0]);
        // A second driver is refused while the first holds the directory.
        let lock = jd.lock().unwrap();
        let e = jd.lock().unwrap_err().to_string();
        assert!(e.contains("in use by another analognas process"), "{e}");
        drop(lock);
        jd.lock().unwrap();
        std::fs::remove_dir_all(d).unwrap();
    }
}
