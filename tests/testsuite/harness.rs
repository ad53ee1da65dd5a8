//! The harness itself, through `mdbook-hubcheck test` on fixture books: outdated instructions fail
//! with reasons a writer understands, misbehaving snippets are contained, the invoking user's
//! token is never seen, and annotation errors name file and line.

use std::fs;

use crate::prelude::*;

/// The failure section of one case, found by part of its name.
fn failure_of<'a>(all: &'a str, name_part: &str) -> &'a str {
    let start = all
        .match_indices("---- ")
        .map(|(i, _)| i)
        .find(|&i| all[i..].lines().next().unwrap_or("").contains(name_part))
        .unwrap_or_else(|| panic!("no failure section for {name_part}:\n{all}"));
    let rest = &all[start + 5..];
    let end = rest
        .find("\n---- ")
        .or_else(|| rest.find(" passed, "))
        .unwrap_or(rest.len());
    &rest[..end]
}

#[test]
fn outdated_instructions_fail_with_reasons_a_writer_understands() {
    let book = BookFixture::copy("outdated-book");
    let output = hubcheck_test(book.root(), &[("GITHUB_ACTIONS", "true")]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(all.contains("0 passed, 3 failed"), "{all}");

    let cli = failure_of(&all, "old-cli-login");
    assert!(cli.contains("expected exit status 0, got 127"), "{cli}");
    assert!(cli.contains("command line tool is `hf`"), "{cli}");

    let auth = failure_of(&all, "old-auth-argument");
    assert!(auth.contains("pass the token as `token=`"), "{auth}");

    // Under GitHub Actions each failure is also an annotation on the pull request's diff.
    for line in [16, 30, 47] {
        let annotation = format!("::error file=src/outdated.md,line={line}::");
        assert!(all.contains(&annotation), "no {annotation}:\n{all}");
    }

    let key = failure_of(&all, "old-whoami-key");
    assert!(key.contains("KeyError: 'username'"), "{key}");
    assert!(key.contains("keys such as `name`"), "{key}");

    let report = fs::read_to_string(book.root().join("target/hubcheck/report.json")).unwrap();
    assert_eq!(
        report.matches("\"status\": \"failed\"").count(),
        3,
        "{report}"
    );
    let junit = fs::read_to_string(book.root().join("target/hubcheck/junit.xml")).unwrap();
    assert_eq!(junit.matches("<failure").count(), 3, "{junit}");
}

#[test]
fn misbehaving_snippets_are_contained_and_the_users_token_is_never_seen() {
    let book = BookFixture::copy("harness-book");
    let marker = book.root().join("marker");
    let chapter = book.root().join("src/misbehaving.md");
    let source = fs::read_to_string(&chapter).unwrap();
    fs::write(
        &chapter,
        source.replace("MARKER_PATH", marker.to_str().unwrap()),
    )
    .unwrap();

    // The invoking user: a token in the environment and one saved by `hf auth login`. Their HOME
    // is a new folder, which would also move the pinned Python environment's cache: the run is
    // pointed at the environment every other test uses, as a user who set HUBCHECK_PYENV_DIR
    // would be (else each run downloads and builds its 6 GB again).
    let canary = planted_token();
    let home = tempfile::tempdir().unwrap();
    fs::create_dir_all(home.path().join(".cache/huggingface")).unwrap();
    fs::write(home.path().join(".cache/huggingface/token"), &canary).unwrap();
    let pinned = mdbook_hubcheck::harness::pyenv::ensure_default().expect("pinned environment");
    let output = hubcheck_test(
        book.root(),
        &[
            ("HF_TOKEN", canary.as_str()),
            ("HUGGING_FACE_HUB_TOKEN", canary.as_str()),
            ("HOME", home.path().to_str().unwrap()),
            (
                mdbook_hubcheck::harness::pyenv::ENV_DIR_VAR,
                pinned.root().to_str().unwrap(),
            ),
        ],
    );
    assert!(
        !home.path().join(".cache/mdbook-hubcheck").exists(),
        "the run built a Python environment of its own in the user's new HOME"
    );
    let all = text(&output);
    assert!(all.contains("2 passed, 2 failed"), "{all}");
    assert!(
        all.contains("ok     src/misbehaving.md:50 console"),
        "{all}"
    );

    let hang = failure_of(&all, "hangs");
    assert!(hang.contains("did not finish before its timeout"), "{hang}");
    // A run ends when its whole process group is gone: the child the snippet left behind is dead
    // by now (or a zombie), not merely signalled, so it can never write the marker.
    let pid_file = marker.with_extension("pid");
    let pid = fs::read_to_string(&pid_file)
        .unwrap_or_else(|e| panic!("the hanging snippet's child wrote no {pid_file:?}: {e}"));
    let pid: u32 = pid.trim().parse().unwrap();
    if let Some(stat) = still_running(pid) {
        panic!("a child of the hanging snippet survived the timeout: {stat}");
    }
    assert!(
        !marker.exists(),
        "a child of the hanging snippet survived the timeout"
    );

    let flood = failure_of(&all, "floods");
    assert!(
        flood.contains("output was cut at the harness's cap"),
        "{flood}"
    );
    assert!(
        all.len() < 200_000,
        "the runner printed {} bytes",
        all.len()
    );

    assert!(all.contains("looks-for-tokens no-token"), "{all}");
    let mut outputs = vec![all.clone()];
    for file in files_under(&book.root().join("target/hubcheck")) {
        outputs.push(fs::read_to_string(file).unwrap());
    }
    for text in outputs {
        assert!(!text.contains(&canary[3..]), "the canary token leaked");
    }
}

#[test]
fn annotation_errors_name_file_and_line() {
    let book = BookFixture::copy("annotation-errors-book");
    let output = hubcheck_test(book.root(), &[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(all.contains("0 passed, 4 failed"), "{all}");
    for (line, needle) in [
        (6, "`Admin Token` is not a token name"),
        (15, "unknown field `tokn`"),
        (22, "invalid hubcheck annotation: unclosed array table"),
        (
            32,
            "`continues = \"no-such-snippet\"` names no earlier snippet",
        ),
    ] {
        let wanted = format!("src/errors.md:{line}: ");
        let found = all
            .lines()
            .any(|l| l.starts_with(&wanted) && l.contains(needle));
        assert!(found, "no error naming {wanted} with {needle:?}:\n{all}");
    }
}

#[test]
fn standalone_mock_hub_prints_its_tokens_and_serves_the_harness() {
    let hub = StandaloneHub::start();
    assert!(hub.url().starts_with("http://127.0.0.1:"), "{}", hub.info);
    let tokens = hub.info["tokens"].as_array().unwrap();
    let kinds: Vec<&str> = tokens.iter().map(|t| t["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["read", "write", "fine-grained", "expired", "revoked"]
    );
    let read = tokens[0]["value"].as_str().unwrap();
    let whoami = reqwest::blocking::Client::new()
        .get(format!("{}/api/whoami-v2", hub.url()))
        .bearer_auth(read)
        .send()
        .unwrap();
    assert_eq!(whoami.status(), 200);

    // It has one world, so scenarios cannot run beside each other on it.
    let book = BookFixture::copy("client-flows-book");
    let refused = std::process::Command::new(binary())
        .args(["test", "--book", book.root().to_str().unwrap()])
        .args(["--hub", hub.url(), "--jobs", "2"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(
        text(&refused).contains("--jobs 2: a Hub given with --hub has one world"),
        "{}",
        text(&refused)
    );

    // `test --hub URL` runs against it instead of starting a Hub of its own, one scenario at a
    // time, resetting it before each.
    let output = std::process::Command::new(binary())
        .args([
            "test",
            "--book",
            book.root().to_str().unwrap(),
            "--hub",
            hub.url(),
        ])
        .args(["--filter", "cli-whoami"])
        .output()
        .unwrap();
    let all = text(&output);
    assert!(output.status.success(), "{all}");
    assert!(
        all.contains(&format!(
            "against the mock Hub at {}, reset before each scenario",
            hub.url()
        )),
        "{all}"
    );
    assert!(!all.contains(" 0 passed"), "{all}");
    let log: serde_json::Value = reqwest::blocking::get(format!("{}/__mock/requests", hub.url()))
        .unwrap()
        .json()
        .unwrap();
    let whoami_calls = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["path"] == "/api/whoami-v2")
        .count();
    // The Hub is reset before each scenario, so its log holds the last scenario's requests.
    assert!(
        whoami_calls >= 1,
        "the snippets did not reach the standalone Hub: {log}"
    );
}

/// Regression test: `report` in `[preprocessor.hubcheck]` moved where the badges read the report,
/// while `test` kept writing `target/hubcheck/report.json`.
#[test]
fn test_writes_the_report_where_book_toml_says_and_the_badges_read_it_there() {
    let book = BookFixture::copy("report-path-book");
    let output = hubcheck_test(book.root(), &[]);
    let all = text(&output);
    assert!(output.status.success(), "{all}");
    let report = book.root().join("reports/snippets.json");
    let written = fs::read_to_string(&report).unwrap_or_else(|e| panic!("{e}:\n{all}"));
    assert!(written.contains("\"status\": \"passed\""), "{written}");
    assert!(book.root().join("reports/junit.xml").is_file(), "{all}");
    assert!(
        all.contains(&format!("report: {}", report.display())),
        "{all}"
    );
    assert!(!book.root().join("target/hubcheck/report.json").exists());

    let out =
        mdbook_hubcheck::commands::build::build(&mdbook_hubcheck::commands::build::BuildOptions {
            book: book.root().to_path_buf(),
            dest: Some(book.root().join("html")),
            hub_endpoint: None,
        })
        .unwrap();
    let page = fs::read_to_string(out.join("one.html")).unwrap();
    assert!(page.contains("hubcheck-badge-verified"), "{page}");
}

/// The scenarios of `book`, as `file:line id scenario` → status, from its report.
fn statuses(book: &std::path::Path) -> std::collections::BTreeMap<String, String> {
    statuses_in(book, "report.json")
}

/// [`statuses`] from the report `name` in `target/hubcheck/` (`rerun-report.json`).
fn statuses_in(book: &std::path::Path, name: &str) -> std::collections::BTreeMap<String, String> {
    let report: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(book.join("target/hubcheck").join(name)).unwrap())
            .unwrap();
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                format!("{}:{} {} {}", r["file"], r["line"], r["id"], r["scenario"]),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Runs `mdbook-hubcheck test` on `book` with extra arguments and environment.
fn hubcheck_test_with(
    book: &std::path::Path,
    args: &[&str],
    envs: &[(&str, &str)],
) -> std::process::Output {
    let mut command = std::process::Command::new(binary());
    command
        .args(["test", "--book", book.to_str().unwrap()])
        .args(args);
    for (k, v) in envs {
        command.env(k, v);
    }
    command.output().unwrap()
}

/// Regression test: scenarios shared one Hub, so a repository one scenario created was there for
/// the next, and results depended on the order and on how many jobs ran.
#[test]
fn scenarios_that_collided_pass_in_every_order_and_at_any_job_count() {
    let book = BookFixture::copy("hermetic-book");
    for (order, jobs) in [
        ("book", "1"),
        ("reverse", "1"),
        ("book", "4"),
        ("reverse", "4"),
        ("shuffle=7", "4"),
    ] {
        let output = hubcheck_test_with(book.root(), &["--order", order, "--jobs", jobs], &[]);
        let all = text(&output);
        assert!(
            output.status.success(),
            "--order {order} --jobs {jobs}:\n{all}"
        );
        assert!(all.contains("4 passed, 0 failed"), "{all}");
        assert!(all.contains(&format!("order {order}")), "{all}");
    }
}

#[test]
fn a_token_the_library_never_sends_fails_the_scenario() {
    let book = BookFixture::copy("token-use-book");
    let output = hubcheck_test(book.root(), &[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(all.contains("1 passed, 2 failed"), "{all}");
    assert!(
        all.contains("ok     src/token-use.md:14 python token-passed"),
        "{all}"
    );
    for id in ["token-ignored", "variable-misspelled"] {
        let failure = failure_of(&all, id);
        assert!(
            failure.contains("the snippet was handed the `read` token, but the Hub never saw it"),
            "{failure}"
        );
        assert!(
            failure.contains("request(s) with anonymous (no token)"),
            "{failure}"
        );
        assert!(
            failure.contains("a misspelled variable or secret name"),
            "{failure}"
        );
    }
    assert!(failure_of(&all, "token-ignored").contains("pass the token as `token=`"));
}

#[test]
fn snippets_that_try_to_leave_fail_naming_the_host_under_both_isolations() {
    for (isolation, envs) in [
        ("namespace", vec![]),
        ("proxy", vec![("HUBCHECK_ISOLATION", "proxy")]),
    ] {
        let book = BookFixture::copy("network-book");
        let output = hubcheck_test_with(book.root(), &["--jobs", "2"], &envs);
        let all = text(&output);
        assert_eq!(output.status.code(), Some(1), "{isolation}:\n{all}");
        assert!(all.contains("1 passed, 3 failed"), "{isolation}:\n{all}");
        let first_line = all.lines().nth(1).unwrap_or_default();
        assert!(
            first_line.starts_with(&format!(
                "isolation: {}",
                if isolation == "proxy" {
                    "proxy variables"
                } else {
                    "a network namespace"
                }
            )),
            "{all}"
        );
        for (id, host, how) in [
            ("connects-out", "192.0.2.10:80", "(connection)"),
            ("resolves-out", "example.org:443", "(name lookup)"),
            ("proxy-client", "example.com", "(proxy request)"),
        ] {
            let failure = failure_of(&all, id);
            assert!(
                failure.contains(&format!("the snippet tried to reach {host} {how}")),
                "{isolation}: {failure}"
            );
        }
        // Refused before anything was sent: the errors of a machine without network, or the
        // proxy's refusal.
        assert!(
            failure_of(&all, "connects-out")
                .contains("refused: [Errno 101] Network is unreachable")
        );
        assert!(failure_of(&all, "resolves-out").contains("Name or service not known"));
        assert!(failure_of(&all, "proxy-client").contains("refused: HTTP Error 403"));
        let report = fs::read_to_string(book.root().join("target/hubcheck/report.json")).unwrap();
        assert!(
            report.contains(&format!("\"isolation\": \"{isolation}\"")),
            "{report}"
        );
    }
}

/// The handbook run in reverse order with every scenario twice in the same world and home
/// (`--rerun`, as a student re-runs a command or a cell), then shuffled with every process new
/// (`--cold`), gives every scenario the same result: no scenario depends on what ran before it,
/// a second run keeps every page's promise, and warm interpreters change no result. With
/// `tests/snippets.rs`, which runs it in book order, every scenario runs in three orders in each
/// `cargo test`, so one that is flaky fails one of them. One pass does both the reverse order and
/// the second run: each scenario's first run is in reverse order, in a world of its own.
#[test]
fn the_handbook_gives_the_same_results_in_two_orders_and_on_a_second_run() {
    // The handbook with its world, lock and the files its world serves.
    let dir = handbook_copy();

    let reversed = hubcheck_test_with(
        dir.path(),
        &["--order", "reverse", "--rerun", "--jobs", "2"],
        &[],
    );
    let all = text(&reversed);
    assert!(reversed.status.success(), "{all}");
    assert!(all.contains("order reverse"), "{all}");
    assert!(
        all.contains("each twice in the same world and home"),
        "{all}"
    );
    let reversed = statuses_in(dir.path(), "rerun-report.json");

    let shuffled = hubcheck_test_with(
        dir.path(),
        &["--order", "shuffle=2026", "--jobs", "2", "--cold"],
        &[],
    );
    let all = text(&shuffled);
    assert!(shuffled.status.success(), "{all}");
    assert!(all.contains("a new interpreter per run"), "{all}");
    assert_eq!(reversed, statuses(dir.path()));
    assert!(reversed.len() > 40, "{reversed:?}");
}

/// A Python run forked from a warm interpreter sees what a new interpreter would: the same tests
/// pass both ways, and the first lines say which way ran.
#[test]
fn warm_and_new_interpreters_give_a_run_the_same_world() {
    let book = BookFixture::copy("warm-book");
    for (args, python) in [
        (
            vec!["--jobs", "2"],
            "python: forked from a warm interpreter",
        ),
        (
            vec!["--jobs", "2", "--cold"],
            "python: a new interpreter per run",
        ),
    ] {
        let output = hubcheck_test_with(book.root(), &args, &[]);
        let all = text(&output);
        assert!(output.status.success(), "{args:?}:\n{all}");
        assert!(all.contains("4 passed, 0 failed"), "{all}");
        assert!(all.contains(python), "{all}");
    }
}

/// The warm interpreter forks a run (a Python snippet, or a shell snippet's `python`) only when
/// the run's environment agrees with what its imports read; a forked command that outlives its
/// snippet's timeout dies with the shell's process group. `--cold` forks nothing.
#[test]
fn the_warm_interpreter_forks_only_runs_whose_environment_agrees() {
    let book = BookFixture::copy("warm-paths-book");
    let warm = hubcheck_test_with(book.root(), &["--jobs", "2"], &[]);
    let all = text(&warm);
    assert!(all.contains("4 passed, 1 failed"), "{all}");
    let timeout = failure_of(&all, "shell-timeout");
    assert!(
        timeout.contains("did not finish before its timeout"),
        "{timeout}"
    );
    let pid: u32 = timeout
        .lines()
        .find_map(|line| line.strip_prefix("pid: "))
        .and_then(|pid| pid.trim().parse().ok())
        .unwrap_or_else(|| panic!("no pid printed:\n{timeout}"));
    if let Some(stat) = still_running(pid) {
        panic!("the forked command {pid} outlived its timeout: {stat}");
    }

    let cold = hubcheck_test_with(book.root(), &["--jobs", "2", "--cold"], &[]);
    let all = text(&cold);
    assert!(all.contains("2 passed, 3 failed"), "{all}");
    for forked_only in ["python-script default", "shell-python default"] {
        assert!(
            failure_of(&all, forked_only).contains("forked: False"),
            "{all}"
        );
    }
}

/// The warm interpreter's decisions, tested on its own functions: an import that reads a variable
/// sends a run whose environment gives it another value to a new process; the proxy variables a
/// run's `sitecustomize` removes do not count, unless a walk reads them; an import that lists or
/// opens a file under the scenario path makes the interpreter refuse every run.
#[test]
fn the_warm_interpreter_refuses_runs_its_imports_would_mislead() {
    let env = mdbook_hubcheck::harness::pyenv::ensure_default().unwrap();
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("zygote.py"),
        include_str!("../../src/harness/python/warm/zygote.py"),
    )
    .unwrap();
    fs::write(
        dir.path().join("_hubcheck_network.py"),
        include_str!("../../src/harness/python/site/_hubcheck_network.py"),
    )
    .unwrap();
    fs::write(
        dir.path().join("reads_a_setting.py"),
        "import os\nSETTING = os.environ.get('HUBCHECK_TEST_SETTING')\n",
    )
    .unwrap();
    let script = r#"
import os
import zygote

print("fresh:", zygote.agrees({"PATH": "/usr/bin"}))
zygote.preload_one("reads_a_setting", zygote._READS)
print("same value:", zygote.agrees({"PATH": "/usr/bin"}))
print("other value:", zygote.agrees({"HUBCHECK_TEST_SETTING": "1"}))
zygote._READS.walk_rules.add(("suffix", "_proxy"))
print("proxy removed by sitecustomize:", zygote.agrees({"HTTP_PROXY": "x", "HUBCHECK_PROXY_VARS": "HTTP_PROXY"}))
print("proxy kept:", zygote.agrees({"http_proxy": "x"}))
os.makedirs(zygote.SCENARIO_ROOT, exist_ok=True)
zygote._PRELOADING[0] = "a_module"
os.listdir(zygote.SCENARIO_ROOT)
zygote._PRELOADING[0] = None
print("unusable:", zygote._READS.unusable)
print("after the read:", zygote.agrees({"PATH": "/usr/bin"}))
"#;
    let output = std::process::Command::new(env.python())
        .arg("-c")
        .arg(script)
        .env_clear()
        .env("PYTHONPATH", dir.path())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let all = text(&output);
    assert!(output.status.success(), "{all}");
    for line in [
        "fresh: True",
        "same value: True",
        "other value: False",
        "proxy removed by sitecustomize: True",
        "proxy kept: False",
        "unusable: importing a_module read /tmp/hubcheck-scenario",
        "after the read: False",
    ] {
        assert!(all.contains(line), "{line:?} missing:\n{all}");
    }
}
