//! A run's process group as `/proc` shows it: who is in it, whether it waits to read its
//! terminal, and its end.
//!
//! A leaf of [`super`]: the supervisor kills and waits for the group here, the typist asks here
//! whether the program waits for a person. Nothing here starts a process or reads its output.
//!
//! "Waits to read its terminal" is read from the system call each process sleeps in
//! (`/proc/PID/syscall`) and the descriptors it waits on: a `read` of a terminal, or a `poll`,
//! `select` or `epoll` whose descriptors include one. A process that waits on a socket (a client
//! waiting for the Hub's answer) does not wait for a person, however long the Hub takes. Where
//! the kernel does not show the system call, the function it sleeps in (`wchan`) is used, as a
//! coarser guess.

use std::fs;
use std::thread;
use std::time::{Duration, Instant};

/// How long a killed group may take to be gone before the run goes on without it (a process
/// unmapping gigabytes of PyTorch can take a moment under load).
const GONE_LIMIT: Duration = Duration::from_secs(10);

/// Kernel functions a process sleeps in while it waits to read its terminal (a plain read, or
/// select, poll and epoll as prompt libraries use): the guess where `/proc/PID/syscall` cannot be
/// read. `wait_woken` is also where a blocked socket read sleeps.
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

/// One process of a group, as `/proc/PID/stat` shows it.
struct Member {
    pid: u32,
    /// The state letter: `R`, `S`, `D`, `Z`, ...
    state: char,
}

