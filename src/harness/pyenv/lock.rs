//! The lock as text: the built-in lock, its requirement lines, its `name==version` pins, and the
//! cache key an environment built from it gets.
//!
//! Owns the reading of requirement files and nothing else: it runs no process, touches no file
//! and imports nothing of the crate, so every other part of the environment may take from it.

use sha2::{Digest, Sha256};

/// The built-in lock (the handbook's `hub-requirements.txt`): every package pinned with its
/// hashes, for books that bring no requirements of their own.
pub const LOCKED_REQUIREMENTS: &str = include_str!("../../../hub-requirements.txt");

/// The top-level packages the built-in lock was compiled from (`hub-requirements.in`).
pub const TOP_LEVEL_REQUIREMENTS: &str = include_str!("../../../hub-requirements.in");

/// The requirements an environment is installed from, and whether `hf` must run in it.
pub(super) struct LockText<'a> {
    /// A full `name==version` lock, installed with `--no-deps`.
    pub(super) text: &'a str,
    /// The pinned clients have the `hf` command; an older `--clients` set may not (the snippets
    /// that use it then fail, with the reason).
    pub(super) require_hf: bool,
}

/// The cache key of a lock and a base interpreter version: the first 16 hex digits of the SHA-256
/// of the lock's requirement lines (trimmed, comments and blank lines dropped) and the version.
pub fn cache_key(lock: &str, python_version: &str) -> String {
    let mut hasher = Sha256::new();
    for line in requirement_lines(lock) {
        hasher.update(line.as_bytes());
        hasher.update(b"\n");
    }
    hasher.update(b"python=");
    hasher.update(python_version.as_bytes());
    hex::encode(hasher.finalize())[..16].to_string()
}

/// The `name==version` pins of a lock, in order.
pub fn pinned_packages(lock: &str) -> Vec<(String, String)> {
    requirement_lines(lock)
        .filter_map(|line| {
            let spec = line.split(';').next().unwrap_or(line).trim();
            let (name, version) = spec.split_once("==")?;
            let version = version.trim().trim_end_matches('\\').trim();
            Some((name.trim().to_string(), version.to_string()))
        })
        .collect()
}

/// The locked version of a package (names compared the way PyPI does: case and `-_.` ignored).
pub fn locked_version(package: &str) -> Option<String> {
    let wanted = normalize_name(package);
    pinned_packages(LOCKED_REQUIREMENTS)
        .into_iter()
        .find(|(name, _)| normalize_name(name) == wanted)
        .map(|(_, version)| version)
}

/// A package name the way PyPI compares them: lower case, `_` and `.` as `-`.
pub(super) fn normalize_name(name: &str) -> String {
    name.to_ascii_lowercase().replace(['_', '.'], "-")
}

/// The lines of a requirements file that say something: comments cut off, trimmed, blank ones
/// dropped.
pub(super) fn requirement_lines(lock: &str) -> impl Iterator<Item = &str> {
    requirement_lines_numbered(lock).map(|(_, line)| line)
}

/// [`requirement_lines`] with each line's 1-based number.
pub(super) fn requirement_lines_numbered(lock: &str) -> impl Iterator<Item = (usize, &str)> {
    lock.lines()
        .enumerate()
        .map(|(i, line)| {
            (
                i + 1,
                line.split_once('#').map_or(line, |(code, _)| code).trim(),
            )
        })
        .filter(|(_, line)| !line.is_empty())
}
