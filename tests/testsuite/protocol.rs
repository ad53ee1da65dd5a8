//! The preprocessor protocol as mdBook speaks it: `supports <renderer>`, then `[context, book]` JSON
//! on stdin and the book on stdout. Inputs are made by mdBook's own loader and types.

use std::path::Path;

use mdbook_driver::MDBook;
use mdbook_preprocessor::PreprocessorContext;
use mdbook_preprocessor::book::{Book, BookItem};
use pretty_assertions::assert_eq;
use serde_json::Value;

use crate::prelude::*;

/// The JSON that mdBook writes to a preprocessor's stdin for the book at `root`.
fn mdbook_input(root: &Path, renderer: &str) -> (Vec<u8>, Book) {
    let md = MDBook::load(root).expect("load fixture book");
    let ctx = PreprocessorContext::new(root.to_path_buf(), md.config.clone(), renderer.into());
    let input = serde_json::to_vec(&(&ctx, &md.book)).unwrap();
    (input, md.book)
}

/// The content of every chapter, in book order.
fn contents(book: &Book) -> Vec<String> {
    book.iter()
        .filter_map(|item| match item {
            BookItem::Chapter(c) => Some(c.content.clone()),
            _ => None,
        })
        .collect()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn supports_every_renderer() {
    for renderer in ["html", "markdown", "epub"] {
        let output = run_binary(&["supports", renderer], b"");
        assert!(output.status.success(), "{renderer}: {}", stderr(&output));
    }
}

#[test]
fn plain_book_comes_out_byte_for_byte() {
    let book = BookFixture::copy("plain-book");
    let (input, original) = mdbook_input(book.root(), "html");
    let output = run_binary(&[], &input);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        String::from_utf8(output.stdout.clone()).unwrap(),
        serde_json::to_string(&original).unwrap()
    );
    let parsed: Book = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(parsed, original);
}

#[test]
fn html_gets_widget_containers_and_no_annotations() {
    let book = BookFixture::copy("widget-book");
    let (input, _) = mdbook_input(book.root(), "html");
    let output = run_binary(&[], &input);
    assert!(output.status.success(), "{}", stderr(&output));
    let processed: Book = serde_json::from_slice(&output.stdout).unwrap();
    let all = contents(&processed).join("\n");
    assert!(all.contains("<div class=\"hubcheck-token-check\" data-role=\"read\" data-hub-endpoint=\"http://127.0.0.1:9\">"), "{all}");
    assert!(all.contains("data-role=\"write\""), "{all}");
    assert!(!all.contains("ANNOTATION-MARKER"), "{all}");
    assert!(!all.contains("hubcheck\n"), "{all}");
    assert!(
        all.contains("   ```bash\n   hf auth login --token hf_your_token_here\n"),
        "{all}"
    );
}

#[test]
fn other_renderers_get_text_fallbacks() {
    let book = BookFixture::copy("widget-book");
    let (input, _) = mdbook_input(book.root(), "markdown");
    let output = run_binary(&[], &input);
    assert!(output.status.success(), "{}", stderr(&output));
    let processed: Book = serde_json::from_slice(&output.stdout).unwrap();
    let all = contents(&processed).join("\n");
    assert!(
        all.contains("> **Check your token.** This page needs a read token."),
        "{all}"
    );
    assert!(!all.contains("<div"), "{all}");
    assert!(!all.contains("ANNOTATION-MARKER"), "{all}");
}

