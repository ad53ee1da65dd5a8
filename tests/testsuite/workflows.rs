//! The GitHub workflows under `.github/workflows/`: each parses, has the jobs the README promises,
//! and runs README.md's own commands (read from README.md, never copied here). actionlint checks
//! them further in `.ci/run`.

use std::fs;
use std::path::Path;

use serde_norway::Value;

use crate::prelude::*;

/// The indented shell lines of README.md (its code blocks written with four spaces).
fn readme_commands() -> Vec<String> {
    let readme = fs::read_to_string(repo_root().join("README.md")).unwrap();
    readme
        .lines()
        .filter_map(|line| line.strip_prefix("    ").map(str::trim_start))
        .filter(|line| line.starts_with("cargo "))
        .map(str::to_string)
        .collect()
}

/// README's build and test commands: the first two commands it opens with.
fn readme_build_and_test() -> (String, String) {
    let commands = readme_commands();
    let build = commands
        .iter()
        .find(|c| c.ends_with("-- build"))
        .expect("README.md shows how to build the book")
        .clone();
    let test = commands
        .iter()
        .find(|c| c.starts_with("cargo test"))
        .expect("README.md shows how to run every test")
        .clone();
    (build, test)
}

fn workflow(name: &str) -> Value {
    let path = repo_root().join(".github/workflows").join(name);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every step of a job, with the steps of a reusable workflow it calls (`uses: ./...`).
fn steps(job: &Value) -> Vec<Value> {
    if let Some(local) = job["uses"].as_str().and_then(|u| u.strip_prefix("./")) {
        let called = workflow(Path::new(local).file_name().unwrap().to_str().unwrap());
        return jobs(&called)
            .into_iter()
            .flat_map(|(_, j)| steps(&j))
            .collect();
    }
    job["steps"].as_sequence().cloned().unwrap_or_default()
}

fn jobs(workflow: &Value) -> Vec<(String, Value)> {
    workflow["jobs"]
        .as_mapping()
        .expect("a workflow has jobs")
        .iter()
        .map(|(k, v)| (k.as_str().unwrap().to_string(), v.clone()))
        .collect()
}

/// Each line of each `run:` of the steps.
fn run_lines(steps: &[Value]) -> Vec<String> {
    steps
        .iter()
        .filter_map(|s| s["run"].as_str())
        .flat_map(|run| run.lines().map(|l| l.trim().to_string()))
        .collect()
}

/// The `with:` of each step using `action` (owner/name, any version).
fn uses<'a>(steps: &'a [Value], action: &str) -> Vec<&'a Value> {
    steps
        .iter()
        .filter(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.split('@').next() == Some(action))
        })
        .map(|s| &s["with"])
        .collect()
}

fn text(value: &Value) -> String {
    serde_norway::to_string(value).unwrap()
}

fn triggers(workflow: &Value) -> String {
    text(&workflow["on"])
}

/// The build, test, artifacts and caches that pull requests and main share.
fn assert_full_check(steps: &[Value], what: &str) {
    let (build, test) = readme_build_and_test();
    let lines = run_lines(steps);
    let at = |command: &str| {
        lines
            .iter()
            .position(|l| l == command)
            .unwrap_or_else(|| panic!("{what} does not run README's `{command}`: {lines:#?}"))
    };
    let (built, tested) = (at(&build), at(&test));
    assert!(built < tested, "{what}: build before test");
    assert!(
        lines.iter().rposition(|l| *l == build).unwrap() > tested,
        "{what}: the book is built again after the tests, so its badges come from this run"
    );
    let artifacts = uses(steps, "actions/upload-artifact")
        .iter()
        .map(|w| text(w))
        .collect::<String>();
    for file in ["report.json", "junit.xml", "target/book"] {
        assert!(
            artifacts.contains(file),
            "{what} uploads {file}: {artifacts}"
        );
    }
    let caches = uses(steps, "actions/cache")
        .iter()
        .map(|w| text(w))
        .collect::<String>();
    for path in ["~/.cache/mdbook-hubcheck", "/var/cache/apt/archives"] {
        assert!(caches.contains(path), "{what} caches {path}: {caches}");
    }
}

#[test]
fn pull_requests_build_the_book_and_run_every_test() {
    let pr = workflow("pull-request.yml");
    assert!(triggers(&pr).contains("pull_request"), "{}", triggers(&pr));
    let all: Vec<Value> = jobs(&pr).iter().flat_map(|(_, j)| steps(j)).collect();
    assert_full_check(&all, "pull-request.yml");
}

