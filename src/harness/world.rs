//! What the harness needs from a Hub: its URL, its account, its tokens, and a way to answer a
//! browser login as a person would. The in-process mock Hub and a mock Hub started elsewhere
//! (`--hub URL`) both provide it.

use crate::snippets::annotation::TokenChoice;

/// A Hub the snippets run against.
pub trait HubWorld: Send + Sync {
    /// The endpoint, e.g. `http://127.0.0.1:40123`, with no trailing slash.
    fn endpoint(&self) -> String;
    /// The account name the tokens belong to.
    fn user(&self) -> String;
    /// The token value for a scenario's choice; `None` for [`TokenChoice::None`].
    fn token(&self, choice: TokenChoice) -> Option<String>;
    /// Approves or denies a pending browser (device-code) login, as the person would on the page
    /// the CLI told them to open.
    fn answer_device_login(&self, user_code: &str, approve: bool) -> Result<(), String>;
}

use std::collections::BTreeMap;

use crate::hub::{MockHub, TokenKind};

/// The seeded token kind a scenario's choice names, if it names one.
fn seeded_kind(choice: TokenChoice) -> Option<TokenKind> {
    match choice {
        TokenChoice::Read => Some(TokenKind::Read),
        TokenChoice::Write => Some(TokenKind::Write),
        TokenChoice::FineGrained => Some(TokenKind::FineGrained),
        TokenChoice::Expired => Some(TokenKind::Expired),
        TokenChoice::Revoked => Some(TokenKind::Revoked),
        TokenChoice::Invalid | TokenChoice::None => None,
    }
}

/// Answers a device-code login the way a person's browser does: the approval page's form.
fn submit_device_form(
    endpoint: &str,
    user: &str,
    user_code: &str,
    approve: bool,
) -> Result<(), String> {
    let action = if approve { "approve" } else { "deny" };
    let response = reqwest::blocking::Client::new()
        .post(format!("{endpoint}/login/device"))
        .form(&[("user_code", user_code), ("user", user), ("action", action)])
        .send()
        .map_err(|e| format!("POST {endpoint}/login/device: {e}"))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!(
            "POST {endpoint}/login/device answered {}",
            response.status()
        ))
    }
}

/// A Hub known by its tokens: the in-process mock, or one reached over HTTP.
pub struct KnownHub {
    endpoint: String,
    user: String,
    tokens: BTreeMap<String, String>,
    /// One unknown token per run of the harness, so every use of `{token}` in a scenario agrees.
    invalid: String,
    /// Keeps an in-process mock Hub running as long as this value lives.
    _mock: Option<MockHub>,
}

impl KnownHub {
    /// Starts an in-process mock Hub with the seeded world.
    pub fn start_mock() -> std::io::Result<KnownHub> {
        let mock = MockHub::start()?;
        let tokens = mock
            .tokens()
            .into_iter()
            .map(|t| (t.kind.as_str().to_string(), t.value))
            .collect();
        let user = mock
            .state()
            .tokens()
            .into_iter()
            .find(|t| t.kind == TokenKind::Read)
            .map(|t| t.user)
            .unwrap_or_default();
        Ok(KnownHub {
            endpoint: mock.url().to_string(),
            user,
            tokens,
            invalid: MockHub::invalid_token(),
            _mock: Some(mock),
        })
    }

    /// A mock Hub already running at `url`: its tokens come from its admin API (`GET /__mock/tokens`).
    pub fn connect(url: &str) -> Result<KnownHub, String> {
        let endpoint = url.trim_end_matches('/').to_string();
        let list: Vec<crate::hub::TokenInfo> = reqwest::blocking::get(format!("{endpoint}/__mock/tokens"))
            .and_then(|r| r.error_for_status())
            .and_then(|r| r.json())
            .map_err(|e| {
                format!("{endpoint}/__mock/tokens: {e}; --hub must be a mock Hub started with `mdbook-hubcheck mock-hub`")
            })?;
        let user = list
            .iter()
            .find(|t| t.kind == TokenKind::Read)
            .map(|t| t.user.clone())
            .ok_or_else(|| format!("{endpoint}: the mock Hub has no read token"))?;
        Ok(KnownHub {
            endpoint,
            user,
            tokens: list
                .into_iter()
                .map(|t| (t.kind.as_str().to_string(), t.value))
                .collect(),
            invalid: MockHub::invalid_token(),
            _mock: None,
        })
    }
}

impl HubWorld for KnownHub {
    fn endpoint(&self) -> String {
        self.endpoint.clone()
    }

    fn user(&self) -> String {
        self.user.clone()
    }

    fn token(&self, choice: TokenChoice) -> Option<String> {
        match choice {
            TokenChoice::None => None,
            TokenChoice::Invalid => Some(self.invalid.clone()),
            other => seeded_kind(other).and_then(|k| self.tokens.get(k.as_str()).cloned()),
        }
    }

    fn answer_device_login(&self, user_code: &str, approve: bool) -> Result<(), String> {
        submit_device_form(&self.endpoint, &self.user, user_code, approve)
    }
}