#[test]
fn mdbook_0_4_input_is_answered_in_the_0_4_shape() {
    let input = std::fs::read(fixtures().join("protocol/mdbook-0.4-input.json")).unwrap();
    let output = run_binary(&[], &input);
    assert!(output.status.success(), "{}", stderr(&output));
    let book: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(book.get("items").is_none());
    assert_eq!(book["__non_exhaustive"], Value::Null);
    let sections = book["sections"].as_array().unwrap();
    assert_eq!(sections.len(), 3);
    let first = sections[0]["Chapter"]["content"].as_str().unwrap();
    assert!(first.contains("class=\"hubcheck-token-check\""), "{first}");
    assert!(!first.contains("<!-- hubcheck"), "{first}");
    let nested = sections[0]["Chapter"]["sub_items"][0]["Chapter"]["content"]
        .as_str()
        .unwrap();
    assert_eq!(nested, "# Nested\n\n```bash\nhf auth whoami\n```\n");
    assert_eq!(sections[1], Value::String("Separator".into()));
    assert!(
        stderr(&output)
            .contains("built against mdBook 0.5.4, but is being called by mdBook 0.4.52"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn same_version_gives_no_warning() {
    let book = BookFixture::copy("plain-book");
    let (input, original) = mdbook_input(book.root(), "html");
    let output = run_binary(&[], &input);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    let parsed: Book = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(parsed, original, "the round trip changed the book");
}

#[test]
fn malformed_json_names_line_and_column_and_writes_nothing() {
    let output = run_binary(&[], b"[{\"root\": \"/x\",\n  \"renderer\": html}]");
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let err = stderr(&output);
    assert!(
        err.starts_with("error: <stdin>:2:15: malformed preprocessor input, not JSON"),
        "{err}"
    );
}

#[test]
fn wrong_shape_is_a_clear_error() {
    let output = run_binary(&[], b"{\"items\": []}");
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert!(stderr(&output).contains("expected a JSON array [context, book]"));
}

/// Runs the preprocessor on the widget book after appending `text` to `check.md`.
fn run_with_appended(text: &str) -> std::process::Output {
    let book = BookFixture::copy("widget-book");
    book.append("src/check.md", text);
    let (input, _) = mdbook_input(book.root(), "html");
    run_binary(&[], &input)
}

#[test]
fn unknown_directive_fails_naming_file_and_line() {
    let output = run_with_appended("\n{{#hubcheck token-checkr role=read}}\n");
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert_eq!(
        stderr(&output),
        "error: src/check.md:19: unknown hubcheck directive `token-checkr` (known: token-check)\n"
    );
}

#[test]
fn malformed_directive_fails_naming_file_and_line() {
    let output = run_with_appended("\n{{#hubcheck token-check role=admin}}\n");
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let err = stderr(&output);
    assert!(
        err.starts_with("error: src/check.md:19: malformed hubcheck directive: role `admin`"),
        "{err}"
    );
}

#[test]
fn planted_token_fails_naming_file_and_line_masked() {
    let token = planted_token();
    let output = run_with_appended(&format!("\nOops: {token}\n"));
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let err = stderr(&output);
    assert!(
        err.starts_with("error: src/check.md:19: a string shaped like a Hugging Face access token"),
        "{err}"
    );
    assert!(err.contains(&format!("({}…)", &token[..6])), "{err}");
    assert!(
        !err.contains(&token[6..]),
        "the error repeats the token: {err}"
    );
}

#[test]
fn declared_placeholder_shaped_like_a_token_passes() {
    let token = planted_token();
    let book = BookFixture::copy("widget-book");
    book.append("book.toml", &format!("\"{token}\" = \"{{token}}\"\n"));
    book.append("src/check.md", &format!("\nReplace {token} with yours.\n"));
    let (input, _) = mdbook_input(book.root(), "html");
    let output = run_binary(&[], &input);
    assert!(output.status.success(), "{}", stderr(&output));
    let parsed: Book = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        contents(&parsed)
            .iter()
            .any(|c| c.contains(&format!("Replace {token} with yours."))),
        "the declared placeholder did not survive the preprocessor"
    );
}

#[test]
fn a_broken_link_fails_the_protocol_run_naming_file_and_line() {
    let output = run_with_appended("\nSee [the other page](nowhere.md#top).\n");
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let err = stderr(&output);
    assert!(
        err.contains("src/check.md:19: link to `nowhere.md#top`: nowhere.md is not a chapter"),
        "{err}"
    );
}
