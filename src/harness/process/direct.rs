//! Runs an invocation as a new process: in its own process group (entering the case's namespaces
//! through `nsenter`), on pipes or on a real pseudo-terminal, or hands a Python script to the
//! warm interpreter when one is given.
//!
//! The only file of [`super`] that knows the warm interpreter exists; the warm interpreter takes
//! the invocation, the supervisor and the typist from the other files, never from this one.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use portable_pty::{CommandBuilder, native_pty_system};

use super::invocation::{Answer, Invocation, Outcome, ProcessError, stop_if_interrupted};
use super::supervise::{Act, Supervised, drain, shared, supervise, text_of};
use super::terminal::{Typist, clean_terminal_text, terminal_size};
use crate::harness::isolation::namespaces::nsenter;
use crate::harness::warm::{Forked, WarmInterpreter};

/// Runs the invocation to its end, its timeout, or its cap, as a new process.
pub fn run(invocation: Invocation) -> Result<Outcome, ProcessError> {
    run_with(invocation, None)
}

/// Runs the invocation: a Python script on the warm interpreter of `warm` when given (and the
/// run's environment agrees with it), anything else as a new process, whose `hf` and `python`
/// commands reach the warm interpreter through the pool's shims.
pub fn run_with(
    invocation: Invocation,
    warm: Option<&WarmInterpreter>,
) -> Result<Outcome, ProcessError> {
    stop_if_interrupted()?;
    let outcome = start_and_supervise(invocation, warm)?;
    // A run killed because the whole run was told to stop did not show what it would print.
    stop_if_interrupted()?;
    Ok(outcome)
}

fn start_and_supervise(
    mut invocation: Invocation,
    warm: Option<&WarmInterpreter>,
) -> Result<Outcome, ProcessError> {
    if let Some(pool) = warm {
        if invocation.python_script {
            match pool.run(invocation)? {
                Forked::Ran(outcome) => return Ok(outcome),
                Forked::Refused(refused) => invocation = refused,
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
        .openpty(terminal_size())
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

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
        let pid_file = tempfile::NamedTempFile::new().unwrap();
        let (path, pids) = (marker.path().display(), pid_file.path().display());
        // The grandchild would write the marker after 3 s if it survived the kill; the shell
        // writes down its pid first.
        let script = format!("(sleep 3; echo alive > {path}) & echo $! > {pids}; sleep 60");
        let outcome = run(shell(&script, Duration::from_secs(1), 1024)).unwrap();
        assert!(outcome.timed_out);
        assert_eq!(outcome.status, None);
        // Killed at its timeout, not after its 60 s sleep (a bound a loaded machine cannot break).
        assert!(outcome.duration < Duration::from_secs(30));
        // The run ends when its group is gone: the grandchild is dead (or a zombie) already, so
        // nothing has to wait for the marker's 3 s.
        let pid = std::fs::read_to_string(pid_file.path()).unwrap();
        assert!(
            !pid.trim().is_empty(),
            "the shell wrote no pid before its timeout"
        );
        let pid: u32 = pid.trim().parse().unwrap();
        assert!(
            super::super::group::has_ended(pid),
            "the grandchild {pid} survived"
        );
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
