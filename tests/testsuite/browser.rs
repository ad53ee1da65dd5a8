//! Headless Chromium driven over WebDriver (thirtyfour), shared by the browser tests (the widget
//! tests and the accessibility check): chromedriver on a free port, at most two browsers at a
//! time, and Chromium quit even when a test panics.

use std::fs;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use thirtyfour::prelude::*;

use crate::chromium::{CHROMEDRIVER, CHROMIUM};

/// At most this many browsers at once, one per core of the project's 2-core machine. With one,
/// the browser tests (which `cargo test` runs next to each other, in name order) left the second
/// test thread waiting for the first browser to quit.
const BROWSERS_AT_ONCE: usize = 2;

/// How many browsers are running, and a way to wait until fewer than [`BROWSERS_AT_ONCE`] are.
static RUNNING: (Mutex<usize>, Condvar) = (Mutex::new(0), Condvar::new());

/// A place among the [`BROWSERS_AT_ONCE`] browsers, given back when dropped (a panic included).
struct BrowserSlot;

impl BrowserSlot {
    fn wait() -> BrowserSlot {
        let (count, freed) = &RUNNING;
        let mut running = count.lock().unwrap_or_else(|e| e.into_inner());
        while *running >= BROWSERS_AT_ONCE {
            running = freed.wait(running).unwrap_or_else(|e| e.into_inner());
        }
        *running += 1;
        BrowserSlot
    }
}

impl Drop for BrowserSlot {
    fn drop(&mut self) {
        let (count, freed) = &RUNNING;
        *count.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
        freed.notify_one();
    }
}

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

/// A Chromium session driven through a chromedriver this test started.
pub struct Browser {
    chromedriver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn start() -> (Browser, WebDriver) {
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
            "--window-size=1000,900",
        ] {
            caps.add_arg(arg).unwrap();
        }
        caps.add_arg(&format!(
            "--user-data-dir={}",
            profile.path().join("profile").display()
        ))
        .unwrap();
        let browser = Browser {
            chromedriver,
            _profile: profile,
        };
        let driver = WebDriver::new(format!("http://{addr}"), caps)
            .await
            .expect("a Chromium session");
        (browser, driver)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.chromedriver.kill();
        let _ = self.chromedriver.wait();
    }
}

/// Runs `body` with a fresh browser (at most [`BROWSERS_AT_ONCE`] at a time), quitting Chromium
/// even when it panics.
pub fn with_browser<F, Fut>(body: F)
where
    F: FnOnce(WebDriver) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let _slot = BrowserSlot::wait();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let (browser, driver) = Browser::start().await;
        let outcome = tokio::spawn(body(driver.clone())).await;
        let _ = driver.quit().await;
        drop(browser);
        if let Err(e) = outcome {
            std::panic::resume_unwind(e.into_panic());
        }
    });
}
