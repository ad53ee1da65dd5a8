//! Turns one chapter's markdown into what readers see: annotations out, widgets in.
//!
//! This is a pure function from text to text. Every change is a splice of a byte range found by
//! the scan, applied from the end, so markdown it does not touch stays byte-identical.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

use super::directive::{self, Directive, DirectiveError};
use crate::report::Report;
use crate::secrets;
use crate::settings::Settings;
use crate::snippets::annotation;
use crate::snippets::includes::SourceMap;
use crate::snippets::scan::{ScanError, line_of, scan};
use crate::widgets;
use crate::widgets::badge;

/// Which kind of output a chapter is prepared for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The html renderer: widgets become live containers.
    Html,
    /// Any other renderer: widgets become plain text.
    Text,
}

/// A chapter the preprocessor refuses, with the file and line to fix.
#[derive(Debug, thiserror::Error)]
#[error("{}:{line}: {kind}", file.display())]
pub struct ChapterError {
    /// The file to fix, relative to the book root: the chapter, or a file it includes.
    pub file: PathBuf,
    /// 1-based line in that file.
    pub line: usize,
    /// What is wrong.
    pub kind: ChapterErrorKind,
}

/// The ways a chapter can be wrong.
#[derive(Debug, thiserror::Error)]
pub enum ChapterErrorKind {
    /// A string shaped like a real access token.
    #[error(
        "a string shaped like a Hugging Face access token ({masked}) is in the chapter; tokens are secrets: \
         use the placeholder `hf_your_token_here`, or declare this placeholder under \
         [preprocessor.hubcheck.placeholders] in book.toml"
    )]
    TokenShaped {
        /// The first characters only.
        masked: String,
    },
    /// A widget directive that is unknown or malformed.
    #[error("{0}")]
    Directive(#[from] DirectiveError),
    /// A directive without its closing `}}`.
    #[error(
        "malformed hubcheck directive: `{{{{#hubcheck` is not closed with `}}}}` on the same line"
    )]
    Unclosed,
    /// A directive that shares its line with other text.
    #[error("malformed hubcheck directive: a widget directive must stand on a line of its own")]
    NotAlone,
    /// An annotation that does not stand before a code block.
    #[error("{0}")]
    Scan(#[from] ScanError),
    /// An annotation whose TOML does not parse or has unknown keys.
    #[error("invalid hubcheck annotation: {0}")]
    Annotation(String),
}

