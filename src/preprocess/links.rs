//! Every link of the book leads somewhere: links between chapters, `#anchors`, images and other
//! files of the book's source folder are checked before any chapter is rendered, and a broken one
//! fails the build, naming the file and line it is written at (also inside an `{{#include}}`d
//! file). Links to other sites are not fetched (the build has no network); they are listed in
//! `external-links.json` beside the harness report, for the weekly drift job to try.
//!
//! An anchor is what mdBook's html renderer makes of a heading (`mdbook-html`'s
//! `id_from_content` and `unique_id`, the same rules, in `src/html/tree.rs`): the heading's text,
//! lower-cased, spaces to `-`, only letters, digits, `_` and `-` kept, `-1`, `-2`... for repeats;
//! or the heading's own `{#id}`; or an `id="..."` written in raw HTML.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::LazyLock;

use mdbook_markdown::pulldown_cmark::{Event, Tag, TagEnd};
use mdbook_markdown::{MarkdownOptions, new_cmark_parser};
use regex::Regex;
use serde::Serialize;

use crate::snippets::includes::map_chapter;

/// One chapter as the link check reads it: its expanded text and its file under the source folder.
#[derive(Debug, Clone)]
pub struct ChapterText {
    /// The chapter's text after `{{#include}}` expansion.
    pub content: String,
    /// The chapter file relative to the source folder; `None` for a draft or generated chapter.
    pub source_path: Option<PathBuf>,
}

/// A link to another site, where it is written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ExternalLink {
    /// The address as written.
    pub url: String,
    /// The file it is written in, relative to the book root.
    pub file: String,
    /// Its 1-based line there.
    pub line: usize,
}

/// A link that leads nowhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    /// `file:line` where it is written.
    pub location: String,
    /// The link as written.
    pub target: String,
    /// What is missing.
    pub why: String,
}

/// Why the book's links fail the build: every broken link, each with its place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", describe(.0))]
pub struct BrokenLinks(pub Vec<BrokenLink>);

fn describe(broken: &[BrokenLink]) -> String {
    let mut text = format!(
        "{} broken link(s) in the book (the build stops so no reader meets one):",
        broken.len()
    );
    for link in broken {
        text.push_str(&format!(
            "\n  {}: link to `{}`: {}",
            link.location, link.target, link.why
        ));
    }
    text
}

/// A link or image found in a chapter.
struct Found {
    target: String,
    line: usize,
}

/// What one chapter offers and asks for.
struct Scanned {
    anchors: BTreeSet<String>,
    links: Vec<Found>,
}

/// Checks every link of `chapters` (of the book at `root`, source folder `src`, both as
/// `book.toml` says); returns the links to other sites, or every broken link.
pub fn check(
    chapters: &[ChapterText],
    root: &Path,
    src: &Path,
) -> Result<Vec<ExternalLink>, BrokenLinks> {
    let mut pages: BTreeMap<PathBuf, BTreeSet<String>> = BTreeMap::new();
    let mut scanned = Vec::new();
    for chapter in chapters {
        let Some(path) = &chapter.source_path else {
            continue;
        };
        let (map, _) = map_chapter(root, src, path, &chapter.content);
        let found = scan(&chapter.content);
        pages.insert(normal(path), found.anchors.clone());
        scanned.push((path.clone(), map, found));
    }
    let mut broken = Vec::new();
    let mut external = BTreeSet::new();
    for (path, map, found) in &scanned {
        for link in &found.links {
            let origin = map.origin(link.line);
            let file = origin.file.display().to_string();
            if is_external(&link.target) {
                if link.target.starts_with("http://") || link.target.starts_with("https://") {
                    external.insert(ExternalLink {
                        url: link.target.clone(),
                        file: file.clone(),
                        line: origin.line,
                    });
                }
                continue;
            }
            if let Some(why) = problem(&link.target, path, &pages, &root.join(src)) {
                broken.push(BrokenLink {
                    location: format!("{file}:{}", origin.line),
                    target: link.target.clone(),
                    why,
                });
            }
        }
    }
    if broken.is_empty() {
        Ok(external.into_iter().collect())
    } else {
        Err(BrokenLinks(broken))
    }
}

