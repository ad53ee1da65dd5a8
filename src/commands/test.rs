//! `mdbook-hubcheck test`: every snippet-scenario of a book, run in parallel, each against a mock
//! Hub of its own and off the network, with a line per case, the failures explained,
//! `report.json` and `junit.xml` written where `book.toml` says, and the closing
//! `N passed, N failed` line (`, N skipped` after it when blocks are declared `not-run`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::harness::network::Isolation;
use crate::harness::pyenv;
use crate::harness::runner::{Harness, RunOptions, cases, summarize};
use crate::harness::world::HubSource;
use crate::harness::{self, Error};
use crate::report::Status;
use crate::settings::Settings;
use crate::snippets::extract_book;

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
}

/// A harness for a book: its snippets, a pinned Python environment, where each case gets its Hub,
/// and the isolation this machine allows.
pub fn prepare_harness(book: &Path, hub_url: Option<&str>) -> Result<Harness, Error> {
    let snippets = extract_book(book)?;
    let placeholders = Settings::load(book)?.placeholders;
    let env = pyenv::ensure_default()?;
    let versions = env.versions()?;
    let clients = serde_json::to_value(versions)
        .ok()
        .and_then(|v| serde_json::from_value::<BTreeMap<String, String>>(v).ok())
        .unwrap_or_default();
    let hubs = match hub_url {
        Some(url) => HubSource::remote(url)?,
        None => HubSource::InProcess,
    };
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
    })
}

/// Runs the command; `Ok(true)` when every case passed.
pub fn run(options: &TestOptions, out: &mut (dyn Write + Send)) -> anyhow::Result<bool> {
    let harness = prepare_harness(&options.book, options.hub.as_deref())?;
    if let Some(max) = harness.hubs.max_jobs()
        && options.run.jobs > max
    {
        return Err(harness::Error::TooManyJobs {
            jobs: options.run.jobs,
        }
        .into());
    }
    let selected: Vec<_> = cases(&harness.snippets)
        .into_iter()
        .filter(|c| options.filter.as_deref().is_none_or(|f| c.name.contains(f)))
        .collect();
    let repeat = match options.run.repeat {
        0 | 1 => String::new(),
        n => format!(", each {n} times"),
    };
    writeln!(
        out,
        "running {} snippet-scenarios of {} against {}, order {}{repeat}\nisolation: {}",
        selected.len(),
        options.book.display(),
        match &options.hub {
            Some(url) => format!("the mock Hub at {url}, reset before each scenario"),
            None => "a fresh in-process mock Hub per scenario".into(),
        },
        options.run.order,
        harness.isolation.describe(),
    )?;
    let results = harness.run_all(&selected, &options.run, out);
    let github = std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
    summarize(&results, github, out)?;
    let settings = Settings::load(&options.book)?;
    let (json, junit) = (
        settings.report_path(&options.book),
        settings.junit_path(&options.book),
    );
    harness
        .report(&results)
        .write(&json, &junit, options.filter.is_some())
        .map_err(|e| anyhow::anyhow!("writing the report {}: {e}", json.display()))?;
    writeln!(
        out,
        "report: {}\njunit: {}",
        json.display(),
        junit.display()
    )?;
    Ok(results.iter().all(|r| !r.status.is_failure())
        && results.iter().any(|r| r.status == Status::Passed))
}
