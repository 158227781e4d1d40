//! Errors of hardware profiles.

use crate::error::{FieldError, TomlError};

/// An error of the [`hw`](crate::hw) module; its `Display` is one line naming the file, the
/// field and what was expected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HwError {
    /// The profile file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file that failed.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The profile is not TOML, or a key is unknown or of the wrong type.
    #[error(transparent)]
    Toml(#[from] TomlError),
    /// A profile field outside its stated range
    /// (e.g. `p.toml:4:13: field periphery.out_bound: expected ..., got 1e-6`).
    #[error(transparent)]
    Field(#[from] FieldError),
}

impl HwError {
    /// The same error with the field's line and column in the TOML `text` added, where the
    /// field is written there.
    #[must_use]
    pub fn located(self, text: &str) -> Self {
        match self {
            HwError::Field(e) => HwError::Field(e.located(text)),
            other => other,
        }
    }
}
