//! The namespaces a case runs in, and which isolation the machine allows.
//!
//! Owns [`Isolation`] (namespaces, or the proxy fallback), `CaseNamespaces` (the network and
//! the mount namespace of one case, kept alive by open handles and gone when dropped), the
//! [`SCENARIO_ROOT`] every case's sandbox is bound at, and where `nsenter` is. It makes
//! namespaces and binds files in them; it does not decide what a case may reach (that is
//! [`super::network`]) nor which files are bound ([`super::addresses`] writes them; they arrive
//! here as plain pairs of paths), so it imports neither.

use std::fs::{self, File};
use std::io;
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::thread;

use serde::{Deserialize, Serialize};

/// How a run keeps its snippets off the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Isolation {
    /// A network namespace per case, with only a loopback interface.
    Namespace,
    /// The proxy variables, pointed at a refusing proxy per case.
    Proxy,
}

impl Isolation {
    /// The strongest isolation this machine allows: a namespace when one can be made and entered.
    pub fn detect() -> Isolation {
        if std::env::var("HUBCHECK_ISOLATION").is_ok_and(|v| v == "proxy") {
            return Isolation::Proxy;
        }
        let probe = tempfile::tempdir();
        let can_make = probe
            .as_ref()
            .is_ok_and(|dir| CaseNamespaces::create(dir.path(), Vec::new()).is_ok());
        if nsenter().is_some() && can_make {
            Isolation::Namespace
        } else {
            Isolation::Proxy
        }
    }

    /// One line for the start of a run and the docs.
    pub fn describe(self) -> &'static str {
        match self {
            Isolation::Namespace => {
                "a network namespace per scenario (only loopback inside; the mock Hub listens there)"
            }
            Isolation::Proxy => {
                "proxy variables pointed at a refusing proxy (no network namespace could be made here)"
            }
        }
    }
}

/// Where every case's sandbox appears to its own processes under the namespace isolation: each
/// case has a mount namespace of its own in which its sandbox is bound at this one path, so every
/// case's processes see the same HOME, HF_HOME and temporary folder (and the warm interpreter can
/// import the clients once with those very paths).
pub const SCENARIO_ROOT: &str = "/tmp/hubcheck-scenario";

/// The two namespaces of one case: a network namespace (only loopback inside) and a mount
/// namespace in which the case's sandbox is bound at [`SCENARIO_ROOT`], kept alive by open
/// handles to them. (Was `NetNamespace`, which hid the mount namespace it also holds.)
pub(super) struct CaseNamespaces {
    handle: File,
    mounts: File,
}

impl CaseNamespaces {
    /// Makes the namespaces, with the loopback interface up and `sandbox` bound at
    /// [`SCENARIO_ROOT`], on a thread of its own (a namespace belongs to the thread that made it;
    /// the harness's threads stay where they are).
    /// `binds` are files bound over others in the mount namespace (file, over).
    pub(super) fn create(
        sandbox: &Path,
        binds: Vec<(PathBuf, PathBuf)>,
    ) -> io::Result<CaseNamespaces> {
        fs::create_dir_all(SCENARIO_ROOT)?;
        let sandbox = sandbox.to_path_buf();
        thread::spawn(move || -> io::Result<CaseNamespaces> {
            // SAFETY: plain system calls on this thread only; no memory is shared with them.
            if unsafe { libc::unshare(libc::CLONE_NEWNET | libc::CLONE_NEWNS) } != 0 {
                return Err(io::Error::last_os_error());
            }
            loopback_up()?;
            bind_sandbox(&sandbox)?;
            for (file, over) in &binds {
                bind_file(file, over)?;
            }
            Ok(CaseNamespaces {
                handle: File::open("/proc/thread-self/ns/net")?,
                mounts: File::open("/proc/thread-self/ns/mnt")?,
            })
        })
        .join()
        .map_err(|_| io::Error::other("the thread making a network namespace panicked"))?
    }

    /// The path through which other processes enter the namespace (valid while `self` lives).
    pub(super) fn path(&self) -> PathBuf {
        fd_path(&self.handle)
    }

