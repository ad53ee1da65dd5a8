//! The harness report (`report` in `[preprocessor.hubcheck]`, by default
//! `target/hubcheck/report.json`): written by the harness after each run,
//! read by the preprocessor for the verification badges. One definition serves both.
//!
//! The format is specified in `docs/report.md`. A run also writes `junit.xml` beside it, for CI
//! systems.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report as JunitReport, TestCase, TestCaseStatus, TestSuite};

use serde::{Deserialize, Serialize};

/// The report format version this crate reads and writes.
pub const REPORT_VERSION: u32 = 1;

/// One harness run: the client versions it used and one result per block and scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The format version, [`REPORT_VERSION`].
    pub version: u32,
    /// When the run ended, RFC 3339 in UTC (e.g. `2026-11-29T10:00:00Z`).
    pub generated_at: String,
    /// Which Hub the snippets ran against, e.g. `mock`.
    #[serde(default)]
    pub hub: String,
    /// Client name → version, e.g. `python` → `3.11.7`, `huggingface_hub` → `2.4.0`.
    #[serde(default)]
    pub clients: BTreeMap<String, String>,
    /// How the snippets were kept off the network: `namespace` or `proxy` (see the README).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolation: Option<String>,
    /// Which addresses the snippets used: `real` (`https://huggingface.co` and the other real
    /// names, no `HF_ENDPOINT`) or `endpoint` (`HF_ENDPOINT` at the mock over plain HTTP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addresses: Option<String>,
    /// One entry per code block and scenario.
    #[serde(default)]
    pub results: Vec<ReportResult>,
}

/// The outcome of one scenario of one code block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportResult {
    /// The file the block is written in, relative to the book root, with `/` separators (e.g.
    /// `book/setup.md`): its chapter, or the file an `{{#include}}` of the chapter brought in.
    pub file: String,
    /// 1-based line of the opening fence in `file`.
    #[serde(default)]
    pub line: usize,
    /// The chapter whose page shows the block, when that is not `file` (a block written in an
    /// included file). See [`ReportResult::chapter`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chapter: Option<String>,
    /// The block's position among the fenced code blocks of its chapter, 0-based.
    pub index: usize,
    /// The fence language, e.g. `python`.
    #[serde(default)]
    pub language: String,
    /// The snippet id.
    #[serde(default)]
    pub id: String,
    /// The scenario name.
    #[serde(default)]
    pub scenario: String,
    /// Passed, failed, flaky, or not run (with the reason as `message`).
    pub status: Status,
    /// How long the run took.
    #[serde(default)]
    pub duration_ms: u64,
    /// `snippets::CodeBlock::hash()` of the block as it was when it ran.
    pub hash: String,
    /// Why it failed, when it did (tokens masked); why it was not run, for `not-run`.
    #[serde(default)]
    pub message: Option<String>,
    /// When this result was made; a filtered run keeps older results with their own dates.
    #[serde(default)]
    pub run_at: String,
    /// The client versions this result was made with.
    #[serde(default)]
    pub clients: BTreeMap<String, String>,
}

impl ReportResult {
    /// The chapter whose page shows the block: with `index`, the key that ties a block of a page
    /// to its results (the badges, a filtered run's merge).
    pub fn chapter(&self) -> &str {
        self.chapter.as_deref().unwrap_or(&self.file)
    }
}

/// Whether a scenario kept the book's promise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// It ran and showed what the book says.
    Passed,
    /// It did not (or could not run).
    Failed,
    /// Run several times (`--repeat`), it passed in some runs and failed in others.
    Flaky,
    /// Deliberately not run: the block's annotation says `not-run` and why (the message).
    #[serde(rename = "not-run")]
    NotRun,
}

impl Status {
    /// Whether the result counts against the run: failed or flaky. A declared not-run block
    /// does not, and it does not count as passed either.
    pub fn is_failure(self) -> bool {
        matches!(self, Status::Failed | Status::Flaky)
    }
}

/// A report file that exists but cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The file cannot be read.
    #[error("{}: cannot read the harness report: {source}", path.display())]
    Io {
        /// The report file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not a report.
    #[error("{}:{line}:{column}: malformed harness report: {message}", path.display())]
    Malformed {
        /// The report file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What serde_json says.
        message: String,
    },
    /// A report of a format version this crate does not know.
    #[error(
        "{}: harness report version {found}, but this mdbook-hubcheck reads version {REPORT_VERSION}; run the harness again",
        path.display()
    )]
    Version {
        /// The report file.
        path: PathBuf,
        /// The version found.
        found: u32,
    },
}

