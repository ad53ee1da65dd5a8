//! Building whole books: in-process through `mdbook-hubcheck build`, and with mdBook calling the
//! binary as a command preprocessor, as a stock `mdbook build` does.

use std::fs;
use std::path::{Path, PathBuf};

use mdbook_driver::MDBook;
use mdbook_hubcheck::commands::build::{BuildOptions, build};

use crate::prelude::*;

/// Every `.md` file that SUMMARY.md links to, relative to the source folder.
fn summary_chapters(src: &Path) -> Vec<PathBuf> {
    let summary = fs::read_to_string(src.join("SUMMARY.md")).unwrap();
    let link = regex::Regex::new(r"\]\(([^)]+\.md)\)").unwrap();
    link.captures_iter(&summary)
        .map(|c| PathBuf::from(&c[1]))
        .collect()
}

/// Text of every file under `dir`, for files that are text.
fn output_texts(dir: &Path) -> Vec<(PathBuf, String)> {
    files_under(dir)
        .into_iter()
        .filter_map(|p| fs::read_to_string(&p).ok().map(|t| (p, t)))
        .collect()
}

fn assert_no_annotation_text(out: &Path, markers: &[&str]) {
    for (path, text) in output_texts(out) {
        for marker in markers {
            assert!(
                !text.contains(marker),
                "{} contains annotation text {marker:?}",
                path.display()
            );
        }
    }
}

#[test]
fn handbook_builds_with_every_chapter_widgets_and_no_annotations() {
    let dest = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let root = repo_root();
    let out = build(&BuildOptions {
        book: root.clone(),
        dest: Some(dest.path().to_path_buf()),
        hub_endpoint: None,
    })
    .expect("the handbook builds");
    assert!(out.join("index.html").is_file());
    let search_index = fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| e.file_name().to_string_lossy().starts_with("searchindex"));
    assert!(
        search_index,
        "search is enabled: no searchindex file in the output"
    );

    let src = root.join("book");
    let chapters = summary_chapters(&src);
    assert!(
        chapters.len() >= 8,
        "the handbook has {} chapters",
        chapters.len()
    );
    let mut pages_with_widgets = 0;
    for chapter in &chapters {
        let html_path = out.join(chapter.with_extension("html"));
        let html = fs::read_to_string(&html_path)
            .unwrap_or_else(|e| panic!("{}: {e}", html_path.display()));
        let source = fs::read_to_string(src.join(chapter)).unwrap();
        if source.contains("{{#hubcheck token-check") {
            pages_with_widgets += 1;
            assert!(
                html.contains("class=\"hubcheck-token-check\""),
                "{} lacks the token checker",
                html_path.display()
            );
        }
    }
    assert!(
        pages_with_widgets >= 1,
        "no page of the handbook uses the token checker"
    );
    assert_no_annotation_text(&out, &["<!-- hubcheck", "[[scenario]]", "{{#hubcheck"]);
}

#[test]
fn fixture_book_builds_in_process() {
    let book = BookFixture::copy("widget-book");
    let out = build(&BuildOptions {
        book: book.root().to_path_buf(),
        dest: None,
        hub_endpoint: None,
    })
    .unwrap();
    let check = fs::read_to_string(out.join("check.html")).unwrap();
    assert!(check.contains("<div class=\"hubcheck-token-check\" data-role=\"read\" data-hub-endpoint=\"http://127.0.0.1:9\">"));
    assert!(
        fs::read_to_string(out.join("upload.html"))
            .unwrap()
            .contains("data-role=\"write\"")
    );
    assert_no_annotation_text(&out, &["ANNOTATION-MARKER", "<!-- hubcheck"]);
}

#[test]
fn stock_mdbook_runs_the_binary_as_a_command_preprocessor() {
    let book = BookFixture::copy("widget-book");
    let mut md = MDBook::load(book.root()).unwrap();
    // What `mdbook build` does with `[preprocessor.hubcheck]`: spawn `command` and talk JSON.
    md.config
        .set(
            "preprocessor.hubcheck.command",
            binary().display().to_string(),
        )
        .unwrap();
    let md = MDBook::load_with_config(book.root(), md.config.clone()).unwrap();
    md.build()
        .expect("mdBook builds with the command preprocessor");
    let out = md.build_dir_for("html");
    let check = fs::read_to_string(out.join("check.html")).unwrap();
    assert!(check.contains("class=\"hubcheck-token-check\""));
    assert_no_annotation_text(&out, &["ANNOTATION-MARKER", "<!-- hubcheck"]);
}

#[test]
fn build_command_reports_the_chapter_and_line() {
    let book = BookFixture::copy("widget-book");
    book.append("src/upload.md", "\n{{#hubcheck token-check role=owner}}\n");
    let output = run_binary(&["build", "--book", book.root().to_str().unwrap()], b"");
    assert_eq!(output.status.code(), Some(1));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("src/upload.md:18: malformed hubcheck directive: role `owner`"),
        "{err}"
    );
    assert!(
        !book.root().join("book").exists(),
        "nothing is written on failure"
    );
}

#[test]
fn build_command_writes_to_dest() {
    let book = BookFixture::copy("plain-book");
    let dest = book.root().join("elsewhere");
    let output = run_binary(
        &[
            "build",
            "--book",
            book.root().to_str().unwrap(),
            "--dest",
            dest.to_str().unwrap(),
        ],
        b"",
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dest.join("index.html").is_file());
    assert!(dest.join("nested.html").is_file());
}

