//! The one supervisor loop that serves pipes, the pseudo-terminal and warm runs: it watches a
//! child until it ends, its timeout kills its process group, or it is found waiting for a person;
//! and the capped output buffers it reads.
//!
//! Child output is read on threads of its own (as ripgrep's `CommandReader` does), so a noisy child
//! cannot deadlock the runner, and the group is killed after the leader exits too, so a background
//! child left behind cannot keep a pipe open. It knows nothing of how a child was started (that
//! is [`super::direct`] and [`crate::harness::warm`], which both use it), nor of prompts (that is
//! [`super::terminal`]).

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::group::{kill_group, kill_group_and_wait};
use super::invocation::Observer;

/// How often the runner looks at the child and its output.
const POLL: Duration = Duration::from_millis(20);

/// What the supervisor's helper did at one look at the output.
pub(crate) enum Act {
    /// Typed something: look again at once.
    Typed,
    /// Nothing to do.
    Idle,
    /// The run waits for something nobody will do: end it, for this reason.
    Stop(String),
}

/// Output kept up to a cap.
#[derive(Default)]
pub(crate) struct Capped {
    bytes: Vec<u8>,
    cap: usize,
    /// Whether bytes were dropped at the cap.
    pub(crate) truncated: bool,
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

pub(crate) type SharedOutput = Arc<Mutex<Capped>>;

pub(crate) fn shared(cap: usize) -> SharedOutput {
    Arc::new(Mutex::new(Capped {
        cap,
        ..Capped::default()
    }))
}

/// Reads a stream to its end on a thread of its own.
pub(crate) fn drain(
    mut reader: impl Read + Send + 'static,
    into: SharedOutput,
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

pub(crate) fn text_of(shared: &SharedOutput) -> String {
    let guard = shared.lock().expect("output lock");
    String::from_utf8_lossy(&guard.bytes).into_owned()
}

/// A child process the supervisor can poll and reap, whichever way it was spawned.
pub(crate) trait Waitable {
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
pub(crate) struct Supervised<S> {
    /// Its status, when it could be reaped.
    pub(crate) status: Option<S>,
    /// The timeout ran out.
    pub(crate) timed_out: bool,
    /// It was ended because it waited for a person; why.
    pub(crate) waited_for: Option<String>,
}

/// Watches a child until it ends, its timeout kills its group, or it is found waiting for a
/// person: shows the output to the observer and to `act` (which types answers, or says the run
/// waits for input nobody will type). However the child ended, it returns once nothing of the
/// child's process group is left: processes it left behind, or a command the warm interpreter
/// forked into the group that is still dying.
pub(crate) fn supervise<W: Waitable>(
    child: &mut W,
    leader: u32,
    started: Instant,
    timeout: Duration,
    text: impl Fn() -> String,
    observer: &mut Option<Observer>,
    mut act: impl FnMut(&str) -> Act,
) -> Supervised<W::Status> {
    // The child's end, or the reason it was ended (its group killed, the child reaped).
    let ended = |child: &mut W, timed_out, waited_for| {
        kill_group(leader);
        Supervised {
            status: child.reap(),
            timed_out,
            waited_for,
        }
    };
    let supervised = loop {
        let text = text();
        if let Some(why) = observer.as_mut().and_then(|observer| observer(&text)) {
            break ended(child, false, Some(why));
        }
        match act(&text) {
            Act::Typed => continue,
            Act::Stop(why) => break ended(child, false, Some(why)),
            Act::Idle => {}
        }
        if let Some(status) = child.poll() {
            break Supervised {
                status: Some(status),
                timed_out: false,
                waited_for: None,
            };
        }
        if started.elapsed() >= timeout || crate::harness::interrupt::received().is_some() {
            break ended(child, true, None);
        }
        thread::sleep(POLL);
    };
    kill_group_and_wait(leader);
    supervised
}