/// The state letter and process group of `pid`, from `/proc/PID/stat`; `None` once it is gone.
fn state_and_group(pid: u32) -> Option<(char, u32)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid pgrp ...`: comm may hold spaces and parentheses.
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let pgrp = fields.nth(1)?.parse().ok()?;
    Some((state, pgrp))
}

/// Whether `pid` has ended: gone, or a zombie waiting for its parent.
#[cfg(test)]
pub(crate) fn has_ended(pid: u32) -> bool {
    state_and_group(pid).is_none_or(|(state, _)| matches!(state, 'Z' | 'X'))
}

/// The processes whose process group is `leader`'s, zombies included.
fn members(leader: u32) -> Vec<Member> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let (state, pgrp) = state_and_group(pid)?;
            (pgrp == leader).then_some(Member { pid, state })
        })
        .collect()
}

/// Kills every process in the group that `leader` leads.
pub(crate) fn kill_group(leader: u32) {
    if let Ok(pid) = libc::pid_t::try_from(leader) {
        // SAFETY: killpg only sends a signal; a stale group id yields ESRCH, which is ignored.
        unsafe {
            libc::killpg(pid, libc::SIGKILL);
        }
    }
}

/// Whether any process, a zombie included, is still in the group `leader` leads: one system call
/// (a null signal to the group), where [`members`] reads every process's `/proc` entry. Most runs
/// end with their whole group reaped, and then the scan is not needed.
fn group_exists(leader: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(leader) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the group exists; nothing is delivered.
    let sent = unsafe { libc::killpg(pid, 0) };
    sent == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Kills the group and waits until none of its processes runs any more (zombies waiting for
/// their parent count as gone), so a run that returns has left nothing behind; gives up after
/// [`GONE_LIMIT`].
pub(crate) fn kill_group_and_wait(leader: u32) {
    kill_group(leader);
    let deadline = Instant::now() + GONE_LIMIT;
    while Instant::now() < deadline
        && group_exists(leader)
        && members(leader)
            .iter()
            .any(|m| !matches!(m.state, 'Z' | 'X'))
    {
        thread::sleep(Duration::from_millis(5));
    }
}

/// Whether the program waits for a person: every live process of the group `leader` leads is
/// asleep (state `S`) and one of them waits to read its terminal.
pub(crate) fn waits_for_input(leader: u32) -> bool {
    let mut reading = false;
    for member in members(leader) {
        match member.state {
            'Z' | 'X' => continue,
            'S' => reading |= reads_terminal(member.pid),
            _ => return false,
        }
    }
    reading
}

/// Whether the sleeping process `pid` waits to read a terminal: from its system call where the
/// kernel shows it, else from the function it sleeps in.
fn reads_terminal(pid: u32) -> bool {
    match waited_descriptors(pid) {
        Some(fds) => fds.iter().any(|&fd| is_terminal(pid, fd)),
        None => {
            let wchan = fs::read_to_string(format!("/proc/{pid}/wchan")).unwrap_or_default();
            wchan.is_empty() || wchan == "0" || INPUT_WAITS.iter().any(|f| wchan.starts_with(f))
        }
    }
}

/// Whether descriptor `fd` of `pid` is a terminal (`/dev/pts/N`, `/dev/tty...`, `/dev/ptmx`).
fn is_terminal(pid: u32, fd: u64) -> bool {
    fs::read_link(format!("/proc/{pid}/fd/{fd}")).is_ok_and(|target| {
        let target = target.to_string_lossy();
        target.starts_with("/dev/pts/") || target.starts_with("/dev/tty") || target == "/dev/ptmx"
    })
}

/// The descriptors `pid` sleeps waiting to read: `Some(empty)` when its system call reads
/// none (a sleep, a wait for a child), `None` when the kernel does not show it.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn waited_descriptors(pid: u32) -> Option<Vec<u64>> {
    // x86_64 system call numbers (asm/unistd_64.h).
    const READ: u64 = 0;
    const POLL: u64 = 7;
    const PREAD64: u64 = 17;
    const READV: u64 = 19;
    const SELECT: u64 = 23;
    const RECVFROM: u64 = 45;
    const RECVMSG: u64 = 47;
    const EPOLL_WAIT: u64 = 232;
    const PSELECT6: u64 = 270;
    const PPOLL: u64 = 271;
    const EPOLL_PWAIT: u64 = 281;
    const EPOLL_PWAIT2: u64 = 441;
    let call = fs::read_to_string(format!("/proc/{pid}/syscall")).ok()?;
    let mut words = call.split_whitespace();
    let number: u64 = words.next()?.parse().ok()?;
    let args: Vec<u64> = words
        .take(6)
        .filter_map(|w| u64::from_str_radix(w.trim_start_matches("0x"), 16).ok())
        .collect();
    if args.len() < 3 {
        return None;
    }
    Some(match number {
        READ | PREAD64 | READV | RECVFROM | RECVMSG => vec![args[0]],
        POLL | PPOLL => poll_descriptors(pid, args[0], args[1])?,
        SELECT | PSELECT6 => select_descriptors(pid, args[0], args[1])?,
        EPOLL_WAIT | EPOLL_PWAIT | EPOLL_PWAIT2 => epoll_descriptors(pid, args[0])?,
        _ => Vec::new(),
    })
}

/// Elsewhere the system call's numbers differ: always the coarser guess.
#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
fn waited_descriptors(_pid: u32) -> Option<Vec<u64>> {
    None
}

/// `count` bytes of `pid`'s memory at `address` (a system call's argument array).
fn memory(pid: u32, address: u64, count: usize) -> Option<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut mem = fs::File::open(format!("/proc/{pid}/mem")).ok()?;
    mem.seek(SeekFrom::Start(address)).ok()?;
    let mut bytes = vec![0; count];
    mem.read_exact(&mut bytes).ok()?;
    Some(bytes)
}

/// The descriptors of a `poll`: `nfds` `struct pollfd { int fd; short events; short revents; }`.
fn poll_descriptors(pid: u32, address: u64, nfds: u64) -> Option<Vec<u64>> {
    let nfds = usize::try_from(nfds).ok().filter(|&n| n <= 4096)?;
    let bytes = memory(pid, address, nfds * 8)?;
    Some(
        bytes
            .chunks_exact(8)
            .filter_map(|entry| {
                let fd = i32::from_ne_bytes(entry[..4].try_into().ok()?);
                u64::try_from(fd).ok()
            })
            .collect(),
    )
}

/// The descriptors of a `select`'s read set: a bit per descriptor below `nfds`.
fn select_descriptors(pid: u32, nfds: u64, readfds: u64) -> Option<Vec<u64>> {
    if readfds == 0 {
        return Some(Vec::new());
    }
    let nfds = usize::try_from(nfds).ok().filter(|&n| n <= 1024)?;
    let bytes = memory(pid, readfds, nfds.div_ceil(8))?;
    Some(
        (0..nfds)
            .filter(|&fd| bytes[fd / 8] & (1 << (fd % 8)) != 0)
            .map(|fd| fd as u64)
            .collect(),
    )
}

/// The descriptors an epoll instance watches: its `tfd:` lines in `/proc/PID/fdinfo/EPFD`.
fn epoll_descriptors(pid: u32, epfd: u64) -> Option<Vec<u64>> {
    let info = fs::read_to_string(format!("/proc/{pid}/fdinfo/{epfd}")).ok()?;
    Some(
        info.lines()
            .filter_map(|line| line.trim_start().strip_prefix("tfd:"))
            .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};

    use super::*;

    /// Whether `condition` comes true within ten seconds, for a process that was just started.
    fn eventually(condition: impl Fn() -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if condition() {
                return true;
            }
            thread::sleep(Duration::from_millis(10));
        }
        false
    }

    #[test]
    fn a_program_reading_its_terminal_waits_for_input_and_one_waiting_on_a_socket_does_not() {
        let pty = portable_pty::native_pty_system()
            .openpty(portable_pty::PtySize::default())
            .unwrap();
        let mut reading = portable_pty::CommandBuilder::new("python3");
        reading.args(["-c", "input()"]);
        let mut at_terminal = pty.slave.spawn_command(reading).unwrap();
        let leader = at_terminal.process_id().unwrap();
        assert!(
            eventually(|| waits_for_input(leader)),
            "a terminal read is a wait for input"
        );

        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut on_socket = Command::new("python3")
            .args([
                "-c",
                &format!(
                    "import socket; s = socket.create_connection(('127.0.0.1', {port})); s.recv(1)"
                ),
            ])
            .stdin(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap();
        let _accepted = listener.accept().unwrap();
        let pid = on_socket.id();
        assert!(
            eventually(|| members(pid).iter().all(|m| m.state == 'S')
                && waited_descriptors(pid).is_some_and(|fds| !fds.is_empty())),
            "the client sleeps reading its socket"
        );
        assert!(
            !waits_for_input(on_socket.id()),
            "a client waiting for its server's answer does not wait for a person"
        );

        kill_group_and_wait(leader);
        kill_group_and_wait(on_socket.id());
        assert!(
            members(on_socket.id())
                .iter()
                .all(|m| matches!(m.state, 'Z' | 'X')),
            "a killed group is gone when kill_group_and_wait returns"
        );
        let _ = on_socket.stdin.take().map(|mut s| s.write_all(b""));
        let _ = on_socket.wait();
        let _ = at_terminal.wait();
    }
}