    /// The path through which other processes enter the mount namespace.
    pub(super) fn mount_path(&self) -> PathBuf {
        fd_path(&self.mounts)
    }

    /// Binds a loopback listener on `port` inside the namespace; the socket stays there after the
    /// thread that made it is gone.
    pub(super) fn bind_loopback(&self, port: u16) -> io::Result<TcpListener> {
        self.bind(std::net::Ipv4Addr::LOCALHOST, port)
    }

    /// Binds a listener on `address`:`port` inside the namespace (any 127.x.y.z address is on
    /// its loopback interface once `lo` is up; a low port needs only the namespace's root).
    pub(super) fn bind(&self, address: std::net::Ipv4Addr, port: u16) -> io::Result<TcpListener> {
        let fd = self.handle.as_raw_fd();
        thread::scope(|scope| {
            scope
                .spawn(|| {
                    // SAFETY: `fd` is an open namespace handle; setns only moves this thread.
                    if unsafe { libc::setns(fd, libc::CLONE_NEWNET) } != 0 {
                        return Err(io::Error::last_os_error());
                    }
                    TcpListener::bind((address, port))
                })
                .join()
                .map_err(|_| io::Error::other("the thread binding in a namespace panicked"))?
        })
    }
}

/// `/proc/<pid>/fd/<fd>` of an open file of this process.
fn fd_path(file: &File) -> PathBuf {
    PathBuf::from(format!(
        "/proc/{}/fd/{}",
        std::process::id(),
        file.as_raw_fd()
    ))
}

/// mount(2) without a file system type or data, which these flags do not need.
fn mount(
    source: Option<&std::ffi::CStr>,
    target: &std::ffi::CStr,
    flags: libc::c_ulong,
) -> io::Result<()> {
    let source = source.map_or(std::ptr::null(), std::ffi::CStr::as_ptr);
    // SAFETY: valid NUL-terminated paths (or null for no source); null type and data are allowed.
    let done = unsafe {
        libc::mount(
            source,
            target.as_ptr(),
            std::ptr::null(),
            flags,
            std::ptr::null(),
        )
    };
    if done == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// In the calling thread's new mount namespace: stops mounts from reaching the others, and binds
/// `sandbox` at [`SCENARIO_ROOT`].
fn bind_sandbox(sandbox: &Path) -> io::Result<()> {
    let c = |p: &str| std::ffi::CString::new(p).map_err(io::Error::other);
    let (root, source, target) = (
        c("/")?,
        c(&sandbox.display().to_string())?,
        c(SCENARIO_ROOT)?,
    );
    mount(None, &root, libc::MS_REC | libc::MS_PRIVATE)?;
    mount(Some(&source), &target, libc::MS_BIND | libc::MS_REC)?;
    Ok(())
}

/// In the calling thread's mount namespace (already private): binds `file` over `over`, so the
/// case's processes read the one where they look for the other.
fn bind_file(file: &Path, over: &Path) -> io::Result<()> {
    let c = |p: &Path| std::ffi::CString::new(p.display().to_string()).map_err(io::Error::other);
    mount(Some(&c(file)?), &c(over)?, libc::MS_BIND).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("binding {} over {}: {e}", file.display(), over.display()),
        )
    })
}

/// Brings up `lo` in the calling thread's network namespace.
fn loopback_up() -> io::Result<()> {
    // SAFETY: a zeroed ifreq is valid; the ioctls read and write only that struct.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut request: libc::ifreq = std::mem::zeroed();
        for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo\0") {
            *slot = *byte as libc::c_char;
        }
        let mut result = libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut request);
        if result == 0 {
            request.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            result = libc::ioctl(fd, libc::SIOCSIFFLAGS, &request);
        }
        let error = io::Error::last_os_error();
        libc::close(fd);
        if result != 0 {
            return Err(error);
        }
    }
    Ok(())
}

/// `nsenter`, when the machine has it.
pub fn nsenter() -> Option<PathBuf> {
    ["/usr/bin/nsenter", "/bin/nsenter", "/usr/sbin/nsenter"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}
