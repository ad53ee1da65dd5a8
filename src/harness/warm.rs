//! Warm interpreters: Python runs that start without paying for `import torch` every time.
//!
//! Each transformers snippet used to spend seconds importing torch and numpy before doing anything.
//! A [`WarmPool`] keeps Python processes (`python/warm/zygote.py`) that have imported once the
//! heavy modules that read nothing from the environment (torch, numpy, safetensors, tokenizers),
//! and forks one child per run. The child takes on everything the run would have had as a new
//! process: a new session and process group (the timeout still kills the whole group), the
//! scenario's network namespace, its terminal or pipes, folder and environment built from nothing,
//! `sys.path`, `sys.argv` and its own `sitecustomize`; it imports huggingface_hub and transformers
//! itself, so they read the run's variables. Isolation is the same as with a new process; only
//! the import time is gone. `mdbook-hubcheck test --cold` runs every process new instead.

use std::ffi::CString;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use portable_pty::{PtySize, native_pty_system};

use super::process::{
    Invocation, Outcome, ProcessError, Typist, Waitable, clean_terminal_text, drain, kill_group,
    shared, supervise, text_of,
};

/// How long a new warm interpreter may take to import its modules on a busy machine.
const READY_WAIT: Duration = Duration::from_secs(300);
/// How long the interpreter may take to fork a run, and to report a killed run's end.
const REPLY_WAIT: Duration = Duration::from_secs(30);

/// The warm interpreter's program.
const ZYGOTE: &str = include_str!("python/warm/zygote.py");
/// The network hook it installs before forking (the same one every run's `sitecustomize` loads).
const NETWORK_HOOK: &str = include_str!("python/site/_hubcheck_network.py");

/// Warm interpreters of one Python environment, shared by the workers of a run.
pub struct WarmPool {
    python: PathBuf,
    dir: tempfile::TempDir,
    idle: Mutex<Vec<Zygote>>,
}

impl WarmPool {
    /// A pool for the interpreter `python`, with `ready` interpreters starting at once (one per
    /// worker), so that they have imported their modules by the time the first run needs them.
    pub fn new(python: &Path, ready: usize) -> io::Result<WarmPool> {
        let dir = tempfile::Builder::new()
            .prefix("hubcheck-warm-")
            .tempdir()?;
        std::fs::write(dir.path().join("zygote.py"), ZYGOTE)?;
        std::fs::write(dir.path().join("_hubcheck_network.py"), NETWORK_HOOK)?;
        let pool = WarmPool {
            python: python.to_path_buf(),
            dir,
            idle: Mutex::new(Vec::new()),
        };
        for _ in 0..ready {
            let zygote = pool.spawn()?;
            pool.give_back(zygote);
        }
        Ok(pool)
    }

    /// Runs a Python script invocation on a warm interpreter.
    pub fn run(&self, mut inv: Invocation) -> Result<Outcome, ProcessError> {
        let mut zygote = self.take()?;
        let started = Instant::now();
        let answers = inv.terminal.take();
        let stdio = RunStdio::new(answers.is_some(), inv.output_cap)?;
        let request = serde_json::json!({
            "argv": inv.args,
            "env": inv.env,
            "cwd": inv.cwd,
            "netns": inv.netns,
            "stdin": stdio.paths[0],
            "stdout": stdio.paths[1],
            "stderr": stdio.paths[2],
        });
        zygote.send(&request)?;
        let leader = match zygote.replies.recv_timeout(REPLY_WAIT) {
            Ok(Reply::Pid(pid)) => pid,
            other => return Err(zygote.failure(&format!("no child was forked ({other:?})"))),
        };
        let mut typist = answers.map(|a| Typist::new(a, leader));
        let mut writer = stdio.terminal_writer()?;
        let text = || stdio.text();
        let mut child = WarmChild {
            replies: &zygote.replies,
            ended: None,
        };
        let (status, timed_out) = supervise(
            &mut child,
            leader,
            started,
            inv.timeout,
            text,
            &mut inv.observer,
            |text| match (&mut typist, &mut writer) {
                (Some(typist), Some(writer)) => typist.answer(text, writer),
                _ => false,
            },
        );
        kill_group(leader);
        let healthy = status.is_some();
        let (stdout, stderr, truncated) = stdio.finish(writer);
        if healthy {
            self.give_back(zygote);
        }
        Ok(Outcome {
            status: match (timed_out, status) {
                (false, Some(Ended::Code(code))) => Some(code),
                _ => None,
            },
            stdout,
            stderr,
            timed_out,
            truncated,
            unanswered: typist.as_mut().and_then(Typist::unanswered),
            duration: started.elapsed(),
            terminal: typist.is_some(),
        })
    }

