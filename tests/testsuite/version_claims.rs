//! The versions the handbook names are the ones the harness runs, so a claim such as "tested with
//! version 2.4" or "3.11 or higher" is measured, not trusted: when the lock moves (by hand or by the
//! drift job's bless), the sentence must move with it, and this test names the line.

use mdbook_hubcheck::harness::pyenv;
use regex::Regex;

use crate::prelude::repo_root;

/// Every match of `pattern` (one capture group) in the handbook's pages, with its `file:line`.
fn claims(pattern: &str) -> Vec<(String, String)> {
    let re = Regex::new(pattern).unwrap();
    let mut found = Vec::new();
    for page in crate::prelude::files_under(&repo_root().join("book")) {
        if page.extension().is_none_or(|e| e != "md" && e != "py") {
            continue;
        }
        let text = std::fs::read_to_string(&page).unwrap();
        // Sentences wrap; newlines become spaces (same length, so offsets stay lines apart).
        let joined = text.replace('\n', " ");
        for capture in re.captures_iter(&joined) {
            let start = capture.get(0).unwrap().start();
            let line = text[..start].matches('\n').count() + 1;
            let name = page
                .strip_prefix(repo_root())
                .unwrap()
                .display()
                .to_string();
            found.push((format!("{name}:{line}"), capture[1].to_string()));
        }
    }
    found
}

/// `major.minor` of a locked package.
fn locked_minor(package: &str) -> String {
    minor_of(&pyenv::locked_version(package).unwrap_or_else(|| panic!("{package} is not locked")))
}

/// `major.minor` of a version such as `2.4.0` or `3.11.7`.
fn minor_of(version: &str) -> String {
    version.split('.').take(2).collect::<Vec<_>>().join(".")
}

fn assert_claims(pattern: &str, expected: &str, what: &str, at_least: usize) {
    let found = claims(pattern);
    assert!(
        found.len() >= at_least,
        "expected at least {at_least} sentence(s) naming {what} (pattern {pattern}), found {found:?}"
    );
    for (place, claimed) in found {
        assert_eq!(
            claimed, expected,
            "{place}: the handbook names {what} {claimed}, the harness runs {expected}"
        );
    }
}

#[test]
fn the_client_versions_the_handbook_names_are_the_pinned_ones() {
    let hub = locked_minor("huggingface_hub");
    let transformers = locked_minor("transformers");
    assert_claims(
        r"`huggingface_hub`\s+(\d+\.\d+)",
        &hub,
        "huggingface_hub",
        2,
    );
    assert_claims(
        r"tested\s+with\s+version\s+(\d+\.\d+)",
        &hub,
        "the hf version",
        1,
    );
    assert_claims(
        r"`transformers`\s+(\d+\.\d+)",
        &transformers,
        "transformers",
        3,
    );
}

/// The oldest Python the book allows is the newest `Requires-Python` lower bound among the pinned
/// packages (measured in the pinned environment), and the Python it says it is tested with is the
/// environment's.
#[test]
fn the_python_versions_the_handbook_names_are_measured() {
    let env = pyenv::ensure_default().expect("pinned environment");
    let running = minor_of(&env.versions().expect("the environment's versions").python);
    let out = env
        .command("python")
        .args(["-c", OLDEST_PYTHON])
        .output()
        .expect("run the pinned python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let oldest = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_claims(
        r"must\s+be\s+\*\*(3\.\d+)\s+or\s+higher\*\*",
        &oldest,
        "the oldest Python",
        1,
    );
    assert_claims(r"lower\s+than\s+(3\.\d+),", &oldest, "the oldest Python", 1);
    assert_claims(
        r"tested\s+with\s+Python\s+(3\.\d+)",
        &running,
        "the tested Python",
        1,
    );
    assert_claims(
        r"with\s+Python\s+(3\.\d+)\s+and\s+PyTorch",
        &running,
        "the tested Python",
        1,
    );
}

/// Prints `3.Y`: the highest `>=3.Y` among the installed packages' `Requires-Python`.
const OLDEST_PYTHON: &str = r#"
import re
from importlib import metadata
oldest = (3, 0)
for dist in metadata.distributions():
    spec = dist.metadata.get("Requires-Python") or ""
    for major, minor in re.findall(r">=\s*(\d+)\.(\d+)", spec):
        oldest = max(oldest, (int(major), int(minor)))
print(f"{oldest[0]}.{oldest[1]}")
"#;
