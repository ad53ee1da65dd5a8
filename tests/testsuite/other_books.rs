//! Books not written for the plugin (`docs/other-books.md`): pages in the style of the Hugging
//! Face documentation, with no annotations, run as their pages say.

use std::fs;
use std::time::Duration;

use crate::prelude::*;

/// The report's entries, by `file:line`: (status, duration, message).
fn results_by_location(root: &std::path::Path) -> Vec<(String, String, Duration, String)> {
    let report = fs::read_to_string(root.join("target/hubcheck/report.json")).unwrap();
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                format!("{}:{}", r["file"].as_str().unwrap(), r["line"]),
                r["status"].as_str().unwrap().to_string(),
                Duration::from_millis(r["duration_ms"].as_u64().unwrap()),
                r["message"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn a_book_in_the_style_of_the_hugging_face_docs_runs_as_its_pages_say() {
    let book = BookFixture::copy("hf-docs-style-book");
    let output = hubcheck_test(book.root(), &[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(all.contains("7 passed, 1 failed"), "{all}");
    let results = results_by_location(book.root());
    let passed = [
        // `>>>` sessions in `py` and `python` fences, printed values compared with the page.
        "src/quickstart.md:7",
        "src/quickstart.md:22",
        // `... ` continuation and a closing bare `...`, then a `...` that elides output.
        "src/quickstart.md:30",
        // An unlabelled fence of Python.
        "src/quickstart.md:43",
        // `$ ` and `>>> ` transcripts in `bash` fences.
        "src/cli.md:5",
        "src/cli.md:20",
        // An unlabelled fence of a shell command.
        "src/cli.md:28",
    ];
    for location in passed {
        let (_, status, _, message) = results
            .iter()
            .find(|r| r.0 == location)
            .unwrap_or_else(|| panic!("no result for {location}:\n{all}"));
        assert_eq!(status, "passed", "{location}: {message}\n{all}");
    }
    let (_, status, took, message) = results
        .iter()
        .find(|r| r.0 == "src/login.md:6")
        .expect("the login's result");
    assert_eq!(status, "failed", "{all}");
    assert!(
        message.contains("waited for a person to approve the browser login (user code ")
            && message.contains("Add `browser-login = \"approve\"`"),
        "{message}"
    );
    assert!(
        *took < Duration::from_secs(5),
        "the waiting login took {took:?}"
    );
}

#[test]
fn sessions_that_no_longer_say_what_a_run_prints_fail_with_expected_against_actual() {
    let book = BookFixture::copy("hf-docs-style-mistakes-book");
    let output = hubcheck_test(book.root(), &[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(all.contains("0 passed, 4 failed"), "{all}");
    let results = results_by_location(book.root());
    let message = |location: &str| {
        results
            .iter()
            .find(|r| r.0 == location)
            .map(|r| r.3.clone())
            .unwrap_or_else(|| panic!("no result for {location}:\n{all}"))
    };

    let python = message("src/mistakes.md:5");
    assert!(
        python.contains(
            "differs from the page at src/mistakes.md:7, `>>> whoami(token=\"hf_xxx\")[\"name\"]`"
        ),
        "{python}"
    );
    assert!(
        python.contains("expected:\n        | 'someone-else'\n      actual:\n        | 'ada'"),
        "{python}"
    );

    let shell = message("src/mistakes.md:13");
    assert!(
        shell.contains("at src/mistakes.md:16, `$ hf auth whoami`"),
        "{shell}"
    );
    assert!(shell.contains("|   user: someone-else"), "{shell}");
    assert!(shell.contains("|   user: ada"), "{shell}");
    // The login before it printed what the page elides with `...`: no failure for it.
    assert!(!shell.contains("src/mistakes.md:14,"), "{shell}");

    // Without `transcript-may-differ`, the writer's home folder and commit id must be the run's.
    let paths = message("src/mistakes.md:24");
    assert!(
        paths.contains("| '/home/user/.cache/huggingface/hub/"),
        "{paths}"
    );
    assert!(paths.contains("snapshots/"), "{paths}");

    let unclear = message("src/mistakes.md:32");
    assert!(
        unclear.contains(
            "src/mistakes.md:32: cannot tell what this block is: a fence with no language"
        ),
        "{unclear}"
    );
}