/// Finds `{{#hubcheck` and an optional escaping backslash before it.
static DIRECTIVE_START: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\\?\{\{#hubcheck\b").expect("valid regex"));

/// A processed chapter, and whether it needs the widget script and stylesheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    /// The chapter as readers get it.
    pub text: String,
    /// Whether a token checker or a badge was put in (html only).
    pub uses_assets: bool,
}

/// Prepares one chapter for `target`: annotations out, widgets in and, for the html renderer
/// with a harness `report`, a verification badge before each fenced code block. `file` (relative
/// to the book root) names the place of an error and is the chapter's key in the report.
pub fn process_chapter(
    text: &str,
    file: &Path,
    settings: &Settings,
    target: Target,
    report: Option<&Report>,
) -> Result<Processed, ChapterError> {
    process_mapped(text, &SourceMap::identity(file), settings, target, report)
}

/// [`process_chapter`] for a chapter whose includes mdBook has expanded: `map` names the
/// chapter and tells, for an error, the file and line each line of `text` was written at.
pub fn process_mapped(
    text: &str,
    map: &SourceMap,
    settings: &Settings,
    target: Target,
    report: Option<&Report>,
) -> Result<Processed, ChapterError> {
    let fail = |line: usize, kind: ChapterErrorKind| {
        let at = map.origin(line);
        ChapterError {
            file: at.file.to_path_buf(),
            line: at.line,
            kind,
        }
    };

    if let Some(hit) = secrets::find_tokens(text, |s| settings.is_declared_placeholder(s))
        .into_iter()
        .next()
    {
        return Err(fail(
            hit.line,
            ChapterErrorKind::TokenShaped { masked: hit.masked },
        ));
    }

    let scanned = scan(text).map_err(|e| fail(e.line(), ChapterErrorKind::Scan(e)))?;

    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    let mut uses_assets = false;
    for block in &scanned.blocks {
        let Some(raw) = &block.annotation else {
            continue;
        };
        if let Err(e) = annotation::parse(&raw.body) {
            let line = raw.line + e.span().map_or(0, |s| line_of(&raw.body, s.start) - 1);
            return Err(fail(
                line,
                ChapterErrorKind::Annotation(e.message().to_string()),
            ));
        }
        edits.push((raw.span.clone(), String::new()));
    }

    if let (Target::Html, Some(report)) = (target, report) {
        let key = map.chapter().to_string_lossy().replace('\\', "/");
        for (index, block) in scanned.blocks.iter().enumerate() {
            let chosen = badge::select(report, &key, index, &block.hash());
            let html = badge::badge_html(&chosen, report, &block.code);
            edits.push(badge_edit(text, block.span.start, &html));
            uses_assets = true;
        }
    }

    for found in DIRECTIVE_START.find_iter(text) {
        let start = found.start();
        if scanned.code_ranges.iter().any(|r| r.contains(&start)) {
            continue;
        }
        if found.as_str().starts_with('\\') {
            edits.push((start..start + 1, String::new()));
            continue;
        }
        let line = line_of(text, start);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let Some(close) = text[start..line_end].find("}}") else {
            return Err(fail(line, ChapterErrorKind::Unclosed));
        };
        let end = start + close + 2;
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        if !text[line_start..start].trim().is_empty() || !text[end..line_end].trim().is_empty() {
            return Err(fail(line, ChapterErrorKind::NotAlone));
        }
        let opener_len = found.as_str().len();
        let directive = directive::parse(&text[start + opener_len..end - 2])
            .map_err(|e| fail(line, ChapterErrorKind::Directive(e)))?;
        edits.push((start..end, render(&directive, settings, target)));
        uses_assets |= target == Target::Html;
    }

    Ok(Processed {
        text: apply(text, edits),
        uses_assets,
    })
}

/// Inserts a badge's HTML block right before the code block that starts at `start`.
///
/// The block may sit in a list item or a block quote, so the lines added keep the fence line's
/// container prefix: block-quote markers stay, a list marker becomes spaces.
fn badge_edit(text: &str, start: usize, html: &str) -> (Range<usize>, String) {
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let prefix: String = text[line_start..start]
        .chars()
        .map(|c| {
            if c == '>' || c.is_whitespace() {
                c
            } else {
                ' '
            }
        })
        .collect();
    (
        start..start,
        format!("{html}\n{}\n{prefix}", prefix.trim_end()),
    )
}

/// The text that takes a directive's place.
fn render(directive: &Directive, settings: &Settings, target: Target) -> String {
    match (directive, target) {
        (Directive::TokenCheck { role, needs }, Target::Html) => {
            let placeholders = settings.token_placeholders();
            widgets::token_check_html_with_help(
                *role,
                needs,
                &settings.hub_endpoint,
                &placeholders,
                settings.network_help.as_deref(),
            )
        }
        (Directive::TokenCheck { role, .. }, Target::Text) => widgets::token_check_text(*role),
    }
}

/// Applies non-overlapping edits from the end, so earlier ranges stay valid.
fn apply(text: &str, mut edits: Vec<(Range<usize>, String)>) -> String {
    if edits.is_empty() {
        return text.to_string();
    }
    edits.sort_by_key(|(range, _)| std::cmp::Reverse(range.start));
    let mut out = text.to_string();
    for (range, replacement) in edits {
        out.replace_range(range, &replacement);
    }
    out
}

#[cfg(test)]
mod tests;
