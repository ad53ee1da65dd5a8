//! mdbook-hubcheck: the toolchain behind the UniDive course handbook on Hugging Face access tokens.
//!
//! Three parts work as one:
//!
//! - [`preprocess`] is the mdBook preprocessor: it strips the harness's snippet annotations, expands
//!   `{{#hubcheck ...}}` widget directives and refuses token-shaped strings in the book.
//! - [`widgets`] renders the HTML (and text fallbacks) that the preprocessor injects.
//! - [`snippets`] pulls every fenced code block and its annotation out of the book; [`harness`] runs
//!   them for real against the mock Hugging Face Hub in [`hub`] (the crate `hubcheck-mock-hub`, which
//!   depends on nothing of this one).
//!
//! Shared by all of them: [`settings`] owns `[preprocessor.hubcheck]` and every path derived from
//! it, [`secrets`] knows what a token looks like, [`report`] is the harness report that the badges
//! read, and [`server`] runs an axum app on a background thread.
//!
//! [`cli`] parses the command line of the `mdbook-hubcheck` binary and [`commands`] holds the glue
//! of each subcommand (build, serve, test, mock-hub).

/// The folder, relative to a book's root, that holds everything the toolchain writes; a macro so
/// that the constants derived from it can be built with `concat!`.
macro_rules! hubcheck_dir {
    () => {
        "target/hubcheck"
    };
}

pub mod cli;
pub mod commands;
pub mod harness;
/// The mock Hugging Face Hub: the crate `hubcheck-mock-hub` (`crates/mock-hub`), under the name
/// the plugin has always used for it.
pub use mock_hub as hub;
pub mod preprocess;
pub mod report;
pub mod secrets;
/// An axum app on a background thread: the mock Hub crate's, which the plugin uses to serve a book
/// in tests too.
pub use mock_hub::server;
pub mod settings;
pub mod snippets;
pub mod widgets;
