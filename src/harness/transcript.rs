//! Runs a session block prompt by prompt and compares what each prompt printed with what the page
//! shows below it, the way doctest and trycmd compare:
//!
//! - the whole output of a prompt must match, with runs of whitespace (line breaks included) taken
//!   as equal, so a dict the page prints over several lines matches the one-line repr;
//! - `...` (doctest) and `[..]` (trycmd) stand for any text, a line that is exactly `...` for any
//!   lines;
//! - `[HOME]`, `[HASH]`, `[SIZE]` and `[TIME]` stand for the run's home folder, a 40-hex commit
//!   id, a size and a timing; with `transcript-may-differ` in `book.toml` the page's own values of
//!   those kinds stand for any such value, unmarked;
//! - a Python prompt whose page output starts with `Traceback (most recent call last):` must
//!   raise, and only the exception's last line is compared (its module path may be left out);
//! - a shell prompt the page shows no output for promises nothing about its output.
//!
//! The processes mark where each prompt's output starts ([`MARK`]); [`split`] takes the marks out
//! again, so every other check (and a failure message) sees the output a person would see.

use std::fmt::Write as _;

use regex::Regex;

use crate::settings::MayDiffer;
use crate::snippets::transcript::{Exchange, Prompts, Transcript};

/// Starts the line that opens a prompt's output: `MARK <n> MARK_END`.
pub const MARK: &str = "\u{1e}hubcheck-prompt ";
/// Ends a mark.
const MARK_END: char = '\u{1e}';
/// Starts the line on which the Python runner reports the exception a prompt raised (as JSON).
const EXCEPTION: &str = "\u{1e}hubcheck-exception\u{1e}";
/// The line a Python traceback starts with.
const TRACEBACK: &str = "Traceback (most recent call last):";

/// What one prompt printed in a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Printed {
    /// Its output.
    pub output: String,
    /// `Type: message` of the exception it raised, if it raised one (Python only).
    pub exception: Option<String>,
}

/// How a run's output may differ from the page's.
#[derive(Debug, Clone, Default)]
pub struct Comparison {
    /// The kinds of values the book's settings let differ unmarked.
    pub may_differ: Vec<MayDiffer>,
    /// The run's home folder, each way a process may see it (outside and inside the namespace).
    pub homes: Vec<String>,
}

/// The shell script that runs a session's commands one after the other, each after its mark, its
/// errors in the same stream (as a terminal shows them), stopping at the first that fails.
pub fn shell_script(transcript: &Transcript) -> String {
    let mut script = String::from("exec 2>&1\n");
    for (i, exchange) in transcript.exchanges.iter().enumerate() {
        let _ = writeln!(script, "printf '\\036hubcheck-prompt {i}\\036\\n'");
        script.push_str(&exchange.input);
        script.push('\n');
    }
    script
}

/// The session file the Python runner reads: the hidden setup and each prompt's statement.
pub fn python_session(transcript: &Transcript, setup: &str) -> String {
    let sources: Vec<&str> = transcript
        .exchanges
        .iter()
        .map(|e| e.input.as_str())
        .collect();
    serde_json::json!({ "setup": setup, "examples": sources }).to_string()
}

/// Takes the marks out of a run's output: the output without them, and what each prompt printed
/// (in order; a prompt that never ran has no entry).
pub fn split(text: &str) -> (String, Vec<Printed>) {
    let mut clean = String::with_capacity(text.len());
    let mut printed: Vec<Printed> = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (line, after) = match rest.find('\n') {
            Some(end) => (&rest[..=end], &rest[end + 1..]),
            None => (rest, ""),
        };
        rest = after;
        if let Some(at) = line.find(MARK) {
            // A mark may follow output that ended without a newline.
            let before = &line[..at];
            clean.push_str(before);
            if let Some(last) = printed.last_mut() {
                last.output.push_str(before);
            }
            let number = &line[at + MARK.len()..];
            if number.trim_end().ends_with(MARK_END) {
                printed.push(Printed::default());
            }
            continue;
        }
        if let Some(json) = line.strip_prefix(EXCEPTION) {
            if let Some(last) = printed.last_mut() {
                last.exception = serde_json::from_str(json.trim_end()).ok();
            }
            continue;
        }
        clean.push_str(line);
        if let Some(last) = printed.last_mut() {
            last.output.push_str(line);
        }
    }
    (clean, printed)
}

/// Every prompt whose output differs from the page, as expected against actual; `page` is the
/// session as the page shows it (for the messages: a token never stands in them), `location` the
/// chapter and the page line of the block's opening fence.
pub fn compare(
    page: &Transcript,
    transcript: &Transcript,
    printed: &[Printed],
    comparison: &Comparison,
    location: (&str, usize),
) -> Vec<String> {
    let (file, fence_line) = location;
    let mut failures = Vec::new();
    for (i, exchange) in transcript.exchanges.iter().enumerate() {
        let line = fence_line + 1 + exchange.offset;
        let prompt = match transcript.prompts {
            Prompts::Python => ">>>",
            Prompts::Shell => "$",
        };
        let typed = page.exchanges.get(i).unwrap_or(exchange);
        let first_line = typed.input.lines().next().unwrap_or("");
        let Some(run) = printed.get(i) else {
            failures.push(format!(
                "the session stopped before the prompt at {file}:{line} (`{prompt} {first_line}`) \
                 ran: an earlier prompt failed or the run was ended"
            ));
            break;
        };
        if let Some(actual) = mismatch(transcript.prompts, exchange, run, comparison) {
            failures.push(format!(
                "the session's output differs from the page at {file}:{line}, `{prompt} {first_line}`:\n{}{}",
                labelled("expected", &exchange.expected),
                labelled("actual", &actual),
            ));
        }
    }
    failures
}

