//! SIGINT and SIGTERM stop `mdbook-hubcheck test` mid-run (tests/fixtures/interrupt-book: a shell
//! snippet and a Python snippet forked from the warm interpreter, both waiting), and the run
//! leaves nothing behind: no process, namespace or temporary folder, and the report of the last
//! complete run untouched.

use std::fs;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::prelude::*;

/// How long the snippets may take to be under way (the warm interpreter imports first).
const START_LIMIT: Duration = Duration::from_secs(300);
/// How soon after the signal the run must have ended.
const STOP_LIMIT: Duration = Duration::from_secs(2);

const PREVIOUS_REPORT: &str = r#"{
  "version": 1,
  "generated_at": "2026-11-29T10:00:00Z",
  "hub": "mock",
  "clients": {},
  "results": []
}
"#;
const PREVIOUS_JUNIT: &str = "<testsuites name=\"an earlier complete run\"/>\n";

/// Where a snippet said it runs: its process, process group and namespaces.
#[derive(Debug)]
struct Place {
    pid: i32,
    group: i32,
    net: String,
    mnt: String,
}

impl Place {
    fn read(path: &Path) -> Place {
        let text = fs::read_to_string(path).unwrap();
        let fields: Vec<&str> = text.split_whitespace().collect();
        assert_eq!(fields.len(), 4, "{}: {text:?}", path.display());
        Place {
            pid: fields[0].parse().unwrap(),
            group: fields[1].parse().unwrap(),
            net: fields[2].to_string(),
            mnt: fields[3].to_string(),
        }
    }
}

/// A process as /proc shows it.
struct Process {
    pid: i32,
    group: i32,
    cmdline: String,
    net: Option<String>,
    mnt: Option<String>,
}

/// Every process that has not ended (zombies are dead and hold nothing).
fn processes() -> Vec<Process> {
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let after = &stat[stat.rfind(')').unwrap() + 1..];
        let fields: Vec<&str> = after.split_whitespace().collect();
        if fields[0] == "Z" || fields[0] == "X" {
            continue;
        }
        let link = |name: &str| {
            fs::read_link(entry.path().join("ns").join(name))
                .ok()
                .map(|p| p.display().to_string())
        };
        found.push(Process {
            pid,
            group: fields[2].parse().unwrap(),
            cmdline: fs::read(entry.path().join("cmdline"))
                .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
                .unwrap_or_default(),
            net: link("net"),
            mnt: link("mnt"),
        });
    }
    found
}

/// The book, ready to run: markers written into its root, a previous report beside it.
fn prepared_book() -> (BookFixture, PathBuf) {
    let book = BookFixture::copy("interrupt-book");
    let chapter = book.root().join("src/long.md");
    let text = fs::read_to_string(&chapter).unwrap();
    fs::write(
        &chapter,
        text.replace("MARKER_DIR", book.root().to_str().unwrap()),
    )
    .unwrap();
    let reports = book.root().join("target/hubcheck");
    fs::create_dir_all(&reports).unwrap();
    fs::write(reports.join("report.json"), PREVIOUS_REPORT).unwrap();
    fs::write(reports.join("junit.xml"), PREVIOUS_JUNIT).unwrap();
    (book, reports)
}

/// Everything the ended run printed: its standard output, then its standard error.
fn all_output(child: &mut Child) -> String {
    let mut out = String::new();
    for stream in [
        child.stdout.take().map(|s| Box::new(s) as Box<dyn Read>),
        child.stderr.take().map(|s| Box::new(s) as Box<dyn Read>),
    ]
    .into_iter()
    .flatten()
    {
        let mut stream = stream;
        stream.read_to_string(&mut out).unwrap();
    }
    out
}

