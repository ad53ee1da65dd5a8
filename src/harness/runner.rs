//! Runs snippet-scenarios: one at a time for `cargo test`'s named tests, or all of them in parallel
//! with progress for `mdbook-hubcheck test`, in book order, reversed or shuffled, once or several
//! times over.
//!
//! Every case gets its own sandbox, network and Hub ([`super::case_hub`]), so neither the order nor
//! the number of jobs can change a result; `--order` and `--repeat` are there to show it.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use rand::SeedableRng;
use rand::seq::SliceRandom;

use super::case::Capture;
pub use super::case::{Case, CaseResult};
use super::case_hub::HubSource;
use super::isolation::namespaces::Isolation;
use super::plan::{Pass, is_notebook};
use super::stage::Stage;
use super::warm::WarmInterpreter;
use super::{CaseError, Error};
use crate::report::{REPORT_VERSION, Report, ReportResult, Status, now_rfc3339};
use crate::secrets::mask_tokens;
use crate::settings::MayDiffer;
use crate::snippets::Snippet;
use crate::snippets::annotation::{Run, Style};

/// Everything needed to run the book's snippets.
pub struct Harness {
    /// The snippets, in book order.
    pub snippets: Vec<Snippet>,
    /// `[preprocessor.hubcheck.placeholders]`.
    pub placeholders: BTreeMap<String, String>,
    /// The pinned Python environment's `bin` folder.
    pub venv_bin: PathBuf,
    /// Where each case gets its Hub.
    pub hubs: HubSource,
    /// How each case is kept off the network.
    pub isolation: Isolation,
    /// Client versions, for the report.
    pub clients: BTreeMap<String, String>,
    /// Warm interpreters for Python runs; `None` runs every process new (`--cold`).
    pub warm: Option<WarmInterpreter>,
    /// `transcript-may-differ` from `book.toml`: what a session's output may show other values of.
    pub may_differ: Vec<MayDiffer>,
}

/// The order cases start in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// As they stand in the book.
    Book,
    /// Last first.
    Reverse,
    /// Shuffled with this seed, so a surprising order can be run again.
    Shuffle(u64),
}

impl std::str::FromStr for Order {
    type Err = String;

    /// `book`, `reverse`, `shuffle` (a random seed) or `shuffle=SEED`.
    fn from_str(text: &str) -> Result<Order, String> {
        match text {
            "book" => Ok(Order::Book),
            "reverse" => Ok(Order::Reverse),
            "shuffle" => Ok(Order::Shuffle(rand::random())),
            _ => text
                .strip_prefix("shuffle=")
                .and_then(|seed| seed.parse().ok())
                .map(Order::Shuffle)
                .ok_or_else(|| {
                    format!("`{text}`: expected book, reverse, shuffle or shuffle=SEED (a number)")
                }),
        }
    }
}

impl std::fmt::Display for Order {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Order::Book => f.write_str("book"),
            Order::Reverse => f.write_str("reverse"),
            Order::Shuffle(seed) => write!(f, "shuffle={seed}"),
        }
    }
}

impl Order {
    /// `cases` in this order.
    pub fn arrange(self, cases: &[Case]) -> Vec<Case> {
        let mut arranged = cases.to_vec();
        match self {
            Order::Book => {}
            Order::Reverse => arranged.reverse(),
            Order::Shuffle(seed) => {
                arranged.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
            }
        }
        arranged
    }
}

