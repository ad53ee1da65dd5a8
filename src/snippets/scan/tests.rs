use pretty_assertions::assert_eq;

use super::*;

#[test]
fn finds_blocks_with_language_line_and_code() {
    let text = "# T\n\n```python\nprint(1)\n```\n\n```text\n1\n```\n";
    let scan = scan(text).unwrap();
    assert_eq!(scan.blocks.len(), 2);
    assert_eq!(scan.blocks[0].language(), "python");
    assert_eq!(scan.blocks[0].line, 3);
    assert_eq!(scan.blocks[0].code, "print(1)\n");
    assert_eq!(scan.blocks[1].language(), "text");
    assert_eq!(scan.blocks[1].line, 7);
}

#[test]
fn attaches_an_annotation_to_the_next_block() {
    let text = "<!-- hubcheck\nid = \"a\"\n-->\n\n```bash\nls\n```\n";
    let scan = scan(text).unwrap();
    let annotation = scan.blocks[0].annotation.as_ref().unwrap();
    assert_eq!(annotation.line, 1);
    assert_eq!(annotation.body.trim(), "id = \"a\"");
    assert_eq!(
        &text[annotation.span.clone()],
        "<!-- hubcheck\nid = \"a\"\n-->\n"
    );
}

#[test]
fn other_comments_are_not_annotations() {
    let text = "<!-- a note -->\n\n<!-- hubcheckers -->\n\n```bash\nls\n```\n";
    assert_eq!(scan(text).unwrap().blocks[0].annotation, None);
}

#[test]
fn annotation_before_a_paragraph_is_an_orphan() {
    let text = "<!-- hubcheck\n-->\nText.\n\n```bash\nls\n```\n";
    assert_eq!(scan(text), Err(ScanError::Orphan { line: 1 }));
}

#[test]
fn two_annotations_in_a_row_are_an_error() {
    let text = "<!-- hubcheck\n-->\n\n<!-- hubcheck\n-->\n\n```bash\nls\n```\n";
    assert_eq!(scan(text), Err(ScanError::Orphan { line: 1 }));
}

#[test]
fn annotation_at_the_end_is_an_orphan() {
    assert_eq!(
        scan("Text\n\n<!-- hubcheck\n-->\n"),
        Err(ScanError::Orphan { line: 3 })
    );
}

#[test]
fn unclosed_annotation_is_reported() {
    assert_eq!(
        scan("<!-- hubcheck\nid = 1\n"),
        Err(ScanError::Unclosed { line: 1 })
    );
}
