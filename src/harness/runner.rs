//! Runs snippet-scenarios: one at a time for `cargo test`'s named tests, or all of them in parallel
//! with progress for `mdbook-hubcheck test`.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::check::{check, explain};
use super::plan::{Setup, Values, prepare, substitute};
use super::process;
use super::sandbox::Sandbox;
use super::world::HubWorld;
use crate::report::{REPORT_VERSION, Report, ReportResult, Status, now_rfc3339};
use crate::secrets::mask_tokens;
use crate::snippets::Snippet;

/// Everything needed to run the book's snippets.
pub struct Harness {
    /// The snippets, in book order.
    pub snippets: Vec<Snippet>,
    /// `[preprocessor.hubcheck.placeholders]`.
    pub placeholders: BTreeMap<String, String>,
    /// The pinned Python environment's `bin` folder.
    pub venv_bin: PathBuf,
    /// The Hub the snippets run against.
    pub hub: Arc<dyn HubWorld>,
    /// `mock`, or the URL of the Hub given on the command line.
    pub hub_label: String,
    /// Client versions, for the report.
    pub clients: BTreeMap<String, String>,
}

/// One snippet under one scenario: the unit of a test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// Index into [`Harness::snippets`].
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
    /// Passed or failed.
    pub status: Status,
    /// Why it failed: expectations against what happened, tokens masked.
    pub message: Option<String>,
    /// How long it took.
    pub duration: Duration,
    /// Report entries: the snippet's, and its output block's when the case checked it.
    pub results: Vec<ReportResult>,
}

/// The cases of a book: every scenario of every snippet, in book order.
pub fn cases(snippets: &[Snippet]) -> Vec<Case> {
    let mut out = Vec::new();
    for (i, snippet) in snippets.iter().enumerate() {
        let base = format!("{} {} {}", snippet.location(), snippet.language, snippet.id);
        if snippet.scenarios.is_empty() {
            out.push(Case {
                snippet: i,
                scenario: None,
                name: format!("{base} (cannot run)"),
            });
        }
        for (j, scenario) in snippet.scenarios.iter().enumerate() {
            out.push(Case {
                snippet: i,
                scenario: Some(j),
                name: format!("{base} {}", scenario.name),
            });
        }
    }
    out
}

impl Harness {
    /// Runs one case to its end and checks it.
    pub fn run_case(&self, case: &Case) -> CaseResult {
        let started = Instant::now();
        let snippet = &self.snippets[case.snippet];
        let (status, message) = match self.run_checked(case) {
            Ok(()) => (Status::Passed, None),
            Err(message) => (Status::Failed, Some(mask_tokens(&message))),
        };
        let duration = started.elapsed();
        let scenario_name = case
            .scenario
            .map(|j| snippet.scenarios[j].name.clone())
            .unwrap_or_else(|| "default".into());
        let mut results = vec![ReportResult {
            file: snippet.file.to_string_lossy().replace('\\', "/"),
            line: snippet.line,
            index: snippet.index,
            language: snippet.language.clone(),
            id: snippet.id.clone(),
            scenario: scenario_name.clone(),
            status,
            duration_ms: duration.as_millis() as u64,
            hash: snippet.hash.clone(),
            message: message.clone(),
            run_at: now_rfc3339(),
            clients: self.clients.clone(),
        }];
        if let (Some(output), Some(0)) = (&snippet.output, case.scenario)
            && output.index != snippet.index
        {
            results.push(ReportResult {
                line: output.line,
                index: output.index,
                language: "text".into(),
                hash: output.hash.clone(),
                ..results[0].clone()
            });
        }
        CaseResult {
            case: case.clone(),
            status,
            message,
            duration,
            results,
        }
    }

