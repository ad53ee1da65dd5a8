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

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, TryLockError};
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

mod clients;
pub use clients::{CLIENT_PACKAGES, Clients, ensure_clients, resolved_clients};

/// The built-in lock (the handbook's `hub-requirements.txt`): every package pinned with its
/// hashes, for books that bring no requirements of their own.
pub const LOCKED_REQUIREMENTS: &str = include_str!("../../../hub-requirements.txt");

/// The top-level packages the built-in lock was compiled from (`hub-requirements.in`).
pub const TOP_LEVEL_REQUIREMENTS: &str = include_str!("../../../hub-requirements.in");

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

/// The oldest base Python accepted.
const MIN_PYTHON: (u32, u32) = (3, 10);
/// Written last, once the environment is installed, checked and in place.
const MARKER_FILE: &str = "hubcheck-complete.json";
/// The versions of the clients, read once with Python.
const VERSIONS_FILE: &str = "hubcheck-versions.json";
/// The lock the environment was installed from, kept inside it for reference.
const LOCK_COPY_FILE: &str = "requirements.lock";
/// The modules that must import for the environment to count as complete.
const CHECKED_IMPORTS: &str = "huggingface_hub, transformers, tokenizers, safetensors, torch";
/// How many lines of an installer's output an error keeps.
const TAIL_LINES: usize = 40;

const REGISTRY_HINT: &str = "check that the Python package registry is reachable \
     (and that the proxy or index settings of uv/pip are right), then run again";

const VERSIONS_SCRIPT: &str = r#"
import json, platform
import importlib.metadata
import huggingface_hub, transformers, tokenizers, safetensors, torch
versions = {
    "python": platform.python_version(),
    "huggingface_hub": huggingface_hub.__version__,
    "transformers": transformers.__version__,
    "tokenizers": tokenizers.__version__,
    "safetensors": safetensors.__version__,
    "torch": torch.__version__,
}
try:
    versions["datasets"] = importlib.metadata.version("datasets")
except importlib.metadata.PackageNotFoundError:
    pass
print(json.dumps(versions))
"#;

const PROBE_SCRIPT: &str = r#"
import json, platform, sys
print(json.dumps({
    "implementation": sys.implementation.name,
    "version": platform.python_version(),
    "major": sys.version_info[0],
    "minor": sys.version_info[1],
    "executable": sys.executable,
}))
"#;

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
    fn io(action: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Self {
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

/// What the completion marker records.
#[derive(Debug, Serialize, Deserialize)]
struct Marker {
    key: String,
    python: String,
    installer: String,
    packages: usize,
    build_seconds: f64,
}

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
        self.root.join(MARKER_FILE)
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
        let path = self.root.join(VERSIONS_FILE);
        if let Ok(text) = fs::read_to_string(&path)
            && let Ok(versions) = serde_json::from_str(&text)
        {
            return Ok(versions);
        }
        let versions = read_versions(&self.root, &self.python())?;
        write_json_atomically(&path, &versions)?;
        Ok(versions)
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

/// The requirements an environment is installed from, and whether `hf` must run in it.
struct LockText<'a> {
    /// A full `name==version` lock, installed with `--no-deps`.
    text: &'a str,
    /// The pinned clients have the `hf` command; an older `--clients` set may not (the snippets
    /// that use it then fail, with the reason).
    require_hf: bool,
}

/// Returns the environment for `lock` at `dir`, building it first if there is no complete one.
fn ensure_lock(
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
    fs::create_dir_all(&parent).map_err(PyEnvError::io("create directory", &parent))?;

    let lock_path = parent.join(format!("{name}.lock"));
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
                dir.display()
            ));
            lock_file
                .lock()
                .map_err(PyEnvError::io("lock", &lock_path))?;
        }
        Err(TryLockError::Error(e)) => return Err(PyEnvError::io("lock", &lock_path)(e)),
    }
    // Held until the end of this function; the OS releases it if the process dies.
    let _guard = lock_file;

    if is_complete(&dir, key) {
        return Ok(PythonEnv {
            root: dir,
            built: false,
        });
    }
    clean_leftovers(&parent, &name, &dir, &out)?;
    build(base, lock, key, &dir, &parent, &name, options, &out)?;
    Ok(PythonEnv {
        root: dir,
        built: true,
    })
}

