//! Errors of the search: settings out of range and a broken ask/tell protocol.

/// An error of the search; displays as one line naming the setting (as its flag) or the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SearchError {
    /// A setting out of range: `--population: expected an integer >= 4, got 2`.
    #[error("{flag}: expected {expected}, got {got}")]
    Setting {
        /// The flag (or run.json field) that holds the setting.
        flag: &'static str,
        /// What is allowed.
        expected: String,
        /// What was given.
        got: String,
    },
    /// The saved state of a run does not fit together (a history row after the checkpoint, a
    /// population member missing from the history).
    #[error("{file}: {message}")]
    State {
        /// The run file at fault.
        file: &'static str,
        /// What is wrong, in one line.
        message: String,
    },
    /// The engine was driven out of order (a programming error of the caller, or a scorer that
    /// returned the wrong number of outcomes).
    #[error("search: {0}")]
    Protocol(String),
}

impl SearchError {
    /// A setting error.
    pub fn setting(flag: &'static str, expected: impl Into<String>, got: impl ToString) -> Self {
        SearchError::Setting {
            flag,
            expected: expected.into(),
            got: got.to_string(),
        }
    }
}
