//! The live widgets in a real browser: headless Chromium driven over WebDriver (thirtyfour), with
//! the book built against an in-process mock Hub and served on loopback with a strict
//! Content-Security-Policy. Assertions are on the text a student sees.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). Each test gets a
//! fresh browsing context in one of the test binary's two Chromium sessions (`browser.rs`).
//! Screenshots of the main states are written to `<target>/hubcheck/screenshots/`.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use mdbook_hubcheck::commands::build::{BuildOptions, build};
use mdbook_hubcheck::commands::serve::router as book_router;
use mdbook_hubcheck::hub::world::User;
use mdbook_hubcheck::hub::{MockHub, NewToken, TokenKind};
use mdbook_hubcheck::report::{Report, ReportResult, Status};
use mdbook_hubcheck::server::BackgroundServer;
use mdbook_hubcheck::snippets::scan;
use serde_json::Value;
use thirtyfour::prelude::*;

use crate::browser::{free_port, screenshot_dir, with_browser};
use crate::prelude::*;

/// The policy the book is served with: no inline scripts, no inline styles.
const CSP: &str = "script-src 'self'; style-src 'self'";
/// A display name that would run script if it were ever treated as HTML.
const XSS: &str = "<img src=x onerror=alert(1)>";

/// Which Hub the book's token checker talks to.
enum Hub {
    /// The seeded mock Hub.
    Mock,
    /// A loopback port where nothing listens.
    Closed,
    /// A stub that answers every whoami with 429.
    RateLimited,
}

/// A built book served on loopback, and the Hub it points at.
struct Site {
    hub: Option<MockHub>,
    _stub: Option<BackgroundServer>,
    server: BackgroundServer,
    _book: BookFixture,
}

impl Site {
    fn new(hub_kind: Hub) -> Site {
        let book = BookFixture::copy("token-checker-book");
        write_report(book.root());
        let (hub, stub, endpoint) = match hub_kind {
            Hub::Mock => {
                let hub = crate::prelude::unidive_hub();
                let url = hub.url().to_string();
                (Some(hub), None, url)
            }
            Hub::Closed => (None, None, format!("http://127.0.0.1:{}", free_port())),
            Hub::RateLimited => {
                let stub = BackgroundServer::start(rate_limited_app()).expect("stub starts");
                let url = stub.url().to_string();
                (None, Some(stub), url)
            }
        };
        let out = build(&BuildOptions {
            book: book.root().to_path_buf(),
            dest: Some(book.root().join("out")),
            hub_endpoint: Some(endpoint),
        })
        .expect("the fixture book builds");
        let server =
            BackgroundServer::start(book_router(&out, Some(CSP))).expect("book server starts");
        Site {
            hub,
            _stub: stub,
            server,
            _book: book,
        }
    }

    fn page(&self, name: &str) -> String {
        format!("{}/{name}", self.server.url())
    }

    fn hub(&self) -> &MockHub {
        self.hub.as_ref().expect("this site has a mock Hub")
    }
}

/// A harness report for the fixture: the Python block verified, the shell block failing.
pub fn write_report(root: &Path) {
    let text = fs::read_to_string(root.join("src/read.md")).unwrap();
    let blocks = scan(&text).unwrap().blocks;
    let results = blocks
        .iter()
        .enumerate()
        .map(|(index, b)| ReportResult {
            file: "src/read.md".into(),
            line: b.line,
            chapter: None,
            index,
            language: b.language(),
            id: format!("read-{index}"),
            scenario: "valid-token".into(),
            status: if index == 0 {
                Status::Passed
            } else {
                Status::Failed
            },
            duration_ms: 10,
            hash: b.hash(),
            message: None,
            run_at: "2026-11-29T10:00:00Z".into(),
            clients: Default::default(),
        })
        .collect();
    let report = Report {
        version: 1,
        generated_at: "2026-11-29T10:00:00Z".into(),
        hub: "mock".into(),
        isolation: None,
        addresses: None,
        clients: [("python", "3.11.7"), ("huggingface_hub", "2.4.0")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        results,
    };
    let path = root.join("target/hubcheck/report.json");
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, serde_json::to_string_pretty(&report).unwrap()).unwrap();
}

/// A Hub stand-in that answers `/api/whoami-v2` with 429 (the mock Hub has no rate limit).
fn rate_limited_app() -> axum::Router {
    use axum::http::StatusCode;
    use tower_http::cors::{AllowHeaders, Any, CorsLayer};
    axum::Router::new()
        .route(
            "/api/whoami-v2",
            axum::routing::get(|| async {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    "{\"error\":\"You've hit the rate limit for the /whoami-v2 endpoint\"}",
                )
            }),
        )
        .layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_headers(AllowHeaders::mirror_request()),
        )
}

/// The first token checker on the page, once its script has built it.
pub async fn widget(driver: &WebDriver) -> WebElement {
    driver
        .query(By::Css(".hubcheck-token-check.hubcheck-ready"))
        .first()
        .await
        .expect("the token checker is built by its script")
}

