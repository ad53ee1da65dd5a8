//! A student's account has a history: `test --journey` (the book in reading order as one student,
//! in one world and home) and `test --rerun` (every scenario twice in the same world and home, a
//! notebook cell twice in one Python process), on fixture books and on the handbook.

use std::fs;
use std::path::Path;
use std::process::Output;

use crate::prelude::*;

/// Runs `mdbook-hubcheck test --book <root>` with `args`.
fn hubcheck(root: &Path, args: &[&str]) -> Output {
    let mut all = vec!["test", "--book", root.to_str().unwrap()];
    all.extend(args);
    run_binary(&all, b"")
}

/// The `ok`/`FAILED` lines of a run, in the order printed.
fn verdict_lines(all: &str) -> Vec<&str> {
    all.lines()
        .filter(|l| l.starts_with("ok ") || l.starts_with("FAILED "))
        .collect()
}

/// The verdict word of the line that names `id`.
fn verdict_of<'a>(all: &'a str, id: &str) -> &'a str {
    let line = verdict_lines(all)
        .into_iter()
        .find(|l| l.contains(&format!(" {id} ")))
        .unwrap_or_else(|| panic!("no line for {id}:\n{all}"));
    line.split_whitespace().next().unwrap()
}

/// The failure section of the case `id`: from its `---- ... ----` heading to the next one.
fn failure_of<'a>(all: &'a str, id: &str) -> &'a str {
    let start = all
        .find(&format!(" {id} "))
        .and_then(|_| {
            all.match_indices("---- ")
                .map(|(i, _)| i)
                .find(|&i| all[i..].lines().next().is_some_and(|l| l.contains(id)))
        })
        .unwrap_or_else(|| panic!("no failure for {id}:\n{all}"));
    let rest = &all[start + 5..];
    let end = rest.find("\n---- ").map_or(rest.len(), |e| e + 5);
    &all[start..start + end]
}

