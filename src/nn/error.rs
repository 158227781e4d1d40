//! Errors of architecture and genome files.

use crate::error::{FieldError, Location};
use crate::space::SpaceError;

/// An error of the [`nn`](crate::nn) module; its `Display` is one line naming the file, the
/// position or field, and what was expected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArchError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file that failed.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not JSON, or not a genome or architecture (a missing or unknown key, a
    /// wrong type, a number that does not fit), at a line and column.
    #[error("{at}: {message}")]
    Json {
        /// The file and the position serde_json reports.
        at: Location,
        /// serde_json's message without its position.
        message: String,
    },
    /// The input shape or the number of classes is outside the limits of [`Arch`](super::Arch).
    #[error(transparent)]
    Field(FieldError),
    /// A gene outside the absolute limits ([`SpaceError::Gene`]); boxed to keep this enum small.
    #[error(transparent)]
    Genome(Box<SpaceError>),
}

impl From<SpaceError> for ArchError {
    fn from(e: SpaceError) -> Self {
        ArchError::Genome(Box::new(e))
    }
}

impl ArchError {
    /// A serde_json error on `file`, with its position moved in front of the message.
    pub(crate) fn json(file: &str, e: &serde_json::Error) -> Self {
        let full = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        // serde_json echoes unknown keys and variants verbatim: kept on one line.
        let message = crate::error::one_line(full.strip_suffix(&suffix).unwrap_or(&full));
        let message = match e.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                format!("invalid JSON: {message}")
            }
            _ => message,
        };
        ArchError::Json {
            at: if e.line() > 0 {
                Location::at(file, e.line(), e.column())
            } else {
                Location::file(file)
            },
            message,
        }
    }
}
