//! Other client versions than the lock's: `mdbook-hubcheck test --clients latest|SPEC`.
//!
//! A variant environment starts from the pinned lock: the named client packages are overridden
//! (pinned to the given versions, or left free and upgraded to their newest releases for
//! `latest`), the other top-level packages of the book's `hub-requirements.in` are left free, and uv's
//! resolver (`uv pip compile`, run against the package registry at every call) finds a
//! consistent set, keeping every other package at its locked version when it can (the lock is
//! given as its preferences). So an old `huggingface_hub` gets a `transformers` that accepts it,
//! and `torch` stays the pinned one, which uv links from its cache instead of downloading.
//!
//! The environment is then installed from the resolved lock exactly like the pinned one and
//! cached beside it under the key of the resolved lock (so by the versions resolved): running the
//! same `--clients` again reuses it, and `latest` builds a new one only when a release changed
//! what it resolves to. A set that does not resolve is an error before anything is installed.
//!
//! Variant environments need `uv` (`pip install uv`).
//!
//! Owns the resolution of a variant and where it is cached; it installs nothing itself (the
//! environment is built by [`super::environment`]'s flow, like the pinned one) and prints only
//! through [`super::progress`]. It takes from its parent only the public API, and from the other
//! parts only what they export for it: the base interpreter, the lock's lines, the cache location,
//! uv, the reporter and the build flow.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

use super::base::{BasePython, find_python};
use super::environment::ensure_lock;
use super::install::{find_or_fetch_uv, quiet_uv};
use super::location::env_location;
use super::lock::{LockText, normalize_name, requirement_lines};
use super::progress::{Reporter, combined_tail};
use super::{
    ENV_DIR_VAR, EnsureOptions, PyEnvError, PythonEnv, Requirements, cache_key, ensure,
    pinned_packages,
};

/// The Hugging Face client packages that `latest` moves to their newest releases (a book whose
/// lock lacks one, `datasets` say, does not gain it). `torch` is not one: it moves only when a
/// client's release requires it.
pub const CLIENT_PACKAGES: [&str; 5] = [
    "huggingface_hub",
    "transformers",
    "tokenizers",
    "safetensors",
    "datasets",
];

/// Which client versions the harness runs the snippets with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Clients {
    /// The book's lock (`hub-requirements.txt`).
    #[default]
    Pinned,
    /// The newest release of each of [`CLIENT_PACKAGES`], resolved when the command runs.
    Latest,
    /// Named versions (`name==version`), e.g. a release candidate or an old release.
    Spec(Vec<(String, String)>),
}

impl Clients {
    /// Whether this is the lock.
    pub fn is_pinned(&self) -> bool {
        *self == Clients::Pinned
    }
}

impl fmt::Display for Clients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clients::Pinned => f.write_str("pinned"),
            Clients::Latest => f.write_str("latest"),
            Clients::Spec(pins) => {
                let pins: Vec<String> = pins.iter().map(|(n, v)| format!("{n}=={v}")).collect();
                f.write_str(&pins.join(","))
            }
        }
    }
}

impl FromStr for Clients {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim() {
            "pinned" | "" => return Ok(Clients::Pinned),
            "latest" => return Ok(Clients::Latest),
            _ => {}
        }
        let name_ok = |n: &str| {
            !n.is_empty()
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        let mut pins = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((name, version)) = part.split_once("==") else {
                return Err(format!(
                    "`{part}`: expected pinned, latest, or name==version pairs separated by commas \
                     (e.g. huggingface_hub==0.36.2,transformers==4.57.6)"
                ));
            };
            let (name, version) = (name.trim(), version.trim());
            if !name_ok(name) || version.is_empty() || version.contains(char::is_whitespace) {
                return Err(format!("`{part}`: not a package name and version"));
            }
            if pins
                .iter()
                .any(|(n, _): &(String, String)| normalize_name(n) == normalize_name(name))
            {
                return Err(format!("{name} is named twice"));
            }
            pins.push((name.to_string(), version.to_string()));
        }
        Ok(Clients::Spec(pins))
    }
}

