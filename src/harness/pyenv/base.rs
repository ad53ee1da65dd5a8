//! The base interpreter every environment is created from: found from an explicit path,
//! `$HUBCHECK_PYTHON` or `PATH`, and probed (implementation, version, real executable).
//!
//! Owns the search and the probe; it runs only the candidate interpreters' one-line probe, and
//! creates, installs or prints nothing.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;

use super::progress::indented_tail;
use super::shared::MIN_PYTHON;
use super::{ENV_PYTHON_VAR, PyEnvError};

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

/// A base interpreter that ran and is recent enough.
#[derive(Debug)]
pub(super) struct BasePython {
    /// `sys.executable`, the real interpreter behind any shim.
    pub(super) executable: PathBuf,
    implementation: String,
    /// `platform.python_version()`, e.g. `3.11.7`.
    pub(super) version: String,
}

impl BasePython {
    /// The implementation and version, e.g. `cpython-3.11.7`: part of every cache key.
    pub(super) fn version_id(&self) -> String {
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

/// The base interpreter: `explicit`, else `$HUBCHECK_PYTHON` (read through `var`), else `python3`
/// or `python` on `PATH`; the error lists every place looked at and why it did not do.
pub(super) fn find_python(
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

/// The first executable called `name` in the directories of `path_var` (a `PATH` value).
pub(super) fn which(name: &str, path_var: &OsStr) -> Option<PathBuf> {
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
            indented_tail(&output.stderr, 3)
        ));
    }
    serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("did not answer like CPython 3 ({e})"))
}

/// The hint of an error in creating the virtual environment: the base Python's fault.
pub(super) fn base_python_hint() -> String {
    format!(
        "the base Python could not create a virtual environment: install its venv module \
         (for example `apt-get install python3-venv`) or point {ENV_PYTHON_VAR} at another interpreter"
    )
}

#[cfg(test)]
mod tests {
    use super::super::shared::vars;
    use super::*;

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
}