impl Report {
    /// Reads the report at `path`; a missing file is `Ok(None)` (no badges, no error).
    pub fn load(path: &Path) -> Result<Option<Report>, ReportError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(ReportError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        Report::parse(&text, path).map(Some)
    }

    /// Parses report JSON; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Report, ReportError> {
        let report: Report = serde_json::from_str(text).map_err(|e| ReportError::Malformed {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        if report.version != REPORT_VERSION {
            return Err(ReportError::Version {
                path: path.to_path_buf(),
                found: report.version,
            });
        }
        Ok(report)
    }

    /// The results of one block of one chapter, whatever their hash.
    pub fn results_at<'a>(
        &'a self,
        chapter: &'a str,
        index: usize,
    ) -> impl Iterator<Item = &'a ReportResult> + 'a {
        self.results
            .iter()
            .filter(move |r| r.chapter() == chapter && r.index == index)
    }

    /// Replaces the results of the blocks and scenarios in `newer`, keeping the others, so a
    /// filtered run does not make the rest of the book look unverified.
    pub fn merge(mut self, newer: Report) -> Report {
        let key = |r: &ReportResult| (r.chapter().to_string(), r.index, r.scenario.clone());
        let replaced: std::collections::BTreeSet<_> = newer.results.iter().map(key).collect();
        self.results.retain(|r| !replaced.contains(&key(r)));
        self.results.extend(newer.results);
        self.results.sort_by(|a, b| {
            (a.chapter(), a.index, &a.scenario).cmp(&(b.chapter(), b.index, &b.scenario))
        });
        Report {
            results: self.results,
            ..newer
        }
    }

    /// Writes the report to `json_path` (merged with an earlier one there when `merge`) and the
    /// same results as JUnit XML to `junit_path`; both atomically, creating their folders.
    pub fn write(self, json_path: &Path, junit_path: &Path, merge: bool) -> io::Result<()> {
        for dir in [json_path, junit_path].iter().filter_map(|p| p.parent()) {
            fs::create_dir_all(dir)?;
        }
        let junit = self.junit_xml();
        let report = match (merge, Report::load(json_path).ok().flatten()) {
            (true, Some(old)) if old.version == REPORT_VERSION => old.merge(self),
            _ => self,
        };
        let json = serde_json::to_string_pretty(&report).map_err(io::Error::other)?;
        write_atomically(json_path, json.as_bytes())?;
        write_atomically(junit_path, junit.as_bytes())
    }

    /// The results as JUnit XML: one test suite, one test case per block and scenario.
    pub fn junit_xml(&self) -> String {
        let mut suite = TestSuite::new("mdbook-hubcheck snippets");
        for result in &self.results {
            let status = match result.status {
                Status::Passed => TestCaseStatus::success(),
                Status::NotRun => {
                    let mut status = TestCaseStatus::skipped();
                    if let Some(reason) = &result.message {
                        status.set_message(reason.clone());
                    }
                    status
                }
                Status::Failed | Status::Flaky => {
                    let kind = match result.status {
                        Status::Flaky => NonSuccessKind::Error,
                        _ => NonSuccessKind::Failure,
                    };
                    let mut status = TestCaseStatus::non_success(kind);
                    if result.status == Status::Flaky {
                        status.set_type("flaky");
                    }
                    if let Some(message) = &result.message {
                        status.set_description(message.clone());
                    }
                    status
                }
            };
            let mut case = TestCase::new(
                format!(
                    "{}:{} {} {}",
                    result.file, result.line, result.id, result.scenario
                ),
                status,
            );
            case.set_classname(result.chapter().to_string());
            case.set_time(Duration::from_millis(result.duration_ms));
            suite.add_test_case(case);
        }
        let mut report = JunitReport::new("mdbook-hubcheck");
        report.add_test_suite(suite);
        report.to_string().unwrap_or_default()
    }

    /// The date part of `generated_at` (`2026-11-29`).
    pub fn date(&self) -> &str {
        self.generated_at
            .get(..10)
            .unwrap_or(self.generated_at.as_str())
    }
}