/// Types `token` into the checker of `url`, presses `button`, and returns the settled result's
/// state and visible text.
async fn check(driver: &WebDriver, url: &str, token: &str, button: &str) -> (String, String) {
    driver.goto(url).await.unwrap();
    type_and_press(driver, token, button).await
}

/// Types `token` into the page's first token checker, presses `button` and waits for the
/// answer: (the state shown, the text).
pub async fn type_and_press(driver: &WebDriver, token: &str, button: &str) -> (String, String) {
    let w = widget(driver).await;
    let input = w.find(By::Css("input.hubcheck-input")).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(token).await.unwrap();
    w.find(By::Css(button))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    settled(&w).await
}

/// Waits until the result region leaves the idle and checking states.
pub async fn settled(w: &WebElement) -> (String, String) {
    let result = w.find(By::Css(".hubcheck-result")).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let state = result.attr("data-state").await.unwrap().unwrap_or_default();
        if state != "idle" && state != "checking" {
            return (state, result.text().await.unwrap());
        }
        assert!(Instant::now() < deadline, "the check never settled");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Asks `look` again and again (every 20 ms, for at most 10 s) until `done` holds for its answer;
/// returns the last answer, for the caller to assert on. For what the page does in its own time.
pub async fn eventually<T, Fut>(mut look: impl FnMut() -> Fut, done: impl Fn(&T) -> bool) -> T
where
    Fut: std::future::Future<Output = T>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let answer = look().await;
        if done(&answer) || Instant::now() > deadline {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

const LIVE: &str = "button.hubcheck-live";
const OFFLINE: &str = "button.hubcheck-offline";

async fn screenshot(w: &WebElement, name: &str) {
    let png = w.screenshot_as_png().await.unwrap();
    fs::write(screenshot_dir().join(name), png).unwrap();
}

/// What the page kept and fetched: storage, cookies, URL and every resource it loaded.
async fn page_traces(driver: &WebDriver) -> Value {
    driver
        .execute(
            r#"
            const dump = (s) => Object.keys(s).map((k) => k + "=" + s.getItem(k));
            return {
              local: dump(localStorage),
              session: dump(sessionStorage),
              cookie: document.cookie,
              url: location.href,
              resources: performance.getEntriesByType("resource").map((e) => e.name),
            };"#,
            vec![],
        )
        .await
        .unwrap()
        .json()
        .clone()
}

/// The token was kept nowhere, and the page talked to loopback only.
async fn assert_nothing_kept(driver: &WebDriver, token: &str) {
    let traces = page_traces(driver).await;
    let text = traces.to_string();
    let core = token.trim();
    assert!(!text.contains(core), "the token is in {text}");
    for cookie in driver.get_all_cookies().await.unwrap() {
        assert!(!cookie.value.contains(core), "a cookie holds the token");
    }
    let resources = traces["resources"].as_array().unwrap();
    assert!(!resources.is_empty(), "{text}");
    for url in resources {
        let url = url.as_str().unwrap();
        assert!(
            url.starts_with("http://127.0.0.1:"),
            "the page fetched from another host: {url}"
        );
    }
}

/// Every request the mock Hub saw was the token checker's whoami (or its CORS preflight).
fn assert_hub_saw_only_whoami(hub: &MockHub, expected_gets: usize) {
    let log = hub.request_log();
    for entry in &log {
        assert_eq!(entry.path, "/api/whoami-v2", "{log:?}");
        assert!(
            entry.method == "GET" || entry.method == "OPTIONS",
            "{log:?}"
        );
    }
    let gets = log.iter().filter(|e| e.method == "GET").count();
    assert_eq!(gets, expected_gets, "{log:?}");
}

#[test]
fn valid_read_token_on_a_read_page_shows_account_token_and_role() {
    let site = Site::new(Hub::Mock);
    let token = site.hub().token(TokenKind::Read);
    let url = site.page("read.html");
    let site = std::sync::Arc::new(site);
    let shared = site.clone();
    with_browser(move |driver| async move {
        let (state, text) = check(&driver, &url, &token, LIVE).await;
        assert_eq!(state, "valid", "{text}");
        assert!(text.contains("The token is valid."), "{text}");
        assert!(text.contains("Account"), "{text}");
        assert!(text.contains("unidive-student"), "{text}");
        assert!(text.contains("Role\nread"), "{text}");
        assert!(text.contains("this is a read token"), "{text}");
        let w = widget(&driver).await;
        screenshot(&w, "valid-read.png").await;
        // The whole chapter: checker, badges and code, as docs/token-checker.png shows it.
        let main = driver.find(By::Css("main")).await.unwrap();
        screenshot(&main, "page-read.png").await;

        // Same token again within a minute: the last answer is reused, the Hub is not asked.
        w.find(By::Css(LIVE)).await.unwrap().click().await.unwrap();
        let w = &w;
        let (_, again) = eventually(
            move || settled(w),
            |(_, text): &(String, String)| text.contains("seconds ago"),
        )
        .await;
        assert!(again.contains("seconds ago"), "{again}");
        assert_hub_saw_only_whoami(shared.hub(), 1);

        // The field can be cleared, and nothing of the token stays behind.
        w.find(By::Css("button.hubcheck-clear"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let input = w.find(By::Css("input.hubcheck-input")).await.unwrap();
        assert_eq!(input.prop("value").await.unwrap().unwrap_or_default(), "");
        assert_eq!(
            input.attr("type").await.unwrap().as_deref(),
            Some("password")
        );
        assert_nothing_kept(&driver, &token).await;
    });
}

#[test]
fn write_token_on_a_read_page_gets_a_least_privilege_note() {
    let site = Site::new(Hub::Mock);
    let token = site.hub().token(TokenKind::Write);
    let url = site.page("read.html");
    with_browser(move |driver| async move {
        let (state, text) = check(&driver, &url, &token, LIVE).await;
        assert_eq!(state, "note", "{text}");
        assert!(text.contains("Role\nwrite"), "{text}");
        assert!(text.contains("least privilege"), "{text}");
        assert!(text.contains("change and delete"), "{text}");
        screenshot(&widget(&driver).await, "write-on-read-page.png").await;
        assert_nothing_kept(&driver, &token).await;
    });
    drop(site);
}

#[test]
fn read_token_on_a_write_page_is_told_why_uploads_fail() {
    let site = Site::new(Hub::Mock);
    let token = site.hub().token(TokenKind::Read);
    let url = site.page("write.html");
    with_browser(move |driver| async move {
        let (state, text) = check(&driver, &url, &token, LIVE).await;
        assert_eq!(state, "mismatch", "{text}");
        assert!(text.contains("does not fit this page"), "{text}");
        assert!(text.contains("403 Forbidden"), "{text}");
        assert!(text.contains("write token"), "{text}");
        screenshot(&widget(&driver).await, "read-on-write-page.png").await;
        assert_nothing_kept(&driver, &token).await;
    });
    drop(site);
}

#[test]
fn the_checker_lists_which_of_a_pages_needs_the_token_meets() {
    let site = Site::new(Hub::Mock);
    let hub = site.hub();
    // The world's fine-grained token: neither box ticked.
    let bare = hub.token(TokenKind::FineGrained);
    let student = hub.state().read().student.clone();
    let ticked = hub
        .state()
        .add_token(NewToken {
            display_name: "gated-and-inference".into(),
            user: student.clone(),
            role: Some("fineGrained".into()),
            // As the Hub's token page makes it: a permission of the token's own user.
            scope: mdbook_hubcheck::hub::world::FineGrainedScope {
                can_read_gated_repos: true,
                global: Vec::new(),
                scoped: vec![mdbook_hubcheck::hub::world::ScopedPermission {
                    kind: "user".into(),
                    name: student.clone(),
                    permissions: vec!["inference.serverless.write".into()],
                }],
            },
            ..NewToken::default()
        })
        .unwrap()
        .value;
    let read = hub.token(TokenKind::Read);
    let url = site.page("needs.html");
    with_browser(move |driver| async move {
        let (state, text) = check(&driver, &url, &bare, LIVE).await;
        assert_eq!(state, "mismatch", "{text}");
        assert!(text.contains("What this page needs"), "{text}");
        // It names one repository for reading: only that one passes a gate.
        assert!(
            text.contains("Only partly: download gated models")
                && text.contains("only the repositories it names: unidive/tiny-bert-private"),
            "{text}"
        );
        assert!(
            text.contains("Read access to contents of all public gated repos you can access"),
            "{text}"
        );
        assert!(text.contains("No: call Inference Providers"), "{text}");
        assert!(text.contains("Make calls to Inference Providers"), "{text}");
        screenshot(&widget(&driver).await, "needs-fine-grained-bare.png").await;

        let (state, text) = type_and_press(&driver, &ticked, LIVE).await;
        assert_eq!(state, "valid", "{text}");
        assert!(text.contains("Yes: download gated models"), "{text}");
        assert!(text.contains("Yes: call Inference Providers"), "{text}");
        assert!(!text.contains("No: "), "{text}");

        let (_, text) = type_and_press(&driver, &read, LIVE).await;
        assert!(text.contains("Yes: download gated models"), "{text}");
        assert!(text.contains("Yes: call Inference Providers"), "{text}");
        assert_nothing_kept(&driver, &read).await;
    });
    drop(site);
}

#[test]
fn invalid_and_expired_tokens_get_the_same_401_explanation() {
    let site = Site::new(Hub::Mock);
    let invalid = MockHub::invalid_token();
    let expired = site.hub().token(TokenKind::Expired);
    let revoked = site.hub().token(TokenKind::Revoked);
    let url = site.page("read.html");
    let site = std::sync::Arc::new(site);
    let shared = site.clone();
    with_browser(move |driver| async move {
        for (name, token) in [
            ("invalid", &invalid),
            ("expired", &expired),
            ("revoked", &revoked),
        ] {
            let (state, text) = check(&driver, &url, token, LIVE).await;
            assert_eq!(state, "invalid", "{name}: {text}");
            assert!(
                text.contains("did not accept this token (401)"),
                "{name}: {text}"
            );
            assert!(
                text.contains("wrong, expired, or revoked"),
                "{name}: {text}"
            );
            assert!(text.contains("cannot tell which"), "{name}: {text}");
            if name == "expired" {
                screenshot(&widget(&driver).await, "expired.png").await;
            }
            assert_nothing_kept(&driver, token).await;
        }
        assert_hub_saw_only_whoami(shared.hub(), 3);
    });
}

#[test]
fn spaces_quotes_and_line_breaks_are_caught_before_the_hub_is_asked() {
    let site = Site::new(Hub::Mock);
    let token = site.hub().token(TokenKind::Read);
    let url = site.page("read.html");
    let site = std::sync::Arc::new(site);
    let shared = site.clone();
    with_browser(move |driver| async move {
        let (state, text) = check(&driver, &url, &format!(" {token}"), LIVE).await;
        assert_eq!(state, "problems", "{text}");
        assert!(text.contains("There is a space at the start"), "{text}");
        assert!(text.contains("The Hub was not asked"), "{text}");
        screenshot(&widget(&driver).await, "leading-space.png").await;

        let (_, text) = check(&driver, &url, &format!("{token}  "), OFFLINE).await;
        assert!(text.contains("There is a space at the end"), "{text}");

        let (_, text) = check(&driver, &url, &format!("\"{token}\""), OFFLINE).await;
        assert!(text.contains("quote marks"), "{text}");

        let (_, text) = check(&driver, &url, "hf_abc", OFFLINE).await;
        assert!(text.contains("too short"), "{text}");

        let (_, text) = check(
            &driver,
            &url,
            "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789",
            OFFLINE,
        )
        .await;
        assert!(text.contains("starts with hf_"), "{text}");

        // A paste that ended with a line break: the field drops it, the student is told why it matters.
        driver.goto(&url).await.unwrap();
        let w = widget(&driver).await;
        let input = w.find(By::Css("input.hubcheck-input")).await.unwrap();
        input.send_keys(token.as_str()).await.unwrap();
        driver
            .execute(
                r#"const dt = new DataTransfer(); dt.setData("text/plain", "x\n");
                   arguments[0].dispatchEvent(new ClipboardEvent("paste", {clipboardData: dt}));"#,
                vec![input.to_json().unwrap()],
            )
            .await
            .unwrap();
        input.send_keys(Key::Enter).await.unwrap();
        let (state, text) = settled(&w).await;
        assert_eq!(state, "format-ok", "{text}");
        assert!(text.contains("line break"), "{text}");

        assert_nothing_kept(&driver, &token).await;
        assert_hub_saw_only_whoami(shared.hub(), 0);
    });
}

#[test]
fn the_books_placeholder_pasted_unchanged_is_recognised() {
    let site = Site::new(Hub::Mock);
    let url = site.page("read.html");
    let site = std::sync::Arc::new(site);
    let shared = site.clone();
    with_browser(move |driver| async move {
        // Enter in the field runs the offline checks.
        driver.goto(&url).await.unwrap();
        let w = widget(&driver).await;
        let input = w.find(By::Css("input.hubcheck-input")).await.unwrap();
        input.send_keys("hf_your_token_here").await.unwrap();
        input.send_keys(Key::Enter).await.unwrap();
        let (state, text) = settled(&w).await;
        assert_eq!(state, "problems", "{text}");
        assert!(text.contains("example text from the handbook"), "{text}");
        assert!(text.contains("Access Tokens"), "{text}");
        screenshot(&w, "placeholder.png").await;
        let (_, live) = type_and_press(&driver, "hf_your_token_here", LIVE).await;
        assert!(live.contains("The Hub was not asked"), "{live}");
        assert_hub_saw_only_whoami(shared.hub(), 0);
    });
}

#[test]
fn hub_down_is_reported_as_unreachable() {
    let site = Site::new(Hub::Closed);
    let token = MockHub::invalid_token();
    let url = site.page("read.html");
    with_browser(move |driver| async move {
        let (state, text) = check(&driver, &url, &token, LIVE).await;
        assert_eq!(state, "unreachable", "{text}");
        assert!(text.contains("could not be reached"), "{text}");
        assert!(text.contains("says nothing about your token"), "{text}");
        screenshot(&widget(&driver).await, "hub-down.png").await;
    });
    drop(site);
}

#[test]
fn rate_limit_is_reported_as_such() {
    let site = Site::new(Hub::RateLimited);
    let token = MockHub::invalid_token();
    let url = site.page("read.html");
    with_browser(move |driver| async move {
        let (state, text) = check(&driver, &url, &token, LIVE).await;
        assert_eq!(state, "rate-limited", "{text}");
        assert!(text.contains("too many checks (429)"), "{text}");
    });
    drop(site);
}

#[test]
fn hub_text_is_shown_as_text_and_never_runs() {
    let site = Site::new(Hub::Mock);
    let state = site.hub().state();
    state
        .add_user(User {
            name: "xss-student".into(),
            fullname: XSS.into(),
            email: "xss@example.org".into(),
            ..User::default()
        })
        .unwrap();
    let token = state
        .add_token(NewToken {
            display_name: XSS.into(),
            user: "xss-student".into(),
            role: Some("read".into()),
            ..NewToken::default()
        })
        .unwrap()
        .value;
    let url = site.page("read.html");
    with_browser(move |driver| async move {
        let (state, text) = check(&driver, &url, &token, LIVE).await;
        assert_eq!(state, "valid", "{text}");
        assert!(text.contains(&format!("xss-student ({XSS})")), "{text}");
        assert!(text.contains(&format!("Token name\n{XSS}")), "{text}");
        assert!(
            driver.get_alert_text().await.is_err(),
            "an alert dialog opened"
        );
        let images = driver
            .execute("return document.querySelectorAll('img').length;", vec![])
            .await
            .unwrap()
            .json()
            .clone();
        assert_eq!(images, Value::from(0));
        screenshot(&widget(&driver).await, "html-in-display-name.png").await;
        assert_nothing_kept(&driver, &token).await;
    });
    drop(site);
}

#[test]
fn print_page_loads_the_script_and_its_checkers_work() {
    let site = Site::new(Hub::Mock);
    let token = site.hub().token(TokenKind::Write);
    let url = site.page("print.html");
    let site = std::sync::Arc::new(site);
    let shared = site.clone();
    with_browser(move |driver| async move {
        driver.goto(&url).await.unwrap();
        let ready = driver
            .query(By::Css(".hubcheck-token-check.hubcheck-ready"))
            .all_from_selector_required()
            .await
            .unwrap();
        assert_eq!(ready.len(), 3, "every chapter's checker is built");
        // Their fields have distinct ids, so each label points at its own field.
        let ids: Vec<_> = {
            let mut ids = Vec::new();
            for w in &ready {
                let input = w.find(By::Css("input")).await.unwrap();
                ids.push(input.id().await.unwrap().unwrap_or_default());
            }
            ids
        };
        assert_ne!(ids[0], ids[1]);
        // The second one is the write page's.
        let input = ready[1]
            .find(By::Css("input.hubcheck-input"))
            .await
            .unwrap();
        input.send_keys(token.as_str()).await.unwrap();
        ready[1]
            .find(By::Css(LIVE))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let (state, text) = settled(&ready[1]).await;
        assert_eq!(state, "valid", "{text}");
        assert!(text.contains("this is a write token"), "{text}");
        assert_nothing_kept(&driver, &token).await;
        assert_hub_saw_only_whoami(shared.hub(), 1);
    });
}

#[test]
fn checker_and_badges_are_readable_in_every_theme() {
    let site = Site::new(Hub::Mock);
    let token = site.hub().token(TokenKind::Write);
    let url = site.page("read.html");
    with_browser(move |driver| async move {
        let (state, _) = check(&driver, &url, &token, LIVE).await;
        assert_eq!(state, "note");
        let badges = driver.find_all(By::Css(".hubcheck-badge")).await.unwrap();
        assert_eq!(badges.len(), 2);
        assert_eq!(
            badges[0]
                .attr("aria-label")
                .await
                .unwrap()
                .unwrap_or_default(),
            "\u{2713} Verified: tested 2026-11-29 with python 3.11.7, huggingface_hub 2.4.0"
        );
        assert!(
            badges[1]
                .attr("class")
                .await
                .unwrap()
                .unwrap_or_default()
                .contains("failing")
        );
        for theme in ["light", "rust", "coal", "navy", "ayu"] {
            // Switch the theme the way mdBook does: the class of <html>.
            let contrast = driver
                .execute(CONTRAST_JS, vec![Value::from(theme)])
                .await
                .unwrap()
                .json()
                .clone();
            for (what, ratio) in contrast.as_object().unwrap() {
                let ratio = ratio.as_f64().unwrap();
                assert!(ratio >= 4.5, "{theme}: {what} has contrast {ratio:.2}");
            }
            screenshot(&widget(&driver).await, &format!("theme-{theme}.png")).await;
        }
    });
    drop(site);
}

/// Sets the theme class and returns the contrast ratio of the checker's texts and of a badge.
const CONTRAST_JS: &str = r#"
const theme = arguments[0];
const html = document.documentElement;
["light", "rust", "coal", "navy", "ayu"].forEach((t) => html.classList.remove(t));
html.classList.add(theme);
// mdBook's own inline script adds "js" (the CSP blocks it here); without it `html:not(.js)` keeps
// the light colours whatever the theme class.
html.classList.add("js");
const rgb = (c) => (c.match(/[\d.]+/g) || []).slice(0, 4).map(Number);
const lum = (c) => {
  const [r, g, b] = rgb(c).map((v) => v / 255).map((v) => (v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4)));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
const bgOf = (el) => {
  for (let e = el; e; e = e.parentElement) {
    const c = getComputedStyle(e).backgroundColor;
    const parts = rgb(c);
    if (parts.length === 3 || (parts.length === 4 && parts[3] > 0)) return c;
  }
  return "rgb(255, 255, 255)";
};
const ratio = (el, pseudo) => {
  const fg = getComputedStyle(el, pseudo || null).color;
  const [a, b] = [lum(fg), lum(bgOf(el))].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
};
const w = document.querySelector(".hubcheck-token-check");
return {
  intro: ratio(w.querySelector(".hubcheck-intro")),
  input: ratio(w.querySelector("input")),
  button: ratio(w.querySelector("button.hubcheck-offline")),
  primary: ratio(w.querySelector("button.hubcheck-live")),
  result: ratio(w.querySelector(".hubcheck-result p")),
  badge: ratio(document.querySelector(".hubcheck-badge"), "::before"),
};
"#;

/// Builds without a browser: what lands in the output, the source folder and the search index.
#[test]
fn assets_ship_with_the_book_and_stay_out_of_source_and_search() {
    let book = BookFixture::copy("token-checker-book");
    write_report(book.root());
    let before = files_under(&book.root().join("src"));
    let out = build(&BuildOptions {
        book: book.root().to_path_buf(),
        dest: Some(book.root().join("out")),
        hub_endpoint: None,
    })
    .unwrap();
    assert_eq!(
        files_under(&book.root().join("src")),
        before,
        "src/ untouched"
    );
    // mdBook 0.5 adds a content hash to file names (output.html.hash-files).
    let shipped: Vec<String> = files_under(&out.join("target/hubcheck/assets"))
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let script =
        regex::Regex::new(r#"<script src="target/hubcheck/assets/(hubcheck(-[0-9a-f]+)?\.js)""#)
            .unwrap();
    let style =
        regex::Regex::new(r#"href="target/hubcheck/assets/(hubcheck(-[0-9a-f]+)?\.css)""#).unwrap();
    for page in ["read.html", "print.html"] {
        let html = fs::read_to_string(out.join(page)).unwrap();
        let js = script
            .captures(&html)
            .unwrap_or_else(|| panic!("{page} loads no widget script"));
        let css = style
            .captures(&html)
            .unwrap_or_else(|| panic!("{page} loads no widget stylesheet"));
        assert!(shipped.contains(&js[1].to_string()), "{page}: {shipped:?}");
        assert!(shipped.contains(&css[1].to_string()), "{page}: {shipped:?}");
    }
    let read = fs::read_to_string(out.join("read.html")).unwrap();
    assert!(
        read.contains("class=\"hubcheck-badge hubcheck-badge-verified\""),
        "{read}"
    );
    assert!(
        read.contains("class=\"hubcheck-badge hubcheck-badge-failing\""),
        "{read}"
    );

    let index = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("searchindex"))
        })
        .map(|p| fs::read_to_string(p).unwrap())
        .expect("a search index");
    for widget_text in [
        "JavaScript",
        "Verified",
        "Failing",
        "hf auth whoami with",
        "token checker needs",
    ] {
        assert!(
            !index.contains(widget_text),
            "search index holds {widget_text:?}"
        );
    }
    assert!(index.contains("checker"), "chapter text is still indexed");

    // A second build leaves the asset files as they were: date them far back, so any rewrite
    // would give them today's time.
    let modified = std::time::UNIX_EPOCH + Duration::from_secs(1_000_000);
    fs::File::options()
        .write(true)
        .open(book.root().join("target/hubcheck/assets/hubcheck.js"))
        .unwrap()
        .set_modified(modified)
        .unwrap();
    build(&BuildOptions {
        book: book.root().to_path_buf(),
        dest: Some(book.root().join("out")),
        hub_endpoint: None,
    })
    .unwrap();
    assert_eq!(
        fs::metadata(book.root().join("target/hubcheck/assets/hubcheck.js"))
            .unwrap()
            .modified()
            .unwrap(),
        modified
    );
}

/// A stock `mdbook build` without the two book.toml lines still builds, with a warning that names them.
#[test]
fn stock_mdbook_without_the_asset_lines_is_warned() {
    let book = BookFixture::copy("token-checker-book");
    let (input, _) = {
        let md = mdbook_driver::MDBook::load(book.root()).unwrap();
        let ctx = mdbook_preprocessor::PreprocessorContext::new(
            book.root().to_path_buf(),
            md.config.clone(),
            "html".into(),
        );
        (serde_json::to_vec(&(&ctx, &md.book)).unwrap(), ())
    };
    let output = run_binary(&[], &input);
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("additional-js = [\"target/hubcheck/assets/hubcheck.js\"]"),
        "{stderr}"
    );
    assert!(
        book.root()
            .join("target/hubcheck/assets/hubcheck.css")
            .is_file()
    );
}

/// Before any page script: counts `window.print()` calls and records every policy violation.
const WATCH_JS: &str = r#"
window.__printed = 0;
window.print = function () { window.__printed += 1; };
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.effectiveDirective + " " + e.blockedURI);
});
"#;

