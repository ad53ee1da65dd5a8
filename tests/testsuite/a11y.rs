//! Accessibility of the built handbook, for a reader who navigates by keyboard or screen reader.
//!
//! axe-core (vendored, `tests/vendor/axe-core/`, version in its README) runs in headless Chromium
//! on every page of the built handbook, in the light and the navy theme (the book's
//! `default-theme` and `preferred-dark-theme`), and must find nothing of impact serious or
//! critical. The theme is chosen as a reader's choice is kept: `mdbook-theme` in localStorage,
//! which mdBook's own script reads on every page. The book is served with no header of ours, so
//! each page carries only the policy the build put in it, and mdBook's inline scripts run as they
//! do for readers. axe is not a script of the page: WebDriver's execute runs it whatever the page's
//! Content-Security-Policy says.
//!
//! `toc.html`, the sidebar mdBook frames in when JavaScript is off, is checked in the default
//! theme only, the one it always has.
//!
//! The window is 1280 pixels wide, so mdBook shows the sidebar and axe checks it too.
//! What was found and fixed: docs/accessibility.md.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use mdbook_hubcheck::commands::build::{BuildOptions, build};
use mdbook_hubcheck::commands::serve::router as book_router;
use mdbook_hubcheck::hub::TokenKind;
use mdbook_hubcheck::server::BackgroundServer;
use serde_json::Value;
use thirtyfour::common::command::FormatRequestData;
use thirtyfour::common::requestdata::RequestData;
use thirtyfour::prelude::*;

use crate::browser::with_browser;
use crate::prelude::*;
use crate::widgets::{eventually, settled, type_and_press, widget};

/// The two themes every page is checked in: the book's `default-theme` and its
/// `preferred-dark-theme`.
const THEMES: [&str; 2] = ["light", "navy"];

/// The impacts that fail the test (axe's scale: minor, moderate, serious, critical).
const FAILING_IMPACTS: [&str; 2] = ["serious", "critical"];

/// The sidebar that mdBook frames in for readers without JavaScript: it has no theme script (with
/// JavaScript off every page keeps the default theme), so it is checked in that theme only.
const NO_SCRIPT_PAGE: &str = "toc.html";

/// How many selectors of a rule's nodes a failure names.
const TARGETS_SHOWN: usize = 3;

/// Runs axe on the page and calls back with the serious and critical violations:
/// `[{rule, impact, help, nodes, targets}]`, or `{error}`.
const RUN_AXE_JS: &str = r#"
const done = arguments[arguments.length - 1];
const impacts = arguments[0];
axe.run(document, { resultTypes: ["violations"] }).then(
  (result) => done(result.violations
    .map((v) => ({ v, nodes: v.nodes.filter((n) => impacts.includes(n.impact)) }))
    .filter(({ nodes }) => nodes.length > 0)
    .map(({ v, nodes }) => ({
      rule: v.id,
      impact: v.impact,
      help: v.help,
      nodes: nodes.length,
      targets: nodes.map((n) => n.target.join(" ")),
    }))),
  (e) => done({ error: String(e) }),
);
"#;

/// One axe rule that failed on one page in one theme.
#[derive(Debug)]
struct Finding {
    page: String,
    theme: &'static str,
    rule: String,
    impact: String,
    help: String,
    targets: Vec<String>,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown: Vec<&str> = self
            .targets
            .iter()
            .take(TARGETS_SHOWN)
            .map(String::as_str)
            .collect();
        let more = self.targets.len().saturating_sub(TARGETS_SHOWN);
        write!(
            f,
            "{} [{}] {} ({}, {} node(s): {}): {}{}",
            self.page,
            self.theme,
            self.rule,
            self.impact,
            self.targets.len(),
            self.help,
            shown.join(" | "),
            if more > 0 {
                format!(" | and {more} more")
            } else {
                String::new()
            }
        )
    }
}

