//! An environment that is ready ([`PythonEnv`]) and the flow that returns one ([`ensure`]): reuse
//! a complete environment, or take its lock file, clear what an interrupted build left, and build
//! it, so that concurrent callers (threads or processes) wait for a single build.
//!
//! Owns the lock file and the clean-up of leftovers; it decides where and from what, and leaves
//! the installing to [`super::install`] and the printing to [`super::progress`].

use std::ffi::OsStr;
use std::fs::{self, File, TryLockError};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::base::{BasePython, find_python};
use super::install::{BuildPlan, activate, build, cached_versions};
use super::location::{Placement, bin_dir, env_location, is_complete, marker_path};
use super::lock::{LockText, cache_key};
use super::progress::Reporter;
use super::{ClientVersions, EnsureOptions, PyEnvError};

/// A complete, checked environment.
#[derive(Debug, Clone)]
pub struct PythonEnv {
    root: PathBuf,
    built: bool,
}

impl PythonEnv {
    /// The environment's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The environment's interpreter.
    pub fn python(&self) -> PathBuf {
        self.bin(if cfg!(windows) {
            "python.exe"
        } else {
            "python"
        })
    }

    /// An executable installed in the environment, e.g. `bin("hf")`.
    pub fn bin(&self, name: &str) -> PathBuf {
        bin_dir(&self.root).join(name)
    }

    /// The file whose presence marks the environment complete (written last).
    pub fn marker(&self) -> PathBuf {
        marker_path(&self.root)
    }

    /// Whether this [`ensure`] call built the environment (false when it reused one).
    pub fn was_built(&self) -> bool {
        self.built
    }

    /// A command running `program` from the environment's `bin` directory (or from `PATH` when
    /// the environment has no such executable), with the environment activated: `VIRTUAL_ENV` set,
    /// its `bin` first on `PATH`, and no user site-packages or `PYTHONPATH` leaking in.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let program = program.as_ref();
        let local = bin_dir(&self.root).join(program);
        let mut cmd = Command::new(if local.is_file() {
            local.into_os_string()
        } else {
            program.to_owned()
        });
        activate(&mut cmd, &self.root);
        cmd
    }

    /// The versions of the clients, read once with Python and cached inside the environment.
    pub fn versions(&self) -> Result<ClientVersions, PyEnvError> {
        cached_versions(&self.root, &self.python())
    }
}

/// The environment with the default options: honours `HUBCHECK_PYENV_DIR` and `HUBCHECK_PYTHON`,
/// prints progress to stderr.
pub fn ensure_default() -> Result<PythonEnv, PyEnvError> {
    ensure(&EnsureOptions::default())
}

/// Returns the pinned environment, creating it first if there is no complete one.
///
/// Reusing a complete environment costs one short call of the base interpreter (its version is
/// part of the cache key). Building one takes the lock file `<dir>.lock`; callers that find it
/// taken wait for that build and then reuse its result.
pub fn ensure(options: &EnsureOptions) -> Result<PythonEnv, PyEnvError> {
    let base = find_python(options.python.as_deref(), &|name| std::env::var_os(name))?;
    let key = cache_key(&options.requirements.lock, &base.version_id());
    let dir = match &options.dir {
        Some(dir) => dir.clone(),
        None => env_location(&key, &|name| std::env::var_os(name))?,
    };
    let lock = LockText {
        text: &options.requirements.lock,
        require_hf: true,
    };
    ensure_lock(&base, &lock, &key, dir, options)
}

/// Returns the environment for `lock` at `dir`, building it first if there is no complete one
/// (the pinned environment and every `--clients` variant come through here).
pub(super) fn ensure_lock(
    base: &BasePython,
    lock: &LockText<'_>,
    key: &str,
    dir: PathBuf,
    options: &EnsureOptions,
) -> Result<PythonEnv, PyEnvError> {
    if is_complete(&dir, key) {
        return Ok(PythonEnv {
            root: dir,
            built: false,
        });
    }
    let out = Reporter::new(options.progress);

    let place = Placement::of(dir)?;
    let parent = &place.parent;
    fs::create_dir_all(parent).map_err(PyEnvError::io("create directory", parent))?;

    let lock_path = place.lock_file();
    let lock_file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(PyEnvError::io("open lock file", &lock_path))?;
    match lock_file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            out.stage(format_args!(
                "Waiting for another build of the Python environment at {} to finish...",
                place.dir.display()
            ));
            lock_file
                .lock()
                .map_err(PyEnvError::io("lock", &lock_path))?;
        }
        Err(TryLockError::Error(e)) => return Err(PyEnvError::io("lock", &lock_path)(e)),
    }
    // Held until the end of this function; the OS releases it if the process dies.
    let _guard = lock_file;

    if is_complete(&place.dir, key) {
        return Ok(PythonEnv {
            root: place.dir,
            built: false,
        });
    }
    clean_leftovers(&place, &out)?;
    let plan = BuildPlan {
        base,
        lock,
        key,
        place: &place,
        installer: options.installer,
    };
    build(&plan, &out)?;
    Ok(PythonEnv {
        root: place.dir,
        built: true,
    })
}

/// Removes temporary and stale directories that a killed build left beside the environment's
/// directory, and the directory itself when it has no valid marker. Called with the lock held.
fn clean_leftovers(place: &Placement, out: &Reporter) -> Result<(), PyEnvError> {
    let (parent, dir) = (place.parent.as_path(), place.dir.as_path());
    let prefix = place.temp_prefix();
    if let Ok(entries) = fs::read_dir(parent) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                out.stage(format_args!(
                    "Removing an interrupted build at {}",
                    entry.path().display()
                ));
                fs::remove_dir_all(entry.path())
                    .map_err(PyEnvError::io("remove directory", entry.path()))?;
            }
        }
    }
    if dir.exists() {
        out.stage(format_args!(
            "Replacing the incomplete or outdated Python environment at {}",
            dir.display()
        ));
        let trash = parent.join(format!("{prefix}old-{}", std::process::id()));
        fs::rename(dir, &trash).map_err(PyEnvError::io("move aside", dir))?;
        fs::remove_dir_all(&trash).map_err(PyEnvError::io("remove directory", &trash))?;
    }
    Ok(())
}
