//! `mdbook-hubcheck test --bless`: writes what the runs printed back into the markdown, where the
//! book shows expected output, so a client release that changes a message is one command, not an
//! afternoon of hand edits (trycmd's `TRYCMD=overwrite`, the Rust Book's listing script).
//!
//! Only two kinds of text are rewritten, each in the file its block is written in (also inside an
//! `{{#include}}`), by the byte range of exactly that text, so everything else stays byte for byte:
//!
//! - an **expected-output block** (the `text` block after a snippet, checked against the first
//!   scenario): each non-empty line that no longer appears in order is replaced by the line the run
//!   printed in its place; a line that still appears is left alone;
//! - a scenario's **`stdout`/`stderr`/`output` entries**: an entry that still appears is left
//!   alone; one that no longer does is replaced by the most similar text the run printed.
//!
//! "Most similar" ([`replacement`]) is one rule for both: among the printed lines (of the stream
//! the text is checked against; for a block line, those after the line matched before it), the
//! part of a line that takes the fewest word edits from the old text (words: runs of letters,
//! digits, `_` and `-`, runs of spaces, `{...}` templates, other characters alone; an edit is a
//! word replaced, added or dropped; the part may start and end anywhere in the line), ties going
//! to fewer character edits, then to the earlier line; at most half of the old text's words may
//! change, else nothing is written and the text is reported as needing a person.
//! What was printed is written back with the page's placeholders (`your-username` in a block,
//! `{user}` in an annotation: [`Capture`]).
//!
//! A scenario whose exit status or exception changed is never blessed: that changes what the
//! page teaches, and a person must decide. Sessions (`>>>`/`$` blocks with their output on the
//! page) are not rewritten either.

use std::collections::BTreeMap;
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::case::{Capture, CaseResult};
use super::check::final_exception;
#[cfg(test)]
use super::plan::Values;
use super::process::Outcome;
use crate::snippets::Snippet;
use crate::snippets::annotation::Scenario;
use crate::snippets::scan::{ANNOTATION_OPENER, CodeBlock, line_of, scan};

/// Why blessing could not write the book.
#[derive(Debug, thiserror::Error)]
pub enum BlessError {
    /// A file of the book could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
}

/// One text rewritten: where, and its first line before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// `file:line` of the block's fence or of the entry.
    pub location: String,
    /// What it is: `output block`, `scenario NAME stdout`, ...
    pub what: String,
    /// The first line that differs, before.
    pub old: String,
    /// The same line, after.
    pub new: String,
}

/// What `--bless` did.
#[derive(Debug, Default)]
pub struct Blessing {
    /// The texts rewritten, in book order.
    pub changes: Vec<Change>,
    /// Scenarios and texts left alone because a person must decide, each with its reason.
    pub refused: Vec<String>,
    /// The files written.
    pub files: Vec<PathBuf>,
}

impl Blessing {
    /// Whether everything that failed was a text, and every such text was rewritten.
    pub fn complete(&self) -> bool {
        self.refused.is_empty()
    }

    /// The summary: one line per rewritten block (or scenario key) with its first changed line
    /// before and after, what was refused and why, and the counts.
    pub fn write_summary(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "\nbless:")?;
        let mut blocks = 0;
        for (n, change) in self.changes.iter().enumerate() {
            let same = |c: &Change| c.location == change.location && c.what == change.what;
            if n > 0 && same(&self.changes[n - 1]) {
                continue;
            }
            blocks += 1;
            let lines = self.changes[n..].iter().take_while(|c| same(c)).count();
            let more = match lines {
                1 => String::new(),
                n => format!(", {n} lines"),
            };
            writeln!(
                out,
                "  {} ({}{more}): {:?} -> {:?}",
                change.location, change.what, change.old, change.new
            )?;
        }
        for refusal in &self.refused {
            writeln!(out, "  not blessed: {refusal}")?;
        }
        writeln!(
            out,
            "bless: {blocks} block(s) rewritten ({} line(s)) in {} file(s), {} left for a person",
            self.changes.len(),
            self.files.len(),
            self.refused.len()
        )
    }
}

/// One replacement in a file: a byte range and its new text.
#[derive(Debug)]
struct Edit {
    range: Range<usize>,
    text: String,
    change: Change,
}

