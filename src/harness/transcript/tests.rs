use super::*;
use crate::snippets::transcript::parse;

fn plain() -> Comparison {
    Comparison {
        may_differ: Vec::new(),
        homes: vec!["/tmp/hubcheck-scenario/home".into()],
    }
}

#[test]
fn whole_output_must_match_with_whitespace_taken_as_equal() {
    let c = plain();
    assert!(c.matches(
        "{'name': 'ada',\n 'type': 'user'}",
        "{'name': 'ada', 'type': 'user'}\n"
    ));
    assert!(!c.matches("'ada'", "'ada'\n'more'\n"));
    assert!(!c.matches("'ada'", "'bob'\n"));
    assert!(!c.matches("", "printed\n"));
    assert!(c.matches("", "\n"));
}

#[test]
fn ellipses_elide_text_and_lines_even_none() {
    let c = plain();
    assert!(c.matches("{'type': 'user', ...}", "{'type': 'user', 'id': '1'}"));
    assert!(c.matches("first\n...\nlast", "first\nsome\nlines\nlast\n"));
    assert!(c.matches("first\n...\nlast", "first\nlast\n"));
    assert!(c.matches("size: [..] bytes", "size: 512 bytes"));
    assert!(!c.matches("first\n...\nlast", "first\nlater\n"));
    // Regex characters on the page are text.
    assert!(c.matches("a (b) [c]*", "a (b) [c]*"));
}

#[test]
fn markers_stand_for_home_hashes_sizes_and_timings() {
    let c = plain();
    let hash = "0123456789abcdef0123456789abcdef01234567";
    let path =
        format!("/tmp/hubcheck-scenario/home/.cache/huggingface/hub/snapshots/{hash}/config.json");
    assert!(c.matches(
        "'[HOME]/.cache/huggingface/hub/snapshots/[HASH]/config.json'",
        &format!("'{path}'")
    ));
    assert!(!c.matches("[HOME]/x", "/home/ada/x"));
    assert!(c.matches("Fetched [SIZE] in [TIME]", "Fetched 1.5 MB in 0.21s"));
    // Unmarked, the page's own values must be the run's.
    assert!(!c.matches(
        &format!("/home/user/.cache/{}", "f".repeat(40)),
        &format!("/tmp/hubcheck-scenario/home/.cache/{hash}")
    ));
}

#[test]
fn the_books_settings_let_unmarked_values_differ() {
    let c = Comparison {
        may_differ: vec![
            MayDiffer::HomePaths,
            MayDiffer::CommitHashes,
            MayDiffer::Sizes,
            MayDiffer::Timings,
        ],
        ..plain()
    };
    let hash = "0123456789abcdef0123456789abcdef01234567";
    let page = format!(
        "'/home/user/.cache/huggingface/hub/snapshots/{}/config.json'",
        "f".repeat(40)
    );
    assert!(c.matches(
        &page,
        &format!(
            "'/tmp/hubcheck-scenario/home/.cache/huggingface/hub/snapshots/{hash}/config.json'"
        )
    ));
    assert!(c.matches("12.0kB in 3.2s", "900 B in 0.01s"));
    // Only those kinds: other text still counts.
    assert!(!c.matches(
        &page,
        &format!("'/tmp/hubcheck-scenario/home/.cache/other/{hash}/config.json'")
    ));
}

#[test]
fn marks_split_the_output_by_prompt_and_are_taken_out() {
    let text = format!(
        "{MARK}0\u{1e}\n'ada'\n{MARK}1\u{1e}\npartial{MARK}2\u{1e}\n{EXCEPTION}\"KeyError: 'x'\"\n"
    );
    let (clean, printed) = split(&text);
    assert_eq!(clean, "'ada'\npartial");
    assert_eq!(printed.len(), 3);
    assert_eq!(printed[1].output, "partial");
    assert_eq!(printed[2].exception.as_deref(), Some("KeyError: 'x'"));
}

#[test]
fn a_mismatch_names_the_line_and_shows_expected_against_actual() {
    let session = parse(">>> whoami()[\"name\"]\n'someone-else'\n>>> 1/0\nTraceback (most recent call last):\n  ...\nZeroDivisionError: division by zero\n>>> x\n", "py").unwrap();
    let printed = [
        Printed {
            output: "'ada'\n".into(),
            exception: None,
        },
        Printed {
            output: String::new(),
            exception: Some("ZeroDivisionError: division by zero".into()),
        },
    ];
    let failures = compare(&session, &session, &printed, &plain(), ("src/quick.md", 10));
    assert_eq!(failures.len(), 2, "{failures:#?}");
    assert!(
        failures[0].contains("src/quick.md:11, `>>> whoami()[\"name\"]`"),
        "{}",
        failures[0]
    );
    assert!(
        failures[0].contains("expected:\n        | 'someone-else'\n      actual:\n        | 'ada'"),
        "{}",
        failures[0]
    );
    assert!(
        failures[1].contains("stopped before the prompt at src/quick.md:17 (`>>> x`)"),
        "{}",
        failures[1]
    );
}

#[test]
fn a_raised_exception_matches_the_pages_traceback_with_or_without_its_module() {
    let session = parse(
        ">>> whoami()\nTraceback (most recent call last):\n...\nHfHubHTTPError: 401 Client Error\n",
        "py",
    )
    .unwrap();
    let raised = Printed {
        output: String::new(),
        exception: Some("huggingface_hub.errors.HfHubHTTPError: 401 Client Error".into()),
    };
    assert!(compare(&session, &session, &[raised], &plain(), ("a.md", 1)).is_empty());
    let fine = Printed {
        output: "{}\n".into(),
        exception: None,
    };
    assert_eq!(
        compare(&session, &session, &[fine], &plain(), ("a.md", 1)).len(),
        1
    );
}

#[test]
fn a_shell_prompt_without_output_on_the_page_promises_nothing() {
    let session = parse("$ hf download x\n$ hf auth whoami\nuser: ada\n", "bash").unwrap();
    let printed = [
        Printed {
            output: "/some/path\n".into(),
            exception: None,
        },
        Printed {
            output: "user: ada\n".into(),
            exception: None,
        },
    ];
    assert!(compare(&session, &session, &printed, &plain(), ("a.md", 1)).is_empty());
    let script = shell_script(&session);
    assert!(
        script.starts_with("exec 2>&1\nprintf '\\036hubcheck-prompt 0\\036\\n'\nhf download x\n"),
        "{script}"
    );
}
