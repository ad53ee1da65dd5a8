//! `test --rerun` for notebook cells: the cell runs twice in one Python process
//! (`python/rerun_cell.py`), and the output of that process is split back into the two runs so
//! each is checked against the page on its own.

use std::fs;
use std::io;
use std::path::PathBuf;

use super::isolation::sandbox::Sandbox;
use super::process::Outcome;

/// The line `rerun_cell.py` writes to both streams between the runs, followed by the first run's
/// exit status.
const MARKER: &str = "\u{1e}hubcheck: end of the first run, status ";

/// Writes the runner and the cell's second-run script into the sandbox; returns their paths.
pub fn write_runner(sandbox: &Sandbox, step: usize, cell: &str) -> io::Result<(PathBuf, PathBuf)> {
    let runner = sandbox.root().join("rerun_cell.py");
    fs::write(&runner, include_str!("python/rerun_cell.py"))?;
    let again = sandbox.work().join(format!("snippet_{step}_again.py"));
    fs::write(&again, cell)?;
    Ok((runner, again))
}

/// The two runs in the outcome of a cell run twice: `None` when the first never ended (the
/// process was killed or timed out in it), so the whole outcome is the first run's.
pub fn split(outcome: &Outcome) -> Option<(Outcome, Outcome)> {
    let (stdout_first, status, stdout_second) = split_stream(&outcome.stdout)?;
    let (stderr_first, stderr_second) = match split_stream(&outcome.stderr) {
        Some((first, _, second)) => (first, second),
        None => (outcome.stderr.clone(), String::new()),
    };
    let first = Outcome {
        status: Some(status),
        stdout: stdout_first,
        stderr: stderr_first,
        timed_out: false,
        truncated: false,
        unanswered: None,
        waited_for: None,
        ..outcome.clone()
    };
    let second = Outcome {
        stdout: stdout_second,
        stderr: stderr_second,
        ..outcome.clone()
    };
    Some((first, second))
}

/// A stream cut at the marker: what came before, the first run's status, and what came after
/// (without the marker's second copy, which a terminal shows since both streams go to it).
fn split_stream(text: &str) -> Option<(String, i32, String)> {
    let start = text.find(MARKER)?;
    let rest = &text[start + MARKER.len()..];
    let (status, after) = rest.split_once('\n').unwrap_or((rest, ""));
    let status = status.trim().parse().ok()?;
    let after = after.replacen(&format!("{MARKER}{status}\r\n"), "", 1);
    let after = after.replacen(&format!("{MARKER}{status}\n"), "", 1);
    let before = text[..start].to_string();
    Some((before, status, after))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn outcome(stdout: &str, stderr: &str, status: i32) -> Outcome {
        Outcome {
            status: Some(status),
            stdout: stdout.into(),
            stderr: stderr.into(),
            timed_out: false,
            truncated: false,
            unanswered: None,
            waited_for: None,
            duration: Duration::ZERO,
            terminal: false,
        }
    }

    #[test]
    fn each_run_gets_its_own_output_and_status() {
        let done = outcome(
            &format!("hello\n{MARKER}0\nhello again\n"),
            &format!("{MARKER}0\nTraceback (most recent call last):\nKeyError: 'HF_TOKEN'\n"),
            1,
        );
        let (first, second) = split(&done).unwrap();
        assert_eq!(
            (first.stdout.as_str(), first.stderr.as_str()),
            ("hello\n", "")
        );
        assert_eq!(first.status, Some(0));
        assert_eq!(second.stdout, "hello again\n");
        assert!(second.stderr.starts_with("Traceback"), "{}", second.stderr);
        assert_eq!(second.status, Some(1));
    }

    #[test]
    fn on_a_terminal_the_second_copy_of_the_marker_is_dropped() {
        let shown = outcome(&format!("one\r\n{MARKER}3\r\n{MARKER}3\r\ntwo\r\n"), "", 0);
        let (first, second) = split(&shown).unwrap();
        assert_eq!(first.status, Some(3));
        assert_eq!(first.stdout, "one\r\n");
        assert_eq!(second.stdout, "two\r\n");
    }

    #[test]
    fn a_first_run_that_never_ended_cannot_be_split() {
        assert!(split(&outcome("still going", "", 137)).is_none());
    }
}
