//! The process of one step: its program and arguments (the code written where the program reads
//! it), its environment, the keys typed at its prompts, and the observers that answer or refuse a
//! browser login.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use regex::Regex;

use crate::harness::CaseError;
use crate::harness::isolation::sandbox::Sandbox;
use crate::harness::process::{Answer, Invocation, Observer};
use crate::snippets::Snippet;
use crate::snippets::annotation::{BrowserLogin, Scenario, Style};
use crate::snippets::transcript::Transcript;

use super::setup::{DEFAULT_TIMEOUT, OUTPUT_CAP, Setup};
use super::values::Values;

/// What one process of a case is made from.
pub(super) struct StepRun<'a> {
    pub(super) setup: &'a Setup<'a>,
    pub(super) sandbox: &'a Sandbox,
    pub(super) scenario: &'a Scenario,
    pub(super) values: &'a Values,
    /// Its position in the case, to name its files.
    pub(super) step: usize,
    /// For a notebook cell run twice in one process: the cell's code, which runs again after
    /// the first run (whose script also holds what the cell continues).
    pub(super) again: Option<String>,
}

impl StepRun<'_> {
    /// The process that runs `body` (the snippet's code, placeholders replaced) in `style`.
    pub(super) fn invocation(
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
                        let (runner, again) =
                            crate::harness::rerun::write_runner(self.sandbox, step, cell)?;
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
                fs::write(&runner, include_str!("../python/pycon_runner.py"))?;
                let session = self.sandbox.root().join(format!("session_{step}.json"));
                let empty = Transcript {
                    prompts: crate::snippets::transcript::Prompts::Python,
                    exchanges: Vec::new(),
                };
                let text = crate::harness::transcript::python_session(
                    transcript.unwrap_or(&empty),
                    setup_code,
                );
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
                        format!(
                            "{setup_code}{}",
                            crate::harness::transcript::shell_script(session)
                        )
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
            include_str!("../python/colab/_hubcheck_colab.py"),
        ),
        (
            "google/colab/__init__.py",
            include_str!("../python/colab/google/colab/__init__.py"),
        ),
        (
            "google/colab/errors.py",
            include_str!("../python/colab/google/colab/errors.py"),
        ),
        (
            "google/colab/_shell.py",
            include_str!("../python/colab/google/colab/_shell.py"),
        ),
        (
            "google/colab/userdata.py",
            include_str!("../python/colab/google/colab/userdata.py"),
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
pub(super) fn browser_observer(
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
pub(super) fn unanswered_login_observer(setup: &Setup<'_>) -> Observer {
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

    #[test]
    fn prompted_shell_lines_are_the_commands() {
        assert_eq!(
            shell_commands("$ hf auth whoami\nuser: x\n$ echo hi\n"),
            "hf auth whoami\necho hi\n"
        );
        assert_eq!(shell_commands("hf auth whoami\n"), "hf auth whoami\n");
    }
}
