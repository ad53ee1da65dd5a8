use std::path::Path;

use pretty_assertions::assert_eq;

use super::*;

fn html(text: &str) -> Result<String, ChapterError> {
    process_chapter(
        text,
        Path::new("book/page.md"),
        &Settings::default(),
        Target::Html,
        None,
    )
    .map(|p| p.text)
}

fn error_of(text: &str) -> String {
    html(text).unwrap_err().to_string()
}

#[test]
fn text_without_directives_or_annotations_is_unchanged() {
    let text = "# Title\n\nSome `code` and {{#include x.md}}.\n\n```python\nprint(1)\n```\n";
    assert_eq!(html(text).unwrap(), text);
}

#[test]
fn annotation_is_removed_with_its_lines() {
    let text =
        "Intro\n\n<!-- hubcheck\n[[scenario]]\nname = \"ok\"\n-->\n```bash\nhf auth whoami\n```\n";
    assert_eq!(
        html(text).unwrap(),
        "Intro\n\n```bash\nhf auth whoami\n```\n"
    );
}

#[test]
fn annotation_inside_a_numbered_step_is_removed() {
    let text = "1. Run this:\n\n   <!-- hubcheck\n   id = \"x\"\n   -->\n   ```bash\n   hf auth whoami\n   ```\n";
    assert_eq!(
        html(text).unwrap(),
        "1. Run this:\n\n   ```bash\n   hf auth whoami\n   ```\n"
    );
}

#[test]
fn directive_becomes_a_container_for_html() {
    let out = html("Check:\n\n{{#hubcheck token-check role=write}}\n\nDone.\n").unwrap();
    assert!(out.starts_with("Check:\n\n<div class=\"hubcheck-token-check\" data-role=\"write\""));
    // The no-script text is an attribute, so mdBook's search index does not pick it up.
    assert!(out.contains("data-fallback=\"The token checker needs JavaScript."));
    assert!(!out.contains("<noscript>"));
    assert!(out.ends_with("</div>\n\nDone.\n"));
}

#[test]
fn directive_becomes_text_for_other_renderers() {
    let out = process_chapter(
        "{{#hubcheck token-check role=read}}\n",
        Path::new("p.md"),
        &Settings::default(),
        Target::Text,
        None,
    )
    .unwrap()
    .text;
    assert!(out.starts_with("> **Check your token.**"), "{out}");
    assert!(!out.contains('<'));
}

#[test]
fn directives_in_code_are_left_alone_and_escapes_are_unescaped() {
    let text =
        "`{{#hubcheck nope}}`\n\n```text\n{{#hubcheck nope}}\n```\n\n\\{{#hubcheck token-check}}\n";
    assert_eq!(
        html(text).unwrap(),
        "`{{#hubcheck nope}}`\n\n```text\n{{#hubcheck nope}}\n```\n\n{{#hubcheck token-check}}\n"
    );
}

#[test]
fn unknown_directive_names_file_and_line() {
    assert_eq!(
        error_of("a\n\nb\n\n{{#hubcheck token-checker}}\n"),
        "book/page.md:5: unknown hubcheck directive `token-checker` (known: token-check)"
    );
}

#[test]
fn malformed_directives_name_file_and_line() {
    for (text, line, needle) in [
        ("{{#hubcheck token-check role=admin}}\n", 1, "role `admin`"),
        ("x\n{{#hubcheck token-check role=read\n", 2, "not closed"),
        ("See {{#hubcheck token-check}} here\n", 1, "line of its own"),
        ("\n\n{{#hubcheck}}\n", 3, "names no widget"),
    ] {
        let err = error_of(text);
        assert!(
            err.starts_with(&format!("book/page.md:{line}: malformed")),
            "{err}"
        );
        assert!(err.contains(needle), "{err}");
    }
}

#[test]
fn orphan_annotation_names_its_line() {
    let err = error_of("x\n\n<!-- hubcheck\nid = \"a\"\n-->\n\nA paragraph.\n");
    assert!(err.starts_with("book/page.md:3: "), "{err}");
    assert!(err.contains("not followed by a fenced code block"), "{err}");
}

#[test]
fn bad_annotation_toml_names_the_line_of_the_mistake() {
    let err = error_of("x\n\n<!-- hubcheck\nid = \"a\"\ncolour = 3\n-->\n```bash\nls\n```\n");
    assert!(
        err.starts_with("book/page.md:5: invalid hubcheck annotation"),
        "{err}"
    );
    assert!(err.contains("colour"), "{err}");
}

#[test]
fn token_shaped_string_is_refused_and_masked() {
    let token = format!("hf_{}", "Zq9".repeat(11));
    let err = error_of(&format!("one\ntwo {token}\n"));
    assert!(
        err.starts_with("book/page.md:2: a string shaped like"),
        "{err}"
    );
    assert!(err.contains("hf_Zq9…"), "{err}");
    assert!(!err.contains(&token), "{err}");
}

