//! `mdbook-hubcheck test`: every snippet-scenario of a book, run in parallel against a mock Hub,
//! with a line per case, the failures explained, `report.json` and `junit.xml` written, and the
//! closing `N passed, N failed` line.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;

use crate::harness::pyenv;
use crate::harness::runner::{Harness, cases, summarize};
use crate::harness::world::{HubWorld, KnownHub};
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
    /// How many cases run at once.
    pub jobs: usize,
    /// A mock Hub already running elsewhere, instead of one in this process.
    pub hub: Option<String>,
}

/// A harness for a book: its snippets, a pinned Python environment, and a Hub.
///
/// A mock Hub started here lives as long as the harness.
pub fn prepare_harness(book: &Path, hub_url: Option<&str>) -> anyhow::Result<Harness> {
    let snippets = extract_book(book)?;
    let placeholders = Settings::load(book)?.placeholders;
    let env = pyenv::ensure_default().context("preparing the pinned Python environment")?;
    let versions = env
        .versions()
        .context("reading the client versions of the pinned environment")?;
    let clients = serde_json::to_value(versions)
        .ok()
        .and_then(|v| serde_json::from_value::<BTreeMap<String, String>>(v).ok())
        .unwrap_or_default();
    let (hub, label): (Arc<dyn HubWorld>, String) = match hub_url {
        Some(url) => (
            Arc::new(KnownHub::connect(url).map_err(anyhow::Error::msg)?),
            url.trim_end_matches('/').to_string(),
        ),
        None => (
            Arc::new(KnownHub::start_mock().context("starting the mock Hub")?),
            "mock".into(),
        ),
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
        hub,
        hub_label: label,
        clients,
    })
}

/// Runs the command; `Ok(true)` when every case passed.
pub fn run(options: &TestOptions, out: &mut (dyn Write + Send)) -> anyhow::Result<bool> {
    let harness = prepare_harness(&options.book, options.hub.as_deref())?;
    let all = cases(&harness.snippets);
    let selected: Vec<_> = all
        .into_iter()
        .filter(|c| options.filter.as_deref().is_none_or(|f| c.name.contains(f)))
        .collect();
    writeln!(
        out,
        "running {} snippet-scenarios of {} against {}",
        selected.len(),
        options.book.display(),
        harness.hub.endpoint()
    )?;
    let results = harness.run_all(&selected, options.jobs, out);
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
        .context("writing the report")?;
    writeln!(
        out,
        "report: {}\njunit: {}",
        json.display(),
        junit.display()
    )?;
    Ok(results.iter().all(|r| r.status == Status::Passed) && !results.is_empty())
}
