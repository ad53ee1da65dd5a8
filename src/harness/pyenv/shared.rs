//! The public types every part of the Python environment takes: what to install
//! ([`Requirements`]), how ([`EnsureOptions`], [`Installer`], [`Progress`]), what went wrong
//! ([`PyEnvError`]), what was installed ([`ClientVersions`]), and the variables' names. A leaf
//! beside `lock` (it reads the lock's lines through it): it calls no other part.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::lock::{LOCKED_REQUIREMENTS, TOP_LEVEL_REQUIREMENTS, requirement_lines_numbered};

/// The Python packages a book's snippets run with: a full lock and the top-level packages it was
/// compiled from (which `--clients` needs to resolve other versions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirements {
    /// Every package as `name==version` (with `--hash` lines), installed with `--no-deps`.
    pub lock: std::sync::Arc<str>,
    /// The top-level packages (`NAME.in` beside the lock).
    pub top_level: std::sync::Arc<str>,
    /// Where they come from, for messages: the lock's path, or `built-in`.
    pub origin: String,
}

impl Default for Requirements {
    fn default() -> Requirements {
        Requirements::builtin()
    }
}

impl Requirements {
    /// The built-in lock and its input.
    pub fn builtin() -> Requirements {
        Requirements {
            lock: LOCKED_REQUIREMENTS.into(),
            top_level: TOP_LEVEL_REQUIREMENTS.into(),
            origin: "built-in".into(),
        }
    }

    /// Reads the lock at `lock` and its input beside it (`x.txt` → `x.in`). The lock must pin
    /// every package with `==`; its input may be missing (then `--clients` cannot be used).
    pub fn load(lock: &Path) -> Result<Requirements, PyEnvError> {
        let text = fs::read_to_string(lock).map_err(PyEnvError::io("read", lock))?;
        if let Some((number, line)) = requirement_lines_numbered(&text)
            .find(|(_, l)| !l.starts_with("--") && !l.contains("=="))
        {
            return Err(PyEnvError::UnpinnedRequirement {
                file: lock.to_path_buf(),
                line: number,
                text: line.to_string(),
            });
        }
        let input = lock.with_extension("in");
        let top_level = fs::read_to_string(&input).unwrap_or_default();
        Ok(Requirements {
            lock: text.into(),
            top_level: top_level.into(),
            origin: lock.display().to_string(),
        })
    }
}

/// Environment variable naming the directory of the environment (overrides the cache location).
pub const ENV_DIR_VAR: &str = "HUBCHECK_PYENV_DIR";
/// Environment variable naming the base Python interpreter.
pub const ENV_PYTHON_VAR: &str = "HUBCHECK_PYTHON";

/// The oldest base Python accepted (the base interpreter's search and its error both name it).
pub(super) const MIN_PYTHON: (u32, u32) = (3, 10);

/// What can go wrong while creating or reading the environment.
#[derive(Debug, thiserror::Error)]
pub enum PyEnvError {
    /// A book's lock has a line that pins no exact version.
    #[error(
        "{}:{line}: `{text}` is not pinned; a lock must pin every package with `==` and hashes: \
         compile it with `uv pip compile hub-requirements.in -o hub-requirements.txt --generate-hashes`",
        file.display()
    )]
    UnpinnedRequirement {
        /// The lock.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// The line.
        text: String,
    },
    /// No base interpreter could be found or run.
    #[error(
        "no usable Python interpreter found (searched: {searched}).\n  \
         fix: install Python {}.{} or newer with its venv module (for example \
         `apt-get install python3 python3-venv`), or set {ENV_PYTHON_VAR} to the interpreter to use",
        MIN_PYTHON.0,
        MIN_PYTHON.1
    )]
    PythonNotFound {
        /// Every place looked at, with why it did not do.
        searched: String,
    },
    /// Creating the virtual environment or installing the pinned packages failed.
    #[error("`{tool}` failed ({status}):\n{stderr_tail}\n  hint: {hint}")]
    InstallFailed {
        /// The command that failed, e.g. `uv pip install`.
        tool: String,
        /// Its exit status, or why it could not start.
        status: String,
        /// The last lines of its output.
        stderr_tail: String,
        /// What to do about it.
        hint: String,
    },
    /// The packages installed but the clients do not import or run.
    #[error(
        "the Python environment at {} was installed but `{check}` failed ({status}):\n{stderr_tail}",
        path.display()
    )]
    ImportCheckFailed {
        /// The environment's directory.
        path: PathBuf,
        /// The check that failed.
        check: String,
        /// Its exit status, or why it could not start.
        status: String,
        /// The last lines of its output.
        stderr_tail: String,
    },
    /// A file system operation failed.
    #[error("could not {action} {}: {source}", path.display())]
    Io {
        /// What was being done, e.g. "create directory".
        action: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl PyEnvError {
    /// An [`PyEnvError::Io`] maker for `map_err`: `.map_err(PyEnvError::io("read", path))`.
    pub(super) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| PyEnvError::Io {
            action,
            path,
            source,
        }
    }
}

/// Which tool installs the environment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Installer {
    /// `uv` when it is on `PATH` and runs, else `venv` + `pip`.
    #[default]
    Auto,
    /// Always `uv`.
    Uv,
    /// Always `python -m venv` + `pip`.
    Pip,
}

/// How much [`super::ensure`] prints to stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Progress {
    /// Stage lines always; the installer's own progress only when stderr is a terminal.
    #[default]
    Auto,
    /// Stage lines and the installer's own output, terminal or not.
    Verbose,
    /// Nothing (errors are still returned).
    Quiet,
}

/// Options of [`super::ensure`]. The default honours `HUBCHECK_PYENV_DIR` and `HUBCHECK_PYTHON`.
#[derive(Debug, Clone, Default)]
pub struct EnsureOptions {
    /// The environment's directory; overrides `HUBCHECK_PYENV_DIR` and the cache location.
    pub dir: Option<PathBuf>,
    /// The base interpreter; overrides `HUBCHECK_PYTHON` and the search on `PATH`.
    pub python: Option<PathBuf>,
    /// Which tool installs the packages.
    pub installer: Installer,
    /// How much to print.
    pub progress: Progress,
    /// The packages to install (default: the built-in lock).
    pub requirements: Requirements,
}

/// The versions of the clients inside the environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientVersions {
    /// `huggingface_hub.__version__` (also the `hf` CLI's version).
    pub huggingface_hub: String,
    /// `transformers.__version__`.
    pub transformers: String,
    /// `tokenizers.__version__`.
    pub tokenizers: String,
    /// `safetensors.__version__`.
    pub safetensors: String,
    /// `torch.__version__`.
    pub torch: String,
    /// The installed `datasets`, when the book's lock has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasets: Option<String>,
    /// The interpreter's version, e.g. `3.11.7`.
    pub python: String,
}

/// A variable lookup that sees only `pairs`, for the tests of the functions that take one.
#[cfg(test)]
pub(super) fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<std::ffi::OsString> {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| std::ffi::OsString::from(v))
    }
}
