//! No way out: every case runs where it can reach its own mock Hub and nothing else, and every
//! attempt to reach another host is refused and recorded.
//!
//! Two layers:
//!
//! - **Isolation**, the strongest the machine allows. [`Isolation::Namespace`]: each case gets a
//!   network namespace of its own (Linux, root or user namespaces), holding only a loopback
//!   interface; its Hub listens inside it, and every process of the case enters it through
//!   `nsenter`. Nothing can leave it, whatever the program. [`Isolation::Proxy`], where no
//!   namespace can be made: only the proxy variables below stand between a program and the
//!   network.
//! - **Recording.** In every Python process (the clients, `hf`, the snippets) an audit hook loaded
//!   by `sitecustomize` refuses name lookups of other hosts and connections to other addresses
//!   before the system sees them, with the errors an offline machine gives, and writes each one to
//!   the case's attempt log; so Python behaves the same under both isolations. For other programs
//!   the proxy variables that HTTP clients honour (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`,
//!   lower-case too, with `NO_PROXY` for loopback) point at a small proxy of the case (inside its
//!   namespace, when it has one) that refuses every request and records its host. What neither
//!   sees (a program that is not Python and ignores the proxy variables) is still refused by the
//!   namespace, but not named.
//!
//! Under the namespace isolation the case's mount namespace also gets the real addresses
//! ([`super::addresses`]): its `/etc/hosts` and CA bundle are bound over, and the Hub serves HTTPS
//! at `127.0.1.1:443` inside the network namespace, so snippets need no `HF_ENDPOINT`.
//!
//! `HUBCHECK_ISOLATION=proxy` forces the fallback (to test it on a machine that has namespaces).

use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::addresses::{Addresses, HTTPS_PORT, HUB_ADDRESS, HUB_HOSTS, TrustFiles};
use super::namespaces::{CaseNamespaces, Isolation, SCENARIO_ROOT};

/// How long an accept loop sleeps when no connection waits.
const ACCEPT_POLL: Duration = Duration::from_millis(5);

/// The variables that point clients at a proxy.
const PROXY_VARS: [&str; 6] = [
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
];

/// An attempt of a snippet to reach a host other than its Hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// The host name or address.
    pub host: String,
    /// The port, when known.
    pub port: Option<u16>,
    /// How it was seen: `name lookup`, `connection`, `proxy request`.
    pub via: String,
}

/// The port of a case's Hub inside its network namespace (the same in every case, for the same
/// reason), and of its refusing proxy.
pub const HUB_PORT: u16 = 18080;
const PROXY_PORT: u16 = 18081;

/// The network of one case: where its Hub listens, how its processes are started, and what they
/// tried to reach.
pub struct CaseNetwork {
    isolation: Isolation,
    addresses: Addresses,
    namespace: Option<CaseNamespaces>,
    proxy: RefusingProxy,
    forwarders: Mutex<Vec<Forwarder>>,
    site: PathBuf,
    attempt_log: PathBuf,
}

impl CaseNetwork {
    /// Prepares a case's network; `dir` (the case's sandbox) receives the Python hook and the
    /// attempt log.
    pub fn new(isolation: Isolation, dir: &Path) -> io::Result<CaseNetwork> {
        CaseNetwork::with_addresses(isolation, Addresses::choose(isolation), dir, Path::new("/"))
    }

    /// Like [`CaseNetwork::new`], with the addresses the run's Hub source allows
    /// ([`crate::harness::case_hub::HubSource::addresses`]: a `--hub URL` keeps the endpoint path, and then
    /// no `/etc/hosts` or CA bundle is bound over). The real addresses need the namespace.
    /// `venv_bin` is the Python environment's `bin` folder, whose own CA bundles are bound over
    /// too ([`super::addresses::python_bundles`]).
    pub fn with_addresses(
        isolation: Isolation,
        addresses: Addresses,
        dir: &Path,
        venv_bin: &Path,
    ) -> io::Result<CaseNetwork> {
        let addresses = match isolation {
            Isolation::Namespace => addresses,
            Isolation::Proxy => Addresses::Endpoint,
        };
        let site = dir.join("hubcheck-site");
        fs::create_dir_all(&site)?;
        fs::write(site.join("sitecustomize.py"), SITECUSTOMIZE)?;
        fs::write(site.join("_hubcheck_network.py"), NETWORK_HOOK)?;
        let trust = match addresses {
            Addresses::Real => Some(TrustFiles::write(dir, venv_bin).map_err(io::Error::other)?),
            Addresses::Endpoint => None,
        };
        let namespace = match isolation {
            Isolation::Namespace => Some(CaseNamespaces::create(
                dir,
                trust.map(|t| t.binds).unwrap_or_default(),
            )?),
            Isolation::Proxy => None,
        };
        let proxy_listener = match &namespace {
            Some(ns) => ns.bind_loopback(PROXY_PORT)?,
            None => TcpListener::bind(("127.0.0.1", 0))?,
        };
        Ok(CaseNetwork {
            isolation,
            addresses,
            namespace,
            proxy: RefusingProxy::start(proxy_listener)?,
            forwarders: Mutex::new(Vec::new()),
            site,
            attempt_log: dir.join("network-attempts.jsonl"),
        })
    }

