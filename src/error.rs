//! The crate-wide error type.
//!
//! Every error renders as one line. [`Error::Input`] is what a user can fix (a bad file, field or
//! flag); the CLI maps every error to exit code 2.

use std::path::Path;

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error of analognas; its `Display` is one line that names the file, field and expectation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad user input: a file, a field or a flag that does not say what is expected.
    #[error("{0}")]
    Input(String),
    /// An I/O failure on a named path.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder that failed.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A training run that diverged or could not continue.
    #[error("training failed: {0}")]
    Training(String),
    /// A data-set error.
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    /// A surrogate error.
    #[error(transparent)]
    Surrogate(#[from] crate::surrogate::SurrogateError),
}

impl Error {
    /// A bad-input error with the given one-line message.
    pub fn input(msg: impl Into<String>) -> Self {
        Error::Input(msg.into())
    }

    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }
}

/// Reads a whole file to a string, naming the file on failure.
pub fn read_to_string(path: impl AsRef<Path>) -> Result<String> {
    let path = path.as_ref();
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, then a rename.
pub fn write_atomic(path: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let path = path.as_ref();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.tmp{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    f.write_all(bytes).map_err(|e| Error::io(&tmp, e))?;
    f.sync_all().map_err(|e| Error::io(&tmp, e))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// Turns a TOML parse error into one line: `file:line:col: field KEY: message`.
pub fn toml_error(file: &str, text: &str, err: &toml::de::Error) -> Error {
    let msg = err.message().trim().replace('\n', " ");
    let Some(span) = err.span() else {
        return Error::input(format!("{file}: {msg}"));
    };
    let start = span.start.min(text.len());
    let line_no = text[..start].matches('\n').count() + 1;
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let col = start - line_start + 1;
    let key = field_at(text, start);
    match key {
        Some(key) => Error::input(format!("{file}:{line_no}:{col}: field {key}: {msg}")),
        None => Error::input(format!("{file}:{line_no}:{col}: {msg}")),
    }
}

/// The dotted key (`table.key`) of the TOML line that holds byte offset `pos`, if any.
fn field_at(text: &str, pos: usize) -> Option<String> {
    let line_start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
    let line = &text[line_start..line_end];
    let key = line.split('=').next()?.trim();
    if key.is_empty() || key.starts_with('[') || !line.contains('=') {
        return None;
    }
    let table = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('[') && l.ends_with(']'))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    Some(match table {
        Some(t) => format!("{t}.{key}"),
        None => key.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_error_names_line_and_key() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct T {
            tile: Tile,
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Tile {
            rows: u32,
        }
        let text = "# c\n[tile]\nrows = \"x\"\n";
        let err = toml::from_str::<T>(text).unwrap_err();
        let e = toml_error("p.toml", text, &err).to_string();
        assert!(e.starts_with("p.toml:3:8: field tile.rows:"), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn atomic_write_replaces_file() {
        let dir = std::env::temp_dir().join(format!("analognas-atomic-{}", std::process::id()));
        let p = dir.join("a.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "two");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
