//! Errors of training and of model directories.

use std::path::Path;

/// An error of training or of a model directory; displays as one line naming the data set or
/// the file and what was expected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// The training split has no samples.
    #[error("{source_name}: the training split is empty")]
    EmptySplit {
        /// Where the data came from.
        source_name: String,
    },
    /// A training setting out of range.
    #[error("{flag}: expected {expected}, got {got}")]
    Setting {
        /// The flag that holds the setting.
        flag: &'static str,
        /// What is allowed.
        expected: &'static str,
        /// What was given.
        got: String,
    },
    /// The loss became NaN or exploded.
    #[error(
        "training failed: {id} diverged: loss {loss} at epoch {epoch}, step {step} (lower the learning rate)"
    )]
    Diverged {
        /// Genome id.
        id: String,
        /// The loss value.
        loss: f64,
        /// Epoch (from 1).
        epoch: usize,
        /// Step (from 0).
        step: usize,
    },
    /// A file of a model directory is missing or does not hold what it should.
    #[error("{path}: {expected}")]
    ModelFile {
        /// The file.
        path: String,
        /// What was expected, and what was found.
        expected: String,
    },
}

impl TrainError {
    /// A model-directory error on `path`.
    pub fn model_file(path: impl AsRef<Path>, expected: impl Into<String>) -> Self {
        TrainError::ModelFile {
            path: path.as_ref().display().to_string(),
            expected: expected.into(),
        }
    }
}
