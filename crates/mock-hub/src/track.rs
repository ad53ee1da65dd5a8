//! The service in front of the app: sends browsers through CORS ([`HubService`]), identifies the
//! caller once, answers pending faults and moved repositories early, stamps `X-Request-Id` and
//! logs the request ([`Track`]).
//!
//! Hand-written tower services rather than `axum::middleware::from_fn` and an outer `Router`:
//! every request goes through them, and `from_fn` boxes a future and a clone of the inner service
//! per request while each `Router` adds its own boxed route and extensions. Figures:
//! `docs/benchmarks.md`, section "Mock Hub".

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use rand::RngExt;
use tower::{Layer, Service, ServiceExt};
use tower_http::cors::CorsLayer;

use super::error::{HubError, X_REQUEST_ID};
use super::state::{HubState, Pending};
use super::{manage, world};

/// The app with its default body limit, the way [`Track`] calls it.
type App = <DefaultBodyLimit as Layer<Router>>::Service;

/// The whole mock Hub as one cheaply cloned tower service; [`super::router`] builds it.
#[derive(Clone)]
pub struct HubService {
    plain: Track<App>,
    cors: Arc<CorsLayer>,
}

impl HubService {
    /// Wraps `app` (the routes, with their state) for `state`, with `cors` for browsers.
    pub(super) fn new(state: HubState, app: Router, body_limit: usize, cors: CorsLayer) -> Self {
        HubService {
            plain: Track {
                state,
                inner: DefaultBodyLimit::max(body_limit).layer(app),
            },
            cors: Arc::new(cors),
        }
    }
}

impl Service<Request> for HubService {
    type Response = Response;
    type Error = Infallible;
    type Future = HubFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    /// Requests that carry an `Origin` header (a browser: the token checker) go through the
    /// CORS layer, the others (the Python clients, `hf`, curl) straight to `Track`. CORS headers
    /// mean nothing without an `Origin`, and the layer costs a clone of its settings and three
    /// response headers.
    fn call(&mut self, req: Request) -> HubFuture {
        if req.headers().contains_key(header::ORIGIN) {
            let service = self.cors.layer(self.plain.clone());
            HubFuture::Browser(Box::pin(service.oneshot(req)))
        } else {
            HubFuture::Plain(self.plain.call(req))
        }
    }
}

/// The answer of [`HubService`].
// The common variant stays inline: boxing it would cost an allocation per request.
#[allow(clippy::large_enum_variant)]
pub enum HubFuture {
    /// A request without `Origin`.
    Plain(TrackFuture<<App as Service<Request>>::Future>),
    /// A browser's request, through CORS.
    Browser(Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>),
}

impl Future for HubFuture {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            HubFuture::Plain(f) => Pin::new(f).poll(cx),
            HubFuture::Browser(f) => f.as_mut().poll(cx),
        }
    }
}

/// Identifies the caller once (the handlers' `Caller` extractor takes it from the request's
/// extensions), stamps `X-Request-Id` on the answer and logs the request (without token values;
/// admin requests are not logged).
#[derive(Clone)]
pub struct Track<S> {
    state: HubState,
    inner: S,
}

impl<S> Service<Request> for Track<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Unpin,
{
    type Response = Response;
    type Error = Infallible;
    type Future = TrackFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let (caller, auth, early_checks) = self.state.arrival(req.headers());
        let uri = req.uri();
        let early = if early_checks {
            fault_answer(&self.state, req.method(), uri.path())
                .or_else(|| manage::moved_redirect(&self.state, &caller, uri.path(), uri.query()))
        } else {
            None
        };
        let log = (!uri.path().starts_with("/__mock")).then(|| Pending {
            method: req.method().clone(),
            uri: uri.clone(),
            auth,
            user_agent: req.headers().get(header::USER_AGENT).cloned(),
            host: req.headers().get(header::HOST).cloned().or_else(|| {
                uri.authority()
                    .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
            }),
            https: req.extensions().get::<super::tls::Scheme>().is_some(),
        });
        let answer = match early {
            Some(response) => Answer::Early(Some(response)),
            None => {
                req.extensions_mut().insert(caller);
                Answer::Inner(self.inner.call(req))
            }
        };
        TrackFuture {
            state: self.state.clone(),
            answer,
            log,
        }
    }
}

/// Where the answer comes from.
enum Answer<F> {
    /// The app.
    Inner(F),
    /// A fault or a redirect, known before the app ran (taken when polled).
    Early(Option<Response>),
}

/// The answer of `Track`: the app's (or the early) answer, stamped and logged.
pub struct TrackFuture<F> {
    state: HubState,
    answer: Answer<F>,
    log: Option<Pending>,
}

impl<F> Future for TrackFuture<F>
where
    F: Future<Output = Result<Response, Infallible>> + Unpin,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut response = match &mut this.answer {
            Answer::Inner(f) => ready!(Pin::new(f).poll(cx))?,
            Answer::Early(response) => response.take().expect("polled after completion"),
        };
        response
            .headers_mut()
            .insert(X_REQUEST_ID, request_id(rand::rng().random()));
        if let Some(pending) = this.log.take() {
            this.state.log_pending(pending, response.status().as_u16());
        }
        Poll::Ready(Ok(response))
    }
}

/// Answers a pending admin-requested fault for this request, if any.
fn fault_answer(state: &HubState, method: &Method, path: &str) -> Option<Response> {
    if path.starts_with("/__mock") {
        return None;
    }
    let fault = state.take_fault(method.as_str(), path)?;
    let error = match fault.status {
        world::FaultStatus::TooManyRequests => HubError::RateLimited {
            retry_after: fault.retry_after.unwrap_or(1),
        },
        world::FaultStatus::Unavailable => HubError::Unavailable {
            retry_after: fault.retry_after,
        },
    };
    Some(error.into_response())
}

/// `id` as 32 lowercase hex digits, the shape of the Hub's request ids.
pub(super) fn request_id(id: u128) -> HeaderValue {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut digits = [0u8; 32];
    for (i, d) in digits.iter_mut().enumerate() {
        *d = HEX[((id >> (4 * (31 - i))) & 0xf) as usize];
    }
    HeaderValue::from_bytes(&digits).expect("hex digits are a valid header value")
}
