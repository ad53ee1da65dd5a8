//! The typed form of a snippet annotation; the syntax is documented in `docs/annotations.md`.

use std::collections::BTreeMap;

use serde::Deserialize;

/// How the harness runs one snippet and what the text around it promises.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Annotation {
    /// A short kebab-case name used in test names.
    pub id: Option<String>,
    /// How to run the snippet; defaults to what the fence language implies.
    pub style: Option<Style>,
    /// Runs in the state an earlier snippet left: `true` for the one before, or its `id`.
    pub continues: Option<Continues>,
    /// Hidden lines run first, in the same language and process.
    pub setup: Option<String>,
    /// Seconds before the whole process group is killed.
    pub timeout: Option<u64>,
    /// Why this block is deliberately not run (e.g. it needs a shell the test machines do not
    /// have); such a block has no scenarios and is reported as `not-run` with this reason.
    pub not_run: Option<String>,
    /// Why this snippet's promise holds only for a fresh account: `test --journey` then runs it
    /// in a fresh world of its own (and says so) instead of in the one the book's earlier pages
    /// left.
    pub journey_fresh: Option<String>,
    /// Files of the book that the page has the student save in their working folder before
    /// running the block (a downloaded script such as `check_setup.py`): paths relative to the
    /// folder of the file the block is written in, copied into the run's working folder.
    pub files: Vec<String>,
    /// The runs of this snippet; one `default` run when empty.
    pub scenario: Vec<Scenario>,
}

/// The ways a snippet can be run, one per kind of place a student runs code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Style {
    /// A Python script.
    Python,
    /// An interactive `>>>` session whose printed results are checked.
    Pycon,
    /// Shell commands, with or without a `$ ` prompt.
    Shell,
    /// A Google Colab cell, with `google.colab.userdata` secrets.
    Colab,
    /// A Google AI Studio notebook, whose secrets are environment variables.
    Aistudio,
    /// A Jupyter cell that asks for the token with `getpass`.
    Jupyter,
}

impl Style {
    /// The style a fence language implies, if any (`python`, `pycon`, `bash`, ...): what a block
    /// with no annotation, or an annotation that names no style, runs as.
    pub fn for_language(language: &str) -> Option<Style> {
        match language {
            "console" => Some(Style::Shell),
            "python" | "py" | "python3" => Some(Style::Python),
            "pycon" => Some(Style::Pycon),
            "bash" | "sh" | "shell" | "console-session" | "zsh" => Some(Style::Shell),
            _ => None,
        }
    }
}

/// Which earlier snippet a snippet builds on.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Continues {
    /// `true`: the snippet right before; `false`: none.
    Previous(bool),
    /// The `id` of an earlier snippet.
    Id(String),
}

/// One run of a snippet: its inputs and what it must show.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Scenario {
    /// kebab-case, unique within the snippet.
    pub name: String,
    /// Which token of the book's world replaces the token placeholder (default `read`).
    pub token: Option<TokenChoice>,
    /// How the token is typed or pasted, `{token}` standing for the value.
    pub token_text: Option<String>,
    /// Environment variables for the run.
    pub env: BTreeMap<String, String>,
    /// Colab or AI Studio secrets.
    pub secrets: BTreeMap<String, String>,
    /// `false` when the notebook was not granted access to its secrets.
    pub secret_access: Option<bool>,
    /// A token of the world saved to `$HF_HOME/token` before the run.
    pub logged_in: Option<TokenChoice>,
    /// What a person types at each prompt.
    pub input: Vec<Input>,
    /// How the mock Hub answers a browser (device-code) login.
    pub browser_login: Option<BrowserLogin>,
    /// A browser login saved before the run (access and refresh token) whose access token has
    /// already expired, so the client must refresh it by itself.
    pub oauth_expiring: bool,
    /// The expected exit status.
    pub exit: Option<i32>,
    /// Texts that must appear in standard output.
    pub stdout: Vec<String>,
    /// Texts that must appear in standard error.
    pub stderr: Vec<String>,
    /// Texts that must appear in standard output or standard error.
    pub output: Vec<String>,
    /// Texts that must appear in neither.
    pub not_output: Vec<String>,
    /// Texts that must appear in the output of a first run only: `test --rerun` does not ask
    /// for them on the second run (e.g. "created" for something the first run made).
    pub first_run_output: Vec<String>,
    /// Texts that must appear in the output of the second run of `test --rerun` (e.g. "already
    /// exists"); a single run does not ask for them.
    pub rerun_output: Vec<String>,
    /// The Python exception class the run must end with.
    pub exception: Option<String>,
    /// `false` for the rare snippet that must not send the token it was handed; by default the
    /// Hub must see the handed token in at least one request.
    pub token_sent: Option<bool>,
    /// Hosts other than the Hub that the snippet is expected to try to reach (the attempts are
    /// still refused); an attempt to reach any other host fails the scenario.
    pub network_attempts: Vec<String>,
    /// Gated repositories (model ids such as `my-course/tiny-llama-gated`, datasets as
    /// `datasets/my-course/stories`) whose access the Hub
    /// granted to the scenario's account before the run, as if the access request was approved.
    pub gated_access: Vec<String>,
    /// The account's remaining Inference Providers credits (US dollars) before the run; `0`
    /// shows what a student whose free monthly credits are used up sees.
    pub inference_credits: Option<f64>,
    /// Requests the Hub (or its router) answers with 429 or 503 before the run, as when it is
    /// busy: `[{ path = "/v1/chat/completions", status = 429, count = 50, retry-after = 30 }]`.
    pub hub_faults: Vec<HubFault>,
}

