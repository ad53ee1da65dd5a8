//! Turns a snippet and one of its scenarios into the processes to run, as a person would run them.
//!
//! - Python, Colab, AI Studio and Jupyter snippets run as a script with the pinned interpreter;
//!   Colab gets the simulated `google.colab` (see `python/colab/`), AI Studio gets its secrets as
//!   environment variables, Jupyter's `getpass` prompt is answered on a pseudo-terminal.
//! - `>>>` sessions run statement by statement (`python/pycon_runner.py`); shell sessions (`$ `
//!   prompts) command by command; [`super::transcript`] compares each prompt's output with the page.
//! - Shell snippets run with bash, stopping at the first failing command.
//!
//! A snippet that continues another runs after it in the same sandbox: Python after Python in the
//! same process (the earlier code first), anything else as an earlier process of its own.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use regex::Regex;

use super::CaseError;
use super::case_hub::CaseHub;
use super::isolation::network::CaseNetwork;
use super::isolation::sandbox::Sandbox;
use super::process::{Answer, Invocation, Observer};
use crate::snippets::Snippet;
use crate::snippets::annotation::{BrowserLogin, Scenario, Style, TokenChoice};
use crate::snippets::transcript::Transcript;

/// The default timeout of a run, when the annotation sets none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// Bytes kept of each output stream of a run.
pub const OUTPUT_CAP: usize = 1 << 20;

/// Everything that is the same for all processes of one case.
pub struct Setup<'a> {
    /// The pinned environment's `bin` folder (python, hf).
    pub venv_bin: &'a Path,
    /// The case's own Hub.
    pub hub: Arc<dyn CaseHub>,
    /// `[preprocessor.hubcheck.placeholders]`: placeholder → template.
    pub placeholders: &'a BTreeMap<String, String>,
    /// The case's network: where its processes run and what they tried to reach.
    pub network: &'a CaseNetwork,
}

/// One process of a run, with what it stands for.
pub struct Step {
    /// The process.
    pub invocation: Invocation,
    /// `file:line` of the snippet it runs.
    pub location: String,
    /// Whether this is the snippet under test (the last step), not one it continues.
    pub is_target: bool,
    /// What a browser login was answered with, if the run asked for one.
    pub device_code: Arc<Mutex<Option<String>>>,
    /// The token the harness put where this process reads it (a placeholder, a variable, a
    /// secret, a prompt; for the snippet under test also a saved login); `None` when none.
    pub handed: Option<TokenChoice>,
    /// The scenario this process runs under (for an earlier snippet, its matching scenario).
    pub scenario: Scenario,
    /// The session it runs prompt by prompt, placeholders replaced, when the snippet is one.
    pub transcript: Option<Transcript>,
    /// The page line of the snippet's opening fence, for a session's messages.
    pub fence_line: usize,
}

/// The values that placeholders and `{...}` templates stand for in one scenario.
#[derive(Debug, Clone, Default)]
pub struct Values {
    scenario: String,
    token: Option<String>,
    typed: String,
    user: String,
    endpoint: String,
    /// `{token:<kind>}` → that kind's token, for scenarios that put different tokens in
    /// different places.
    kinds: Vec<(String, String)>,
}

impl Values {
    /// The values of `scenario` in `setup`'s world.
    pub fn new(setup: &Setup<'_>, scenario: &Scenario) -> Values {
        let choice = scenario
            .token
            .clone()
            .unwrap_or_else(TokenChoice::default_read);
        let token = setup.hub.token(&choice);
        let typed = match (&token, &scenario.token_text) {
            (Some(t), Some(template)) => template.replace("{token}", t),
            (Some(t), None) => t.clone(),
            (None, _) => String::new(),
        };
        let kinds = setup
            .hub
            .token_names()
            .into_iter()
            .map(TokenChoice::Named)
            .chain([TokenChoice::Invalid])
            .filter_map(|c| Some((format!("{{token:{}}}", c.as_str()), setup.hub.token(&c)?)))
            .collect();
        Values {
            scenario: scenario.name.clone(),
            token,
            typed,
            user: setup.hub.user(),
            endpoint: setup.hub.endpoint(),
            kinds,
        }
    }

