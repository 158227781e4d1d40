//! The errors of the data loaders. Each displays as one line naming the file or folder, the
//! field (a header part, a record, a line) and what was expected.

use std::path::Path;

/// An error of a data loader.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// A file or folder that does not exist.
    #[error("{path}: {kind} not found (expected {expected})")]
    NotFound {
        /// The missing path.
        path: String,
        /// `file` or `folder`.
        kind: &'static str,
        /// What should be there.
        expected: String,
    },
    /// A folder or list that holds none of what the task needs.
    #[error("{path}: no {what} found (expected {expected})")]
    NothingFound {
        /// The folder or list file.
        path: String,
        /// What was looked for (`keyword clips`, `images`).
        what: String,
        /// What should be there.
        expected: String,
    },
    /// Bytes that are not in the expected format. Parsers that see only bytes leave `file`
    /// empty; the function that read the file names it ([`DataError::in_file`]).
    #[error("{}{field}: expected {expected}, got {got}", at(file))]
    Format {
        /// The file (empty until named).
        file: String,
        /// The part of the format (`magic number`, `record 3 label`, `fmt chunk`).
        field: String,
        /// What the format needs there.
        expected: String,
        /// What the bytes hold.
        got: String,
    },
    /// A line of a text file (a Speech Commands split list).
    #[error("{file}:{line}: expected {expected}, got {got}")]
    Line {
        /// The file.
        file: String,
        /// The 1-based line.
        line: usize,
        /// What the line must hold.
        expected: String,
        /// What it holds.
        got: String,
    },
    /// A data source option that does not fit the task (`--data`).
    #[error("{option}: expected {expected}, got {got}")]
    Option {
        /// The option, as the command line spells it.
        option: &'static str,
        /// What the task needs.
        expected: String,
        /// What was given.
        got: String,
    },
}

/// `"FILE: "`, or nothing for a file not named yet.
fn at(file: &str) -> String {
    if file.is_empty() {
        String::new()
    } else {
        format!("{file}: ")
    }
}

impl DataError {
    /// A [`DataError::Format`] error of a parser that sees only bytes (the file is named later).
    pub fn format(
        field: impl Into<String>,
        expected: impl Into<String>,
        got: impl Into<String>,
    ) -> Self {
        DataError::Format {
            file: String::new(),
            field: field.into(),
            expected: expected.into(),
            got: got.into(),
        }
    }

    /// The error with `path` as its file, where it has none yet.
    pub fn in_file(self, path: &Path) -> Self {
        match self {
            DataError::Format {
                file,
                field,
                expected,
                got,
            } if file.is_empty() => DataError::Format {
                file: path.display().to_string(),
                field,
                expected,
                got,
            },
            other => other,
        }
    }

    /// A missing file.
    pub fn no_file(path: &Path, expected: impl Into<String>) -> Self {
        DataError::NotFound {
            path: path.display().to_string(),
            kind: "file",
            expected: expected.into(),
        }
    }

    /// A missing folder.
    pub fn no_folder(path: &Path, expected: impl Into<String>) -> Self {
        DataError::NotFound {
            path: path.display().to_string(),
            kind: "folder",
            expected: expected.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_one_line_and_name_the_file_once_known() {
        let e = DataError::format("magic number", "2051 (IDX images)", "7");
        assert_eq!(
            e.to_string(),
            "magic number: expected 2051 (IDX images), got 7"
        );
        let e = e.in_file(Path::new("d/x.idx"));
        assert_eq!(
            e.to_string(),
            "d/x.idx: magic number: expected 2051 (IDX images), got 7"
        );
        // Named once: a second wrapper does not rename it.
        let e = e.in_file(Path::new("other"));
        assert!(e.to_string().starts_with("d/x.idx: "));
        let e = DataError::no_folder(Path::new("nowhere"), "a folder of images");
        assert_eq!(
            e.to_string(),
            "nowhere: folder not found (expected a folder of images)"
        );
    }
}