/// Waits until both snippets have written their markers; the run's output if it ended first.
fn wait_for_markers(child: &mut Child, root: &Path) {
    let started = Instant::now();
    while !(root.join("shell.marker").exists() && root.join("python.marker").exists()) {
        if let Some(status) = child.try_wait().unwrap() {
            let out = all_output(child);
            panic!("the run ended ({status}) before both snippets were under way:\n{out}");
        }
        assert!(
            started.elapsed() < START_LIMIT,
            "the snippets were not under way after {START_LIMIT:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sends `signal` mid-run and checks that the run stopped in time, said so, and left nothing.
fn a_signal_stops_the_run_and_leaves_nothing_behind(signal: i32, status: i32, name: &str) {
    let (book, reports) = prepared_book();
    let tmp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let tmp_path = tmp.path().display().to_string();
    let mut child = Command::new(binary())
        .args([
            "test",
            "--book",
            book.root().to_str().unwrap(),
            "--jobs",
            "2",
        ])
        .env("TMPDIR", tmp.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_markers(&mut child, book.root());
    let shell = Place::read(&book.root().join("shell.marker"));
    let python = Place::read(&book.root().join("python.marker"));
    let warm: Vec<i32> = processes()
        .into_iter()
        .filter(|p| p.cmdline.contains("zygote.py") && p.cmdline.contains(&tmp_path))
        .map(|p| p.pid)
        .collect();
    // The warm interpreter, and the Python snippet's run it forked (which keeps its command line).
    assert_eq!(warm.len(), 2, "{warm:?}");
    assert!(warm.contains(&python.pid), "{warm:?} {python:?}");
    assert!(fs::read_dir(tmp.path()).unwrap().next().is_some());

    // SAFETY: signals the child this test started.
    unsafe { libc::kill(child.id() as i32, signal) };
    let sent = Instant::now();
    let ended = loop {
        if let Some(ended) = child.try_wait().unwrap() {
            break ended;
        }
        if sent.elapsed() > STOP_LIMIT {
            let _ = child.kill();
            panic!("the run did not stop within {STOP_LIMIT:?} of {name}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = sent.elapsed();
    let out = all_output(&mut child);
    assert!(elapsed <= STOP_LIMIT, "stopped after {elapsed:?}:\n{out}");
    assert_eq!(ended.signal(), None, "it ended by itself:\n{out}");
    assert_eq!(ended.code(), Some(status), "{out}");
    let closing = out.lines().rev().find(|l| !l.trim().is_empty()).unwrap();
    assert!(
        closing.starts_with(&format!(
            "interrupted by {name}: the run stopped before its end"
        )),
        "closing line: {closing:?}\n{out}"
    );
    let report = reports.join("report.json").display().to_string();
    assert!(
        closing.ends_with(&format!(
            "no report was written, so {report} is still the last complete run's"
        )),
        "closing line: {closing:?}"
    );
    assert!(
        !out.contains(" passed, "),
        "no summary of a cut-short run:\n{out}"
    );

    // Under the namespace isolation the snippets ran in namespaces of their own, which must be
    // gone; under the proxy isolation they shared the harness's, which stay.
    let own_net = fs::read_link("/proc/self/ns/net")
        .unwrap()
        .display()
        .to_string();
    let namespaces = out.contains("isolation: a network namespace per scenario");
    assert_eq!(shell.net != own_net, namespaces, "{out}");
    let left = processes();
    for place in [&shell, &python] {
        assert!(
            !left
                .iter()
                .any(|p| p.pid == place.pid || p.group == place.group),
            "a process of group {} is left",
            place.group
        );
        assert!(
            !namespaces
                || !left
                    .iter()
                    .any(|p| p.net.as_deref() == Some(place.net.as_str())
                        || p.mnt.as_deref() == Some(place.mnt.as_str())),
            "a process is left in the snippet's namespaces {} {}",
            place.net,
            place.mnt
        );
    }
    assert!(
        !left.iter().any(|p| warm.contains(&p.pid)),
        "the warm interpreter is left"
    );
    assert!(
        !left.iter().any(|p| p.cmdline.contains(&tmp_path)),
        "a process of the run is left"
    );
    let folders: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(folders.is_empty(), "temporary folders left: {folders:?}");
    let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(&tmp_path),
        "a mount of the run is left:\n{mounts}"
    );

    assert_eq!(
        fs::read_to_string(reports.join("report.json")).unwrap(),
        PREVIOUS_REPORT
    );
    assert_eq!(
        fs::read_to_string(reports.join("junit.xml")).unwrap(),
        PREVIOUS_JUNIT
    );
    let report_files: Vec<_> = fs::read_dir(&reports)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(report_files.len(), 2, "{report_files:?}");
}

#[test]
fn sigint_stops_a_run_within_two_seconds_and_leaves_nothing_behind() {
    a_signal_stops_the_run_and_leaves_nothing_behind(libc::SIGINT, 130, "SIGINT");
}

#[test]
fn sigterm_stops_a_run_within_two_seconds_and_leaves_nothing_behind() {
    a_signal_stops_the_run_and_leaves_nothing_behind(libc::SIGTERM, 143, "SIGTERM");
}
