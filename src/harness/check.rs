//! Compares what a run did with what the book promises, and explains a mismatch so that a writer
//! knows what to fix.

use super::isolation::addresses::{Addresses, HUB_HOSTS};
use super::isolation::network::Attempt;
use super::plan::Values;
use super::process::Outcome;
use super::tail::last_lines;
use crate::hub::{LoggedRequest, RequestAuth};
use crate::secrets::mask_tokens;
use crate::snippets::annotation::{Scenario, TokenChoice};

/// Lines of each stream shown in a failure message.
const TAIL_LINES: usize = 30;
/// Characters of one line shown in a failure message.
const LINE_CHARS: usize = 400;

/// Every way `outcome` falls short of `scenario` (and of the output block the book shows, when
/// given); empty when the run kept every promise.
pub fn check(
    outcome: &Outcome,
    scenario: &Scenario,
    values: &Values,
    output_block: Option<&str>,
) -> Vec<String> {
    let mut failures = Vec::new();
    let both = format!("{}{}", outcome.stdout, outcome.stderr);
    if outcome.timed_out {
        failures.push(
            "the run did not finish before its timeout; it and all its child processes were killed"
                .to_string(),
        );
    }
    if let Some(why) = &outcome.waited_for {
        failures.push(why.clone());
    }
    if let Some(prompt) = &outcome.unanswered {
        failures.push(format!(
            "the prompt {prompt:?} never appeared, so nothing was typed at it"
        ));
    }
    let expected_exit = scenario.exit.unwrap_or(0);
    let ended_early = outcome.timed_out || outcome.waited_for.is_some();
    if !ended_early && outcome.status != Some(expected_exit) {
        failures.push(format!(
            "expected exit status {expected_exit}, got {}",
            outcome
                .status
                .map_or("none (killed by a signal)".to_string(), |s| s.to_string())
        ));
    }
    let mut contains = |stream: &str, text: &str, which: &str| {
        let wanted = values.expand(text);
        if !stream.contains(&wanted) {
            failures.push(format!("expected {which} to contain {wanted:?}"));
        }
    };
    for text in &scenario.stdout {
        contains(&outcome.stdout, text, "standard output");
    }
    for text in &scenario.stderr {
        contains(&outcome.stderr, text, "standard error");
    }
    for text in &scenario.output {
        contains(&both, text, "the output");
    }
    for text in &scenario.not_output {
        let unwanted = values.expand(text);
        if both.contains(&unwanted) {
            failures.push(format!("expected the output not to contain {unwanted:?}"));
        }
    }
    if let Some(expected) = &scenario.exception {
        match final_exception(&outcome.stderr) {
            Some(found) if exception_matches(&found, expected) => {}
            Some(found) => failures.push(format!(
                "expected the run to end with the exception {expected}, but it ended with {found}"
            )),
            None => failures.push(format!(
                "expected the run to end with the exception {expected}, but it raised none"
            )),
        }
    }
    if let Some(block) = output_block
        && let Some(missing) =
            first_missing_line(&[&outcome.stdout, &outcome.stderr], &values.expand(block))
    {
        failures.push(format!(
            "the output block after the snippet shows {missing:?}, but the run did not print it \
             (lines of an output block must appear in order)"
        ));
    }
    failures
}

/// Whether the Hub saw the token the case handed over, as the scenario expects.
///
/// `handed` is the token the harness put where the snippet reads it (`None`: none); `requests`
/// are what the case's Hub logged while the snippet under test ran. A handed token must reach the
/// Hub in at least one request, unless the scenario says `token-sent = false`, in which case it
/// must not; `token = "none"` means no token may reach it at all.
pub fn check_token_use(
    scenario: &Scenario,
    handed: Option<TokenChoice>,
    requests: &[LoggedRequest],
) -> Option<String> {
    let seen = |choice: &TokenChoice| requests.iter().any(|r| carries(&r.auth, choice));
    if scenario.token == Some(TokenChoice::None) {
        let tokens = requests
            .iter()
            .filter(|r| r.auth != RequestAuth::Anonymous)
            .count();
        return (tokens > 0).then(|| {
            format!(
                "the scenario gives the snippet no token (token = \"none\"), but the Hub saw a token in \
                 {tokens} request(s): {}; the run must not find a token anywhere (a token file, HF_TOKEN)",
                summarize_requests(requests)
            )
        });
    }
    let choice = handed?;
    let sent = seen(&choice);
    let wanted = describe_choice(&choice);
    match (scenario.token_sent.unwrap_or(true), sent) {
        (true, false) => Some(format!(
            "the snippet was handed the {wanted}, but the Hub never saw it: {}. \
             The text would teach a line that sends no token. Likely causes: an argument the \
             library ignores (e.g. `use_auth_token=` instead of `token=`), a misspelled variable \
             or secret name (e.g. `HF_TOKN` for `HF_TOKEN`), or code that reads the token but never \
             passes it on. If the snippet really must not send it, say `token-sent = false`.",
            summarize_requests(requests)
        )),
        (false, true) => Some(format!(
            "the scenario says the snippet must not send its token (token-sent = false), but the Hub \
             saw the {wanted}: {}",
            summarize_requests(requests)
        )),
        _ => None,
    }
}

