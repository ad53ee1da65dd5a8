//! Warm interpreters: Python runs that start without paying for their imports every time.
//!
//! Each transformers snippet used to spend seconds importing torch, numpy and the clients before
//! doing anything. A [`WarmInterpreter`] keeps one Python process (`python/warm/zygote.py`) that has
//! imported once the modules the handbook's runs import (`preload.txt`: torch and its compiler,
//! numpy, tokenizers, the HTTP and command-line libraries, and huggingface_hub and transformers
//! when every case sees the same sandbox path and endpoint, which is so under the namespace
//! isolation: see [`super::isolation::namespaces::SCENARIO_ROOT`]), and forks one child per run, for every job
//! at once. The child takes on everything the run would have had as a new process: a new session
//! and process group (the timeout still kills the whole group), the scenario's network and mount
//! namespaces, its terminal or pipes, folder and environment built from nothing, `sys.path`,
//! `sys.argv` and its own `sitecustomize`. The interpreter records which environment variables its
//! imports read; a run whose environment gives one of them another value starts as a new process
//! instead ([`Forked::Refused`]). Shell snippets reach the same interpreter through small `hf`,
//! `python` and `python3` programs put first on their PATH (`python/warm/shim.py`), which hand it
//! their command, streams, process group and namespaces. Isolation is the same as with a new
//! process; only the import time is gone. `mdbook-hubcheck test --cold` runs every process new.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use self::stdio::RunStdio;
use super::isolation::network::NETWORK_HOOK;
use super::process::invocation::{Invocation, Outcome, ProcessError, stop_if_interrupted};
use super::process::supervise::{Act, Supervised, Waitable, supervise};
use super::process::terminal::Typist;
use super::tail::last_lines;

mod stdio;

/// How long a new warm interpreter may take to import its modules on a busy machine.
const READY_WAIT: Duration = Duration::from_secs(300);
/// How long the interpreter may take to fork a run, and to report a killed run's end.
const REPLY_WAIT: Duration = Duration::from_secs(30);
/// How often a wait for the interpreter looks whether the run was interrupted.
const INTERRUPT_LOOK: Duration = Duration::from_millis(50);

/// The warm interpreter's program.
const ZYGOTE: &str = include_str!("../python/warm/zygote.py");
/// The modules it imports: what the handbook's runs import, most used first (made by
/// `scripts/warm-preload.sh`; huggingface_hub and transformers only with the shared environment).
const PRELOAD: &str = include_str!("../python/warm/preload.txt");
/// The program that hands a shell snippet's `hf` or `python` command to the interpreter.
const SHIM: &str = include_str!("../python/warm/shim.py");
/// When set in the harness's environment, every forked run appends the modules it imported to
/// this file (how `scripts/warm-preload.sh` makes `preload.txt`).
const RECORD_VARIABLE: &str = "HUBCHECK_WARM_RECORD";
/// Tells the interpreter that it runs with the environment all runs share, so it may import the
/// clients too.
const CLIENTS_VARIABLE: &str = "HUBCHECK_WARM_CLIENTS";
/// The commands of the Python environment that shell snippets reach through the interpreter.
const SHIMMED: [&str; 3] = ["hf", "python", "python3"];

/// The warm interpreter of one Python environment, shared by the workers of a run.
pub struct WarmInterpreter {
    python: PathBuf,
    /// The environment every run of the book shares, when every case sees the same paths and
    /// endpoint: the interpreter then imports the clients themselves with it.
    shared: Option<Vec<(String, String)>>,
    dir: tempfile::TempDir,
    zygote: Mutex<Option<Arc<Zygote>>>,
    next_id: AtomicU64,
}

/// What became of a run handed to the warm interpreter.
pub enum Forked {
    /// It ran: its outcome.
    Ran(Outcome),
    /// Its environment gives a variable the interpreter's imports read another value, so it
    /// must start as a new process: the invocation, unchanged.
    Refused(Invocation),
}