/// The cases of a book: every scenario of every snippet, in book order.
pub fn cases(snippets: &[Snippet]) -> Vec<Case> {
    let mut out = Vec::new();
    for (i, snippet) in snippets.iter().enumerate() {
        let base = format!("{} {} {}", snippet.location(), snippet.language, snippet.id);
        if snippet.problem.is_none() && snippet.not_run().is_some() {
            out.push(Case {
                snippet: i,
                scenario: None,
                name: format!("{base} not-run"),
            });
            continue;
        }
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
    /// Starts the warm interpreter that every worker forks Python runs (and shell snippets' `hf`
    /// and `python` commands) from, so they skip the heavy imports.
    ///
    /// It helps only books whose Python snippets import torch (through transformers): for others,
    /// importing torch once would cost more than it saves, and every process starts new as before.
    pub fn use_warm_interpreters(&mut self) -> Result<(), Error> {
        let heavy = self
            .snippets
            .iter()
            .filter(|s| s.style.is_some_and(|style| style != Style::Shell))
            .filter(|s| super::warm::mentions_heavy_modules(&s.code))
            .map(|s| s.scenarios.len())
            .sum::<usize>();
        if heavy > 0 {
            let shared = self
                .hubs
                .shared_hf_endpoint(self.isolation)
                .map(|endpoint| {
                    super::isolation::sandbox::environment_at(
                        std::path::Path::new(super::isolation::namespaces::SCENARIO_ROOT),
                        &self.venv_bin,
                        endpoint.as_deref(),
                        false,
                    )
                });
            let pool =
                WarmInterpreter::new(&self.venv_bin.join("python"), shared).map_err(Error::Warm)?;
            self.warm = Some(pool);
        }
        Ok(())
    }

    /// Runs one case to its end, in a world of its own, and checks it.
    pub fn run_case(&self, case: &Case) -> CaseResult {
        self.run_case_on(case, None, false)
    }

    /// Runs one case to its end on `stage` (a world and home that other runs share; `None`
    /// makes one of its own) and checks it; with `rerun`, twice, and both runs must keep the
    /// page's promise.
    pub fn run_case_on(&self, case: &Case, stage: Option<&Stage>, rerun: bool) -> CaseResult {
        let started = Instant::now();
        let snippet = &self.snippets[case.snippet];
        let not_run = snippet.not_run().filter(|_| snippet.problem.is_none());
        let mut capture = None;
        let (status, message) = match not_run {
            Some(reason) => (Status::NotRun, Some(reason.to_string())),
            None => match self.run_checked(case, stage, rerun, &mut capture) {
                Ok(()) => (Status::Passed, None),
                Err(error) => (Status::Failed, Some(mask_tokens(&error.to_string()))),
            },
        };
        let duration = started.elapsed();
        let scenario_name = match (case.scenario, not_run) {
            (Some(j), _) => snippet.scenarios[j].name.clone(),
            (None, Some(_)) => "not-run".into(),
            (None, None) => "default".into(),
        };
        let chapter = slashed(&snippet.chapter);
        let mut results = vec![ReportResult {
            file: slashed(&snippet.file),
            line: snippet.line,
            chapter: (snippet.chapter != snippet.file).then_some(chapter.clone()),
            index: snippet.index,
            language: snippet.language.clone(),
            id: snippet.id.clone(),
            scenario: scenario_name,
            status,
            duration_ms: duration.as_millis() as u64,
            hash: snippet.hash.clone(),
            message: message.clone(),
            run_at: now_rfc3339(),
            clients: self.clients.clone(),
        }];
        let checks_output = case.scenario == Some(0) || not_run.is_some();
        if let Some(output) = &snippet.output
            && checks_output
            && output.index != snippet.index
        {
            results.push(ReportResult {
                file: slashed(&output.file),
                line: output.line,
                chapter: (output.file != snippet.chapter).then_some(chapter),
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
            capture: capture.map(Box::new),
        }
    }

    /// Runs the case's processes on `stage` (or a world of its own), once or (`rerun`) twice,
    /// and checks each run; when a single run breaks a promise, `capture` gets what it printed.
    fn run_checked(
        &self,
        case: &Case,
        stage: Option<&Stage>,
        rerun: bool,
        capture: &mut Option<Capture>,
    ) -> Result<(), Error> {
        let snippet = &self.snippets[case.snippet];
        let fail = |kind: CaseError| self.case_error(case, Run::Once, kind);
        if let Some(problem) = &snippet.problem {
            return Err(fail(CaseError::NotRunnable(problem.clone())));
        }
        let Some(j) = case.scenario else {
            return Err(fail(CaseError::NotRunnable(format!(
                "{} has no scenario to run",
                snippet.location()
            ))));
        };
        let own;
        let stage = match stage {
            Some(shared) => shared,
            None => {
                own = Stage::new(self.isolation, &self.hubs, &self.venv_bin).map_err(fail)?;
                &own
            }
        };
        if !rerun {
            return self.run_pass(case, j, stage, (Pass::Once, Run::Once), capture);
        }
        if snippet.style.is_some_and(is_notebook) {
            return self.run_pass(
                case,
                j,
                stage,
                (Pass::TwiceInOneProcess, Run::First),
                capture,
            );
        }
        self.run_pass(case, j, stage, (Pass::Once, Run::First), capture)?;
        self.run_pass(case, j, stage, (Pass::Again, Run::Second), capture)
    }

    /// The error of a case that failed in `run`.
    pub(super) fn case_error(&self, case: &Case, run: Run, kind: CaseError) -> Error {
        let snippet = &self.snippets[case.snippet];
        let scenario = case
            .scenario
            .map_or("default", |j| snippet.scenarios[j].name.as_str());
        Error::Case {
            location: snippet.location(),
            language: snippet.language.clone(),
            scenario: format!("{scenario}{}", run.label()),
            kind: Box::new(kind),
        }
    }

    /// Runs `cases` `repeat` times over on `jobs` threads, starting them in `order`, printing a
    /// line per run and progress on a terminal; returns one result per case, in book order. A
    /// case whose runs disagree is [`Status::Flaky`].
    pub fn run_all(
        &self,
        cases: &[Case],
        run: &RunOptions,
        out: &mut (dyn Write + Send),
    ) -> Vec<CaseResult> {
        let arranged = run.order.arrange(cases);
        let queue: Vec<&Case> = (0..run.repeat.max(1))
            .flat_map(|_| arranged.iter())
            .collect();
        let next = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        let results: Mutex<Vec<CaseResult>> = Mutex::new(Vec::new());
        let printer = Mutex::new(out);
        let tty = std::io::stderr().is_terminal();
        let total = queue.len();
        std::thread::scope(|scope| {
            for _ in 0..run.jobs.max(1) {
                scope.spawn(|| {
                    // An interrupted run starts no case, and reports none that it cut short.
                    while super::interrupt::received().is_none() {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        let Some(case) = queue.get(i) else { break };
                        let result = self.run_case_on(case, None, run.rerun);
                        if super::interrupt::received().is_some() {
                            break;
                        }
                        let finished = done.fetch_add(1, Ordering::SeqCst) + 1;
                        let mut out = printer.lock().expect("printer lock");
                        if tty {
                            eprint!("\r\x1b[2K");
                        }
                        let _ = writeln!(out, "{}", case_line(&result, &case.name));
                        let _ = out.flush();
                        if tty && finished < total {
                            eprint!("[{finished}/{total}] running...");
                        }
                        results.lock().expect("results lock").push(result);
                    }
                });
            }
        });
        let runs = results.into_inner().expect("results lock");
        cases
            .iter()
            .filter_map(|case| combine(runs.iter().filter(|r| r.case == *case).cloned().collect()))
            .collect()
    }

    /// The report of a set of results.
    pub fn report(&self, results: &[CaseResult]) -> Report {
        Report {
            version: REPORT_VERSION,
            generated_at: now_rfc3339(),
            hub: self.hubs.label(),
            clients: self.clients.clone(),
            isolation: Some(
                serde_json::to_value(self.isolation)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
            ),
            addresses: Some(self.hubs.addresses(self.isolation).as_str().into()),
            results: results.iter().flat_map(|r| r.results.clone()).collect(),
        }
    }
}

/// How `run_all` runs the cases.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// How many cases run at once.
    pub jobs: usize,
    /// The order they start in.
    pub order: Order,
    /// How many times each runs.
    pub repeat: usize,
    /// Start every process new, without the warm interpreter.
    pub cold: bool,
    /// Run every scenario twice in the same world and home (`--rerun`).
    pub rerun: bool,
    /// The whole book in reading order as one student, in one world and home (`--journey`).
    pub journey: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            jobs: 1,
            order: Order::Book,
            repeat: 1,
            cold: false,
            rerun: false,
            journey: false,
        }
    }
}