#[test]
fn declared_placeholder_that_looks_like_a_token_passes() {
    let token = format!("hf_{}", "x".repeat(34));
    let mut settings = Settings::default();
    settings
        .placeholders
        .insert(token.clone(), "{token}".into());
    let text = format!("Use {token}.\n");
    let out = process_chapter(&text, Path::new("p.md"), &settings, Target::Html, None)
        .unwrap()
        .text;
    assert_eq!(out, text);
}

mod badges {
    use std::collections::BTreeMap;

    use pretty_assertions::assert_eq;

    use super::{Path, Settings, Target, html, process_chapter};
    use crate::report::{Report, ReportResult, Status};
    use crate::snippets::scan::scan;

    fn report_for(text: &str, file: &str, status: Status) -> Report {
        let blocks = scan(text).unwrap().blocks;
        Report {
            version: 1,
            generated_at: "2026-11-29T10:00:00Z".into(),
            hub: "mock".into(),
            isolation: None,
            addresses: None,
            clients: BTreeMap::from([("python".into(), "3.11.7".into())]),
            results: blocks
                .iter()
                .enumerate()
                .map(|(index, b)| ReportResult {
                    file: file.into(),
                    line: b.line,
                    chapter: None,
                    index,
                    language: b.language(),
                    id: format!("b{index}"),
                    scenario: "default".into(),
                    status,
                    duration_ms: 1,
                    hash: b.hash(),
                    message: None,
                    run_at: String::new(),
                    clients: Default::default(),
                })
                .collect(),
        }
    }

    fn with_report(text: &str, report: &Report, target: Target) -> String {
        process_chapter(
            text,
            Path::new("book/page.md"),
            &Settings::default(),
            target,
            Some(report),
        )
        .unwrap()
        .text
    }

    /// The code of every block after processing, to show the badges did not break any block.
    fn codes(text: &str) -> Vec<String> {
        scan(text)
            .unwrap()
            .blocks
            .into_iter()
            .map(|b| b.code)
            .collect()
    }

    #[test]
    fn badge_stands_right_before_a_top_level_block() {
        let text = "Run:\n\n```python\nprint(1)\n```\n";
        let report = report_for(text, "book/page.md", Status::Passed);
        let out = with_report(text, &report, Target::Html);
        assert!(
            out.starts_with("Run:\n\n<div class=\"hubcheck-badge hubcheck-badge-verified\""),
            "{out}"
        );
        assert!(
            out.ends_with("></div>\n\n```python\nprint(1)\n```\n"),
            "{out}"
        );
        assert_eq!(codes(&out), codes(text));
    }

    #[test]
    fn badges_keep_blocks_inside_list_items_and_quotes() {
        let text = "1. Log in:\n\n   <!-- hubcheck\n   id = \"x\"\n   -->\n   ```bash\n   hf auth login\n   ```\n\n2. ```bash\n   hf auth whoami\n   ```\n\n> ```text\n> ok\n> ```\n";
        let report = report_for(text, "book/page.md", Status::Failed);
        let out = with_report(text, &report, Target::Html);
        assert_eq!(out.matches("hubcheck-badge-failing").count(), 3, "{out}");
        assert_eq!(codes(&out), codes(text), "{out}");
        let parsed = scan(&out).unwrap();
        assert!(parsed.blocks.iter().all(|b| b.annotation.is_none()));
        // Still one list with two items, and the quote is still a quote.
        assert!(out.contains("2. <div class=\"hubcheck-badge"), "{out}");
        assert!(out.contains("> <div class=\"hubcheck-badge"), "{out}");
    }

    #[test]
    fn changed_block_is_stale_and_other_file_is_not_verified() {
        let text = "```python\nprint(1)\n```\n";
        let report = report_for(text, "book/page.md", Status::Passed);
        let changed = with_report("```python\nprint(2)\n```\n", &report, Target::Html);
        assert!(changed.contains("hubcheck-badge-stale"), "{changed}");
        let other = report_for(text, "book/other.md", Status::Passed);
        assert!(with_report(text, &other, Target::Html).contains("hubcheck-badge-not-verified"));
    }

    #[test]
    fn no_report_or_other_renderer_means_no_badges() {
        let text = "```python\nprint(1)\n```\n";
        assert_eq!(html(text).unwrap(), text);
        let report = report_for(text, "book/page.md", Status::Passed);
        assert_eq!(with_report(text, &report, Target::Text), text);
    }
}

#[test]
fn a_chapter_says_whether_it_needs_the_widget_assets() {
    let uses = |text: &str, target: Target| {
        process_chapter(text, Path::new("p.md"), &Settings::default(), target, None)
            .unwrap()
            .uses_assets
    };
    assert!(uses("{{#hubcheck token-check}}\n", Target::Html));
    assert!(!uses("{{#hubcheck token-check}}\n", Target::Text));
    assert!(!uses(
        "No widget, but the class name hubcheck-token-check in text.\n",
        Target::Html
    ));
    assert!(!uses(
        "\\{{#hubcheck token-check}} shown literally.\n",
        Target::Html
    ));
}