/// The cache key of a lock and a base interpreter version: the first 16 hex digits of the SHA-256
/// of the lock's requirement lines (trimmed, comments and blank lines dropped) and the version.
pub fn cache_key(lock: &str, python_version: &str) -> String {
    let mut hasher = Sha256::new();
    for line in requirement_lines(lock) {
        hasher.update(line.as_bytes());
        hasher.update(b"\n");
    }
    hasher.update(b"python=");
    hasher.update(python_version.as_bytes());
    hex::encode(hasher.finalize())[..16].to_string()
}

/// The `name==version` pins of a lock, in order.
pub fn pinned_packages(lock: &str) -> Vec<(String, String)> {
    requirement_lines(lock)
        .filter_map(|line| {
            let spec = line.split(';').next().unwrap_or(line).trim();
            let (name, version) = spec.split_once("==")?;
            let version = version.trim().trim_end_matches('\\').trim();
            Some((name.trim().to_string(), version.to_string()))
        })
        .collect()
}

/// The locked version of a package (names compared the way PyPI does: case and `-_.` ignored).
pub fn locked_version(package: &str) -> Option<String> {
    let wanted = normalize_name(package);
    pinned_packages(LOCKED_REQUIREMENTS)
        .into_iter()
        .find(|(name, _)| normalize_name(name) == wanted)
        .map(|(_, version)| version)
}

fn normalize_name(name: &str) -> String {
    name.to_ascii_lowercase().replace(['_', '.'], "-")
}

fn requirement_lines(lock: &str) -> impl Iterator<Item = &str> {
    requirement_lines_numbered(lock).map(|(_, line)| line)
}

/// [`requirement_lines`] with each line's 1-based number.
fn requirement_lines_numbered(lock: &str) -> impl Iterator<Item = (usize, &str)> {
    lock.lines()
        .enumerate()
        .map(|(i, line)| {
            (
                i + 1,
                line.split_once('#').map_or(line, |(code, _)| code).trim(),
            )
        })
        .filter(|(_, line)| !line.is_empty())
}

/// Where the environment with this key lives when no directory is given.
fn env_location(key: &str, var: &dyn Fn(&str) -> Option<OsString>) -> Result<PathBuf, PyEnvError> {
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

fn bin_dir(root: &Path) -> PathBuf {
    root.join(if cfg!(windows) { "Scripts" } else { "bin" })
}

fn is_complete(dir: &Path, key: &str) -> bool {
    fs::read_to_string(dir.join(MARKER_FILE))
        .ok()
        .and_then(|text| serde_json::from_str::<Marker>(&text).ok())
        .is_some_and(|marker| marker.key == key)
}

/// A base interpreter that ran and is recent enough.
#[derive(Debug)]
struct BasePython {
    /// `sys.executable`, the real interpreter behind any shim.
    executable: PathBuf,
    implementation: String,
    version: String,
}

impl BasePython {
    fn version_id(&self) -> String {
        format!("{}-{}", self.implementation, self.version)
    }
}

#[derive(Deserialize)]
struct Probe {
    implementation: String,
    version: String,
    major: u32,
    minor: u32,
    executable: PathBuf,
}

fn find_python(
    explicit: Option<&Path>,
    var: &dyn Fn(&str) -> Option<OsString>,
) -> Result<BasePython, PyEnvError> {
    let mut searched = Vec::new();
    let candidates: Vec<(String, PathBuf)> = if let Some(path) = explicit {
        vec![("the requested interpreter".into(), path.to_path_buf())]
    } else if let Some(path) = var(ENV_PYTHON_VAR).filter(|v| !v.is_empty()) {
        vec![(ENV_PYTHON_VAR.to_string(), PathBuf::from(path))]
    } else {
        let path_var = var("PATH").unwrap_or_default();
        let mut found = Vec::new();
        for name in ["python3", "python"] {
            match which(name, &path_var) {
                Some(path) => found.push(("PATH".to_string(), path)),
                None => searched.push(format!("`{name}` on PATH: not found")),
            }
        }
        found
    };
    for (source, path) in candidates {
        match probe(&path) {
            Ok(p) if (p.major, p.minor) >= MIN_PYTHON => {
                return Ok(BasePython {
                    executable: p.executable,
                    implementation: p.implementation,
                    version: p.version,
                });
            }
            Ok(p) => searched.push(format!(
                "{} ({source}): Python {} is too old",
                path.display(),
                p.version
            )),
            Err(why) => searched.push(format!("{} ({source}): {why}", path.display())),
        }
    }
    Err(PyEnvError::PythonNotFound {
        searched: searched.join("; "),
    })
}

fn which(name: &str, path_var: &OsStr) -> Option<PathBuf> {
    std::env::split_paths(path_var)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

fn probe(python: &Path) -> Result<Probe, String> {
    let output = Command::new(python)
        .args(["-I", "-c", PROBE_SCRIPT])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => "not found".to_string(),
            _ => format!("could not run it: {e}"),
        })?;
    if !output.status.success() {
        return Err(format!(
            "did not run ({}): {}",
            output.status,
            tail(&output.stderr, 3)
        ));
    }
    serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("did not answer like CPython 3 ({e})"))
}

