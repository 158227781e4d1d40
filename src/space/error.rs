//! Errors of search-space files, genomes and sample counts.

use crate::error::{FieldError, TomlError};

/// An error of the [`space`](crate::space) module; its `Display` is one line naming the file
/// (or the request), the field or gene, and what was expected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpaceError {
    /// The space file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file that failed.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The space file is not TOML, or a key is unknown, missing or of the wrong type.
    #[error(transparent)]
    Toml(#[from] TomlError),
    /// A gene range of a space file is empty, malformed or outside the absolute limits
    /// (e.g. `s.toml:8:24: field genes.oc0.max: expected an integer in 1..=4096, got 9000`).
    #[error(transparent)]
    Range(FieldError),
    /// A gene of a genome is outside the absolute limits
    /// (e.g. `g.json: field blocks[0].r: expected an integer in 1..=64, got 4294967295`).
    #[error(transparent)]
    Gene(FieldError),
    /// A request for no genomes or for more than [`SearchSpace::MAX_SAMPLES`](super::SearchSpace::MAX_SAMPLES).
    #[error("expected a sample count in 1..={max}, got {got}")]
    SampleCount {
        /// The count asked for.
        got: usize,
        /// The largest count allowed.
        max: usize,
    },
}

impl SpaceError {
    /// The same error with the field's line and column in the TOML `text` added, where the
    /// field is written there.
    #[must_use]
    pub fn located(self, text: &str) -> Self {
        match self {
            SpaceError::Range(e) => SpaceError::Range(e.located(text)),
            other => other,
        }
    }
}
