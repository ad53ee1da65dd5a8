//! The real addresses: under the namespace isolation a scenario's processes reach the mock Hub at
//! `https://huggingface.co` and `https://router.huggingface.co`, as a student's machine reaches
//! the real ones, with no `HF_ENDPOINT`.
//!
//! In each scenario's mount namespace two files are bound over the system's (see
//! [`TrustFiles`]): `/etc/hosts`, which sends [`HUB_HOSTS`] to [`HUB_ADDRESS`] (a loopback
//! address, so "nothing but loopback" still holds), and the system CA bundle, which adds the run's
//! certificate authority ([`crate::hub::tls::RunAuthority`]) to the system's. The mock Hub serves
//! HTTPS on [`HTTPS_PORT`] at that address inside the scenario's network namespace. Which clients
//! read which file is in `docs/mock-hub.md`, "The real addresses".
//!
//! Without a namespace (the proxy isolation) nothing can be bound over a system file, and the
//! snippets get `HF_ENDPOINT` pointing at the mock over plain HTTP, as before.
//! `HUBCHECK_REAL_ADDRESSES=0` forces that path under namespaces too (for comparisons).

use std::fs;
use std::io;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::namespaces::Isolation;
use crate::hub::tls::{RunAuthority, TlsError};

/// The host names a scenario's `/etc/hosts` sends to the mock Hub: the ones the clients reach on
/// their own (see `docs/mock-hub.md`, "The real addresses", for where each is in the source and
/// why the CDN and Xet hosts are not among them).
///
/// `datasets-server.huggingface.co` is the dataset viewer, which `datasets.load_dataset` asks for
/// a dataset's exported infos before it reads the repository (`datasets/utils/_dataset_viewer.py:33,69`);
/// the mock answers it as a viewer that has processed no dataset.
pub const HUB_HOSTS: &[&str] = &[
    "huggingface.co",
    "router.huggingface.co",
    "datasets-server.huggingface.co",
];

/// Where the mock Hub's HTTPS listener is inside a scenario's network namespace: a loopback
/// address of its own (not 127.0.0.1, where the harness's plain listeners are).
pub const HUB_ADDRESS: Ipv4Addr = Ipv4Addr::new(127, 0, 1, 1);

/// The port of the HTTPS listener: the one an `https://` URL without a port means.
pub const HTTPS_PORT: u16 = 443;

/// The endpoint the clients use when nothing sets `HF_ENDPOINT`
/// (`huggingface_hub/constants.py`, `_HF_DEFAULT_ENDPOINT`).
pub const REAL_ENDPOINT: &str = "https://huggingface.co";

/// The system CA bundles the clients read, bound over when they exist: Debian's (read by
/// OpenSSL through `/usr/lib/ssl/cert.pem`, by curl, by hf_xet's rustls-platform-verifier) and
/// the other distributions' paths that httpcore2 and truststore try (`httpcore2/_ssl.py`,
/// `CA_FILE_CANDIDATES`).
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/ssl/cert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/pki/tls/cert.pem",
    "/etc/ssl/ca-bundle.pem",
];

/// Which addresses a run's snippets use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Addresses {
    /// `https://huggingface.co` and the other real names, no `HF_ENDPOINT`.
    Real,
    /// `HF_ENDPOINT` pointing at the mock over plain HTTP on loopback.
    Endpoint,
}

impl Addresses {
    /// The real addresses under the namespace isolation (unless `HUBCHECK_REAL_ADDRESSES=0`),
    /// the endpoint otherwise.
    pub fn choose(isolation: Isolation) -> Addresses {
        let forced_off = std::env::var("HUBCHECK_REAL_ADDRESSES").is_ok_and(|v| v == "0");
        if isolation == Isolation::Namespace && !forced_off {
            Addresses::Real
        } else {
            Addresses::Endpoint
        }
    }

    /// The report's name for it: `real` or `endpoint`.
    pub fn as_str(self) -> &'static str {
        match self {
            Addresses::Real => "real",
            Addresses::Endpoint => "endpoint",
        }
    }

    /// One line for the start of a run.
    pub fn describe(self) -> &'static str {
        match self {
            Addresses::Real => {
                "the real addresses (https://huggingface.co, https://router.huggingface.co), no HF_ENDPOINT"
            }
            Addresses::Endpoint => "HF_ENDPOINT pointing at the mock Hub over plain HTTP",
        }
    }
}

/// Why a scenario's trust files could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AddressError {
    /// The certificates.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// Writing the files.
    #[error("writing a scenario's /etc/hosts and CA bundle: {0}")]
    Io(#[from] io::Error),
}