/// Prints stage lines (and decides whether the installer's own output is shown).
struct Reporter {
    progress: Progress,
    passthrough: bool,
}

impl Reporter {
    fn new(progress: Progress) -> Self {
        let passthrough = match progress {
            Progress::Auto => io::stderr().is_terminal(),
            Progress::Verbose => true,
            Progress::Quiet => false,
        };
        Reporter {
            progress,
            passthrough,
        }
    }

    fn stage(&self, message: std::fmt::Arguments<'_>) {
        if self.progress != Progress::Quiet {
            let mut err = io::stderr().lock();
            let _ = writeln!(err, "hubcheck: {message}");
        }
    }
}

/// Removes temporary and stale directories that a killed build left beside `dir`, and `dir`
/// itself when it has no valid marker. Called with the lock held.
fn clean_leftovers(
    parent: &Path,
    name: &str,
    dir: &Path,
    out: &Reporter,
) -> Result<(), PyEnvError> {
    let prefix = format!(".{name}.tmp-");
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

/// Builds the environment in a temporary folder beside `dir`, checks it, moves it into place and
/// writes the marker last, so a crash never leaves anything that looks complete.
#[allow(clippy::too_many_arguments)]
fn build(
    base: &BasePython,
    lock: &LockText<'_>,
    key: &str,
    dir: &Path,
    parent: &Path,
    name: &str,
    options: &EnsureOptions,
    out: &Reporter,
) -> Result<(), PyEnvError> {
    let started = Instant::now();
    let uv = chosen_uv(options.installer, base, out)?;
    let packages = pinned_packages(lock.text).len();
    out.stage(format_args!(
        "Creating Python environment at {} (Python {} from {})",
        dir.display(),
        base.version,
        base.executable.display()
    ));
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.tmp-"))
        .tempdir_in(parent)
        .map_err(PyEnvError::io("create a temporary directory in", parent))?;
    let installer = match &uv {
        Some(uv) => install_with_uv(uv, base, tmp.path(), lock.text, packages, out)?,
        None => install_with_pip(base, tmp.path(), dir, lock.text, packages, out)?,
    };
    let versions = check_new_environment(tmp.path(), dir, lock.require_hf, out)?;
    fs::rename(tmp.path(), dir).map_err(PyEnvError::io("move the new environment to", dir))?;
    let _ = tmp.keep();
    let elapsed = started.elapsed();
    write_json_atomically(
        &dir.join(MARKER_FILE),
        &Marker {
            key: key.to_string(),
            python: base.version_id(),
            installer: installer.to_string(),
            packages,
            build_seconds: elapsed.as_secs_f64(),
        },
    )?;
    out.stage(format_args!(
        "Python environment ready in {} (huggingface_hub {}, transformers {}, torch {})",
        human_duration(elapsed),
        versions.huggingface_hub,
        versions.transformers,
        versions.torch
    ));
    Ok(())
}

/// The uv to install with: required for [`Installer::Uv`], none for pip; for
/// [`Installer::Auto`] the one on PATH, else the pinned [`UV_VERSION`] fetched once from the
/// package registry, else none (pip is used).
fn chosen_uv(
    installer: Installer,
    base: &BasePython,
    out: &Reporter,
) -> Result<Option<PathBuf>, PyEnvError> {
    let note = |line: &str| out.stage(format_args!("{line}"));
    match installer {
        Installer::Pip => Ok(None),
        Installer::Uv => {
            find_or_fetch_uv(base, &note)
                .map(Some)
                .ok_or_else(|| PyEnvError::InstallFailed {
                    tool: "uv".into(),
                    status: "not found on PATH, and it could not be fetched".into(),
                    stderr_tail: String::new(),
                    hint: "install uv (`pip install uv`) or use the pip installer".into(),
                })
        }
        Installer::Auto => Ok(find_or_fetch_uv(base, &note)),
    }
}

/// The uv version fetched when none is on PATH: installing the lock with it takes a fraction of
/// pip's time (parallel downloads, hard links from its cache).
pub const UV_VERSION: &str = "0.13.9";

/// uv on PATH, or uv [`UV_VERSION`] from the package registry in a small folder beside the
/// environments (`.uv-<version>/bin/uv`, installed with the base Python's pip: a wheel that holds
/// the binary); `None` when neither works. `note` hears what is fetched and why.
fn find_or_fetch_uv(base: &BasePython, note: &dyn Fn(&str)) -> Option<PathBuf> {
    if let Some(uv) = find_uv() {
        return Some(uv);
    }
    let home = env_location("uv", &|k| std::env::var_os(k))
        .ok()?
        .with_file_name(format!(".uv-{UV_VERSION}"));
    fetch_uv(base, &home, note)
}

/// uv [`UV_VERSION`] installed at `home` (`home/bin/uv`) with the base Python's pip, unless it is
/// there already.
fn fetch_uv(base: &BasePython, home: &Path, note: &dyn Fn(&str)) -> Option<PathBuf> {
    let uv = home.join("bin/uv");
    if works(&uv) {
        return Some(uv);
    }
    note(&format!(
        "uv is not on PATH: fetching uv {UV_VERSION} from the Python package registry into {} \
         (it installs the environment much faster than pip)",
        home.display()
    ));
    let parent = home.parent()?;
    fs::create_dir_all(parent).ok()?;
    let tmp = tempfile::Builder::new()
        .prefix(".uv-fetch-")
        .tempdir_in(parent)
        .ok()?;
    let fetched = Command::new(&base.executable)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(["--no-input", "--only-binary=:all:", "--target"])
        .arg(tmp.path())
        .arg(format!("uv=={UV_VERSION}"))
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    if !fetched || !works(&tmp.path().join("bin/uv")) {
        note("fetching uv failed: the environment is built with pip instead (slower)");
        return None;
    }
    // Another process may have won the race: either copy is the same version.
    let _ = fs::rename(tmp.path(), home);
    works(&uv).then_some(uv)
}

/// Whether `uv` runs.
fn works(uv: &Path) -> bool {
    uv.is_file()
        && Command::new(uv)
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .is_ok_and(|o| o.status.success())
}

/// Creates a relocatable virtual environment at `root` with uv and installs the lock into it.
fn install_with_uv(
    uv: &Path,
    base: &BasePython,
    root: &Path,
    lock: &str,
    packages: usize,
    out: &Reporter,
) -> Result<&'static str, PyEnvError> {
    let mut venv = Command::new(uv);
    venv.arg("venv")
        .arg(root)
        .arg("--python")
        .arg(&base.executable)
        .args(["--relocatable", "--no-project", "--allow-existing"]);
    quiet_uv(&mut venv);
    run_step(&mut venv, "uv venv", &base_python_hint(), out)?;
    let lock_copy = root.join(LOCK_COPY_FILE);
    write_file(&lock_copy, lock)?;
    out.stage(format_args!(
        "Installing {packages} pinned packages with uv (first run downloads ~3 GB)..."
    ));
    let mut install = Command::new(uv);
    // Byte-code compiled once here (as pip does by default): every run sets
    // PYTHONDONTWRITEBYTECODE, so without it each run would parse huggingface_hub, transformers
    // and torch from source again.
    install
        .args([
            "pip",
            "install",
            "--no-deps",
            "--compile-bytecode",
            "--python",
        ])
        .arg(bin_dir(root).join("python"))
        .arg("-r")
        .arg(&lock_copy);
    quiet_uv(&mut install);
    run_step(&mut install, "uv pip install", REGISTRY_HINT, out)?;
    Ok("uv")
}

