//! Verification badges: what the last harness run says about each code block of the book.
//!
//! A badge is a static element right before a code block; the widget stylesheet draws it, so it
//! needs no script. Its words live in `data-*` and `aria-label` attributes, not in text nodes, so
//! mdBook's search index (which reads only text) does not fill up with "verified".

use super::escape_html;
use crate::report::{Report, Status};

/// What the report says about one block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Badge {
    /// Every scenario of this exact code passed.
    Verified {
        /// How many scenarios ran.
        scenarios: usize,
    },
    /// At least one scenario of this exact code failed.
    Failing {
        /// The names of the failed scenarios.
        failed: Vec<String>,
    },
    /// The report has no result for this block.
    NotVerified,
    /// The report has results for this block, but for other code: it changed since the run.
    Stale,
    /// The block is declared `not-run`: the tests cannot run it, for this reason.
    NotRun {
        /// The annotation's reason.
        reason: String,
    },
}

impl Badge {
    /// The CSS modifier and stable name: `verified`, `failing`, `not-verified`, `stale`, `not-run`.
    pub fn name(&self) -> &'static str {
        match self {
            Badge::Verified { .. } => "verified",
            Badge::Failing { .. } => "failing",
            Badge::NotVerified => "not-verified",
            Badge::Stale => "stale",
            Badge::NotRun { .. } => "not-run",
        }
    }

    /// The short label the reader sees.
    fn label(&self) -> &'static str {
        match self {
            Badge::Verified { .. } => "\u{2713} Verified",
            Badge::Failing { .. } => "\u{2717} Failing",
            Badge::NotVerified => "Not verified",
            Badge::Stale => "Stale: changed since the test run",
            Badge::NotRun { .. } => "Not run",
        }
    }

    /// One sentence, shown on hover, on what the badge promises.
    fn meaning(&self) -> &'static str {
        match self {
            Badge::Verified { .. } => {
                "Verified means: before this page was published, a program ran this code with the \
                 real Hugging Face tools, and it printed what this page says"
            }
            Badge::Failing { .. } => {
                "Failing means: in the last test run, this code did not print what this page says"
            }
            Badge::NotVerified => "Not verified means: the last test run did not run this code",
            Badge::Stale => {
                "Stale means: this code was changed after the last test run, so the result is old"
            }
            Badge::NotRun { .. } => {
                "Not run means: the tests cannot run this code, for the reason given here"
            }
        }
    }
}

/// Chooses the badge of block `index` of chapter `file` (relative to the book root) whose code
/// hashes to `hash`.
///
/// Results with the same file, index and hash count first; then results with the same file and
/// hash at another index (a block moved because one was added above it); then a result at the
/// same file and index with another hash makes the block stale.
pub fn select(report: &Report, file: &str, index: usize, hash: &str) -> Badge {
    let here: Vec<_> = report.results_at(file, index).collect();
    let mut same: Vec<_> = here.iter().copied().filter(|r| r.hash == hash).collect();
    if same.is_empty() {
        same = report
            .results
            .iter()
            .filter(|r| r.chapter() == file && r.hash == hash)
            .collect();
    }
    if same.is_empty() {
        return if here.is_empty() {
            Badge::NotVerified
        } else {
            Badge::Stale
        };
    }
    if let Some(skipped) = same.iter().find(|r| r.status == Status::NotRun)
        && same.iter().all(|r| r.status == Status::NotRun)
    {
        return Badge::NotRun {
            reason: skipped.message.clone().unwrap_or_default(),
        };
    }
    let failed: Vec<String> = same
        .iter()
        .filter(|r| r.status != Status::Passed)
        .map(|r| r.scenario.clone())
        .collect();
    if failed.is_empty() {
        Badge::Verified {
            scenarios: same.len(),
        }
    } else {
        Badge::Failing { failed }
    }
}

