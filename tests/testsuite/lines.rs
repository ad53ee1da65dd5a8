//! Every file:line the project reports is the line in the source file, also after and inside
//! `{{#include}}` (tests/fixtures/includes-book: a picture above, whole files, a line range, an
//! anchor, a nested include, code from a script; include-errors-book: a bad annotation in an
//! included file).

use std::fs;

use crate::prelude::*;

/// The results of report.json as (file:line, chapter) per block id and scenario.
fn report_places(report: &serde_json::Value) -> Vec<(String, String, String)> {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let file = r["file"].as_str().unwrap();
            let chapter = r["chapter"].as_str().unwrap_or(file);
            (
                r["id"].as_str().unwrap().to_string(),
                format!("{file}:{}", r["line"]),
                chapter.to_string(),
            )
        })
        .collect()
}

#[test]
fn the_run_its_report_annotations_and_badges_name_the_lines_after_and_inside_includes() {
    let book = BookFixture::copy("includes-book");
    let output = hubcheck_test(book.root(), &[("GITHUB_ACTIONS", "true")]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(all.contains("6 passed, 1 failed"), "{all}");
    for place in [
        "src/chapter.md:16 bash after-include",
        "src/parts/block.md:10 bash in-included-file",
        "src/parts/lines.md:7 bash in-line-range",
        "src/parts/anchored.md:12 bash between-anchors",
        "src/parts/deeper/inner.md:10 bash two-deep",
        "src/chapter.md:45 bash code-from-file",
    ] {
        assert!(
            all.contains(&format!("ok     {place}")),
            "no ok {place}:\n{all}"
        );
    }
    assert!(
        all.contains("src/chapter.md:60 bash last-fails wrong-promise"),
        "{all}"
    );
    assert!(
        all.contains("::error file=src/chapter.md,line=60::"),
        "{all}"
    );

    let report_path = book.root().join("target/hubcheck/report.json");
    let report: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&report_path).unwrap()).unwrap();
    let mut places = report_places(&report);
    places.sort();
    let chapter = "src/chapter.md";
    let mut want: Vec<(String, String, String)> = [
        ("after-include", "src/chapter.md:16"),
        ("between-anchors", "src/parts/anchored.md:12"),
        ("code-from-file", "src/chapter.md:45"),
        ("in-included-file", "src/parts/block.md:10"),
        ("in-line-range", "src/parts/lines.md:7"),
        ("last-fails", "src/chapter.md:60"),
        ("two-deep", "src/parts/deeper/inner.md:10"),
    ]
    .iter()
    .map(|(id, at)| (id.to_string(), at.to_string(), chapter.to_string()))
    .collect();
    want.sort();
    assert_eq!(places, want);
    let junit = fs::read_to_string(book.root().join("target/hubcheck/junit.xml")).unwrap();
    assert!(
        junit.contains("src/parts/deeper/inner.md:10 two-deep echo"),
        "{junit}"
    );

    // The badges find every block in the report, the ones written in included files too.
    let dest = book.root().join("built");
    let built = run_binary(
        &[
            "build",
            "--book",
            book.root().to_str().unwrap(),
            "--dest",
            dest.to_str().unwrap(),
        ],
        b"",
    );
    assert!(built.status.success(), "{}", text(&built));
    let page = fs::read_to_string(dest.join("chapter.html")).unwrap();
    assert_eq!(page.matches("hubcheck-badge-verified").count(), 6, "{page}");
    assert_eq!(page.matches("hubcheck-badge-failing").count(), 1, "{page}");
}

#[test]
fn a_bad_annotation_inside_an_included_file_is_named_at_its_line_there() {
    let book = BookFixture::copy("include-errors-book");
    let root = book.root().to_str().unwrap();
    let built = run_binary(&["build", "--book", root], b"");
    let all = text(&built);
    assert_eq!(built.status.code(), Some(1), "{all}");
    assert!(
        all.contains("src/parts/bad.md:5: invalid hubcheck annotation: unknown field `tokn`"),
        "{all}"
    );

    let tested = hubcheck_test(book.root(), &[]);
    let all = text(&tested);
    assert_eq!(tested.status.code(), Some(1), "{all}");
    assert!(
        all.contains("src/parts/bad.md:5: invalid hubcheck annotation: unknown field `tokn`"),
        "{all}"
    );
}

#[test]
fn a_bad_annotation_after_an_include_is_named_at_its_line_in_the_chapter() {
    let book = BookFixture::copy("include-errors-book");
    let chapter = book.root().join("src/chapter.md");
    let source = fs::read_to_string(&chapter).unwrap();
    let included = fs::read_to_string(book.root().join("src/parts/bad.md")).unwrap();
    // The included file's text written into the chapter at line 5: the bad key is at line 9.
    fs::write(
        &chapter,
        source.replace("{{#include parts/bad.md}}\n", &included),
    )
    .unwrap();
    let built = run_binary(&["build", "--book", book.root().to_str().unwrap()], b"");
    let all = text(&built);
    assert_eq!(built.status.code(), Some(1), "{all}");
    assert!(
        all.contains("src/chapter.md:9: invalid hubcheck annotation: unknown field `tokn`"),
        "{all}"
    );
}

#[test]
fn under_a_stock_mdbook_the_preprocessor_names_the_included_file_and_line_too() {
    use mdbook_driver::MDBook;
    use mdbook_driver::builtin_preprocessors::LinkPreprocessor;
    use mdbook_preprocessor::{Preprocessor, PreprocessorContext};

    let book = BookFixture::copy("include-errors-book");
    let md = MDBook::load(book.root()).unwrap();
    let ctx = PreprocessorContext::new(book.root().to_path_buf(), md.config.clone(), "html".into());
    // What mdBook hands the command: the chapters after its `links` preprocessor.
    let expanded = LinkPreprocessor::new().run(&ctx, md.book.clone()).unwrap();
    let input = serde_json::to_vec(&(&ctx, &expanded)).unwrap();
    let output = run_binary(&[], &input);
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(output.stdout.is_empty());
    assert!(
        err.contains("src/parts/bad.md:5: invalid hubcheck annotation: unknown field `tokn`"),
        "{err}"
    );
}

#[test]
fn a_chapter_whose_text_is_not_its_expanded_source_is_named_in_a_warning() {
    use mdbook_driver::MDBook;
    use mdbook_preprocessor::PreprocessorContext;

    let book = BookFixture::copy("includes-book");
    let md = MDBook::load(book.root()).unwrap();
    let ctx = PreprocessorContext::new(book.root().to_path_buf(), md.config.clone(), "html".into());
    // The chapters as written, not expanded: not what expanding their includes gives.
    let input = serde_json::to_vec(&(&ctx, &md.book)).unwrap();
    let output = run_binary(&[], &input);
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{err}");
    assert!(
        err.contains(
            "warning: src/chapter.md: its text is not what expanding its includes gives here"
        ),
        "{err}"
    );
}