/// Rewrites, in the book at `root`, every expected text that the failed `results` contradict,
/// from what they printed; writes each changed file once.
pub fn bless(
    root: &Path,
    snippets: &[Snippet],
    results: &[CaseResult],
) -> Result<Blessing, BlessError> {
    let mut blessing = Blessing::default();
    let mut edits: BTreeMap<PathBuf, Vec<Edit>> = BTreeMap::new();
    for result in results {
        let (Some(capture), Some(j)) = (&result.capture, result.case.scenario) else {
            continue;
        };
        let snippet = &snippets[result.case.snippet];
        let scenario = &snippet.scenarios[j];
        if let Some(why) = refusal(scenario, &capture.outcome) {
            blessing.refused.push(format!(
                "{} scenario `{}`: {why}; that changes what the page teaches, so a person must \
                 decide (the texts of this scenario are left as they are)",
                snippet.location(),
                scenario.name
            ));
            continue;
        }
        let source = read(&root.join(&snippet.file))?;
        let found = find_block(&source, snippet.line);
        let file_edits = edits.entry(snippet.file.clone()).or_default();
        match found.as_ref().and_then(|b| b.annotation.as_ref()) {
            Some(raw) if !snippet.annotation.scenario.is_empty() => {
                let body_start = body_offset(&source, raw.span.start, &raw.body);
                bless_entries(
                    (&snippet.file, &source, body_start, &raw.body),
                    j,
                    scenario,
                    capture,
                    file_edits,
                    &mut blessing.refused,
                );
            }
            _ => {}
        }
        if let Some(output) = snippet.output.as_ref().filter(|_| j == 0) {
            let source = read(&root.join(&output.file))?;
            let file_edits = edits.entry(output.file.clone()).or_default();
            bless_block(
                (&output.file, &source, output.line),
                capture,
                file_edits,
                &mut blessing.refused,
            );
        }
        if capture.other_failures {
            blessing.refused.push(format!(
                "{} scenario `{}` also fails for a reason --bless does not write (see its failure \
                 above)",
                snippet.location(),
                scenario.name
            ));
        }
    }
    for (file, mut file_edits) in edits {
        if file_edits.is_empty() {
            continue;
        }
        let path = root.join(&file);
        let mut text = read(&path)?;
        file_edits.sort_by_key(|e| std::cmp::Reverse(e.range.start));
        file_edits.dedup_by_key(|e| e.range.clone());
        for edit in &file_edits {
            text.replace_range(edit.range.clone(), &edit.text);
        }
        std::fs::write(&path, text).map_err(|source| BlessError::Io {
            path: path.clone(),
            source,
        })?;
        file_edits.reverse();
        blessing
            .changes
            .extend(file_edits.into_iter().map(|e| e.change));
        blessing.files.push(file);
    }
    Ok(blessing)
}

