//! The command line of the `mdbook-hubcheck` binary.
//!
//! Without a subcommand the binary is an mdBook preprocessor: mdBook calls it with `supports
//! <renderer>` and then with `[context, book]` JSON on stdin. The subcommands are for people:
//! building the book in-process, and (with later parts) serving it, running the mock Hub and
//! testing every snippet.

use std::io::{Read, Write};
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::build::{BuildOptions, build};
use crate::preprocess::protocol;
use crate::widgets::serve::{ServeOptions, serve};

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
    let output = protocol::run(&input, &mut |warning| eprintln!("{warning}"))?;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&output)
        .and_then(|()| stdout.flush())
        .context("writing the book to stdout")
}