/// The fixture book with the handbook's "where your token goes" chapter, built against the mock
/// Hub and served with no header of ours: only the policy the build put in each page.
fn guarded_site() -> (BookFixture, MockHub, BackgroundServer) {
    let book = BookFixture::copy("token-checker-book");
    fs::copy(
        repo_root().join("book/where-your-token-goes.md"),
        book.root().join("src/where-your-token-goes.md"),
    )
    .unwrap();
    book.append(
        "src/SUMMARY.md",
        "- [Where your token goes](where-your-token-goes.md)\n",
    );
    // Its links point at chapters of the handbook this fixture does not have.
    let chapter = book.root().join("src/where-your-token-goes.md");
    let text = fs::read_to_string(&chapter).unwrap();
    fs::write(
        &chapter,
        text.replace("(testing-your-token.md)", "(read.md)")
            .replace("(keeping-your-token-safe.md)", "(write.md)"),
    )
    .unwrap();
    let hub = crate::prelude::unidive_hub();
    let out = build(&BuildOptions {
        book: book.root().to_path_buf(),
        dest: Some(book.root().join("out")),
        hub_endpoint: Some(hub.url().to_string()),
    })
    .expect("the fixture book builds");
    let server = BackgroundServer::start(book_router(&out, None)).expect("book server starts");
    (book, hub, server)
}