    /// Replaces `{token}`, `{token:<kind>}`, `{user}`, `{endpoint}` and `{scenario}` in a template.
    pub fn expand(&self, template: &str) -> String {
        let mut text = template.to_string();
        for (key, value) in &self.kinds {
            text = text.replace(key, value);
        }
        text.replace("{scenario}", &self.scenario)
            .replace("{token}", &self.typed)
            .replace("{user}", &self.user)
            .replace("{endpoint}", &self.endpoint)
    }

    /// Each value a run may print with the `{...}` template that stands for it in an
    /// annotation (`{token:<kind>}`, `{token}`, `{user}`, `{endpoint}`), longest value first, so
    /// `--bless` can write what a run printed back in the form the annotation uses.
    pub fn templates_back(&self) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = self
            .kinds
            .iter()
            .filter(|(_, value)| Some(value) != self.token.as_ref())
            .map(|(key, value)| (value.clone(), key.clone()))
            .collect();
        pairs.extend(
            [
                (self.typed.trim().to_string(), "{token}"),
                (self.token.clone().unwrap_or_default(), "{token}"),
                (self.user.clone(), "{user}"),
                (self.endpoint.clone(), "{endpoint}"),
            ]
            .into_iter()
            .map(|(value, key)| (value, key.to_string())),
        );
        // The real endpoint is what the page shows anyway: printed URLs stay as they are.
        pairs.retain(|(value, _)| {
            !value.is_empty() && value != super::isolation::addresses::REAL_ENDPOINT
        });
        pairs.sort_by_key(|(value, _)| std::cmp::Reverse(value.len()));
        pairs
    }

    /// The bare token value (without `token-text`), for masking.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }
}

/// The code (or an output block) as a student would have it after replacing each placeholder.
///
/// All placeholders are replaced in one pass, longest first, so a placeholder inside another
/// (`model-name` in `private-model-name`) never changes the longer one.
pub fn substitute(code: &str, setup: &Setup<'_>, values: &Values, python: bool) -> String {
    let mut keys: Vec<&String> = setup
        .placeholders
        .keys()
        .filter(|k| !k.is_empty())
        .collect();
    if keys.is_empty() {
        return code.to_string();
    }
    keys.sort_by_key(|k| std::cmp::Reverse(k.len()));
    let alternation = keys
        .iter()
        .map(|k| regex::escape(k))
        .collect::<Vec<_>>()
        .join("|");
    let pattern = Regex::new(&alternation).expect("escaped placeholders form a valid regex");
    pattern
        .replace_all(code, |found: &regex::Captures<'_>| {
            let mut value = values.expand(&setup.placeholders[&found[0]]);
            if python {
                // A newline pasted into a Python string literal is written as its escape.
                value = value
                    .replace('\n', "\\n")
                    .replace('\r', "\\r")
                    .replace('\t', "\\t");
            }
            value
        })
        .into_owned()
}

/// A session with placeholders replaced in what is typed and in what the page shows.
fn substitute_transcript(
    transcript: &Transcript,
    setup: &Setup<'_>,
    values: &Values,
    python: bool,
) -> Transcript {
    let mut out = transcript.clone();
    for exchange in &mut out.exchanges {
        exchange.input = substitute(&exchange.input, setup, values, python);
        exchange.expected = substitute(&exchange.expected, setup, values, false);
    }
    out
}

fn is_python(style: Style) -> bool {
    matches!(
        style,
        Style::Python | Style::Colab | Style::Aistudio | Style::Jupyter
    )
}

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

