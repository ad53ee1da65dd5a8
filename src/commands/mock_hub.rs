//! `mdbook-hubcheck mock-hub`: the mock Hugging Face Hub as a standalone server, for trying the
//! clients or the token checker by hand and for `mdbook-hubcheck test --hub URL`.

use std::io;
use std::net::SocketAddr;

use crate::hub::{HubState, SeededToken, World, serve};

/// What the standalone server prints on stdout at start.
#[derive(Debug, serde::Serialize)]
pub struct StandaloneInfo {
    /// The base URL.
    pub url: String,
    /// The seeded tokens.
    pub tokens: Vec<SeededToken>,
}

/// Runs the seeded mock on `addr` until Ctrl-C: prints `{"url": .., "tokens": [..]}` as one
/// JSON line on stdout first. Blocks. Warns on stderr when `addr` is not a loopback address, since
/// the tokens then reach the network.
pub fn run(addr: SocketAddr) -> io::Result<()> {
    if !addr.ip().is_loopback() {
        eprintln!(
            "warning: the mock Hub is listening on {addr}, which is reachable from other machines"
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let state = HubState::new(World::seeded());
        let info = StandaloneInfo {
            url: format!("http://{local}"),
            tokens: state.seeded_tokens(),
        };
        println!(
            "{}",
            serde_json::to_string(&info).map_err(io::Error::other)?
        );
        serve(listener, state, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
    })
}