async fn watch(driver: &WebDriver) {
    driver
        .cdp()
        .send_raw(
            "Page.addScriptToEvaluateOnNewDocument",
            serde_json::json!({ "source": WATCH_JS }),
        )
        .await
        .unwrap();
}

async fn violations(driver: &WebDriver) -> Vec<String> {
    let value = driver
        .execute("return window.__violations || [];", vec![])
        .await
        .unwrap();
    serde_json::from_value(value.json().clone()).unwrap()
}

#[test]
fn the_pages_policy_refuses_other_origins_and_lets_the_checker_reach_the_hub() {
    let (_book, hub, server) = guarded_site();
    // Another origin that would answer (CORS open): only the port differs.
    let elsewhere = crate::prelude::unidive_hub();
    let token = hub.token(TokenKind::Read);
    let (url, elsewhere_url) = (
        format!("{}/read.html", server.url()),
        elsewhere.url().to_string(),
    );
    let hubs = std::sync::Arc::new((hub, elsewhere));
    let shared = hubs.clone();
    with_browser(move |driver| async move {
        watch(&driver).await;
        driver.goto(&url).await.unwrap();
        let w = widget(&driver).await;
        let guard = w.find(By::Css(".hubcheck-guard")).await.unwrap();
        let sentence = guard.text().await.unwrap();
        assert!(
            sentence.contains("Your browser itself blocks this page from sending anything"),
            "{sentence}"
        );
        assert!(sentence.contains("127.0.0.1"), "{sentence}");
        let link = guard.find(By::Css("a")).await.unwrap();
        let href = link.prop("href").await.unwrap().unwrap_or_default();
        assert!(href.ends_with("/where-your-token-goes.html"), "{href}");

        // Any script on the page: the browser refuses to send to another origin.
        let outcome = driver
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                   fetch(arguments[0] + "/api/whoami-v2", { headers: { authorization: "Bearer x" } })
                     .then(() => done("sent"), (e) => done("refused: " + e));"#,
                vec![Value::from(elsewhere_url.clone())],
            )
            .await
            .unwrap();
        let outcome = outcome.json().as_str().unwrap_or_default().to_string();
        assert!(outcome.starts_with("refused"), "{outcome}");
        // An image, the old way round a fetch rule, is refused too.
        driver
            .execute(
                "const i = new Image(); i.src = arguments[0] + '/leak.png?t=x'; document.body.append(i);",
                vec![Value::from(elsewhere_url.clone())],
            )
            .await
            .unwrap();
        // Both refusals are reported as they happen: wait for them, not for a fixed time.
        let page = &driver;
        let seen = eventually(
            move || violations(page),
            |seen: &Vec<String>| {
                ["connect-src", "img-src"]
                    .iter()
                    .all(|rule| seen.iter().any(|v| v.starts_with(rule)))
            },
        )
        .await;
        assert!(
            seen.iter()
                .any(|v| v.starts_with("connect-src") && v.contains(&elsewhere_url)),
            "{seen:?}"
        );
        assert!(seen.iter().any(|v| v.starts_with("img-src")), "{seen:?}");
        assert!(
            shared.1.request_log().is_empty(),
            "the other origin was reached"
        );

        // The token checker still reaches the configured Hub.
        let (state, text) = type_and_press(&driver, &token, LIVE).await;
        assert_eq!(state, "valid", "{text}");
        assert_hub_saw_only_whoami(&shared.0, 1);
        let seen = violations(&driver).await;
        assert_eq!(seen.len(), 2, "only the two refusals above: {seen:?}");
    });
}