/// Creates a virtual environment at `root` with the base Python's venv and installs the lock
/// with pip; its scripts are made to point at `final_dir`, where the environment will live.
fn install_with_pip(
    base: &BasePython,
    root: &Path,
    final_dir: &Path,
    lock: &str,
    packages: usize,
    out: &Reporter,
) -> Result<&'static str, PyEnvError> {
    let mut venv = Command::new(&base.executable);
    venv.args(["-m", "venv"]).arg(root);
    run_step(&mut venv, "python -m venv", &base_python_hint(), out)?;
    let lock_copy = root.join(LOCK_COPY_FILE);
    write_file(&lock_copy, lock)?;
    out.stage(format_args!(
        "Installing {packages} pinned packages with pip (first run downloads ~3 GB)..."
    ));
    let mut install = Command::new(bin_dir(root).join("python"));
    install
        .args(["-m", "pip", "install", "--no-deps", "--no-input"])
        .args(["--disable-pip-version-check", "-r"])
        .arg(&lock_copy);
    // Not quiet: its lines are read for the phases it enters (see `run_step`).
    run_step(&mut install, "pip install", REGISTRY_HINT, out)?;
    // pip writes absolute shebangs: point them at where the environment will live.
    retarget_shebangs(&bin_dir(root), root, final_dir)?;
    Ok("pip")
}

