//! The pinned Python environment: built once per machine in the shared cache, then reused.
//!
//! The tests that need a full environment use the default location (the few-GB environment is
//! built once per machine and lock); only the failure paths, which stop before installing, use a
//! temporary directory.

use std::path::Path;
use std::process::Command;
use std::sync::Barrier;
use std::time::SystemTime;

use mdbook_hubcheck::harness::pyenv::{
    self, ENV_DIR_VAR, ENV_PYTHON_VAR, EnsureOptions, LOCKED_REQUIREMENTS, PyEnvError, PythonEnv,
};

fn locked(package: &str) -> String {
    pyenv::locked_version(package).unwrap_or_else(|| panic!("{package} is not in the lock"))
}

fn ensure_shared() -> PythonEnv {
    pyenv::ensure_default().unwrap_or_else(|e| panic!("ensure failed: {e}"))
}

fn marker_mtime(env: &PythonEnv) -> SystemTime {
    std::fs::metadata(env.marker())
        .and_then(|m| m.modified())
        .expect("the marker of a complete environment exists")
}

fn run(cmd: &mut Command) -> String {
    let output = cmd.output().expect("command starts");
    assert!(
        output.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn lock_pins_the_clients_of_the_issue() {
    let pins = pyenv::pinned_packages(LOCKED_REQUIREMENTS);
    assert!(pins.len() > 20, "the lock pins transitive packages too");
    assert!(locked("huggingface_hub").starts_with("2.4."));
    assert!(locked("transformers").starts_with("5."));
    for package in ["tokenizers", "safetensors", "torch", "hf-xet"] {
        locked(package);
    }
}

#[test]
fn cache_key_follows_the_lock_and_the_python_version() {
    let key = pyenv::cache_key(LOCKED_REQUIREMENTS, "cpython-3.11.7");
    assert_eq!(key.len(), 16);
    assert!(key.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(key, pyenv::cache_key(LOCKED_REQUIREMENTS, "cpython-3.11.7"));

    let torch = format!("torch=={}", locked("torch"));
    let bumped = LOCKED_REQUIREMENTS.replace(&torch, "torch==0.0.1");
    assert_ne!(bumped, LOCKED_REQUIREMENTS);
    assert_ne!(key, pyenv::cache_key(&bumped, "cpython-3.11.7"));
    let added = format!("{LOCKED_REQUIREMENTS}extra-package==1.0\n");
    assert_ne!(key, pyenv::cache_key(&added, "cpython-3.11.7"));
    assert_ne!(key, pyenv::cache_key(LOCKED_REQUIREMENTS, "cpython-3.12.1"));

    // Comments and blank lines do not trigger a multi-GB rebuild.
    let commented =
        format!("# refreshed on some day\n\n{LOCKED_REQUIREMENTS}\n    # via nothing\n");
    assert_eq!(key, pyenv::cache_key(&commented, "cpython-3.11.7"));
}

#[test]
fn ensure_provides_the_locked_clients() {
    let env = ensure_shared();
    assert!(env.python().is_file(), "{}", env.python().display());

    let printed = run(Command::new(env.python()).args([
        "-c",
        "import huggingface_hub; print(huggingface_hub.__version__)",
    ]));
    assert_eq!(printed.trim(), locked("huggingface_hub"));

    let hf = run(env.command("hf").arg("--version"));
    assert!(
        hf.contains(&locked("huggingface_hub")),
        "hf --version said {hf:?}"
    );
    assert_eq!(env.command("hf").get_program(), env.bin("hf").as_os_str());

    let versions = env.versions().expect("versions");
    assert_eq!(versions.huggingface_hub, locked("huggingface_hub"));
    assert_eq!(versions.transformers, locked("transformers"));
    assert_eq!(versions.tokenizers, locked("tokenizers"));
    assert_eq!(versions.safetensors, locked("safetensors"));
    assert!(versions.torch.starts_with(&locked("torch")), "{versions:?}");
    assert!(versions.python.starts_with("3."), "{versions:?}");
    // Read once, then cached in the environment.
    assert_eq!(env.versions().expect("cached versions"), versions);
}

#[test]
fn second_ensure_reuses_the_environment() {
    let first = ensure_shared();
    let before = marker_mtime(&first);
    let second = ensure_shared();
    assert!(!second.was_built(), "a complete environment was rebuilt");
    assert_eq!(first.root(), second.root());
    assert_eq!(marker_mtime(&second), before, "the marker was rewritten");
}

#[test]
fn concurrent_ensures_share_one_build() {
    let barrier = Barrier::new(2);
    let (a, b) = std::thread::scope(|scope| {
        let spawn = || {
            scope.spawn(|| {
                barrier.wait();
                pyenv::ensure_default()
            })
        };
        let (a, b) = (spawn(), spawn());
        (a.join().unwrap(), b.join().unwrap())
    });
    let a = a.unwrap_or_else(|e| panic!("first ensure failed: {e}"));
    let b = b.unwrap_or_else(|e| panic!("second ensure failed: {e}"));
    assert_eq!(a.root(), b.root());
    assert!(
        !(a.was_built() && b.was_built()),
        "both callers built the environment"
    );
    let mtime = marker_mtime(&a);
    assert!(!ensure_shared().was_built());
    assert_eq!(marker_mtime(&a), mtime);
}

fn assert_python_not_found(result: Result<PythonEnv, PyEnvError>, dir: &Path) {
    let err = result.expect_err("a missing interpreter must fail");
    let message = err.to_string();
    assert!(
        matches!(err, PyEnvError::PythonNotFound { .. }),
        "{message}"
    );
    assert!(message.contains("/nonexistent/python3"), "{message}");
    assert!(
        message.contains("install Python 3.10 or newer"),
        "{message}"
    );
    assert!(message.contains(ENV_PYTHON_VAR), "{message}");
    assert!(!dir.exists(), "nothing is created before Python is found");
}

#[test]
fn missing_python_is_reported_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("env");
    let options = EnsureOptions {
        dir: Some(dir.clone()),
        python: Some("/nonexistent/python3".into()),
        ..EnsureOptions::default()
    };
    assert_python_not_found(pyenv::ensure(&options), &dir);
}

const CHILD_VAR: &str = "HUBCHECK_PYENV_TEST_CHILD";

/// Sets `HUBCHECK_PYTHON` in a child process (never in this multi-threaded one) and runs
/// [`child_ensure_default_with_bogus_python`] there.
#[test]
fn bogus_hubcheck_python_variable_gives_python_not_found() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("env");
    let test = "pyenv::child_ensure_default_with_bogus_python";
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            test,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_VAR, "1")
        .env(ENV_PYTHON_VAR, "/nonexistent/python3")
        .env(ENV_DIR_VAR, &dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child test failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!dir.exists());
}