/// The client versions worth naming for `code`: Python and huggingface_hub always, the other
/// libraries when the code mentions them.
fn clients_for(report: &Report, code: &str) -> String {
    let mut names: Vec<&String> = report.clients.keys().collect();
    let rank = |n: &str| match n {
        "python" => 0,
        "huggingface_hub" => 1,
        _ => 2,
    };
    names.sort_by_key(|n| (rank(n), n.to_string()));
    names
        .into_iter()
        .filter(|n| rank(n) < 2 || code.contains(n.as_str()))
        .map(|n| format!("{n} {}", report.clients[n]))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The badge element for the html renderer, on one line so that it forms one HTML block.
pub fn badge_html(badge: &Badge, report: &Report, code: &str) -> String {
    let clients = clients_for(report, code);
    let date = report.date();
    let detail = match badge {
        Badge::Verified { scenarios: 1 } => format!("tested {date} with {clients}"),
        Badge::Verified { scenarios } => {
            format!("{scenarios} cases tested {date} with {clients}")
        }
        Badge::Failing { failed } => {
            format!("failed on {date} with {clients} ({})", failed.join(", "))
        }
        Badge::NotVerified => format!("not run by the tests of {date}"),
        Badge::Stale => format!("last tested {date}; the text changed after that"),
        Badge::NotRun { reason } => reason.clone(),
    };
    let detail = match (badge, report.addresses.as_deref()) {
        (Badge::Verified { .. }, Some("real")) => {
            format!("{detail}, verified with the real addresses (https://huggingface.co)")
        }
        (Badge::Verified { .. }, Some(_)) => {
            format!("{detail}, not with the real addresses (HF_ENDPOINT at a local mock)")
        }
        _ => detail,
    };
    let label = badge.label();
    format!(
        "<div class=\"hubcheck-badge hubcheck-badge-{name}\" role=\"note\" aria-label=\"{aria}\" \
         title=\"{title}\" data-label=\"{label}\" data-detail=\"{detail}\"></div>",
        name = badge.name(),
        aria = escape_html(&format!("{label}: {detail}")),
        title = escape_html(&format!("{}. {label}: {detail}", badge.meaning())),
        label = escape_html(label),
        detail = escape_html(&detail),
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::report::ReportResult;

    fn result(file: &str, index: usize, hash: &str, scenario: &str, ok: bool) -> ReportResult {
        ReportResult {
            file: file.into(),
            line: 1,
            chapter: None,
            index,
            language: "python".into(),
            id: "x".into(),
            scenario: scenario.into(),
            status: if ok { Status::Passed } else { Status::Failed },
            duration_ms: 1,
            hash: hash.into(),
            message: None,
            run_at: String::new(),
            clients: Default::default(),
        }
    }

    fn report(results: Vec<ReportResult>) -> Report {
        Report {
            isolation: None,
            addresses: None,
            version: 1,
            generated_at: "2026-11-29T10:00:00Z".into(),
            hub: "mock".into(),
            clients: BTreeMap::from([
                ("python".into(), "3.11.7".into()),
                ("huggingface_hub".into(), "2.4.0".into()),
                ("torch".into(), "2.15.0".into()),
            ]),
            results,
        }
    }

    const F: &str = "book/a.md";

    #[test]
    fn a_verified_badge_says_whether_the_real_addresses_were_used() {
        let mut r = report(vec![result(F, 0, "h", "a", true)]);
        let badge = Badge::Verified { scenarios: 1 };
        r.addresses = Some("real".into());
        let html = badge_html(&badge, &r, "");
        assert!(html.contains("verified with the real addresses"), "{html}");
        r.addresses = Some("endpoint".into());
        let html = badge_html(&badge, &r, "");
        assert!(html.contains("not with the real addresses"), "{html}");
        // An older report says nothing of it; neither does the badge.
        r.addresses = None;
        assert!(!badge_html(&badge, &r, "").contains("real addresses"));
    }

    #[test]
    fn all_passed_is_verified() {
        let r = report(vec![
            result(F, 0, "h", "a", true),
            result(F, 0, "h", "b", true),
        ]);
        assert_eq!(select(&r, F, 0, "h"), Badge::Verified { scenarios: 2 });
    }

    #[test]
    fn any_failed_is_failing_and_names_the_scenario() {
        let r = report(vec![
            result(F, 0, "h", "a", true),
            result(F, 0, "h", "b", false),
        ]);
        assert_eq!(
            select(&r, F, 0, "h"),
            Badge::Failing {
                failed: vec!["b".into()]
            }
        );
    }

    #[test]
    fn no_result_is_not_verified() {
        let r = report(vec![result(F, 0, "h", "a", true)]);
        assert_eq!(select(&r, F, 1, "other"), Badge::NotVerified);
        assert_eq!(select(&r, "book/b.md", 0, "h"), Badge::NotVerified);
    }

    #[test]
    fn other_hash_at_the_same_place_is_stale() {
        let r = report(vec![result(F, 0, "old", "a", true)]);
        assert_eq!(select(&r, F, 0, "new"), Badge::Stale);
    }

    #[test]
    fn a_block_that_moved_keeps_its_result() {
        // A block was inserted above: the old block 0 is now block 1, unchanged.
        let r = report(vec![result(F, 0, "h", "a", true)]);
        assert_eq!(select(&r, F, 1, "h"), Badge::Verified { scenarios: 1 });
        assert_eq!(select(&r, F, 0, "inserted"), Badge::Stale);
    }

    #[test]
    fn html_names_state_versions_and_date_in_attributes_only() {
        let r = report(vec![result(F, 0, "h", "a", true)]);
        let html = badge_html(&select(&r, F, 0, "h"), &r, "import torch\n");
        assert!(html.starts_with("<div class=\"hubcheck-badge hubcheck-badge-verified\""));
        assert!(html.contains("python 3.11.7, huggingface_hub 2.4.0, torch 2.15.0"));
        assert!(html.contains("2026-11-29"));
        assert!(html.ends_with("></div>"), "no text node: {html}");
        assert!(!html.contains('\n'));
        let plain = badge_html(&Badge::NotVerified, &r, "print(1)\n");
        assert!(plain.contains("hubcheck-badge-not-verified"));
        assert!(!badge_html(&Badge::Stale, &r, "x").contains("torch"));
    }

    #[test]
    fn a_not_run_block_shows_its_reason_and_hover_text_says_what_verified_means() {
        let mut skipped = result(F, 0, "h", "not-run", true);
        skipped.status = Status::NotRun;
        skipped.message = Some("PowerShell is not available on the test machines".into());
        let r = report(vec![skipped]);
        let badge = select(&r, F, 0, "h");
        assert_eq!(
            badge,
            Badge::NotRun {
                reason: "PowerShell is not available on the test machines".into()
            }
        );
        let html = badge_html(&badge, &r, "");
        assert!(html.contains("hubcheck-badge-not-run"), "{html}");
        assert!(html.contains("data-label=\"Not run\""), "{html}");
        assert!(html.contains("PowerShell is not available"), "{html}");
        let verified = badge_html(&Badge::Verified { scenarios: 1 }, &r, "");
        assert!(verified.contains("title=\"Verified means: "), "{verified}");
    }

    #[test]
    fn report_text_is_escaped() {
        let mut r = report(vec![result(F, 0, "h", "<b>", false)]);
        r.clients.insert("python".into(), "\"3\"".into());
        let html = badge_html(&select(&r, F, 0, "h"), &r, "");
        assert!(
            !html.contains("<b>") && html.contains("&lt;b&gt;"),
            "{html}"
        );
        assert!(html.contains("&quot;3&quot;"));
    }
}