/// Checks that the new environment at `root` imports the clients and runs `hf`, and records
/// their versions; errors name `final_dir`, where the environment was meant to go.
fn check_new_environment(
    root: &Path,
    final_dir: &Path,
    require_hf: bool,
    out: &Reporter,
) -> Result<ClientVersions, PyEnvError> {
    out.stage(format_args!(
        "Checking that {CHECKED_IMPORTS} import and `hf` runs..."
    ));
    let python = bin_dir(root).join("python");
    let versions = read_versions(root, &python).map_err(|e| match e {
        PyEnvError::ImportCheckFailed {
            check,
            status,
            stderr_tail,
            ..
        } => PyEnvError::ImportCheckFailed {
            path: final_dir.to_path_buf(),
            check,
            status,
            stderr_tail,
        },
        other => other,
    })?;
    write_json_atomically(&root.join(VERSIONS_FILE), &versions)?;
    if !require_hf {
        // Another `--clients` set: older `hf` commands lack `--version`, and the oldest have no
        // `hf` at all; the snippets that need it then fail with the reason.
        if !bin_dir(root).join("hf").is_file() {
            out.stage(format_args!(
                "huggingface_hub {} has no `hf` command: snippets that use it will fail",
                versions.huggingface_hub
            ));
        }
        return Ok(versions);
    }
    // Run the `hf` script through the interpreter: its shebang may already point at `final_dir`.
    let mut hf = Command::new(&python);
    hf.arg(bin_dir(root).join("hf")).arg("--version");
    activate(&mut hf, root);
    hf.env("HF_HUB_OFFLINE", "1");
    check_output(&mut hf, "hf --version", final_dir)?;
    Ok(versions)
}

fn base_python_hint() -> String {
    format!(
        "the base Python could not create a virtual environment: install its venv module \
         (for example `apt-get install python3-venv`) or point {ENV_PYTHON_VAR} at another interpreter"
    )
}