/// Which processes a run of a snippet is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// A run as it stands on the page: the saved state the scenario starts from, the snippets it
    /// continues, then the snippet.
    Once,
    /// The snippet run again where its first run left the world and home (`test --rerun` of a
    /// script or a command): no state is prepared and nothing it continues runs again.
    Again,
    /// A notebook cell run twice in one Python process, as a re-run cell runs in the same
    /// kernel (`test --rerun` of a Colab, Jupyter or AI Studio snippet): as [`Pass::Once`], with
    /// the cell executed a second time after the first ([`super::rerun`] splits the output).
    TwiceInOneProcess,
}

/// Whether a snippet of this style runs in a notebook, where a re-run cell runs again in the
/// same Python process.
pub fn is_notebook(style: Style) -> bool {
    matches!(style, Style::Colab | Style::Jupyter | Style::Aistudio)
}

/// Prepares the processes of one run of `snippets[index]` under `scenario`, in `sandbox`.
pub fn prepare(
    setup: &Setup<'_>,
    sandbox: &Sandbox,
    snippets: &[Snippet],
    index: usize,
    scenario: &Scenario,
    pass: Pass,
) -> Result<Vec<Step>, CaseError> {
    let mut steps = Vec::new();
    let mut python_prefix = String::new();
    let order = chain(snippets, index);
    for (position, &i) in order.iter().enumerate() {
        let snippet = &snippets[i];
        let is_target = i == index;
        if pass == Pass::Again && !is_target && !continued_in_process(snippets, &order, position) {
            continue;
        }
        let own = if is_target {
            scenario
        } else {
            matching_scenario(snippet, scenario).unwrap_or(scenario)
        };
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
        let body = if python {
            format!("{}{setup_code}{code}", std::mem::take(&mut python_prefix))
        } else {
            format!("{setup_code}{code}")
        };
        if i == order[0] && pass != Pass::Again {
            prepare_state(setup, sandbox, own)?;
        }
        save_files(sandbox, snippet)?;
        let run = StepRun {
            setup,
            sandbox,
            scenario: own,
            values: &values,
            step: steps.len(),
            again: (is_target && pass == Pass::TwiceInOneProcess && is_notebook(style))
                .then(|| format!("{setup_code}{code}")),
        };
        let transcript = snippet
            .transcript
            .as_ref()
            .map(|t| substitute_transcript(t, setup, &values, style == Style::Pycon));
        let mut invocation =
            run.invocation(snippet, style, &body, transcript.as_ref(), &setup_code)?;
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
        steps.push(Step {
            invocation,
            location: snippet.location(),
            is_target,
            device_code,
            handed,
            scenario: own.clone(),
            transcript,
            fence_line: snippet.line,
        });
    }
    Ok(steps)
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

/// What one process of a case is made from.
struct StepRun<'a> {
    setup: &'a Setup<'a>,
    sandbox: &'a Sandbox,
    scenario: &'a Scenario,
    values: &'a Values,
    /// Its position in the case, to name its files.
    step: usize,
    /// For a notebook cell run twice in one process: the cell's code, which runs again after
    /// the first run (whose script also holds what the cell continues).
    again: Option<String>,
}