/// The next `count` requests whose path starts with `path` get `status` (429 with
/// `Retry-After: retry-after` seconds, or 503).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HubFault {
    /// The start of the paths it applies to, e.g. `/v1/chat/completions`.
    pub path: String,
    /// 429 or 503.
    pub status: u16,
    /// How many requests get it (default 1).
    #[serde(default = "one")]
    pub count: u32,
    /// The `Retry-After` seconds of a 429 (default 1).
    pub retry_after: Option<u64>,
}

fn one() -> u32 {
    1
}

impl Scenario {
    /// The same scenario without the texts the output must contain (`stdout`, `stderr`,
    /// `output`): what is left for a run to break when `--bless` has rewritten those texts.
    pub fn without_texts(&self) -> Scenario {
        Scenario {
            stdout: Vec::new(),
            stderr: Vec::new(),
            output: Vec::new(),
            first_run_output: Vec::new(),
            ..self.clone()
        }
    }

    /// The promises a run of this scenario must keep: a second run (`test --rerun`) asks for
    /// `rerun-output` instead of `first-run-output`.
    pub fn promises_of(&self, run: Run) -> Scenario {
        let mut promises = self.clone();
        let only_this_run = match run {
            Run::Once | Run::First => &self.first_run_output,
            Run::Second => &self.rerun_output,
        };
        promises.output.extend(only_this_run.iter().cloned());
        promises
    }
}

/// Which run of a scenario this is: its only one, or the first or second of `test --rerun`,
/// which runs every scenario twice in the same world and home.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Run {
    /// A single run.
    Once,
    /// The first of two.
    First,
    /// The second, in the world and home the first left.
    Second,
}

impl Run {
    /// How a failure names it: nothing for a single run.
    pub fn label(self) -> &'static str {
        match self {
            Run::Once => "",
            Run::First => ", first run",
            Run::Second => ", second run",
        }
    }
}

/// The tokens a scenario can ask for: one the book's world file declares (by its name there:
/// `read`, `write`, `fine-grained`, ...), an unknown one, or none.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum TokenChoice {
    /// The token the world file declares under this name.
    Named(String),
    /// A token-shaped string the Hub does not know (`invalid`).
    Invalid,
    /// No token at all (`none`).
    None,
}

impl TryFrom<String> for TokenChoice {
    type Error = String;

    /// `invalid`, `none`, or a kebab-case name of the world file's `[tokens]` (whether the world
    /// declares it is checked when a run starts, against the book's world).
    fn try_from(name: String) -> Result<TokenChoice, String> {
        let kebab = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        match name.as_str() {
            "invalid" => Ok(TokenChoice::Invalid),
            "none" => Ok(TokenChoice::None),
            _ if kebab => Ok(TokenChoice::Named(name)),
            _ => Err(format!(
                "`{name}` is not a token name: write a name from the world file's [tokens] \
                 (kebab-case, e.g. `read`, `write`, `fine-grained`), `invalid` or `none`"
            )),
        }
    }
}

impl TokenChoice {
    /// The token a scenario gets when it names none: the world's `read` token.
    pub fn default_read() -> TokenChoice {
        TokenChoice::Named("read".into())
    }

    /// The word a scenario writes for it.
    pub fn as_str(&self) -> &str {
        match self {
            TokenChoice::Named(name) => name,
            TokenChoice::Invalid => "invalid",
            TokenChoice::None => "none",
        }
    }
}

/// A prompt and what a person types at it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// Text on screen that the answer waits for.
    pub prompt: String,
    /// What is typed; may hold `{token}`, `<enter>`, `<up>`, `<down>`.
    pub send: String,
}

/// How a person answers the browser login page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BrowserLogin {
    /// Clicks "Authorize".
    Approve,
    /// Clicks "Deny".
    Deny,
}

/// Parses an annotation's TOML body; the error says which key or value is wrong.
pub fn parse(body: &str) -> Result<Annotation, toml::de::Error> {
    let annotation: Annotation = toml::from_str(body)?;
    Ok(annotation)
}