fn find_uv() -> Option<PathBuf> {
    which("uv", &std::env::var_os("PATH").unwrap_or_default()).filter(|uv| works(uv))
}

/// Keeps uv to the interpreter it is given and out of any project around the working directory.
fn quiet_uv(cmd: &mut Command) {
    cmd.env("UV_PYTHON_DOWNLOADS", "never")
        .env_remove("VIRTUAL_ENV")
        .env_remove("UV_SYSTEM_PYTHON");
}

/// Sets the variables of an activated environment and removes those that would leak another one.
fn activate(cmd: &mut Command, root: &Path) {
    let bin = bin_dir(root);
    let path = std::env::var_os("PATH").unwrap_or_default();
    let joined = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&path)))
        .unwrap_or(path);
    cmd.env("VIRTUAL_ENV", root)
        .env("PATH", joined)
        .env("PYTHONNOUSERSITE", "1")
        .env_remove("PYTHONPATH")
        .env_remove("PYTHONHOME")
        .env_remove("PYTHONSTARTUP");
}

/// Runs an installer step, passing its output through to stderr on a terminal, capturing it
/// otherwise (its tail goes into the error).
fn run_step(cmd: &mut Command, tool: &str, hint: &str, out: &Reporter) -> Result<(), PyEnvError> {
    cmd.stdin(Stdio::null());
    let failed = |status: String, stderr_tail: String| PyEnvError::InstallFailed {
        tool: tool.to_string(),
        status,
        stderr_tail,
        hint: hint.to_string(),
    };
    if out.passthrough {
        // On a terminal the installer shows its own progress (uv: packages and bytes). Never our
        // stdout: as an mdBook preprocessor, stdout carries the book.
        let status = cmd
            .stdout(io::stderr())
            .stderr(Stdio::inherit())
            .status()
            .map_err(|e| failed(format!("could not start: {e}"), String::new()))?;
        if !status.success() {
            return Err(failed(
                status.to_string(),
                "(its output is shown above)".into(),
            ));
        }
        return Ok(());
    }
    // Not a terminal: one line per phase, as the installer reaches it.
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| failed(format!("could not start: {e}"), String::new()))?;
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let phases = PhaseLines::default();
    let announce = |line: String| out.stage(format_args!("{line}"));
    let both: Vec<String> = std::thread::scope(|scope| {
        let other = scope.spawn(|| relay_phases(stdout, tool, &phases, &announce));
        let mut lines = relay_phases(stderr, tool, &phases, &announce);
        lines.extend(other.join().unwrap_or_default());
        lines
    });
    let status = child
        .wait()
        .map_err(|e| failed(format!("could not wait for it: {e}"), String::new()))?;
    if !status.success() {
        let tail = both[both.len().saturating_sub(30)..].join("\n");
        return Err(failed(status.to_string(), tail));
    }
    Ok(())
}

/// Phases that start, silently, when an installer's line ends the one before: uv compiles the
/// byte-code (`--compile-bytecode`) after its `Installed ...` line and says so only at the end.
const THEN: [(&str, &str); 1] = [(
    "Installed ",
    "compiling the byte-code once (about 20 s), so that runs need not parse the sources...",
)];

