//! One pass of a case: its processes run one after another on a stage, and the snippet under
//! test checked against every promise the page makes (exit status and texts, a session's
//! prompts, a browser login, the tokens it was handed and sent, the addresses and the network it
//! used).
//!
//! It owns the checking of one run, not the choice of runs: [`super::runner`] decides how often a
//! case runs and on which stage; [`super::plan`] makes the processes; [`super::check`] holds the
//! checks themselves.

use std::sync::{Arc, Mutex};

use super::case::{Capture, Case};
use super::check::{check, check_addresses, check_network, check_token_use, explain};
use super::isolation::network::Attempt;
use super::isolation::sandbox::Sandbox;
use super::plan::{Pass, Setup, Values, prepare, substitute};
use super::process;
use super::runner::Harness;
use super::stage::Stage;
use super::transcript::Comparison;
use super::{CaseError, Error};
use crate::hub::LoggedRequest;
use crate::snippets::Snippet;
use crate::snippets::annotation::{Run, Scenario, TokenChoice};

impl Harness {
    /// One run of scenario `j` of the case on `stage`: the processes `pass` names, the last one
    /// checked as `run` (a cell run twice in one process is checked as both of its runs).
    pub(super) fn run_pass(
        &self,
        case: &Case,
        j: usize,
        stage: &Stage,
        (pass, run): (Pass, Run),
        capture: &mut Option<Capture>,
    ) -> Result<(), Error> {
        let snippet = &self.snippets[case.snippet];
        let scenario = &snippet.scenarios[j];
        let fail = |kind: CaseError| self.case_error(case, run, kind);
        let setup = Setup {
            venv_bin: &self.venv_bin,
            hub: Arc::clone(&stage.hub),
            placeholders: &self.placeholders,
            network: &stage.network,
        };
        let steps = prepare(
            &setup,
            &stage.sandbox,
            &self.snippets,
            case.snippet,
            scenario,
            pass,
        )
        .map_err(fail)?;
        let values = Values::new(&setup, scenario);
        let comparison = self.comparison(stage);
        let attempts_before = stage.network.attempts().len();
        let mut token_failures = Vec::new();
        for step in steps {
            let (outcome, requests) = self.run_logged(step.invocation, stage).map_err(fail)?;
            if let Some(failure) = self.hub_failures(&step.scenario, step.handed.clone(), &requests)
            {
                token_failures.push(if step.is_target {
                    failure
                } else {
                    format!(
                        "in {}, which this snippet continues: {failure}",
                        step.location
                    )
                });
            }
            if !step.is_target {
                continued_succeeded(&step.location, &outcome, &snippet.code).map_err(fail)?;
                continue;
            }
            let attempts = stage.network.attempts();
            let attempts = attempts.get(attempts_before..).unwrap_or_default();
            for (run, outcome) in runs_of(pass, run, outcome, &mut token_failures) {
                let target = Target {
                    snippet,
                    scenario,
                    j,
                    run,
                    session: step.transcript.as_ref(),
                    device_code: &step.device_code,
                    fence_line: step.fence_line,
                    setup: &setup,
                    values: &values,
                    comparison: &comparison,
                };
                if let Some(Broken {
                    outcome,
                    failures,
                    texts_checked,
                }) = target.broken_promises(outcome, &mut token_failures, attempts)
                {
                    if run == Run::Once {
                        *capture = Some(target.capture(&outcome, failures.len() > texts_checked));
                    }
                    return Err(self.case_error(
                        case,
                        run,
                        CaseError::Unmet(explain(&failures, &outcome, &snippet.code)),
                    ));
                }
            }
        }
        Ok(())
    }

    /// What a session's output is compared with: the book's `transcript-may-differ` and the
    /// stage's home folders, which a page shows as `~`.
    fn comparison(&self, stage: &Stage) -> Comparison {
        Comparison {
            may_differ: self.may_differ.clone(),
            homes: [Some(stage.sandbox.root()), stage.network.sandbox_inside()]
                .into_iter()
                .flatten()
                .map(|root| Sandbox::home_at(root).display().to_string())
                .collect(),
        }
    }

    /// Runs one process of the pass; returns what it did and the requests the Hub served
    /// meanwhile.
    fn run_logged(
        &self,
        invocation: process::Invocation,
        stage: &Stage,
    ) -> Result<(process::Outcome, Vec<LoggedRequest>), CaseError> {
        let logged_before = stage.hub.requests()?.len();
        let outcome = process::run_with(invocation, self.warm.as_ref())?;
        let mut requests = stage.hub.requests()?;
        requests.drain(..logged_before.min(requests.len()));
        Ok((outcome, requests))
    }

    /// What the Hub saw a process do wrong with the token it was handed, or with the addresses
    /// it used, as one message.
    fn hub_failures(
        &self,
        scenario: &Scenario,
        handed: Option<TokenChoice>,
        requests: &[LoggedRequest],
    ) -> Option<String> {
        let address_failure = check_addresses(self.hubs.addresses(self.isolation), requests);
        check_token_use(scenario, handed, requests)
            .into_iter()
            .chain(address_failure)
            .reduce(|a, b| format!("{a}\n{b}"))
    }
}

/// A snippet the one under test continues must succeed before it runs.
fn continued_succeeded(
    location: &str,
    outcome: &process::Outcome,
    code: &str,
) -> Result<(), CaseError> {
    if outcome.status == Some(0) && !outcome.timed_out {
        return Ok(());
    }
    Err(CaseError::ContinuedFailed {
        location: location.to_string(),
        details: explain(
            &std::iter::once("it must succeed before this one runs".to_string())
                .chain(outcome.waited_for.clone())
                .collect::<Vec<_>>(),
            outcome,
            code,
        ),
    })
}