#[test]
fn search_theme_switching_and_print_work_under_the_pages_policy() {
    let (_book, _hub, server) = guarded_site();
    let base = server.url().to_string();
    with_browser(move |driver| async move {
        watch(&driver).await;
        driver.goto(format!("{base}/read.html")).await.unwrap();
        // The sidebar and theme set-up are inline scripts: they ran.
        let inline = driver
            .execute("return typeof path_to_root === 'string';", vec![])
            .await
            .unwrap();
        assert_eq!(inline.json(), &Value::Bool(true));

        // Search: the index loads and finds a chapter.
        driver
            .find(By::Id("mdbook-search-toggle"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let bar = driver.find(By::Id("mdbook-searchbar")).await.unwrap();
        bar.send_keys("upload").await.unwrap();
        let results = driver
            .query(By::Css("#mdbook-searchresults li"))
            .first()
            .await
            .expect("search shows results");
        assert!(
            results
                .text()
                .await
                .unwrap()
                .to_lowercase()
                .contains("upload")
        );

        // Theme switching, through mdBook's own menu.
        driver
            .find(By::Id("mdbook-theme-toggle"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        driver
            .find(By::Id("mdbook-theme-navy"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let class = driver
            .execute("return document.documentElement.className;", vec![])
            .await
            .unwrap();
        assert!(class.json().as_str().unwrap().contains("navy"), "{class:?}");
        assert!(
            violations(&driver).await.is_empty(),
            "{:?}",
            violations(&driver).await
        );

        // Print: the page with every chapter asks the browser to print.
        driver.goto(format!("{base}/print.html")).await.unwrap();
        let page = &driver;
        let printed = eventually(
            move || async move {
                let printed = page.execute("return window.__printed;", vec![]).await;
                printed.unwrap().json().as_u64()
            },
            |printed| *printed == Some(1),
        )
        .await;
        assert_eq!(printed, Some(1), "print.html never called print()");
        let checkers = driver
            .find_all(By::Css(".hubcheck-token-check.hubcheck-ready"))
            .await
            .unwrap();
        assert_eq!(checkers.len(), 3, "the three chapters' checkers");
        assert!(
            violations(&driver).await.is_empty(),
            "{:?}",
            violations(&driver).await
        );
    });
}

#[test]
fn the_handbooks_print_page_holds_every_chapter_with_its_diagrams_and_working_checkers() {
    let dir = handbook_copy();
    let hub = crate::prelude::unidive_hub();
    let out = build(&BuildOptions {
        book: dir.path().to_path_buf(),
        dest: Some(dir.path().join("out")),
        hub_endpoint: Some(hub.url().to_string()),
    })
    .expect("the handbook builds");
    let server = BackgroundServer::start(book_router(&out, Some(CSP))).expect("book server starts");
    let src = dir.path().join("book");
    let summary = fs::read_to_string(src.join("SUMMARY.md")).unwrap();
    let link = regex::Regex::new(r"\]\(([^)]+\.md)\)").unwrap();
    // Each chapter's title as the page shows it (inline code loses its backticks).
    let titles: Vec<String> = link
        .captures_iter(&summary)
        .filter_map(|c| {
            let text = fs::read_to_string(src.join(&c[1])).unwrap();
            let title = text.lines().find_map(|l| l.strip_prefix("# "))?;
            Some(title.replace('`', ""))
        })
        .collect();
    assert!(titles.len() > 15, "{titles:?}");
    let diagram_ids: Vec<String> = fs::read_dir(src.join("images"))
        .unwrap()
        .filter_map(|e| fs::read_to_string(e.unwrap().path()).ok())
        .flat_map(|svg| {
            regex::Regex::new(r#"<title id="([^"]+)""#)
                .unwrap()
                .captures_iter(&svg)
                .map(|c| c[1].to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(diagram_ids.len() >= 2, "{diagram_ids:?}");
    let url = format!("{}/print.html", server.url());
    with_browser(move |driver| async move {
        driver.goto(&url).await.unwrap();
        let found = driver
            .execute(
                r#"
                const checkers = document.querySelectorAll(".hubcheck-token-check");
                return {
                  headings: Array.from(document.querySelectorAll("main h1")).map((h) => h.textContent.trim()),
                  ids: Array.from(document.querySelectorAll("svg title[id]")).map((t) => t.id),
                  checkers: checkers.length,
                  ready: document.querySelectorAll(".hubcheck-token-check.hubcheck-ready").length,
                  failed: performance.getEntriesByType("resource")
                    .filter((e) => e.responseStatus >= 400)
                    .map((e) => e.name + " " + e.responseStatus),
                };"#,
                vec![],
            )
            .await
            .unwrap()
            .json()
            .clone();
        let headings: Vec<&str> = found["headings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h.as_str().unwrap())
            .collect();
        for title in &titles {
            assert!(
                headings.contains(&title.as_str()),
                "no chapter {title:?} in print.html: {headings:?}"
            );
        }
        for id in &diagram_ids {
            assert!(
                found["ids"].as_array().unwrap().iter().any(|i| i == id),
                "diagram {id} missing: {found}"
            );
        }
        assert!(found["checkers"].as_u64().unwrap() >= 2, "{found}");
        assert_eq!(
            found["checkers"], found["ready"],
            "every checker is built: {found}"
        );
        assert!(found["failed"].as_array().unwrap().is_empty(), "{found}");
    });
    drop(server);
    drop(hub);
}
