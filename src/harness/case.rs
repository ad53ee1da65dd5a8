//! What a case is and what became of it: [`Case`] (one snippet under one scenario),
//! [`CaseResult`], and the [`Capture`] of a failed run that `--bless` writes back.
//!
//! A leaf of plain values: the runner ([`super::runner`]) makes them, `--bless`
//! ([`super::bless`]) and the journey ([`super::journey`]) read them; it imports neither.

use std::time::Duration;

use super::plan::Values;
use super::process::Outcome;
use crate::report::{ReportResult, Status};

/// One snippet under one scenario: the unit of a test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// Index into [`crate::harness::runner::Harness::snippets`].
    pub snippet: usize,
    /// Index into the snippet's scenarios; `None` for a snippet that cannot run at all.
    pub scenario: Option<usize>,
    /// `file:line language id scenario`, the test's name.
    pub name: String,
}

/// How a case went.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The case.
    pub case: Case,
    /// Passed, failed, or (over several runs) flaky.
    pub status: Status,
    /// Why it failed: expectations against what happened, tokens masked.
    pub message: Option<String>,
    /// How long it took.
    pub duration: Duration,
    /// Report entries: the snippet's, and its output block's when the case checked it.
    pub results: Vec<ReportResult>,
    /// What a failed run printed, for `--bless`; `None` when it passed or never ran.
    pub capture: Option<Box<Capture>>,
}

/// What a failed case printed and the values it ran with, kept for `--bless`.
#[derive(Debug, Clone)]
pub struct Capture {
    /// The snippet's run (for a session, its output without the harness's markers).
    pub outcome: Outcome,
    /// The scenario's values, to expand an annotation's templates and to write them back.
    pub values: Values,
    /// Each book placeholder (`your-username`) with the value the run put in its place.
    pub placeholders: Vec<(String, String)>,
    /// Whether the case also failed for something `--bless` does not write (a token that was not
    /// sent, a network attempt, a session's output).
    pub other_failures: bool,
}
