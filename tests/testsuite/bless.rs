//! `test --bless`: expected texts rewritten from what the runs printed, and nothing else.
//!
//! Each test alters a copy of a book's expected texts, runs `--bless` on the pages it altered
//! (`--filter`, to stay fast) and compares the files with the originals byte for byte.

use std::fs;
use std::path::{Path, PathBuf};

use crate::prelude::*;

/// Replaces each `(from, to)` once in `file`, failing when `from` is not there.
fn alter(file: &Path, changes: &[(&str, &str)]) {
    let mut text = fs::read_to_string(file).unwrap();
    for (from, to) in changes {
        assert!(text.contains(from), "{} has no {from:?}", file.display());
        text = text.replacen(from, to, 1);
    }
    fs::write(file, text).unwrap();
}

/// The 1-based line of `file` that starts with `start` and comes after the line starting with
/// `after` (the lines a report names, found in the page itself so that edits above them do not
/// break the test).
fn line_of(file: &Path, after: &str, start: &str) -> usize {
    let text = fs::read_to_string(file).unwrap();
    let from = text
        .lines()
        .position(|l| l.starts_with(after))
        .unwrap_or_else(|| panic!("{} has no line starting with {after:?}", file.display()));
    from + 1
        + text
            .lines()
            .skip(from)
            .position(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("{} has no line starting with {start:?}", file.display()))
}

/// `mdbook-hubcheck test --book ROOT --bless --filter FILTER`.
fn bless(root: &Path, filter: &str) -> std::process::Output {
    std::process::Command::new(binary())
        .args(["test", "--book", root.to_str().unwrap(), "--jobs", "2"])
        .args(["--bless", "--filter", filter])
        .output()
        .expect("run mdbook-hubcheck test --bless")
}

