//! Stopping a run when told: SIGINT (Ctrl-C) and SIGTERM end `mdbook-hubcheck test` within
//! moments, with nothing left behind.
//!
//! [`catch`] makes this process the subreaper of everything it starts (an orphaned grandchild is
//! re-parented to it, not to init, so it stays findable) and starts a thread that waits for the
//! two signals. On the first one it records the signal ([`received`]) and kills, at once, every
//! live process descended from this one, with the process group each leads: every snippet's
//! group, the warm interpreter and the runs it forked (each a session of its own). The harness's
//! own waits look at [`received`] and stop; nothing new is started after it (a process started in
//! the instant before is found by the caller's last [`end_descendants`]). The workers then unwind
//! normally, so every sandbox, stream folder and the warm interpreter's folder is removed by its
//! `Drop`, and each case's network and mount namespaces end with the last process in them and the
//! handles the harness held. The command then writes no report (the last complete run's stays) and
//! exits with 128 + the signal's number.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicI32, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::{Handle, Signals};

/// The first signal received, 0 before any.
static RECEIVED: AtomicI32 = AtomicI32::new(0);

/// How long [`end_descendants`] keeps looking for processes that are still alive.
const SWEEP_LIMIT: Duration = Duration::from_millis(1500);
/// The pause between two looks.
const SWEEP_PAUSE: Duration = Duration::from_millis(10);

/// The signal catcher of a run; stops catching when dropped.
pub struct Catcher {
    handle: Handle,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Catcher {
    fn drop(&mut self) {
        self.handle.close();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts catching SIGINT and SIGTERM for this process (see the module documentation).
pub fn catch() -> io::Result<Catcher> {
    become_subreaper();
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    let handle = signals.handle();
    let thread = thread::Builder::new()
        .name("hubcheck-signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                let _ = RECEIVED.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
                end_descendants();
            }
        })?;
    Ok(Catcher {
        handle,
        thread: Some(thread),
    })
}

/// The signal that interrupted the run, if one did.
pub fn received() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

/// `SIGINT`, `SIGTERM`: how the closing line names a signal.
pub fn signal_name(signal: i32) -> String {
    match signal {
        SIGINT => "SIGINT".into(),
        SIGTERM => "SIGTERM".into(),
        other => format!("signal {other}"),
    }
}

/// The exit status of a run ended by `signal`, as a shell reports it: 128 + its number
/// (130 for SIGINT, 143 for SIGTERM).
pub fn exit_status(signal: i32) -> u8 {
    u8::try_from(128 + signal).unwrap_or(u8::MAX)
}

/// Orphans of this process's children come to it rather than to init, so that
/// [`end_descendants`] finds a snippet's daemon too.
fn become_subreaper() {
    // SAFETY: prctl with PR_SET_CHILD_SUBREAPER only sets a flag of this process.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
}

/// Kills every live process descended from this one, and the process group of each that leads
/// another group than this process's, until none is left (or `SWEEP_LIMIT` has passed).
pub fn end_descendants() {
    let started = Instant::now();
    // SAFETY: getpgrp has no preconditions.
    let own_group = unsafe { libc::getpgrp() };
    loop {
        let alive = live_descendants(std::process::id() as i32);
        if alive.is_empty() || started.elapsed() >= SWEEP_LIMIT {
            return;
        }
        for pid in alive {
            // SAFETY: getpgid, killpg and kill only read a process's group and send signals; a
            // process that is already gone yields ESRCH, which is ignored.
            unsafe {
                let group = libc::getpgid(pid);
                if group > 0 && group != own_group {
                    libc::killpg(group, libc::SIGKILL);
                }
                libc::kill(pid, libc::SIGKILL);
            }
        }
        thread::sleep(SWEEP_PAUSE);
    }
}

/// Collects the exit status of every child that has ended, for a caller that no longer waits for
/// any child itself (orphans re-parented to this process, once the run is over).
pub fn reap_orphans() {
    loop {
        let mut status = 0;
        // SAFETY: waitpid with WNOHANG only collects ended children.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid <= 0 {
            return;
        }
    }
}

/// The processes below `root` that have not ended (zombies are left out: they are dead).
pub fn live_descendants(root: i32) -> Vec<i32> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        if let Some((state, parent)) = state_and_parent(&stat)
            && state != 'Z'
            && state != 'X'
        {
            children.entry(parent).or_default().push(pid);
        }
    }
    let mut found = Vec::new();
    let mut queue = vec![root];
    while let Some(pid) = queue.pop() {
        for &child in children.get(&pid).into_iter().flatten() {
            found.push(child);
            queue.push(child);
        }
    }
    found
}

/// The state letter and parent pid in a `/proc/<pid>/stat` line (the command name, in
/// parentheses, may hold spaces and parentheses itself).
fn state_and_parent(stat: &str) -> Option<(char, i32)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let parent = fields.next()?.parse().ok()?;
    Some((state, parent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_give_state_and_parent_even_with_odd_command_names() {
        let line = "4242 (a (b) c) S 17 4242 4242 0 -1 4194560";
        assert_eq!(state_and_parent(line), Some(('S', 17)));
        assert_eq!(state_and_parent("garbage"), None);
    }

    #[test]
    fn a_grandchild_is_a_descendant_until_it_ends() {
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 30 & wait"])
            .spawn()
            .unwrap();
        let shell = child.id() as i32;
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut below = live_descendants(shell);
        while below.is_empty() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
            below = live_descendants(shell);
        }
        assert_eq!(below.len(), 1, "the sleep below the shell: {below:?}");
        assert!(live_descendants(std::process::id() as i32).contains(&below[0]));
        // SAFETY: signals the processes this test started.
        unsafe {
            libc::kill(below[0], libc::SIGKILL);
            libc::kill(shell, libc::SIGKILL);
        }
        child.wait().unwrap();
        assert!(live_descendants(shell).is_empty());
    }

    #[test]
    fn exit_statuses_are_what_a_shell_reports() {
        assert_eq!(exit_status(SIGINT), 130);
        assert_eq!(exit_status(SIGTERM), 143);
        assert_eq!(signal_name(SIGTERM), "SIGTERM");
    }
}
