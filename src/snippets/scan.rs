//! Finds fenced code blocks and their annotations in one chapter's markdown.

use std::ops::Range;

use mdbook_markdown::pulldown_cmark::{CodeBlockKind, Event, Tag, TagEnd};
use mdbook_markdown::{MarkdownOptions, new_cmark_parser};

/// The text that opens an annotation comment.
pub const ANNOTATION_OPENER: &str = "<!-- hubcheck";

/// One fenced code block of a chapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeBlock {
    /// Byte range of the whole block, fences included, in the chapter text.
    pub span: Range<usize>,
    /// 1-based line of the opening fence.
    pub line: usize,
    /// The info string after the opening fence, e.g. `python` or `text`.
    pub info: String,
    /// The code, with the indentation of an enclosing list removed.
    pub code: String,
    /// The annotation comment that stands right before the block, if any.
    pub annotation: Option<RawAnnotation>,
}

impl CodeBlock {
    /// The language: the first word of the info string, lower-cased (`""` when there is none).
    pub fn language(&self) -> String {
        self.info
            .split(|c: char| c.is_whitespace() || c == ',')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase()
    }

    /// A hash of the code, the key that ties a block to its results in the harness report.
    ///
    /// A block whose hash differs from the report's has changed since the report was made.
    pub fn hash(&self) -> String {
        use sha2::{Digest, Sha256};
        hex::encode(Sha256::digest(self.code.as_bytes()))
    }
}

/// An annotation comment as written, before its TOML is parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawAnnotation {
    /// Byte range of the comment in the chapter text, up to and including its last line's newline.
    pub span: Range<usize>,
    /// 1-based line where the comment starts.
    pub line: usize,
    /// The TOML between `<!-- hubcheck` and `-->`.
    pub body: String,
}

/// What a scan of one chapter found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Scan {
    /// Every fenced code block, in order.
    pub blocks: Vec<CodeBlock>,
    /// Byte ranges of code (blocks of any kind, inline code and raw HTML), where directives and
    /// placeholders are not interpreted.
    pub code_ranges: Vec<Range<usize>>,
}

/// A chapter whose annotations cannot be matched to code blocks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    /// An annotation comment that is not directly followed by a fenced code block.
    #[error(
        "this `<!-- hubcheck` annotation is not followed by a fenced code block (only blank lines may stand between them)"
    )]
    Orphan {
        /// 1-based line of the annotation.
        line: usize,
    },
    /// An annotation comment that is never closed with `-->`.
    #[error("this `<!-- hubcheck` annotation is never closed with `-->`")]
    Unclosed {
        /// 1-based line of the annotation.
        line: usize,
    },
}

impl ScanError {
    /// The 1-based line of the annotation at fault.
    pub fn line(&self) -> usize {
        match self {
            ScanError::Orphan { line } | ScanError::Unclosed { line } => *line,
        }
    }
}

/// The 1-based line number of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Scans a chapter for fenced code blocks and the annotations in front of them.
///
/// Markdown is parsed with mdBook's own parser options, so a block found here is a block the
/// renderer shows.
pub fn scan(text: &str) -> Result<Scan, ScanError> {
    let mut scan = Scan::default();
    let mut pending: Option<RawAnnotation> = None;
    let mut current: Option<CodeBlock> = None;
    let mut html_block: Option<(usize, String)> = None;

    for (event, range) in new_cmark_parser(text, &MarkdownOptions::default()).into_offset_iter() {
        match event {
            Event::Start(Tag::HtmlBlock) => html_block = Some((range.start, String::new())),
            Event::Html(html) => {
                if let Some((_, body)) = html_block.as_mut() {
                    body.push_str(&html);
                }
            }
            Event::End(TagEnd::HtmlBlock) => {
                let (start, body) = html_block.take().unwrap_or_default();
                scan.code_ranges.push(range.clone());
                let Some(annotation) = parse_annotation(text, start, range.end, &body)? else {
                    continue;
                };
                if let Some(previous) = pending.replace(annotation) {
                    return Err(ScanError::Orphan {
                        line: previous.line,
                    });
                }
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                let annotation = pending.take();
                if let Some(a) = &annotation {
                    let between = &text[a.span.end.min(range.start)..range.start];
                    if !between.chars().all(|c| c.is_whitespace() || c == '>')
                        || !matches!(kind, CodeBlockKind::Fenced(_))
                    {
                        return Err(ScanError::Orphan { line: a.line });
                    }
                }
                scan.code_ranges.push(range.clone());
                if let CodeBlockKind::Fenced(info) = kind {
                    current = Some(CodeBlock {
                        span: range.clone(),
                        line: line_of(text, range.start),
                        info: info.trim().to_string(),
                        code: String::new(),
                        annotation,
                    });
                }
            }
            Event::Text(t) if current.is_some() => {
                if let Some(block) = current.as_mut() {
                    block.code.push_str(&t);
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                if let Some(block) = current.take() {
                    scan.blocks.push(block);
                }
            }
            Event::Code(_) | Event::InlineHtml(_) => scan.code_ranges.push(range),
            Event::Start(_) | Event::End(_) => {
                if let Some(a) = &pending
                    && starts_other_block(&event)
                {
                    return Err(ScanError::Orphan { line: a.line });
                }
            }
            _ => {
                if let Some(a) = &pending {
                    return Err(ScanError::Orphan { line: a.line });
                }
            }
        }
    }
    match pending {
        Some(a) => Err(ScanError::Orphan { line: a.line }),
        None => Ok(scan),
    }
}

/// Whether an event opens a block that may not stand between an annotation and its code block.
///
/// List items and block quotes may: an annotation can sit inside a numbered step, right above the
/// code block of that step.
fn starts_other_block(event: &Event<'_>) -> bool {
    match event {
        Event::Start(tag) => !matches!(tag, Tag::Item | Tag::List(_) | Tag::BlockQuote(_)),
        _ => false,
    }
}

/// Recognises an HTML block as an annotation and takes out its body.
fn parse_annotation(
    text: &str,
    start: usize,
    end: usize,
    html: &str,
) -> Result<Option<RawAnnotation>, ScanError> {
    let trimmed = html.trim_start();
    let Some(rest) = trimmed.strip_prefix(ANNOTATION_OPENER) else {
        return Ok(None);
    };
    // `<!-- hubcheckfoo` is some other comment.
    if rest.chars().next().is_some_and(|c| !c.is_whitespace()) {
        return Ok(None);
    }
    let line = line_of(text, start);
    let Some(close) = rest.find("-->") else {
        return Err(ScanError::Unclosed { line });
    };
    // The span covers whole lines so removing it leaves no stray indentation or blank line.
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let indent_only = text[line_start..start]
        .chars()
        .all(|c| c.is_whitespace() || c == '>');
    let span_start = if indent_only { line_start } else { start };
    let span_end = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
    let span_end = if text[..end].ends_with('\n') {
        end
    } else {
        span_end
    };
    Ok(Some(RawAnnotation {
        span: span_start..span_end,
        line,
        body: rest[..close].to_string(),
    }))
}

#[cfg(test)]
mod tests;
