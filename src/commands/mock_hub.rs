//! `mdbook-hubcheck mock-hub`: the mock Hugging Face Hub as a standalone server, for trying the
//! clients or the token checker by hand and for `mdbook-hubcheck test --hub URL`.

use std::io;
use std::net::SocketAddr;
use std::path::Path;

use crate::hub::{HubState, SeededToken, World, serve, world_file};

/// The world to serve: the one `world_file` declares, the world of the book at `book`, or the
/// starter world.
pub fn world_of(book: Option<&Path>, world_file: Option<&Path>) -> anyhow::Result<World> {
    Ok(match (book, world_file) {
        (_, Some(file)) => {
            let root = file
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            world_file::load(file, root)?
        }
        (Some(book), None) => crate::settings::load_book_world(book)?,
        (None, None) => world_file::starter(),
    })
}

/// What the standalone server prints on stdout at start.
#[derive(Debug, serde::Serialize)]
pub struct StandaloneInfo {
    /// The base URL.
    pub url: String,
    /// The tokens the world declares.
    pub tokens: Vec<SeededToken>,
}

/// Runs the mock with `world` on `addr` until Ctrl-C: prints `{"url": .., "tokens": [..]}` as one
/// JSON line on stdout first. Blocks. Warns on stderr when `addr` is not a loopback address, since
/// the tokens then reach the network.
pub fn run(addr: SocketAddr, world: World) -> io::Result<()> {
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
        let state = HubState::new(world);
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