fn read(path: &Path) -> Result<String, BlessError> {
    std::fs::read_to_string(path).map_err(|source| BlessError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Why a scenario's texts may not be blessed: its exit status or its exception is not the one
/// the annotation declares.
pub fn refusal(scenario: &Scenario, outcome: &Outcome) -> Option<String> {
    let expected = scenario.exit.unwrap_or(0);
    if outcome.timed_out || outcome.waited_for.is_some() || outcome.status.is_none() {
        return Some("the run did not end by itself (a timeout, a signal, or a prompt)".into());
    }
    if outcome.status != Some(expected) {
        return Some(format!(
            "the exit status changed (the annotation says {expected}, the run ended with {})",
            outcome.status.unwrap_or_default()
        ));
    }
    let wanted = scenario.exception.as_deref()?;
    let found = final_exception(&outcome.stderr);
    let short = |name: &str| name.rsplit('.').next().unwrap_or(name).to_string();
    match found {
        Some(found) if short(&found) == short(wanted) => None,
        Some(found) => Some(format!(
            "the exception changed (the annotation says {wanted}, the run ended with {found})"
        )),
        None => Some(format!(
            "the exception changed (the annotation says {wanted}, the run raised none)"
        )),
    }
}

/// The block of `source` whose opening fence is on `line`.
fn find_block(source: &str, line: usize) -> Option<CodeBlock> {
    scan(source)
        .ok()?
        .blocks
        .into_iter()
        .find(|b| b.line == line)
}

/// Where the annotation's body starts in `source`, when it stands there as one piece (an
/// annotation inside a block quote has `>` marks in between and is not rewritten).
fn body_offset(source: &str, from: usize, body: &str) -> Option<usize> {
    let opener = from + source[from..].find(ANNOTATION_OPENER)?;
    let start = opener + ANNOTATION_OPENER.len();
    source[start..].starts_with(body).then_some(start)
}

/// The scenario's `stdout`, `stderr` and `output` entries that no longer appear, rewritten.
fn bless_entries(
    (file, source, body_start, body): (&Path, &str, Option<usize>, &str),
    j: usize,
    scenario: &Scenario,
    capture: &Capture,
    edits: &mut Vec<Edit>,
    refused: &mut Vec<String>,
) {
    let outcome = &capture.outcome;
    let both = format!("{}{}", outcome.stdout, outcome.stderr);
    let back = capture.values.templates_back();
    for (key, entries, stream) in [
        ("stdout", &scenario.stdout, outcome.stdout.as_str()),
        ("stderr", &scenario.stderr, outcome.stderr.as_str()),
        ("output", &scenario.output, both.as_str()),
    ] {
        for (i, entry) in entries.iter().enumerate() {
            if stream.contains(&capture.values.expand(entry)) {
                continue;
            }
            let Some(body_start) = body_start else {
                refused.push(format!(
                    "{}: scenario `{}` {key} entry {entry:?}: its annotation is inside a block \
                     quote, which --bless does not rewrite",
                    file.display(),
                    scenario.name
                ));
                continue;
            };
            let Some(span) = entry_span(body, j, key, i) else {
                continue;
            };
            let at = format!(
                "{}:{}",
                file.display(),
                line_of(source, body_start + span.start)
            );
            let lines: Vec<String> = stream.lines().map(|l| written_back(l, &back)).collect();
            match replacement(entry, &lines) {
                Some(new) if holds_a_token(&new, capture) => refused.push(token_refusal(&at)),
                Some(new) => {
                    let written = toml_string(&new, &body[span.clone()]);
                    edits.push(Edit {
                        range: body_start + span.start..body_start + span.end,
                        text: written,
                        change: Change {
                            location: at,
                            what: format!("scenario {} {key}", scenario.name),
                            old: entry.clone(),
                            new,
                        },
                    });
                }
                None => refused.push(no_similar_line(&at, entry)),
            }
        }
    }
}

/// Whether `text` holds a token-shaped string that is not one of the book's placeholders: a
/// token the run printed that no placeholder stands for, which must never be written to a file.
fn holds_a_token(text: &str, capture: &Capture) -> bool {
    let placeholder = |t: &str| capture.placeholders.iter().any(|(key, _)| key == t);
    !crate::secrets::find_tokens(text, placeholder).is_empty()
}

fn token_refusal(at: &str) -> String {
    format!(
        "{at}: what the run printed in its place holds a token-shaped string that no placeholder \
         stands for; tokens are never written to the book, so a person must rewrite it"
    )
}

fn no_similar_line(at: &str, old: &str) -> String {
    format!(
        "{at}: {old:?} no longer appears and nothing the run printed is similar enough (at most \
         half of it may change); a person must rewrite it"
    )
}

/// The byte range, in the annotation's body, of entry `i` of `key` in scenario `j`.
fn entry_span(body: &str, j: usize, key: &str, i: usize) -> Option<Range<usize>> {
    let document = toml_edit::Document::parse(body).ok()?;
    let scenario = document
        .get("scenario")?
        .as_array_of_tables()?
        .iter()
        .nth(j)?;
    let value = scenario.get(key)?;
    match value.as_array() {
        Some(array) => array.iter().nth(i)?.span(),
        None if i == 0 => value.span(),
        None => None,
    }
}

/// `text` as a TOML string in the style of `old` (a literal `'...'` string stays one when it can).
fn toml_string(text: &str, old: &str) -> String {
    if old.starts_with('\'') && !old.starts_with("'''") && !text.contains(['\'', '\n', '\r']) {
        return format!("'{text}'");
    }
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The lines of the output block whose fence is at `line` of `file` that no longer appear in
/// order, rewritten.
fn bless_block(
    (file, source, line): (&Path, &str, usize),
    capture: &Capture,
    edits: &mut Vec<Edit>,
    refused: &mut Vec<String>,
) {
    let Some(block) = find_block(source, line) else {
        return;
    };
    let streams = [
        capture.outcome.stdout.as_str(),
        capture.outcome.stderr.as_str(),
    ];
    let mut cursors = [0usize; 2];
    let at = format!("{}:{line}", file.display());
    for (n, shown) in block.code.lines().enumerate() {
        let shown = shown.trim();
        if shown.is_empty() {
            continue;
        }
        let wanted = expand_placeholders(shown, &capture.placeholders);
        let found = (0..2).find_map(|s| {
            streams[s][cursors[s]..]
                .find(&wanted)
                .map(|i| (s, cursors[s] + i + wanted.len()))
        });
        if let Some((s, end)) = found {
            cursors[s] = end;
            continue;
        }
        let back: Vec<(String, String)> = capture
            .placeholders
            .iter()
            .map(|(k, v)| (v.clone(), k.clone()))
            .collect();
        let candidates: Vec<(usize, usize, String)> = (0..2)
            .flat_map(|s| {
                lines_from(streams[s], cursors[s])
                    .into_iter()
                    .map(move |(end, l)| (s, end, l))
            })
            .map(|(s, end, l)| (s, end, written_back(&l, &back)))
            .collect();
        let texts: Vec<String> = candidates.iter().map(|(_, _, l)| l.clone()).collect();
        let Some((chosen, new)) = replacement_at(shown, &texts) else {
            refused.push(no_similar_line(&at, shown));
            continue;
        };
        let (s, end, _) = candidates[chosen];
        cursors[s] = end;
        if holds_a_token(&new, capture) {
            refused.push(token_refusal(&at));
            continue;
        }
        let Some(range) = line_range(source, block.line + 1 + n, shown) else {
            refused.push(format!(
                "{at}: the line {shown:?} is not written in the block itself (an `{{{{#include}}}}` \
                 inside the block?), so --bless cannot rewrite it"
            ));
            continue;
        };
        edits.push(Edit {
            range,
            text: new.clone(),
            change: Change {
                location: at.clone(),
                what: "output block".into(),
                old: shown.to_string(),
                new,
            },
        });
    }
}

/// The byte range of `trimmed` on 1-based `line` of `source`.
fn line_range(source: &str, line: usize, trimmed: &str) -> Option<Range<usize>> {
    let start: usize = source
        .split_inclusive('\n')
        .take(line - 1)
        .map(str::len)
        .sum();
    let text = source[start..].split('\n').next()?;
    let at = text.find(trimmed)?;
    Some(start + at..start + at + trimmed.len())
}

/// The lines of `stream` from byte `from` on, each with the byte offset of its end.
fn lines_from(stream: &str, from: usize) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut start = from;
    for piece in stream[from..].split_inclusive('\n') {
        let end = start + piece.len();
        out.push((end, piece.trim_end_matches(['\n', '\r']).to_string()));
        start = end;
    }
    out
}

/// A book's placeholders replaced by the run's values, longest first (as the harness does).
fn expand_placeholders(text: &str, placeholders: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = placeholders.iter().collect();
    sorted.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
    replace_all(text, sorted.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// A printed line with each of the run's values replaced by what the page shows for it.
fn written_back(line: &str, back: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = back.iter().filter(|(v, _)| !v.is_empty()).collect();
    sorted.sort_by_key(|(v, _)| std::cmp::Reverse(v.len()));
    replace_all(line, sorted.iter().map(|(v, k)| (v.as_str(), k.as_str())))
}

/// Replaces every key by its value in one pass, earlier keys first where they overlap.
fn replace_all<'a>(text: &str, pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let pairs: Vec<(&str, &str)> = pairs.filter(|(k, _)| !k.is_empty()).collect();
    let mut out = String::new();
    let mut rest = text;
    'outer: while !rest.is_empty() {
        for (key, value) in &pairs {
            if let Some(after) = rest.strip_prefix(key) {
                out.push_str(value);
                rest = after;
                continue 'outer;
            }
        }
        let c = rest.chars().next().unwrap_or_default();
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The text that replaces `old`, chosen among `lines` by the rule of the module docs.
pub fn replacement(old: &str, lines: &[String]) -> Option<String> {
    replacement_at(old, lines).map(|(_, text)| text)
}

/// [`replacement`], with the index of the line it was taken from.
fn replacement_at(old: &str, lines: &[String]) -> Option<(usize, String)> {
    let wanted = words(old);
    let mut best: Option<((usize, usize), usize, String)> = None;
    for (i, line) in lines.iter().enumerate() {
        let Some((edits, part)) = closest_part(&wanted, line) else {
            continue;
        };
        let part = part.trim().to_string();
        let score = (edits, char_edits(old, &part));
        if best.as_ref().is_none_or(|(b, _, _)| score < *b) {
            best = Some((score, i, part));
        }
    }
    let ((edits, _), i, part) = best?;
    (edits * 2 <= wanted.len() && !part.is_empty()).then_some((i, part))
}

/// A text cut into words: runs of letters, digits, `_` and `-` (so `your-username` is one
/// word), runs of spaces, a `{...}` template, and each other character on its own.
fn words(text: &str) -> Vec<&str> {
    let kind = |c: char| match c {
        c if c.is_alphanumeric() || c == '_' || c == '-' => 0,
        c if c.is_whitespace() => 1,
        _ => 2,
    };
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(first) = rest.chars().next() {
        let template = (first == '{')
            .then(|| rest.find('}'))
            .flatten()
            .filter(|&close| !rest[..close].contains(char::is_whitespace));
        let len = match (template, kind(first)) {
            (Some(close), _) => close + 1,
            (None, 2) => first.len_utf8(),
            (None, k) => rest.find(|c: char| kind(c) != k).unwrap_or(rest.len()),
        };
        out.push(&rest[..len]);
        rest = &rest[len..];
    }
    out
}

/// The part of `line` with the fewest word edits from `wanted` (a semi-global alignment of
/// [`words`]: the part may start and end anywhere in the line); with that number of edits.
fn closest_part(wanted: &[&str], line: &str) -> Option<(usize, String)> {
    let have = words(line);
    let (n, m) = (wanted.len(), have.len());
    if n == 0 || m == 0 {
        return None;
    }
    // cost[i][j]: edits to turn wanted[..i] into a part of `have` that ends before word j.
    let mut cost = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in cost.iter_mut().enumerate() {
        row[0] = i;
    }
    let differs = |i: usize, j: usize| usize::from(wanted[i - 1] != have[j - 1]);
    for i in 1..=n {
        for j in 1..=m {
            cost[i][j] = (cost[i - 1][j - 1] + differs(i, j))
                .min(cost[i - 1][j] + 1)
                .min(cost[i][j - 1] + 1);
        }
    }
    // Among ends as good, the last: a word replaced rather than dropped.
    let end = (0..=m).rev().min_by_key(|&j| cost[n][j])?;
    // Walk back, preferring a word kept or replaced, to where the part starts.
    let (mut i, mut j) = (n, end);
    while i > 0 {
        if j > 0 && cost[i][j] == cost[i - 1][j - 1] + differs(i, j) {
            (i, j) = (i - 1, j - 1);
        } else if cost[i][j] == cost[i - 1][j] + 1 {
            i -= 1;
        } else {
            j -= 1;
        }
    }
    Some((cost[n][end], have[j..end].concat()))
}

/// Character edits (Levenshtein distance) between two texts: the tie-breaker between parts
/// that are as many words away.
fn char_edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb))
                .min(above + 1)
                .min(row[j] + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn an_edited_middle_comes_back_as_printed() {
        let printed = lines("The token does not work: 401 Client Error\nInvalid user token.\n");
        assert_eq!(
            replacement("Invalid usr token.", &printed).as_deref(),
            Some("Invalid user token.")
        );
        assert_eq!(
            replacement("Xnvalid user token.", &printed).as_deref(),
            Some("Invalid user token.")
        );
    }

    #[test]
    fn a_changed_word_comes_back_as_the_whole_word_printed() {
        let printed = lines("Success! This token belongs to: {user}\nToken type: read\n");
        assert_eq!(
            replacement("Success! This token belongs to: bob", &printed).as_deref(),
            Some("Success! This token belongs to: {user}")
        );
        assert_eq!(
            replacement("Token type: writer", &printed).as_deref(),
            Some("Token type: read")
        );
        assert_eq!(
            replacement("Success! This token belongs to: someone-else", &printed).as_deref(),
            Some("Success! This token belongs to: {user}")
        );
    }

    #[test]
    fn a_hyphenated_name_is_one_word() {
        let printed = lines("Token name: your-token-name\n");
        assert_eq!(
            replacement("Token name: course-write", &printed).as_deref(),
            Some("Token name: your-token-name")
        );
    }

    #[test]
    fn a_prefix_of_a_version_stays_a_prefix() {
        let printed = lines("huggingface_hub 3.0.1\ntransformers 5.2.0\n");
        assert_eq!(
            replacement("huggingface_hub 2.", &printed).as_deref(),
            Some("huggingface_hub 3.")
        );
    }

    #[test]
    fn a_part_of_a_line_stays_a_part() {
        let printed = lines("huggingface_hub.errors.HfHubHTTPError: 401 Invalid user token.");
        assert_eq!(
            replacement("Invalid user tokn.", &printed).as_deref(),
            Some("Invalid user token.")
        );
    }

    #[test]
    fn nothing_similar_is_not_a_replacement() {
        let printed = lines("Upload finished.\n");
        assert_eq!(replacement("Token type: read", &printed), None);
    }

    #[test]
    fn values_are_written_back_as_placeholders() {
        let back = vec![
            ("ada-student".to_string(), "your-username".to_string()),
            ("course-read".to_string(), "your-token-name".to_string()),
        ];
        assert_eq!(
            written_back("user ada-student, token course-read", &back),
            "user your-username, token your-token-name"
        );
    }

    #[test]
    fn a_printed_token_is_never_written_back() {
        let capture = Capture {
            outcome: Outcome::default(),
            values: Values::default(),
            placeholders: vec![("hf_your_token_here".into(), "{token}".into())],
            other_failures: false,
        };
        let token = format!("hf_{}", "Zq9".repeat(12));
        assert!(holds_a_token(&format!("token: {token}"), &capture));
        assert!(!holds_a_token("token: {token}", &capture));
        assert!(!holds_a_token("token: hf_your_token_here", &capture));
    }

    #[test]
    fn toml_strings_keep_their_quotes() {
        assert_eq!(toml_string("say \"hi\"", "\"x\""), "\"say \\\"hi\\\"\"");
        assert_eq!(toml_string("C:\\x", "'x'"), "'C:\\x'");
        assert_eq!(toml_string("it's", "'x'"), "\"it's\"");
    }

    #[test]
    fn a_changed_exit_status_or_exception_is_refused() {
        let scenario = Scenario {
            exception: Some("HfHubHTTPError".into()),
            exit: Some(1),
            ..Scenario::default()
        };
        let ended = |status, stderr: &str| Outcome {
            status: Some(status),
            stderr: stderr.into(),
            ..Outcome::default()
        };
        let traceback = "Traceback (most recent call last):\n  File \"x\"\n";
        let same = ended(
            1,
            &format!("{traceback}huggingface_hub.errors.HfHubHTTPError: no\n"),
        );
        assert_eq!(refusal(&scenario, &same), None);
        assert!(
            refusal(&scenario, &ended(0, ""))
                .unwrap()
                .contains("exit status changed")
        );
        let other = ended(1, &format!("{traceback}KeyError: 'name'\n"));
        assert!(
            refusal(&scenario, &other)
                .unwrap()
                .contains("exception changed")
        );
    }

    #[test]
    fn entries_are_found_by_their_byte_range() {
        let body = "\nid = \"x\"\n\n[[scenario]]\nname = \"a\"\nstdout = [\"one\", 'two']\n\n[[scenario]]\nname = \"b\"\nstderr = \"three\"\n";
        let span = entry_span(body, 0, "stdout", 1).unwrap();
        assert_eq!(&body[span], "'two'");
        let span = entry_span(body, 1, "stderr", 0).unwrap();
        assert_eq!(&body[span], "\"three\"");
        assert_eq!(entry_span(body, 1, "stdout", 0), None);
    }
}