/// One result from the runs of one case: theirs when they agree, [`Status::Flaky`] when not.
fn combine(mut runs: Vec<CaseResult>) -> Option<CaseResult> {
    let first = runs.first()?.clone();
    let passed = runs.iter().filter(|r| r.status == Status::Passed).count();
    if passed == 0 || passed == runs.len() {
        return runs
            .into_iter()
            .find(|r| r.status != Status::Passed)
            .or(Some(first));
    }
    let total = runs.len();
    let failing = runs
        .iter()
        .position(|r| r.status != Status::Passed)
        .map(|i| runs.remove(i))
        .unwrap_or(first);
    let message = format!(
        "flaky: passed {passed} of {total} runs of the same scenario, so its result depends on \
         something other than the book (timing, order, what ran before). A failing run said:\n{}",
        failing.message.as_deref().unwrap_or("(no message)")
    );
    let mut results = failing.results;
    for result in &mut results {
        result.status = Status::Flaky;
        result.message = Some(message.clone());
    }
    Some(CaseResult {
        status: Status::Flaky,
        message: Some(message),
        results,
        ..failing
    })
}

/// The line a finished case prints: its verdict, its name and how long it took.
pub fn case_line(result: &CaseResult, name: &str) -> String {
    let word = match result.status {
        Status::Passed => "ok    ",
        Status::NotRun => "skip  ",
        Status::Failed | Status::Flaky => "FAILED",
    };
    format!("{word} {name} ({:.1}s)", result.duration.as_secs_f64())
}

