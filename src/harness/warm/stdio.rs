//! Where a forked run's standard streams go: two FIFOs the harness reads, or a pseudo-terminal
//! whose name the forked child opens.
//!
//! It makes and reads the streams; it does not talk to the interpreter (that is [`super`]).

use std::ffi::CString;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::thread;

use portable_pty::native_pty_system;

use crate::harness::process::invocation::ProcessError;
use crate::harness::process::supervise::{SharedOutput, drain, shared, text_of};
use crate::harness::process::terminal::{clean_terminal_text, terminal_size};

/// Where a forked run's standard streams go: two FIFOs the harness reads, or a pseudo-terminal.
pub(super) struct RunStdio {
    /// stdin, stdout and stderr, as paths the child opens.
    pub(super) paths: [PathBuf; 3],
    kind: StdioKind,
}

enum StdioKind {
    Pipes {
        _dir: tempfile::TempDir,
        out: SharedOutput,
        err: SharedOutput,
        /// The harness's own write ends, held until the run ended, so the readers do not see an
        /// end of file before the child has opened its ends.
        keep_open: Vec<File>,
        readers: Vec<thread::JoinHandle<()>>,
    },
    Terminal {
        pair: portable_pty::PtyPair,
        screen: SharedOutput,
        reader: thread::JoinHandle<()>,
    },
}

impl RunStdio {
    pub(super) fn new(terminal: bool, cap: usize) -> Result<RunStdio, ProcessError> {
        let fail = |e: &dyn std::fmt::Display| {
            ProcessError::Warm(std::io::Error::other(format!(
                "preparing the run's streams: {e}"
            )))
        };
        if terminal {
            let pair = native_pty_system()
                .openpty(terminal_size())
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
    pub(super) fn terminal_writer(&self) -> Result<Option<Box<dyn Write + Send>>, ProcessError> {
        match &self.kind {
            StdioKind::Terminal { pair, .. } => pair.master.take_writer().map(Some).map_err(|e| {
                ProcessError::Warm(std::io::Error::other(format!("the terminal's input: {e}")))
            }),
            StdioKind::Pipes { .. } => Ok(None),
        }
    }

    /// Everything shown so far: the terminal, or stdout then stderr.
    pub(super) fn text(&self) -> String {
        match &self.kind {
            StdioKind::Terminal { screen, .. } => clean_terminal_text(&text_of(screen)),
            StdioKind::Pipes { out, err, .. } => text_of(out) + &text_of(err),
        }
    }

    /// Closes the harness's ends and collects the output: (stdout, stderr, truncated).
    pub(super) fn finish(self, writer: Option<Box<dyn Write + Send>>) -> (String, String, bool) {
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
