//! Headless Chromium driven over WebDriver (thirtyfour), shared by the browser tests (the widget
//! tests and the accessibility check). Chromium starts once per test binary, not once per test: at
//! most two sessions (one per core), each kept between tests, and every test gets a fresh browsing
//! context in one of them (a new tab, every other tab closed, the storage, cookies and cache of
//! every origin cleared, the window at its first size). A session whose test panicked is not
//! reused. The sessions are ended when the test binary exits.

use std::fs;
use std::net::{SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Condvar, LazyLock, Mutex};
use std::time::{Duration, Instant};

use thirtyfour::prelude::*;

use crate::chromium::{CHROMEDRIVER, CHROMIUM};

/// At most this many browsers at once, one per core of the project's 2-core machine. With one,
/// the browser tests (which `cargo test` runs next to each other, in name order) left the second
/// test thread waiting for the first browser.
const BROWSERS_AT_ONCE: usize = 2;

/// The window size every test starts with.
const WINDOW: (u32, u32) = (1000, 900);

/// How long ending the sessions at exit may take before their processes are killed.
const QUIT_WAIT: Duration = Duration::from_secs(5);

/// The runtime every browser session lives in: thirtyfour's HTTP connections belong to the runtime
/// they were made in, so a session kept between tests needs one runtime for all of them. Two
/// workers per test that may run at once (each had a runtime of two before), so a test that
/// blocks a worker for a while does not hold up the other.
static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2 * BROWSERS_AT_ONCE)
        .enable_all()
        .build()
        .expect("the browser tests' runtime")
});

/// The sessions not in use, and how many there are in all (in use or not).
struct Pool {
    idle: Vec<Browser>,
    alive: usize,
}

/// The sessions, and a way to wait until one is free or another may start.
static POOL: (Mutex<Pool>, Condvar) = (
    Mutex::new(Pool {
        idle: Vec::new(),
        alive: 0,
    }),
    Condvar::new(),
);

