//! The mock Hub over real HTTP: every endpoint and error case the clients rely on, checked with
//! reqwest against a mock Hub with the fixture world `tests/fixtures/worlds/unidive.toml`, one file per endpoint group (mirroring `crates/mock-hub/src/`), plus
//! a deterministic fuzz run here.

mod admin;
mod commit;
mod inference;
mod listing;
mod manage;
mod oauth;
mod refs;
mod repos;
mod resolve;
mod standalone;
mod tls_front;
mod whoami;
mod xet;

use std::time::Duration;

use mdbook_hubcheck::hub::state::NewFile;
use mdbook_hubcheck::hub::world::TokenStatus;
use mdbook_hubcheck::hub::{MockHub, NewRepo, NewToken, RequestAuth, TokenKind};
use reqwest::blocking::{Client, Response};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

/// The pinned environment's Python as a client of the mock at `endpoint` holding `token`, in a
/// HOME of its own (the returned folder, which must outlive the run) and nothing else of ours.
fn pinned_python_as(endpoint: &str, token: &str) -> (std::process::Command, tempfile::TempDir) {
    let python = mdbook_hubcheck::harness::pyenv::ensure_default().expect("pinned environment");
    let home = tempfile::tempdir().unwrap();
    let mut command = std::process::Command::new(python.bin("python"));
    command
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", home.path())
        .env("HF_HOME", home.path().join("hf"))
        .env("HF_ENDPOINT", endpoint)
        .env("HF_TOKEN", token)
        .env("HF_HUB_DISABLE_TELEMETRY", "1")
        .env("HF_HUB_DISABLE_UPDATE_CHECK", "1")
        .env("HF_HUB_DISABLE_PROGRESS_BARS", "1");
    (command, home)
}