/// The text as a labelled, indented block of a failure message.
fn labelled(label: &str, text: &str) -> String {
    let text = text.trim_end();
    if text.is_empty() {
        return format!("      {label}: (nothing)\n");
    }
    let mut out = format!("      {label}:\n");
    for line in text.lines() {
        let _ = writeln!(out, "        | {line}");
    }
    out
}

/// What the prompt printed, when that is not what the page shows.
fn mismatch(
    prompts: Prompts,
    exchange: &Exchange,
    run: &Printed,
    comparison: &Comparison,
) -> Option<String> {
    let expected = exchange.expected.trim();
    if prompts == Prompts::Shell && expected.is_empty() {
        return None;
    }
    if let Some(page_exception) = expected.strip_prefix(TRACEBACK) {
        let raised = run.exception.as_deref().unwrap_or("");
        let wanted = exception_line(page_exception);
        let same = !raised.is_empty()
            && comparison.matches(&without_module(&wanted), &without_module(raised));
        return (!same).then(|| shown(run));
    }
    if run.exception.is_some() || !comparison.matches(expected, &run.output) {
        return Some(shown(run));
    }
    None
}

/// A prompt's output as a person would have seen it, exception included.
fn shown(run: &Printed) -> String {
    match &run.exception {
        Some(exception) => format!("{}{TRACEBACK}\n  ...\n{exception}\n", run.output),
        None => run.output.clone(),
    }
}

/// The exception part of a traceback on the page: its lines that are not indented (the frames
/// are), `...` lines left out.
fn exception_line(traceback: &str) -> String {
    traceback
        .lines()
        .filter(|l| !l.starts_with(char::is_whitespace) && l.trim() != "..." && !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `huggingface_hub.errors.HfHubHTTPError: x` as `HfHubHTTPError: x`.
fn without_module(exception: &str) -> String {
    let (name, message) = exception.split_once(':').unwrap_or((exception, ""));
    let short = name.rsplit('.').next().unwrap_or(name);
    format!("{short}:{message}")
}

/// Shapes of values that differ between machines and runs.
const HASH: &str = r"[0-9a-f]{40}";
const SIZE: &str = r"\d+(?:\.\d+)?\s?(?:[kKMGT]i?B|[kKMGT]|B|bytes?)\b";
const TIME: &str =
    r"(?:\d+(?:\.\d+)?\s?(?:ms|s|sec|seconds?|it/s|s/it)\b|\d{1,2}:\d{2}(?::\d{2})?)";
/// The page's own home folders.
const PAGE_HOME: &str =
    r"(?:/home/[A-Za-z0-9._-]+|/Users/[A-Za-z0-9._-]+|C:\\Users\\[A-Za-z0-9._-]+|/root|~)";

impl Comparison {
    /// Whether `actual` is what `expected` (the page's text) shows.
    pub fn matches(&self, expected: &str, actual: &str) -> bool {
        let marked = self.mark_varying(expected.trim());
        match Regex::new(&format!(r"^\s*{}\s*$", self.pattern(&marked))) {
            Ok(pattern) => pattern.is_match(actual),
            Err(_) => expected.trim() == actual.trim(),
        }
    }

    /// The page's text with its values of the kinds the book lets differ replaced by markers.
    fn mark_varying(&self, expected: &str) -> String {
        let mut text = expected.to_string();
        for kind in &self.may_differ {
            let (shape, marker) = match kind {
                MayDiffer::HomePaths => (PAGE_HOME, "[HOME]"),
                MayDiffer::CommitHashes => (HASH, "[HASH]"),
                MayDiffer::Sizes => (SIZE, "[SIZE]"),
                MayDiffer::Timings => (TIME, "[TIME]"),
            };
            let shape = Regex::new(shape).expect("valid shape");
            text = shape.replace_all(&text, marker).into_owned();
        }
        text
    }

    /// The regular expression of a page's text: literal text, whitespace runs as any whitespace,
    /// elisions as any text, markers as their shapes.
    fn pattern(&self, marked: &str) -> String {
        let pieces = Regex::new(r"\.\.\.|\[\.\.\]|\[HOME\]|\[HASH\]|\[SIZE\]|\[TIME\]|\s+")
            .expect("valid pieces");
        let homes = self
            .homes
            .iter()
            .map(|h| regex::escape(h))
            .chain(["~".to_string()])
            .collect::<Vec<_>>()
            .join("|");
        // Literal text and pieces, in order; whitespace next to an elision may be absent, so a
        // line that is exactly `...` also stands for no lines at all.
        let mut parts: Vec<(bool, &str)> = Vec::new();
        let mut last = 0;
        for found in pieces.find_iter(marked) {
            parts.push((false, &marked[last..found.start()]));
            parts.push((true, found.as_str()));
            last = found.end();
        }
        parts.push((false, &marked[last..]));
        parts.retain(|(_, text)| !text.is_empty());
        let is_elision = |i: usize| {
            parts
                .get(i)
                .is_some_and(|&(piece, text)| piece && (text == "..." || text == "[..]"))
        };
        let mut pattern = String::new();
        for (i, &(piece, text)) in parts.iter().enumerate() {
            pattern.push_str(&match (piece, text) {
                (false, literal) => regex::escape(literal),
                (true, "..." | "[..]") => r"(?s:.*?)".to_string(),
                (true, "[HOME]") => format!("(?:{homes})"),
                (true, "[HASH]") => HASH.to_string(),
                (true, "[SIZE]") => SIZE.to_string(),
                (true, "[TIME]") => TIME.to_string(),
                _ if is_elision(i + 1) || (i > 0 && is_elision(i - 1)) => r"\s*".to_string(),
                _ => r"\s+".to_string(),
            });
        }
        pattern
    }
}

#[cfg(test)]
mod tests;
