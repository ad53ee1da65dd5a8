//! Helpers shared by the test modules.

#![allow(dead_code)]

use std::path::PathBuf;

/// The repository root, where `book.toml` and `book/` live.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The folder holding the fixture books and inputs, one subfolder per case.
pub fn fixtures() -> PathBuf {
    repo_root().join("tests/fixtures")
}