impl StepRun<'_> {
    /// The process that runs `body` (the snippet's code, placeholders replaced) in `style`.
    fn invocation(
        &self,
        snippet: &Snippet,
        style: Style,
        body: &str,
        transcript: Option<&Transcript>,
        setup_code: &str,
    ) -> Result<Invocation, CaseError> {
        let terminal = !self.scenario.input.is_empty() || style == Style::Jupyter;
        let (program, args) = self.program(style, body, transcript, setup_code)?;
        Ok(Invocation {
            program,
            args,
            env: self.environment(style, terminal)?,
            cwd: self.sandbox.work(),
            timeout: snippet
                .annotation
                .timeout
                .map_or(DEFAULT_TIMEOUT, Duration::from_secs),
            output_cap: OUTPUT_CAP,
            terminal: terminal.then(|| self.answers()),
            observer: None,
            netns: self.setup.network.namespace_path(),
            mounts: self.setup.network.mount_namespace_path(),
            python_script: style != Style::Shell,
        })
    }

    /// The program and its arguments, with the body written where the program reads it.
    fn program(
        &self,
        style: Style,
        body: &str,
        transcript: Option<&Transcript>,
        setup_code: &str,
    ) -> io::Result<(PathBuf, Vec<String>)> {
        let work = self.sandbox.work();
        let python = self.setup.venv_bin.join("python");
        let step = self.step;
        Ok(match style {
            Style::Python | Style::Aistudio | Style::Jupyter | Style::Colab => {
                let script = work.join(format!("snippet_{step}.py"));
                fs::write(&script, body)?;
                match &self.again {
                    None => (python, vec![script.display().to_string()]),
                    Some(cell) => {
                        let (runner, again) = super::rerun::write_runner(self.sandbox, step, cell)?;
                        (
                            python,
                            [runner, script, again]
                                .map(|p| p.display().to_string())
                                .to_vec(),
                        )
                    }
                }
            }
            Style::Pycon => {
                let runner = self.sandbox.root().join("pycon_runner.py");
                fs::write(&runner, include_str!("python/pycon_runner.py"))?;
                let session = self.sandbox.root().join(format!("session_{step}.json"));
                let empty = Transcript {
                    prompts: crate::snippets::transcript::Prompts::Python,
                    exchanges: Vec::new(),
                };
                let text =
                    super::transcript::python_session(transcript.unwrap_or(&empty), setup_code);
                fs::write(&session, text)?;
                (
                    python,
                    vec![runner.display().to_string(), session.display().to_string()],
                )
            }
            Style::Shell => {
                let script = work.join(format!("snippet_{step}.sh"));
                let commands = match transcript {
                    Some(session) => {
                        format!("{setup_code}{}", super::transcript::shell_script(session))
                    }
                    None => shell_commands(body),
                };
                fs::write(&script, commands)?;
                (
                    "/bin/bash".into(),
                    vec!["-e".into(), script.display().to_string()],
                )
            }
        })
    }

    /// The whole environment: the sandbox's, the network's, the scenario's variables, and what the
    /// style adds (Colab's simulated notebook, AI Studio's secrets).
    fn environment(
        &self,
        style: Style,
        terminal: bool,
    ) -> Result<Vec<(String, String)>, CaseError> {
        let endpoint = self.setup.hub.hf_endpoint();
        let mut env = self
            .sandbox
            .environment(self.setup.venv_bin, endpoint.as_deref(), terminal);
        let mut python_path = Vec::new();
        match style {
            Style::Colab => {
                python_path.push(write_colab_standin(self.sandbox)?);
                let file = self.colab_secrets_file()?;
                env.push(("HUBCHECK_COLAB_SECRETS".into(), file.display().to_string()));
            }
            Style::Aistudio => env.extend(self.expanded(&self.scenario.secrets)),
            _ => {}
        }
        env.extend(self.setup.network.environment(&python_path));
        env.extend(self.expanded(&self.scenario.env));
        if let Some(inside) = self.setup.network.sandbox_inside() {
            let (outside, inside) = (
                self.sandbox.root().display().to_string(),
                inside.display().to_string(),
            );
            for (_, value) in &mut env {
                *value = value.replace(&outside, &inside);
            }
        }
        Ok(env)
    }

    /// Name-value pairs with templates expanded; empty values are left out (an unset variable).
    fn expanded(&self, pairs: &BTreeMap<String, String>) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), self.values.expand(v)))
            .filter(|(_, v)| !v.is_empty())
            .collect()
    }

    /// Writes the simulated Colab Secrets panel: the scenario's secrets and whether the notebook
    /// has access to them.
    fn colab_secrets_file(&self) -> io::Result<PathBuf> {
        let secrets: BTreeMap<String, String> =
            self.expanded(&self.scenario.secrets).into_iter().collect();
        let state = serde_json::json!({
            "secrets": secrets,
            "access": self.scenario.secret_access.unwrap_or(true),
        });
        let file = self
            .sandbox
            .root()
            .join(format!("colab_secrets_{}.json", self.step));
        fs::write(&file, state.to_string())?;
        Ok(file)
    }

    /// What a person types at each prompt (twice over for a cell that runs twice).
    fn answers(&self) -> Vec<Answer> {
        let runs = if self.again.is_some() { 2 } else { 1 };
        (0..runs)
            .flat_map(|_| &self.scenario.input)
            .map(|input| Answer::from_send(&input.prompt, &self.values.expand(&input.send)))
            .collect()
    }
}

