//! mdbook-hubcheck: the toolchain behind the UniDive course handbook on Hugging Face access tokens.
//!
//! Three parts work as one:
//!
//! - [`preprocess`] is the mdBook preprocessor: it strips the harness's snippet annotations, expands
//!   `{{#hubcheck ...}}` widget directives and refuses token-shaped strings in the book.
//! - [`widgets`] renders the HTML (and text fallbacks) that the preprocessor injects.
//! - [`snippets`] pulls every fenced code block and its annotation out of the book; [`harness`] runs
//!   them for real against the mock Hugging Face Hub in [`hub`].
//!
//! [`cli`] holds the command-line interface of the `mdbook-hubcheck` binary, and [`build`] the
//! in-process `mdbook build` that registers the preprocessor.

pub mod build;
pub mod cli;
pub mod harness;
pub mod hub;
pub mod preprocess;
pub mod report;
pub mod snippets;
pub mod widgets;