/// Runs the fixture Python script `script` (under `tests/fixtures/`, or an absolute path) with `args` as
/// [`pinned_python_as`], plus `env`; its stdout. The run must exit 0; else the test fails with
/// both streams.
fn run_client_script(
    script: &str,
    args: &[&str],
    endpoint: &str,
    token: &str,
    env: &[(&str, &str)],
) -> String {
    let (mut command, _home) = pinned_python_as(endpoint, token);
    let out = command
        .arg(crate::prelude::fixtures().join(script))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{script} {args:?}: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A client that never follows redirects and never decompresses.
fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// A started seeded hub and a client for it.
///
/// With `HUBCHECK_HUB_TESTS_TLS=1` the suite runs against the mock's HTTPS listener: the hub
/// serves HTTPS with a certificate for `huggingface.co` from an authority made for the test, and
/// the requests go through [`tls_front::TlsFront`], which speaks TLS to it (checking that
/// certificate) on their behalf. `cargo test` runs the suite both ways: `hub_over_https` runs
/// it again with that variable.
struct Hub {
    hub: MockHub,
    http: Client,
    front: Option<tls_front::TlsFront>,
}

impl Hub {
    fn start() -> Hub {
        Hub::start_world(crate::prelude::unidive_world())
    }

    /// A hub with `world`, over HTTPS when the suite runs that way.
    fn start_world(world: mdbook_hubcheck::hub::World) -> Hub {
        let (hub, front) = if tls_front::wanted() {
            let (hub, front) = tls_front::start(world);
            (hub, Some(front))
        } else {
            (MockHub::start(world).expect("mock hub starts"), None)
        };
        Hub {
            hub,
            http: client(),
            front,
        }
    }

    /// The base URL the suite's requests use (no trailing slash).
    fn base(&self) -> String {
        match &self.front {
            Some(front) => front.url(),
            None => self.hub.url().to_string(),
        }
    }

    /// The base the mock writes in the URLs it answers with: the scheme the request arrived on
    /// (HTTPS through the front) and the host the client sent, as the real Hub links to itself.
    fn public_base(&self) -> String {
        match &self.front {
            Some(front) => front.url().replacen("http://", "https://", 1),
            None => self.hub.url().to_string(),
        }
    }

    /// The address the suite's raw requests connect to.
    fn addr(&self) -> std::net::SocketAddr {
        match &self.front {
            Some(front) => front.addr(),
            None => self.hub.addr(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base())
    }

    fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut req = self.http.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().expect("request")
    }

    fn head(&self, path: &str, token: Option<&str>) -> Response {
        let mut req = self.http.head(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().expect("request")
    }

    fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        let mut req = self.http.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().expect("request")
    }

    fn token(&self, kind: TokenKind) -> String {
        self.hub.token(kind)
    }
}

/// A header as text ("" when missing).
fn h<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Sends a request line as-is (no client-side path normalisation) and returns the status.
fn raw_status(hub: &Hub, method: &str, target: &str) -> u16 {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(hub.addr()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        hub.addr()
    )
    .unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out);
    text.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Asserts status, X-Error-Code and X-Error-Message, and that the JSON body's `error` matches.
#[track_caller]
fn assert_error(resp: Response, status: u16, code: Option<&str>, message: &str) -> HeaderMap {
    let headers = resp.headers().clone();
    assert_eq!(
        resp.status().as_u16(),
        status,
        "status; headers: {headers:?}"
    );
    assert_eq!(
        headers.get("x-error-code").and_then(|v| v.to_str().ok()),
        code
    );
    assert_eq!(h(&headers, "x-error-message"), message);
    assert!(!h(&headers, "x-request-id").is_empty(), "X-Request-Id");
    let body: Value = resp.json().expect("json error body");
    assert_eq!(body["error"], message);
    headers
}

#[test]
fn cors_preflight_allows_authorization() {
    let hub = Hub::start();
    let resp = hub
        .http
        .request(reqwest::Method::OPTIONS, hub.url("/api/whoami-v2"))
        .header("origin", "http://localhost:3000")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    assert_eq!(h(resp.headers(), "access-control-allow-origin"), "*");
    assert!(
        h(resp.headers(), "access-control-allow-headers")
            .to_ascii_lowercase()
            .contains("authorization")
    );
    assert!(h(resp.headers(), "access-control-allow-methods").contains("GET"));
    // The actual request exposes the headers clients read.
    let resp = hub
        .http
        .get(hub.url("/api/whoami-v2"))
        .header("origin", "http://localhost:3000")
        .bearer_auth(hub.token(TokenKind::Read))
        .send()
        .unwrap();
    assert_eq!(h(resp.headers(), "access-control-allow-origin"), "*");
    let exposed = h(resp.headers(), "access-control-expose-headers").to_ascii_lowercase();
    for name in [
        "x-error-code",
        "x-error-message",
        "x-request-id",
        "x-repo-commit",
        "etag",
    ] {
        assert!(exposed.contains(name), "{name} in {exposed}");
    }
}

/// The suite reaches the listener it says: with `HUBCHECK_HUB_TESTS_TLS=1` every request goes
/// over HTTPS (logged with the scheme `https`), else over plain HTTP.
#[test]
fn the_suite_reaches_the_listener_it_runs_against() {
    let hub = Hub::start();
    let resp = hub.get("/api/whoami-v2", Some(&hub.token(TokenKind::Read)));
    assert_eq!(resp.status(), 200);
    let log = hub.hub.request_log();
    let last = log.last().expect("the request is logged");
    let wanted = if tls_front::wanted() { "https" } else { "http" };
    assert_eq!(last.scheme, wanted, "{last:?}");
    assert!(last.host.is_some(), "{last:?}");
}

#[test]
fn unknown_paths_are_404_with_request_id() {
    let hub = Hub::start();
    for path in [
        "/",
        "/nope",
        "/api/nope",
        "/api/models/unidive/tiny-bert/nope",
        "/unidive/tiny-bert/blob/main/x",
    ] {
        let r = hub.get(path, None);
        assert_eq!(r.status(), 404, "{path}");
        assert!(!h(r.headers(), "x-request-id").is_empty());
    }
}

/// A small deterministic generator for the fuzz test.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

/// Path segments the fuzz test builds paths from: every route of the mock, ids in other cases,
/// revisions of every kind, and hostile encodings.
const FUZZ_SEGMENTS: &[&str] = &[
    "api",
    "models",
    "datasets",
    "spaces",
    "unidive",
    "unidive-student",
    "tiny-bert",
    "tiny-bert-private",
    "tiny-bert-gated",
    "Unidive",
    "Tiny-Bert",
    "repo-that-does-not-exist",
    "resolve",
    "tree",
    "revision",
    "main",
    "dev",
    "v1.0",
    "refs%2Ftags%2Fv1.0",
    "preupload",
    "commit",
    "config.json",
    "whoami-v2",
    "repos",
    "create",
    "delete",
    "move",
    "refs",
    "branch",
    "tag",
    "commits",
    "paths-info",
    "settings",
    "auth-check",
    "write",
    "oauth",
    "token",
    "device",
    "login",
    "__mock",
    "requests",
    "tokens",
    "orgs",
    "members",
    "grants",
    "expire",
    "users",
    "reset",
    "..",
    ".",
    "%2e%2e",
    "..%5Cx",
    "a%5Cb",
    "%2F",
    "%00",
    "%ff",
    "refs%2Fpr%2F1",
    "a b",
    "%",
    "~",
    "0000000000000000000000000000000000000000",
    "",
    "validate-yaml",
    "agent-harnesses",
    "approve",
];

/// Bodies the fuzz test sends: one valid shape per write endpoint, and garbage.
const FUZZ_BODIES: &[&[u8]] = &[
    b"",
    b"{}",
    b"{\"name\":\"fz\",\"organization\":\"unidive-student\"}",
    b"{\"files\":[{\"path\":\"x\",\"sample\":\"\",\"size\":0}],\"gitIgnore\":\"*.log\\nx\"}",
    b"{\"key\":\"header\",\"value\":{\"summary\":\"s\"}}\n{\"key\":\"file\",\"value\":{\"content\":\"eA==\",\"path\":\"f.txt\",\"encoding\":\"base64\"}}\n",
    b"{\"key\":\"header\",\"value\":{\"summary\":\"s\"}}\n{\"key\":\"deletedFile\",\"value\":{\"path\":\"f.txt\"}}\n",
    b"\xff\xfe\x00garbage",
    b"grant_type=urn:ietf:params:oauth:grant-type:device_code&device_code=x",
    b"grant_type=refresh_token&refresh_token=x",
    b"paths=config.json&paths=tokenizer.json&expand=True",
    b"{\"startingPoint\":\"main\"}",
    b"{\"tag\":\"v1.0\",\"message\":\"m\"}",
    b"{\"private\":true,\"gated\":\"auto\"}",
    b"{\"private\":false,\"gated\":false}",
    b"{\"fromRepo\":\"unidive/tiny-bert\",\"toRepo\":\"unidive-student/moved\",\"type\":\"model\"}",
    b"{\"user\":\"unidive-student\",\"role\":\"contributor\"}",
    b"{\"user\":\"unidive-student\",\"expires_in\":0}",
    b"[1,2,3]",
];

/// One random request of the fuzz run.
fn fuzz_request(rng: &mut Rng, auths: &[Option<String>]) -> axum::http::Request<axum::body::Body> {
    let methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"];
    let ranges = [
        "bytes=0-",
        "bytes=5-2",
        "bytes=-0",
        "bytes=99999999999999999999-",
        "x",
    ];
    let mut path = String::new();
    for _ in 0..1 + rng.next() % 7 {
        path.push('/');
        let segment: &&str = rng.pick(FUZZ_SEGMENTS);
        path.push_str(segment);
    }
    if rng.next().is_multiple_of(5) {
        path.push_str("?recursive=true&cursor=x&create_pr=1&include_prs=1&p=1&author=unidive&search=bert&blobs=1");
    }
    let mut req = axum::http::Request::builder()
        .method(*rng.pick(&methods))
        .header("host", "127.0.0.1:1");
    if let Some(a) = rng.pick(auths) {
        req = req.header("authorization", a.as_str());
    }
    if rng.next().is_multiple_of(4) {
        req = req.header("range", *rng.pick(&ranges));
    }
    if rng.next().is_multiple_of(3) {
        req = req.header("origin", "http://example.com");
    }
    let body = rng.pick(FUZZ_BODIES).to_vec();
    // A path the `http` crate refuses is a client-side error, not a request: send `/` instead.
    let uri = if path.parse::<axum::http::Uri>().is_ok() {
        path
    } else {
        "/".to_string()
    };
    req.uri(uri)
        .body(axum::body::Body::from(body))
        .expect("request")
}

#[test]
fn fuzz_random_requests_never_5xx() {
    use mdbook_hubcheck::hub::world::{Fault, FaultStatus};
    use mdbook_hubcheck::hub::{HubState, router};
    use tower::ServiceExt;

    const REQUESTS: u32 = 100_000;
    let state = HubState::new(crate::prelude::unidive_world());
    let app = router(state.clone());
    let token = |kind| {
        state
            .read()
            .seeded_token(kind)
            .map(|t| t.value.clone())
            .unwrap()
    };
    let auths = [
        None,
        Some(format!("Bearer {}", token(TokenKind::Write))),
        Some(format!("Bearer {}", token(TokenKind::Read))),
        Some(format!("Bearer {}", token(TokenKind::FineGrained))),
        Some("Bearer".to_string()),
        Some("Basic x".to_string()),
        Some(format!("Bearer {}", MockHub::invalid_token())),
    ];
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut rng = Rng(0x00C0_FFEE);
    let (mut asked, mut faulted) = (0u32, 0u32);
    runtime.block_on(async {
        for i in 0..REQUESTS {
            // Every 5 000 requests, ask for a few faults on a busy prefix (item 8 of the brief):
            // those, and only those, may be 5xx or 429.
            if i % 5_000 == 0 {
                let count = 1 + (i / 5_000) % 3;
                let status = if i % 10_000 == 0 {
                    FaultStatus::Unavailable
                } else {
                    FaultStatus::TooManyRequests
                };
                state
                    .add_fault(Fault {
                        path_prefix: "/api".into(),
                        method: None,
                        status,
                        remaining: count,
                        retry_after: Some(1),
                    })
                    .unwrap();
                asked += count;
            }
            let pending: u32 = state.faults().iter().map(|f| f.remaining).sum();
            let req = fuzz_request(&mut rng, &auths);
            let label = format!("#{i} {} {}", req.method(), req.uri());
            let admin = req.uri().path().starts_with("/__mock");
            let resp = app
                .clone()
                .oneshot(req)
                .await
                .unwrap_or_else(|e| panic!("{label}: {e}"));
            let status = resp.status();
            let body = http_body_util::BodyExt::collect(resp.into_body()).await;
            assert!(body.is_ok(), "{label}: body failed");
            let now: u32 = state.faults().iter().map(|f| f.remaining).sum();
            if now < pending && !admin {
                assert!(
                    status == 429 || status == 503,
                    "{label}: a fault was used but answered {status}"
                );
                faulted += 1;
            } else {
                assert!(
                    !status.is_server_error() && status != 429,
                    "{label}: {status}"
                );
            }
        }
    });
    // A reset from the fuzz run clears pending faults; every fault that was used was answered.
    assert!(faulted > 0 && faulted <= asked, "{faulted} of {asked}");
    // The state is still healthy over a real socket too.
    let hub = Hub::start();
    assert_eq!(
        hub.get("/api/whoami-v2", Some(&hub.token(TokenKind::Write)))
            .status(),
        200
    );
}