/// Where screenshots go: `<target>/hubcheck/screenshots/`.
pub fn screenshot_dir() -> PathBuf {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .to_path_buf();
    let dir = target.join("hubcheck/screenshots");
    fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts chromedriver on a free port and returns it once it answers there.
///
/// chromedriver takes a port number, not a bound socket, so between our finding a port free and
/// chromedriver binding it another process may take it: chromedriver then exits, or (if we ask too
/// early) someone else answers. Both are seen and the start is tried again on another port.
///
/// `tmp` becomes its and Chromium's temporary folder: Chromium leaves `org.chromium.Chromium.*`
/// folders in it behind, which go with `tmp`.
pub async fn start_chromedriver(tmp: &Path) -> (Child, SocketAddr) {
    for _ in 0..10 {
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let mut child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={}", addr.port()))
            .env("TMPDIR", tmp)
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                break; // the port was taken: try another
            }
            let status = reqwest::get(format!("http://{addr}/status")).await;
            let ours = match status {
                Ok(response) => response
                    .text()
                    .await
                    .unwrap_or_default()
                    .contains("ChromeDriver"),
                Err(_) => false,
            };
            if ours && child.try_wait().ok().flatten().is_none() {
                return (child, addr);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("chromedriver did not start on any of 10 free ports");
}

/// A Chromium session driven through a chromedriver of its own (in a process group of its own,
/// with Chromium), and the folder of its profile and temporary files.
struct Browser {
    driver: WebDriver,
    chromedriver: Child,
    profile: tempfile::TempDir,
}

impl Browser {
    async fn start() -> Browser {
        crate::chromium::ensure();
        // The session's own folder: Chromium's profile and its temporary files, removed together.
        let profile = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let tmp = profile.path().join("tmp");
        fs::create_dir_all(&tmp).unwrap();
        let (chromedriver, addr) = start_chromedriver(&tmp).await;
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(CHROMIUM).unwrap();
        for arg in [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ] {
            caps.add_arg(arg).unwrap();
        }
        caps.add_arg(&format!("--window-size={},{}", WINDOW.0, WINDOW.1))
            .unwrap();
        caps.add_arg(&format!(
            "--user-data-dir={}",
            profile.path().join("profile").display()
        ))
        .unwrap();
        let driver = WebDriver::new(format!("http://{addr}"), caps)
            .await
            .expect("a Chromium session");
        Browser {
            driver,
            chromedriver,
            profile,
        }
    }

    /// Makes the session as a new one is: one new tab (every other closed, with what scripts a
    /// test added to it), no storage, cookies or cached responses of any origin, the first window
    /// size.
    async fn fresh_context(&self) -> WebDriverResult<()> {
        let driver = &self.driver;
        let old = driver.windows().await?;
        let fresh = driver.new_tab().await?;
        for handle in old {
            driver.switch_to_window(handle).await?;
            driver.close_window().await?;
        }
        driver.switch_to_window(fresh).await?;
        let cdp = driver.cdp();
        cdp.send_raw(
            "Storage.clearDataForOrigin",
            serde_json::json!({ "origin": "*", "storageTypes": "all" }),
        )
        .await?;
        cdp.send_raw("Network.clearBrowserCookies", serde_json::json!({}))
            .await?;
        cdp.send_raw("Network.clearBrowserCache", serde_json::json!({}))
            .await?;
        driver.set_window_rect(0, 0, WINDOW.0, WINDOW.1).await?;
        Ok(())
    }

    /// Ends the session: asks chromedriver to quit Chromium, then kills what is left of its
    /// process group and removes its folder.
    async fn end(self) {
        let Browser {
            driver,
            mut chromedriver,
            profile,
        } = self;
        let _ = tokio::time::timeout(QUIT_WAIT, driver.quit()).await;
        kill_group(&mut chromedriver);
        drop(profile);
    }

    /// Ends a session that must not be kept (its test panicked, or it could not be made fresh),
    /// so that another may start in its place.
    async fn discard(self) {
        self.end().await;
        forget_one();
    }
}

/// Kills chromedriver's process group (Chromium's processes are in it) and waits for chromedriver.
fn kill_group(chromedriver: &mut Child) {
    if let Ok(group) = i32::try_from(chromedriver.id()) {
        // SAFETY: killpg has no memory preconditions; the group is chromedriver's own.
        unsafe { libc::killpg(group, libc::SIGKILL) };
    }
    let _ = chromedriver.wait();
}

/// A session kept from an earlier test, or `None` when a new one may start (it is counted as
/// alive from now on): waits, on the test's own thread, until one of these is so.
fn wait_for_a_browser() -> Option<Browser> {
    let (pool, freed) = &POOL;
    let mut pool = pool.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if let Some(browser) = pool.idle.pop() {
            return Some(browser);
        }
        if pool.alive < BROWSERS_AT_ONCE {
            pool.alive += 1;
            return None;
        }
        pool = freed.wait(pool).unwrap_or_else(|e| e.into_inner());
    }
}

/// Starts the session that [`wait_for_a_browser`] made room for; the room is given back if it
/// cannot start.
async fn start_browser() -> Browser {
    let starting = Starting;
    let browser = Browser::start().await;
    std::mem::forget(starting);
    END_AT_EXIT.call_once(|| {
        // SAFETY: end_sessions_at_exit is an extern "C" fn that takes no arguments.
        unsafe { libc::atexit(end_sessions_at_exit) };
    });
    browser
}

/// Gives a place among the [`BROWSERS_AT_ONCE`] back when a session could not be started.
struct Starting;

impl Drop for Starting {
    fn drop(&mut self) {
        forget_one();
    }
}

/// One session fewer is alive: another may start.
fn forget_one() {
    let (pool, freed) = &POOL;
    pool.lock().unwrap_or_else(|e| e.into_inner()).alive -= 1;
    freed.notify_one();
}

/// Keeps `browser` for the next test.
fn give_back(browser: Browser) {
    let (pool, freed) = &POOL;
    pool.lock()
        .unwrap_or_else(|e| e.into_inner())
        .idle
        .push(browser);
    freed.notify_one();
}

/// Registers [`end_sessions_at_exit`] once.
static END_AT_EXIT: std::sync::Once = std::sync::Once::new();

/// At the test binary's exit (libtest ends with `process::exit`, which runs no destructor of a
/// static but runs these): ends every kept session.
extern "C" fn end_sessions_at_exit() {
    let idle = {
        let (pool, _) = &POOL;
        std::mem::take(&mut pool.lock().unwrap_or_else(|e| e.into_inner()).idle)
    };
    RUNTIME.block_on(async {
        for browser in idle {
            browser.end().await;
        }
    });
}

/// Runs `body` in a fresh browsing context of a kept or new Chromium session (at most
/// [`BROWSERS_AT_ONCE`] at a time). A session whose test panicked is ended, not kept.
pub fn with_browser<F, Fut>(body: F)
where
    F: FnOnce(WebDriver) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let kept = wait_for_a_browser();
    RUNTIME.block_on(async move {
        let browser = match kept {
            Some(browser) => browser,
            None => start_browser().await,
        };
        if let Err(e) = browser.fresh_context().await {
            browser.discard().await;
            panic!("a fresh browsing context: {e}");
        }
        let outcome = tokio::spawn(body(browser.driver.clone())).await;
        match outcome {
            Ok(()) => give_back(browser),
            Err(e) => {
                browser.discard().await;
                std::panic::resume_unwind(e.into_panic());
            }
        }
    });
}

