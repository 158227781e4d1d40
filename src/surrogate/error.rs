//! The errors of the surrogate: measured data sets, fit parameters, model files and the
//! conversion of smartcore's trees. Each displays as one line naming the file (where there is
//! one), the field or column, and what was expected.

/// An error of the surrogate module.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SurrogateError {
    /// A data-set file without a header line.
    #[error("{file}: expected a header line ({expected}...), got an empty file")]
    EmptyFile {
        /// The file, as named by the caller.
        file: String,
        /// The first columns of the expected header.
        expected: String,
    },
    /// A header column that is not the data-set format's column at that place.
    #[error("{file}:{line}: header column {column}: expected {expected}, got {got}")]
    Header {
        /// The file.
        file: String,
        /// The 1-based line of the header.
        line: u64,
        /// The 1-based column number.
        column: usize,
        /// The column name the format has there.
        expected: String,
        /// What the file has there.
        got: String,
    },
    /// A data-set cell that does not hold what its column needs.
    #[error("{file}:{line}: column {column}: {message}")]
    Cell {
        /// The file.
        file: String,
        /// The 1-based line the row starts on.
        line: u64,
        /// The column name.
        column: String,
        /// `expected ..., got ...`.
        message: String,
    },
    /// A data set with too few rows for what was asked.
    #[error("{file}: expected at least {expected}, got {got}")]
    TooFewRows {
        /// The file.
        file: String,
        /// How many rows were needed, in words (`one row`, `5 rows (one per fold)`).
        expected: String,
        /// How many it has, in words.
        got: String,
    },
    /// A parameter (a fit setting, a hardware profile) outside what the operation accepts.
    #[error("{field}: expected {expected}, got {got}")]
    Param {
        /// The parameter's name.
        field: String,
        /// What it must be.
        expected: String,
        /// What it is.
        got: String,
    },
    /// A model used for something it was not fitted on: another task, hardware profile or
    /// search space. `field` is what differs (`task`, `profile`, `space`, `arch`).
    #[error("{field}: expected {expected} (what the surrogate model was fitted on), got {got}")]
    Mismatch {
        /// What differs.
        field: String,
        /// What the model was fitted on.
        expected: String,
        /// What it is used for.
        got: String,
    },
    /// A model file that is not JSON.
    #[error("{file}:{line}:{column}: expected a surrogate model JSON, got invalid JSON: {message}")]
    Json {
        /// The file.
        file: String,
        /// 1-based line of the syntax error.
        line: usize,
        /// 1-based column of the syntax error.
        column: usize,
        /// serde_json's description.
        message: String,
    },
    /// A model file whose JSON does not have the model's structure.
    #[error("{file}: expected a surrogate model: {message}")]
    Model {
        /// The file.
        file: String,
        /// serde_json's description (names the missing or unknown field).
        message: String,
    },
    /// A model-file field with a value the model cannot use.
    #[error("{file}: field {field}: expected {expected}, got {got}")]
    ModelField {
        /// The file.
        file: String,
        /// The dotted field path (`targets.avm.trees`).
        field: String,
        /// What the field must hold.
        expected: String,
        /// What it holds.
        got: String,
    },
    /// smartcore failed to fit a regressor, or its trees could not be converted exactly.
    #[error("surrogate fit failed: {kind}: {message}")]
    Fit {
        /// The regressor family (`xgboost`, `forest`).
        kind: String,
        /// What went wrong.
        message: String,
    },
    /// smartcore's serialized model did not have the layout the converter reads.
    #[error(
        "converting the smartcore model: field {field}: expected {expected} (smartcore's layout changed?)"
    )]
    Convert {
        /// The JSON field of smartcore's serialization.
        field: String,
        /// What the converter expected to find there.
        expected: String,
    },
}
