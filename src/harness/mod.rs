//! The snippet harness: runs every code snippet of the handbook for real, with the real Hugging
//! Face clients (`huggingface_hub` and its `hf` CLI, `transformers`), against the mock Hub in
//! [`crate::hub`].
//!
//! - [`pyenv`] creates and caches the pinned Python environment those clients run in.
//!
//! The runner itself comes with its own issue.

pub mod pyenv;