    /// An idle interpreter, or a new one; waits until it has imported its modules.
    fn take(&self) -> Result<Zygote, ProcessError> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut zygote = match idle {
            Some(zygote) => zygote,
            None => self
                .spawn()
                .map_err(|e| ProcessError::Warm(e.to_string()))?,
        };
        if !zygote.ready {
            match zygote.replies.recv_timeout(READY_WAIT) {
                Ok(Reply::Ready) => zygote.ready = true,
                other => {
                    return Err(zygote.failure(&format!(
                        "it did not finish importing its modules ({other:?})"
                    )));
                }
            }
        }
        Ok(zygote)
    }

    fn give_back(&self, zygote: Zygote) {
        self.idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(zygote);
    }

    /// Starts an interpreter; it reports `ready` once its imports are done.
    fn spawn(&self) -> io::Result<Zygote> {
        let bin = self.python.parent().unwrap_or(Path::new("/"));
        let log = self.dir.path().join(format!(
            "zygote-{}.log",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        let mut child = Command::new(&self.python)
            .arg(self.dir.path().join("zygote.py"))
            .env_clear()
            .env(
                "PATH",
                format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display()),
            )
            .env("HOME", self.dir.path())
            .env("PYTHONPATH", self.dir.path())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONUNBUFFERED", "1")
            .env("LANG", "C.UTF-8")
            .env("LC_ALL", "C.UTF-8")
            .current_dir(self.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(File::create(&log)?)
            .spawn()?;
        let requests = child.stdin.take().expect("piped");
        let replies = read_replies(child.stdout.take().expect("piped"));
        Ok(Zygote {
            child,
            requests,
            replies,
            ready: false,
            log,
        })
    }
}

/// One warm interpreter.
struct Zygote {
    child: Child,
    requests: ChildStdin,
    replies: Receiver<Reply>,
    ready: bool,
    log: PathBuf,
}

impl Zygote {
    fn send(&mut self, request: &serde_json::Value) -> Result<(), ProcessError> {
        let line = format!("{request}\n");
        self.requests
            .write_all(line.as_bytes())
            .and_then(|()| self.requests.flush())
            .map_err(|e| self.failure(&format!("cannot send it the run: {e}")))
    }

    /// An error naming what failed, with the end of the interpreter's own error output.
    fn failure(&self, what: &str) -> ProcessError {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(15).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        ProcessError::Warm(format!("{what}\n{}", tail.join("\n")))
    }
}

impl Drop for Zygote {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What an interpreter says.
#[derive(Debug)]
enum Reply {
    Ready,
    Pid(u32),
    Ended(Ended),
    Gone,
}

/// How a run ended.
#[derive(Debug, Clone, Copy)]
enum Ended {
    /// It exited with this code.
    Code(i32),
    /// A signal killed it (the timeout's, or its own crash).
    Killed,
}

/// Reads the interpreter's replies on a thread of its own.
fn read_replies(stdout: std::process::ChildStdout) -> Receiver<Reply> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let Ok(value) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            let number = |key: &str| value.get(key).and_then(serde_json::Value::as_i64);
            let reply = if value.get("ready").is_some() {
                Reply::Ready
            } else if let Some(pid) = number("pid") {
                Reply::Pid(pid as u32)
            } else if let Some(code) = number("exit") {
                Reply::Ended(Ended::Code(code as i32))
            } else if number("signal").is_some() {
                Reply::Ended(Ended::Killed)
            } else {
                continue;
            };
            if tx.send(reply).is_err() {
                return;
            }
        }
        let _ = tx.send(Reply::Gone);
    });
    rx
}

/// A forked run, as the supervisor sees it: it ends when the interpreter says so.
struct WarmChild<'a> {
    replies: &'a Receiver<Reply>,
    ended: Option<Ended>,
}

impl Waitable for WarmChild<'_> {
    type Status = Ended;

    fn poll(&mut self) -> Option<Ended> {
        if self.ended.is_none()
            && let Ok(Reply::Ended(ended)) = self.replies.try_recv()
        {
            self.ended = Some(ended);
        }
        self.ended
    }

    fn reap(&mut self) -> Option<Ended> {
        while self.ended.is_none() {
            match self.replies.recv_timeout(REPLY_WAIT) {
                Ok(Reply::Ended(ended)) => self.ended = Some(ended),
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
            }
        }
        self.ended
    }
}

/// Where a forked run's standard streams go: two FIFOs the harness reads, or a pseudo-terminal.
struct RunStdio {
    /// stdin, stdout and stderr, as paths the child opens.
    paths: [PathBuf; 3],
    kind: StdioKind,
}

enum StdioKind {
    Pipes {
        _dir: tempfile::TempDir,
        out: super::process::Shared,
        err: super::process::Shared,
        /// The harness's own write ends, held until the run ended, so the readers do not see an
        /// end of file before the child has opened its ends.
        keep_open: Vec<File>,
        readers: Vec<thread::JoinHandle<()>>,
    },
    Terminal {
        pair: portable_pty::PtyPair,
        screen: super::process::Shared,
        reader: thread::JoinHandle<()>,
    },
}

