//! Errors of run-directory files.

use std::path::Path;

/// A run file that is missing, corrupt or inconsistent with the others; displays as one line
/// that names the file (with line and column where known) and what was expected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunFileError {
    /// A JSON file that does not parse into its type.
    #[error("{path}:{line}:{column}: {message}")]
    Json {
        /// The file.
        path: String,
        /// Line (from 1).
        line: usize,
        /// Column (from 1).
        column: usize,
        /// serde's message, without its position.
        message: String,
    },
    /// A CSV row that does not parse.
    #[error("{path}:{line}: {message}")]
    Csv {
        /// The file.
        path: String,
        /// Line (from 1).
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// A run that never finished has no front yet.
    #[error(
        "{path}: missing: this run has not finished; resume it with `analognas search --resume {dir}`"
    )]
    Unfinished {
        /// The missing file.
        path: String,
        /// The run directory.
        dir: String,
    },
    /// A file that disagrees with another file of the run.
    #[error("{path}: {message}")]
    Inconsistent {
        /// The file.
        path: String,
        /// What disagrees, in one line.
        message: String,
    },
}

impl RunFileError {
    /// A JSON error of `path`.
    pub fn json(path: &Path, e: &serde_json::Error) -> Self {
        let msg = e.to_string();
        // serde_json appends " at line L column C"; the position goes in front instead.
        let message = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        RunFileError::Json {
            path: path.display().to_string(),
            line: e.line(),
            column: e.column(),
            message,
        }
    }

    /// An inconsistency of `path`.
    pub fn inconsistent(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        RunFileError::Inconsistent {
            path: path.as_ref().display().to_string(),
            message: message.into(),
        }
    }
}
