//! An axum app served on a background thread: how the mock Hub runs beside the harness and the
//! tests, and how the tests serve a built book.
//!
//! The server has its own tokio runtime, so callers need none. Dropping it stops it: open
//! connections get a short grace period, then are dropped, so a test never hangs on a client that
//! keeps a connection open.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::thread::JoinHandle;
use std::time::Duration;

use axum::extract::Request;
use axum::response::Response;
use axum::{Router, ServiceExt};
use tower::Service;

/// How long a stopping server waits for open connections before dropping them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// The TLS side of a [`BackgroundServer`]: the app it serves, where, and the handshake's
/// configuration (certificate and key).
pub struct TlsSide<T> {
    /// The service answering requests that came over TLS.
    pub app: T,
    /// The bound listener.
    pub listener: std::net::TcpListener,
    /// The server's certificate, key and protocols.
    pub config: std::sync::Arc<tokio_rustls::rustls::ServerConfig>,
}

/// A running server; it stops when dropped.
#[derive(Debug)]
pub struct BackgroundServer {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::watch::Sender<bool>>,
    thread: Option<JoinHandle<()>>,
}

impl BackgroundServer {
    /// Serves `app` on `127.0.0.1` with a free port.
    pub fn start(app: Router) -> io::Result<BackgroundServer> {
        BackgroundServer::start_on(app, SocketAddr::from(([127, 0, 0, 1], 0)), 1)
    }

    /// Serves `app` on `addr` (port 0 picks a free port) with `workers` runtime threads.
    pub fn start_on(app: Router, addr: SocketAddr, workers: usize) -> io::Result<BackgroundServer> {
        BackgroundServer::start_on_listener(app, std::net::TcpListener::bind(addr)?, workers)
    }

    /// Serves `app` (a [`Router`], or any service like it) on a listener the caller bound (for
    /// example inside a network namespace).
    pub fn start_on_listener<S>(
        app: S,
        listener: std::net::TcpListener,
        workers: usize,
    ) -> io::Result<BackgroundServer>
    where
        S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
        S::Future: Send,
    {
        BackgroundServer::start_with_tls(app, listener, None::<TlsSide<S>>, workers)
    }

    /// Serves `app` on `listener` and, when given, `tls.app` over TLS on `tls.listener` (the
    /// mock Hub's HTTPS side under the real addresses), on one runtime; both stop together.
    pub fn start_with_tls<S, T>(
        app: S,
        listener: std::net::TcpListener,
        tls: Option<TlsSide<T>>,
        workers: usize,
    ) -> io::Result<BackgroundServer>
    where
        S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
        S::Future: Send,
        T: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
        T::Future: Send,
    {
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers.max(1))
            .thread_name("background-server")
            .enable_all()
            .build()?;
        let (listener, tls) = {
            let _guard = runtime.enter();
            let tls = match tls {
                Some(side) => {
                    side.listener.set_nonblocking(true)?;
                    let tcp = tokio::net::TcpListener::from_std(side.listener)?;
                    Some((crate::tls::TlsListener::new(tcp, side.config)?, side.app))
                }
                None => None,
            };
            (tokio::net::TcpListener::from_std(listener)?, tls)
        };
        let (tx, rx) = tokio::sync::watch::channel(false);
        let thread = std::thread::Builder::new()
            .name("background-server".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match tls {
                        Some((tls_listener, tls_app)) => {
                            tokio::join!(
                                serve_until_stopped(listener, app, rx.clone()),
                                serve_until_stopped(tls_listener, tls_app, rx),
                            );
                        }
                        None => serve_until_stopped(listener, app, rx).await,
                    }
                });
                runtime.shutdown_timeout(Duration::from_millis(100));
            })?;
        Ok(BackgroundServer {
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL, e.g. `http://127.0.0.1:41234` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Serves until `stop` turns true, then lets open connections finish for [`SHUTDOWN_GRACE`].
async fn serve_until_stopped<L, S>(listener: L, app: S, stop: tokio::sync::watch::Receiver<bool>)
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    let mut graceful = stop.clone();
    let mut hard = stop;
    let server =
        axum::serve(listener, app.into_make_service()).with_graceful_shutdown(async move {
            let _ = graceful.wait_for(|stop| *stop).await;
        });
    tokio::select! {
        _ = server => {}
        _ = async {
            let _ = hard.wait_for(|stop| *stop).await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => {}
    }
}

impl Drop for BackgroundServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_until_dropped() {
        let app = Router::new().route("/", axum::routing::get(|| async { "hello" }));
        let server = BackgroundServer::start(app).unwrap();
        let body = reqwest::blocking::get(server.url())
            .unwrap()
            .text()
            .unwrap();
        assert_eq!(body, "hello");
        let addr = server.addr();
        drop(server);
        assert!(std::net::TcpStream::connect(addr).is_err());
    }
}
