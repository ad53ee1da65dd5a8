//! `mdbook-hubcheck test`: every snippet-scenario of a book, run in parallel, each against a mock
//! Hub of its own and off the network, with a line per case, the failures explained,
//! `report.json` and `junit.xml` written where `book.toml` says, and the closing
//! `N passed, N failed` line (`, N skipped` after it when blocks are declared `not-run`).
//!
//! With `--clients latest|SPEC` the selected cases run twice: first with the pinned clients, then
//! with the other set, each in its own environment (resolved and built before any snippet runs).
//! Running both, rather than reading an earlier pinned report, compares like with like: the same
//! book, the same mock Hub and machine, the same moment. The other set's results go to
//! `clients-report.json` / `clients-junit.xml` beside the report (the pinned run still writes the
//! report the badges read), and a closing `drift:` summary names each case that passes on the
//! lock and fails with the other clients, with its first broken promise and first line of output.
//!
//! With `--bless` ([`crate::harness::bless`]), what the runs printed is written back into the
//! book's expected-output blocks and `stdout`/`stderr`/`output` entries (with `--clients`, from
//! the other clients' runs), followed by a summary of every text rewritten and every scenario left
//! for a person (its exit status or exception changed).
//!
//! SIGINT (Ctrl-C) and SIGTERM stop the run ([`crate::harness::interrupt`]): every process of it
//! ends, its folders are removed, no report is written (the last complete run's stays as it was),
//! the closing line says the run was interrupted, and the exit status is 130 (143 for SIGTERM).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::harness::bless::bless;
use crate::harness::case_hub::HubSource;
use crate::harness::interrupt;
use crate::harness::isolation::namespaces::Isolation;
use crate::harness::pyenv::{self, Clients};
use crate::harness::runner::{CaseResult, Harness, RunOptions, cases, summarize};
use crate::harness::{self, Error};
use crate::hub::World;
use crate::report::Status;
use crate::settings::Settings;
use crate::snippets::annotation::TokenChoice;
use crate::snippets::{Snippet, extract_book};

/// What `mdbook-hubcheck test` was asked to do.
#[derive(Debug, Clone)]
pub struct TestOptions {
    /// The book's root folder.
    pub book: PathBuf,
    /// Only cases whose name contains this.
    pub filter: Option<String>,
    /// Jobs, order and repeats.
    pub run: RunOptions,
    /// A mock Hub already running elsewhere, instead of one in this process per case.
    pub hub: Option<String>,
    /// The client versions: the lock, the newest releases, or named versions.
    pub clients: Clients,
    /// Write what the runs printed back into the book's expected texts (`--bless`).
    pub bless: bool,
}

/// A harness for a book: its snippets, a pinned Python environment, where each case gets its Hub,
/// and the isolation this machine allows.
pub fn prepare_harness(book: &Path, hub_url: Option<&str>) -> Result<Harness, Error> {
    prepare_harness_with(book, hub_url, &Clients::Pinned)
}

/// [`prepare_harness`] with the given client versions (a variant environment is resolved and
/// built here, so a set that does not resolve fails before any snippet runs).
pub fn prepare_harness_with(
    book: &Path,
    hub_url: Option<&str>,
    clients: &Clients,
) -> Result<Harness, Error> {
    let snippets = extract_book(book)?;
    let settings = Settings::load(book)?;
    // The world first: a wrong world file stops the run before the Python environment is made.
    let world = match hub_url {
        Some(_) => None,
        None => Some(settings.load_world(book)?),
    };
    let options = pyenv::EnsureOptions {
        requirements: match settings.requirements_path(book) {
            Some(lock) => pyenv::Requirements::load(&lock).map_err(Error::PyEnv)?,
            None => pyenv::Requirements::builtin(),
        },
        ..pyenv::EnsureOptions::default()
    };
    let (placeholders, may_differ) = (settings.placeholders, settings.transcript_may_differ);
    let env = pyenv::ensure_clients(clients, &options)?;
    let versions = env.versions()?;
    let clients = serde_json::to_value(versions)
        .ok()
        .and_then(|v| serde_json::from_value::<BTreeMap<String, String>>(v).ok())
        .unwrap_or_default();
    let hubs = match (hub_url, world) {
        (Some(url), _) => HubSource::remote(url)?,
        (None, world) => HubSource::InProcess(Box::new(world.unwrap_or_else(World::empty))),
    };
    check_token_names(&snippets, &hubs.token_names())?;
    let venv_bin = env
        .python()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    Ok(Harness {
        snippets,
        placeholders,
        venv_bin,
        hubs,
        isolation: Isolation::detect(),
        clients,
        warm: None,
        may_differ,
    })
}