/// A page on loopback for [`each_test_gets_a_fresh_context_in_a_kept_session`].
fn one_page_site() -> mdbook_hubcheck::server::BackgroundServer {
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(|| async {
            axum::response::Html("<!doctype html><title>page</title><p>page</p>")
        }),
    );
    mdbook_hubcheck::server::BackgroundServer::start(app).expect("the page's server starts")
}

/// What a test can leave in a browser, as seen by the next: `[local, session, cookie, tabs,
/// added script, window width]`.
const LEFTOVERS_JS: &str = r#"
return [localStorage.getItem("left"), sessionStorage.getItem("left"), document.cookie,
        String(window.__left), window.outerWidth];
"#;

/// Chromium is kept between tests, and what one test left there (storage, a cookie, another
/// tab, a script added to every new document, another window size) the next does not see.
#[test]
fn each_test_gets_a_fresh_context_in_a_kept_session() {
    let site = one_page_site();
    let url = format!("{}/", site.url());
    let first = std::sync::Arc::new(Mutex::new(String::new()));
    let (page, id) = (url.clone(), first.clone());
    with_browser(move |driver| async move {
        *id.lock().unwrap() = driver.session_id().to_string();
        driver
            .cdp()
            .send_raw(
                "Page.addScriptToEvaluateOnNewDocument",
                serde_json::json!({ "source": "window.__left = 'script';" }),
            )
            .await
            .unwrap();
        driver.goto(&page).await.unwrap();
        driver
            .execute(
                "localStorage.setItem('left', 'local'); sessionStorage.setItem('left', 'session'); \
                 document.cookie = 'left=cookie';",
                vec![],
            )
            .await
            .unwrap();
        let left = driver.execute(LEFTOVERS_JS, vec![]).await.unwrap();
        assert_eq!(
            left.json(),
            &serde_json::json!(["local", "session", "left=cookie", "script", WINDOW.0]),
            "the first test's own view"
        );
        driver.new_tab().await.unwrap();
        driver.set_window_rect(0, 0, 640, 480).await.unwrap();
    });
    let first = first.lock().unwrap().clone();
    // The pool gives back the session given back last, unless the other test thread took it in
    // between: a few tries find it again.
    let mut kept = false;
    for _ in 0..10 {
        let (page, first) = (url.clone(), first.clone());
        let same = std::sync::Arc::new(Mutex::new(false));
        let seen = same.clone();
        with_browser(move |driver| async move {
            *seen.lock().unwrap() = driver.session_id().to_string() == first;
            assert_eq!(driver.windows().await.unwrap().len(), 1, "one tab");
            driver.goto(&page).await.unwrap();
            let left = driver.execute(LEFTOVERS_JS, vec![]).await.unwrap();
            assert_eq!(
                left.json(),
                &serde_json::json!([null, null, "", "undefined", WINDOW.0]),
                "what the next test sees"
            );
        });
        if *same.lock().unwrap() {
            kept = true;
            break;
        }
    }
    assert!(kept, "no later test got the first test's session again");
}