/// A path as the report writes it: with `/` separators.
fn slashed(path: &std::path::Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// A failed case as a GitHub Actions annotation: `::error file=...,line=...::message`, shown on the
/// pull request's diff at the snippet's line.
pub fn github_annotation(result: &CaseResult) -> String {
    let first = &result.results[0];
    let message = result
        .message
        .as_deref()
        .unwrap_or("failed")
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    format!(
        "::error file={},line={}::{}",
        first.file, first.line, message
    )
}

/// The end of a run as people and CI read it: failure details, GitHub annotations when running
/// under GitHub Actions, and the closing `N passed, N failed` line, followed by `, N skipped`
/// when blocks were declared `not-run` (they count as neither passed nor failed).
pub fn summarize(results: &[CaseResult], github: bool, out: &mut dyn Write) -> std::io::Result<()> {
    let failed: Vec<&CaseResult> = results.iter().filter(|r| r.status.is_failure()).collect();
    let passed = results
        .iter()
        .filter(|r| r.status == Status::Passed)
        .count();
    let skipped = results
        .iter()
        .filter(|r| r.status == Status::NotRun)
        .count();
    if !failed.is_empty() {
        writeln!(out, "\nfailures:\n")?;
    }
    for result in &failed {
        writeln!(out, "---- {} ----", result.case.name)?;
        writeln!(out, "{}\n", result.message.as_deref().unwrap_or(""))?;
        if github {
            writeln!(out, "{}", github_annotation(result))?;
        }
    }
    let flaky = failed.iter().filter(|r| r.status == Status::Flaky).count();
    let flaky = if flaky > 0 {
        format!(" ({flaky} of them flaky)")
    } else {
        String::new()
    };
    let skipped = if skipped > 0 {
        format!(", {skipped} skipped")
    } else {
        String::new()
    };
    writeln!(
        out,
        "{passed} passed, {} failed{skipped}{flaky}",
        failed.len()
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn case(n: usize) -> Case {
        Case {
            snippet: n,
            scenario: Some(0),
            name: format!("c{n}"),
        }
    }

    fn result(n: usize, status: Status) -> CaseResult {
        CaseResult {
            case: case(n),
            status,
            message: status.is_failure().then(|| "it broke".into()),
            duration: Duration::ZERO,
            results: vec![ReportResult {
                file: "a.md".into(),
                line: 1,
                chapter: None,
                index: 0,
                language: "bash".into(),
                id: "x".into(),
                scenario: "s".into(),
                status,
                duration_ms: 0,
                hash: "h".into(),
                message: None,
                run_at: String::new(),
                clients: BTreeMap::new(),
            }],
            capture: None,
        }
    }

    #[test]
    fn orders_parse_and_arrange() {
        let cases: Vec<Case> = (0..5).map(case).collect();
        let names = |cs: Vec<Case>| cs.into_iter().map(|c| c.snippet).collect::<Vec<_>>();
        assert_eq!(
            names("book".parse::<Order>().unwrap().arrange(&cases)),
            [0, 1, 2, 3, 4]
        );
        assert_eq!(
            names("reverse".parse::<Order>().unwrap().arrange(&cases)),
            [4, 3, 2, 1, 0]
        );
        let once = names("shuffle=7".parse::<Order>().unwrap().arrange(&cases));
        assert_eq!(once, names(Order::Shuffle(7).arrange(&cases)));
        let mut sorted = once.clone();
        sorted.sort();
        assert_eq!(sorted, [0, 1, 2, 3, 4]);
        assert!(
            "sideways"
                .parse::<Order>()
                .unwrap_err()
                .contains("shuffle=SEED")
        );
        assert_eq!(Order::Shuffle(7).to_string(), "shuffle=7");
    }

    #[test]
    fn runs_that_disagree_are_flaky_and_runs_that_agree_are_not() {
        let flaky = combine(vec![result(1, Status::Passed), result(1, Status::Failed)]).unwrap();
        assert_eq!(flaky.status, Status::Flaky);
        assert_eq!(flaky.results[0].status, Status::Flaky);
        assert!(flaky.message.unwrap().contains("passed 1 of 2 runs"));
        let failed = combine(vec![result(1, Status::Failed), result(1, Status::Failed)]).unwrap();
        assert_eq!(failed.status, Status::Failed);
        let passed = combine(vec![result(1, Status::Passed), result(1, Status::Passed)]).unwrap();
        assert_eq!(passed.status, Status::Passed);
    }

    #[test]
    fn the_closing_line_counts_not_run_blocks_as_skipped_never_as_passed() {
        let mut out = Vec::new();
        let results = [
            result(1, Status::Passed),
            result(2, Status::NotRun),
            result(3, Status::Failed),
        ];
        summarize(&results, false, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.ends_with("1 passed, 1 failed, 1 skipped\n"), "{text}");
        assert!(!text.contains("---- c2"), "{text}");
    }

    #[test]
    fn the_closing_line_counts_flaky_cases_as_failed() {
        let mut out = Vec::new();
        let results = [
            result(1, Status::Passed),
            result(2, Status::Flaky),
            result(3, Status::Failed),
        ];
        summarize(&results, false, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.ends_with("1 passed, 2 failed (1 of them flaky)\n"),
            "{text}"
        );
    }
}