/// Every token a scenario names (`token`, `logged-in`) must be one the world declares, so a typo
/// stops the run before anything starts instead of failing one case with a puzzling error.
fn check_token_names(snippets: &[Snippet], known: &[String]) -> Result<(), Error> {
    for snippet in snippets {
        for scenario in &snippet.scenarios {
            let named = [&scenario.token, &scenario.logged_in];
            for choice in named.into_iter().flatten() {
                if let TokenChoice::Named(name) = choice
                    && !known.contains(name)
                {
                    return Err(Error::UnknownToken {
                        location: format!("{}:{}", snippet.file.display(), snippet.line),
                        scenario: scenario.name.clone(),
                        name: name.clone(),
                        known: known.join(", "),
                    });
                }
            }
        }
    }
    Ok(())
}

/// Starts the warm interpreter, unless `--cold` asks for new processes.
fn warm_up(harness: &mut Harness, options: &TestOptions) -> Result<(), Error> {
    if options.run.cold {
        Ok(())
    } else {
        harness.use_warm_interpreters()
    }
}

/// How a run of `mdbook-hubcheck test` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every case passed.
    Passed,
    /// A case failed or was flaky (or none passed).
    Failed,
    /// SIGINT or SIGTERM stopped it (the signal's number).
    Interrupted(i32),
}

impl Verdict {
    /// The exit status: 0, 1, or 128 + the signal's number.
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Passed => 0,
            Verdict::Failed => 1,
            Verdict::Interrupted(signal) => interrupt::exit_status(signal),
        }
    }
}

/// Runs the command, stopping when SIGINT or SIGTERM arrives.
pub fn run(options: &TestOptions, out: &mut (dyn Write + Send)) -> anyhow::Result<Verdict> {
    let catcher = interrupt::catch()?;
    let result = run_to_the_end(options, out);
    let Some(signal) = interrupt::received() else {
        drop(catcher);
        return result.map(|passed| match passed {
            true => Verdict::Passed,
            false => Verdict::Failed,
        });
    };
    // The harness (and its warm interpreter) is gone by now; anything started in the instant
    // before the signal goes too.
    interrupt::end_descendants();
    interrupt::reap_orphans();
    let kept = Settings::load(&options.book)
        .map(|s| s.report_path(&options.book).display().to_string())
        .unwrap_or_else(|_| "the report".into());
    writeln!(
        out,
        "\ninterrupted by {}: the run stopped before its end; no report was written, so {kept} is \
         still the last complete run's",
        interrupt::signal_name(signal)
    )?;
    Ok(Verdict::Interrupted(signal))
}

/// Whether SIGINT or SIGTERM has told the run to stop.
fn interrupted() -> bool {
    interrupt::received().is_some()
}

/// Runs the command to its end; `Ok(true)` when every case passed. An interrupted run returns
/// early and writes no report.
fn run_to_the_end(options: &TestOptions, out: &mut (dyn Write + Send)) -> anyhow::Result<bool> {
    if !options.clients.is_pinned() {
        return run_with_other_clients(options, out);
    }
    let mut harness = prepare_harness(&options.book, options.hub.as_deref())?;
    check_jobs(&harness, options)?;
    warm_up(&mut harness, options)?;
    let selected = selected_cases(&harness, options);
    let results = run_cases(&harness, &selected, options, out)?;
    if interrupted() {
        return Ok(false);
    }
    let settings = Settings::load(&options.book)?;
    let (json, junit) = match mode_name(&options.run) {
        Some(mode) => (
            settings.mode_report_path(&options.book, mode),
            settings.mode_junit_path(&options.book, mode),
        ),
        None => (
            settings.report_path(&options.book),
            settings.junit_path(&options.book),
        ),
    };
    write_report(&harness, &results, &json, &junit, options, out)?;
    finish(&harness, &results, options, out)
}

/// The name a run in another mode writes its report under (`journey`, `rerun`), so the report
/// the badges read stays the plain run's.
fn mode_name(run: &RunOptions) -> Option<&'static str> {
    match (run.journey, run.rerun) {
        (true, _) => Some("journey"),
        (false, true) => Some("rerun"),
        (false, false) => None,
    }
}

