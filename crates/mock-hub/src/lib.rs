//! A mock Hugging Face Hub that the real clients (huggingface_hub 2.4.0, the `hf` CLI,
//! transformers 5.23.0) accept at the real addresses (over HTTPS, [`tls`], inside a scenario's
//! namespaces where `huggingface.co` is the mock) or when `HF_ENDPOINT` points at it.
//!
//! The handbook promises users exact outputs: what `hf auth whoami` prints, which error a read
//! token gets on upload, that a tiny model downloads and runs. The harness checks those promises
//! against this server instead of huggingface.co, so it must answer with the real Hub's status
//! codes, `X-Error-Code`/`X-Error-Message` headers and JSON shapes (see `docs/mock-hub.md`,
//! section "What the clients send and expect"). Uploads of LFS files go through Xet as with the
//! real Hub ([`xet`]: token endpoints and a CAS on the same listener); downloads never use Xet or
//! LFS redirects.
//!
//! Layout: [`world`] is the data and the access rules, [`state`] the shared lockable state and its
//! Rust admin API, [`error`] the one error enum; each endpoint group has its own file with its
//! routes next to its handlers; `track.rs` is the service in front of them all (CORS for browsers,
//! the caller, early answers, `X-Request-Id`, the request log). [`router`] builds the app for
//! `oneshot` tests, [`serve`] runs it on a listener, and [`MockHub`] runs it on a background thread
//! for tests and the harness.

/// The README's example, compiled and run by `cargo test`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExample;

pub mod content;
pub mod error;
pub mod generate;
pub mod repo;
pub mod repo_type;
pub mod request_log;
pub mod server;
pub mod state;
pub mod tls;
pub mod token;
pub mod token_value;
pub mod world;
pub mod world_file;
pub mod xet;

mod admin;
mod commit;
mod extract;
mod gitignore;
mod inference;
mod listing;
mod manage;
mod oauth;
mod refs;
mod repos;
mod resolve;
mod track;
mod upload_mode;
mod whoami;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod request_id_tests {
    #[test]
    fn request_ids_are_32_hex_digits_like_format() {
        for id in [
            0u128,
            1,
            u128::MAX,
            0x0123_4567_89ab_cdef_fedc_ba98_7654_3210,
        ] {
            assert_eq!(
                super::track::request_id(id).to_str().unwrap(),
                format!("{id:032x}")
            );
        }
    }
}

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use axum::http::{HeaderName, Method, header};
use axum::{Router, ServiceExt};
use tower_http::cors::{AllowHeaders, Any, CorsLayer};

use crate::server::BackgroundServer;

pub use error::{HubError, X_REQUEST_ID};
pub use state::{
    Caller, HubState, LoggedRequest, NewFile, NewRepo, NewToken, RequestAuth, TokenInfo,
};
pub use track::{HubFuture, HubService, TrackFuture};
pub use world::{SeededToken, TokenKind, World};

use world::RepoType;

/// Builds the whole app: Hub endpoints, the `/__mock/` admin API, CORS and the request log, as
/// one tower service (for `oneshot` tests, [`serve`] and [`MockHub`]).
pub fn router(state: HubState) -> HubService {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
            Method::OPTIONS,
        ])
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers([
            X_REQUEST_ID,
            error::X_ERROR_CODE,
            error::X_ERROR_MESSAGE,
            error::X_REPO_COMMIT,
            HeaderName::from_static("x-linked-etag"),
            HeaderName::from_static("x-linked-size"),
            header::ETAG,
            header::CONTENT_LENGTH,
            header::CONTENT_RANGE,
            header::ACCEPT_RANGES,
            header::LINK,
        ])
        .max_age(Duration::from_secs(86_400));
    let app = Router::new()
        .merge(whoami::routes())
        .merge(oauth::routes())
        .merge(repos::routes())
        .merge(resolve::routes())
        .merge(commit::routes())
        .merge(refs::routes())
        .merge(manage::routes())
        .merge(listing::routes())
        .merge(admin::routes())
        .merge(inference::routes())
        .merge(xet::routes())
        .fallback(not_found)
        .with_state(state.clone());
    HubService::new(state, app, extract::SMALL_BODY_LIMIT, cors)
}

/// Any path the mock does not serve (the Git LFS batch API is named as such). A repository id without a namespace
/// (`/api/models/name/...`, `/name/resolve/...`) names no repository: RepoNotFound, as on the Hub.
async fn not_found(
    caller: Caller,
    headers: axum::http::HeaderMap,
    uri: axum::http::Uri,
) -> HubError {
    if is_dataset_viewer(&headers) {
        return HubError::ViewerHasNoDataset;
    }
    if uri.path().ends_with(".git/info/lfs/objects/batch") {
        return HubError::LfsBatchUnsupported {
            path: uri.path().to_string(),
        };
    }
    if !names_repo_without_namespace(uri.path()) {
        return HubError::RouteNotFound;
    }
    match caller {
        Caller::Invalid => HubError::InvalidCredentials,
        Caller::Anonymous => HubError::RepoNotFound { anonymous: true },
        Caller::Token(_) => HubError::RepoNotFound { anonymous: false },
    }
}