/// Under the real addresses, every request the Hub logged must have come over HTTPS to one of
/// the Hub's real names (a snippet that reached the mock another way, e.g. through an
/// `HF_ENDPOINT` of its own at the harness's plain listener, would pass on a machine where a
/// student's would not). `None` when they all did, or on the endpoint path.
pub fn check_addresses(addresses: Addresses, requests: &[LoggedRequest]) -> Option<String> {
    if addresses != Addresses::Real {
        return None;
    }
    let wrong: Vec<String> = requests
        .iter()
        .filter(|r| !arrived_at_a_hub_name(r))
        .map(|r| {
            format!(
                "{} {}://{}{}",
                r.method,
                r.scheme,
                r.host.as_deref().unwrap_or("(no Host)"),
                r.path
            )
        })
        .collect();
    (!wrong.is_empty()).then(|| {
        format!(
            "the Hub must be reached over HTTPS at its real names ({}), as on a student's machine, \
             but {} request(s) were not: {}",
            HUB_HOSTS.join(", "),
            wrong.len(),
            wrong.join("; ")
        )
    })
}

/// Whether `request` came over HTTPS with a `Host` that is one of [`HUB_HOSTS`] (with or
/// without the default port).
pub fn arrived_at_a_hub_name(request: &LoggedRequest) -> bool {
    let host = request.host.as_deref().unwrap_or_default();
    let name = host.strip_suffix(":443").unwrap_or(host);
    request.scheme == "https" && HUB_HOSTS.contains(&name)
}

/// Whether a logged request carried the token of `choice`.
fn carries(auth: &RequestAuth, choice: &TokenChoice) -> bool {
    match (auth, choice) {
        (RequestAuth::Invalid, TokenChoice::Invalid) => true,
        (
            RequestAuth::Token {
                name: Some(seen), ..
            },
            TokenChoice::Named(wanted),
        ) => seen == wanted,
        _ => false,
    }
}

fn describe_choice(choice: &TokenChoice) -> String {
    match choice {
        TokenChoice::Named(name) => format!("`{name}` token"),
        _ => "unknown token (one the Hub does not know)".into(),
    }
}

/// What the Hub saw, in a few words: how many requests of each kind of authentication.
fn summarize_requests(requests: &[LoggedRequest]) -> String {
    if requests.is_empty() {
        return "no request at all".into();
    }
    let mut counts: Vec<(String, usize)> = Vec::new();
    for request in requests {
        let what = match &request.auth {
            RequestAuth::Anonymous => "anonymous (no token)".to_string(),
            RequestAuth::Invalid => "an unknown token".to_string(),
            RequestAuth::Token {
                name, display_name, ..
            } => {
                format!(
                    "the `{}` token ({display_name})",
                    name.as_deref().unwrap_or("?")
                )
            }
        };
        match counts.iter_mut().find(|(w, _)| *w == what) {
            Some((_, n)) => *n += 1,
            None => counts.push((what, 1)),
        }
    }
    let parts: Vec<String> = counts
        .into_iter()
        .map(|(what, n)| format!("{n} request(s) with {what}"))
        .collect();
    format!(
        "{} (first: {} {})",
        parts.join(", "),
        requests[0].method,
        requests[0].path
    )
}

