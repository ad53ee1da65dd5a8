//! Chromium for the widget tests, provided the way the harness provides its Python environment:
//! when `/usr/bin/chromium` or `/usr/bin/chromedriver` is missing and the system package manager
//! can install them (root and `apt-get`), they are installed once, under a file lock shared by
//! every test thread and process (`~/.cache/mdbook-hubcheck/chromium.lock`), with a line saying
//! what is installed and why, and apt's own progress (on a terminal) or one line per phase.
//! Where they cannot be installed, the test fails with the one command to run. No test is skipped.
//!
//! [`plan`] is the decision (pure, unit-tested); [`ensure`] carries it out.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// The Debian packages that provide [`CHROMIUM`] and [`CHROMEDRIVER`].
pub const PACKAGES: [&str; 2] = ["chromium", "chromium-driver"];

/// What the machine looks like, as far as the decision goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Machine {
    /// Both binaries exist.
    pub present: bool,
    /// The effective user is root.
    pub root: bool,
    /// Where `apt-get` is, if on `PATH`.
    pub apt_get: Option<PathBuf>,
}

/// What to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Nothing: Chromium is there.
    Ready,
    /// Run these commands, in order (program and arguments).
    Install(Vec<Vec<String>>),
    /// Fail with this message, which names the command to run.
    Fail(String),
}