/// The files a scenario's mount namespace binds over the system's, and where.
#[derive(Debug, Clone)]
pub struct TrustFiles {
    /// (the file written for the scenario, the system path it is bound over).
    pub binds: Vec<(PathBuf, PathBuf)>,
}

impl TrustFiles {
    /// Writes the scenario's `/etc/hosts` and CA bundles into `dir`: the system's, and those
    /// that the Python environment whose `bin` folder is `venv_bin` ships ([`python_bundles`]).
    pub fn write(dir: &Path, venv_bin: &Path) -> Result<TrustFiles, AddressError> {
        let authority = RunAuthority::get(HUB_HOSTS)?;
        let folder = dir.join("hubcheck-etc");
        fs::create_dir_all(&folder)?;
        let hosts = folder.join("hosts");
        fs::write(&hosts, hosts_file(&fs::read_to_string("/etc/hosts")?))?;
        let mut binds = vec![(hosts, PathBuf::from("/etc/hosts"))];
        let mut seen = Vec::new();
        let system = SYSTEM_BUNDLES.iter().map(PathBuf::from);
        for (i, bundle) in system.chain(python_bundles(venv_bin)).enumerate() {
            // A bundle that is a link to another is bound once, where the link points.
            let Ok(real) = fs::canonicalize(&bundle) else {
                continue;
            };
            if seen.contains(&real) || !real.is_file() {
                continue;
            }
            let bundle = folder.join(format!("ca-bundle-{i}.pem"));
            fs::write(
                &bundle,
                ca_bundle(&fs::read_to_string(&real)?, authority.ca_pem()),
            )?;
            binds.push((bundle, real.clone()));
            seen.push(real);
        }
        Ok(TrustFiles { binds })
    }
}

/// The CA bundles that packages of the Python environment whose `bin` folder is `venv_bin` carry
/// and read instead of the system's: certifi's `cacert.pem`, which requests uses unless
/// `REQUESTS_CA_BUNDLE` is set (`requests/utils.py`, `DEFAULT_CA_BUNDLE_PATH = certifi.where()`),
/// so older huggingface_hub releases (0.x, built on requests) and any book that adds requests
/// trust the run's authority as a student's certifi trusts the real one.
pub fn python_bundles(venv_bin: &Path) -> Vec<PathBuf> {
    let Some(lib) = venv_bin.parent().map(|venv| venv.join("lib")) else {
        return Vec::new();
    };
    let Ok(entries) = fs::read_dir(&lib) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .map(|python| python.path().join("site-packages/certifi/cacert.pem"))
        .filter(|bundle| bundle.is_file())
        .collect();
    found.sort();
    found
}

/// The system's `/etc/hosts` without lines naming a Hub host, then one line sending
/// [`HUB_HOSTS`] to [`HUB_ADDRESS`].
pub fn hosts_file(system: &str) -> String {
    let mut text: String = system
        .lines()
        .filter(|line| {
            let names = line.split('#').next().unwrap_or("");
            !names
                .split_whitespace()
                .skip(1)
                .any(|name| HUB_HOSTS.contains(&name))
        })
        .map(|line| format!("{line}\n"))
        .collect();
    text.push_str("# mdbook-hubcheck: the Hub's names reach the scenario's mock Hub\n");
    text.push_str(&format!("{HUB_ADDRESS} {}\n", HUB_HOSTS.join(" ")));
    text
}

/// The system bundle with the run's authority appended.
pub fn ca_bundle(system: &str, ca_pem: &str) -> String {
    let mut text = system.to_string();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("# mdbook-hubcheck run authority (this run only)\n");
    text.push_str(ca_pem);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hosts_file_keeps_the_system_lines_and_sends_the_hub_names_to_the_mock() {
        let text =
            hosts_file("127.0.0.1 localhost\n10.0.0.9 huggingface.co # stale\n::1 ip6-localhost\n");
        assert!(text.starts_with("127.0.0.1 localhost\n"), "{text}");
        assert!(text.contains("::1 ip6-localhost\n"), "{text}");
        assert!(!text.contains("10.0.0.9"), "{text}");
        assert!(
            text.ends_with(
                "127.0.1.1 huggingface.co router.huggingface.co datasets-server.huggingface.co\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn the_bundle_is_the_system_one_plus_the_run_authority() {
        let bundle = ca_bundle("-----SYSTEM-----", "-----RUN-----\n");
        assert!(bundle.starts_with("-----SYSTEM-----\n"));
        assert!(bundle.ends_with("-----RUN-----\n"));
    }

    #[test]
    fn the_endpoint_path_is_chosen_without_a_namespace() {
        assert_eq!(Addresses::choose(Isolation::Proxy), Addresses::Endpoint);
    }
}