impl WarmInterpreter {
    /// A pool for the interpreter `python`, whose interpreter starts importing at once, so that it
    /// is ready by the time the first run needs it. With `shared`, the environment that every
    /// run has in common (the same sandbox path and endpoint in every case), the interpreter runs
    /// with it and imports huggingface_hub and transformers too; a run whose variables differ
    /// from it where the imports read them still starts as a new process.
    pub fn new(
        python: &Path,
        shared: Option<Vec<(String, String)>>,
    ) -> io::Result<WarmInterpreter> {
        let dir = tempfile::Builder::new()
            .prefix("hubcheck-warm-")
            .tempdir()?;
        std::fs::write(dir.path().join("zygote.py"), ZYGOTE)?;
        std::fs::write(dir.path().join("_hubcheck_network.py"), NETWORK_HOOK)?;
        std::fs::write(dir.path().join("preload.txt"), PRELOAD)?;
        write_shims(dir.path(), python)?;
        let pool = WarmInterpreter {
            python: python.to_path_buf(),
            shared,
            dir,
            zygote: Mutex::new(None),
            next_id: AtomicU64::new(1),
        };
        *pool.zygote.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(pool.spawn()?));
        Ok(pool)
    }

    /// The folder of `hf`, `python` and `python3` programs that hand a shell snippet's commands
    /// to the interpreter (each starts the real program when it cannot).
    pub fn shim_dir(&self) -> PathBuf {
        self.dir.path().join("bin")
    }

    /// Waits until the interpreter takes runs: it has imported the modules most runs import
    /// (started again if it has died).
    pub fn wait_ready(&self) -> Result<(), ProcessError> {
        self.ready_zygote().map(drop)
    }

    /// Runs a Python script invocation on the warm interpreter, unless the interpreter refuses it.
    pub fn run(&self, mut inv: Invocation) -> Result<Forked, ProcessError> {
        let zygote = self.ready_zygote()?;
        let started = Instant::now();
        let answers = inv.terminal.take();
        let stdio = RunStdio::new(answers.is_some(), inv.output_cap)?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let heavy = imports_heavy_modules(&inv.args);
        let request = serde_json::json!({
            "id": id,
            "heavy": heavy,
            "argv": inv.args,
            "env": inv.env,
            "cwd": inv.cwd,
            "netns": inv.netns,
            "mntns": inv.mounts,
            "stdin": stdio.paths[0],
            "stdout": stdio.paths[1],
            "stderr": stdio.paths[2],
        });
        let replies = zygote.send(id, &request)?;
        // A run that imports transformers or torch is forked only once the interpreter has
        // imported them, which on a busy machine takes as long as a new interpreter's start.
        let fork_wait = if heavy { READY_WAIT } else { REPLY_WAIT };
        let leader = match replies.recv_timeout(fork_wait) {
            Ok(Reply::Pid(pid)) => pid,
            Ok(Reply::Cold) => {
                zygote.forget(id);
                inv.terminal = answers;
                return Ok(Forked::Refused(inv));
            }
            other => {
                zygote.forget(id);
                self.drop_if_gone(&zygote);
                return Err(zygote.failure(&format!("no child was forked ({other:?})")));
            }
        };
        let mut typist = answers.map(|a| Typist::new(a, leader));
        let mut writer = stdio.terminal_writer()?;
        let text = || stdio.text();
        let mut child = WarmChild {
            replies: &replies,
            ended: None,
        };
        let Supervised {
            status,
            timed_out,
            waited_for,
        } = supervise(
            &mut child,
            leader,
            started,
            inv.timeout,
            text,
            &mut inv.observer,
            |text| match (&mut typist, &mut writer) {
                (Some(typist), Some(writer)) => typist.act(text, writer),
                _ => Act::Idle,
            },
        );
        zygote.forget(id);
        if status.is_none() {
            self.drop_if_gone(&zygote);
        }
        let (stdout, stderr, truncated) = stdio.finish(writer);
        Ok(Forked::Ran(Outcome {
            status: match (timed_out, status) {
                (false, Some(Ended::Code(code))) => Some(code),
                _ => None,
            },
            stdout,
            stderr,
            timed_out,
            truncated,
            unanswered: typist.as_mut().and_then(Typist::unanswered),
            waited_for,
            duration: started.elapsed(),
            terminal: typist.is_some(),
        }))
    }

    /// The interpreter, started again if it has died; waits until it has imported its modules.
    fn ready_zygote(&self) -> Result<Arc<Zygote>, ProcessError> {
        // An interrupted run starts no interpreter again, and waits for none.
        stop_if_interrupted()?;
        let zygote = {
            let mut slot = self.zygote.lock().unwrap_or_else(|p| p.into_inner());
            match slot.as_ref() {
                Some(zygote) => Arc::clone(zygote),
                None => {
                    let zygote = Arc::new(self.spawn().map_err(ProcessError::Warm)?);
                    *slot = Some(Arc::clone(&zygote));
                    zygote
                }
            }
        };
        if zygote.wait_ready(READY_WAIT).is_none() {
            stop_if_interrupted()?;
            self.drop_if_gone(&zygote);
            return Err(zygote.failure("it did not finish importing its modules"));
        }
        Ok(zygote)
    }

    /// Forgets the interpreter if it has exited, so the next run starts a new one.
    fn drop_if_gone(&self, zygote: &Arc<Zygote>) {
        if !zygote.alive() {
            let mut slot = self.zygote.lock().unwrap_or_else(|p| p.into_inner());
            if slot.as_ref().is_some_and(|z| Arc::ptr_eq(z, zygote)) {
                *slot = None;
            }
        }
    }

    /// Starts an interpreter; it reports `ready` once its imports are done.
    fn spawn(&self) -> io::Result<Zygote> {
        let bin = self.python.parent().unwrap_or(Path::new("/"));
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let log = self.dir.path().join(format!("zygote-{stamp}.log"));
        let socket = self.dir.path().join("zygote.sock");
        let _ = std::fs::remove_file(&socket);
        let mut command = Command::new(&self.python);
        command
            .arg(self.dir.path().join("zygote.py"))
            .arg(&socket)
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
            .stderr(File::create(&log)?);
        if let Some(record) = std::env::var_os(RECORD_VARIABLE) {
            command.env(RECORD_VARIABLE, record);
        }
        if let Some(shared) = &self.shared {
            // Its own PATH, PYTHONPATH and temporary folder (a child forgets the temporary folder
            // and takes its run's); the rest as every run has it.
            let own = ["PATH", "PYTHONPATH", "TMPDIR"];
            command.envs(
                shared
                    .iter()
                    .filter(|(k, _)| !own.contains(&k.as_str()))
                    .cloned(),
            );
            command.env(CLIENTS_VARIABLE, "1");
        }
        let mut child = command.spawn()?;
        let requests = child.stdin.take().expect("piped");
        let board = Arc::new(ReplyBoard::default());
        read_replies(child.stdout.take().expect("piped"), Arc::clone(&board));
        Ok(Zygote {
            child: Mutex::new(child),
            requests: Mutex::new(requests),
            board,
            log,
        })
    }
}

