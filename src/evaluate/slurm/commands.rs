//! The Slurm commands the driver runs (`squeue`, `scancel`) and the text it hands them.

use crate::error::{Error, Result};
use std::collections::HashMap;
use std::process::Command;

/// The state of the array tasks of some jobs: `(job id, index) -> STATE`.
pub(super) type States = HashMap<(String, usize), String>;

/// `squeue -h -r -t all` of `selector` (`-j IDS` or `--name NAME`), tasks of job name `name` only.
pub(super) fn squeue(selector: &[String], name: &str) -> Result<States> {
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

pub(super) fn slurm_command(cmd: &mut Command, what: &str) -> Result<std::process::Output> {
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

pub(super) fn scancel(job_ids: &[String]) {
    if !job_ids.is_empty() {
        let _ = Command::new("scancel").args(job_ids).output();
    }
}

/// Whether a Slurm state means the task is over.
pub(super) fn is_terminal(state: &str) -> bool {
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

pub(super) fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

pub(super) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
