//! Where an environment lives and whether it is complete: the cache location, the folder beside
//! it that holds its lock file and temporary builds, its `bin` directory, and the completion
//! marker.
//!
//! Owns paths and the marker's format; it reads the marker but runs no process and creates,
//! moves or removes nothing (the build does, in [`super::install`] and [`super::environment`]).

use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{ENV_DIR_VAR, PyEnvError};

/// Written last, once the environment is installed, checked and in place.
const MARKER_FILE: &str = "hubcheck-complete.json";

/// What the completion marker records.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Marker {
    /// The cache key the environment was built for.
    pub(super) key: String,
    /// The base interpreter, e.g. `cpython-3.11.7`.
    pub(super) python: String,
    /// `uv` or `pip`.
    pub(super) installer: String,
    /// How many packages the lock pinned.
    pub(super) packages: usize,
    /// How long the build took.
    pub(super) build_seconds: f64,
}

/// An environment's directory, the folder that holds it, and its name there.
pub(super) struct Placement {
    /// Where the environment lives once complete.
    pub(super) dir: PathBuf,
    /// The folder that holds it, its lock file and its temporary builds (`.` for a bare name).
    pub(super) parent: PathBuf,
    /// The directory's own name.
    pub(super) name: String,
}

impl Placement {
    /// Splits `dir` into its folder and name; a path without a final component is an error.
    pub(super) fn of(dir: PathBuf) -> Result<Placement, PyEnvError> {
        let parent = dir.parent().filter(|p| !p.as_os_str().is_empty());
        let parent = parent.unwrap_or(Path::new(".")).to_path_buf();
        let name = dir
            .file_name()
            .ok_or_else(|| PyEnvError::Io {
                action: "use as the environment directory",
                path: dir.clone(),
                source: io::Error::new(io::ErrorKind::InvalidInput, "path has no final component"),
            })?
            .to_string_lossy()
            .into_owned();
        Ok(Placement { dir, parent, name })
    }

    /// The lock file that makes concurrent builds of this environment wait for one.
    pub(super) fn lock_file(&self) -> PathBuf {
        self.parent.join(format!("{}.lock", self.name))
    }

    /// How the temporary directories of a build (and of an old copy being removed) begin.
    pub(super) fn temp_prefix(&self) -> String {
        format!(".{}.tmp-", self.name)
    }
}

/// Where the environment with this key lives when no directory is given.
pub(super) fn env_location(
    key: &str,
    var: &dyn Fn(&str) -> Option<OsString>,
) -> Result<PathBuf, PyEnvError> {
    let set = |name: &str| var(name).filter(|v| !v.is_empty());
    if let Some(dir) = set(ENV_DIR_VAR) {
        return Ok(PathBuf::from(dir));
    }
    let cache = set("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| set("HOME").map(|home| PathBuf::from(home).join(".cache")));
    match cache {
        Some(cache) => Ok(cache.join("mdbook-hubcheck").join("pyenv").join(key)),
        None => Err(PyEnvError::Io {
            action: "find a cache directory for the Python environment (set HUBCHECK_PYENV_DIR)",
            path: PathBuf::from("$XDG_CACHE_HOME or $HOME/.cache"),
            source: io::Error::new(io::ErrorKind::NotFound, "neither variable is set"),
        }),
    }
}

/// The directory of an environment's executables (`bin`, or `Scripts` on Windows).
pub(super) fn bin_dir(root: &Path) -> PathBuf {
    root.join(if cfg!(windows) { "Scripts" } else { "bin" })
}

/// The completion marker of the environment at `root`.
pub(super) fn marker_path(root: &Path) -> PathBuf {
    root.join(MARKER_FILE)
}

/// Whether `dir` holds a complete environment built for `key`.
pub(super) fn is_complete(dir: &Path, key: &str) -> bool {
    fs::read_to_string(marker_path(dir))
        .ok()
        .and_then(|text| serde_json::from_str::<Marker>(&text).ok())
        .is_some_and(|marker| marker.key == key)
}

#[cfg(test)]
mod tests {
    use super::super::shared::vars;
    use super::*;

    #[test]
    fn location_prefers_the_explicit_dir_then_xdg_then_home() {
        let all = vars(&[
            (ENV_DIR_VAR, "/explicit"),
            ("XDG_CACHE_HOME", "/xdg"),
            ("HOME", "/home/me"),
        ]);
        assert_eq!(env_location("k", &all).unwrap(), PathBuf::from("/explicit"));
        let xdg = vars(&[("XDG_CACHE_HOME", "/xdg"), ("HOME", "/home/me")]);
        assert_eq!(
            env_location("k", &xdg).unwrap(),
            PathBuf::from("/xdg/mdbook-hubcheck/pyenv/k")
        );
        let home = vars(&[
            (ENV_DIR_VAR, ""),
            ("XDG_CACHE_HOME", "relative"),
            ("HOME", "/home/me"),
        ]);
        assert_eq!(
            env_location("k", &home).unwrap(),
            PathBuf::from("/home/me/.cache/mdbook-hubcheck/pyenv/k")
        );
        assert!(env_location("k", &vars(&[])).is_err());
    }
}
