//! The harness: runs every snippet of the book for real, with the real Hugging Face clients
//! (`huggingface_hub` and its `hf` CLI, `transformers`), against the mock Hub in [`crate::hub`].
//!
//! - [`pyenv`]: creates and caches the pinned Python environment those clients run in;
//! - [`isolation`]: the sandbox (a fresh HOME and HF_HOME per run, an environment built from
//!   nothing), the namespaces in which the real addresses lead to the case's Hub, and the network
//!   guard (a case reaches its Hub and nothing else; attempts to leave are recorded);
//! - [`case_hub`]: the case's connection to its Hub: a fresh Hub per case, so no case sees what
//!   another did (or the journey's shared one);
//! - [`plan`]: a snippet and a scenario become the processes a person would run;
//! - [`process`]: runs them in their own process group, with a timeout, an output cap and a
//!   pseudo-terminal that answers prompts; the invocation and its outcome, which the direct and
//!   the warm runner share;
//! - [`case`] and [`error`]: the case and its result, and the harness's errors, as leaves that
//!   every other part may take; `tail`, the leaf that picks the last lines of an output for an
//!   error message;
//! - [`check`]: compares what happened with what the book promises, including that the token the
//!   scenario handed over reached the Hub;
//! - [`warm`]: the warm interpreter that has imported torch once and forks a child per run (and per
//!   `hf`/`python` command of a shell snippet);
//! - [`bless`]: `--bless`, what the runs printed written back where the book shows expected output;
//! - [`runner`]: runs many cases in any order, any number of times, prints progress, and gathers
//!   the [`crate::report::Report`]; `pass` is one pass of a case (its processes run one after
//!   another and the snippet under test checked against every promise);
//! - [`stage`], [`journey`], [`rerun`], [`interrupt`], [`transcript`]: where a case runs, the book
//!   in reading order as one student, a snippet run twice, Ctrl-C, and `>>>`/`$` sessions
//!   compared prompt by prompt.
//!
//! Planning makes processes and runs none; the process layer runs what it is given and knows no
//! snippet; checking reads outcomes and changes nothing. Only the runner (and `pass`) ties them
//! together.
//!
//! `mdbook-hubcheck test` ([`crate::commands::test`]) and `tests/snippets.rs` drive it.

pub mod bless;
pub mod case;
pub mod case_hub;
pub mod check;
pub mod error;
pub mod interrupt;
pub mod isolation;
pub mod journey;
mod pass;
pub mod plan;
pub mod process;
pub mod pyenv;
pub mod rerun;
pub mod runner;
pub mod stage;
mod tail;
pub mod transcript;
pub mod warm;

pub use error::{CaseError, Error, HubError};