/// Whether a link leaves the book: a scheme (`https:`, `mailto:`) or `//host`.
fn is_external(target: &str) -> bool {
    static SCHEME: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^[A-Za-z][A-Za-z0-9+.-]*:").expect("valid regex"));
    target.starts_with("//") || SCHEME.is_match(target)
}

/// What is wrong with a link written in the chapter `from`, or `None` when it leads somewhere.
fn problem(
    target: &str,
    from: &Path,
    pages: &BTreeMap<PathBuf, BTreeSet<String>>,
    src_dir: &Path,
) -> Option<String> {
    let (path_part, anchor) = match target.split_once('#') {
        Some((p, a)) => (p, Some(a)),
        None => (target, None),
    };
    let path_part = path_part.split('?').next().unwrap_or("");
    let page = if path_part.is_empty() {
        normal(from)
    } else {
        let base = if let Some(absolute) = path_part.strip_prefix('/') {
            PathBuf::from(absolute)
        } else {
            from.parent().unwrap_or(Path::new("")).join(path_part)
        };
        let decoded = percent_decode(&base.to_string_lossy());
        normal(Path::new(&decoded))
    };
    let as_chapter = match page.extension().and_then(|e| e.to_str()) {
        Some("html") => page.with_extension("md"),
        _ => page.clone(),
    };
    if let Some(anchors) = pages.get(&as_chapter) {
        return match anchor {
            Some(a) if !a.is_empty() && !anchors.contains(&percent_decode(a)) => Some(format!(
                "{} has no heading or id `{a}`{}",
                as_chapter.display(),
                nearest(a, anchors)
            )),
            _ => None,
        };
    }
    if page.extension().is_some_and(|e| e == "md") {
        return Some(format!(
            "{} is not a chapter of this book (SUMMARY.md lists no such file)",
            page.display()
        ));
    }
    if !src_dir.join(&page).exists() {
        return Some(format!(
            "no file {} in the book's source folder",
            page.display()
        ));
    }
    None
}

/// ` (did you mean `x`?)` for the anchor of the page closest to `wanted`, when one is close.
fn nearest(wanted: &str, anchors: &BTreeSet<String>) -> String {
    anchors
        .iter()
        .map(|a| (strsim::levenshtein(wanted, a), a))
        .filter(|(distance, a)| *distance <= a.len().max(wanted.len()) / 3 + 1)
        .min()
        .map(|(_, a)| format!(" (did you mean `{a}`?)"))
        .unwrap_or_default()
}

/// A path with `.` and `..` resolved and `/` separators, relative to the source folder.
fn normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(part) => out.push(part),
            _ => {}
        }
    }
    out
}