/// Whether the files a run reads its code from mention transformers or torch: the interpreter then
/// forks it only once it has imported those itself, rather than let the run import them again
/// while it does.
fn imports_heavy_modules(args: &[String]) -> bool {
    args.iter()
        .filter_map(|arg| std::fs::read_to_string(arg).ok())
        .any(|code| mentions_heavy_modules(&code))
}

/// Whether Python code mentions transformers or torch, the imports that take seconds: what the
/// warm interpreter is for, and what it waits to have imported before forking such a run.
pub fn mentions_heavy_modules(code: &str) -> bool {
    code.contains("transformers") || code.contains("torch")
}

/// Writes `bin/hf`, `bin/python` and `bin/python3`: the shim, told where the real programs and the
/// interpreter's socket are.
fn write_shims(dir: &Path, python: &Path) -> io::Result<()> {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin)?;
    let venv_bin = python.parent().unwrap_or(Path::new("/"));
    for name in SHIMMED {
        let text = SHIM
            .replace("@PYTHON@", &python.display().to_string())
            .replace("@REAL@", &venv_bin.join(name).display().to_string())
            .replace("@NAME@", name)
            .replace("@SOCKET@", &dir.join("zygote.sock").display().to_string());
        let path = bin.join(name);
        std::fs::write(&path, text)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}