    /// The isolation in use.
    pub fn isolation(&self) -> Isolation {
        self.isolation
    }

    /// Which addresses the case's processes use.
    pub fn addresses(&self) -> Addresses {
        self.addresses
    }

    /// The listener of the case's Hub's HTTPS side under the real addresses:
    /// [`HUB_ADDRESS`]:[`HTTPS_PORT`] inside the namespace; `None` on the endpoint path.
    pub fn bind_hub_https(&self) -> io::Result<Option<TcpListener>> {
        match (&self.namespace, self.addresses) {
            (Some(ns), Addresses::Real) => ns.bind(HUB_ADDRESS, HTTPS_PORT).map(Some),
            _ => Ok(None),
        }
    }

    /// A listener for the case's Hub that the case's processes can reach: on [`HUB_PORT`] inside
    /// the namespace, on a free port without one.
    pub fn bind_hub(&self) -> io::Result<TcpListener> {
        match &self.namespace {
            Some(ns) => ns.bind_loopback(HUB_PORT),
            None => TcpListener::bind(("127.0.0.1", 0)),
        }
    }

    /// Where the case's processes see `dir` (its sandbox): [`SCENARIO_ROOT`] in the namespace's
    /// own mount namespace, `None` without one (they see it where it is).
    pub fn sandbox_inside(&self) -> Option<&'static Path> {
        self.namespace.as_ref().map(|_| Path::new(SCENARIO_ROOT))
    }

    /// The path through which the case's processes enter its mount namespace, if it has one.
    pub fn mount_namespace_path(&self) -> Option<PathBuf> {
        self.namespace.as_ref().map(CaseNamespaces::mount_path)
    }

    /// The URL under which the case's processes reach `url` (a loopback service of the harness):
    /// itself without a namespace, a forwarder inside the namespace with one.
    pub fn reach(&self, url: &str) -> io::Result<String> {
        if self.namespace.is_none() {
            return Ok(url.to_string());
        }
        let target = url
            .strip_prefix("http://")
            .and_then(|rest| rest.split('/').next())
            .and_then(|host| std::net::ToSocketAddrs::to_socket_addrs(host).ok()?.next())
            .ok_or_else(|| {
                io::Error::other(format!("{url}: not an http:// URL with a host and port"))
            })?;
        let forwarder = Forwarder::start(self.bind_hub()?, target)?;
        let inside = format!("http://{}", forwarder.addr);
        self.forwarders
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(forwarder);
        Ok(inside)
    }

    /// The path through which the case's processes enter its namespace, if it has one.
    pub fn namespace_path(&self) -> Option<PathBuf> {
        self.namespace.as_ref().map(CaseNamespaces::path)
    }

    /// Variables every process of the case gets: the Python hook and its log, and the proxy
    /// variables. `python_path` is what else belongs on `PYTHONPATH`.
    pub fn environment(&self, python_path: &[PathBuf]) -> Vec<(String, String)> {
        let mut paths = vec![self.site.display().to_string()];
        paths.extend(python_path.iter().map(|p| p.display().to_string()));
        let mut env = vec![
            ("PYTHONPATH".to_string(), paths.join(":")),
            (
                "HUBCHECK_NETWORK_LOG".to_string(),
                self.attempt_log.display().to_string(),
            ),
        ];
        let url = format!("http://{}", self.proxy.addr);
        env.extend(PROXY_VARS.iter().map(|k| (k.to_string(), url.clone())));
        let mut no_proxy = "127.0.0.1,localhost,::1".to_string();
        if self.addresses == Addresses::Real {
            // The Hub's names are this namespace's own: programs that honour the proxy
            // variables (curl) go to them directly, and the Python hook lets them through.
            for host in HUB_HOSTS {
                no_proxy.push(',');
                no_proxy.push_str(host);
            }
            env.push(("HUBCHECK_HUB_HOSTS".into(), HUB_HOSTS.join(" ")));
        }
        for key in ["NO_PROXY", "no_proxy"] {
            env.push((key.into(), no_proxy.clone()));
        }
        env.push((
            "HUBCHECK_PROXY_VARS".into(),
            format!("{} NO_PROXY no_proxy", PROXY_VARS.join(" ")),
        ));
        env
    }

    /// Every attempt recorded so far, in the order seen (Python hook first, then the proxy).
    pub fn attempts(&self) -> Vec<Attempt> {
        let mut found: Vec<Attempt> = fs::read_to_string(&self.attempt_log)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect();
        found.extend(self.proxy.attempts());
        found
    }
}