/// The vendored axe-core script.
fn axe_source() -> String {
    let path = repo_root().join("tests/vendor/axe-core/axe.min.js");
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every html page of the built book, as paths relative to `out` (`using/python.html`).
fn pages(out: &Path) -> Vec<String> {
    let mut pages: Vec<String> = files_under(out)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .map(|p| {
            p.strip_prefix(out)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    pages.sort();
    pages
}

/// Builds the book at `root` into `root/out` (its token checkers pointed at `hub_endpoint`) and
/// serves it with no header of ours; returns its pages and the server.
fn serve(root: &Path, hub_endpoint: Option<String>) -> (Vec<String>, BackgroundServer) {
    let out = build(&BuildOptions {
        book: root.to_path_buf(),
        dest: Some(root.join("out")),
        hub_endpoint,
    })
    .unwrap_or_else(|e| panic!("{} builds: {e}", root.display()));
    let server = BackgroundServer::start(book_router(&out, None)).expect("book server starts");
    (pages(&out), server)
}

/// The class of `<html>`, where mdBook puts the theme.
async fn html_class(driver: &WebDriver) -> String {
    driver
        .execute("return document.documentElement.className;", vec![])
        .await
        .unwrap()
        .json()
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Runs axe on the page as it is now (injecting it first if this page has not got it) and returns
/// what it found of serious or critical impact.
async fn findings_here(
    driver: &WebDriver,
    axe: &str,
    page: &str,
    theme: &'static str,
) -> Vec<Finding> {
    let loaded = driver
        .execute("return typeof axe === 'object';", vec![])
        .await
        .unwrap();
    if loaded.json() != &Value::Bool(true) {
        driver.execute(axe, vec![]).await.unwrap();
    }
    let found = driver
        .execute_async(RUN_AXE_JS, vec![serde_json::json!(FAILING_IMPACTS)])
        .await
        .unwrap()
        .json()
        .clone();
    if let Some(error) = found.get("error") {
        panic!("{page} [{theme}]: axe failed: {error}");
    }
    found
        .as_array()
        .expect("axe's violations")
        .iter()
        .map(|v| Finding {
            page: page.to_string(),
            theme,
            rule: v["rule"].as_str().unwrap().to_string(),
            impact: v["impact"].as_str().unwrap_or_default().to_string(),
            help: v["help"].as_str().unwrap_or_default().to_string(),
            targets: v["targets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_string())
                .collect(),
        })
        .collect()
}

/// Makes `theme` the reader's choice, as mdBook's theme menu does (localStorage, read by every
/// page's own script), for the site the browser is on.
async fn choose_theme(driver: &WebDriver, theme: &str) {
    driver
        .execute(
            "localStorage.setItem('mdbook-theme', arguments[0]);",
            vec![Value::from(theme)],
        )
        .await
        .unwrap();
}

/// Loads `url` and fails unless the page took `theme`.
async fn open_in_theme(driver: &WebDriver, url: &str, page: &str, theme: &str) {
    driver.goto(url).await.unwrap();
    let class = html_class(driver).await;
    assert!(
        class.split_whitespace().any(|c| c == theme),
        "{page}: the page did not take the {theme} theme (class {class:?})"
    );
}

/// Every page of the site at `base`, in every theme of [`THEMES`] (`toc.html` in the first only).
async fn audit_site(driver: &WebDriver, base: &str, pages: &[String]) -> Vec<Finding> {
    let axe = axe_source();
    driver.goto(format!("{base}/{}", pages[0])).await.unwrap();
    let mut findings = Vec::new();
    for theme in THEMES {
        choose_theme(driver, theme).await;
        for page in pages {
            if page == NO_SCRIPT_PAGE && theme != THEMES[0] {
                continue;
            }
            open_in_theme(driver, &format!("{base}/{page}"), page, theme).await;
            findings.extend(findings_here(driver, &axe, page, theme).await);
        }
    }
    findings
}

/// Fails listing every finding, with counts by rule.
fn assert_no_findings(findings: &[Finding]) {
    let mut by_rule = std::collections::BTreeMap::<&str, usize>::new();
    for f in findings {
        *by_rule.entry(f.rule.as_str()).or_default() += f.targets.len();
    }
    assert!(
        findings.is_empty(),
        "{} serious or critical accessibility violation(s), {} node(s) by rule {by_rule:?}:\n{}",
        findings.len(),
        by_rule.values().sum::<usize>(),
        findings
            .iter()
            .map(|f| f.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn every_page_of_the_handbook_passes_axe_in_the_light_and_navy_themes() {
    let dir = handbook_copy();
    let (pages, server) = serve(dir.path(), None);
    assert!(pages.len() >= 20, "{pages:?}");
    assert!(pages.iter().any(|p| p == "print.html"), "{pages:?}");
    let base = server.url().to_string();
    with_browser(move |driver| async move {
        driver.set_window_rect(0, 0, 1280, 900).await.unwrap();
        let started = Instant::now();
        let findings = audit_site(&driver, &base, &pages).await;
        eprintln!(
            "axe: {} pages x {} themes in {:.1} s",
            pages.len(),
            THEMES.len(),
            started.elapsed().as_secs_f64()
        );
        assert_no_findings(&findings);
    });
}

/// Badges of each kind the fixture's report gives, and the checker showing each kind of answer
/// (what axe cannot see on a page as it loads).
#[test]
fn badges_and_the_checkers_answers_pass_axe_in_both_themes() {
    let book = BookFixture::copy("token-checker-book");
    crate::widgets::write_report(book.root());
    let hub = unidive_hub();
    let (read, write) = (hub.token(TokenKind::Read), hub.token(TokenKind::Write));
    let (_pages, server) = serve(book.root(), Some(hub.url().to_string()));
    let url = format!("{}/read.html", server.url());
    with_browser(move |driver| async move {
        let axe = axe_source();
        driver.goto(&url).await.unwrap();
        let mut findings = Vec::new();
        for theme in THEMES {
            choose_theme(&driver, theme).await;
            open_in_theme(&driver, &url, "read.html", theme).await;
            let badges = driver.find_all(By::Css(".hubcheck-badge")).await.unwrap();
            assert!(badges.len() >= 2, "the fixture's report gives badges");
            for (token, button, state) in [
                (read.as_str(), "button.hubcheck-live", "valid"),
                (write.as_str(), "button.hubcheck-live", "note"),
                ("hf_abc", "button.hubcheck-offline", "problems"),
                (read.as_str(), "button.hubcheck-offline", "format-ok"),
            ] {
                let (shown, text) = type_and_press(&driver, token, button).await;
                assert_eq!(shown, state, "{text}");
                findings.extend(
                    findings_here(&driver, &axe, &format!("read.html, {state}"), theme).await,
                );
            }
        }
        assert_no_findings(&findings);
    });
    drop(hub);
}

/// What the browser's accessibility tree says of an element (WebDriver's "Get Computed Label" and
/// "Get Computed Role"): what a screen reader announces.
#[derive(Debug)]
struct Computed {
    element: thirtyfour::ElementId,
    what: &'static str,
}

impl FormatRequestData for Computed {
    fn format_request(&self, session: &thirtyfour::SessionId) -> RequestData {
        RequestData::new(
            axum::http::Method::GET,
            format!("session/{session}/element/{}/{}", self.element, self.what),
        )
    }
}

async fn computed(element: &WebElement, what: &'static str) -> String {
    element
        .handle()
        .cmd(Computed {
            element: element.element_id(),
            what,
        })
        .await
        .unwrap()
        .value::<String>()
        .unwrap()
}

/// The accessible name of the focused element.
async fn focused_name(driver: &WebDriver) -> String {
    let focused = driver.active_element().await.unwrap();
    computed(&focused, "computedlabel").await
}

async fn press(driver: &WebDriver, key: impl Into<thirtyfour::TypingData>) {
    driver
        .action_chain()
        .send_keys(key)
        .perform()
        .await
        .unwrap();
}

/// Presses Tab until the focused element's name is `name`; fails after `limit` presses.
async fn tab_to(driver: &WebDriver, name: &str, limit: usize) {
    for _ in 0..limit {
        press(driver, Key::Tab).await;
        if focused_name(driver).await == name {
            return;
        }
    }
    panic!("{limit} presses of Tab never reached {name:?}");
}

async fn sidebar_visible(driver: &WebDriver) -> bool {
    html_class(driver).await.contains("sidebar-visible")
}

/// Waits until mdBook shows (or hides) the sidebar; fails after 10 s.
async fn sidebar_becomes(driver: &WebDriver, visible: bool) {
    let now = eventually(move || sidebar_visible(driver), |now| *now == visible).await;
    assert_eq!(
        now,
        visible,
        "Enter on the sidebar toggle did not {} the sidebar",
        if visible { "show" } else { "hide" }
    );
}

#[test]
fn the_token_checker_and_the_sidebar_work_by_keyboard_alone_and_the_result_is_announced() {
    let dir = handbook_copy();
    let hub = unidive_hub();
    let token = hub.token(TokenKind::Read);
    let (_pages, server) = serve(dir.path(), Some(hub.url().to_string()));
    let url = format!("{}/testing-your-token.html", server.url());
    with_browser(move |driver| async move {
        driver.goto(&url).await.unwrap();
        let w = widget(&driver).await;

        // mdBook's sidebar toggle: reached by Tab, a button, Enter opens and closes the sidebar.
        let before = sidebar_visible(&driver).await;
        tab_to(&driver, "Toggle Table of Contents", 5).await;
        let toggle = driver.active_element().await.unwrap();
        assert_eq!(computed(&toggle, "computedrole").await, "button");
        press(&driver, Key::Enter).await;
        sidebar_becomes(&driver, !before).await;
        assert_eq!(
            toggle.attr("aria-expanded").await.unwrap().as_deref(),
            Some(if before { "false" } else { "true" })
        );
        press(&driver, Key::Enter).await;
        sidebar_becomes(&driver, before).await;

        // The checker's field and buttons have names; its result area is a polite live region,
        // in the accessibility tree before its first message (or nothing would be announced).
        let result = w.find(By::Css(".hubcheck-result")).await.unwrap();
        assert_eq!(computed(&result, "computedrole").await, "status");
        assert_eq!(
            result.attr("aria-live").await.unwrap().as_deref(),
            Some("polite")
        );
        tab_to(&driver, "Your access token", 300).await;
        let input = driver.active_element().await.unwrap();
        assert_eq!(
            input.attr("class").await.unwrap().as_deref(),
            Some("hubcheck-input")
        );
        press(&driver, "hf_abc").await;
        press(&driver, Key::Enter).await;
        let (state, text) = settled(&w).await;
        assert_eq!(
            state, "problems",
            "Enter in the field checks the format: {text}"
        );

        // "Clear" empties the field and gives it the focus back.
        press(&driver, Key::Tab).await;
        press(&driver, Key::Tab).await;
        assert_eq!(focused_name(&driver).await, "Clear");
        press(&driver, Key::Enter).await;
        assert_eq!(focused_name(&driver).await, "Your access token");
        assert_eq!(input.prop("value").await.unwrap().as_deref(), Some(""));
        press(&driver, token.as_str()).await;
        let mut order = Vec::new();
        for _ in 0..4 {
            press(&driver, Key::Tab).await;
            order.push(focused_name(&driver).await);
        }
        assert_eq!(
            order,
            ["Show", "Clear", "Check the format", "Check with the Hub"],
            "tab order"
        );
        press(&driver, Key::Enter).await;
        let (state, text) = settled(&w).await;
        assert_eq!(state, "valid", "{text}");
        assert!(text.contains("The token is valid."), "{text}");
        assert!(
            result.text().await.unwrap().contains("The token is valid."),
            "the answer is inside the live region"
        );
        assert_eq!(
            focused_name(&driver).await,
            "Check with the Hub",
            "the focus stays where it was while the Hub answered"
        );

        // Back to "Show" and Space: the token can be read, and hidden again.
        for _ in 0..3 {
            driver
                .action_chain()
                .key_down(Key::Shift)
                .send_keys(Key::Tab)
                .key_up(Key::Shift)
                .perform()
                .await
                .unwrap();
        }
        let show = driver.active_element().await.unwrap();
        assert_eq!(computed(&show, "computedlabel").await, "Show");
        press(&driver, " ").await;
        assert_eq!(input.attr("type").await.unwrap().as_deref(), Some("text"));
        assert_eq!(computed(&show, "computedlabel").await, "Hide");
        press(&driver, " ").await;
        assert_eq!(
            input.attr("type").await.unwrap().as_deref(),
            Some("password")
        );
    });
    drop(hub);
}

/// `install` gives another book the same fixes: its built pages pass axe too, `toc.html` included.
#[test]
fn install_gives_another_book_the_same_fixes() {
    let book = BookFixture::copy("install-book");
    let output = Command::new(binary())
        .args(["install", "--book", book.root().to_str().unwrap()])
        .output()
        .expect("run mdbook-hubcheck install");
    assert!(output.status.success(), "{}", text(&output));
    let head = fs::read_to_string(book.root().join("theme/head.hbs")).unwrap();
    assert!(
        head.contains(mdbook_hubcheck::widgets::csp::TOC_TITLE),
        "{head}"
    );
    let (pages, server) = serve(book.root(), None);
    let toc = fs::read_to_string(book.root().join("out/toc.html")).unwrap();
    assert_eq!(toc.matches("<title>").count(), 1, "{toc}");
    let check = fs::read_to_string(book.root().join("out/check.html")).unwrap();
    assert_eq!(check.matches("<title>").count(), 1, "{check}");
    let base = server.url().to_string();
    with_browser(move |driver| async move {
        driver.set_window_rect(0, 0, 1280, 900).await.unwrap();
        let findings = audit_site(&driver, &base, &pages).await;
        assert_no_findings(&findings);
    });
}
