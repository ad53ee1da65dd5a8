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
//! - `shared`: the public types every part takes ([`Requirements`], [`PyEnvError`],
//!   [`Installer`], [`Progress`], [`EnsureOptions`], [`ClientVersions`], the variables' names).
//!
//! This file only names the parts and re-exports the public API, so no part and this file import
//! each other in a circle.

mod base;
mod clients;
mod environment;
mod install;
mod location;
mod lock;
mod progress;
mod shared;

pub use clients::{CLIENT_PACKAGES, Clients, ensure_clients, resolved_clients};
pub use environment::{PythonEnv, ensure, ensure_default};
pub use install::UV_VERSION;
pub use lock::{
    LOCKED_REQUIREMENTS, TOP_LEVEL_REQUIREMENTS, cache_key, locked_version, pinned_packages,
};
pub use shared::{
    ClientVersions, ENV_DIR_VAR, ENV_PYTHON_VAR, EnsureOptions, Installer, Progress, PyEnvError,
    Requirements,
};
