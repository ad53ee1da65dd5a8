use std::path::{Path, PathBuf};

use mdbook_driver::builtin_preprocessors::LinkPreprocessor;
use mdbook_preprocessor::book::{Book, BookItem, Chapter};
use mdbook_preprocessor::config::Config;
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};

use super::*;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/includes-book")
}

/// What mdBook's own `links` preprocessor makes of `source` as the text of `src/chapter.md`.
fn mdbook_expands(source: &str) -> String {
    let root = fixture();
    let ctx = PreprocessorContext::new(root, Config::default(), "html".into());
    let chapter = Chapter::new("c", source.to_string(), "chapter.md", Vec::new());
    let book = Book::new_with_items(vec![BookItem::Chapter(chapter)]);
    let book = LinkPreprocessor::new().run(&ctx, book).unwrap();
    match book.iter().next() {
        Some(BookItem::Chapter(ch)) => ch.content.clone(),
        _ => unreachable!("one chapter in, one out"),
    }
}

/// The map of `source` as `src/chapter.md`, checked against mdBook's expansion.
fn mapped(source: &str) -> (String, SourceMap) {
    let root = fixture();
    let expanded = mdbook_expands(source);
    let (map, exact) = SourceMap::for_expanded(
        &expanded,
        source,
        Path::new("src/chapter.md"),
        &root.join("src"),
        &root,
    );
    assert!(
        exact,
        "the expansion here differs from mdBook's for {source:?}"
    );
    (expanded, map)
}

/// `file:line` of the expanded line that starts with `prefix`.
fn origin_of(expanded: &str, map: &SourceMap, prefix: &str) -> String {
    let (i, _) = expanded
        .split('\n')
        .enumerate()
        .find(|(_, l)| l.trim_start().starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starts with {prefix:?} in:\n{expanded}"));
    let origin = map.origin(i + 1);
    format!("{}:{}", origin.file.display(), origin.line)
}

#[test]
fn the_fixture_chapter_expands_as_mdbook_does_and_every_line_maps_back() {
    let source = std::fs::read_to_string(fixture().join("src/chapter.md")).unwrap();
    let (expanded, map) = mapped(&source);
    assert_eq!(
        origin_of(&expanded, &map, "<svg"),
        "src/images/picture.svg:1"
    );
    assert_eq!(
        origin_of(&expanded, &map, "echo \"after the"),
        "src/chapter.md:17"
    );
    assert_eq!(
        origin_of(&expanded, &map, "echo \"inside"),
        "src/parts/block.md:11"
    );
    assert_eq!(
        origin_of(&expanded, &map, "echo \"lines 4"),
        "src/parts/lines.md:8"
    );
    assert_eq!(
        origin_of(&expanded, &map, "line 10:"),
        "src/parts/lines.md:10"
    );
    assert_eq!(
        origin_of(&expanded, &map, "echo \"between"),
        "src/parts/anchored.md:13"
    );
    assert_eq!(
        origin_of(&expanded, &map, "The outer file"),
        "src/parts/outer.md:1"
    );
    assert_eq!(
        origin_of(&expanded, &map, "echo \"two"),
        "src/parts/deeper/inner.md:11"
    );
    // A block written here around an included script: the fences are the chapter's.
    assert_eq!(
        origin_of(&expanded, &map, "echo \"from the"),
        "src/parts/script.sh:1"
    );
    assert_eq!(
        origin_of(&expanded, &map, "{{#include parts/never"),
        "src/chapter.md:49"
    );
    assert_eq!(
        origin_of(&expanded, &map, "echo \"the last"),
        "src/chapter.md:61"
    );
}

#[test]
fn line_ranges_anchors_and_rustdoc_includes_map_like_mdbook_expands_them() {
    for (source, prefix, want) in [
        (
            "{{#include parts/lines.md:7}}\n",
            "```bash",
            "src/parts/lines.md:7",
        ),
        (
            "{{#include parts/lines.md::3}}\nafter\n",
            "after",
            "src/chapter.md:2",
        ),
        (
            "x\n{{#include parts/lines.md:10:}}\n",
            "line 11",
            "src/parts/lines.md:11",
        ),
        (
            "{{#include parts/lines.md:}}\n",
            "line 3",
            "src/parts/lines.md:3",
        ),
        (
            "{{#include parts/anchored.md:inner}}\n",
            "echo",
            "src/parts/anchored.md:13",
        ),
        (
            "{{#include parts/anchored.md:no-such}}\nnext\n",
            "next",
            "src/chapter.md:2",
        ),
        (
            "{{#rustdoc_include parts/lines.md:8}}\n",
            "# line 10",
            "src/parts/lines.md:10",
        ),
        (
            "{{#rustdoc_include parts/lines.md:8}}\n",
            "echo",
            "src/parts/lines.md:8",
        ),
        (
            "{{#rustdoc_include parts/anchored.md:inner}}\n",
            "# After",
            "src/parts/anchored.md:17",
        ),
        (
            "{{#playground parts/script.sh}}\nnext\n",
            "echo",
            "src/parts/script.sh:1",
        ),
        (
            "{{#playground parts/script.sh editable}}\nnext\n",
            "next",
            "src/chapter.md:2",
        ),
        (
            "{{#title A title}}\n# Heading\n",
            "# Heading",
            "src/chapter.md:2",
        ),
        (
            "{{#include parts/missing.md}}\nnext\n",
            "next",
            "src/chapter.md:2",
        ),
        (
            "{{ #include  parts/block.md }}\nnext\n",
            "```bash",
            "src/parts/block.md:10",
        ),
        (
            "a {{#include parts/script.sh}} b\nnext\n",
            "next",
            "src/chapter.md:2",
        ),
        (
            "\\{{#include parts/block.md}}\nnext\n",
            "next",
            "src/chapter.md:2",
        ),
    ] {
        let (expanded, map) = mapped(source);
        assert_eq!(origin_of(&expanded, &map, prefix), want, "{source:?}");
    }
}

#[test]
fn text_that_does_not_expand_to_what_mdbook_gave_gets_the_identity_map() {
    let root = fixture();
    let (map, exact) = SourceMap::for_expanded(
        "something else\nentirely\n",
        "{{#include images/picture.svg}}\n",
        Path::new("src/chapter.md"),
        &root.join("src"),
        &root,
    );
    assert!(!exact);
    assert_eq!(map.origin(2).line, 2);
    assert_eq!(map.origin(2).file.as_ref(), Path::new("src/chapter.md"));
}

#[test]
fn a_cyclic_include_stops_where_mdbook_stops() {
    let (expanded, map) = mapped("{{#include parts/cycle.md}}\nend\n");
    assert_eq!(origin_of(&expanded, &map, "end"), "src/chapter.md:2");
}