/// Every file under `dir` with its bytes, relative to `dir`.
fn contents(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<(PathBuf, Vec<u8>)> = files_under(dir)
        .into_iter()
        .map(|f| {
            (
                f.strip_prefix(dir).unwrap().to_path_buf(),
                fs::read(&f).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

const TESTING: &str = "book/testing-your-token.md";
const TROUBLE: &str = "book/troubleshooting.md";

#[test]
fn bless_restores_altered_expected_blocks_and_stdout_texts_of_the_handbook_byte_for_byte() {
    let dir = handbook_copy();
    let original = contents(&dir.path().join("book"));
    alter(
        &dir.path().join(TESTING),
        &[
            // A word dropped, a placeholder changed, a word changed: three texts of one key.
            (
                "\"Success! This token belongs to: {user}\", \"Token name: unidive-read\", \"Token type: read\"",
                "\"Success! This token belongs to: someone-else\", \"Token nam: unidive-read\", \"Token type: reader\"",
            ),
            (
                "\"Success! This token belongs to: {user}\", \"Token type: write\"",
                "\"Success! This token belongs to: {user}\", \"Token type: writer\"",
            ),
            (
                "name = \"invalid-token\"\ntoken = \"invalid\"\nstdout = [\"The token does not work:\", \"Invalid user token.\"]",
                "name = \"invalid-token\"\ntoken = \"invalid\"\nstdout = [\"The token did not work:\", \"Invalid usr token.\"]",
            ),
            // The expected-output block: a changed word and a placeholder replaced by a value.
            (
                "Success! This token belongs to: your-username\nToken name: your-token-name\n",
                "Success! This token belonged to: your-username\nToken name: unidive-write\n",
            ),
        ],
    );
    alter(
        &dir.path().join(TROUBLE),
        &[
            (
                "name = \"clean-token\"\ntoken = \"read\"\nstdout = [\"Logged in as {user}\"]",
                "name = \"clean-token\"\ntoken = \"read\"\nstdout = [\"Logged on as {user}\"]",
            ),
            (
                "my_token = \"hf_your_token_here\".strip()\n\nuser_info = HfApi().whoami(token=my_token)\nprint(\"Logged in as\", user_info[\"name\"])\n```\n\n```text\nLogged in as your-username\n",
                "my_token = \"hf_your_token_here\".strip()\n\nuser_info = HfApi().whoami(token=my_token)\nprint(\"Logged in as\", user_info[\"name\"])\n```\n\n```text\nLogged in as somebody\n",
            ),
        ],
    );
    assert_ne!(original, contents(&dir.path().join("book")));
    let testing = dir.path().join(TESTING);
    let stdout_line = line_of(&testing, "id = \"test-token-python\"", "stdout = ");
    let block_line = line_of(&testing, "check_token(my_token)", "```text");

    let first = bless(dir.path(), "test-token-python");
    let all = text(&first);
    assert!(first.status.success(), "{all}");
    assert!(
        all.contains(&format!(
            "{TESTING}:{stdout_line} (scenario read-token stdout, 3 lines): \"Success! This token belongs to: someone-else\" -> \"Success! This token belongs to: {{user}}\""
        )),
        "{all}"
    );
    assert!(
        all.contains(&format!(
            "{TESTING}:{block_line} (output block, 2 lines): \"Success! This token belonged to: your-username\" -> \"Success! This token belongs to: your-username\""
        )),
        "{all}"
    );
    assert!(
        all.contains("bless: 4 block(s) rewritten (8 line(s)) in 1 file(s), 0 left for a person"),
        "{all}"
    );
    let second = bless(dir.path(), "trouble-whitespace-fixed");
    let all = text(&second);
    assert!(second.status.success(), "{all}");
    assert!(
        all.contains("bless: 2 block(s) rewritten (2 line(s)) in 1 file(s)"),
        "{all}"
    );

    assert!(
        original == contents(&dir.path().join("book")),
        "the blessed book differs from the original"
    );
    let again = bless(dir.path(), "test-token-python");
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        text(&again).contains("bless: 0 block(s) rewritten"),
        "{}",
        text(&again)
    );
}

#[test]
fn bless_refuses_a_scenario_whose_exit_status_changed_and_blesses_the_others() {
    let dir = handbook_copy();
    let file = dir.path().join(TESTING);
    let original = fs::read_to_string(&file).unwrap();
    let refused_entry = "\"Token type: reader\"]\nexit = 2";
    alter(
        &file,
        &[
            ("\"Token type: read\"]", refused_entry),
            (
                "Token name: your-token-name\n",
                "Token name: unidive-write\n",
            ),
            ("\"Token type: write\"", "\"Token type: writer\""),
        ],
    );
    let snippet_line = line_of(&file, "id = \"test-token-python\"", "```python");
    let output = bless(dir.path(), "test-token-python");
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(
        all.contains(&format!(
            "not blessed: {TESTING}:{snippet_line} scenario `read-token`: the exit status changed (the annotation says 2, the run ended with 0)"
        )),
        "{all}"
    );
    let after = fs::read_to_string(&file).unwrap();
    // The refused scenario's texts and its output block stay as they were altered ...
    assert!(after.contains(refused_entry), "{after}");
    assert!(after.contains("Token name: unidive-write\n"), "{after}");
    // ... and the other scenario is blessed.
    assert!(after.contains("\"Token type: write\""), "{after}");
    assert_eq!(
        after,
        original
            .replacen("\"Token type: read\"]", refused_entry, 1)
            .replacen(
                "Token name: your-token-name\n",
                "Token name: unidive-write\n",
                1
            )
    );
}

#[test]
fn bless_writes_texts_in_the_included_file_they_are_written_in_and_leaves_what_is_unlike_anything_printed()
 {
    let book = BookFixture::copy("includes-book");
    let block = book.root().join("src/parts/block.md");
    let inner = book.root().join("src/parts/deeper/inner.md");
    let chapter = book.root().join("src/chapter.md");
    let originals = [&block, &inner, &chapter].map(|f| fs::read(f).unwrap());
    alter(
        &block,
        &[(
            "stdout = [\"inside block.md\"]",
            "stdout = [\"inside blok.md\"]",
        )],
    );
    alter(
        &inner,
        &[(
            "stdout = [\"two includes deep\"]",
            "stdout = [\"two include deep\"]",
        )],
    );
    let output = std::process::Command::new(binary())
        .args(["test", "--book", book.root().to_str().unwrap(), "--bless"])
        .output()
        .unwrap();
    let all = text(&output);
    // The chapter's last block promises a text nothing printed resembles: left for a person.
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(
        all.contains(
            "not blessed: src/chapter.md:58: \"something it never prints\" no longer appears"
        ),
        "{all}"
    );
    assert!(
        all.contains(
            "src/parts/block.md:8 (scenario echo stdout): \"inside blok.md\" -> \"inside block.md\""
        ),
        "{all}"
    );
    assert!(all.contains("in 2 file(s)"), "{all}");
    let now = [&block, &inner, &chapter].map(|f| fs::read(f).unwrap());
    assert!(now == originals, "{all}");
}