    /// Runs the case's processes and checks the last one; `Err` holds a writer-friendly reason.
    fn run_checked(&self, case: &Case) -> Result<(), String> {
        let snippet = &self.snippets[case.snippet];
        if let Some(problem) = &snippet.problem {
            return Err(problem.clone());
        }
        let Some(j) = case.scenario else {
            return Err(format!("{} has no scenario to run", snippet.location()));
        };
        let scenario = &snippet.scenarios[j];
        let setup = Setup {
            venv_bin: &self.venv_bin,
            hub: Arc::clone(&self.hub),
            placeholders: &self.placeholders,
        };
        let sandbox = Sandbox::new().map_err(|e| format!("cannot create the sandbox: {e}"))?;
        let steps = prepare(&setup, &sandbox, &self.snippets, case.snippet, scenario)
            .map_err(|e| e.to_string())?;
        let values = Values::new(&setup, scenario);
        for step in steps {
            let location = step.location.clone();
            let outcome = process::run(step.invocation).map_err(|e| e.to_string())?;
            if !step.is_target {
                if outcome.status != Some(0) || outcome.timed_out {
                    return Err(format!(
                        "the snippet this one continues, {location}, failed first:\n{}",
                        explain(
                            &["it must succeed before this one runs".into()],
                            &outcome,
                            &self.snippets[case.snippet].code
                        )
                    ));
                }
                continue;
            }
            let output_block = snippet
                .output
                .as_ref()
                .filter(|_| j == 0)
                .map(|o| substitute(&o.text, &setup, &values, false));
            let mut failures = check(&outcome, scenario, &values, output_block.as_deref());
            if scenario.browser_login.is_some()
                && step.device_code.lock().map(|c| c.is_none()).unwrap_or(true)
            {
                failures.push("the run never showed a browser login code to enter".into());
            }
            if failures.is_empty() {
                return Ok(());
            }
            return Err(format!(
                "{location} ({}, scenario {}):\n{}",
                snippet.language,
                scenario.name,
                explain(&failures, &outcome, &snippet.code)
            ));
        }
        Ok(())
    }

    /// Runs `cases` on `jobs` threads, printing a line per case and progress on a terminal.
    pub fn run_all(
        &self,
        cases: &[Case],
        jobs: usize,
        out: &mut (dyn Write + Send),
    ) -> Vec<CaseResult> {
        let next = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        let results: Mutex<Vec<CaseResult>> = Mutex::new(Vec::new());
        let printer = Mutex::new(out);
        let tty = std::io::stderr().is_terminal();
        let total = cases.len();
        std::thread::scope(|scope| {
            for _ in 0..jobs.max(1) {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        let Some(case) = cases.get(i) else { break };
                        let result = self.run_case(case);
                        let finished = done.fetch_add(1, Ordering::SeqCst) + 1;
                        let mut out = printer.lock().expect("printer lock");
                        if tty {
                            eprint!("\r\x1b[2K");
                        }
                        let word = match result.status {
                            Status::Passed => "ok    ",
                            Status::Failed => "FAILED",
                        };
                        let _ = writeln!(
                            out,
                            "{word} {} ({:.1}s)",
                            case.name,
                            result.duration.as_secs_f64()
                        );
                        let _ = out.flush();
                        if tty && finished < total {
                            eprint!("[{finished}/{total}] running...");
                        }
                        results.lock().expect("results lock").push(result);
                    }
                });
            }
        });
        let mut results = results.into_inner().expect("results lock");
        results.sort_by_key(|r| cases.iter().position(|c| *c == r.case));
        results
    }

    /// The report of a set of results.
    pub fn report(&self, results: &[CaseResult]) -> Report {
        Report {
            version: REPORT_VERSION,
            generated_at: now_rfc3339(),
            hub: self.hub_label.clone(),
            clients: self.clients.clone(),
            results: results.iter().flat_map(|r| r.results.clone()).collect(),
        }
    }
}

/// The end of a run as people and CI read it: failure details, GitHub annotations when running
/// under GitHub Actions, and the closing `N passed, N failed` line.
pub fn summarize(results: &[CaseResult], github: bool, out: &mut dyn Write) -> std::io::Result<()> {
    let failed: Vec<&CaseResult> = results
        .iter()
        .filter(|r| r.status == Status::Failed)
        .collect();
    if !failed.is_empty() {
        writeln!(out, "\nfailures:\n")?;
    }
    for result in &failed {
        writeln!(out, "---- {} ----", result.case.name)?;
        writeln!(out, "{}\n", result.message.as_deref().unwrap_or(""))?;
        if github {
            let first = &result.results[0];
            let message = result
                .message
                .as_deref()
                .unwrap_or("failed")
                .replace('%', "%25")
                .replace('\r', "%0D")
                .replace('\n', "%0A");
            writeln!(
                out,
                "::error file={},line={}::{}",
                first.file, first.line, message
            )?;
        }
    }
    writeln!(
        out,
        "{} passed, {} failed",
        results.len() - failed.len(),
        failed.len()
    )
}