/// `%20` and the like decoded, as the browser does before it looks for a file or an id.
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// The anchors a chapter offers and the links it holds, with their lines in `content`.
fn scan(content: &str) -> Scanned {
    static HTML_ID: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"\bid\s*=\s*["']([^"']+)["']"#).expect("valid regex"));
    static HTML_LINK: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"\b(?:href|src)\s*=\s*["']([^"']+)["']"#).expect("valid regex")
    });
    let line_of = |offset: usize| content[..offset.min(content.len())].matches('\n').count() + 1;
    let mut anchors = BTreeSet::new();
    let mut used = HashSet::new();
    let mut links = Vec::new();
    let mut heading: Option<(Option<String>, String)> = None;
    // An HTML comment (a snippet annotation) spans several HTML events, a line each.
    let mut in_comment = false;
    let options = MarkdownOptions::default();
    for (event, range) in new_cmark_parser(content, &options).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { id, .. }) => {
                heading = Some((id.map(|i| i.to_string()), String::new()));
            }
            Event::Start(Tag::DefinitionListTitle) => heading = Some((None, String::new())),
            Event::End(TagEnd::Heading(_)) | Event::End(TagEnd::DefinitionListTitle) => {
                if let Some((own, text)) = heading.take() {
                    let id = own.unwrap_or_else(|| unique_id(&id_from_content(&text), &mut used));
                    anchors.insert(id);
                }
            }
            Event::Text(text) | Event::Code(text) => {
                if let Some((_, heading_text)) = &mut heading {
                    heading_text.push_str(&text);
                }
            }
            Event::Start(Tag::Link { dest_url, .. })
            | Event::Start(Tag::Image { dest_url, .. }) => {
                links.push(Found {
                    target: dest_url.to_string(),
                    line: line_of(range.start),
                });
            }
            Event::Html(html) | Event::InlineHtml(html) => {
                let html = blank_comments(&html, &mut in_comment);
                for found in HTML_ID.captures_iter(&html) {
                    anchors.insert(found[1].to_string());
                }
                for found in HTML_LINK.captures_iter(&html) {
                    let at = range.start + found.get(0).map_or(0, |m| m.start());
                    links.push(Found {
                        target: found[1].to_string(),
                        line: line_of(at),
                    });
                }
            }
            _ => {}
        }
    }
    Scanned { anchors, links }
}

/// `html` with every part inside an HTML comment replaced by spaces (so offsets stay), carrying
/// whether a comment is still open into the next piece of the same HTML block.
fn blank_comments(html: &str, in_comment: &mut bool) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while !rest.is_empty() {
        let marker = if *in_comment { "-->" } else { "<!--" };
        match rest.find(marker) {
            Some(at) => {
                let (before, after) = rest.split_at(at + marker.len());
                if *in_comment {
                    out.extend(before.chars().map(|c| if c == '\n' { c } else { ' ' }));
                } else {
                    out.push_str(&before[..at]);
                    out.push_str(&" ".repeat(marker.len()));
                }
                *in_comment = !*in_comment;
                rest = after;
            }
            None => {
                if *in_comment {
                    out.extend(rest.chars().map(|c| if c == '\n' { c } else { ' ' }));
                } else {
                    out.push_str(rest);
                }
                rest = "";
            }
        }
    }
    out
}

