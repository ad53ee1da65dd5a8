//! Building one environment: choosing (and if need be fetching) uv, creating the virtual
//! environment and installing the lock into it with uv or pip, checking that the clients import
//! and `hf` runs, moving it into place and writing the completion marker last; and the activated
//! commands that run inside an environment.
//!
//! Owns the installers and what they write. It builds only in the temporary directory it creates
//! beside the target (and fetches uv into its own folder in the cache), and touches the target only
//! to rename the checked build onto it and write the marker; it takes no lock and removes nothing
//! (that is [`super::environment`]'s, which calls [`build`] with the lock held).

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use serde::Serialize;

use super::base::{BasePython, base_python_hint, which};
use super::location::{Marker, Placement, bin_dir, env_location, marker_path};
use super::lock::{LockText, pinned_packages};
use super::progress::{Reporter, combined_tail, human_duration, run_step};
use super::{ClientVersions, Installer, PyEnvError};

/// The versions of the clients, read once with Python.
const VERSIONS_FILE: &str = "hubcheck-versions.json";
/// The lock the environment was installed from, kept inside it for reference.
const LOCK_COPY_FILE: &str = "requirements.lock";
/// The modules that must import for the environment to count as complete.
const CHECKED_IMPORTS: &str = "huggingface_hub, transformers, tokenizers, safetensors, torch";

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

/// One environment to build: from which interpreter and lock, under which key, to where, and with
/// which installer.
pub(super) struct BuildPlan<'a> {
    /// The interpreter the virtual environment is created from.
    pub(super) base: &'a BasePython,
    /// What to install, and whether `hf` must run.
    pub(super) lock: &'a LockText<'a>,
    /// The cache key the marker records (the environment counts as complete only under it).
    pub(super) key: &'a str,
    /// Where the environment goes, and the folder its temporary build is made in.
    pub(super) place: &'a Placement,
    /// Which tool installs the packages.
    pub(super) installer: Installer,
}

/// Builds the environment in a temporary folder beside its directory, checks it, moves it into
/// place and writes the marker last, so a crash never leaves anything that looks complete.
pub(super) fn build(plan: &BuildPlan<'_>, out: &Reporter) -> Result<(), PyEnvError> {
    let BuildPlan {
        base,
        lock,
        key,
        place,
        installer,
    } = *plan;
    let (dir, parent) = (place.dir.as_path(), place.parent.as_path());
    let started = Instant::now();
    let uv = chosen_uv(installer, base, out)?;
    let packages = pinned_packages(lock.text).len();
    out.stage(format_args!(
        "Creating Python environment at {} (Python {} from {})",
        dir.display(),
        base.version,
        base.executable.display()
    ));
    let tmp = tempfile::Builder::new()
        .prefix(&place.temp_prefix())
        .tempdir_in(parent)
        .map_err(PyEnvError::io("create a temporary directory in", parent))?;
    let installed_with = match &uv {
        Some(uv) => install_with_uv(uv, base, tmp.path(), lock.text, packages, out)?,
        None => install_with_pip(base, tmp.path(), dir, lock.text, packages, out)?,
    };
    let versions = check_new_environment(tmp.path(), dir, lock.require_hf, out)?;
    fs::rename(tmp.path(), dir).map_err(PyEnvError::io("move the new environment to", dir))?;
    let _ = tmp.keep();
    let elapsed = started.elapsed();
    write_json_atomically(
        &marker_path(dir),
        &Marker {
            key: key.to_string(),
            python: base.version_id(),
            installer: installed_with.to_string(),
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
    match installer {
        Installer::Pip => Ok(None),
        Installer::Uv => {
            find_or_fetch_uv(base, out)
                .map(Some)
                .ok_or_else(|| PyEnvError::InstallFailed {
                    tool: "uv".into(),
                    status: "not found on PATH, and it could not be fetched".into(),
                    stderr_tail: String::new(),
                    hint: "install uv (`pip install uv`) or use the pip installer".into(),
                })
        }
        Installer::Auto => Ok(find_or_fetch_uv(base, out)),
    }
}

/// The uv version fetched when none is on PATH: installing the lock with it takes a fraction of
/// pip's time (parallel downloads, hard links from its cache).
pub const UV_VERSION: &str = "0.13.9";

/// uv on PATH, or uv [`UV_VERSION`] from the package registry in a small folder beside the
/// environments (`.uv-<version>/bin/uv`, installed with the base Python's pip: a wheel that holds
/// the binary); `None` when neither works. `out` tells what is fetched and why (unless quiet).
pub(super) fn find_or_fetch_uv(base: &BasePython, out: &Reporter) -> Option<PathBuf> {
    if let Some(uv) = find_uv() {
        return Some(uv);
    }
    let home = env_location("uv", &|k| std::env::var_os(k))
        .ok()?
        .with_file_name(format!(".uv-{UV_VERSION}"));
    let note = |line: &str| out.stage(format_args!("{line}"));
    fetch_uv(base, &home, &note)
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

/// uv on `PATH`, if it runs.
fn find_uv() -> Option<PathBuf> {
    which("uv", &std::env::var_os("PATH").unwrap_or_default()).filter(|uv| works(uv))
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

/// Keeps uv to the interpreter it is given and out of any project around the working directory.
pub(super) fn quiet_uv(cmd: &mut Command) {
    cmd.env("UV_PYTHON_DOWNLOADS", "never")
        .env_remove("VIRTUAL_ENV")
        .env_remove("UV_SYSTEM_PYTHON");
}

/// Sets the variables of an activated environment and removes those that would leak another one.
pub(super) fn activate(cmd: &mut Command, root: &Path) {
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

/// Runs a check of a new environment; a failure to start or a non-zero exit is a
/// [`PyEnvError::ImportCheckFailed`] naming `dir`.
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

/// The versions of the clients of the environment at `root`: from the file it keeps them in, else
/// read once with its `python` and written there.
pub(super) fn cached_versions(root: &Path, python: &Path) -> Result<ClientVersions, PyEnvError> {
    let path = root.join(VERSIONS_FILE);
    if let Ok(text) = fs::read_to_string(&path)
        && let Ok(versions) = serde_json::from_str(&text)
    {
        return Ok(versions);
    }
    let versions = read_versions(root, python)?;
    write_json_atomically(&path, &versions)?;
    Ok(versions)
}

/// Reads the clients' versions with the environment's `python` (this also checks they import).
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

/// Points the scripts in `bin` whose shebang names `from` at `to` instead.
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

/// Writes `content` to `path`, naming the path in the error.
fn write_file(path: &Path, content: &str) -> Result<(), PyEnvError> {
    fs::write(path, content).map_err(PyEnvError::io("write", path))
}

/// Writes `value` as JSON to `path` through a temporary file, so readers see all of it or nothing.
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

#[cfg(test)]
mod tests {
    use super::super::base::find_python;
    use super::*;

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
