//! HTTPS for the mock Hub, so that unmodified clients reach it at `https://huggingface.co`.
//!
//! A certificate authority is made once per process ([`RunAuthority::get`]); it signs one
//! certificate for the Hub's host names, which the HTTPS listener presents. The harness puts the
//! authority's certificate into the system CA bundle that a scenario's processes see (see
//! `src/harness/addresses.rs`), the way a student's machine trusts the real Hub's authority. The
//! authority's key never leaves the process.
//!
//! [`TlsListener`] is an `axum::serve::Listener`: it accepts TCP connections, runs each handshake
//! on a task of its own (a slow client cannot hold up the others) and hands axum the finished
//! streams. Requests that came over it carry [`Scheme::Https`] in their extensions, which the
//! request log records.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::server::TlsStream;

/// How a request reached the mock: set by the HTTPS listener's service, absent (plain HTTP)
/// otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Over the HTTPS listener.
    Https,
}

/// Why the certificates could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// rcgen refused the parameters or the key.
    #[error("making the run's certificates: {0}")]
    Certificate(#[from] rcgen::Error),
    /// rustls refused the certificate or key.
    #[error("configuring TLS: {0}")]
    Config(#[from] tokio_rustls::rustls::Error),
}

/// The certificate authority of this process and the server certificate it signed for the
/// Hub's host names.
pub struct RunAuthority {
    ca_pem: String,
    ca_der: CertificateDer<'static>,
    server: Arc<ServerConfig>,
    names: Vec<String>,
}

impl RunAuthority {
    /// The process's authority, made on first use for `names` (later calls get the same one;
    /// every caller passes the same list: the plugin's is `harness::addresses::HUB_HOSTS`).
    pub fn get(names: &[&str]) -> Result<&'static RunAuthority, TlsError> {
        static AUTHORITY: OnceLock<RunAuthority> = OnceLock::new();
        if let Some(made) = AUTHORITY.get() {
            return Ok(made);
        }
        let made = RunAuthority::make(names)?;
        Ok(AUTHORITY.get_or_init(|| made))
    }

    /// A new authority and a server certificate for `names`.
    pub fn make(names: &[&str]) -> Result<RunAuthority, TlsError> {
        let ca_key = KeyPair::generate()?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name = name("mdbook-hubcheck run authority");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca_params.self_signed(&ca_key)?;
        let issuer = Issuer::new(ca_params, ca_key);

        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let server_key = KeyPair::generate()?;
        let mut server_params = CertificateParams::new(names.clone())?;
        server_params.distinguished_name = name(names.first().map_or("mock Hub", |n| n.as_str()));
        server_params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_cert = server_params.signed_by(&server_key, &issuer)?;

        let chain: Vec<CertificateDer<'static>> = vec![server_cert.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
        let mut config = ServerConfig::builder_with_provider(Arc::new(
            tokio_rustls::rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
        // HTTP/1.1 only: what the clients speak to the Hub (httpx without its `http2` extra,
        // hf_xet's reqwest, curl would take h2 but does not need it).
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(RunAuthority {
            ca_pem: ca_cert.pem(),
            ca_der: ca_cert.der().clone(),
            server: Arc::new(config),
            names,
        })
    }

    /// The authority's certificate, PEM: what a scenario's CA bundle adds.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The authority's certificate, DER: what a Rust client's root store adds (the tests).
    pub fn ca_der(&self) -> &CertificateDer<'static> {
        &self.ca_der
    }

    /// The host names the server certificate is for.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The server side of a TLS handshake with the Hub's certificate.
    pub fn server_config(&self) -> Arc<ServerConfig> {
        Arc::clone(&self.server)
    }
}

/// A distinguished name with only a common name.
fn name(common: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common);
    dn
}

/// How many finished handshakes may wait for axum to take them.
const READY_QUEUE: usize = 64;

/// A listener whose connections are TLS streams, for `axum::serve`.
pub struct TlsListener {
    addr: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    _accepting: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    /// Accepts on `listener` and runs handshakes with `config`; must be called inside a tokio
    /// runtime (the accept loop is a task of it).
    pub fn new(listener: TcpListener, config: Arc<ServerConfig>) -> io::Result<TlsListener> {
        let addr = listener.local_addr()?;
        let (sender, ready) = mpsc::channel(READY_QUEUE);
        let acceptor = TlsAcceptor::from(config);
        let accepting = tokio::spawn(async move {
            loop {
                let Ok((stream, peer)) = listener.accept().await else {
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                    continue;
                };
                let (acceptor, sender) = (acceptor.clone(), sender.clone());
                tokio::spawn(async move {
                    // A failed handshake (a client that does not trust the authority) ends the
                    // connection; the client reports it.
                    if let Ok(tls) = acceptor.accept(stream).await {
                        let _ = sender.send((tls, peer)).await;
                    }
                });
            }
        });
        Ok(TlsListener {
            addr,
            ready,
            _accepting: accepting,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self._accepting.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(ready) => ready,
            // The accept loop ended only when the listener is being dropped: wait forever,
            // the server is shutting down.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.addr)
    }
}
