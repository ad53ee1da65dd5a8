//! Throughput of the mock Hub, side by side with a bare axum server answering the same JSON, in
//! one run with one load generator.
//!
//! Run with `cargo bench --bench hub` (add `--profile dev` for a quick, less optimised run). Needs
//! `wrk` (`apt-get install wrk`). Not a test: it prints figures, which `docs/benchmarks.md`
//! records. Two measurements:
//!
//! 1. `GET /api/whoami-v2` with a token, through `wrk -t2 -c64 --latency`, against the mock Hub
//!    and against a bare axum server (no middleware, one route) that answers the same body with
//!    the same `Content-Type`. Both run the way `MockHub` runs (a 2-worker runtime on its own
//!    thread). Rounds alternate bare, hub, bare, hub, ... after a warm-up of each, so changes in
//!    the machine's load hit both; the figures are each server's median round (requests/s, p50
//!    and p99 latency), the ratio of the medians, and the median of the per-pair ratios (each hub
//!    round against the bare round just before it), the steadiest figure on a shared machine;
//! 2. MB/s of one 100 MiB download (reqwest in this process, bytes discarded), with the process's
//!    peak RSS (VmHWM) before and after, to show the body is streamed rather than held in memory.

use std::process::Command;
use std::time::Instant;

use axum::Router;
use axum::http::header;
use axum::routing::get;
use mock_hub::{MockHub, NewFile, NewRepo, TokenKind};

const DOWNLOAD_BYTES: u64 = 100 * 1024 * 1024;
/// wrk's settings: 2 threads, 64 connections.
const WRK_THREADS: &str = "2";
const WRK_CONNECTIONS: &str = "64";
/// Seconds per measured round, and rounds per server.
const ROUND_SECS: u32 = 3;
/// Thread names (as /proc shows them, 15 characters at most) of the two servers.
const BARE_THREADS: &str = "bare-server";
const HUB_THREADS: &str = "background-serv";
const ROUNDS: usize = 5;

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

/// A bare axum server that answers `body` as JSON on `/api/whoami-v2`, run like `MockHub`.
fn start_bare(body: Vec<u8>) -> String {
    let body = axum::body::Bytes::from(body);
    let app = Router::new().route(
        "/api/whoami-v2",
        get(move || {
            let body = body.clone();
            async move { ([(header::CONTENT_TYPE, "application/json")], body) }
        }),
    );
    serve_named(app, BARE_THREADS)
}

/// Serves `app` the way `BackgroundServer` does (a 2-worker runtime on its own thread), with its
/// threads named `name`, so a profiler can tell them from the mock Hub's.
fn serve_named(app: Router, name: &str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(name)
        .enable_all()
        .build()
        .expect("runtime");
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                axum::serve(listener, app).await.expect("serve");
            })
        })
        .expect("thread");
    format!("http://{addr}")
}

/// The bare server with the mock Hub's layers added one by one (`HUBCHECK_BENCH_LAYERS=1`): where
/// the difference between the two goes.
fn start_layered(body: Vec<u8>, cors: bool, noop_middleware: bool) -> String {
    use tower_http::cors::{AllowHeaders, Any, CorsLayer};
    let body = axum::body::Bytes::from(body);
    let mut app = Router::new().route(
        "/api/whoami-v2",
        get(move || {
            let body = body.clone();
            async move { ([(header::CONTENT_TYPE, "application/json")], body) }
        }),
    );
    if cors {
        app = app.layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_headers(AllowHeaders::mirror_request()),
        );
    }
    if noop_middleware {
        app = app.layer(axum::middleware::from_fn(
            |req: axum::extract::Request, next: axum::middleware::Next| async move {
                next.run(req).await
            },
        ));
    }
    serve_named(app, "layered-server")
}

/// One wrk round's figures.
#[derive(Clone, Copy, Debug)]
struct Round {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// CPU time (user + system) of the server's threads per request, in microseconds: what a
    /// request costs the server, whatever else the machine is doing.
    cpu_us: f64,
    /// The user-space part of `cpu_us`.
    user_us: f64,
}

