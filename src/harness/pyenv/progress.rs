//! What a build shows while it runs: the stage lines ([`Reporter`], silent under
//! [`Progress::Quiet`]), the installer's steps run with their output passed through on a terminal
//! or reduced to one line per phase off one ([`run_step`]), and the ends of captured output that
//! errors quote.
//!
//! Owns everything the environment prints; it writes only to stderr (never stdout: as an mdBook
//! preprocessor, stdout carries the book) and only through [`Reporter`]. It decides nothing about
//! what is installed or where.

use std::io::{self, BufRead, IsTerminal, Write};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use super::{Progress, PyEnvError};
use crate::harness::tail::last_lines;

/// How many lines of a command's output an error keeps.
const TAIL_LINES: usize = 40;
/// How many lines of a failed installer step's captured output its error keeps.
const STEP_TAIL_LINES: usize = 30;

/// Prints stage lines (and decides whether the installer's own output is shown).
pub(super) struct Reporter {
    progress: Progress,
    passthrough: bool,
}

impl Reporter {
    /// A reporter for `progress` (for [`Progress::Auto`], passes through only on a terminal).
    pub(super) fn new(progress: Progress) -> Self {
        let passthrough = match progress {
            Progress::Auto => io::stderr().is_terminal(),
            Progress::Verbose => true,
            Progress::Quiet => false,
        };
        Reporter {
            progress,
            passthrough,
        }
    }

    /// Prints `hubcheck: <message>` to stderr, unless quiet.
    pub(super) fn stage(&self, message: std::fmt::Arguments<'_>) {
        if self.progress != Progress::Quiet {
            let mut err = io::stderr().lock();
            let _ = writeln!(err, "hubcheck: {message}");
        }
    }
}

/// Runs an installer step, passing its output through to stderr on a terminal, capturing it
/// otherwise (its tail goes into the error).
pub(super) fn run_step(
    cmd: &mut Command,
    tool: &str,
    hint: &str,
    out: &Reporter,
) -> Result<(), PyEnvError> {
    cmd.stdin(Stdio::null());
    let failed = |status: String, stderr_tail: String| PyEnvError::InstallFailed {
        tool: tool.to_string(),
        status,
        stderr_tail,
        hint: hint.to_string(),
    };
    if out.passthrough {
        // On a terminal the installer shows its own progress (uv: packages and bytes). Never our
        // stdout: as an mdBook preprocessor, stdout carries the book.
        let status = cmd
            .stdout(io::stderr())
            .stderr(Stdio::inherit())
            .status()
            .map_err(|e| failed(format!("could not start: {e}"), String::new()))?;
        if !status.success() {
            return Err(failed(
                status.to_string(),
                "(its output is shown above)".into(),
            ));
        }
        return Ok(());
    }
    // Not a terminal: one line per phase, as the installer reaches it.
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| failed(format!("could not start: {e}"), String::new()))?;
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let phases = PhaseLines::default();
    let announce = |line: String| out.stage(format_args!("{line}"));
    let both: Vec<String> = std::thread::scope(|scope| {
        let other = scope.spawn(|| relay_phases(stdout, tool, &phases, &announce));
        let mut lines = relay_phases(stderr, tool, &phases, &announce);
        lines.extend(other.join().unwrap_or_default());
        lines
    });
    let status = child
        .wait()
        .map_err(|e| failed(format!("could not wait for it: {e}"), String::new()))?;
    if !status.success() {
        let tail = last_lines(both.iter().map(String::as_str), STEP_TAIL_LINES)
            .lines
            .join("\n");
        return Err(failed(status.to_string(), tail));
    }
    Ok(())
}

/// Phases that start, silently, when an installer's line ends the one before: uv compiles the
/// byte-code (`--compile-bytecode`) after its `Installed ...` line and says so only at the end.
const THEN: [(&str, &str); 1] = [(
    "Installed ",
    "compiling the byte-code once (about 20 s), so that runs need not parse the sources...",
)];

