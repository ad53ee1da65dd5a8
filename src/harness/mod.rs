//! The harness: runs every snippet of the book for real, with the real Hugging Face clients
//! (`huggingface_hub` and its `hf` CLI, `transformers`), against the mock Hub in [`crate::hub`].
//!
//! - [`pyenv`]: creates and caches the pinned Python environment those clients run in;
//! - [`sandbox`]: a fresh HOME and HF_HOME per run, an environment built from nothing;
//! - [`plan`]: a snippet and a scenario become the processes a person would run;
//! - [`process`]: runs them in their own process group, with a timeout, an output cap and a
//!   pseudo-terminal that answers prompts;
//! - [`check`]: compares what happened with what the book promises;
//! - [`runner`]: run many cases, print progress, and gather the [`crate::report::Report`];
//! - [`world`]: what the harness needs from a Hub.
//!
//! `mdbook-hubcheck test` ([`crate::commands::test`]) and `tests/snippets.rs` drive it.

pub mod check;
pub mod plan;
pub mod process;
pub mod pyenv;
pub mod runner;
pub mod sandbox;
pub mod world;