/// Every attempt to reach a host that the scenario does not declare in `network-attempts`, and
/// every declared host that was never tried (the declaration is then out of date).
pub fn check_network(scenario: &Scenario, attempts: &[Attempt]) -> Vec<String> {
    let declared = |host: &str| {
        scenario
            .network_attempts
            .iter()
            .any(|d| d.eq_ignore_ascii_case(host))
    };
    let mut failures: Vec<String> = Vec::new();
    for attempt in attempts.iter().filter(|a| !declared(&a.host)) {
        let port = attempt.port.map(|p| format!(":{p}")).unwrap_or_default();
        let failure = format!(
            "the snippet tried to reach {}{port} ({}); a test run has no network but its mock Hub, \
             so the attempt was refused. A reader's machine would really contact that host: \
             remove the call, or declare it with `network-attempts = [\"{}\"]` and show what a \
             reader sees without that service",
            attempt.host, attempt.via, attempt.host
        );
        if !failures.contains(&failure) {
            failures.push(failure);
        }
    }
    for host in &scenario.network_attempts {
        if !attempts.iter().any(|a| a.host.eq_ignore_ascii_case(host)) {
            failures.push(format!(
                "the scenario declares `network-attempts = [\"{host}\"]`, but the snippet never tried \
                 to reach {host}; remove the declaration"
            ));
        }
    }
    failures
}

/// The first non-empty line of `block` that does not appear in order in the run's output.
///
/// Each line must stand in one of the streams after the line matched before it in that stream:
/// the two streams are captured apart, so their interleaving is unknown.
pub fn first_missing_line(streams: &[&str], block: &str) -> Option<String> {
    let mut cursors = vec![0; streams.len()];
    for line in block.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let found = streams.iter().enumerate().find_map(|(i, stream)| {
            stream[cursors[i]..]
                .find(line)
                .map(|at| (i, cursors[i] + at + line.len()))
        });
        match found {
            Some((i, end)) => cursors[i] = end,
            None => return Some(line.to_string()),
        }
    }
    None
}

/// The class name of the exception a Python traceback ends with, e.g. `huggingface_hub.errors.HfHubHTTPError`.
pub fn final_exception(stderr: &str) -> Option<String> {
    let after = &stderr[stderr.rfind("Traceback (most recent call last):")?..];
    after
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| {
            let name = l.split(':').next().unwrap_or("");
            !name.is_empty()
                && !l.starts_with("File ")
                && name
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
                && name.chars().next().is_some_and(|c| c.is_alphabetic())
        })
        .map(|l| l.split(':').next().unwrap_or("").to_string())
}

fn exception_matches(found: &str, expected: &str) -> bool {
    found == expected
        || found.rsplit('.').next() == Some(expected.rsplit('.').next().unwrap_or(expected))
}

/// Plain-language hints for the mistakes outdated tutorials make, found in a failed run's output
/// or in the snippet's code (an argument that is silently ignored leaves no trace in the output).
pub fn hints(outcome: &Outcome, code: &str) -> Vec<&'static str> {
    let both = format!("{}{}{code}", outcome.stdout, outcome.stderr);
    let table: [(&str, &str); 6] = [
        (
            "huggingface-cli",
            "`huggingface-cli` no longer exists in current huggingface_hub releases: the command line tool is `hf` (for example `hf auth login`, `hf auth whoami`, `hf download`)",
        ),
        (
            "No such command 'login'",
            "`hf login` does not exist: the login commands live under `hf auth` (`hf auth login`)",
        ),
        (
            "No such command 'whoami'",
            "`hf whoami` does not exist: use `hf auth whoami`",
        ),
        (
            "use_auth_token",
            "`use_auth_token=` was removed from transformers and huggingface_hub: pass the token as `token=`",
        ),
        (
            "KeyError:",
            "the code reads a key the result does not have: `whoami()` returns a dictionary with keys such as `name`, `fullname`, `orgs` and `auth` (the role is in `auth['accessToken']['role']`)",
        ),
        (
            "Illegal header value",
            "the token has a space or a newline at its end; a token passed as `token=` is sent exactly as written",
        ),
    ];
    table
        .iter()
        .filter(|(needle, _)| both.contains(needle))
        .map(|(_, hint)| *hint)
        .collect()
}