/// Which phases were announced already (stdout and stderr are read on two threads).
#[derive(Default)]
struct PhaseLines(std::sync::Mutex<Vec<&'static str>>);

/// The installers' lines that start a phase, and the words we announce it with (`None`: the
/// line itself, a summary such as uv's `Prepared 57 packages in 2m 03s`).
const PHASES: [(&str, Option<&str>); 9] = [
    ("Resolved ", None),
    ("Prepared ", None),
    ("Installed ", None),
    ("Bytecode compiled ", None),
    ("Using CPython", None),
    (
        "Collecting ",
        Some("downloading and collecting the packages..."),
    ),
    (
        "Downloading ",
        Some("downloading and collecting the packages..."),
    ),
    (
        "Installing collected packages",
        Some("installing the collected packages..."),
    ),
    ("Successfully installed", Some("installed every package")),
];

/// Reads an installer's stream to its end, printing a line for each phase it enters; returns
/// every line, for the error message.
fn relay_phases(
    stream: impl io::Read,
    tool: &str,
    seen: &PhaseLines,
    announce: &(dyn Fn(String) + Sync),
) -> Vec<String> {
    let mut lines = Vec::new();
    for line in io::BufReader::new(stream).lines() {
        let Ok(line) = line else { break };
        let trimmed = line.trim();
        if let Some((_, words)) = PHASES.iter().find(|(p, _)| trimmed.starts_with(p)) {
            let mut seen = seen.0.lock().unwrap_or_else(|p| p.into_inner());
            match words {
                None => announce(format!("{tool}: {trimmed}")),
                Some(words) if !seen.contains(words) => {
                    seen.push(words);
                    announce(format!("{tool}: {words}"));
                }
                Some(_) => {}
            }
            if tool.starts_with("uv")
                && let Some((_, then)) = THEN.iter().find(|(p, _)| trimmed.starts_with(p))
            {
                announce(format!("{tool}: {then}"));
            }
        }
        lines.push(line);
    }
    lines
}

/// The end of a command's stdout and stderr together, indented, for an error message.
pub(super) fn combined_tail(output: &Output) -> String {
    let mut all = output.stdout.clone();
    if !all.is_empty() && !all.ends_with(b"\n") {
        all.push(b'\n');
    }
    all.extend_from_slice(&output.stderr);
    indented_tail(&all, TAIL_LINES)
}

/// The last `lines` lines of an output, each indented by four spaces, for an error message.
pub(super) fn indented_tail(bytes: &[u8], lines: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    last_lines(text.lines(), lines)
        .lines
        .iter()
        .map(|line| format!("    {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A duration as a person reads it: `4.2s`, or `3m 07s` from a minute on.
pub(super) fn human_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        format!("{}m {:02}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_installer_off_a_terminal_gets_one_line_per_phase() {
        let pip = "Collecting a==1\n  Downloading a-1.whl (3.0 MB)\nCollecting b==2\n\
                   Installing collected packages: a, b\nSuccessfully installed a-1 b-2\n";
        let uv = "Resolved 57 packages in 1.2s\nPrepared 57 packages in 2m 03s\nInstalled 57 packages in 3.1s\n + torch==2\nBytecode compiled 9796 files in 15.2s\n";
        for (tool, text, expected) in [
            (
                "pip install",
                pip,
                vec![
                    "pip install: downloading and collecting the packages...",
                    "pip install: installing the collected packages...",
                    "pip install: installed every package",
                ],
            ),
            (
                "uv pip install",
                uv,
                vec![
                    "uv pip install: Resolved 57 packages in 1.2s",
                    "uv pip install: Prepared 57 packages in 2m 03s",
                    "uv pip install: Installed 57 packages in 3.1s",
                    "uv pip install: compiling the byte-code once (about 20 s), so that runs need not parse the sources...",
                    "uv pip install: Bytecode compiled 9796 files in 15.2s",
                ],
            ),
        ] {
            let announced = std::sync::Mutex::new(Vec::new());
            let lines = relay_phases(text.as_bytes(), tool, &PhaseLines::default(), &|line| {
                announced.lock().unwrap().push(line)
            });
            assert_eq!(*announced.lock().unwrap(), expected);
            assert_eq!(
                lines.len(),
                text.lines().count(),
                "every line is kept for errors"
            );
        }
    }
}
