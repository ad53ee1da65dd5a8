//! Throughput of the mock Hub, printed side by side with a bare axum hello-world in the same setup.
//!
//! Run with `cargo bench --bench hub` (add `--profile dev` for a quick, unoptimised run). Not a
//! test: it prints figures, which `docs/benchmarks.md` records. Two measurements:
//!
//! 1. requests/s of `GET /api/whoami-v2` (with a token) against `GET /` on a hello-world server;
//!    both servers run on their own 2-worker tokio runtime thread, the client is reqwest with
//!    `CONCURRENCY` tasks on a separate 2-worker runtime, all over loopback;
//! 2. MB/s of one 100 MiB download, with the process's peak RSS (VmHWM) before and after, to show
//!    the body is streamed rather than held in memory.

use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use mdbook_hubcheck::hub::{MockHub, NewFile, NewRepo, TokenKind};

const CONCURRENCY: usize = 32;
const WARMUP: Duration = Duration::from_millis(500);
const MEASURE: Duration = Duration::from_secs(3);
const DOWNLOAD_BYTES: u64 = 100 * 1024 * 1024;

/// Peak resident set size of this process in KiB, from /proc/self/status.
fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Starts a hello-world axum server the same way `MockHub` starts: its own 2-worker runtime on a
/// thread. Returns its URL; the thread lives until the process exits.
fn start_hello() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let app = Router::new().route("/", get(|| async { "Hello, World!" }));
            axum::serve(listener, app).await.expect("serve");
        });
    });
    format!("http://{addr}")
}

/// Requests per second from `CONCURRENCY` tasks hammering `url` for `MEASURE`.
async fn load(url: String, token: Option<String>) -> f64 {
    let client = reqwest::Client::new();
    let run = |until: Instant| {
        let tasks: Vec<_> = (0..CONCURRENCY)
            .map(|_| {
                let (client, url, token) = (client.clone(), url.clone(), token.clone());
                tokio::spawn(async move {
                    let mut n = 0u64;
                    while Instant::now() < until {
                        let mut req = client.get(&url);
                        if let Some(t) = &token {
                            req = req.bearer_auth(t);
                        }
                        let resp = req.send().await.expect("request");
                        assert!(resp.status().is_success(), "{}", resp.status());
                        resp.bytes().await.expect("body");
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        async move {
            let mut total = 0;
            for t in tasks {
                total += t.await.expect("task");
            }
            total
        }
    };
    run(Instant::now() + WARMUP).await;
    let start = Instant::now();
    let total = run(start + MEASURE).await;
    total as f64 / start.elapsed().as_secs_f64()
}

/// Downloads `url` chunk by chunk, discarding the bytes; returns (bytes, seconds).
async fn download(url: String, token: String) -> (u64, f64) {
    let client = reqwest::Client::new();
    let start = Instant::now();
    let mut resp = client
        .get(&url)
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    assert!(resp.status().is_success());
    let mut n = 0u64;
    while let Some(chunk) = resp.chunk().await.expect("chunk") {
        n += chunk.len() as u64;
    }
    (n, start.elapsed().as_secs_f64())
}

fn main() {
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let hello = start_hello();
    let hub = MockHub::start().expect("mock hub");
    let token = hub.token(TokenKind::Read);

    println!(
        "machine: {} CPUs available to this process",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "client: reqwest, {CONCURRENCY} concurrent tasks, {MEASURE:?} after {WARMUP:?} warm-up, loopback"
    );
    let hello_rps = client_rt.block_on(load(format!("{hello}/"), None));
    let hub_rps = client_rt.block_on(load(
        format!("{}/api/whoami-v2", hub.url()),
        Some(token.clone()),
    ));
    println!("hello-world GET /          : {hello_rps:>10.0} req/s");
    println!("mock hub GET /api/whoami-v2: {hub_rps:>10.0} req/s");
    println!("ratio hub / hello-world    : {:>10.2}", hub_rps / hello_rps);

    let state = hub.state();
    let prepare = Instant::now();
    state
        .put_repo(NewRepo {
            id: "unidive-student/big".into(),
            files: vec![NewFile {
                path: "blob.bin".into(),
                generated_size: Some(DOWNLOAD_BYTES),
                ..Default::default()
            }],
            ..Default::default()
        })
        .expect("big repo");
    println!(
        "hashing a generated 100 MiB file: {:.2} s",
        prepare.elapsed().as_secs_f64()
    );
    let hwm_before = vm_hwm_kib();
    let url = format!("{}/unidive-student/big/resolve/main/blob.bin", hub.url());
    let (bytes, secs) = client_rt.block_on(download(url, token));
    let hwm_after = vm_hwm_kib();
    assert_eq!(bytes, DOWNLOAD_BYTES);
    println!(
        "download 100 MiB           : {:>10.1} MB/s ({secs:.2} s)",
        bytes as f64 / 1e6 / secs
    );
    println!(
        "peak RSS (VmHWM, server and client in one process): {:.1} MiB before, {:.1} MiB after (+{:.1} MiB for a {} MiB file)",
        hwm_before as f64 / 1024.0,
        hwm_after as f64 / 1024.0,
        (hwm_after.saturating_sub(hwm_before)) as f64 / 1024.0,
        DOWNLOAD_BYTES >> 20
    );
}
