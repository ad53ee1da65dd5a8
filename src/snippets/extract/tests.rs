use std::path::Path;

use super::*;

fn chapter(text: &str) -> Vec<Snippet> {
    extract_chapter(text, Path::new("book/page.md"))
}

#[test]
fn a_plain_python_block_gets_a_default_scenario() {
    let snippets = chapter("# T\n\n```python\nprint(1)\n```\n");
    assert_eq!(snippets.len(), 1);
    let s = &snippets[0];
    assert_eq!(s.style, Some(Style::Python));
    assert_eq!(s.id, "page-3");
    assert_eq!(s.location(), "book/page.md:3");
    assert_eq!(s.scenarios.len(), 1);
    assert_eq!(s.scenarios[0].name, "default");
    assert_eq!(s.problem, None);
}

#[test]
fn the_next_text_block_is_the_expected_output_even_after_prose() {
    let snippets = chapter("```bash\nhf auth whoami\n```\n\nYou see:\n\n```text\nuser: x\n```\n");
    assert_eq!(snippets.len(), 1);
    let output = snippets[0].output.as_ref().unwrap();
    assert_eq!(output.text, "user: x\n");
    assert_eq!(output.index, 1);
    assert_eq!(output.line, 7);
}

#[test]
fn an_output_block_without_a_snippet_fails() {
    let snippets = chapter("```text\nlonely\n```\n");
    assert!(
        snippets[0]
            .problem
            .as_ref()
            .unwrap()
            .contains("no snippet stands before it")
    );
}

#[test]
fn a_second_output_block_is_not_silently_attached() {
    let snippets = chapter("```bash\nls\n```\n```text\na\n```\n```text\nb\n```\n");
    assert_eq!(snippets.len(), 2);
    assert!(snippets[1].problem.is_some());
}

#[test]
fn an_unrunnable_language_is_a_problem_not_a_skip() {
    let snippets = chapter("```toml\na = 1\n```\n");
    assert!(
        snippets[0]
            .problem
            .as_ref()
            .unwrap()
            .contains("cannot be run")
    );
}

#[test]
fn annotation_errors_name_file_and_line() {
    let text = "x\n\n<!-- hubcheck\n[[scenario]]\nname = \"a\"\ntoken = \"Admin Token\"\n-->\n```bash\nls\n```\n";
    let problem = chapter(text)[0].problem.clone().unwrap();
    assert!(
        problem.starts_with("book/page.md:6: invalid hubcheck annotation"),
        "{problem}"
    );
    assert!(problem.contains("Admin Token"), "{problem}");
}

#[test]
fn unknown_scenario_keys_and_repeated_names_are_problems() {
    let text =
        "<!-- hubcheck\n[[scenario]]\nname = \"a\"\ntokn = \"read\"\n-->\n```bash\nls\n```\n";
    let problem = chapter(text)[0].problem.clone().unwrap();
    assert!(problem.starts_with("book/page.md:4:"), "{problem}");
    assert!(problem.contains("tokn"), "{problem}");
    let text = "<!-- hubcheck\n[[scenario]]\nname = \"a\"\n[[scenario]]\nname = \"a\"\n-->\n```bash\nls\n```\n";
    let problem = chapter(text)[0].problem.clone().unwrap();
    assert!(problem.contains("two scenarios are named `a`"), "{problem}");
}

#[test]
fn continues_links_to_the_previous_snippet_or_an_id() {
    let mut snippets = chapter(
        "<!-- hubcheck\nid = \"login\"\n-->\n```bash\nhf auth login\n```\n\n<!-- hubcheck\ncontinues = true\n-->\n```bash\nhf auth whoami\n```\n\n<!-- hubcheck\ncontinues = \"login\"\n-->\n```bash\nhf auth logout\n```\n\n<!-- hubcheck\ncontinues = \"nope\"\n-->\n```bash\nls\n```\n",
    );
    resolve_continues(&mut snippets);
    assert_eq!(snippets[1].continues, Some(0));
    assert_eq!(snippets[2].continues, Some(0));
    assert!(
        snippets[3]
            .problem
            .as_ref()
            .unwrap()
            .contains("names no earlier snippet")
    );
}

#[test]
fn repeated_ids_are_problems() {
    let mut snippets = chapter(
        "<!-- hubcheck\nid = \"a\"\n-->\n```bash\nls\n```\n<!-- hubcheck\nid = \"a\"\n-->\n```bash\nls\n```\n",
    );
    check_unique_ids(&mut snippets);
    assert!(snippets[0].problem.is_none());
    assert!(snippets[1].problem.as_ref().unwrap().contains("used twice"));
}

#[test]
fn a_console_session_is_a_snippet_that_carries_its_own_output() {
    let snippets =
        chapter("```console\n$ hf auth whoami\nuser: x\n```\n\n```console\njust output\n```\n");
    assert_eq!(snippets.len(), 2, "{snippets:#?}");
    assert_eq!(snippets[0].style, Some(Style::Shell));
    let session = snippets[0].transcript.as_ref().unwrap();
    assert_eq!(session.exchanges[0].input, "hf auth whoami");
    assert_eq!(session.exchanges[0].expected, "user: x\n");
    assert!(
        snippets[1]
            .problem
            .as_ref()
            .unwrap()
            .contains("no snippet stands before it")
    );
}

#[test]
fn a_not_run_block_has_its_reason_no_scenarios_and_any_language() {
    let text = "<!-- hubcheck\nnot-run = \"PowerShell is not on the test machines\"\n-->\n```powershell\n$env:HF_TOKEN = \"x\"\n```\n";
    let s = &chapter(text)[0];
    assert_eq!(s.problem, None);
    assert_eq!(s.not_run(), Some("PowerShell is not on the test machines"));
    assert!(s.scenarios.is_empty());
}