#[test]
fn rerun_fails_a_snippet_only_on_its_second_run_and_a_notebook_cell_reruns_in_the_same_process() {
    let book = BookFixture::copy("rerun-book");
    let output = hubcheck(book.root(), &["--rerun"]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(all.contains("2 passed, 2 failed"), "{all}");
    // Made without exist_ok: the Hub's 409 on the second run, named as the second run.
    let create = failure_of(&all, "create-once");
    assert!(
        create.contains("scenario write-token, second run"),
        "{create}"
    );
    assert!(
        create.contains("You already created this model repo"),
        "{create}"
    );
    // The same code passes as a script (a new process sees HF_TOKEN again) and fails as a
    // notebook cell, whose second run is in the process that popped the variable.
    assert_eq!(verdict_of(&all, "pop-script"), "ok", "{all}");
    let cell = failure_of(&all, "pop-cell");
    assert!(cell.contains("scenario env-token, second run"), "{cell}");
    assert!(cell.contains("KeyError: 'HF_TOKEN'"), "{cell}");
    // first-run-output and rerun-output: each run is held to its own text.
    assert_eq!(verdict_of(&all, "logout-twice"), "ok", "{all}");
    let hubcheck_dir = book.root().join("target/hubcheck");
    assert!(hubcheck_dir.join("rerun-report.json").is_file(), "{all}");
    assert!(
        !hubcheck_dir.join("report.json").exists(),
        "a rerun must leave the report the badges read alone"
    );

    let once = hubcheck(book.root(), &[]);
    let all = text(&once);
    assert_eq!(
        once.status.code(),
        Some(0),
        "a single run passes them all:\n{all}"
    );
    assert!(all.contains("4 passed, 0 failed"), "{all}");
}

#[test]
fn a_journey_runs_the_book_in_reading_order_in_one_world_and_home() {
    let book = BookFixture::copy("journey-book");
    let output = hubcheck(book.root(), &["--journey"]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(all.contains("5 passed, 1 failed"), "{all}");
    let order: Vec<&str> = verdict_lines(&all)
        .iter()
        .map(|l| l.split_whitespace().nth(3).unwrap())
        .collect();
    assert_eq!(
        order,
        [
            "login",
            "upload",
            "whoami",
            "download",
            "fresh",
            "history-wrong"
        ],
        "SUMMARY order, not file names:\n{all}"
    );
    // What earlier pages did is still there: the login, the uploaded file.
    assert_eq!(verdict_of(&all, "whoami"), "ok", "{all}");
    assert_eq!(verdict_of(&all, "download"), "ok", "{all}");
    // A page that must assume a fresh account says so, and the journey shows it.
    let fresh = verdict_lines(&all)
        .into_iter()
        .find(|l| l.contains(" fresh "))
        .unwrap();
    assert!(
        fresh.starts_with("ok ")
            && fresh.contains("[in a fresh world: it shows a computer where nobody has logged in]"),
        "{fresh}"
    );
    // A promise true only for a fresh account fails, with what the history made of it.
    let wrong = failure_of(&all, "history-wrong");
    assert!(wrong.contains("expected exit status 1, got 0"), "{wrong}");
    let hubcheck_dir = book.root().join("target/hubcheck");
    assert!(hubcheck_dir.join("journey-report.json").is_file(), "{all}");
    assert!(!hubcheck_dir.join("report.json").exists(), "{all}");

    // Each scenario in a world of its own: the pages that lean on history fail, the one that
    // needs a fresh account passes.
    let apart = hubcheck(book.root(), &[]);
    let all = text(&apart);
    assert_eq!(verdict_of(&all, "whoami"), "FAILED", "{all}");
    assert_eq!(verdict_of(&all, "download"), "FAILED", "{all}");
    assert_eq!(verdict_of(&all, "history-wrong"), "ok", "{all}");
}

#[test]
fn journey_refuses_options_that_contradict_one_student_in_reading_order() {
    let book = BookFixture::copy("journey-book");
    for extra in [["--order", "reverse"], ["--repeat", "2"]] {
        let mut args = vec!["--journey"];
        args.extend(extra);
        let output = hubcheck(book.root(), &args);
        let all = text(&output);
        assert_eq!(output.status.code(), Some(2), "{all}");
        assert!(all.contains("cannot be used with"), "{all}");
    }
    let output = hubcheck(book.root(), &["--rerun", "--bless"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
}

/// Runs the handbook (a copy) with `args`; asserts that every case passed and returns the output.
fn handbook_passes(args: &[&str]) -> String {
    let dir = handbook_copy();
    let output = hubcheck(dir.path(), args);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(0), "{all}");
    let closing = all
        .lines()
        .find(|l| l.contains(" passed, "))
        .unwrap_or_else(|| panic!("no closing line:\n{all}"));
    assert!(closing.contains(" passed, 0 failed"), "{closing}");
    all
}

#[test]
fn the_handbook_keeps_its_promises_in_one_journey() {
    let all = handbook_passes(&["--journey"]);
    assert!(all.contains("in ONE world and home"), "{all}");
    // The entries that show a fresh account's errors say so.
    for id in ["trouble-not-logged-in", "trouble-gated"] {
        let line = verdict_lines(&all)
            .into_iter()
            .find(|l| l.contains(&format!(" {id} ")))
            .unwrap();
        assert!(line.contains("[in a fresh world: "), "{line}");
    }
}

#[test]
fn the_handbooks_write_check_is_true_in_a_world_where_its_test_repository_exists() {
    let dir = handbook_copy();
    let world = dir.path().join("hub-world.toml");
    let text_of_world = fs::read_to_string(&world).unwrap();
    let student = text_of_world
        .lines()
        .find_map(|l| l.strip_prefix("student = "))
        .map(|s| s.trim_matches('"').to_string())
        .expect("the world names its student");
    // As if the student had run the old check once with a write token.
    fs::write(
        &world,
        format!(
            "{text_of_world}\n[[repos]]\nid = \"{student}/permission-test\"\ngenerate = \"bert\"\n"
        ),
    )
    .unwrap();
    let output = hubcheck(dir.path(), &["--filter", "trouble-", "--jobs", "2"]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(0), "{all}");
    for case in [
        "trouble-permission read-token",
        "trouble-can-write read-token",
        "trouble-can-write write-token",
    ] {
        assert!(
            all.contains(case) && verdict_of(&all, case.split(' ').next().unwrap()) == "ok",
            "{case}:\n{all}"
        );
    }
}
