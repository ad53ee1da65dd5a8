//! The `mdbook-hubcheck` binary: parse arguments, call the library, turn errors into exit codes.

use std::process::ExitCode;

use clap::Parser;
use mdbook_hubcheck::cli::{Cli, run};

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {}", message(&error));
            ExitCode::from(1)
        }
    }
}

/// The error and its causes, joined by ": ", leaving out a cause whose text the message already
/// holds (many of our errors name their cause in their own text, as `cannot read it: {source}`).
fn message(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}