/// The commands of a shell snippet: with `$ ` prompts, only the prompted lines; else every line.
pub fn shell_commands(code: &str) -> String {
    let prompted: Vec<&str> = code
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("$ "))
        .collect();
    if prompted.is_empty() {
        code.to_string()
    } else {
        prompted.join("\n") + "\n"
    }
}

/// Writes the simulated `google.colab` package and its start-up module into the sandbox; returns
/// the folder to put on `PYTHONPATH`.
fn write_colab_standin(sandbox: &Sandbox) -> io::Result<PathBuf> {
    let site = sandbox.root().join("colab-site");
    let package = site.join("google/colab");
    fs::create_dir_all(&package)?;
    let files = [
        (
            "_hubcheck_colab.py",
            include_str!("python/colab/_hubcheck_colab.py"),
        ),
        (
            "google/colab/__init__.py",
            include_str!("python/colab/google/colab/__init__.py"),
        ),
        (
            "google/colab/errors.py",
            include_str!("python/colab/google/colab/errors.py"),
        ),
        (
            "google/colab/_shell.py",
            include_str!("python/colab/google/colab/_shell.py"),
        ),
        (
            "google/colab/userdata.py",
            include_str!("python/colab/google/colab/userdata.py"),
        ),
    ];
    for (name, text) in files {
        fs::write(site.join(name), text)?;
    }
    Ok(site)
}

/// What a browser login asks the person to enter on the Hub's page.
fn device_code_pattern() -> Regex {
    Regex::new(r"(?i)enter the code:?\s*([A-Z0-9][A-Z0-9-]{3,})").expect("valid regex")
}

/// Watches a run's output for the code a browser login asks the person to enter, and answers it
/// once, as the person would on the Hub's page.
fn browser_observer(
    setup: &Setup<'_>,
    answer: BrowserLogin,
    seen: Arc<Mutex<Option<String>>>,
) -> Observer {
    let pattern = device_code_pattern();
    let hub = Arc::clone(&setup.hub);
    Box::new(move |text: &str| {
        let mut seen = seen.lock().expect("device code lock");
        if seen.is_some() {
            return None;
        }
        if let Some(code) = pattern.captures(text).map(|c| c[1].to_string()) {
            let result = hub.answer_device_login(&code, answer == BrowserLogin::Approve);
            *seen = Some(match result {
                Ok(()) => code,
                Err(e) => format!("{code} (answering it failed: {e})"),
            });
        }
        None
    })
}

/// How often the watcher of an unanswered browser login reads the Hub's request log.
const LOG_LOOK: Duration = Duration::from_millis(100);

