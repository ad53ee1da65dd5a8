//! The command line of the `mdbook-hubcheck` binary.
//!
//! Without a subcommand the binary is an mdBook preprocessor: mdBook calls it with `supports
//! <renderer>` and then with `[context, book]` JSON on stdin. The subcommands are for people:
//! building the book in-process, serving it, running the mock Hub and testing every snippet; each
//! one's glue is in [`crate::commands`].

use std::io::{Read, Write};
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::commands::build::{BuildOptions, build};
use crate::commands::serve::{ServeOptions, serve};
use crate::commands::test::TestOptions;
use crate::harness::pyenv::Clients;
use crate::harness::runner::{Order, RunOptions};
use crate::preprocess::run_protocol;

/// An mdBook preprocessor and toolchain for the Hugging Face token handbook.
#[derive(Debug, Parser)]
#[command(name = "mdbook-hubcheck", version, about)]
pub struct Cli {
    /// What to do; with none, act as an mdBook preprocessor on stdin and stdout.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Tell mdBook whether a renderer is supported (all are: html gets widgets, others text).
    Supports {
        /// The renderer's name, e.g. html.
        renderer: String,
    },
    /// Build the book in-process, with no separate mdBook install.
    Build {
        /// The book's root folder, holding book.toml.
        #[arg(long, default_value = ".")]
        book: PathBuf,
        /// Write the output here instead of build.build-dir.
        #[arg(long)]
        dest: Option<PathBuf>,
    },
    /// Run every snippet of the book for real against a mock Hub and check what the text promises.
    Test {
        /// The book's root folder, holding book.toml.
        #[arg(long, default_value = ".")]
        book: PathBuf,
        /// Only run snippet-scenarios whose name (`file:line language id scenario`) contains this.
        #[arg(long)]
        filter: Option<String>,
        /// How many snippet-scenarios run at once [default: one per core; 1 with --hub].
        #[arg(long)]
        jobs: Option<usize>,
        /// Use a mock Hub already running at this URL (reset before each scenario, one at a time)
        /// instead of a fresh in-process one per scenario.
        #[arg(long)]
        hub: Option<String>,
        /// The order scenarios start in: book, reverse, shuffle or shuffle=SEED. No order may change
        /// a result; this is here to show it.
        #[arg(long, default_value = "book")]
        order: Order,
        /// Run every scenario N times; a scenario whose runs disagree is reported as flaky.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
        repeat: u16,
        /// The client versions: `pinned` (hub-requirements.txt), `latest` (the newest
        /// releases, resolved now) or `name==version,...` (e.g. `huggingface_hub==0.36.2`). Other
        /// than pinned, every case also runs on the lock and a `drift:` summary compares them.
        #[arg(long, default_value = "pinned", value_name = "pinned|latest|SPEC")]
        clients: Clients,
        /// Start every Python run as a new interpreter, instead of forking it from a warm one
        /// that has imported torch already (slower; the results are the same).
        #[arg(long)]
        cold: bool,
        /// Rewrite, in the markdown, each expected-output block and each scenario's
        /// `stdout`/`stderr`/`output` text from what the run printed (placeholders kept, nothing
        /// else touched); a scenario whose exit status or exception changed is left for a person.
        #[arg(long)]
        bless: bool,
        /// The whole book in reading order as one student: every snippet's first scenario, one
        /// after another, in ONE world and home, so what an earlier page did is still there.
        /// Writes `journey-report.json` beside the report.
        #[arg(long, conflicts_with_all = ["order", "repeat", "bless", "clients"])]
        journey: bool,
        /// Run every scenario twice in the same world and home, as a student re-runs a command or
        /// a cell (a notebook cell in the same Python process); both runs must keep the page's
        /// promise. Writes `rerun-report.json` beside the report (with --journey, the journey's).
        #[arg(long, conflicts_with_all = ["bless", "clients"])]
        rerun: bool,
    },
    /// Set up another book for a stock `mdbook build`: `[preprocessor.hubcheck]`, the widget asset
    /// lines and the theme's `head.hbs` with the page policy. Running it again changes nothing.
    Install {
        /// The book's root folder, holding book.toml.
        #[arg(long, default_value = ".")]
        book: PathBuf,
    },
    /// Run the mock Hugging Face Hub; prints its URL and test tokens as JSON on stdout.
    MockHub {
        /// Serve the world of the book at this folder (its `world` file, else `hub-world.toml`,
        /// else the starter world).
        #[arg(long, conflicts_with = "world")]
        book: Option<PathBuf>,
        /// Serve the world this file declares (docs/world-file.md).
        #[arg(long)]
        world: Option<PathBuf>,
        /// The port to listen on (0 picks a free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// The address to listen on; loopback unless you say otherwise.
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
    },
    /// Build the book and serve it on 127.0.0.1 (no rebuild on change: restart after edits).
    Serve {
        /// The book's root folder, holding book.toml.
        #[arg(long, default_value = ".")]
        book: PathBuf,
        /// The port on 127.0.0.1.
        #[arg(long, default_value_t = 3000)]
        port: u16,
        /// Start a mock Hub, point the token checker at it and print its test tokens.
        #[arg(long)]
        mock_hub: bool,
    },
}

/// One job per core.
fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Runs the command line and returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        None => preprocess_stdin().map(|()| 0),
        Some(Command::Supports { renderer: _ }) => Ok(0),
        Some(Command::Build { book, dest }) => {
            let out = build(&BuildOptions {
                book,
                dest,
                hub_endpoint: None,
            })?;
            eprintln!("Built the book: open {}", out.join("index.html").display());
            Ok(0)
        }
        Some(Command::Test {
            book,
            filter,
            jobs,
            hub,
            order,
            repeat,
            clients,
            cold,
            bless,
            journey,
            rerun,
        }) => {
            let options = TestOptions {
                book,
                filter,
                run: RunOptions {
                    jobs: jobs.unwrap_or_else(|| if hub.is_some() { 1 } else { default_jobs() }),
                    order,
                    repeat: usize::from(repeat),
                    cold,
                    rerun,
                    journey,
                },
                hub,
                clients,
                bless,
            };
            let verdict = crate::commands::test::run(&options, &mut std::io::stdout())?;
            Ok(verdict.exit_code())
        }
        Some(Command::Install { book }) => {
            crate::commands::install::run(&book, &mut std::io::stdout())?;
            Ok(0)
        }
        Some(Command::MockHub {
            book,
            world,
            port,
            bind,
        }) => {
            let world = crate::commands::mock_hub::world_of(book.as_deref(), world.as_deref())?;
            crate::commands::mock_hub::run(std::net::SocketAddr::new(bind, port), world)?;
            Ok(0)
        }
        Some(Command::Serve {
            book,
            port,
            mock_hub,
        }) => {
            serve(&ServeOptions {
                book,
                port,
                mock_hub,
            })?;
            Ok(0)
        }
    }
}

/// The preprocessor protocol: `[context, book]` in, book out; nothing is written on error.
fn preprocess_stdin() -> anyhow::Result<()> {
    let mut input = Vec::new();
    std::io::stdin()
        .read_to_end(&mut input)
        .context("reading the book from stdin")?;
    let output = run_protocol(&input, &mut |warning| eprintln!("{warning}"))?;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&output)
        .and_then(|()| stdout.flush())
        .context("writing the book to stdout")
}
