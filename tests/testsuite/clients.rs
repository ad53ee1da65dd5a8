//! `mdbook-hubcheck test --clients SPEC` on a fixture book with one `hf auth login` snippet: an
//! older `huggingface_hub` that has `hf auth` passes, one without the `hf` command fails with the
//! reason and a drift summary, both record their versions, and a set that does not resolve is an
//! error before any snippet runs.
//!
//! Each variant environment is resolved by uv against the package registry and built from the
//! lock minus the overridden clients; uv links torch and the other unchanged packages from its
//! cache, so a new one takes about 10-20 s here (and nothing once cached).

use std::process::{Command, Output};

use mdbook_hubcheck::harness::pyenv;
use mdbook_hubcheck::report::{Report, Status};

use crate::prelude::*;

/// The oldest line of releases with `hf auth login`, which came in 0.34.
const WITH_HF_AUTH: &str = "0.36.2";
/// From before the `hf` command existed (only `huggingface-cli`).
const WITHOUT_HF: &str = "0.20.3";

fn run_with_clients(book: &BookFixture, clients: &str) -> Output {
    Command::new(binary())
        .args(["test", "--book", book.root().to_str().unwrap()])
        .args(["--jobs", "1", "--filter", "login", "--clients", clients])
        .env_remove("GITHUB_ACTIONS")
        .output()
        .expect("run mdbook-hubcheck test")
}

fn report(book: &BookFixture, name: &str) -> Report {
    let path = book.root().join("target/hubcheck").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn hub_version(report: &Report) -> Vec<String> {
    report
        .results
        .iter()
        .map(|r| {
            r.clients
                .get("huggingface_hub")
                .cloned()
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn an_older_hub_client_with_hf_auth_passes_and_records_its_versions() {
    let book = BookFixture::copy("clients-book");
    let output = run_with_clients(&book, &format!("huggingface_hub=={WITH_HF_AUTH}"));
    let all = text(&output);
    assert!(output.status.success(), "{all}");
    assert!(all.contains("drift: none"), "{all}");
    let other = report(&book, "clients-report.json");
    assert_eq!(other.results.len(), 1, "{all}");
    assert_eq!(other.results[0].status, Status::Passed);
    assert_eq!(hub_version(&other), [WITH_HF_AUTH]);
    assert_eq!(other.clients["huggingface_hub"], WITH_HF_AUTH);
    // The comparison run used the lock, and its report is the one the badges read.
    let pinned = report(&book, "report.json");
    assert_eq!(
        hub_version(&pinned),
        [pyenv::locked_version("huggingface_hub").unwrap()]
    );
}

#[test]
fn a_hub_client_without_hf_fails_with_the_reason_in_the_drift_summary() {
    let book = BookFixture::copy("clients-book");
    let output = run_with_clients(&book, &format!("huggingface_hub=={WITHOUT_HF}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    let drift = &stdout[stdout.find("drift:").expect("a drift summary")..];
    assert!(
        drift.contains("1 snippet-scenario(s) pass on the lock and fail"),
        "{drift}"
    );
    assert!(
        drift.contains(&format!("huggingface_hub {WITHOUT_HF}")),
        "{drift}"
    );
    assert!(
        drift.contains("login.md:13 bash login read-token"),
        "{drift}"
    );
    assert!(drift.contains("expected exit status 0, got 127"), "{drift}");
    assert!(drift.contains("hf: command not found"), "{drift}");
    let other = report(&book, "clients-report.json");
    assert_eq!(other.results[0].status, Status::Failed);
    assert_eq!(hub_version(&other), [WITHOUT_HF]);
    let pinned = report(&book, "report.json");
    assert_eq!(pinned.results[0].status, Status::Passed);
}

#[test]
fn versions_that_do_not_resolve_are_an_error_before_any_snippet_runs() {
    let book = BookFixture::copy("clients-book");
    let output = run_with_clients(&book, "huggingface_hub==99.0.0");
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(all.contains("the versions do not resolve"), "{all}");
    assert!(all.contains("huggingface-hub==99.0.0"), "{all}");
    assert!(!all.contains("running "), "no snippet may run: {all}");
    assert!(!book.root().join("target/hubcheck").exists(), "{all}");

    let output = run_with_clients(&book, "huggingface_hub>=1");
    let all = text(&output);
    assert_eq!(output.status.code(), Some(2), "a usage error: {all}");
    assert!(all.contains("name==version"), "{all}");
}