/// The runs one process of the snippet under test stands for: itself, or the two runs of a cell
/// executed twice in one process (a failure in `token_failures` when the second never came).
fn runs_of(
    pass: Pass,
    run: Run,
    outcome: process::Outcome,
    token_failures: &mut Vec<String>,
) -> Vec<(Run, process::Outcome)> {
    match pass {
        Pass::TwiceInOneProcess => match super::rerun::split(&outcome) {
            Some((first, second)) => vec![(Run::First, first), (Run::Second, second)],
            None => {
                token_failures.push(
                    "the first run of the cell never ended, so it never ran a second time".into(),
                );
                vec![(Run::First, outcome)]
            }
        },
        Pass::Once | Pass::Again => vec![(run, outcome)],
    }
}

/// A run checked against its texts.
struct Checked {
    /// The run, without a session's markers.
    outcome: process::Outcome,
    /// What each prompt of a session printed.
    printed: Option<Vec<super::transcript::Printed>>,
    /// The promises it broke.
    failures: Vec<String>,
}

/// A run that broke promises.
struct Broken {
    /// The run, without a session's markers.
    outcome: process::Outcome,
    /// The promises it broke.
    failures: Vec<String>,
    /// How many of the first `failures` are about its exit status and texts.
    texts_checked: usize,
}

/// The snippet under test in one of its runs, with what its promises are checked against.
struct Target<'a> {
    snippet: &'a Snippet,
    scenario: &'a Scenario,
    /// The scenario's index: the page's output block and session are the first scenario's.
    j: usize,
    run: Run,
    /// The session it runs prompt by prompt, when it is one.
    session: Option<&'a crate::snippets::transcript::Transcript>,
    /// The browser login code the run showed, if any.
    device_code: &'a Mutex<Option<String>>,
    /// The page line of its opening fence.
    fence_line: usize,
    setup: &'a Setup<'a>,
    values: &'a Values,
    comparison: &'a Comparison,
}

impl Target<'_> {
    /// Every promise `outcome` breaks: its texts, its session and login, the token failures of
    /// the pass so far (taken), the network it used; `None` when it keeps them all.
    fn broken_promises(
        &self,
        outcome: process::Outcome,
        token_failures: &mut Vec<String>,
        attempts: &[Attempt],
    ) -> Option<Broken> {
        let Checked {
            outcome,
            printed,
            mut failures,
        } = self.check(outcome);
        let texts_checked = failures.len();
        failures.extend(self.check_session_and_login(printed.as_deref()));
        failures.append(token_failures);
        failures.extend(check_network(self.scenario, attempts));
        (!failures.is_empty()).then_some(Broken {
            outcome,
            failures,
            texts_checked,
        })
    }

    /// The promises about exit status, exception and texts (the scenario's and the output
    /// block's) that `outcome` breaks; the outcome comes back without a session's markers, and
    /// what each of the session's prompts printed beside it.
    fn check(&self, mut outcome: process::Outcome) -> Checked {
        let printed = self.session.map(|_| {
            let (clean, printed) = super::transcript::split(&outcome.stdout);
            outcome.stdout = clean;
            printed
        });
        let output_block = self
            .snippet
            .output
            .as_ref()
            .filter(|_| self.j == 0 && self.shows_page_output())
            .map(|o| substitute(&o.text, self.setup, self.values, false));
        let promises = self.scenario.promises_of(self.run);
        let failures = check(&outcome, &promises, self.values, output_block.as_deref());
        Checked {
            outcome,
            printed,
            failures,
        }
    }

    /// Whether the page's output block and session show what this run prints: a second run
    /// whose scenario says what it prints instead (`rerun-output`) is held to that.
    fn shows_page_output(&self) -> bool {
        self.run != Run::Second || self.scenario.rerun_output.is_empty()
    }

    /// The other promises: a session's prompts and outputs as the page shows them, and a
    /// browser login code shown when the scenario plays one.
    fn check_session_and_login(
        &self,
        printed: Option<&[super::transcript::Printed]>,
    ) -> Vec<String> {
        let mut failures = Vec::new();
        if let (Some(page), Some(session), Some(printed)) =
            (&self.snippet.transcript, self.session, printed)
            && self.j == 0
            && self.shows_page_output()
        {
            let file = self.snippet.file.display().to_string();
            failures.extend(super::transcript::compare(
                page,
                session,
                printed,
                self.comparison,
                (&file, self.fence_line),
            ));
        }
        let no_code = self.device_code.lock().map(|c| c.is_none()).unwrap_or(true);
        if self.scenario.browser_login.is_some() && no_code {
            failures.push("the run never showed a browser login code to enter".into());
        }
        failures
    }

    /// What `--bless` needs of a run that broke a promise; `other_failures` when something other
    /// than its texts broke one.
    fn capture(&self, outcome: &process::Outcome, other_failures: bool) -> Capture {
        Capture {
            outcome: outcome.clone(),
            values: self.values.clone(),
            placeholders: self
                .setup
                .placeholders
                .iter()
                .map(|(key, template)| (key.clone(), self.values.expand(template)))
                .collect(),
            other_failures: other_failures
                || !check(outcome, &self.scenario.without_texts(), self.values, None).is_empty(),
        }
    }
}