/// The warm interpreter.
struct Zygote {
    child: Mutex<Child>,
    requests: Mutex<ChildStdin>,
    board: Arc<ReplyBoard>,
    log: PathBuf,
}

/// What the reply reader shares with the runs: readiness, and where each run's replies go.
#[derive(Default)]
struct ReplyBoard {
    state: Mutex<ReaderState>,
    changed: Condvar,
}

#[derive(Default)]
struct ReaderState {
    /// The interpreter said `ready`: it takes requests.
    ready: bool,
    /// The interpreter's replies have ended (it exited).
    gone: bool,
    /// Where the replies of each request in flight go.
    runs: HashMap<u64, Sender<Reply>>,
}

impl Zygote {
    /// Sends a request; its replies arrive on the returned channel.
    fn send(&self, id: u64, request: &serde_json::Value) -> Result<Receiver<Reply>, ProcessError> {
        let (tx, rx) = mpsc::channel();
        self.board
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .runs
            .insert(id, tx);
        let line = format!("{request}\n");
        let mut requests = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        requests
            .write_all(line.as_bytes())
            .and_then(|()| requests.flush())
            .map_err(|e| self.failure(&format!("cannot send it the run: {e}")))?;
        Ok(rx)
    }

    /// Stops routing the replies of request `id`.
    fn forget(&self, id: u64) {
        self.board
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .runs
            .remove(&id);
    }

    /// Waits until the interpreter is ready; `None` if it exited first, took too long, or the
    /// run was interrupted meanwhile (looked at every [`INTERRUPT_LOOK`]).
    fn wait_ready(&self, wait: Duration) -> Option<()> {
        let deadline = Instant::now() + wait;
        let mut state = self.board.state.lock().unwrap_or_else(|p| p.into_inner());
        while !state.ready && !state.gone {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || super::interrupt::received().is_some() {
                return None;
            }
            state = self
                .board
                .changed
                .wait_timeout(state, left.min(INTERRUPT_LOOK))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        state.ready.then_some(())
    }

    fn alive(&self) -> bool {
        let gone = self
            .board
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .gone;
        !gone
            && matches!(
                self.child
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .try_wait(),
                Ok(None)
            )
    }

    /// An error naming what failed, with the end of the interpreter's own error output.
    fn failure(&self, what: &str) -> ProcessError {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail = last_lines(log.lines(), 15).lines;
        ProcessError::Warm(io::Error::other(format!("{what}\n{}", tail.join("\n"))))
    }
}

impl Drop for Zygote {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(|p| p.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// What the interpreter says about one run.
#[derive(Debug)]
enum Reply {
    Pid(u32),
    /// Not forked: the run's environment disagrees with what the imports read.
    Cold,
    Ended(Ended),
}

/// How a run ended.
#[derive(Debug, Clone, Copy)]
enum Ended {
    /// It exited with this code.
    Code(i32),
    /// A signal killed it (the timeout's, or its own crash).
    Killed,
}

/// Reads the interpreter's replies on a thread of its own and routes each to its run.
fn read_replies(stdout: std::process::ChildStdout, board: Arc<ReplyBoard>) {
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let Ok(value) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            let mut state = board.state.lock().unwrap_or_else(|p| p.into_inner());
            if value.get("ready").is_some() {
                state.ready = true;
                board.changed.notify_all();
                continue;
            }
            let number = |key: &str| value.get(key).and_then(serde_json::Value::as_i64);
            let reply = if let Some(pid) = number("pid") {
                Reply::Pid(pid as u32)
            } else if value.get("cold").is_some() {
                Reply::Cold
            } else if let Some(code) = number("exit") {
                Reply::Ended(Ended::Code(code as i32))
            } else if number("signal").is_some() {
                Reply::Ended(Ended::Killed)
            } else {
                continue;
            };
            if let Some(tx) = number("id").and_then(|id| state.runs.get(&(id as u64))) {
                let _ = tx.send(reply);
            }
        }
        let mut state = board.state.lock().unwrap_or_else(|p| p.into_inner());
        state.gone = true;
        // Dropping the senders tells every waiting run that no reply will come.
        state.runs.clear();
        board.changed.notify_all();
    });
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
