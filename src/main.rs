//! The `mdbook-hubcheck` binary: parse arguments, call the library, turn errors into exit codes.

use std::process::ExitCode;

use clap::Parser;
use mdbook_hubcheck::cli::{Cli, run};

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(1)
        }
    }
}