#[test]
#[ignore = "run by bogus_hubcheck_python_variable_gives_python_not_found in a child process"]
fn child_ensure_default_with_bogus_python() {
    if std::env::var_os(CHILD_VAR).is_none() {
        return;
    }
    let dir = std::env::var_os(ENV_DIR_VAR).expect("the parent sets the directory");
    assert_python_not_found(pyenv::ensure_default(), Path::new(&dir));
}

/// The `venv` + `pip` fallback, end to end. Ignored: it downloads and installs the few GB again
/// (pip does not share uv's cache) into a sibling of the shared environment, `<key>-pip`.
/// Run it by hand with `cargo test --test testsuite pyenv::pip_fallback -- --ignored`.
#[test]
#[ignore = "downloads ~3 GB with pip; run by hand when changing the pip fallback"]
fn pip_fallback_builds_a_working_environment() {
    let shared = ensure_shared();
    let mut name = shared.root().file_name().unwrap().to_owned();
    name.push("-pip");
    let options = EnsureOptions {
        dir: Some(shared.root().with_file_name(name)),
        installer: pyenv::Installer::Pip,
        progress: pyenv::Progress::Verbose,
        ..EnsureOptions::default()
    };
    let env = pyenv::ensure(&options).unwrap_or_else(|e| panic!("pip fallback failed: {e}"));
    let hf = run(Command::new(env.bin("hf")).arg("--version"));
    assert!(
        hf.contains(&locked("huggingface_hub")),
        "hf --version said {hf:?}"
    );
    assert_eq!(
        env.versions().expect("versions").transformers,
        locked("transformers")
    );
}