/// Which phases were announced already (stdout and stderr are read on two threads).
#[derive(Default)]
struct PhaseLines(std::sync::Mutex<Vec<&'static str>>);

/// The installers' lines that start a phase, and the words we announce it with (`None`: the
/// line itself, a summary such as uv's `Prepared 57 packages in 2m 03s`).
const PHASES: [(&str, Option<&str>); 9] = [
    ("Resolved ", None),
    ("Prepared ", None),
    ("Installed ", None),
    ("Bytecode compiled ", None),
    ("Using CPython", None),
    (
        "Collecting ",
        Some("downloading and collecting the packages..."),
    ),
    (
        "Downloading ",
        Some("downloading and collecting the packages..."),
    ),
    (
        "Installing collected packages",
        Some("installing the collected packages..."),
    ),
    ("Successfully installed", Some("installed every package")),
];

/// Reads an installer's stream to its end, printing a line for each phase it enters; returns
/// every line, for the error message.
fn relay_phases(
    stream: impl io::Read,
    tool: &str,
    seen: &PhaseLines,
    announce: &(dyn Fn(String) + Sync),
) -> Vec<String> {
    let mut lines = Vec::new();
    for line in io::BufReader::new(stream).lines() {
        let Ok(line) = line else { break };
        let trimmed = line.trim();
        if let Some((_, words)) = PHASES.iter().find(|(p, _)| trimmed.starts_with(p)) {
            let mut seen = seen.0.lock().unwrap_or_else(|p| p.into_inner());
            match words {
                None => announce(format!("{tool}: {trimmed}")),
                Some(words) if !seen.contains(words) => {
                    seen.push(words);
                    announce(format!("{tool}: {words}"));
                }
                Some(_) => {}
            }
            if tool.starts_with("uv")
                && let Some((_, then)) = THEN.iter().find(|(p, _)| trimmed.starts_with(p))
            {
                announce(format!("{tool}: {then}"));
            }
        }
        lines.push(line);
    }
    lines
}

fn check_output(cmd: &mut Command, check: &str, dir: &Path) -> Result<Output, PyEnvError> {
    let failed = |status: String, stderr_tail: String| PyEnvError::ImportCheckFailed {
        path: dir.to_path_buf(),
        check: check.to_string(),
        status,
        stderr_tail,
    };
    let output = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| failed(format!("could not start: {e}"), String::new()))?;
    if !output.status.success() {
        return Err(failed(output.status.to_string(), combined_tail(&output)));
    }
    Ok(output)
}

fn read_versions(root: &Path, python: &Path) -> Result<ClientVersions, PyEnvError> {
    let mut cmd = Command::new(python);
    cmd.args(["-c", VERSIONS_SCRIPT]).current_dir(root);
    activate(&mut cmd, root);
    cmd.env("HF_HUB_OFFLINE", "1");
    let check = format!("python -c 'import {CHECKED_IMPORTS}'");
    let output = check_output(&mut cmd, &check, root)?;
    let last_line = String::from_utf8_lossy(&output.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    serde_json::from_str(&last_line).map_err(|e| PyEnvError::ImportCheckFailed {
        path: root.to_path_buf(),
        check,
        status: format!("unexpected output: {e}"),
        stderr_tail: combined_tail(&output),
    })
}

fn retarget_shebangs(bin: &Path, from: &Path, to: &Path) -> Result<(), PyEnvError> {
    let from = from.to_string_lossy().into_owned();
    let to = to.to_string_lossy().into_owned();
    let entries = fs::read_dir(bin).map_err(PyEnvError::io("read directory", bin))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_symlink() || !path.is_file() {
            continue;
        }
        let Ok(bytes) = fs::read(&path) else { continue };
        if !bytes.starts_with(b"#!") {
            continue;
        }
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
        if first.contains(&from) {
            let fixed = format!("{}\n{rest}", first.replace(&from, &to));
            fs::write(&path, fixed).map_err(PyEnvError::io("rewrite", &path))?;
        }
    }
    Ok(())
}

fn write_file(path: &Path, content: &str) -> Result<(), PyEnvError> {
    fs::write(path, content).map_err(PyEnvError::io("write", path))
}

fn write_json_atomically(path: &Path, value: &impl Serialize) -> Result<(), PyEnvError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .map_err(PyEnvError::io("create a temporary file in", dir))?;
    serde_json::to_writer_pretty(&mut file, value)
        .map_err(io::Error::from)
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.as_file().sync_all())
        .map_err(PyEnvError::io("write", path))?;
    file.persist(path)
        .map_err(|e| PyEnvError::io("write", path)(e.error))?;
    Ok(())
}

fn combined_tail(output: &Output) -> String {
    let mut all = output.stdout.clone();
    if !all.is_empty() && !all.ends_with(b"\n") {
        all.push(b'\n');
    }
    all.extend_from_slice(&output.stderr);
    tail(&all, TAIL_LINES)
}

