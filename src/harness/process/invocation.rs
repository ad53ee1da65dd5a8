//! One process to run and what it did: the values the direct runner ([`super::direct`]) and the
//! warm interpreter ([`crate::harness::warm`]) both take and give back.
//!
//! A leaf: plain data and the error, no running. It may not import the runners (both import it).

use std::path::PathBuf;
use std::time::Duration;

/// A callback that sees a run's output (all of it so far) while it runs, e.g. to approve a
/// browser login whose code the process printed; it returns why the run must end now (it waits
/// for a person nobody plays), or `None`.
pub type Observer = Box<dyn FnMut(&str) -> Option<String> + Send>;

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
    /// from a warm interpreter ([`crate::harness::warm`]).
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
    /// The warm interpreter could not run it. The same error type as the harness's
    /// [`crate::harness::Error::Warm`], which is the interpreter failing to start.
    #[error("the warm Python interpreter failed: {0}")]
    Warm(std::io::Error),
    /// The run was interrupted (SIGINT or SIGTERM, [`crate::harness::interrupt`]): the process was not
    /// started, or was killed before its end.
    #[error("the run was interrupted by {}", crate::harness::interrupt::signal_name(*.0))]
    Interrupted(i32),
}

/// [`ProcessError::Interrupted`] when the run has been told to stop.
pub(crate) fn stop_if_interrupted() -> Result<(), ProcessError> {
    match crate::harness::interrupt::received() {
        Some(signal) => Err(ProcessError::Interrupted(signal)),
        None => Ok(()),
    }
}
