//! The crate-wide error type and the pieces the subsystem errors share.
//!
//! Every error renders as one line that names the file, the field and what was expected, e.g.
//! `space.toml:12:7: field genes.oc0.max: expected an integer in 1..=4096, got 9000`. Each
//! subsystem returns its own typed enum ([`SpaceError`](crate::space::SpaceError),
//! [`HwError`](crate::hw::HwError), [`ArchError`](crate::nn::ArchError), ...), and [`Error`]
//! wraps them with `From`, so `?` lifts a subsystem error into the crate's. The CLI maps every
//! error to exit code 2.
//!
//! Shared pieces: [`Location`] (`file` or `file:line:col`), [`FieldError`] (a field whose value
//! is not what is expected) and [`TomlError`] (a TOML syntax or schema error, on one line).

use std::fmt;
use std::path::Path;

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error of analognas; its `Display` is one line that names the file, field and expectation.
/// Whatever a subsystem's message embeds (a key or value echoed from an input file, another
/// library's text), the line holds no line break or other control character ([`one_line`]).
///
/// Subsystems add their own variant here, each displayed through [`one_line`] with the
/// subsystem error as its `source`, and a `From` (boxed when the subsystem error is large, see
/// `from_boxed!`), so `?` lifts them; the enum is `#[non_exhaustive]` for code outside the
/// crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Bad user input: a file, a field or a flag that does not say what is expected.
    #[error("{}", one_line(.0))]
    Input(String),
    /// An I/O failure on a named path.
    #[error("{}: {}", one_line(.path), one_line(&.source.to_string()))]
    Io {
        /// The file or folder that failed.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A training run that diverged or could not continue.
    #[error("training failed: {}", one_line(.0))]
    Training(String),
    /// A TOML file that does not parse or does not fit its schema.
    #[error("{}", one_line(&.0.to_string()))]
    Toml(#[source] Box<TomlError>),
    /// A field of an input file whose value is not what is expected.
    #[error("{}", one_line(&.0.to_string()))]
    Field(#[source] Box<FieldError>),
    /// A search-space file, a genome or a sample count (see [`crate::space::SpaceError`]).
    #[error("{}", one_line(&.0.to_string()))]
    Space(#[source] Box<crate::space::SpaceError>),
    /// A hardware profile (see [`crate::hw::HwError`]).
    #[error("{}", one_line(&.0.to_string()))]
    Hw(#[source] Box<crate::hw::HwError>),
    /// An architecture or genome JSON file (see [`crate::nn::ArchError`]).
    #[error("{}", one_line(&.0.to_string()))]
    Arch(#[source] Box<crate::nn::ArchError>),
    /// An error of training or of a model directory (see [`crate::train::TrainError`]).
    #[error("{}", one_line(&.0.to_string()))]
    Train(#[source] Box<crate::train::TrainError>),
    /// An error of the search's settings or state (see [`crate::search::SearchError`]).
    #[error("{}", one_line(&.0.to_string()))]
    Search(#[source] Box<crate::search::SearchError>),
    /// A run-directory file that is missing, corrupt or inconsistent (see
    /// [`crate::rundir::RunFileError`]).
    #[error("{}", one_line(&.0.to_string()))]
    RunFile(#[source] Box<crate::rundir::RunFileError>),
    /// A data-set error (see [`crate::data::DataError`]).
    #[error("{}", one_line(&.0.to_string()))]
    Data(#[source] Box<crate::data::DataError>),
    /// A surrogate error (see [`crate::surrogate::SurrogateError`]).
    #[error("{}", one_line(&.0.to_string()))]
    Surrogate(#[source] Box<crate::surrogate::SurrogateError>),
}

/// `From` for the boxed variants: the subsystem errors carry several strings, and boxing them
/// keeps [`Error`] (and every `Result` of the crate) small. A new subsystem variant can use
/// `#[from]` directly when its error is small, or add its line here.
macro_rules! from_boxed {
    ($($variant:ident($ty:ty)),* $(,)?) => {
        $(impl From<$ty> for Error {
            fn from(e: $ty) -> Self {
                Error::$variant(Box::new(e))
            }
        })*
    };
}

from_boxed!(
    Toml(TomlError),
    Field(FieldError),
    Space(crate::space::SpaceError),
    Hw(crate::hw::HwError),
    Arch(crate::nn::ArchError),
    Train(crate::train::TrainError),
    Search(crate::search::SearchError),
    RunFile(crate::rundir::RunFileError),
    Data(crate::data::DataError),
    Surrogate(crate::surrogate::SurrogateError),
);

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

/// Where in an input file something is: the file and, when known, the 1-based line and column
/// (in bytes). Displays as `file` or `file:line:col`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The file as the user named it.
    pub file: String,
    /// 1-based line and column, when known (u32 keeps the error types small).
    pub line_col: Option<(u32, u32)>,
}

impl Location {
    /// The whole file, no position.
    pub fn file(file: impl Into<String>) -> Self {
        Location {
            file: file.into(),
            line_col: None,
        }
    }

    /// `file` at 1-based `line` and `col` (saturating at `u32::MAX`).
    pub fn at(file: impl Into<String>, line: usize, col: usize) -> Self {
        let c = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        Location {
            file: file.into(),
            line_col: Some((c(line), c(col))),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line_col {
            Some((line, col)) => write!(f, "{}:{line}:{col}", self.file),
            None => f.write_str(&self.file),
        }
    }
}

/// A field of an input file whose value is not what is expected:
/// `file[:line:col]: field KEY: expected WHAT[, got VALUE]`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{at}: field {field}: expected {expected}{}", got_suffix(.got))]
pub struct FieldError {
    /// The file, and the value's position when known.
    pub at: Location,
    /// The dotted key, e.g. `periphery.out_bound` or `blocks[2].wf`.
    pub field: String,
    /// What the field must hold, e.g. `a number in 0..=10`.
    pub expected: String,
    /// The value found, as written back, when there is one to show.
    pub got: Option<String>,
}

fn got_suffix(got: &Option<String>) -> String {
    got.as_ref().map_or(String::new(), |g| format!(", got {g}"))
}

impl FieldError {
    /// `field` of `file` holds `got` where `expected` was expected.
    pub fn new(
        file: impl Into<String>,
        field: impl Into<String>,
        expected: impl Into<String>,
        got: impl ToString,
    ) -> Self {
        FieldError {
            at: Location::file(file),
            field: field.into(),
            expected: expected.into(),
            got: Some(got.to_string()),
        }
    }

    /// `field` of `file` is not `expected`, with no single value to show.
    pub fn missing(
        file: impl Into<String>,
        field: impl Into<String>,
        expected: impl Into<String>,
    ) -> Self {
        FieldError {
            at: Location::file(file),
            field: field.into(),
            expected: expected.into(),
            got: None,
        }
    }

    /// Adds the line and column of the field's value in the TOML `text` the error is about,
    /// when [`toml_position`] finds it.
    #[must_use]
    pub fn located(mut self, text: &str) -> Self {
        if self.at.line_col.is_none()
            && let Some((line, col)) = toml_position(text, &self.field)
        {
            self.at = Location::at(std::mem::take(&mut self.at.file), line, col);
        }
        self
    }
}

/// A TOML syntax or schema error (a wrong type, an unknown or missing key), on one line:
/// `file:line:col: field KEY: message`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{at}: {}{message}", field_prefix(.field))]
pub struct TomlError {
    /// The file and the error's position when toml gives one.
    pub at: Location,
    /// The dotted key of the line the error is on, when there is one.
    pub field: Option<String>,
    /// toml's message, joined into one line.
    pub message: String,
}

fn field_prefix(field: &Option<String>) -> String {
    field
        .as_ref()
        .map_or(String::new(), |k| format!("field {k}: "))
}

impl TomlError {
    /// The one-line form of toml's `err` on `text`, read from `file`. toml's own `Display`
    /// spans several lines with a caret, so the line is built from `message()` and `span()`.
    pub fn new(file: &str, text: &str, err: &toml::de::Error) -> Self {
        let message = one_line(&err.message().trim().replace('\n', " "));
        let Some(span) = err.span() else {
            return TomlError {
                at: Location::file(file),
                field: None,
                message,
            };
        };
        let start = floor_char_boundary(text, span.start.min(text.len()));
        let line_no = text[..start].matches('\n').count() + 1;
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        TomlError {
            at: Location::at(file, line_no, start - line_start + 1),
            field: field_at(text, start).map(|f| excerpt(&f)),
            message,
        }
    }
}

/// `s` on one line: control characters (line breaks, tabs, escapes) and the Unicode line and
/// paragraph separators written as Rust escapes (`\r`, `\u{1b}`), the rest unchanged. For
/// messages that embed text from an input file or from another library's error (serde_json's
/// and toml's echo unknown keys verbatim).
pub fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Most characters of a value from an input file that a message shows.
pub const EXCERPT_CHARS: usize = 80;

/// [`one_line`] of `s`, cut after [`EXCERPT_CHARS`] characters (then ending in `...`): a value
/// from an input file as a message shows it, however long the value.
pub fn excerpt(s: &str) -> String {
    let mut chars = s.chars();
    let head: String = chars.by_ref().take(EXCERPT_CHARS).collect();
    let more = if chars.next().is_some() { "..." } else { "" };
    one_line(&head) + more
}

/// `s` quoted and escaped like Rust's `{:?}` and cut like [`excerpt`]: `"abc"`, `"abc..."`.
pub fn quoted(s: &str) -> String {
    let mut chars = s.chars();
    let head: String = chars.by_ref().take(EXCERPT_CHARS).collect();
    let more = if chars.next().is_some() { "..." } else { "" };
    format!("{head:?}{more}")
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Reads a whole file to a string, naming the file on failure.
pub fn read_to_string(path: impl AsRef<Path>) -> Result<String> {
    let path = path.as_ref();
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, synced to disk,
/// then a rename. A kill or a power loss at any moment leaves the old file or the new one.
pub fn write_atomic(path: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path.as_ref(), bytes, true)
}

/// [`write_atomic`] without the sync to disk: a killed process leaves the old file or the new
/// one (the rename is atomic and the data is in the operating system's cache), but a power
/// loss may not. For files rewritten often whose loss costs a little recomputation (the
/// per-generation checkpoint of a search).
pub fn write_atomic_unsynced(path: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path.as_ref(), bytes, false)
}

fn write_atomic_with(path: &Path, bytes: &[u8], sync: bool) -> Result<()> {
    use std::io::Write;
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
    if sync {
        f.sync_all().map_err(|e| Error::io(&tmp, e))?;
    }
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// Turns a TOML parse error into one line: `file:line:col: field KEY: message` (a
/// [`TomlError`] inside [`Error::Toml`]; use [`TomlError::new`] for the typed error).
pub fn toml_error(file: &str, text: &str, err: &toml::de::Error) -> Error {
    TomlError::new(file, text, err).into()
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

/// The 1-based line and byte column of the value of the dotted `field` in a TOML `text`, for
/// the plain layouts our files use: `[table]` headers with `key = value` lines, and one level
/// of inline table (`genes.oc0.max` finds `max` in `oc0 = { min = 1, max = 9 }`; when the inner
/// key is absent, the position of the whole value). `None` when the key is not written.
pub fn toml_position(text: &str, field: &str) -> Option<(usize, usize)> {
    let norm = |k: &str| {
        k.split('.')
            .map(|p| p.trim().trim_matches(|c| c == '"' || c == '\''))
            .collect::<Vec<_>>()
            .join(".")
    };
    let mut table = String::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if t.starts_with('[') {
            let header = t.split('#').next().unwrap_or_default().trim();
            table = norm(header.trim_matches(|c| c == '[' || c == ']'));
            continue;
        }
        let Some(eq) = line.find('=') else {
            continue;
        };
        let key = norm(&line[..eq]);
        let full = if table.is_empty() {
            key
        } else {
            format!("{table}.{key}")
        };
        let inner = if field == full {
            None
        } else if let Some(rest) = field
            .strip_prefix(full.as_str())
            .and_then(|r| r.strip_prefix('.'))
        {
            Some(rest)
        } else {
            continue;
        };
        let value = eq + 1 + (line.len() - eq - 1 - line[eq + 1..].trim_start().len());
        let col = inner
            .and_then(|k| inline_value(&line[value..], k))
            .map_or(value, |p| value + p);
        return Some((i + 1, col + 1));
    }
    None
}

/// Byte offset of the value of `key = ...` inside the inline-table text `s`.
fn inline_value(s: &str, key: &str) -> Option<usize> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut from = 0;
    while let Some(p) = s[from..].find(key) {
        let start = from + p;
        let end = start + key.len();
        from = end;
        if s[..start].chars().next_back().is_some_and(is_word) {
            continue;
        }
        let after = s[end..].trim_start();
        if let Some(v) = after.strip_prefix('=') {
            if v.starts_with('=') {
                continue;
            }
            return Some(s.len() - v.trim_start().len());
        }
    }
    None
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
        let typed = TomlError::new("p.toml", text, &err);
        assert_eq!(typed.at.line_col, Some((3, 8)));
        assert_eq!(typed.field.as_deref(), Some("tile.rows"));
    }

    #[test]
    fn field_errors_are_one_line_with_position() {
        let text = "name = \"s\"\n[genes]\n# the stem\noc0 = { min = 1, max = 0 }\n[pcm]\ng_max   =  -3.0 # uS\n";
        assert_eq!(toml_position(text, "name"), Some((1, 8)));
        assert_eq!(toml_position(text, "genes.oc0"), Some((4, 7)));
        assert_eq!(toml_position(text, "genes.oc0.max"), Some((4, 24)));
        assert_eq!(toml_position(text, "genes.oc0.step"), Some((4, 7)));
        assert_eq!(toml_position(text, "pcm.g_max"), Some((6, 12)));
        assert_eq!(toml_position(text, "pcm.t0"), None);
        assert_eq!(toml_position(text, "g_max"), None);
        let e = FieldError::new("s.toml", "genes.oc0.max", "an integer >= 1", 0).located(text);
        assert_eq!(
            e.to_string(),
            "s.toml:4:24: field genes.oc0.max: expected an integer >= 1, got 0"
        );
        let e = FieldError::missing("s.toml", "genes.b", "a non-empty range");
        assert_eq!(
            e.to_string(),
            "s.toml: field genes.b: expected a non-empty range"
        );
        let e: Error = e.into();
        assert!(matches!(e, Error::Field(_)));
    }

    /// clippy's `result_large_err` fires at 128 bytes: every error of the crate stays below.
    #[test]
    fn errors_stay_small() {
        use std::mem::size_of;
        assert!(size_of::<Error>() < 128, "{}", size_of::<Error>());
        assert!(size_of::<crate::space::SpaceError>() < 128);
        assert!(size_of::<crate::hw::HwError>() < 128);
        assert!(size_of::<crate::nn::ArchError>() < 128);
    }

    #[test]
    fn echoed_text_stays_on_one_line() {
        assert_eq!(
            one_line("a\rb\nc\td\u{1b}e\u{2028}f é"),
            "a\\rb\\nc\\td\\u{1b}e\\u{2028}f é"
        );
        let long = "x".repeat(100);
        assert_eq!(excerpt(&long), format!("{}...", "x".repeat(EXCERPT_CHARS)));
        assert_eq!(quoted("a\"b\n"), "\"a\\\"b\\n\"");
        assert_eq!(
            quoted(&long),
            format!("\"{}\"...", "x".repeat(EXCERPT_CHARS))
        );
        // A key with a carriage return inside, as toml reports it.
        let text = "[tile]\nro\rws 3\n";
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct T {
            tile: std::collections::BTreeMap<String, u32>,
        }
        let err = toml::from_str::<T>(text).unwrap_err();
        let e = toml_error("p.toml", text, &err).to_string();
        assert!(!e.chars().any(char::is_control), "{e:?}");
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