/// Whether a request is for the dataset viewer's host (`datasets-server.huggingface.co`, or
/// `datasets-server.` before whatever host the client was given), which `datasets` asks for a
/// dataset's exported Parquet files and infos before it reads the repository itself
/// (`datasets/utils/_dataset_viewer.py`). The viewer of the mock has processed no dataset: every
/// answer is its 404, which `datasets` takes as "not exported" and goes on.
fn is_dataset_viewer(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|host| host.starts_with("datasets-server."))
}

/// Whether `path` is a repository URL whose id has no namespace.
fn names_repo_without_namespace(path: &str) -> bool {
    const API_TAILS: &[&str] = &[
        "revision",
        "tree",
        "commits",
        "refs",
        "paths-info",
        "preupload",
        "commit",
        "settings",
        "auth-check",
        "branch",
        "tag",
        "xet-write-token",
        "xet-read-token",
    ];
    let segments: Vec<&str> = path.split('/').collect();
    match segments.as_slice() {
        ["", "api", t, name, rest @ ..]
            if RepoType::from_plural(t).is_some() && !name.is_empty() =>
        {
            rest.is_empty() || API_TAILS.contains(&rest[0])
        }
        ["", "datasets" | "spaces", name, "resolve", _, ..] => !name.is_empty(),
        ["", name, "resolve", _, ..] => !name.is_empty(),
        _ => false,
    }
}

/// Serves the mock on `listener` until `shutdown` completes (then waits for open connections).
/// Take the bound address from `listener.local_addr()` before calling.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: HubState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    axum::serve(listener, router(state).into_make_service())
        .with_graceful_shutdown(shutdown)
        .await
}

/// Marks a request as one that came over the HTTPS listener: for the request log (an extension)
/// and for the URLs the answers carry (`X-Forwarded-Proto: https`, replacing any the client sent;
/// see [`extract::origin`]).
fn mark_https(mut request: axum::extract::Request) -> axum::extract::Request {
    request.extensions_mut().insert(tls::Scheme::Https);
    request.headers_mut().insert(
        HeaderName::from_static("x-forwarded-proto"),
        axum::http::HeaderValue::from_static("https"),
    );
    request
}

/// A mock Hub running on a background thread ([`crate::server::BackgroundServer`]); it stops when
/// dropped.
#[derive(Debug)]
pub struct MockHub {
    url: String,
    state: HubState,
    server: BackgroundServer,
}

impl MockHub {
    /// Starts `world` on `127.0.0.1` with a free port.
    pub fn start(world: World) -> io::Result<MockHub> {
        MockHub::start_with(world, SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Starts `world` on `addr` (port 0 picks a free port).
    pub fn start_with(world: World, addr: SocketAddr) -> io::Result<MockHub> {
        MockHub::start_on_listener(world, std::net::TcpListener::bind(addr)?)
    }

    /// Starts `world` on a listener the caller bound, e.g. inside a scenario's network namespace.
    pub fn start_on_listener(world: World, listener: std::net::TcpListener) -> io::Result<MockHub> {
        let state = HubState::new(world);
        let server = BackgroundServer::start_on_listener(router(state.clone()), listener, 2)?;
        Ok(MockHub {
            url: server.url(),
            state,
            server,
        })
    }

    /// Starts `world` on `listener` (plain HTTP, for the harness's own calls) and on
    /// `https_listener` over TLS with `config` (the certificate of the Hub's real host names):
    /// requests on the second are logged with the scheme `https`.
    pub fn start_with_https(
        world: World,
        listener: std::net::TcpListener,
        https_listener: std::net::TcpListener,
        config: std::sync::Arc<tokio_rustls::rustls::ServerConfig>,
    ) -> io::Result<MockHub> {
        let state = HubState::new(world);
        let app = router(state.clone());
        let https_app = tower::ServiceBuilder::new()
            .map_request(mark_https)
            .service(app.clone());
        let tls = crate::server::TlsSide {
            app: https_app,
            listener: https_listener,
            config,
        };
        let server = BackgroundServer::start_with_tls(app, listener, Some(tls), 2)?;
        Ok(MockHub {
            url: server.url(),
            state,
            server,
        })
    }

    /// The base URL, e.g. `http://127.0.0.1:41234` (no trailing slash): the `HF_ENDPOINT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// The value of the first declared token of `kind`.
    ///
    /// # Panics
    ///
    /// If the world declares no token of that kind.
    pub fn token(&self, kind: TokenKind) -> String {
        match self.state.read().seeded_token(kind) {
            Some(t) => t.value.clone(),
            None => panic!("this mock Hub's world declares no `{kind}` token"),
        }
    }

    /// The value of the declared token a scenario names (`read`, `fine-grained-no-inference`).
    ///
    /// # Panics
    ///
    /// If the world declares no token of that name.
    pub fn token_named(&self, name: &str) -> String {
        match self.state.read().token_named(name) {
            Some(t) => t.value.clone(),
            None => panic!("this mock Hub's world declares no token named `{name}`"),
        }
    }

    /// The declared tokens: name, kind, display name and value.
    pub fn tokens(&self) -> Vec<SeededToken> {
        self.state.seeded_tokens()
    }

    /// A fresh token-shaped value that this Hub does not know (answered with 401).
    pub fn invalid_token() -> String {
        world::generate_token_value()
    }

    /// The shared state, for the Rust admin API.
    pub fn state(&self) -> HubState {
        self.state.clone()
    }

    /// Every request served so far (never with token values).
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.state.request_log()
    }
}