/// The environment for `clients`: the pinned one, or a variant resolved and built as described
/// in the module documentation. Errors (a set that does not resolve, no uv) come before any
/// snippet runs.
pub fn ensure_clients(clients: &Clients, options: &EnsureOptions) -> Result<PythonEnv, PyEnvError> {
    if clients.is_pinned() {
        return ensure(options);
    }
    let base = find_python(options.python.as_deref(), &|name| std::env::var_os(name))?;
    let out = Reporter::new(options.progress);
    let lock = resolve(clients, &base, &options.requirements, &out)?;
    if same_pins(&lock, &options.requirements.lock) {
        // e.g. `latest` while the lock is up to date: the pinned environment is this one.
        return ensure(options);
    }
    let key = cache_key(&lock, &base.version_id());
    let dir = variant_location(&key, options)?;
    let lock = LockText {
        text: &lock,
        require_hf: false,
    };
    ensure_lock(&base, &lock, &key, dir, options)
}

/// Whether two locks pin the same versions (order, comments and name spelling aside).
fn same_pins(a: &str, b: &str) -> bool {
    let pins = |lock: &str| {
        let mut pins: Vec<(String, String)> = pinned_packages(lock)
            .into_iter()
            .map(|(n, v)| (normalize_name(&n), v))
            .collect();
        pins.sort();
        pins
    };
    pins(a) == pins(b)
}

/// Resolves `clients` against the lock with `uv pip compile`; returns the full resolved lock.
/// `out` tells when uv has to be fetched first.
fn resolve(
    clients: &Clients,
    base: &BasePython,
    requirements: &Requirements,
    out: &Reporter,
) -> Result<String, PyEnvError> {
    if requirements.top_level.trim().is_empty() {
        return Err(unresolvable(
            clients,
            format!(
                "{} has no top-level input beside it (the `.in` file it was compiled from)",
                requirements.origin
            ),
        ));
    }
    let uv = find_or_fetch_uv(base, out).ok_or_else(|| PyEnvError::InstallFailed {
        tool: "uv".into(),
        status: "not found on PATH".into(),
        stderr_tail: String::new(),
        hint: format!("--clients {clients} needs uv to resolve the versions: `pip install uv`"),
    })?;
    let work = tempfile::Builder::new()
        .prefix("hubcheck-clients-")
        .tempdir()
        .map_err(PyEnvError::io(
            "create a temporary directory",
            std::env::temp_dir(),
        ))?;
    let input = work.path().join("requirements.in");
    let output = work.path().join("requirements.lock");
    std::fs::write(&input, variant_input(clients, &requirements.top_level))
        .map_err(PyEnvError::io("write", &input))?;
    // The lock as uv's preferences: every package not forced to move stays where it is.
    std::fs::write(&output, &*requirements.lock).map_err(PyEnvError::io("write", &output))?;
    let mut compile = Command::new(uv);
    compile
        .args(["pip", "compile", "--quiet", "--no-header", "--no-annotate"])
        .arg("--python")
        .arg(&base.executable)
        .arg(&input)
        .arg("-o")
        .arg(&output);
    if *clients == Clients::Latest {
        for name in CLIENT_PACKAGES {
            compile.args(["--upgrade-package", name]);
        }
    }
    quiet_uv(&mut compile);
    let result = compile
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| unresolvable(clients, format!("could not start uv: {e}")))?;
    if !result.status.success() {
        return Err(unresolvable(clients, combined_tail(&result)));
    }
    let lock = std::fs::read_to_string(&output).map_err(PyEnvError::io("read", &output))?;
    Ok(lock)
}

fn unresolvable(clients: &Clients, reason: String) -> PyEnvError {
    PyEnvError::InstallFailed {
        tool: format!("uv pip compile (--clients {clients})"),
        status: "the versions do not resolve".into(),
        stderr_tail: reason,
        hint:
            "check the names and versions (`pip index versions NAME` lists a package's releases); \
               a client may need another one moved with it, e.g. huggingface_hub==0.36.2 with \
               transformers==4.57.6"
                .into(),
    }
}