/// Watches a run whose scenario plays no browser login: once it shows a device code and the Hub
/// has answered a poll of that login with "pending" (so it waits for a person who will never
/// come), the run is ended with the user code and the annotation that would answer it. A Hub
/// set to approve device logins by itself answers the poll otherwise, and the run goes on.
fn unanswered_login_observer(setup: &Setup<'_>) -> Observer {
    let pattern = device_code_pattern();
    let hub = Arc::clone(&setup.hub);
    let mut code: Option<(String, usize)> = None;
    let mut last_look = std::time::Instant::now();
    let pending_polls = |requests: &[crate::hub::LoggedRequest]| {
        requests
            .iter()
            .filter(|r| r.path == "/oauth/token" && r.status == 400)
            .count()
    };
    Box::new(move |text: &str| {
        if code.is_none() {
            let found = pattern.captures(text).map(|c| c[1].to_string())?;
            let before = hub.requests().map(|r| pending_polls(&r)).unwrap_or(0);
            code = Some((found, before));
            return None;
        }
        if last_look.elapsed() < LOG_LOOK {
            return None;
        }
        last_look = std::time::Instant::now();
        let (user_code, before) = code.as_ref()?;
        let polls = hub.requests().map(|r| pending_polls(&r)).unwrap_or(0);
        (polls > *before).then(|| {
            format!(
                "waited for a person to approve the browser login (user code {user_code}): the \
                 command asked for a device code and polled the Hub, which had no answer, so the run \
                 was ended. Add `browser-login = \"approve\"` (or `\"deny\"`) to the scenario to \
                 play that person, or log in with a token (`hf auth login --token ...`)"
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoHub;

    impl CaseHub for NoHub {
        fn endpoint(&self) -> String {
            "http://127.0.0.1:1".into()
        }
        fn user(&self) -> String {
            "ada".into()
        }
        fn token(&self, _: &TokenChoice) -> Option<String> {
            Some("hf_tok".into())
        }
        fn token_names(&self) -> Vec<String> {
            vec!["read".into()]
        }
        fn answer_device_login(&self, _: &str, _: bool) -> Result<(), super::super::HubError> {
            Ok(())
        }
        fn requests(&self) -> Result<Vec<crate::hub::LoggedRequest>, super::super::HubError> {
            Ok(Vec::new())
        }
        fn grant_gated_access(&self, _: &str) -> Result<(), super::super::HubError> {
            Ok(())
        }
        fn oauth_grant(&self, _: u64) -> Result<(String, String), super::super::HubError> {
            Ok(("hf_access".into(), "hf_refresh".into()))
        }
        fn set_inference_credits(&self, _: f64) -> Result<(), super::super::HubError> {
            Ok(())
        }
        fn add_fault(
            &self,
            _: &crate::snippets::annotation::HubFault,
        ) -> Result<(), super::super::HubError> {
            Ok(())
        }
    }

    #[test]
    fn placeholders_are_replaced_longest_first_in_one_pass() {
        let placeholders = BTreeMap::from([
            ("model-name".to_string(), "org/tiny".to_string()),
            ("private-model-name".to_string(), "org/private".to_string()),
            ("hf_your_token_here".to_string(), "{token}".to_string()),
            ("your-username".to_string(), "{user}".to_string()),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let network = CaseNetwork::new(
            super::super::isolation::namespaces::Isolation::Proxy,
            dir.path(),
        )
        .unwrap();
        let setup = Setup {
            venv_bin: Path::new("/venv/bin"),
            hub: Arc::new(NoHub),
            placeholders: &placeholders,
            network: &network,
        };
        let scenario = Scenario {
            token_text: Some("{token}\n".into()),
            ..Scenario::default()
        };
        let values = Values::new(&setup, &scenario);
        let code = "load(\"private-model-name\", \"model-name\", token=\"hf_your_token_here\")  # your-username";
        assert_eq!(
            substitute(code, &setup, &values, true),
            "load(\"org/private\", \"org/tiny\", token=\"hf_tok\\n\")  # ada"
        );
        assert!(substitute("hf_your_token_here", &setup, &values, false).ends_with('\n'));
    }

    #[test]
    fn prompted_shell_lines_are_the_commands() {
        assert_eq!(
            shell_commands("$ hf auth whoami\nuser: x\n$ echo hi\n"),
            "hf auth whoami\necho hi\n"
        );
        assert_eq!(shell_commands("hf auth whoami\n"), "hf auth whoami\n");
    }
}