#[test]
fn token_in_the_output_fails_the_build() {
    let book = BookFixture::copy("plain-book");
    let token = planted_token();
    fs::create_dir_all(book.root().join("theme")).unwrap();
    fs::write(
        book.root().join("theme/head.hbs"),
        format!("<meta name=\"x\" content=\"{token}\">\n"),
    )
    .unwrap();
    let err = build(&BuildOptions {
        book: book.root().to_path_buf(),
        dest: None,
        hub_endpoint: None,
    })
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("the built book contains a string shaped like"),
        "{err}"
    );
    assert!(
        err.contains(".html:"),
        "names the output file and line: {err}"
    );
    assert!(!err.contains(&token[6..]), "{err}");
}

#[test]
fn missing_book_toml_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = build(&BuildOptions {
        book: dir.path().to_path_buf(),
        dest: None,
        hub_endpoint: None,
    })
    .unwrap_err()
    .to_string();
    assert!(
        err.ends_with("no book.toml here; pass the book's root folder with --book"),
        "{err}"
    );
}

#[test]
fn insecure_hub_endpoint_is_refused() {
    let book = BookFixture::copy("plain-book");
    let err = build(&BuildOptions {
        book: book.root().to_path_buf(),
        dest: None,
        hub_endpoint: Some("http://hub.example.org".into()),
    })
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("hub-endpoint = \"http://hub.example.org\""),
        "{err}"
    );
}

/// Every block of the handbook is either run with scenarios its annotation names, or declared
/// `not-run` with a reason; none is left to the `default` scenario or to chance. Output blocks
/// (`text`) after a snippet belong to that snippet.
#[test]
fn every_block_of_the_handbook_has_scenarios_or_a_not_run_reason() {
    let snippets = mdbook_hubcheck::snippets::extract_book(&repo_root()).unwrap();
    assert!(snippets.len() > 20, "the handbook has its snippets");
    let mut missing = Vec::new();
    for snippet in &snippets {
        if let Some(problem) = &snippet.problem {
            missing.push(format!("{}: {problem}", snippet.location()));
        } else if snippet.annotation.scenario.is_empty() && snippet.not_run().is_none() {
            missing.push(format!(
                "{} ({}): no [[scenario]] and no `not-run` reason",
                snippet.location(),
                snippet.language
            ));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn broken_links_anchors_images_and_summary_entries_fail_the_build_with_file_and_line() {
    let dir = handbook_copy();
    let book = dir.path().join("book");
    let append = |file: &str, text: &str| {
        let path = book.join(file);
        let old = fs::read_to_string(&path).unwrap();
        fs::write(&path, format!("{old}{text}")).unwrap();
        old.lines().count()
    };
    let intro = append(
        "introduction.md",
        "\nSee [a page](no-such-page.md), [an entry](troubleshooting.md#no-such-entry) and \
         ![a picture](images/no-such-picture.svg).\n",
    );
    let summary = append("SUMMARY.md", "- [A missing chapter](missing-chapter.md)\n");
    let build = |root: &Path| run_binary(&["build", "--book", root.to_str().unwrap()], b"");
    let output = build(dir.path());
    assert_eq!(output.status.code(), Some(1));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains(&format!(
            "book/SUMMARY.md:{}: link to `missing-chapter.md`: no file missing-chapter.md",
            summary + 1
        )),
        "{err}"
    );
    // Without the SUMMARY entry, the chapters' links are checked: each named, with its line.
    let text = fs::read_to_string(book.join("SUMMARY.md")).unwrap();
    fs::write(
        book.join("SUMMARY.md"),
        text.replace("- [A missing chapter](missing-chapter.md)\n", ""),
    )
    .unwrap();
    let output = build(dir.path());
    assert_eq!(output.status.code(), Some(1));
    let err = String::from_utf8_lossy(&output.stderr);
    let place = format!("book/introduction.md:{}", intro + 2);
    for expected in [
        format!("{place}: link to `no-such-page.md`: no-such-page.md is not a chapter"),
        format!(
            "{place}: link to `troubleshooting.md#no-such-entry`: troubleshooting.md has no heading or id"
        ),
        format!(
            "{place}: link to `images/no-such-picture.svg`: no file images/no-such-picture.svg"
        ),
    ] {
        assert!(err.contains(&expected), "{expected}\n{err}");
    }
    assert!(err.contains("3 broken link(s)"), "{err}");
}

#[test]
fn every_anchor_the_link_check_knows_is_an_id_of_the_built_page_and_external_links_are_listed() {
    let dir = handbook_copy();
    let output = run_binary(&["build", "--book", dir.path().to_str().unwrap()], b"");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let out = dir.path().join("target/book");
    let id = regex::Regex::new(r#"\bid="([^"]+)""#).unwrap();
    let src = dir.path().join("book");
    let mut checked = 0;
    for chapter in summary_chapters(&src) {
        let text = fs::read_to_string(src.join(&chapter)).unwrap();
        let page = fs::read_to_string(out.join(chapter.with_extension("html"))).unwrap();
        let ids: std::collections::BTreeSet<&str> = id
            .captures_iter(&page)
            .map(|c| c.get(1).unwrap().as_str())
            .collect();
        for anchor in mdbook_hubcheck::preprocess::links::anchors(&text) {
            assert!(
                ids.contains(anchor.as_str()),
                "{}: #{anchor} is not an id of the page",
                chapter.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} anchors");
    let external: Vec<serde_json::Value> = serde_json::from_str(
        &fs::read_to_string(dir.path().join("target/hubcheck/external-links.json")).unwrap(),
    )
    .unwrap();
    assert!(
        external.iter().any(|l| l["url"]
            .as_str()
            .unwrap()
            .starts_with("https://huggingface.co")
            && l["file"].as_str().unwrap().starts_with("book/")
            && l["line"].as_u64().unwrap() > 0),
        "{external:?}"
    );
}