/// mdBook's id of a heading's text (`mdbook-html`, `utils::id_from_content`).
fn id_from_content(content: &str) -> String {
    content
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|ch| {
            if ch.is_alphanumeric() || ch == '_' || ch == '-' {
                Some(ch)
            } else if ch.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// mdBook's unique form of an id on one page: `-1`, `-2`, ... after a repeat
/// (`mdbook-html`, `utils::unique_id`).
fn unique_id(id: &str, used: &mut HashSet<String>) -> String {
    if used.insert(id.to_string()) {
        return id.to_string();
    }
    (1..)
        .map(|n| format!("{id}-{n}"))
        .find(|candidate| used.insert(candidate.clone()))
        .expect("some suffix is free")
}

/// Checks that every entry of `SUMMARY.md` names a file of the source folder, before mdBook
/// loads the book (which, with `create-missing = true`, would make an empty chapter of it;
/// with `false`, stop without a line number). A draft entry (`[Title]()`) names none.
pub fn check_summary(root: &Path, src: &Path) -> Result<(), BrokenLinks> {
    let summary = src.join("SUMMARY.md");
    let Ok(text) = std::fs::read_to_string(root.join(&summary)) else {
        return Ok(());
    };
    let broken: Vec<BrokenLink> = scan(&text)
        .links
        .into_iter()
        .filter(|link| !link.target.is_empty() && !is_external(&link.target))
        .filter_map(|link| {
            let file = link.target.split('#').next().unwrap_or("");
            let path = normal(Path::new(&percent_decode(file)));
            (!root.join(src).join(&path).is_file()).then(|| BrokenLink {
                location: format!("{}:{}", summary.display(), link.line),
                target: link.target.clone(),
                why: format!("no file {} in the book's source folder", path.display()),
            })
        })
        .collect();
    if broken.is_empty() {
        Ok(())
    } else {
        Err(BrokenLinks(broken))
    }
}

/// The anchors mdBook's html renderer gives a chapter of this text (for tests that compare them
/// with a built page).
pub fn anchors(content: &str) -> BTreeSet<String> {
    scan(content).anchors
}

/// Writes the links to other sites as JSON, for the drift job.
pub fn write_external(path: &Path, links: &[ExternalLink]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text = serde_json::to_string_pretty(links).map_err(std::io::Error::other)?;
    std::fs::write(path, text + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chapter(path: &str, content: &str) -> ChapterText {
        ChapterText {
            content: content.into(),
            source_path: Some(PathBuf::from(path)),
        }
    }

    #[test]
    fn nothing_inside_a_comment_is_an_anchor_or_a_link() {
        let found = scan(
            "# T\n\n<!-- hubcheck\nid = \"snippet\"\nhref=\"x.md\"\n-->\n\n<a id=\"real\"></a>\n",
        );
        assert!(found.anchors.contains("real") && !found.anchors.contains("snippet"));
        assert!(found.links.is_empty());
    }

    #[test]
    fn anchors_follow_mdbooks_rules() {
        let found = scan(
            "# Log in (`hf auth login`)\n\n## Step 1\n\n## Step 1\n\n## Own {#custom}\n\n\
             <a id=\"raw-anchor\"></a>\n\n## Don't -- stop\n",
        );
        let anchors: Vec<&str> = found.anchors.iter().map(String::as_str).collect();
        for id in [
            "log-in-hf-auth-login",
            "step-1",
            "step-1-1",
            "custom",
            "raw-anchor",
            "dont--stop",
        ] {
            assert!(anchors.contains(&id), "{id} not in {anchors:?}");
        }
    }

    #[test]
    fn broken_links_are_named_with_their_lines_and_good_ones_pass() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src/images")).unwrap();
        std::fs::write(dir.path().join("src/images/a.svg"), "<svg/>").unwrap();
        let chapters = [
            chapter(
                "a.md",
                "# A\n\n[good](b.md#b-two) [html](b.html) ![img](images/a.svg)\n\
                 [self](#a) [site](https://huggingface.co/settings/tokens)\n\n\
                 [gone](c.md) [bad anchor](b.md#b-too)\n<img src=\"images/none.png\">\n",
            ),
            chapter(
                "b.md",
                "# B\n\n## B two\n\n[up](./a.md#a) [nope](a.md#nope)\n",
            ),
        ];
        let broken = check(&chapters, dir.path(), Path::new("src"))
            .unwrap_err()
            .0;
        let text: Vec<String> = broken
            .iter()
            .map(|b| format!("{} {} {}", b.location, b.target, b.why))
            .collect();
        assert_eq!(broken.len(), 4, "{text:#?}");
        assert!(
            text[0].starts_with("src/a.md:6 c.md c.md is not a chapter"),
            "{text:#?}"
        );
        assert!(
            text[1].contains("b.md has no heading or id `b-too` (did you mean `b-two`?)"),
            "{text:#?}"
        );
        assert!(
            text[2].starts_with("src/a.md:7 images/none.png no file"),
            "{text:#?}"
        );
        assert!(
            text[3].starts_with("src/b.md:5 a.md#nope a.md has no heading or id `nope`"),
            "{text:#?}"
        );
    }

    #[test]
    fn external_links_are_listed_and_not_checked() {
        let dir = tempfile::tempdir().unwrap();
        let chapters = [chapter(
            "a.md",
            "# A\n\n<https://example.org/x> [m](mailto:a@b.c)\n",
        )];
        let external = check(&chapters, dir.path(), Path::new("src")).unwrap();
        assert_eq!(
            external,
            [ExternalLink {
                url: "https://example.org/x".into(),
                file: "src/a.md".into(),
                line: 3
            }]
        );
    }
}