/// `Ok(true)` when every case passed; with `--bless`, when every failure was only in texts and
/// each of them was rewritten (the summary says which).
fn finish(
    harness: &Harness,
    results: &[CaseResult],
    options: &TestOptions,
    out: &mut (dyn Write + Send),
) -> anyhow::Result<bool> {
    if !options.bless {
        return Ok(all_passed(results));
    }
    let blessing = bless(&options.book, &harness.snippets, results)?;
    blessing.write_summary(out)?;
    let fixed = |r: &CaseResult| r.status == Status::Failed && r.capture.is_some();
    Ok(blessing.complete()
        && results.iter().all(|r| !r.status.is_failure() || fixed(r))
        && results
            .iter()
            .any(|r| r.status == Status::Passed || fixed(r)))
}

/// No case failed or was flaky, and at least one passed (declared not-run blocks count as
/// neither).
fn all_passed(results: &[CaseResult]) -> bool {
    results.iter().all(|r| !r.status.is_failure())
        && results.iter().any(|r| r.status == Status::Passed)
}

fn check_jobs(harness: &Harness, options: &TestOptions) -> Result<(), Error> {
    if let Some(max) = harness.hubs.max_jobs()
        && options.run.jobs > max
    {
        return Err(harness::Error::TooManyJobs {
            jobs: options.run.jobs,
        });
    }
    Ok(())
}

fn selected_cases(harness: &Harness, options: &TestOptions) -> Vec<crate::harness::runner::Case> {
    cases(&harness.snippets)
        .into_iter()
        .filter(|c| options.filter.as_deref().is_none_or(|f| c.name.contains(f)))
        .collect()
}

/// Runs `selected` with the header line, one line per case and the closing summary.
fn run_cases(
    harness: &Harness,
    selected: &[crate::harness::runner::Case],
    options: &TestOptions,
    out: &mut (dyn Write + Send),
) -> anyhow::Result<Vec<CaseResult>> {
    let repeat = match options.run.repeat {
        0 | 1 => String::new(),
        n => format!(", each {n} times"),
    };
    let twice = if options.run.rerun {
        ", each twice in the same world and home (--rerun)"
    } else {
        ""
    };
    let hub = match &options.hub {
        Some(url) if options.run.journey => format!("the mock Hub at {url}, reset once"),
        Some(url) => format!("the mock Hub at {url}, reset before each scenario"),
        None if options.run.journey => "one in-process mock Hub for the whole book".into(),
        None => "a fresh in-process mock Hub per scenario".into(),
    };
    let what = if options.run.journey {
        let count = crate::harness::journey::journey_cases(selected).len();
        format!(
            "journey: {count} snippets of {} in reading order as one student, each with its first \
             scenario, in ONE world and home, against {hub}{twice}",
            options.book.display()
        )
    } else {
        format!(
            "running {} snippet-scenarios of {} against {hub}, order {}{repeat}{twice}",
            selected.len(),
            options.book.display(),
            options.run.order,
        )
    };
    writeln!(
        out,
        "{what}\nisolation: {}\naddresses: {}\npython: {}",
        harness.isolation.describe(),
        harness.hubs.addresses(harness.isolation).describe(),
        if harness.warm.is_some() {
            "forked from a warm interpreter that imported torch once (--cold: a new one per run)"
        } else {
            "a new interpreter per run"
        },
    )?;
    let results = if options.run.journey {
        harness.run_journey(selected, options.run.rerun, out)?
    } else {
        harness.run_all(selected, &options.run, out)
    };
    if interrupted() {
        return Ok(results);
    }
    let github = std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
    summarize(&results, github, out)?;
    Ok(results)
}

fn write_report(
    harness: &Harness,
    results: &[CaseResult],
    json: &Path,
    junit: &Path,
    options: &TestOptions,
    out: &mut (dyn Write + Send),
) -> anyhow::Result<()> {
    harness
        .report(results)
        .write(json, junit, options.filter.is_some())
        .map_err(|e| anyhow::anyhow!("writing the report {}: {e}", json.display()))?;
    writeln!(
        out,
        "report: {}\njunit: {}",
        json.display(),
        junit.display()
    )?;
    Ok(())
}