/// Accepts connections on a thread until dropped, handing each to `handle` on a thread of its own.
struct AcceptLoop {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl AcceptLoop {
    fn start(
        listener: TcpListener,
        handle: impl Fn(TcpStream) + Send + Sync + 'static,
    ) -> io::Result<AcceptLoop> {
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let handle = Arc::new(handle);
        let thread = thread::Builder::new()
            .name("case-network".into())
            .spawn(move || {
                while !stopped.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let handle = Arc::clone(&handle);
                            let _ = stream.set_nonblocking(false);
                            thread::spawn(move || handle(stream));
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            thread::sleep(ACCEPT_POLL)
                        }
                        Err(_) => thread::sleep(ACCEPT_POLL),
                    }
                }
            })?;
        Ok(AcceptLoop {
            addr,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for AcceptLoop {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Passes bytes between a listener inside a namespace and a service outside it.
struct Forwarder {
    addr: SocketAddr,
    _accept: AcceptLoop,
}

impl Forwarder {
    fn start(listener: TcpListener, target: SocketAddr) -> io::Result<Forwarder> {
        let accept = AcceptLoop::start(listener, move |inside| {
            if let Ok(outside) = TcpStream::connect(target) {
                pipe_both_ways(inside, outside);
            }
        })?;
        Ok(Forwarder {
            addr: accept.addr,
            _accept: accept,
        })
    }
}

/// Copies each way until both sides close.
fn pipe_both_ways(a: TcpStream, b: TcpStream) {
    let (Ok(mut a2), Ok(mut b2)) = (a.try_clone(), b.try_clone()) else {
        return;
    };
    let (mut a, mut b) = (a, b);
    let up = thread::spawn(move || {
        let _ = io::copy(&mut a, &mut b2);
        let _ = b2.shutdown(Shutdown::Write);
    });
    let _ = io::copy(&mut b, &mut a2);
    let _ = a2.shutdown(Shutdown::Write);
    let _ = up.join();
}

/// An HTTP proxy that refuses every request and records the host it was asked for.
struct RefusingProxy {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Attempt>>>,
    _accept: AcceptLoop,
}

impl RefusingProxy {
    fn start(listener: TcpListener) -> io::Result<RefusingProxy> {
        let seen: Arc<Mutex<Vec<Attempt>>> = Arc::default();
        let record = Arc::clone(&seen);
        let accept = AcceptLoop::start(listener, move |stream| {
            refuse(stream, |attempt| {
                record
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(attempt)
            });
        })?;
        Ok(RefusingProxy {
            addr: accept.addr,
            seen,
            _accept: accept,
        })
    }

    fn attempts(&self) -> Vec<Attempt> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Reads a proxy request's first line, records what it asked for, then answers 403 (recording
/// first, so an attempt is on record before the client can see the answer and end).
fn refuse(stream: TcpStream, record: impl FnOnce(Attempt)) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let Ok(reading) = stream.try_clone() else {
        return;
    };
    let mut line = String::new();
    if BufReader::new(reading.take(8192))
        .read_line(&mut line)
        .is_err()
    {
        return;
    }
    let attempt = proxy_target(&line);
    let host = attempt
        .as_ref()
        .map_or_else(|| "that host".to_string(), |a| a.host.clone());
    if let Some(attempt) = attempt {
        record(attempt);
    }
    let body = format!(
        "mdbook-hubcheck: snippets may not reach {host}: a test run has no network but its mock Hub\n"
    );
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// The host and port of a proxy request line: `CONNECT host:443 HTTP/1.1` or
/// `GET http://host/path HTTP/1.1`.
fn proxy_target(line: &str) -> Option<Attempt> {
    let mut words = line.split_whitespace();
    let method = words.next()?;
    let target = words.next()?;
    let authority = if method.eq_ignore_ascii_case("CONNECT") {
        target
    } else {
        let rest = target.split_once("://")?.1;
        rest.split('/').next()?
    };
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => {
            (host, port.parse().ok())
        }
        _ => (authority, None),
    };
    Some(Attempt {
        host: host.trim_matches(['[', ']']).to_string(),
        port,
        via: "proxy request".into(),
    })
}

/// Loaded by every Python process of a case before the snippet's code.
const SITECUSTOMIZE: &str = include_str!("../python/site/sitecustomize.py");

/// The audit hook that refuses and records network attempts.
pub(crate) const NETWORK_HOOK: &str = include_str!("../python/site/_hubcheck_network.py");

#[cfg(test)]
mod tests {
    use super::super::namespaces::nsenter;
    use super::*;

    #[test]
    fn proxy_request_lines_name_their_host() {
        let connect = proxy_target("CONNECT github.com:443 HTTP/1.1\r\n").unwrap();
        assert_eq!(
            (connect.host.as_str(), connect.port),
            ("github.com", Some(443))
        );
        let get = proxy_target("GET http://example.org/x HTTP/1.1\r\n").unwrap();
        assert_eq!((get.host.as_str(), get.port), ("example.org", None));
        let v6 = proxy_target("CONNECT [2001:db8::1]:443 HTTP/1.1").unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("2001:db8::1", Some(443)));
        assert!(proxy_target("garbage").is_none());
    }

    #[test]
    fn the_refusing_proxy_answers_403_and_records_the_host() {
        let proxy = RefusingProxy::start(TcpListener::bind(("127.0.0.1", 0)).unwrap()).unwrap();
        let mut stream = TcpStream::connect(proxy.addr).unwrap();
        stream
            .write_all(b"CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
        assert!(answer.contains("example.org"), "{answer}");
        assert_eq!(proxy.attempts()[0].host, "example.org");
    }

    #[test]
    fn a_namespace_reaches_only_its_own_loopback() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 || std::env::var_os("HUBCHECK_ISOLATION").is_some() {
            // Without root no namespace can be made: the run falls back to the proxy (tested
            // above) and says so.
            assert_eq!(Isolation::detect(), Isolation::Proxy);
            return;
        }
        assert_eq!(Isolation::detect(), Isolation::Namespace);
        let dir = tempfile::tempdir().unwrap();
        let network = CaseNetwork::new(Isolation::Namespace, dir.path()).unwrap();
        let inside = network.bind_hub().unwrap();
        let outside = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let script = format!(
            "exec 3<>/dev/tcp/127.0.0.1/{} && echo inside-ok; exec 4<>/dev/tcp/127.0.0.1/{} && echo outside-reached",
            inside.local_addr().unwrap().port(),
            outside.local_addr().unwrap().port()
        );
        let output = std::process::Command::new(nsenter().unwrap())
            .arg(format!(
                "--net={}",
                network.namespace_path().unwrap().display()
            ))
            .args(["--", "/bin/bash", "-c", &script])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("inside-ok"), "{output:?}");
        assert!(!stdout.contains("outside-reached"), "{output:?}");
    }

    #[test]
    fn each_case_sees_its_own_sandbox_at_the_scenario_root() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 || std::env::var_os("HUBCHECK_ISOLATION").is_some() {
            assert_eq!(Isolation::detect(), Isolation::Proxy);
            return;
        }
        let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        fs::write(one.path().join("marker"), "case one").unwrap();
        fs::write(two.path().join("marker"), "case two").unwrap();
        let networks = [one.path(), two.path()]
            .map(|dir| CaseNetwork::new(Isolation::Namespace, dir).unwrap());
        for (network, expected) in networks.iter().zip(["case one", "case two"]) {
            assert_eq!(network.sandbox_inside(), Some(Path::new(SCENARIO_ROOT)));
            let output = std::process::Command::new(nsenter().unwrap())
                .arg(format!(
                    "--mount={}",
                    network.mount_namespace_path().unwrap().display()
                ))
                .args(["--", "/bin/cat", &format!("{SCENARIO_ROOT}/marker")])
                .output()
                .unwrap();
            assert_eq!(
                String::from_utf8_lossy(&output.stdout),
                expected,
                "{output:?}"
            );
        }
        // The harness's own view of the path is untouched.
        assert!(!Path::new(SCENARIO_ROOT).join("marker").exists());
    }
}
