//! The hub suite over HTTPS (`HUBCHECK_HUB_TESTS_TLS=1`): the mock serves its HTTPS listener with
//! a certificate for `huggingface.co` from an authority made for the test, and a small front on
//! loopback passes the suite's plain requests on over TLS, checking that certificate against
//! that authority for the name `huggingface.co` as a client does. reqwest is built without TLS
//! (the harness needs none), so the TLS client is tokio-rustls, already a dependency.

use std::net::SocketAddr;
use std::sync::Arc;

use mdbook_hubcheck::hub::tls::RunAuthority;
use mdbook_hubcheck::hub::{MockHub, World};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

/// Whether the suite runs over HTTPS.
pub fn wanted() -> bool {
    std::env::var("HUBCHECK_HUB_TESTS_TLS").is_ok_and(|v| v == "1")
}

/// Passes one connection on both ways until both ends are done. What the client still sends after
/// the mock has stopped reading (a body it answered early, as with 413) is read and dropped:
/// closing a socket with unread data makes the kernel reset it, and the client would lose the
/// answer it has not read yet.
async fn forward(
    plain: tokio::net::TcpStream,
    tls: tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
) {
    use tokio::io::AsyncWriteExt as _;
    let (mut plain_read, mut plain_write) = tokio::io::split(plain);
    let (mut tls_read, mut tls_write) = tokio::io::split(tls);
    let up = async {
        if tokio::io::copy(&mut plain_read, &mut tls_write)
            .await
            .is_err()
        {
            let _ = tokio::io::copy(&mut plain_read, &mut tokio::io::sink()).await;
        }
        let _ = tls_write.shutdown().await;
    };
    let down = async {
        let _ = tokio::io::copy(&mut tls_read, &mut plain_write).await;
        let _ = plain_write.shutdown().await;
    };
    tokio::join!(up, down);
}

/// A plain listener that forwards each connection over TLS to the mock's HTTPS listener.
pub struct TlsFront {
    addr: SocketAddr,
    _runtime: tokio::runtime::Runtime,
}

impl TlsFront {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// Starts `world` with its HTTPS listener on a free loopback port, and a front for it.
pub fn start(world: World) -> (MockHub, TlsFront) {
    let authority = RunAuthority::make(&["huggingface.co"]).expect("certificates");
    let plain = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let https = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let https_addr = https.local_addr().unwrap();
    let hub = MockHub::start_with_https(world, plain, https, authority.server_config())
        .expect("mock hub starts with HTTPS");

    let mut roots = RootCertStore::empty();
    roots.add(authority.ca_der().clone()).unwrap();
    let config = ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = TlsConnector::from(Arc::new(config));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(("127.0.0.1", 0)))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(async move {
        while let Ok((plain, _)) = listener.accept().await {
            let connector = connector.clone();
            tokio::spawn(async move {
                let Ok(tcp) = tokio::net::TcpStream::connect(https_addr).await else {
                    return;
                };
                let name = ServerName::try_from("huggingface.co").unwrap();
                let tls = connector
                    .connect(name, tcp)
                    .await
                    .expect("the mock's certificate is valid for huggingface.co");
                forward(plain, tls).await;
            });
        }
    });
    (
        hub,
        TlsFront {
            addr,
            _runtime: runtime,
        },
    )
}