/// `--clients latest|SPEC`: both environments first, then the cases with the pinned clients and
/// with the others, the reports, and the drift summary. `Ok(true)` when every case passed with
/// the other clients.
fn run_with_other_clients(
    options: &TestOptions,
    out: &mut (dyn Write + Send),
) -> anyhow::Result<bool> {
    let hub = options.hub.as_deref();
    let mut other = prepare_harness_with(&options.book, hub, &options.clients)?;
    let mut pinned = prepare_harness(&options.book, hub)?;
    warm_up(&mut other, options)?;
    warm_up(&mut pinned, options)?;
    check_jobs(&other, options)?;
    let selected = selected_cases(&other, options);
    writeln!(
        out,
        "clients {}: {}\nfirst with the pinned clients, for comparison: {}",
        options.clients,
        versions_line(&other.clients),
        versions_line(&pinned.clients)
    )?;
    let pinned_results = run_cases(&pinned, &selected, options, out)?;
    if interrupted() {
        return Ok(false);
    }
    let settings = Settings::load(&options.book)?;
    write_report(
        &pinned,
        &pinned_results,
        &settings.report_path(&options.book),
        &settings.junit_path(&options.book),
        options,
        out,
    )?;
    writeln!(out, "\nnow with clients {}:", options.clients)?;
    let results = run_cases(&other, &selected, options, out)?;
    if interrupted() {
        return Ok(false);
    }
    write_report(
        &other,
        &results,
        &settings.clients_report_path(&options.book),
        &settings.clients_junit_path(&options.book),
        options,
        out,
    )?;
    write_drift(
        &pinned_results,
        &results,
        &options.clients,
        &other.clients,
        out,
    )?;
    finish(&other, &results, options, out)
}

/// `huggingface_hub 2.4.0, transformers 5.23.0, ...` (python last).
fn versions_line(clients: &BTreeMap<String, String>) -> String {
    let mut parts: Vec<String> = clients
        .iter()
        .filter(|(name, _)| *name != "python")
        .map(|(name, version)| format!("{name} {version}"))
        .collect();
    if let Some(python) = clients.get("python") {
        parts.push(format!("python {python}"));
    }
    parts.join(", ")
}

/// The closing summary: each case that passes on the lock and fails with the other clients.
fn write_drift(
    pinned: &[CaseResult],
    other: &[CaseResult],
    clients: &Clients,
    versions: &BTreeMap<String, String>,
    out: &mut (dyn Write + Send),
) -> std::io::Result<()> {
    let drifted: Vec<&CaseResult> = other
        .iter()
        .filter(|r| r.status.is_failure())
        .filter(|r| {
            pinned
                .iter()
                .any(|p| p.case.name == r.case.name && p.status == Status::Passed)
        })
        .collect();
    let broken_on_both = other.iter().filter(|r| r.status.is_failure()).count() - drifted.len();
    if drifted.is_empty() {
        writeln!(
            out,
            "\ndrift: none; every case that passes on the lock also passes with clients {clients}"
        )?;
    } else {
        writeln!(
            out,
            "\ndrift: {} snippet-scenario(s) pass on the lock and fail with clients {clients} ({}):",
            drifted.len(),
            versions_line(versions)
        )?;
        for result in drifted {
            let (promise, output) = first_difference(result.message.as_deref().unwrap_or(""));
            writeln!(out, "  {}", result.case.name)?;
            writeln!(out, "    first difference: {promise}")?;
            if let Some(line) = output {
                writeln!(out, "    first line of output: {line}")?;
            }
        }
    }
    if broken_on_both > 0 {
        writeln!(
            out,
            "({broken_on_both} case(s) fail with the pinned clients too: see the failures above)"
        )?;
    }
    Ok(())
}

/// From a failure message: the first broken promise (`expected ...`) and the first line the
/// snippet printed.
fn first_difference(message: &str) -> (String, Option<String>) {
    let lines: Vec<&str> = message.lines().collect();
    let promise = lines
        .iter()
        .find_map(|l| l.trim_start().strip_prefix("- "))
        .or_else(|| lines.iter().map(|l| l.trim()).find(|l| !l.is_empty()))
        .unwrap_or("failed")
        .to_string();
    let output = lines
        .iter()
        .skip_while(|l| !l.trim_start().starts_with("--- std"))
        .skip(1)
        .map(|l| l.trim())
        .find(|l| !l.is_empty() && !l.starts_with("--- std") && !l.starts_with('['))
        .map(str::to_string);
    (promise, output)
}
