//! [`prepare`]: the processes of one run of a snippet, composed from its chain (the snippets it
//! continues, then itself), after the Hub and the home are put in the state its scenario starts
//! from.

use std::fs;
use std::sync::{Arc, Mutex};

use crate::harness::CaseError;
use crate::harness::isolation::sandbox::Sandbox;
use crate::snippets::Snippet;
use crate::snippets::annotation::{Scenario, Style, TokenChoice};

use super::command::{StepRun, browser_observer, unanswered_login_observer};
use super::setup::{Pass, Setup, Step, is_notebook, is_python};
use super::values::{Values, substitute, substitute_transcript};

/// The scenario of an earlier snippet that runs before `scenario`: the same name, else the first.
fn matching_scenario<'s>(snippet: &'s Snippet, scenario: &Scenario) -> Option<&'s Scenario> {
    snippet
        .scenarios
        .iter()
        .find(|s| s.name == scenario.name)
        .or_else(|| snippet.scenarios.first())
}

/// The chain of snippets to run, earliest first, ending with `index`.
fn chain(snippets: &[Snippet], index: usize) -> Vec<usize> {
    let mut out = vec![index];
    let mut current = index;
    while let Some(previous) = snippets[current].continues {
        if out.contains(&previous) {
            break;
        }
        out.push(previous);
        current = previous;
    }
    out.reverse();
    out
}

/// Prepares the processes of one run of `snippets[index]` under `scenario`, in `sandbox`, in
/// three named phases: `compose` decides which processes run what code (it changes nothing),
/// `prepare_state` puts the Hub and the home in the state the scenario starts from (not on a
/// [`Pass::Again`], which starts where the first run left them), and `make_step` writes each
/// process's files and makes its invocation.
pub fn prepare(
    setup: &Setup<'_>,
    sandbox: &Sandbox,
    snippets: &[Snippet],
    index: usize,
    scenario: &Scenario,
    pass: Pass,
) -> Result<Vec<Step>, CaseError> {
    let order = chain(snippets, index);
    let pieces = compose(setup, snippets, &order, index, scenario, pass)?;
    if pass != Pass::Again {
        // The state is that of the chain's first snippet, whether or not its code runs in a
        // process of its own.
        let first = order[0];
        prepare_state(
            setup,
            sandbox,
            scenario_of(&snippets[first], first == index, scenario),
        )?;
    }
    pieces
        .into_iter()
        .enumerate()
        .map(|(number, piece)| make_step(setup, sandbox, piece, pass, number))
        .collect()
}

/// One process of a run as `compose` decides it: the snippet it runs (with, for Python
/// continued by Python, the code of the snippets before it), under which scenario.
struct Piece<'s> {
    snippet: &'s Snippet,
    scenario: &'s Scenario,
    style: Style,
    is_target: bool,
    values: Values,
    /// What the process runs: the setup code and the code, after any continued Python.
    body: String,
    /// The snippet's own setup code and code, placeholders replaced (a re-run cell runs them
    /// again).
    own_code: String,
    /// The annotation's setup code, placeholders replaced.
    setup_code: String,
}

/// The processes of one run of `snippets[index]`: one per snippet of its chain `order`, except
/// that Python continued by Python runs in the process of the snippet that continues it. Reads
/// the snippets and the Hub's tokens; changes nothing.
fn compose<'s>(
    setup: &Setup<'_>,
    snippets: &'s [Snippet],
    order: &[usize],
    index: usize,
    scenario: &'s Scenario,
    pass: Pass,
) -> Result<Vec<Piece<'s>>, CaseError> {
    let mut pieces = Vec::new();
    let mut python_prefix = String::new();
    for (position, &i) in order.iter().enumerate() {
        let snippet = &snippets[i];
        let is_target = i == index;
        if pass == Pass::Again && !is_target && !continued_in_process(snippets, order, position) {
            continue;
        }
        let own = scenario_of(snippet, is_target, scenario);
        let style = snippet.style.ok_or_else(|| {
            CaseError::NotRunnable(
                snippet
                    .problem
                    .clone()
                    .unwrap_or_else(|| format!("{} cannot be run", snippet.location())),
            )
        })?;
        let values = Values::new(setup, own);
        let python = is_python(style);
        let code = substitute(&snippet.code, setup, &values, python);
        let setup_code = snippet
            .annotation
            .setup
            .as_deref()
            .map(|s| substitute(s, setup, &values, python))
            .unwrap_or_default();
        let next_is_python = order
            .get(position + 1)
            .and_then(|&n| snippets[n].style)
            .is_some_and(is_python);
        if python && !is_target && next_is_python {
            // Python continued by Python: the earlier code runs first in the same process.
            python_prefix.push_str(&setup_code);
            python_prefix.push_str(&code);
            python_prefix.push('\n');
            continue;
        }
        let own_code = format!("{setup_code}{code}");
        let body = if python {
            format!("{}{own_code}", std::mem::take(&mut python_prefix))
        } else {
            own_code.clone()
        };
        pieces.push(Piece {
            snippet,
            scenario: own,
            style,
            is_target,
            values,
            body,
            own_code,
            setup_code,
        });
    }
    Ok(pieces)
}

