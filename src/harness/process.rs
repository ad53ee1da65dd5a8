//! Runs one snippet's process: in its own process group, with a timeout that kills the whole group,
//! output capped, and, when a person would type at it, on a real pseudo-terminal that answers each
//! prompt once its text is on screen.
//!
//! Child output is read on threads of its own (as ripgrep's `CommandReader` does), so a noisy child
//! cannot deadlock the runner, and the group is killed after the leader exits too, so a background
//! child left behind cannot keep a pipe open.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

/// How often the runner looks at the child and its output.
const POLL: Duration = Duration::from_millis(20);
/// The shortest pause after a keystroke, so a program woken by it is seen running before the next.
const KEY_PAUSE: Duration = Duration::from_millis(20);
/// How long to wait for a program to sit waiting for input before typing anyway.
const INPUT_WAIT: Duration = Duration::from_secs(5);

/// How long a run on a terminal may sit waiting for input nobody will type, with nothing new on
/// screen, before it is ended as waiting for a person.
const STALL: Duration = Duration::from_millis(2000);

/// A callback that sees a run's output (all of it so far) while it runs, e.g. to approve a
/// browser login whose code the process printed; it returns why the run must end now (it waits
/// for a person nobody plays), or `None`.
pub type Observer = Box<dyn FnMut(&str) -> Option<String> + Send>;

/// What the supervisor's helper did at one look at the output.
pub(super) enum Act {
    /// Typed something: look again at once.
    Typed,
    /// Nothing to do.
    Idle,
    /// The run waits for something nobody will do: end it, for this reason.
    Stop(String),
}

/// One process to run.
pub struct Invocation {
    /// The program, found in `env`'s PATH when not a path.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// The whole environment: nothing of the invoking user's is inherited.
    pub env: Vec<(String, String)>,
    /// The working directory.
    pub cwd: PathBuf,
    /// After this long the whole process group is killed.
    pub timeout: Duration,
    /// Bytes kept of each output stream; the rest is read and dropped.
    pub output_cap: usize,
    /// `Some`: run on a pseudo-terminal (stdin, stdout and stderr are the terminal) and answer
    /// these prompts in order. `None`: stdin is empty and stdout/stderr are pipes.
    pub terminal: Option<Vec<Answer>>,
    /// Called with all output so far (terminal text, or stdout then stderr) whenever it grows, e.g.
    /// to approve a browser login whose code the process printed.
    pub observer: Option<Observer>,
    /// The network namespace the process runs in (entered with `nsenter`), if any.
    pub netns: Option<PathBuf>,
    /// The mount namespace the process runs in (entered with `nsenter` too: the case's sandbox
    /// bound at one path for every case), if any.
    pub mounts: Option<PathBuf>,
    /// Whether `program` is the pinned Python running the script `args[0]`: such a run may start
    /// from a warm interpreter ([`super::warm`]).
    pub python_script: bool,
}

/// A prompt and the keys a person types once it appears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Text that must be on screen (after the previous answer's prompt) before typing.
    pub prompt: String,
    /// The keys, each sent on its own after a short pause.
    pub keys: Vec<Vec<u8>>,
}

impl Answer {
    /// Turns `send` text with `<enter>`, `<up>`, `<down>`, `<tab>` key names into keystrokes.
    pub fn from_send(prompt: &str, send: &str) -> Answer {
        let mut keys = Vec::new();
        let mut text = String::new();
        let mut rest = send;
        while !rest.is_empty() {
            let named = [
                ("<enter>", &b"\r"[..]),
                ("<up>", b"\x1b[A"),
                ("<down>", b"\x1b[B"),
                ("<tab>", b"\t"),
            ]
            .into_iter()
            .find(|(name, _)| rest.starts_with(name));
            match named {
                Some((name, bytes)) => {
                    if !text.is_empty() {
                        keys.push(std::mem::take(&mut text).into_bytes());
                    }
                    keys.push(bytes.to_vec());
                    rest = &rest[name.len()..];
                }
                None => {
                    let c = rest.chars().next().unwrap_or_default();
                    text.push(c);
                    rest = &rest[c.len_utf8()..];
                }
            }
        }
        if !text.is_empty() {
            keys.push(text.into_bytes());
        }
        Answer {
            prompt: prompt.to_string(),
            keys,
        }
    }
}

