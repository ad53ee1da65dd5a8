//! `mdbook-hubcheck serve`: builds the book and serves it on 127.0.0.1, optionally with a mock Hub.
//!
//! With `--mock-hub` an in-process mock Hub starts first, the book is built with `hub-endpoint`
//! pointing at it, and its test tokens are printed, so course staff can try every state of the
//! token checker offline. The book is built into a temporary folder that lives as long as the
//! server, so a build pointing at a mock never lands in `build-dir`. There is no rebuild on
//! change: restart the command after editing the book. Every answer carries the same
//! Content-Security-Policy as the pages ([`crate::widgets::csp`]), for the mock's origin with
//! `--mock-hub`.
//!
//! Tests serve a built book with [`router`] on a [`crate::server::BackgroundServer`].

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use tower_http::services::ServeDir;

use super::build::{BuildError, BuildOptions, build};
use crate::hub::MockHub;
use crate::settings::Settings;
use crate::widgets::csp;

/// What to serve and how.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The book's root folder, holding `book.toml`.
    pub book: PathBuf,
    /// The port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Start an in-process mock Hub and point the token checker at it.
    pub mock_hub: bool,
}

/// Why serving failed.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The book did not build.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The book's world file could not be read.
    #[error(transparent)]
    World(#[from] crate::settings::BookWorldError),
    /// The mock Hub did not start.
    #[error("cannot start the mock Hub: {0}")]
    MockHub(io::Error),
    /// The port could not be bound.
    #[error("cannot listen on {addr}: {source} (choose another port with --port)")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The underlying error.
        source: io::Error,
    },
    /// The temporary output folder or the server failed.
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// A static-file app for a built book: `ServeDir` with `index.html` for folders, and
/// `Content-Security-Policy: csp` on every answer when given.
pub fn router(dir: &Path, csp: Option<&str>) -> Router {
    let app =
        Router::new().fallback_service(ServeDir::new(dir).append_index_html_on_directories(true));
    match csp.and_then(|v| HeaderValue::from_str(v).ok()) {
        None => app,
        Some(value) => app.layer(axum::middleware::map_response(
            move |mut response: Response| {
                let value = value.clone();
                async move {
                    response
                        .headers_mut()
                        .insert(header::CONTENT_SECURITY_POLICY, value);
                    response
                }
            },
        )),
    }
}

/// Resolves at Ctrl-C (SIGINT) or SIGTERM (what `kill`, a service manager or a container's stop
/// send), so that either way the server stops and the built book's temporary folder is removed.
async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Builds and serves the book until Ctrl-C or SIGTERM; prints the address (and the mock's tokens) first.
pub fn serve(options: &ServeOptions) -> Result<(), ServeError> {
    let hub = if options.mock_hub {
        let world = crate::settings::load_book_world(&options.book)?;
        Some(MockHub::start(world).map_err(ServeError::MockHub)?)
    } else {
        None
    };
    let out_dir = tempfile::Builder::new()
        .prefix("hubcheck-serve-")
        .tempdir()?;
    let hub_endpoint = hub.as_ref().map(|h| h.url().to_string());
    let out = build(&BuildOptions {
        book: options.book.clone(),
        dest: Some(out_dir.path().to_path_buf()),
        hub_endpoint: hub_endpoint.clone(),
    })?;
    // The pages carry the policy already; the header says the same, for a theme of the book's
    // own that lacks it.
    let endpoint = match hub_endpoint {
        Some(url) => url,
        None => {
            Settings::load(&options.book)
                .map_err(BuildError::from)?
                .hub_endpoint
        }
    };
    let policy = csp::policy(&endpoint);
    let addr = SocketAddr::from(([127, 0, 0, 1], options.port));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind { addr, source })?;
        let local = listener.local_addr()?;
        println!("Serving the book on http://{local}/ (Ctrl-C to stop; restart after edits, there is no rebuild on change)");
        if let Some(hub) = &hub {
            println!("Mock Hub on {} with these test tokens:", hub.url());
            println!("  {:<13} {:<24} value", "kind", "display name");
            for token in hub.tokens() {
                println!(
                    "  {:<13} {:<24} {}",
                    token.kind.as_str(),
                    token.display_name,
                    token.value
                );
            }
            println!(
                "  {:<13} {:<24} {}",
                "invalid",
                "(unknown to the Hub)",
                MockHub::invalid_token()
            );
        }
        axum::serve(listener, router(&out, Some(&policy)))
            .with_graceful_shutdown(stop_signal())
            .await?;
        Ok(())
    })
}