/// The scenario a snippet of the chain runs under: the one asked for on the snippet under test,
/// and on a snippet it continues the one of the same name there, if it has one.
fn scenario_of<'s>(snippet: &'s Snippet, is_target: bool, scenario: &'s Scenario) -> &'s Scenario {
    if is_target {
        scenario
    } else {
        matching_scenario(snippet, scenario).unwrap_or(scenario)
    }
}

/// The process of `piece`, the `number`th of its run: the files the page had the student save
/// are put in the working folder, the code is written where the program reads it, and the
/// process gets the observers that answer or refuse a browser login.
fn make_step(
    setup: &Setup<'_>,
    sandbox: &Sandbox,
    piece: Piece<'_>,
    pass: Pass,
    number: usize,
) -> Result<Step, CaseError> {
    let Piece {
        snippet,
        scenario: own,
        style,
        is_target,
        values,
        body,
        own_code,
        setup_code,
    } = piece;
    save_files(sandbox, snippet)?;
    let run = StepRun {
        setup,
        sandbox,
        scenario: own,
        values: &values,
        step: number,
        again: (is_target && pass == Pass::TwiceInOneProcess && is_notebook(style))
            .then_some(own_code),
    };
    let transcript = snippet
        .transcript
        .as_ref()
        .map(|t| substitute_transcript(t, setup, &values, style == Style::Pycon));
    let mut invocation = run.invocation(snippet, style, &body, transcript.as_ref(), &setup_code)?;
    let mut texts = vec![body];
    texts.extend(invocation.env.iter().map(|(_, v)| v.clone()));
    texts.extend(own.input.iter().map(|i| values.expand(&i.send)));
    texts.extend(own.secrets.values().map(|v| values.expand(v)));
    let handed = handed_token(setup, own, &texts, is_target);
    let device_code = Arc::new(Mutex::new(None));
    invocation.observer = Some(match own.browser_login {
        Some(answer) => browser_observer(setup, answer, device_code.clone()),
        None => unanswered_login_observer(setup),
    });
    Ok(Step {
        invocation,
        location: snippet.location(),
        is_target,
        device_code,
        handed,
        scenario: own.clone(),
        transcript,
        fence_line: snippet.line,
    })
}

/// Puts the files the page had the student save (the annotation's `files`) into the working
/// folder, as a download would, before the snippet's process starts.
fn save_files(sandbox: &Sandbox, snippet: &Snippet) -> Result<(), CaseError> {
    for file in &snippet.files {
        let name = file.file_name().unwrap_or_default();
        fs::copy(file, sandbox.work().join(name))?;
    }
    Ok(())
}

/// Whether the snippet at `position` of a chain runs inside the process of the next one (Python
/// continued by Python: its code is the start of that script), so running the last one again runs
/// it again too.
fn continued_in_process(snippets: &[Snippet], order: &[usize], position: usize) -> bool {
    order[position..]
        .iter()
        .all(|&i| snippets[i].style.is_some_and(is_python))
}

/// The token a process was handed: the scenario's `token` when its value stands in anything the
/// process gets, else (for the snippet under test) the token of a saved login.
fn handed_token(
    setup: &Setup<'_>,
    scenario: &Scenario,
    texts: &[String],
    is_target: bool,
) -> Option<TokenChoice> {
    let choice = scenario
        .token
        .clone()
        .unwrap_or_else(TokenChoice::default_read);
    let in_texts = setup
        .hub
        .token(&choice)
        .is_some_and(|token| texts.iter().any(|t| t.contains(&token)));
    if in_texts {
        Some(choice)
    } else if is_target
        && scenario
            .logged_in
            .as_ref()
            .is_some_and(|c| *c != TokenChoice::None)
    {
        scenario.logged_in.clone()
    } else {
        None
    }
}

/// What exists before the first process: a saved login, if the scenario has one, and the gated
/// repositories the account was already approved for.
fn prepare_state(
    setup: &Setup<'_>,
    sandbox: &Sandbox,
    scenario: &Scenario,
) -> Result<(), CaseError> {
    if let Some(choice) = &scenario.logged_in
        && let Some(token) = setup.hub.token(choice)
    {
        sandbox.save_login(&token, &format!("hubcheck-{}", choice.as_str()))?;
    }
    for fault in &scenario.hub_faults {
        setup.hub.add_fault(fault)?;
    }
    if let Some(remaining) = scenario.inference_credits {
        setup.hub.set_inference_credits(remaining)?;
    }
    for repo_id in &scenario.gated_access {
        setup.hub.grant_gated_access(repo_id)?;
    }
    if scenario.oauth_expiring {
        // Expired on the Hub and due for a refresh on the client: only a refresh makes it work.
        let (access, refresh) = setup.hub.oauth_grant(0)?;
        let name = format!("oauth-{}", setup.hub.user());
        sandbox.save_oauth_login(&access, &refresh, crate::hub::state::unix_now(), &name)?;
    }
    Ok(())
}
