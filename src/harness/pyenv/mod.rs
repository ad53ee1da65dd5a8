//! The pinned Python environment in which the harness runs the handbook's snippets.
//!
//! The snippets use the real Hugging Face clients (`huggingface_hub` and its `hf` CLI,
//! `transformers`, `tokenizers`, `safetensors`, `torch`). Their exact versions, with hashes, are
//! pinned per book in a lock beside its world file ([`Requirements`]; the handbook's is
//! `hub-requirements.txt`, which is also compiled into this crate for books that bring none).
//! [`ensure`] creates a virtual environment from that lock once and reuses it on every later run:
//!
//! - **Where:** `$HUBCHECK_PYENV_DIR` if set, else
//!   `$XDG_CACHE_HOME/mdbook-hubcheck/pyenv/<key>`, else `~/.cache/mdbook-hubcheck/pyenv/<key>`.
//! - **Key:** the first 16 hex digits of the SHA-256 of the lock's requirement lines (comments and
//!   blank lines ignored) and the base interpreter's version, so a new lock or a new Python gets
//!   a new environment and the old one is left alone.
//! - **Complete or absent:** the environment is built in a temporary sibling directory, checked
//!   (imports and `hf --version`), renamed into place, and only then marked complete. A lock file
//!   beside it makes concurrent callers (threads or processes) wait for a single build.
//! - **Installer:** `uv` (`uv venv --relocatable` + `uv pip install --no-deps`) when it is on
//!   `PATH`, else `python3 -m venv` + `pip install --no-deps`.
//! - **Base interpreter:** `$HUBCHECK_PYTHON` if set, else `python3` or `python` on `PATH`
//!   (3.10 or newer).
//!
//! The parts, each importing only those above it in this list (and this file's shared types):
//!
//! - `lock`: the lock as text: the built-in lock, requirement lines, pins, the cache key;
//! - `location`: where an environment lives, its lock file and temporary builds, and the
//!   completion marker;
//! - `progress`: everything the build prints (stage lines, the installers' phases, silent under
//!   [`Progress::Quiet`]) and the ends of output that errors quote;
//! - `base`: finding and probing the base interpreter;
//! - `install`: building one environment (uv or pip), checking it, writing its marker; the
//!   activated commands that run in it;
//! - `environment`: [`PythonEnv`] and [`ensure`]: reuse, or lock, clean up and build;
//! - `clients`: `--clients` ([`Clients`], [`ensure_clients`]): other client versions, resolved
//!   with uv and built through the same flow.
//!
//! This file holds the public types that every part shares ([`Requirements`], [`PyEnvError`],
//! [`Installer`], [`Progress`], [`EnsureOptions`], [`ClientVersions`] and the variables' names) and
//! re-exports the rest of the public API; it calls none of the parts' code (only
//! [`Requirements::load`] reads the lock's lines through `lock`), so no part and this file import
//! each other in a circle.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use self::lock::requirement_lines_numbered;

mod base;
mod clients;
mod environment;
mod install;
mod location;
mod lock;
mod progress;

pub use clients::{CLIENT_PACKAGES, Clients, ensure_clients, resolved_clients};
pub use environment::{PythonEnv, ensure, ensure_default};
pub use install::UV_VERSION;
pub use lock::{
    LOCKED_REQUIREMENTS, TOP_LEVEL_REQUIREMENTS, cache_key, locked_version, pinned_packages,
};

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

/// How much [`ensure`] prints to stderr.
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

/// Options of [`ensure`]. The default honours `HUBCHECK_PYENV_DIR` and `HUBCHECK_PYTHON`.
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
fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<std::ffi::OsString> {
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
