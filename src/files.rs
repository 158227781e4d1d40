//! Where the shipped files are: search spaces, hardware profiles, surrogates and data that come
//! with the source tree. The one resolver every layer uses (the CLI included).
//!
//! A relative path is taken as given when it exists (the user's own file, or the shipped
//! folders when the tool runs from the repository root); otherwise the same relative path is
//! looked up inside the source tree this binary was built from, so that
//! `--profile hw_profiles/pcm_aihwkit.toml` works from any directory.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Folder of the shipped search spaces.
pub const SPACES_DIR: &str = "search_spaces";
/// Folder of the shipped hardware profiles.
pub const PROFILES_DIR: &str = "hw_profiles";
/// Folder of the shipped surrogates.
pub const SURROGATES_DIR: &str = "surrogates";
/// The default search space.
pub const DEFAULT_SPACE: &str = "search_spaces/resnet_tinyml.toml";
/// The default hardware profile.
pub const DEFAULT_PROFILE: &str = "hw_profiles/pcm_aihwkit.toml";
/// The default surrogate (digits on pcm_aihwkit).
pub const DEFAULT_SURROGATE: &str = "surrogates/digits_pcm_aihwkit.json";

/// The source tree this binary was built from.
fn source_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Folder of the shipped files: `./DIR` when it exists, else the one in the source tree.
pub fn shipped_dir(dir: &str) -> PathBuf {
    let local = PathBuf::from(dir);
    if local.is_dir() {
        local
    } else {
        source_root().join(dir)
    }
}

/// `path` as given when it exists or is absolute; else the same relative path inside the
/// source tree when the file is there; else `path` unchanged (so the error names what the user
/// typed).
pub fn shipped_path(path: impl AsRef<Path>) -> PathBuf {
    let path = path.as_ref();
    if path.exists() || path.is_absolute() {
        return path.to_path_buf();
    }
    let shipped = source_root().join(path);
    if shipped.exists() {
        shipped
    } else {
        path.to_path_buf()
    }
}

/// The hardware profile shipped under `name` (`hw_profiles/<name>.toml`), when there is one.
pub fn shipped_profile(name: &str) -> Option<PathBuf> {
    let p = shipped_dir(PROFILES_DIR).join(format!("{name}.toml"));
    p.is_file().then_some(p)
}

/// The `*.toml` files of a shipped folder, sorted by name, each with the path to show the
/// user (`DIR/NAME.toml`) and the path to read.
pub fn list_toml(dir: &str) -> Result<Vec<(PathBuf, PathBuf)>> {
    let root = shipped_dir(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .map_err(|e| Error::io(&root, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    Ok(files
        .into_iter()
        .map(|p| (Path::new(dir).join(p.file_name().unwrap_or_default()), p))
        .collect())
}

/// A text file read whole, with the two names its parser needs: `path` as shown in errors and
/// its stem (the default name of a space or profile without a `name` field).
pub struct NamedText {
    /// The path as given, for error messages.
    pub shown: String,
    /// The file name without its extension.
    pub stem: String,
    /// The content.
    pub text: String,
}

/// Reads `path` as a [`NamedText`].
pub fn read_named(path: &Path) -> std::io::Result<NamedText> {
    Ok(NamedText {
        text: std::fs::read_to_string(path)?,
        shown: path.display().to_string(),
        stem: path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_files_resolve_from_anywhere() {
        let p = shipped_path(DEFAULT_PROFILE);
        assert!(p.is_file(), "{}", p.display());
        assert!(shipped_profile("pcm_aihwkit").is_some());
        assert!(shipped_profile("no_such_chip").is_none());
        let missing = shipped_path("no/such/file.toml");
        assert_eq!(missing, PathBuf::from("no/such/file.toml"));
        let spaces = list_toml(SPACES_DIR).unwrap();
        assert!(spaces.iter().any(|(shown, _)| shown.ends_with("tiny.toml")));
    }
}