/// What a process did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The exit code; `None` when killed by a signal.
    pub status: Option<i32>,
    /// Standard output, or everything the terminal showed (escape sequences removed).
    pub stdout: String,
    /// Standard error; empty on a terminal, where it is part of `stdout`.
    pub stderr: String,
    /// The timeout ran out and the group was killed.
    pub timed_out: bool,
    /// Some output was dropped at the cap.
    pub truncated: bool,
    /// The first prompt that never appeared, if any.
    pub unanswered: Option<String>,
    /// Why the run was ended early: it waited for a person (input at a prompt, a browser login)
    /// that the scenario does not play.
    pub waited_for: Option<String>,
    /// How long the run took.
    pub duration: Duration,
    /// Whether it ran on a pseudo-terminal (then `stdout` holds both streams).
    pub terminal: bool,
}

/// Why a process could not be run at all.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// Spawning failed (program missing, bad cwd).
    #[error("cannot start `{program}`: {message}")]
    Spawn {
        /// The program.
        program: String,
        /// What went wrong.
        message: String,
    },
    /// The warm interpreter could not run it.
    #[error("the warm Python interpreter failed: {0}")]
    Warm(String),
    /// The run was interrupted (SIGINT or SIGTERM, [`super::interrupt`]): the process was not
    /// started, or was killed before its end.
    #[error("the run was interrupted by {}", super::interrupt::signal_name(*.0))]
    Interrupted(i32),
}

/// [`ProcessError::Interrupted`] when the run has been told to stop.
pub(super) fn stop_if_interrupted() -> Result<(), ProcessError> {
    match super::interrupt::received() {
        Some(signal) => Err(ProcessError::Interrupted(signal)),
        None => Ok(()),
    }
}

/// Output kept up to a cap.
#[derive(Default)]
pub(super) struct Capped {
    bytes: Vec<u8>,
    cap: usize,
    /// Whether bytes were dropped at the cap.
    pub(super) truncated: bool,
}

impl Capped {
    fn push(&mut self, chunk: &[u8]) {
        let room = self.cap.saturating_sub(self.bytes.len());
        if chunk.len() > room {
            self.truncated = true;
        }
        self.bytes
            .extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
}

pub(super) type Shared = Arc<Mutex<Capped>>;

pub(super) fn shared(cap: usize) -> Shared {
    Arc::new(Mutex::new(Capped {
        cap,
        ..Capped::default()
    }))
}

/// Reads a stream to its end on a thread of its own.
pub(super) fn drain(
    mut reader: impl Read + Send + 'static,
    into: Shared,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => into.lock().map(|mut c| c.push(&buf[..n])).unwrap_or(()),
            }
        }
    })
}

pub(super) fn text_of(shared: &Shared) -> String {
    let guard = shared.lock().expect("output lock");
    String::from_utf8_lossy(&guard.bytes).into_owned()
}

/// Kernel functions a process sleeps in while it waits to read its terminal (a plain read, or
/// select, poll and epoll as prompt libraries use). `wait_woken` is also where a blocked socket
/// read sleeps, but by then the prompt is on screen.
const INPUT_WAITS: [&str; 8] = [
    "wait_woken",
    "n_tty_read",
    "do_select",
    "core_sys_select",
    "poll_schedule_timeout",
    "do_sys_poll",
    "do_epoll_wait",
    "ep_poll",
];

/// Waits until the program waits for input: every process of `leader`'s group asleep and one of
/// them in a terminal read or poll, seen twice in a row; or until `limit` has passed.
pub(super) fn wait_for_input(leader: u32, limit: Duration) {
    let deadline = Instant::now() + limit;
    let mut quiet = 0;
    while quiet < 2 && Instant::now() < deadline {
        quiet = if group_waits_for_input(leader) {
            quiet + 1
        } else {
            0
        };
        thread::sleep(Duration::from_millis(10));
    }
}