#[test]
fn main_publishes_the_checked_book_on_pages_with_the_real_hub() {
    let main = workflow("publish.yml");
    let on = triggers(&main);
    assert!(on.contains("push") && on.contains("main"), "{on}");
    let jobs = jobs(&main);
    let (_, check) = jobs
        .iter()
        .find(|(n, _)| n == "check")
        .expect("a check job");
    assert_eq!(check["with"]["pages"], Value::Bool(true));
    let all = steps(check);
    assert_full_check(&all, "publish.yml");
    assert_eq!(uses(&all, "actions/upload-pages-artifact").len(), 1);
    let (_, publish) = jobs
        .iter()
        .find(|(n, _)| n == "publish")
        .expect("a publish job");
    assert_eq!(publish["needs"].as_str(), Some("check"));
    assert_eq!(uses(&steps(publish), "actions/deploy-pages").len(), 1);
    assert_eq!(text(&publish["permissions"]["pages"]).trim(), "write");
    // The token checker asks the real Hub: nothing overrides book.toml's endpoint, which is it.
    for name in ["publish.yml", "check.yml"] {
        let raw = fs::read_to_string(repo_root().join(".github/workflows").join(name)).unwrap();
        assert!(!raw.to_uppercase().contains("HUB_ENDPOINT"), "{name}");
    }
    let settings = mdbook_hubcheck::settings::Settings::load(&repo_root()).unwrap();
    assert_eq!(settings.hub_endpoint, "https://huggingface.co");
}

#[test]
fn drift_runs_weekly_and_by_hand_and_keeps_its_report() {
    let drift = workflow("drift.yml");
    let on = triggers(&drift);
    assert!(on.contains("schedule") && on.contains("cron"), "{on}");
    assert!(on.contains("workflow_dispatch"), "{on}");
    let readme_drift = readme_commands()
        .into_iter()
        .find(|c| c.contains("--clients"))
        .expect("README.md shows the drift command");
    let prefix = readme_drift.split(" --clients").next().unwrap().to_string();
    let all: Vec<Value> = jobs(&drift).iter().flat_map(|(_, j)| steps(j)).collect();
    let lines = run_lines(&all);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("{prefix} --clients"))),
        "drift.yml runs README's `{readme_drift}`: {lines:#?}"
    );
    let kept = uses(&all, "actions/upload-artifact");
    assert_eq!(kept.len(), 1);
    assert!(text(kept[0]).contains("target/hubcheck"));
}

/// The drift check blesses what the other clients print (README's own drift command, which has
/// `--bless`) and proposes the rewritten pages in a pull request named after the client versions,
/// whose body is the bless summary; it may push a branch and open that pull request, nothing more.
#[test]
fn drift_blesses_the_new_output_and_opens_a_pull_request_with_the_versions() {
    let drift = workflow("drift.yml");
    let readme_drift = readme_commands()
        .into_iter()
        .find(|c| c.contains("--clients"))
        .expect("README.md shows the drift command");
    assert!(readme_drift.ends_with("--bless"), "{readme_drift}");
    let all: Vec<Value> = jobs(&drift).iter().flat_map(|(_, j)| steps(j)).collect();
    let lines = run_lines(&all);
    let run = lines
        .iter()
        .find(|l| l.contains(" --clients "))
        .expect("drift.yml runs the handbook with other clients");
    assert!(run.contains("--bless"), "{run}");
    assert!(run.contains("tee drift.txt"), "{run}");

    let describe = all
        .iter()
        .find(|s| {
            s["run"]
                .as_str()
                .is_some_and(|r| r.contains("bless-summary.md"))
        })
        .expect("a step writes the pull request's body");
    let id = describe["id"].as_str().expect("that step has an id");
    let script = describe["run"].as_str().unwrap();
    assert!(
        script.contains("sed -n '/^bless:/,$p' drift.txt"),
        "{script}"
    );
    assert!(
        script.contains("versions=") && script.contains("$GITHUB_OUTPUT"),
        "{script}"
    );

    let opened = uses(&all, "peter-evans/create-pull-request");
    assert_eq!(opened.len(), 1, "one pull-request step");
    let with = opened[0];
    let versions = format!("steps.{id}.outputs.versions");
    for key in ["title", "commit-message"] {
        let value = with[key].as_str().unwrap_or_default();
        assert!(value.contains(&versions), "{key}: {value}");
    }
    assert_eq!(with["body-path"].as_str(), Some("bless-summary.md"));
    assert!(
        with["add-paths"]
            .as_str()
            .is_some_and(|p| p.starts_with("book/")),
        "only the book's pages go into the pull request: {}",
        text(with)
    );
    let step = all
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("peter-evans/"))
        })
        .unwrap();
    assert_eq!(
        step["if"].as_str(),
        Some("${{ !cancelled() }}"),
        "also after a failed run"
    );

    let permissions = &drift["permissions"];
    assert_eq!(permissions["contents"].as_str(), Some("write"));
    assert_eq!(permissions["pull-requests"].as_str(), Some("write"));
    assert_eq!(
        permissions.as_mapping().map(|m| m.len()),
        Some(2),
        "{}",
        text(permissions)
    );
}

#[test]
fn every_action_is_pinned_to_a_version() {
    let dir = repo_root().join(".github/workflows");
    let pinned = regex::Regex::new(r"^[\w.-]+/[\w./-]+@v\d+\.\d+\.\d+$").unwrap();
    let mut seen = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let workflow = workflow(&name);
        for (job_name, job) in jobs(&workflow) {
            let own = job["steps"].as_sequence().cloned().unwrap_or_default();
            for action in own.iter().filter_map(|s| s["uses"].as_str()) {
                seen += 1;
                assert!(
                    pinned.is_match(action),
                    "{name} job {job_name}: `{action}` is not pinned to a version"
                );
            }
        }
    }
    assert!(seen > 0);
}
