//! `mdbook-hubcheck test`: every snippet-scenario of a book, run in parallel against a mock Hub,
//! with a line per case, the failures explained, `report.json` and `junit.xml` written, and the
//! closing `N passed, N failed` line.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;

use super::pyenv;
use super::runner::{Harness, cases, summarize};
use super::world::{HubWorld, KnownHub};
use crate::report::Status;
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
    let placeholders = read_placeholders(book)?;
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

/// `[preprocessor.hubcheck.placeholders]` of the book at `root`.
pub fn read_placeholders(root: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let path = root.join("book.toml");
    let text = std::fs::read_to_string(&path).with_context(|| format!("{}", path.display()))?;
    let table: toml::Table =
        toml::from_str(&text).with_context(|| format!("{}", path.display()))?;
    let placeholders = table
        .get("preprocessor")
        .and_then(|p| p.get("hubcheck"))
        .and_then(|h| h.get("placeholders"))
        .cloned()
        .map(|v| v.try_into::<BTreeMap<String, String>>())
        .transpose()
        .with_context(|| format!("{}: [preprocessor.hubcheck.placeholders]", path.display()))?;
    Ok(placeholders.unwrap_or_default())
}

/// Where a book's harness files go: `target/hubcheck/` under the book root.
pub fn output_dir(book: &Path) -> PathBuf {
    book.join("target/hubcheck")
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
    let (json, junit) = harness
        .report(&results)
        .write(&output_dir(&options.book), options.filter.is_some())
        .context("writing the report")?;
    writeln!(
        out,
        "report: {}\njunit: {}",
        json.display(),
        junit.display()
    )?;
    Ok(results.iter().all(|r| r.status == Status::Passed) && !results.is_empty())
}
