use std::path::Path;

use pretty_assertions::assert_eq;

use super::*;

fn html(text: &str) -> Result<String, ChapterError> {
    process_chapter(
        text,
        Path::new("book/page.md"),
        &Settings::default(),
        Target::Html,
    )
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
    )
    .unwrap();
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
    let out = process_chapter(&text, Path::new("p.md"), &settings, Target::Html).unwrap();
    assert_eq!(out, text);
}