#[test]
fn a_not_run_block_needs_a_reason_and_no_scenarios() {
    let empty = "<!-- hubcheck\nnot-run = \" \"\n-->\n```powershell\nx\n```\n";
    assert!(
        chapter(empty)[0]
            .problem
            .as_ref()
            .unwrap()
            .contains("needs a reason")
    );
    let both =
        "<!-- hubcheck\nnot-run = \"why\"\n[[scenario]]\nname = \"a\"\n-->\n```bash\nls\n```\n";
    assert!(
        chapter(both)[0]
            .problem
            .as_ref()
            .unwrap()
            .contains("has no [[scenario]]")
    );
}

#[test]
fn blocks_after_and_inside_includes_are_at_their_lines_in_the_files_they_are_written_in() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/includes-book");
    let snippets = extract_book(&root).unwrap();
    let found: Vec<(String, String, String)> = snippets
        .iter()
        .map(|s| (s.id.clone(), s.location(), s.chapter.display().to_string()))
        .collect();
    let chapter = "src/chapter.md".to_string();
    let want = [
        ("after-include", "src/chapter.md:16"),
        ("in-included-file", "src/parts/block.md:10"),
        ("in-line-range", "src/parts/lines.md:7"),
        ("between-anchors", "src/parts/anchored.md:12"),
        ("two-deep", "src/parts/deeper/inner.md:10"),
        ("code-from-file", "src/chapter.md:45"),
        ("last-fails", "src/chapter.md:60"),
    ];
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(id, at)| (id.to_string(), at.to_string(), chapter.clone()))
        .collect();
    assert_eq!(found, want);
    assert!(
        snippets.iter().all(|s| s.problem.is_none()),
        "{snippets:#?}"
    );
    // The badge key is still the block's place among the chapter's blocks.
    let indices: Vec<usize> = snippets.iter().map(|s| s.index).collect();
    assert_eq!(indices, [0, 1, 2, 3, 4, 5, 6]);
}

#[test]
fn a_block_in_an_included_file_without_an_id_is_named_after_chapter_and_file() {
    let map_root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/includes-book");
    let text = "{{#include parts/lines.md:7:9}}\n";
    let expanded = "```bash\necho \"lines 4 to 10\"\n```\n";
    let (map, exact) = crate::snippets::includes::SourceMap::for_expanded(
        expanded,
        text,
        Path::new("src/chapter.md"),
        &map_root.join("src"),
        &map_root,
    );
    assert!(exact);
    let snippets = extract_mapped(expanded, &map);
    assert_eq!(snippets[0].id, "chapter-lines-7");
    assert_eq!(snippets[0].location(), "src/parts/lines.md:7");
}

#[test]
fn transcripts_are_found_by_their_content_whatever_the_fence_says() {
    let text = "```py\n>>> 1 + 1\n2\n```\n\n```bash\n>>> hf auth whoami\nuser: x\n```\n\n```\nfrom os import sep\nprint(sep)\n```\n";
    let snippets = chapter(text);
    assert_eq!(snippets.len(), 3, "{snippets:#?}");
    assert_eq!(snippets[0].style, Some(Style::Pycon));
    assert_eq!(
        snippets[0].transcript.as_ref().unwrap().exchanges[0].expected,
        "2\n"
    );
    assert_eq!(snippets[1].style, Some(Style::Shell));
    assert_eq!(snippets[2].style, Some(Style::Python));
    assert!(
        snippets.iter().all(|s| s.problem.is_none()),
        "{snippets:#?}"
    );
}

#[test]
fn an_unlabelled_block_that_is_not_clearly_code_fails_naming_file_line_and_fence() {
    let s = &chapter("# T\n\n```\nuser: ada\n```\n")[0];
    let problem = s.problem.as_deref().unwrap();
    assert!(
        problem.starts_with("book/page.md:3: cannot tell what this block is"),
        "{problem}"
    );
    assert!(problem.contains("a fence with no language"), "{problem}");
    assert!(problem.contains("```python"), "{problem}");
}

#[test]
fn files_a_block_names_are_found_beside_its_chapter_and_a_missing_one_is_a_problem_at_its_line() {
    let root = tempfile::tempdir().unwrap();
    let src = root.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(root.path().join("book.toml"), "[book]\ntitle = \"t\"\n").unwrap();
    std::fs::write(
        src.join("SUMMARY.md"),
        "# Summary\n\n[Chapter](chapter.md)\n",
    )
    .unwrap();
    std::fs::write(src.join("tool.py"), "print('tool')\n").unwrap();
    let block = |files: &str| {
        format!("<!-- hubcheck\nfiles = [{files}]\n-->\n\n```bash\npython tool.py\n```\n\n")
    };
    let text = [
        block("\"tool.py\""),
        block("\"missing.py\""),
        block("\"../book.toml\""),
    ]
    .concat();
    std::fs::write(src.join("chapter.md"), text).unwrap();

    let snippets = extract_book(root.path()).unwrap();
    assert_eq!(snippets.len(), 3);
    assert_eq!(snippets[0].files, [src.join("tool.py")]);
    assert_eq!(snippets[0].problem, None);
    let missing = snippets[1].problem.as_deref().unwrap();
    assert!(
        missing.starts_with(
            "src/chapter.md:13: `files` names `missing.py`, but there is no such file"
        ),
        "{missing}"
    );
    let outside = snippets[2].problem.as_deref().unwrap();
    assert!(
        outside.contains("src/chapter.md:21: `files` names `../book.toml`: give a path below"),
        "{outside}"
    );
    assert!(snippets[1].files.is_empty() && snippets[2].files.is_empty());
}