/// Whether every live process of the group `leader` leads is asleep (state `S`) and one of them
/// sleeps in [`INPUT_WAITS`] (read from `/proc`; where the kernel hides `wchan`, asleep is enough).
fn group_waits_for_input(leader: u32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return true;
    };
    let mut any = false;
    for entry in entries.flatten() {
        if !entry
            .file_name()
            .to_string_lossy()
            .bytes()
            .all(|b| b.is_ascii_digit())
        {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid pgrp ...`: comm may hold spaces and parentheses.
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let fields: Vec<&str> = after.split_whitespace().collect();
        let (Some(state), Some(pgrp)) = (fields.first(), fields.get(2)) else {
            continue;
        };
        if pgrp.parse::<u32>() != Ok(leader) || *state == "Z" {
            continue;
        }
        if *state != "S" {
            return false;
        }
        let wchan = std::fs::read_to_string(entry.path().join("wchan")).unwrap_or_default();
        any |= wchan.is_empty() || wchan == "0" || INPUT_WAITS.iter().any(|f| wchan.starts_with(f));
    }
    any
}

/// Kills every process in the group that `leader` leads.
pub(super) fn kill_group(leader: u32) {
    if let Ok(pid) = libc::pid_t::try_from(leader) {
        // SAFETY: killpg only sends a signal; a stale group id yields ESRCH, which is ignored.
        unsafe {
            libc::killpg(pid, libc::SIGKILL);
        }
    }
}

/// A child process the supervisor can poll and reap, whichever way it was spawned.
pub(super) trait Waitable {
    /// How the child ended.
    type Status;
    /// The status if the child has ended.
    fn poll(&mut self) -> Option<Self::Status>;
    /// Waits for the child to end.
    fn reap(&mut self) -> Option<Self::Status>;
}

impl Waitable for std::process::Child {
    type Status = std::process::ExitStatus;
    fn poll(&mut self) -> Option<Self::Status> {
        self.try_wait().ok().flatten()
    }
    fn reap(&mut self) -> Option<Self::Status> {
        self.wait().ok()
    }
}

impl Waitable for Box<dyn portable_pty::Child + Send + Sync> {
    type Status = portable_pty::ExitStatus;
    fn poll(&mut self) -> Option<Self::Status> {
        self.try_wait().ok().flatten()
    }
    fn reap(&mut self) -> Option<Self::Status> {
        self.wait().ok()
    }
}

/// How a supervised child ended.
pub(super) struct Supervised<S> {
    /// Its status, when it could be reaped.
    pub(super) status: Option<S>,
    /// The timeout ran out.
    pub(super) timed_out: bool,
    /// It was ended because it waited for a person; why.
    pub(super) waited_for: Option<String>,
}

/// Watches a child until it ends, its timeout kills its group, or it is found waiting for a
/// person: shows the output to the observer and to `act` (which types answers, or says the run
/// waits for input nobody will type).
pub(super) fn supervise<W: Waitable>(
    child: &mut W,
    leader: u32,
    started: Instant,
    timeout: Duration,
    text: impl Fn() -> String,
    observer: &mut Option<Observer>,
    mut act: impl FnMut(&str) -> Act,
) -> Supervised<W::Status> {
    let ended = |child: &mut W, timed_out, waited_for| {
        kill_group(leader);
        Supervised {
            status: child.reap(),
            timed_out,
            waited_for,
        }
    };
    loop {
        let text = text();
        if let Some(why) = observer.as_mut().and_then(|observer| observer(&text)) {
            return ended(child, false, Some(why));
        }
        match act(&text) {
            Act::Typed => continue,
            Act::Stop(why) => return ended(child, false, Some(why)),
            Act::Idle => {}
        }
        if let Some(status) = child.poll() {
            return Supervised {
                status: Some(status),
                timed_out: false,
                waited_for: None,
            };
        }
        if started.elapsed() >= timeout || super::interrupt::received().is_some() {
            return ended(child, true, None);
        }
        thread::sleep(POLL);
    }
}

/// Runs the invocation to its end, its timeout, or its cap, as a new process.
pub fn run(invocation: Invocation) -> Result<Outcome, ProcessError> {
    run_with(invocation, None)
}

/// Runs the invocation: a Python script on the warm interpreter of `warm` when given (and the
/// run's environment agrees with it), anything else as a new process, whose `hf` and `python`
/// commands reach the warm interpreter through the pool's shims.
pub fn run_with(
    invocation: Invocation,
    warm: Option<&super::warm::WarmPool>,
) -> Result<Outcome, ProcessError> {
    stop_if_interrupted()?;
    let outcome = start_and_supervise(invocation, warm)?;
    // A run killed because the whole run was told to stop did not show what it would print.
    stop_if_interrupted()?;
    Ok(outcome)
}

fn start_and_supervise(
    mut invocation: Invocation,
    warm: Option<&super::warm::WarmPool>,
) -> Result<Outcome, ProcessError> {
    if let Some(pool) = warm {
        if invocation.python_script {
            match pool.run(invocation)? {
                super::warm::Forked::Ran(outcome) => return Ok(outcome),
                super::warm::Forked::Refused(refused) => invocation = refused,
            }
        }
        // The shims wait for the interpreter; waiting here keeps that out of the run's timeout.
        pool.wait_ready()?;
        put_first_on_path(&mut invocation.env, &pool.shim_dir());
    }
    let (program, args) = command_line(&invocation);
    invocation.program = program;
    invocation.args = args;
    match invocation.terminal.take() {
        Some(answers) => run_on_terminal(invocation, answers),
        None => run_with_pipes(invocation),
    }
}

/// Puts `dir` first on the PATH of `env`.
fn put_first_on_path(env: &mut [(String, String)], dir: &std::path::Path) {
    if let Some((_, path)) = env.iter_mut().find(|(key, _)| key == "PATH") {
        *path = format!("{}:{path}", dir.display());
    }
}

/// The program and arguments that run the invocation in its network namespace, if it has one.
fn command_line(inv: &Invocation) -> (PathBuf, Vec<String>) {
    match (&inv.netns, nsenter()) {
        (Some(netns), Some(nsenter)) => {
            let mut args = vec![format!("--net={}", netns.display())];
            if let Some(mounts) = &inv.mounts {
                // Entering a mount namespace moves to its root; --wd returns to the folder
                // (opened before entering, so the sandbox's own path).
                args.push(format!("--mount={}", mounts.display()));
                args.push(format!("--wd={}", inv.cwd.display()));
            }
            args.push("--".into());
            args.push(inv.program.display().to_string());
            args.extend(inv.args.iter().cloned());
            (nsenter, args)
        }
        _ => (inv.program.clone(), inv.args.clone()),
    }
}

/// `nsenter`, when the machine has it.
pub(super) fn nsenter() -> Option<PathBuf> {
    ["/usr/bin/nsenter", "/bin/nsenter", "/usr/sbin/nsenter"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

fn spawn_error(program: &std::path::Path, e: impl std::fmt::Display) -> ProcessError {
    ProcessError::Spawn {
        program: program.display().to_string(),
        message: e.to_string(),
    }
}

fn run_with_pipes(mut inv: Invocation) -> Result<Outcome, ProcessError> {
    use std::os::unix::process::CommandExt;
    let started = Instant::now();
    let mut child = Command::new(&inv.program)
        .args(&inv.args)
        .env_clear()
        .envs(inv.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&inv.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| spawn_error(&inv.program, e))?;
    let leader = child.id();
    let (out, err) = (shared(inv.output_cap), shared(inv.output_cap));
    let readers = [
        drain(child.stdout.take().expect("piped"), out.clone()),
        drain(child.stderr.take().expect("piped"), err.clone()),
    ];
    let text = || text_of(&out) + &text_of(&err);
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
        |_| Act::Idle,
    );
    kill_group(leader);
    for reader in readers {
        let _ = reader.join();
    }
    // Colours and cursor moves are not part of what a person reads.
    let (stdout, stderr) = (
        clean_terminal_text(&text_of(&out)),
        clean_terminal_text(&text_of(&err)),
    );
    let truncated = out.lock().map(|c| c.truncated).unwrap_or(false)
        || err.lock().map(|c| c.truncated).unwrap_or(false);
    Ok(Outcome {
        status: if timed_out {
            None
        } else {
            status.and_then(|s| s.code())
        },
        stdout,
        stderr,
        timed_out,
        truncated,
        unanswered: None,
        waited_for,
        duration: started.elapsed(),
        terminal: false,
    })
}

fn run_on_terminal(mut inv: Invocation, answers: Vec<Answer>) -> Result<Outcome, ProcessError> {
    let started = Instant::now();
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 40,
            cols: 200,
            pixel_width: 0,
            pixel_height: 0,
        })
        .map_err(|e| spawn_error(&inv.program, e))?;
    let mut command = CommandBuilder::new(&inv.program);
    command.args(&inv.args);
    command.env_clear();
    for (key, value) in &inv.env {
        command.env(key, value);
    }
    command.cwd(&inv.cwd);
    let mut child = pty
        .slave
        .spawn_command(command)
        .map_err(|e| spawn_error(&inv.program, e))?;
    drop(pty.slave);
    // The child is a session leader on the terminal, so its pid is its process group's id.
    let leader = child.process_id().unwrap_or(0);
    let screen = shared(inv.output_cap);
    let reader = pty
        .master
        .try_clone_reader()
        .map_err(|e| spawn_error(&inv.program, e))?;
    let reader = drain(reader, screen.clone());
    let mut writer = pty
        .master
        .take_writer()
        .map_err(|e| spawn_error(&inv.program, e))?;

    let mut typist = Typist::new(answers, leader);
    let text = || clean_terminal_text(&text_of(&screen));
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
        |text| typist.act(text, &mut writer),
    );
    kill_group(leader);
    drop(writer);
    drop(pty.master);
    let _ = reader.join();
    let truncated = screen.lock().map(|c| c.truncated).unwrap_or(false);
    Ok(Outcome {
        status: if timed_out {
            None
        } else {
            status.map(|s: portable_pty::ExitStatus| s.exit_code() as i32)
        },
        stdout: clean_terminal_text(&text_of(&screen)),
        stderr: String::new(),
        timed_out,
        truncated,
        unanswered: typist.unanswered(),
        waited_for,
        duration: started.elapsed(),
        terminal: true,
    })
}

/// Types the answers at their prompts, in order, as a person at the terminal does.
pub(super) struct Typist {
    pending: std::iter::Peekable<std::vec::IntoIter<Answer>>,
    /// Answers only match text after the previous prompt.
    cursor: usize,
    leader: u32,
    /// How much text was on screen at the last look, and since when.
    screen: (usize, Instant),
}

impl Typist {
    /// Answers for the program whose process group `leader` leads.
    pub(super) fn new(answers: Vec<Answer>, leader: u32) -> Typist {
        Typist {
            pending: answers.into_iter().peekable(),
            cursor: 0,
            leader,
            screen: (0, Instant::now()),
        }
    }

    /// Types the next answer if its prompt is on screen; else ends a run that sits waiting for
    /// input nobody will type (the screen unchanged for [`STALL`], the program in a terminal
    /// read), naming the prompt on screen and the annotation that answers it.
    pub(super) fn act(&mut self, text: &str, writer: &mut dyn Write) -> Act {
        if self.answer(text, writer) {
            self.screen = (text.len(), Instant::now());
            return Act::Typed;
        }
        if text.len() != self.screen.0 {
            self.screen = (text.len(), Instant::now());
            return Act::Idle;
        }
        // Only a program with something on screen that has had every answer the scenario gives
        // can be waiting for a person: before that it may still be starting or working (a
        // forked run's shim sleeps on its socket just like a terminal read).
        let answered_all = self.pending.peek().is_none();
        if !answered_all
            || text.trim().is_empty()
            || self.screen.1.elapsed() < STALL
            || !group_waits_for_input(self.leader)
        {
            return Act::Idle;
        }
        // Asleep in a terminal read twice over, a moment apart: it waits for a person.
        thread::sleep(Duration::from_millis(100));
        if !group_waits_for_input(self.leader) {
            return Act::Idle;
        }
        Act::Stop(self.waiting_message(text))
    }

    /// Says which prompt the program waits at, and which annotation would answer it.
    fn waiting_message(&mut self, text: &str) -> String {
        let on_screen = text
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .unwrap_or("")
            .to_string();
        let expected = match self.pending.peek() {
            Some(next) => format!(
                " (the scenario's next prompt, {:?}, never appeared)",
                next.prompt
            ),
            None => String::new(),
        };
        format!(
            "waited for input at the prompt {on_screen:?}{expected}: nobody types there in this \
             scenario, so the run was ended. Add `input = [{{ prompt = {on_screen:?}, send = \
             \"...<enter>\" }}]` to the scenario (`{{token}}` types its token)"
        )
    }

    /// Types the next answer if its prompt is on screen; `true` when it typed.
    pub(super) fn answer(&mut self, text: &str, writer: &mut dyn Write) -> bool {
        let Some(answer) = self.pending.peek() else {
            return false;
        };
        let Some(at) = text.get(self.cursor..).and_then(|t| t.find(&answer.prompt)) else {
            return false;
        };
        self.cursor += at + answer.prompt.len();
        for key in &answer.keys {
            // Type when the program waits for input, as a person who reads the prompt does;
            // menus that read raw keys then see the keys one by one.
            wait_for_input(self.leader, INPUT_WAIT);
            let _ = writer.write_all(key).and_then(|()| writer.flush());
            thread::sleep(KEY_PAUSE);
        }
        self.pending.next();
        true
    }

    /// The first prompt that never appeared.
    pub(super) fn unanswered(&mut self) -> Option<String> {
        self.pending.next().map(|a| a.prompt)
    }
}

/// Terminal output as a person reads it: escape sequences removed, `\r\n` as `\n`.
pub fn clean_terminal_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => match chars.peek() {
                Some('[') => {
                    chars.next();
                    // CSI: parameters and intermediates, then one final byte in @..~
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    // OSC: up to BEL or ST
                    for c in chars.by_ref() {
                        if c == '\x07' || c == '\\' {
                            break;
                        }
                    }
                }
                Some(_) => {
                    chars.next();
                }
                None => {}
            },
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(script: &str, timeout: Duration, cap: usize) -> Invocation {
        Invocation {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), script.into()],
            env: vec![("PATH".into(), "/usr/bin:/bin".into())],
            cwd: std::env::temp_dir(),
            timeout,
            output_cap: cap,
            terminal: None,
            observer: None,
            netns: None,
            mounts: None,
            python_script: false,
        }
    }

    #[test]
    fn captures_both_streams_and_the_exit_code() {
        let outcome = run(shell(
            "echo out; echo err >&2; exit 3",
            Duration::from_secs(10),
            1024,
        ))
        .unwrap();
        assert_eq!(outcome.status, Some(3));
        assert_eq!(outcome.stdout, "out\n");
        assert_eq!(outcome.stderr, "err\n");
        assert!(!outcome.timed_out && !outcome.truncated);
    }

    #[test]
    fn environment_is_only_what_was_given() {
        let outcome = run(shell("env", Duration::from_secs(10), 4096)).unwrap();
        let names: Vec<&str> = outcome
            .stdout
            .lines()
            .filter_map(|l| l.split('=').next())
            .filter(|n| !["PWD", "SHLVL", "_"].contains(n))
            .collect();
        assert_eq!(names, ["PATH"]);
    }

    #[test]
    fn a_hanging_process_and_its_children_are_killed_at_the_timeout() {
        let marker = tempfile::NamedTempFile::new().unwrap();
        let path = marker.path().display().to_string();
        // The grandchild would write the marker after 3 s if it survived the kill.
        let script = format!("(sleep 3; echo alive > {path}) & sleep 60");
        let outcome = run(shell(&script, Duration::from_millis(500), 1024)).unwrap();
        assert!(outcome.timed_out);
        assert_eq!(outcome.status, None);
        // Killed at its timeout, not after its 60 s sleep (a bound a loaded machine cannot break).
        assert!(outcome.duration < Duration::from_secs(30));
        thread::sleep(Duration::from_millis(3500));
        assert_eq!(std::fs::read_to_string(marker.path()).unwrap(), "");
    }

    #[test]
    fn output_is_capped() {
        let outcome = run(shell(
            "head -c 5000000 /dev/zero | tr '\\0' x",
            Duration::from_secs(20),
            1000,
        ))
        .unwrap();
        assert_eq!(outcome.stdout.len(), 1000);
        assert!(outcome.truncated);
        assert_eq!(outcome.status, Some(0));
    }

    #[test]
    fn answers_prompts_on_a_terminal() {
        let mut inv = shell(
            "printf 'Name: '; read name; stty -echo; printf 'Secret: '; read s; stty echo; echo; echo \"hi $name, ${#s} chars\"; [ -t 0 ] && echo tty",
            Duration::from_secs(10),
            4096,
        );
        inv.terminal = Some(vec![
            Answer::from_send("Name: ", "ada<enter>"),
            Answer::from_send("Secret: ", "abcdef<enter>"),
        ]);
        let outcome = run(inv).unwrap();
        assert_eq!(outcome.status, Some(0), "{}", outcome.stdout);
        assert!(
            outcome.stdout.contains("hi ada, 6 chars"),
            "{}",
            outcome.stdout
        );
        assert!(outcome.stdout.contains("tty"));
        assert!(
            !outcome.stdout.contains("abcdef"),
            "hidden input was echoed"
        );
        assert_eq!(outcome.unanswered, None);
    }

    /// Regression test: answers were typed a fixed 80 ms after the prompt appeared, so a program
    /// that prints its prompt, works a while, then reads with a flush of pending input (as
    /// `getpass` does) lost them and hung.
    #[test]
    fn answers_wait_until_the_program_reads() {
        let mut inv = shell(
            "printf 'Token: '; sleep 1; python3 -c \"import getpass; print('got', len(getpass.getpass('')))\"",
            Duration::from_secs(20),
            4096,
        );
        inv.terminal = Some(vec![Answer::from_send("Token: ", "abcdef<enter>")]);
        let outcome = run(inv).unwrap();
        assert_eq!(outcome.status, Some(0), "{}", outcome.stdout);
        assert!(outcome.stdout.contains("got 6"), "{}", outcome.stdout);
    }

    #[test]
    fn a_run_waiting_at_a_prompt_nobody_answers_is_ended_naming_it() {
        let mut inv = shell(
            "printf 'Name: '; read name; printf 'Enter your token: '; read t; echo never",
            Duration::from_secs(60),
            4096,
        );
        inv.terminal = Some(vec![Answer::from_send("Name: ", "ada<enter>")]);
        let outcome = run(inv).unwrap();
        let why = outcome.waited_for.as_deref().unwrap_or("");
        assert!(
            why.starts_with("waited for input at the prompt \"Enter your token:\""),
            "{outcome:?}"
        );
        assert!(why.contains("Add `input = [{ prompt = "), "{why}");
        assert!(!outcome.timed_out && !outcome.stdout.contains("never"));
        // Ended from what the program does, not at its 60 s timeout.
        assert!(outcome.duration < Duration::from_secs(10), "{outcome:?}");
    }

    #[test]
    fn a_prompt_that_never_comes_is_reported() {
        let mut inv = shell("echo nothing to ask", Duration::from_secs(10), 4096);
        inv.terminal = Some(vec![Answer::from_send("Password:", "x<enter>")]);
        let outcome = run(inv).unwrap();
        assert_eq!(outcome.unanswered.as_deref(), Some("Password:"));
    }

    #[test]
    fn key_names_become_keystrokes() {
        let answer = Answer::from_send("?", "ab<down><enter>");
        assert_eq!(
            answer.keys,
            vec![b"ab".to_vec(), b"\x1b[B".to_vec(), b"\r".to_vec()]
        );
    }

    #[test]
    fn terminal_text_loses_escapes_and_carriage_returns() {
        assert_eq!(
            clean_terminal_text("\x1b[1m? How\x1b[0m\r\n> one\rtwo"),
            "? How\n> one\ntwo"
        );
    }
}