fn tail(bytes: &[u8], lines: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    all[start..]
        .iter()
        .map(|line| format!("    {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn human_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        format!("{}m {:02}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

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

    #[test]
    fn hubcheck_python_variable_is_used_without_falling_back_to_path() {
        let var = vars(&[
            (ENV_PYTHON_VAR, "/nonexistent/python3"),
            ("PATH", "/usr/bin"),
        ]);
        let err = find_python(None, &var).unwrap_err();
        let message = err.to_string();
        assert!(
            matches!(err, PyEnvError::PythonNotFound { .. }),
            "{message}"
        );
        assert!(message.contains("/nonexistent/python3"), "{message}");
        assert!(message.contains(ENV_PYTHON_VAR), "{message}");
    }

    #[test]
    fn empty_path_reports_what_was_searched() {
        let err = find_python(None, &vars(&[("PATH", "")])).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("`python3` on PATH: not found"),
            "{message}"
        );
        assert!(message.contains("apt-get install python3"), "{message}");
    }

    /// Fetches uv from the package registry (about 20 MB), as a machine without uv on PATH does.
    #[test]
    fn uv_is_fetched_at_its_pinned_version_once() {
        let base = find_python(None, &|k| std::env::var_os(k)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join(format!(".uv-{UV_VERSION}"));
        let notes = std::sync::Mutex::new(Vec::new());
        let note = |line: &str| notes.lock().unwrap().push(line.to_string());
        let uv = fetch_uv(&base, &home, &note).expect("uv is fetched");
        assert_eq!(uv, home.join("bin/uv"));
        let version = Command::new(&uv).arg("--version").output().unwrap();
        assert!(
            String::from_utf8_lossy(&version.stdout).starts_with(&format!("uv {UV_VERSION}")),
            "{version:?}"
        );
        assert!(notes.lock().unwrap()[0].contains("fetching uv"));
        // A second call finds it and fetches nothing.
        notes.lock().unwrap().clear();
        assert_eq!(fetch_uv(&base, &home, &note), Some(uv));
        assert!(notes.lock().unwrap().is_empty());
    }

    #[test]
    fn an_installer_off_a_terminal_gets_one_line_per_phase() {
        let pip = "Collecting a==1\n  Downloading a-1.whl (3.0 MB)\nCollecting b==2\n\
                   Installing collected packages: a, b\nSuccessfully installed a-1 b-2\n";
        let uv = "Resolved 57 packages in 1.2s\nPrepared 57 packages in 2m 03s\nInstalled 57 packages in 3.1s\n + torch==2\nBytecode compiled 9796 files in 15.2s\n";
        for (tool, text, expected) in [
            (
                "pip install",
                pip,
                vec![
                    "pip install: downloading and collecting the packages...",
                    "pip install: installing the collected packages...",
                    "pip install: installed every package",
                ],
            ),
            (
                "uv pip install",
                uv,
                vec![
                    "uv pip install: Resolved 57 packages in 1.2s",
                    "uv pip install: Prepared 57 packages in 2m 03s",
                    "uv pip install: Installed 57 packages in 3.1s",
                    "uv pip install: compiling the byte-code once (about 20 s), so that runs need not parse the sources...",
                    "uv pip install: Bytecode compiled 9796 files in 15.2s",
                ],
            ),
        ] {
            let announced = std::sync::Mutex::new(Vec::new());
            let lines = relay_phases(text.as_bytes(), tool, &PhaseLines::default(), &|line| {
                announced.lock().unwrap().push(line)
            });
            assert_eq!(*announced.lock().unwrap(), expected);
            assert_eq!(
                lines.len(),
                text.lines().count(),
                "every line is kept for errors"
            );
        }
    }

    #[test]
    fn shebangs_are_retargeted() {
        let tmp = tempfile::tempdir().unwrap();
        let script = tmp.path().join("hf");
        fs::write(&script, "#!/old/env/bin/python\nprint('/old/env')\n").unwrap();
        retarget_shebangs(tmp.path(), Path::new("/old/env"), Path::new("/new/env")).unwrap();
        assert_eq!(
            fs::read_to_string(&script).unwrap(),
            "#!/new/env/bin/python\nprint('/old/env')\n"
        );
    }
}