impl RunStdio {
    fn new(terminal: bool, cap: usize) -> Result<RunStdio, ProcessError> {
        let fail = |e: &dyn std::fmt::Display| {
            ProcessError::Warm(format!("preparing the run's streams: {e}"))
        };
        if terminal {
            let pair = native_pty_system()
                .openpty(PtySize {
                    rows: 40,
                    cols: 200,
                    pixel_width: 0,
                    pixel_height: 0,
                })
                .map_err(|e| fail(&e))?;
            let tty = pair
                .master
                .tty_name()
                .ok_or_else(|| fail(&"the terminal has no name"))?;
            let screen = shared(cap);
            let reader = drain(
                pair.master.try_clone_reader().map_err(|e| fail(&e))?,
                screen.clone(),
            );
            return Ok(RunStdio {
                paths: [tty.clone(), tty.clone(), tty],
                kind: StdioKind::Terminal {
                    pair,
                    screen,
                    reader,
                },
            });
        }
        let dir = tempfile::Builder::new()
            .prefix("hubcheck-streams-")
            .tempdir()
            .map_err(|e| fail(&e))?;
        let (out, err) = (shared(cap), shared(cap));
        let mut keep_open = Vec::new();
        let mut readers = Vec::new();
        for (name, into) in [("stdout", &out), ("stderr", &err)] {
            let path = dir.path().join(name);
            let (read, write) = fifo(&path).map_err(|e| fail(&e))?;
            keep_open.push(write);
            readers.push(drain(read, into.clone()));
        }
        Ok(RunStdio {
            paths: [
                PathBuf::from("/dev/null"),
                dir.path().join("stdout"),
                dir.path().join("stderr"),
            ],
            kind: StdioKind::Pipes {
                _dir: dir,
                out,
                err,
                keep_open,
                readers,
            },
        })
    }

    /// Where typed answers go, on a terminal.
    fn terminal_writer(&self) -> Result<Option<Box<dyn Write + Send>>, ProcessError> {
        match &self.kind {
            StdioKind::Terminal { pair, .. } => pair
                .master
                .take_writer()
                .map(Some)
                .map_err(|e| ProcessError::Warm(format!("the terminal's input: {e}"))),
            StdioKind::Pipes { .. } => Ok(None),
        }
    }

    /// Everything shown so far: the terminal, or stdout then stderr.
    fn text(&self) -> String {
        match &self.kind {
            StdioKind::Terminal { screen, .. } => clean_terminal_text(&text_of(screen)),
            StdioKind::Pipes { out, err, .. } => text_of(out) + &text_of(err),
        }
    }

    /// Closes the harness's ends and collects the output: (stdout, stderr, truncated).
    fn finish(self, writer: Option<Box<dyn Write + Send>>) -> (String, String, bool) {
        drop(writer);
        match self.kind {
            StdioKind::Terminal {
                pair,
                screen,
                reader,
            } => {
                drop(pair.slave);
                drop(pair.master);
                let _ = reader.join();
                let truncated = screen.lock().map(|c| c.truncated).unwrap_or(false);
                (
                    clean_terminal_text(&text_of(&screen)),
                    String::new(),
                    truncated,
                )
            }
            StdioKind::Pipes {
                out,
                err,
                keep_open,
                readers,
                ..
            } => {
                drop(keep_open);
                for reader in readers {
                    let _ = reader.join();
                }
                let truncated = [&out, &err]
                    .iter()
                    .any(|s| s.lock().map(|c| c.truncated).unwrap_or(false));
                (
                    clean_terminal_text(&text_of(&out)),
                    clean_terminal_text(&text_of(&err)),
                    truncated,
                )
            }
        }
    }
}

/// Makes a FIFO at `path` and opens its read end and a write end of the harness's own.
fn fifo(path: &Path) -> io::Result<(File, File)> {
    let c_path = CString::new(path.as_os_str().as_bytes()).map_err(io::Error::other)?;
    // SAFETY: a valid NUL-terminated path; mkfifo and open only read it.
    unsafe {
        if libc::mkfifo(c_path.as_ptr(), 0o600) != 0 {
            return Err(io::Error::last_os_error());
        }
        // Non-blocking, or opening the read end would wait for a writer; then blocking again.
        let read = libc::open(
            c_path.as_ptr(),
            libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC,
        );
        if read < 0 {
            return Err(io::Error::last_os_error());
        }
        let read = File::from_raw_fd(read);
        let write = libc::open(c_path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if write < 0 {
            return Err(io::Error::last_os_error());
        }
        let write = File::from_raw_fd(write);
        let flags = libc::fcntl(read.as_raw_fd(), libc::F_GETFL);
        libc::fcntl(read.as_raw_fd(), libc::F_SETFL, flags & !libc::O_NONBLOCK);
        Ok((read, write))
    }
}