/// The decision: use what is there, install with apt-get as root, or say what to run.
pub fn plan(machine: &Machine) -> Plan {
    if machine.present {
        return Plan::Ready;
    }
    let packages = PACKAGES.join(" ");
    match (&machine.apt_get, machine.root) {
        (Some(apt), true) => {
            let apt = apt.display().to_string();
            let mut install: Vec<String> =
                [apt.as_str(), "install", "-y", "--no-install-recommends"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
            install.extend(PACKAGES.iter().map(|s| s.to_string()));
            Plan::Install(vec![vec![apt, "update".into()], install])
        }
        (Some(_), false) => Plan::Fail(format!(
            "the widget tests need Chromium ({CHROMIUM} and {CHROMEDRIVER}), and only root can \
             install it; run: sudo apt-get install -y {packages}"
        )),
        (None, _) => Plan::Fail(format!(
            "the widget tests need Chromium at {CHROMIUM} and its driver at {CHROMEDRIVER}; this \
             machine has no apt-get to install them, so install both (Debian packages: {packages}), \
             e.g. run: sudo apt-get install -y {packages}"
        )),
    }
}

/// Looks at this machine.
fn this_machine() -> Machine {
    Machine {
        present: Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists(),
        // SAFETY: geteuid has no preconditions and cannot fail.
        root: unsafe { libc::geteuid() } == 0,
        apt_get: which("apt-get"),
    }
}

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// The lock file shared by all test threads and processes: `$XDG_CACHE_HOME/mdbook-hubcheck/` or
/// `~/.cache/mdbook-hubcheck/`, else the system temp dir.
fn lock_path() -> PathBuf {
    let nonempty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let cache = nonempty("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| nonempty("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    cache.join("mdbook-hubcheck").join("chromium.lock")
}

/// A line for the person running the tests. Written to the process's stderr directly, not with
/// `eprintln!`, which the test harness captures until a test fails.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Makes sure Chromium and chromedriver are installed, installing them when this machine can;
/// panics with the command to run otherwise. Cheap after the first call.
pub fn ensure() {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    if let Err(message) = DONE.get_or_init(ensure_once) {
        panic!("{message}");
    }
}

fn ensure_once() -> Result<(), String> {
    let commands = match plan(&this_machine()) {
        Plan::Ready => return Ok(()),
        Plan::Fail(message) => return Err(message),
        Plan::Install(commands) => commands,
    };
    let lock_path = lock_path();
    if let Some(dir) = lock_path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    }
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| format!("open {}: {e}", lock_path.display()))?;
    if lock.try_lock().is_err() {
        say(&format!(
            "hubcheck: waiting for another test process installing Chromium ({})",
            lock_path.display()
        ));
        lock.lock()
            .map_err(|e| format!("lock {}: {e}", lock_path.display()))?;
    }
    // Another process may have installed it while this one waited.
    if this_machine().present {
        return Ok(());
    }
    let start = Instant::now();
    say(&format!(
        "hubcheck: installing {} with apt-get: the widget tests drive a real headless Chromium \
         ({CHROMIUM}, {CHROMEDRIVER}) and this machine has none; once only, about 300 MB",
        PACKAGES.join(" ")
    ));
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    for command in &commands {
        let phase = command[1..].join(" ");
        if !terminal {
            say(&format!("hubcheck: apt-get {phase} ..."));
        }
        let mut cmd = Command::new(&command[0]);
        cmd.args(&command[1..])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null());
        let output = if terminal {
            // apt's own progress lines, straight to the terminal.
            cmd.stdout(Stdio::inherit()).stderr(Stdio::inherit());
            cmd.status().map(|status| (status, String::new()))
        } else {
            cmd.output().map(|o| {
                let text = String::from_utf8_lossy(&o.stdout).into_owned()
                    + String::from_utf8_lossy(&o.stderr).as_ref();
                (o.status, text)
            })
        };
        let (status, text) = output.map_err(|e| format!("run `{}`: {e}", command.join(" ")))?;
        if !status.success() {
            let tail: Vec<&str> = text.lines().rev().take(20).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            return Err(format!(
                "installing Chromium failed: `{}` exited with {status}\n{}",
                command.join(" "),
                tail.join("\n")
            ));
        }
    }
    if !this_machine().present {
        return Err(format!(
            "apt-get installed {} but {CHROMIUM} or {CHROMEDRIVER} is still missing",
            PACKAGES.join(" ")
        ));
    }
    say(&format!(
        "hubcheck: Chromium installed in {:.0} s",
        start.elapsed().as_secs_f64()
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(present: bool, root: bool, apt: bool) -> Machine {
        Machine {
            present,
            root,
            apt_get: apt.then(|| PathBuf::from("/usr/bin/apt-get")),
        }
    }

    #[test]
    fn present_means_nothing_to_do_whoever_runs() {
        for root in [false, true] {
            for apt in [false, true] {
                assert_eq!(plan(&machine(true, root, apt)), Plan::Ready);
            }
        }
    }

    #[test]
    fn missing_as_root_with_apt_installs_both_packages_after_an_update() {
        let Plan::Install(commands) = plan(&machine(false, true, true)) else {
            panic!("expected an install plan");
        };
        assert_eq!(commands.len(), 2);
        assert_eq!(commands[0], ["/usr/bin/apt-get", "update"]);
        assert_eq!(commands[1][..3], ["/usr/bin/apt-get", "install", "-y"]);
        assert!(commands[1].ends_with(&["chromium".to_string(), "chromium-driver".to_string()]));
    }

    #[test]
    fn missing_without_root_fails_with_the_sudo_command() {
        let Plan::Fail(message) = plan(&machine(false, false, true)) else {
            panic!("expected a failure");
        };
        assert!(
            message.contains("sudo apt-get install -y chromium chromium-driver"),
            "{message}"
        );
    }

    #[test]
    fn missing_without_apt_get_fails_naming_both_paths_and_packages() {
        for root in [false, true] {
            let Plan::Fail(message) = plan(&machine(false, root, false)) else {
                panic!("expected a failure");
            };
            assert!(
                message.contains(CHROMIUM) && message.contains(CHROMEDRIVER),
                "{message}"
            );
            assert!(message.contains("chromium chromium-driver"), "{message}");
        }
    }

    #[test]
    fn the_lock_lives_in_the_project_cache() {
        let path = lock_path();
        assert!(
            path.ends_with("mdbook-hubcheck/chromium.lock"),
            "{}",
            path.display()
        );
    }
}
