//! Exclusive advisory locks on files a process writes to over time: a run directory, a CSV a
//! collection appends to, a Slurm job directory. A lock is a `flock` on a small lock file that
//! holds the holder's pid; the operating system releases it when the process dies (a SIGKILL
//! included), so a stale lock file never blocks a later run.

use crate::error::{Error, Result};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// A held lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct Lock {
    _file: std::fs::File,
    path: PathBuf,
}

impl Lock {
    /// Takes the lock file `path` (created if missing) without waiting. When another process
    /// holds it, the one-line error names `what` (the directory or file being protected) and
    /// the holder's pid.
    pub fn acquire(path: &Path, what: &Path) -> Result<Lock> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        if !try_flock(&file) {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let who = if holder.is_empty() {
                "another analognas process".to_string()
            } else {
                format!("another analognas process (pid {holder})")
            };
            return Err(Error::input(format!(
                "{}: in use by {who}; wait for it to finish or stop it",
                what.display()
            )));
        }
        let _ = file.set_len(0);
        let _ = file.rewind();
        let _ = writeln!(file, "{}", std::process::id());
        let _ = file.flush();
        Ok(Lock {
            _file: file,
            path: path.to_path_buf(),
        })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(unix)]
fn try_flock(file: &std::fs::File) -> bool {
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a file descriptor that `file` owns for the duration of the call.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

#[cfg(not(unix))]
fn try_flock(_: &std::fs::File) -> bool {
    true
}

/// Removes the temporary files an interrupted atomic write left in `dir`: `.NAME.tmpPID` files
/// (see [`crate::error::write_atomic`]) whose `NAME` starts with `prefix` and whose process is
/// no longer running. Returns how many were removed.
pub fn remove_stale_temp_files(dir: &Path, prefix: &str) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix('.')
            .filter(|n| n.starts_with(prefix))
            .and_then(|n| n.rsplit_once(".tmp"))
            .and_then(|(_, pid)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id()
            && !Path::new(&format!("/proc/{pid}")).exists()
            && std::fs::remove_file(e.path()).is_ok()
        {
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_and_released_on_drop() {
        let d = crate::test_support::temp_dir("lock");
        let p = d.join(".lock");
        let l = Lock::acquire(&p, &d).unwrap();
        // flock locks belong to the open file description: a second open in the same process
        // conflicts too, as a second process would.
        let e = Lock::acquire(&p, &d).unwrap_err().to_string();
        assert!(
            e.contains("in use by another analognas process (pid"),
            "{e}"
        );
        assert!(e.contains(&std::process::id().to_string()), "{e}");
        drop(l);
        Lock::acquire(&p, &d).unwrap();
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn stale_temp_files_are_removed() {
        let d = crate::test_support::temp_dir("stale");
        std::fs::write(d.join(".history.csv.tmp999999999"), "x").unwrap();
        std::fs::write(d.join(format!(".a.json.tmp{}", std::process::id())), "x").unwrap();
        std::fs::write(d.join("keep.csv"), "x").unwrap();
        assert_eq!(remove_stale_temp_files(&d, "a."), 0);
        assert_eq!(remove_stale_temp_files(&d, ""), 1);
        assert!(d.join("keep.csv").exists());
        std::fs::remove_dir_all(d).unwrap();
    }
}