/// Writes through a temporary file and a rename, so a reader never sees half a report.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    io::Write::write_all(&mut file, bytes)?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The current time as RFC 3339 UTC, to the second.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"{
      "version": 1,
      "generated_at": "2026-11-29T10:00:00Z",
      "hub": "mock",
      "clients": { "python": "3.11.7", "huggingface_hub": "2.4.0" },
      "results": [
        { "file": "book/testing-your-token.md", "line": 21, "index": 0, "language": "python",
          "id": "whoami-test", "scenario": "valid-token", "status": "passed", "duration_ms": 1834,
          "hash": "abc", "message": null }
      ]
    }"#;

    #[test]
    fn reads_the_documented_example() {
        let report = Report::parse(EXAMPLE, Path::new("r.json")).unwrap();
        assert_eq!(report.date(), "2026-11-29");
        assert_eq!(report.clients["huggingface_hub"], "2.4.0");
        assert_eq!(report.results[0].status, Status::Passed);
        assert_eq!(
            report.results_at("book/testing-your-token.md", 0).count(),
            1
        );
    }

    #[test]
    fn missing_file_is_no_report() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            Report::load(&dir.path().join("none.json"))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn malformed_and_future_reports_are_errors_naming_the_file() {
        let err = Report::parse("{", Path::new("r.json"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("r.json:"), "{err}");
        let future = EXAMPLE.replace("\"version\": 1", "\"version\": 9");
        let err = Report::parse(&future, Path::new("r.json"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("version 9"), "{err}");
    }

    #[test]
    fn round_trips_through_json() {
        let report = Report::parse(EXAMPLE, Path::new("r.json")).unwrap();
        let again = serde_json::to_string(&report).unwrap();
        assert_eq!(Report::parse(&again, Path::new("r.json")).unwrap(), report);
    }

    fn result(file: &str, index: usize, scenario: &str, status: Status) -> ReportResult {
        ReportResult {
            file: file.into(),
            line: 1,
            chapter: None,
            index,
            language: "bash".into(),
            id: "x".into(),
            scenario: scenario.into(),
            status,
            duration_ms: 5,
            hash: "h".into(),
            message: (status == Status::Failed).then(|| "it broke".into()),
            run_at: now_rfc3339(),
            clients: BTreeMap::new(),
        }
    }

    fn report(results: Vec<ReportResult>) -> Report {
        Report {
            isolation: None,
            addresses: None,
            version: REPORT_VERSION,
            generated_at: now_rfc3339(),
            hub: "mock".into(),
            clients: BTreeMap::new(),
            results,
        }
    }

    #[test]
    fn merge_replaces_only_what_ran_again() {
        let old = report(vec![
            result("a.md", 0, "s", Status::Failed),
            result("b.md", 0, "s", Status::Passed),
        ]);
        let new = report(vec![result("a.md", 0, "s", Status::Passed)]);
        let merged = old.merge(new);
        assert_eq!(merged.results.len(), 2);
        assert!(merged.results.iter().all(|r| r.status == Status::Passed));
    }

    #[test]
    fn writes_json_and_junit() {
        let dir = tempfile::tempdir().unwrap();
        let (json, junit) = (dir.path().join("a/r.json"), dir.path().join("b/j.xml"));
        report(vec![result("a.md", 0, "s", Status::Failed)])
            .write(&json, &junit, false)
            .unwrap();
        let back = Report::load(&json).unwrap().unwrap();
        assert_eq!(back.results[0].status, Status::Failed);
        let xml = fs::read_to_string(junit).unwrap();
        assert!(xml.contains("<failure"), "{xml}");
        assert!(xml.contains("it broke"), "{xml}");
    }

    #[test]
    fn a_not_run_block_is_a_skipped_junit_case_with_its_reason() {
        let mut skipped = result("a.md", 0, "not-run", Status::NotRun);
        skipped.message = Some("PowerShell is not available".into());
        let r = report(vec![skipped]);
        let xml = r.junit_xml();
        assert!(xml.contains("<skipped"), "{xml}");
        assert!(xml.contains("PowerShell is not available"), "{xml}");
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains("\"status\":\"not-run\""), "{json}");
    }

    #[test]
    fn timestamps_are_rfc3339_and_now() {
        let before = std::time::SystemTime::now();
        let stamp = now_rfc3339();
        let parsed = humantime::parse_rfc3339(&stamp).unwrap();
        // To the second: the stamp is at most one second before `before` and not in the future.
        assert!(parsed + Duration::from_secs(1) >= before, "{stamp}");
        assert!(parsed <= std::time::SystemTime::now(), "{stamp}");
        assert!(stamp.ends_with('Z') && stamp.len() == 20, "{stamp}");
    }
}
