//! The files a harness run leaves behind: `report.json` (read by the preprocessor's badges; the
//! format is in docs/report.md) and `junit.xml` (for CI systems).

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report as JunitReport, TestCase, TestCaseStatus, TestSuite};
use serde::{Deserialize, Serialize};

/// The version of the report format.
pub const REPORT_VERSION: u32 = 1;

/// One harness run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The format's version.
    pub version: u32,
    /// When the run ended, RFC 3339 in UTC.
    pub generated_at: String,
    /// Which Hub the run talked to (`mock`, or the URL given with `--hub`).
    pub hub: String,
    /// Versions of the clients that ran the snippets (python, huggingface_hub, transformers, ...).
    pub clients: BTreeMap<String, String>,
    /// One entry per block and scenario.
    pub results: Vec<ReportResult>,
}

/// The result of one code block under one scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportResult {
    /// The chapter file, relative to the book root.
    pub file: PathBuf,
    /// 1-based line of the opening fence.
    pub line: usize,
    /// The block's position among the chapter's fenced blocks.
    pub index: usize,
    /// The fence language.
    pub language: String,
    /// The snippet's id.
    pub id: String,
    /// The scenario's name.
    pub scenario: String,
    /// `passed` or `failed`; there is no skipped.
    pub status: Status,
    /// How long the run took.
    pub duration_ms: u64,
    /// `CodeBlock::hash` of the block.
    pub hash: String,
    /// Why it failed, tokens masked.
    pub message: Option<String>,
    /// When this result was made (RFC 3339 UTC); results of a filtered run keep older ones' dates.
    #[serde(default)]
    pub run_at: String,
    /// The client versions this result was made with.
    #[serde(default)]
    pub clients: BTreeMap<String, String>,
}

/// Whether a block kept its promise under a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// It did.
    Passed,
    /// It did not, or could not run.
    Failed,
}

impl Report {
    /// Reads a report; `Ok(None)` when there is none.
    pub fn read(path: &Path) -> io::Result<Option<Report>> {
        match fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {e}", path.display()),
                )
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Replaces the results of the blocks and scenarios in `newer`, keeping the others, so a
    /// filtered run does not make the rest of the book look unverified.
    pub fn merge(mut self, newer: Report) -> Report {
        let key = |r: &ReportResult| (r.file.clone(), r.index, r.scenario.clone());
        let replaced: std::collections::BTreeSet<_> = newer.results.iter().map(key).collect();
        self.results.retain(|r| !replaced.contains(&key(r)));
        self.results.extend(newer.results);
        self.results
            .sort_by(|a, b| (&a.file, a.index, &a.scenario).cmp(&(&b.file, b.index, &b.scenario)));
        Report {
            results: self.results,
            ..newer
        }
    }

    /// Writes the report into `dir` as `report.json` (merged with an earlier one when `merge`) and
    /// `junit.xml`; returns the two paths.
    pub fn write(self, dir: &Path, merge: bool) -> io::Result<(PathBuf, PathBuf)> {
        fs::create_dir_all(dir)?;
        let json_path = dir.join("report.json");
        let junit_path = dir.join("junit.xml");
        let junit = self.junit_xml();
        let report = match (merge, Report::read(&json_path).ok().flatten()) {
            (true, Some(old)) if old.version == REPORT_VERSION => old.merge(self),
            _ => self,
        };
        let json = serde_json::to_string_pretty(&report).map_err(io::Error::other)?;
        write_atomically(&json_path, json.as_bytes())?;
        write_atomically(&junit_path, junit.as_bytes())?;
        Ok((json_path, junit_path))
    }

    /// The results as JUnit XML: one test suite, one test case per block and scenario.
    pub fn junit_xml(&self) -> String {
        let mut suite = TestSuite::new("mdbook-hubcheck snippets");
        for result in &self.results {
            let status = match result.status {
                Status::Passed => TestCaseStatus::success(),
                Status::Failed => {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    if let Some(message) = &result.message {
                        status.set_description(message.clone());
                    }
                    status
                }
            };
            let mut case = TestCase::new(
                format!(
                    "{}:{} {} {}",
                    result.file.display(),
                    result.line,
                    result.id,
                    result.scenario
                ),
                status,
            );
            case.set_classname(result.file.display().to_string());
            case.set_time(Duration::from_millis(result.duration_ms));
            suite.add_test_case(case);
        }
        let mut report = JunitReport::new("mdbook-hubcheck");
        report.add_test_suite(suite);
        report.to_string().unwrap_or_default()
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

    fn result(file: &str, index: usize, scenario: &str, status: Status) -> ReportResult {
        ReportResult {
            file: file.into(),
            line: 1,
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
        let (json, junit) = report(vec![result("a.md", 0, "s", Status::Failed)])
            .write(dir.path(), false)
            .unwrap();
        let back = Report::read(&json).unwrap().unwrap();
        assert_eq!(back.results[0].status, Status::Failed);
        let xml = fs::read_to_string(junit).unwrap();
        assert!(xml.contains("<failure"), "{xml}");
        assert!(xml.contains("it broke"), "{xml}");
    }

    #[test]
    fn timestamps_look_like_rfc3339() {
        let now = now_rfc3339();
        assert_eq!(now.len(), 20);
        assert!(now.starts_with("20") && now.ends_with('Z'), "{now}");
    }
}
