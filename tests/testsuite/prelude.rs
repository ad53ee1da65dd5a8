//! Helpers shared by the test modules.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use std::io::Write;

/// The repository root, where `book.toml` and `book/` live.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The folder holding the fixture books and inputs, one subfolder per case.
pub fn fixtures() -> PathBuf {
    repo_root().join("tests/fixtures")
}

/// The `mdbook-hubcheck` binary that cargo built for these tests.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mdbook-hubcheck"))
}

/// The world most fixture books and the mock Hub's tests run against
/// (`tests/fixtures/worlds/unidive.toml`), read anew (fresh token values) for each call.
pub fn unidive_world() -> mdbook_hubcheck::hub::World {
    let file = fixtures().join("worlds/unidive.toml");
    mdbook_hubcheck::hub::world_file::load(&file, &fixtures())
        .unwrap_or_else(|e| panic!("the fixture world does not load: {e}"))
}

/// A mock Hub with [`unidive_world`] on a free loopback port.
pub fn unidive_hub() -> mdbook_hubcheck::hub::MockHub {
    mdbook_hubcheck::hub::MockHub::start(unidive_world()).expect("mock Hub starts")
}

/// A copy of a fixture book in its own temporary folder, so tests can change and build it.
pub struct BookFixture {
    dir: tempfile::TempDir,
    root: PathBuf,
}

impl BookFixture {
    /// Copies `tests/fixtures/<name>` into a fresh temporary folder, with the shared fixture
    /// worlds beside it (`../worlds/`), where the fixture books' `world` keys find them.
    pub fn copy(name: &str) -> BookFixture {
        let dir = tempfile::Builder::new()
            .prefix(&format!("hubcheck-{name}-"))
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .expect("temp dir");
        let root = dir.path().join(name);
        copy_dir(&fixtures().join(name), &root);
        copy_dir(&fixtures().join("worlds"), &dir.path().join("worlds"));
        BookFixture { dir, root }
    }

    /// The book's root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Appends text to a file of the book.
    pub fn append(&self, file: &str, text: &str) {
        let path = self.root().join(file);
        let mut f = fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        f.write_all(text.as_bytes()).unwrap();
    }
}

/// A copy of the handbook (book.toml, book/, its world and lock) in a temporary folder.
pub fn handbook_copy() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("hubcheck-handbook-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    copy_dir(&repo_root().join("book"), &dir.path().join("book"));
    // The files the handbook's world serves (its datasets).
    copy_dir(
        &repo_root().join("hub-files"),
        &dir.path().join("hub-files"),
    );
    for file in [
        "book.toml",
        "hub-world.toml",
        "hub-requirements.in",
        "hub-requirements.txt",
    ] {
        fs::copy(repo_root().join(file), dir.path().join(file)).unwrap();
    }
    dir
}

/// Copies a folder tree.
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Runs the binary with `args`, feeding `stdin`, and returns what it did.
pub fn run_binary(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(binary())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mdbook-hubcheck");
    let mut pipe = child.stdin.take().unwrap();
    let input = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    output
}

/// Runs `mdbook-hubcheck test --book <root> --jobs 2` with `envs` added to the environment.
pub fn hubcheck_test(root: &Path, envs: &[(&str, &str)]) -> Output {
    let mut command = Command::new(binary());
    command.args(["test", "--book", root.to_str().unwrap(), "--jobs", "2"]);
    for (k, v) in envs {
        command.env(k, v);
    }
    command.output().expect("run mdbook-hubcheck test")
}

/// Standard output then standard error of a run, as one text.
pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A string shaped like a real access token, made at run time so none is ever committed.
pub fn planted_token() -> String {
    let alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let seed = std::process::id() as usize;
    let body: String = (0..34)
        .map(|i| alphabet[(seed * 31 + i * 17) % alphabet.len()] as char)
        .collect();
    format!("hf_{body}")
}

/// `cargo` as a person runs it from a shell, not with the variables `cargo test` gives this test
/// process (`CARGO_MANIFEST_DIR`, `CARGO_PKG_NAME`, ...). Build scripts watch some of them (ring's
/// `rerun-if-env-changed=CARGO_MANIFEST_DIR`): inherited, they made this cargo rebuild ring,
/// rustls and everything above them in the shared target folder, and the next `cargo test` rebuild
/// them back (24 s each way, every run; docs/benchmarks.md).
pub fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let set_by_cargo_test = [
            "CARGO_MANIFEST_",
            "CARGO_PKG_",
            "CARGO_BIN_",
            "CARGO_CRATE_",
        ]
        .iter()
        .any(|prefix| name.starts_with(prefix))
            || [
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
                "CARGO_RUSTC_CURRENT_DIR",
                "OUT_DIR",
            ]
            .contains(&name.as_ref());
        if set_by_cargo_test {
            command.env_remove(name.as_ref());
        }
    }
    command
}

/// Runs [`cargo`] with `args` in the repository root and returns its output; fails naming the
/// command and what it printed unless it succeeded.
pub fn run_cargo<S: AsRef<std::ffi::OsStr>>(args: impl IntoIterator<Item = S>) -> Output {
    let args: Vec<S> = args.into_iter().collect();
    let shown: Vec<String> = args
        .iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect();
    let output = cargo()
        .args(&args)
        .current_dir(repo_root())
        .output()
        .unwrap_or_else(|e| panic!("cannot run cargo {}: {e}", shown.join(" ")));
    assert!(
        output.status.success(),
        "cargo {} failed:\n{}",
        shown.join(" "),
        text(&output)
    );
    output
}

/// `/proc/PID/stat` of `pid` while it still runs; `None` once it has ended (gone, or a zombie
/// waiting for its parent).
pub fn still_running(pid: u32) -> Option<String> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let state = stat
        .rsplit(") ")
        .next()
        .and_then(|rest| rest.chars().next());
    (!matches!(state, None | Some('Z' | 'X'))).then_some(stat)
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// A standalone mock Hub (`mdbook-hubcheck mock-hub`), stopped when dropped.
pub struct StandaloneHub {
    child: std::process::Child,
    /// What it printed at start: `{"url": .., "tokens": [..]}`.
    pub info: serde_json::Value,
}

impl StandaloneHub {
    /// Starts it on a free loopback port and reads its first line.
    pub fn start() -> StandaloneHub {
        use std::io::BufRead;
        let mut child = std::process::Command::new(binary())
            .args(["mock-hub", "--port", "0", "--world"])
            .arg(fixtures().join("worlds/unidive.toml"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start mock-hub");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let info = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        StandaloneHub { child, info }
    }

    /// Its base URL.
    pub fn url(&self) -> &str {
        self.info["url"].as_str().unwrap()
    }
}

impl Drop for StandaloneHub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