/// The last lines of a stream, for a failure message.
pub fn tail(text: &str) -> String {
    let tail = last_lines(text.lines(), TAIL_LINES);
    let mut out = String::new();
    if tail.skipped > 0 {
        out.push_str(&format!("[{} earlier lines]\n", tail.skipped));
    }
    for line in &tail.lines {
        match line.char_indices().nth(LINE_CHARS) {
            Some((cut, _)) => out.push_str(&format!(
                "{}[... {} more characters]\n",
                &line[..cut],
                line[cut..].chars().count()
            )),
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// A failure message: what was expected, what happened, hints, and the end of each stream, with
/// tokens masked.
pub fn explain(failures: &[String], outcome: &Outcome, code: &str) -> String {
    let mut out = String::new();
    for failure in failures {
        out.push_str(&format!("  - {failure}\n"));
    }
    for hint in hints(outcome, code) {
        out.push_str(&format!("  hint: {hint}\n"));
    }
    if outcome.truncated {
        out.push_str("  (output was cut at the harness's cap)\n");
    }
    out.push_str(&format!(
        "  --- stdout{} ---\n{}",
        if outcome.terminal {
            " (a terminal: stdout and stderr together)"
        } else {
            ""
        },
        tail(&outcome.stdout)
    ));
    if !outcome.terminal {
        out.push_str(&format!("  --- stderr ---\n{}", tail(&outcome.stderr)));
    }
    mask_tokens(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logged(scheme: &str, host: Option<&str>) -> LoggedRequest {
        LoggedRequest {
            method: "GET".into(),
            path: "/api/whoami-v2".into(),
            query: None,
            auth: RequestAuth::Anonymous,
            user_agent: None,
            status: 200,
            scheme: scheme.into(),
            host: host.map(str::to_string),
        }
    }

    #[test]
    fn under_the_real_addresses_only_https_to_a_hub_name_passes() {
        let good = [
            logged("https", Some("huggingface.co")),
            logged("https", Some("router.huggingface.co:443")),
        ];
        assert_eq!(check_addresses(Addresses::Real, &good), None);
        for bad in [
            logged("http", Some("127.0.0.1:18080")),
            logged("http", Some("huggingface.co")),
            logged("https", Some("hugginface.co")),
            logged("https", None),
        ] {
            let failure = check_addresses(Addresses::Real, std::slice::from_ref(&bad))
                .unwrap_or_else(|| panic!("{bad:?} passed"));
            assert!(failure.contains("/api/whoami-v2"), "{failure}");
        }
        // The endpoint path checks nothing of the kind.
        assert_eq!(
            check_addresses(Addresses::Endpoint, &[logged("http", Some("127.0.0.1:1"))]),
            None
        );
    }

    #[test]
    fn output_lines_must_appear_in_order() {
        let output = "a\nuser: x\norgs: y\n";
        assert_eq!(first_missing_line(&[output], "user: x\n\norgs: y\n"), None);
        assert_eq!(
            first_missing_line(&[output], "orgs: y\nuser: x\n"),
            Some("user: x".into())
        );
        // Lines may come from either stream, each in its own order.
        let (out, err) = ("b\nd\n", "a\nc\n");
        assert_eq!(first_missing_line(&[out, err], "a\nb\nc\nd\n"), None);
        assert_eq!(first_missing_line(&[out, err], "d\nb\n"), Some("b".into()));
    }

    #[test]
    fn finds_the_exception_a_traceback_ends_with() {
        let stderr = "Traceback (most recent call last):\n  File \"x.py\", line 3, in <module>\n    api.whoami()\nhuggingface_hub.errors.HfHubHTTPError: Invalid user token.\n";
        assert_eq!(
            final_exception(stderr).as_deref(),
            Some("huggingface_hub.errors.HfHubHTTPError")
        );
        assert!(exception_matches(
            "huggingface_hub.errors.HfHubHTTPError",
            "HfHubHTTPError"
        ));
        assert_eq!(final_exception("all fine\n"), None);
    }

    #[test]
    fn tokens_are_masked_in_messages() {
        let token = format!("hf_{}", "k7".repeat(17));
        let masked = mask_tokens(&format!("Bearer {token}\n"));
        assert_eq!(masked, "Bearer hf_k7k…\n");
    }

    #[test]
    fn outdated_cli_gets_a_hint() {
        let outcome = Outcome {
            stderr: "snippet_0.sh: line 1: huggingface-cli: command not found\n".into(),
            status: Some(127),
            ..Outcome::default()
        };
        assert!(hints(&outcome, "")[0].contains("the command line tool is `hf`"));
        let quiet = Outcome::default();
        assert!(hints(&quiet, "f(use_auth_token=t)")[0].contains("pass the token as `token=`"));
        assert!(hints(&quiet, "print(1)").is_empty());
    }
}