/// CPU time (user + system, in clock ticks) of this process's threads whose name starts with
/// `prefix`, from /proc/self/task/*/stat.
fn cpu_ticks(prefix: &str) -> (u64, u64) {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return (0, 0);
    };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("stat")).ok())
        .filter_map(|stat| {
            let open = stat.find('(')?;
            let close = stat.rfind(')')?;
            if !stat[open + 1..close].starts_with(prefix) {
                return None;
            }
            // Fields after the name: state is the 3rd field of the line; utime 14th, stime 15th.
            let rest: Vec<&str> = stat[close + 2..].split(' ').collect();
            Some((
                rest.get(11)?.parse::<u64>().ok()?,
                rest.get(12)?.parse::<u64>().ok()?,
            ))
        })
        .fold((0, 0), |(u, s), (du, ds)| (u + du, s + ds))
}

/// Clock ticks per second, for [`cpu_ticks`].
fn ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 { ticks as f64 } else { 100.0 }
}

/// Parses a wrk latency like `1.23ms`, `456.00us` or `1.02s` into milliseconds.
fn parse_latency(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    Some(match unit {
        "us" => number / 1e3,
        "ms" => number,
        "s" => number * 1e3,
        "m" => number * 60e3,
        _ => return None,
    })
}

/// Runs wrk against `url` for `secs` seconds and parses its report; `threads` names the server's
/// threads, whose CPU time is measured.
fn wrk(url: &str, token: &str, secs: u32, threads: &str) -> Round {
    let ticks_before = cpu_ticks(threads);
    let output = Command::new("wrk")
        .args(["-t", WRK_THREADS, "-c", WRK_CONNECTIONS, "--latency"])
        .arg(format!("-d{secs}s"))
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .arg(url)
        .output()
        .unwrap_or_else(|e| {
            panic!("this benchmark needs wrk (apt-get install wrk): {e}");
        });
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "wrk failed: {text}");
    assert!(
        !text.contains("Non-2xx"),
        "the server answered errors: {text}"
    );
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix))
            .map(|rest| rest.split_whitespace().next().unwrap_or("").to_string())
            .unwrap_or_else(|| panic!("no `{prefix}` in wrk's output: {text}"))
    };
    let ticks_after = cpu_ticks(threads);
    let user = ticks_after.0 - ticks_before.0;
    let ticks = user + ticks_after.1 - ticks_before.1;
    let requests: f64 = text
        .lines()
        .find(|l| l.contains(" requests in "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("request count");
    Round {
        cpu_us: ticks as f64 / ticks_per_second() * 1e6 / requests.max(1.0),
        user_us: user as f64 / ticks_per_second() * 1e6 / requests.max(1.0),
        rps: field("Requests/sec:").parse().expect("requests/s"),
        p50_ms: parse_latency(&field("50%")).expect("p50"),
        p99_ms: parse_latency(&field("99%")).expect("p99"),
    }
}

/// The round with the median requests/s.
fn median(rounds: &mut [Round]) -> Round {
    rounds.sort_by(|a, b| a.rps.total_cmp(&b.rps));
    rounds[rounds.len() / 2]
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
    // The plugin's fixture world (cargo runs a benchmark in its package's folder).
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
    let world = mock_hub::world_file::load(&fixtures.join("worlds/unidive.toml"), &fixtures)
        .expect("the fixture world loads");
    let hub = MockHub::start(world).expect("mock hub");
    let token = hub.token(TokenKind::Read);
    let hub_url = format!("{}/api/whoami-v2", hub.url());

    // The bare server answers exactly what the mock Hub answers for this token.
    let body = client_rt.block_on(async {
        reqwest::Client::new()
            .get(&hub_url)
            .bearer_auth(&token)
            .send()
            .await
            .expect("whoami")
            .bytes()
            .await
            .expect("body")
            .to_vec()
    });
    let body_len = body.len();
    let bare = start_bare(body);
    let bare_url = format!("{bare}/api/whoami-v2");

    println!(
        "machine: {} CPUs available to this process; load average {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "load generator: wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS}, {ROUNDS} rounds of {ROUND_SECS} s per server, alternating, after a 1 s warm-up of each; body {body_len} bytes"
    );
    wrk(&bare_url, &token, 1, BARE_THREADS);
    wrk(&hub_url, &token, 1, HUB_THREADS);
    let (mut bare_rounds, mut hub_rounds) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        bare_rounds.push(wrk(&bare_url, &token, ROUND_SECS, BARE_THREADS));
        hub_rounds.push(wrk(&hub_url, &token, ROUND_SECS, HUB_THREADS));
    }
    let show = |rounds: &[Round]| {
        rounds
            .iter()
            .map(|r| format!("{:.0}", r.rps))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!("bare axum rounds (req/s)   : {}", show(&bare_rounds));
    println!("mock hub rounds (req/s)    : {}", show(&hub_rounds));
    let (bare_rounds_in_order, hub_rounds_in_order) = (bare_rounds.clone(), hub_rounds.clone());
    let (b, h) = (median(&mut bare_rounds), median(&mut hub_rounds));
    println!(
        "bare axum, same JSON       : {:>10.0} req/s  p50 {:.2} ms  p99 {:.2} ms",
        b.rps, b.p50_ms, b.p99_ms
    );
    println!(
        "mock hub GET /api/whoami-v2: {:>10.0} req/s  p50 {:.2} ms  p99 {:.2} ms",
        h.rps, h.p50_ms, h.p99_ms
    );
    let mut paired: Vec<f64> = hub_rounds_in_order
        .iter()
        .zip(&bare_rounds_in_order)
        .map(|(h, b)| h.rps / b.rps)
        .collect();
    paired.sort_by(f64::total_cmp);
    println!("ratio hub / bare (medians) : {:>10.2}", h.rps / b.rps);
    let cpu = |rounds: &[Round], user: bool| {
        let mut v: Vec<f64> = rounds
            .iter()
            .map(|r| if user { r.user_us } else { r.cpu_us })
            .collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (bare_cpu, hub_cpu) = (cpu(&bare_rounds, false), cpu(&hub_rounds, false));
    println!(
        "server CPU per request (median): bare {bare_cpu:.1} us (user {:.1}), hub {hub_cpu:.1} us (user {:.1}); ratio bare / hub {:.2}",
        cpu(&bare_rounds, true),
        cpu(&hub_rounds, true),
        bare_cpu / hub_cpu
    );
    println!(
        "ratio hub / bare, median of the {ROUNDS} paired rounds: {:.2} (range {:.2} to {:.2})",
        paired[paired.len() / 2],
        paired[0],
        paired[paired.len() - 1]
    );

    if std::env::var_os("HUBCHECK_BENCH_LAYERS").is_some() {
        let raw = client_rt.block_on(async {
            reqwest::Client::new()
                .get(&bare_url)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap()
                .to_vec()
        });
        let servers = [
            ("bare + CORS", start_layered(raw.clone(), true, false)),
            (
                "bare + no-op from_fn",
                start_layered(raw.clone(), false, true),
            ),
            ("bare + both", start_layered(raw, true, true)),
        ];
        for (name, server) in &servers {
            let url = format!("{server}/api/whoami-v2");
            let mut pairs = Vec::new();
            for _ in 0..ROUNDS {
                let b = wrk(&bare_url, &token, ROUND_SECS, BARE_THREADS).rps;
                let l = wrk(&url, &token, ROUND_SECS, "layered-server").rps;
                pairs.push(l / b);
            }
            pairs.sort_by(f64::total_cmp);
            println!(
                "{name:<22}/ bare, median of paired rounds: {:.2}",
                pairs[pairs.len() / 2]
            );
        }
    }

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
    let url = format!("{}/unidive-student/big/resolve/main/blob.bin", hub.url());
    let hwm_before = vm_hwm_kib();
    let mut best = f64::MAX;
    for _ in 0..3 {
        let (bytes, secs) = client_rt.block_on(download(url.clone(), token.clone()));
        assert_eq!(bytes, DOWNLOAD_BYTES);
        best = best.min(secs);
    }
    let hwm_after = vm_hwm_kib();
    println!(
        "download 100 MiB (best of 3): {:>8.1} MB/s ({best:.3} s)",
        DOWNLOAD_BYTES as f64 / 1e6 / best
    );
    println!(
        "peak RSS (VmHWM, server and client in one process): {:.1} MiB before, {:.1} MiB after (+{:.1} MiB for three {} MiB downloads)",
        hwm_before as f64 / 1024.0,
        hwm_after as f64 / 1024.0,
        (hwm_after.saturating_sub(hwm_before)) as f64 / 1024.0,
        DOWNLOAD_BYTES >> 20
    );
}