/// The top-level requirements of a variant: `requirements.in` with its pins dropped (the lock
/// steers the resolver instead), the named packages pinned to the given versions.
fn variant_input(clients: &Clients, top_level: &str) -> String {
    let pins: &[(String, String)] = match clients {
        Clients::Spec(pins) => pins,
        _ => &[],
    };
    let mut lines: Vec<String> = Vec::new();
    for line in requirement_lines(top_level) {
        let name = line
            .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .next()
            .unwrap_or(line);
        if !pins
            .iter()
            .any(|(n, _)| normalize_name(n) == normalize_name(name))
        {
            lines.push(name.to_string());
        }
    }
    lines.extend(pins.iter().map(|(n, v)| format!("{n}=={v}")));
    lines.join("\n") + "\n"
}

/// Where a variant with this key lives: beside the pinned environments in the cache, or beside
/// `$HUBCHECK_PYENV_DIR` (or `options.dir`) when one is given.
fn variant_location(key: &str, options: &EnsureOptions) -> Result<PathBuf, PyEnvError> {
    let explicit = options.dir.clone().or_else(|| {
        std::env::var_os(ENV_DIR_VAR)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    let name = format!("clients-{key}");
    match explicit {
        Some(dir) => {
            let parent = dir.parent().unwrap_or(Path::new(".")).to_path_buf();
            let own = dir.file_name().map(|n| n.to_string_lossy().into_owned());
            Ok(parent.join(format!("{}-{name}", own.unwrap_or_default())))
        }
        None => {
            let pinned = env_location(key, &|n| {
                if n == ENV_DIR_VAR {
                    None
                } else {
                    std::env::var_os(n)
                }
            })?;
            Ok(pinned.with_file_name(name))
        }
    }
}

/// The versions a resolved lock gives the client packages (and torch), by package name.
pub fn resolved_clients(lock: &str) -> Vec<(String, String)> {
    pinned_packages(lock)
        .into_iter()
        .filter(|(name, _)| {
            CLIENT_PACKAGES
                .iter()
                .chain(&["torch"])
                .any(|c| normalize_name(c) == normalize_name(name))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::pyenv::{LOCKED_REQUIREMENTS, TOP_LEVEL_REQUIREMENTS};

    #[test]
    fn clients_parse_pinned_latest_and_specs() {
        assert_eq!("pinned".parse::<Clients>().unwrap(), Clients::Pinned);
        assert_eq!("latest".parse::<Clients>().unwrap(), Clients::Latest);
        let spec: Clients = "huggingface_hub==0.36.2, transformers==4.57.6"
            .parse()
            .unwrap();
        assert_eq!(
            spec,
            Clients::Spec(vec![
                ("huggingface_hub".into(), "0.36.2".into()),
                ("transformers".into(), "4.57.6".into())
            ])
        );
        assert_eq!(
            spec.to_string(),
            "huggingface_hub==0.36.2,transformers==4.57.6"
        );
        for bad in [
            "huggingface_hub>=1",
            "huggingface_hub==",
            "a b==1",
            "x==1,X==2",
        ] {
            assert!(bad.parse::<Clients>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_resolution_equal_to_the_lock_is_recognised() {
        let plain: String = pinned_packages(LOCKED_REQUIREMENTS)
            .iter()
            .rev()
            .map(|(n, v)| format!("{}=={v}\n", n.replace('-', "_")))
            .collect();
        assert!(same_pins(&plain, LOCKED_REQUIREMENTS));
        let bumped = plain.replace("transformers==", "transformers==0");
        assert!(!same_pins(&bumped, LOCKED_REQUIREMENTS));
    }

    #[test]
    fn a_variant_keeps_top_level_names_and_pins_only_the_named_ones() {
        let spec: Clients = "huggingface-hub==0.20.3".parse().unwrap();
        let input = variant_input(&spec, TOP_LEVEL_REQUIREMENTS);
        let lines: Vec<&str> = input.lines().collect();
        assert!(lines.contains(&"huggingface-hub==0.20.3"), "{input}");
        assert!(lines.contains(&"transformers"), "{input}");
        assert!(lines.contains(&"torch"), "{input}");
        assert!(!input.contains("huggingface_hub"), "{input}");
        assert!(!variant_input(&Clients::Latest, TOP_LEVEL_REQUIREMENTS).contains("=="));
    }
}
