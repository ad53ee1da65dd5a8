//! The Hub a case runs against, fresh for every case.
//!
//! A [`HubSource`] gives each case its own [`CaseHub`]: with the in-process mock, a new mock Hub
//! with the world the book declares (read once per run, copied for each case), listening where the
//! case's network can reach it; with `--hub URL`, the running mock Hub put back to its seed through
//! its reset endpoint (so such runs take one case at a time). Either way a case starts from the same known world, whatever ran before or beside it,
//! and the requests the Hub logged belong to that case alone.

use crate::hub::world::RepoType;
use crate::hub::{LoggedRequest, MockHub, TokenInfo, World};
use crate::snippets::annotation::TokenChoice;

use super::error::HubError;
use super::isolation::addresses::{Addresses, HUB_HOSTS, REAL_ENDPOINT};
use super::isolation::namespaces::Isolation;
use super::isolation::network::CaseNetwork;
use crate::hub::tls::RunAuthority;

/// The Hub of one case: its URL, its account, its tokens, its request log, and a way to answer a
/// browser login as a person would.
pub trait CaseHub: Send + Sync {
    /// The endpoint the case's processes use, e.g. `http://127.0.0.1:40123` (no trailing slash),
    /// or `https://huggingface.co` under the real addresses.
    fn endpoint(&self) -> String;
    /// The `HF_ENDPOINT` the case's processes get: the endpoint, or nothing under the real
    /// addresses (the clients then use their built-in `https://huggingface.co`).
    fn hf_endpoint(&self) -> Option<String> {
        Some(self.endpoint())
    }
    /// The account name the tokens belong to.
    fn user(&self) -> String;
    /// The token value for a scenario's choice; `None` for [`TokenChoice::None`] and for a name
    /// the world does not declare.
    fn token(&self, choice: &TokenChoice) -> Option<String>;
    /// The names of the tokens the world declares, in its file's order.
    fn token_names(&self) -> Vec<String>;
    /// Approves or denies a pending browser (device-code) login, as the person would on the page
    /// the CLI told them to open.
    fn answer_device_login(&self, user_code: &str, approve: bool) -> Result<(), HubError>;
    /// Every request the Hub served in this case so far, oldest first (never with token values).
    fn requests(&self) -> Result<Vec<LoggedRequest>, HubError>;
    /// Grants the case's account access to the gated repository `repo_id` (`ns/name` for a
    /// model, `datasets/ns/name` for a dataset), as when the repository's
    /// owners approve the access request the person sent from the model page.
    fn grant_gated_access(&self, repo_id: &str) -> Result<(), HubError>;
    /// An OAuth token pair of the account, as a browser login gives it, whose access token
    /// stops working after `expires_in` seconds: `(access_token, refresh_token)`.
    fn oauth_grant(&self, expires_in: u64) -> Result<(String, String), HubError>;
    /// Sets the account's remaining Inference Providers credits, as the Hub's billing would after
    /// the student used some.
    fn set_inference_credits(&self, remaining: f64) -> Result<(), HubError>;
    /// Makes the Hub answer the next matching requests with 429 or 503, as when it is busy.
    fn add_fault(&self, fault: &crate::snippets::annotation::HubFault) -> Result<(), HubError>;
}

/// Where cases get their Hub from.
pub enum HubSource {
    /// A new in-process mock Hub per case, each with a copy of this world.
    InProcess(Box<World>),
    /// A mock Hub running elsewhere (`--hub URL`), reset before every case.
    Remote(RemoteHub),
}

impl HubSource {
    /// A source of running mock Hubs at `url`; checks that it is a mock Hub and learns its tokens.
    pub fn remote(url: &str) -> Result<HubSource, HubError> {
        RemoteHub::connect(url).map(HubSource::Remote)
    }

    /// What the run's first line names: `mock` or the URL.
    pub fn label(&self) -> String {
        match self {
            HubSource::InProcess(_) => "mock".into(),
            HubSource::Remote(remote) => remote.endpoint.clone(),
        }
    }

    /// The names of the tokens the scenarios may ask for.
    pub fn token_names(&self) -> Vec<String> {
        match self {
            HubSource::InProcess(world) => {
                world.seeded_tokens.iter().map(|t| t.name.clone()).collect()
            }
            HubSource::Remote(remote) => remote.tokens.names(),
        }
    }

    /// The most cases that may run at once against this source: a remote Hub has one world.
    pub fn max_jobs(&self) -> Option<usize> {
        match self {
            HubSource::InProcess(_) => None,
            HubSource::Remote(_) => Some(1),
        }
    }

    /// Which addresses the cases of a run with this source use: the real ones only with the
    /// in-process mock (a `--hub URL` serves plain HTTP outside the namespaces) and where
    /// `isolation` allows them.
    pub fn addresses(&self, isolation: Isolation) -> Addresses {
        match self {
            HubSource::InProcess(_) => Addresses::choose(isolation),
            HubSource::Remote(_) => Addresses::Endpoint,
        }
    }

    /// The `HF_ENDPOINT` that every case of a run with this source and `isolation` gets, when
    /// they all get the same one (the warm interpreter imports the clients with it): the mock's
    /// port inside the namespace, nothing under the real addresses, `None` without a namespace
    /// (each case has its own port; the warm interpreter then takes each run's environment).
    pub fn shared_hf_endpoint(&self, isolation: Isolation) -> Option<Option<String>> {
        if isolation != Isolation::Namespace {
            return None;
        }
        Some(match self.addresses(isolation) {
            Addresses::Real => None,
            Addresses::Endpoint => Some(format!(
                "http://127.0.0.1:{}",
                super::isolation::network::HUB_PORT
            )),
        })
    }

    /// A Hub in the book's declared state for one case, reachable from the case's `network`.
    pub fn world_for_case(&self, network: &CaseNetwork) -> Result<Box<dyn CaseHub>, HubError> {
        match self {
            HubSource::InProcess(world) => {
                let listener = network.bind_hub().map_err(|e| HubError {
                    endpoint: "the mock Hub".into(),
                    message: format!("cannot listen in the case's network: {e}"),
                })?;
                let https = network.bind_hub_https().map_err(|e| HubError {
                    endpoint: "the mock Hub".into(),
                    message: format!("cannot listen for HTTPS in the case's network: {e}"),
                })?;
                let real = https.is_some();
                let started = match https {
                    Some(https) => RunAuthority::get(HUB_HOSTS)
                        .map_err(std::io::Error::other)
                        .and_then(|authority| {
                            MockHub::start_with_https(
                                World::clone(world),
                                listener,
                                https,
                                authority.server_config(),
                            )
                        }),
                    None => MockHub::start_on_listener(World::clone(world), listener),
                };
                let hub = started.map_err(|e| HubError {
                    endpoint: "the mock Hub".into(),
                    message: format!("cannot start: {e}"),
                })?;
                Ok(Box::new(LocalHub::new(hub, real)))
            }
            HubSource::Remote(remote) => {
                remote.reset()?;
                let forwarded = network.reach(&remote.endpoint).map_err(|e| HubError {
                    endpoint: remote.endpoint.clone(),
                    message: format!("cannot make it reachable in the case's network: {e}"),
                })?;
                Ok(Box::new(RemoteWorld {
                    remote: remote.clone(),
                    endpoint: forwarded,
                }))
            }
        }
    }
}

/// The tokens a world hands out: its declared ones by name, and one unknown token per case, so
/// every use of `{token}` in a scenario agrees.
#[derive(Clone)]
struct Tokens {
    user: String,
    by_name: Vec<(String, String)>,
    invalid: String,
}

impl Tokens {
    fn from_list(user: String, list: Vec<TokenInfo>) -> Tokens {
        Tokens {
            user,
            by_name: list
                .into_iter()
                .filter_map(|t| Some((t.name?, t.value)))
                .collect(),
            invalid: MockHub::invalid_token(),
        }
    }

    fn get(&self, choice: &TokenChoice) -> Option<String> {
        match choice {
            TokenChoice::None => None,
            TokenChoice::Invalid => Some(self.invalid.clone()),
            TokenChoice::Named(name) => self
                .by_name
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, value)| value.clone()),
        }
    }

    fn names(&self) -> Vec<String> {
        self.by_name.iter().map(|(n, _)| n.clone()).collect()
    }
}

/// An in-process mock Hub that lives as long as its case.
struct LocalHub {
    hub: MockHub,
    tokens: Tokens,
    /// Whether the case's processes reach it at the real addresses.
    real: bool,
}

impl LocalHub {
    fn new(hub: MockHub, real: bool) -> LocalHub {
        let state = hub.state();
        let student = state.read().student.clone();
        let tokens = Tokens::from_list(student, state.tokens());
        LocalHub { hub, tokens, real }
    }
}

impl CaseHub for LocalHub {
    fn endpoint(&self) -> String {
        if self.real {
            REAL_ENDPOINT.to_string()
        } else {
            self.hub.url().to_string()
        }
    }

    fn hf_endpoint(&self) -> Option<String> {
        (!self.real).then(|| self.hub.url().to_string())
    }

    fn user(&self) -> String {
        self.tokens.user.clone()
    }

    fn token(&self, choice: &TokenChoice) -> Option<String> {
        self.tokens.get(choice)
    }

    fn token_names(&self) -> Vec<String> {
        self.tokens.names()
    }

    fn answer_device_login(&self, user_code: &str, approve: bool) -> Result<(), HubError> {
        // The Hub listens inside the case's network, out of the harness's reach: answer through
        // the same state the approval page changes.
        let state = self.hub.state();
        let result = if approve {
            state.approve_device_code(user_code, Some(&self.tokens.user))
        } else {
            state.deny_device_code(user_code)
        };
        result.map_err(|e| HubError {
            endpoint: self.endpoint(),
            message: format!("answering the browser login {user_code}: {e}"),
        })
    }

    fn requests(&self) -> Result<Vec<LoggedRequest>, HubError> {
        Ok(self.hub.request_log())
    }

    fn grant_gated_access(&self, repo_id: &str) -> Result<(), HubError> {
        let (repo_type, id) = RepoType::from_page_path(repo_id);
        self.hub
            .state()
            .grant_gated_access(repo_type, id, &self.tokens.user)
            .map_err(|e| HubError {
                endpoint: self.endpoint(),
                message: format!("granting gated access to {repo_id}: {e}"),
            })
    }

    fn add_fault(&self, fault: &crate::snippets::annotation::HubFault) -> Result<(), HubError> {
        let status = match fault.status {
            429 => crate::hub::world::FaultStatus::TooManyRequests,
            503 => crate::hub::world::FaultStatus::Unavailable,
            other => {
                return Err(HubError {
                    endpoint: self.endpoint(),
                    message: format!("a fault's status must be 429 or 503, not {other}"),
                });
            }
        };
        self.hub
            .state()
            .add_fault(crate::hub::world::Fault {
                path_prefix: fault.path.clone(),
                method: None,
                status,
                remaining: fault.count,
                retry_after: fault.retry_after,
            })
            .map_err(|e| HubError {
                endpoint: self.endpoint(),
                message: format!("adding a fault for {}: {e}", fault.path),
            })
    }

    fn set_inference_credits(&self, remaining: f64) -> Result<(), HubError> {
        self.hub
            .state()
            .set_inference_credits(&self.tokens.user, remaining)
            .map_err(|e| HubError {
                endpoint: self.endpoint(),
                message: format!("setting the account's Inference Providers credits: {e}"),
            })
    }

    fn oauth_grant(&self, expires_in: u64) -> Result<(String, String), HubError> {
        let grant = self
            .hub
            .state()
            .mint_oauth_grant(&self.tokens.user, expires_in)
            .map_err(|e| HubError {
                endpoint: self.endpoint(),
                message: format!("minting a browser-login token: {e}"),
            })?;
        Ok((grant.access_token, grant.refresh_token))
    }
}

/// A mock Hub started with `mdbook-hubcheck mock-hub`, known by its admin API.
#[derive(Clone)]
pub struct RemoteHub {
    endpoint: String,
    tokens: Tokens,
}

impl RemoteHub {
    /// Checks that `url` is a mock Hub (`GET /__mock/tokens`) and learns its tokens.
    fn connect(url: &str) -> Result<RemoteHub, HubError> {
        let endpoint = url.trim_end_matches('/').to_string();
        let fail = |message: String| HubError {
            endpoint: endpoint.clone(),
            message,
        };
        let list: Vec<TokenInfo> = reqwest::blocking::get(format!("{endpoint}/__mock/tokens"))
            .and_then(|r| r.error_for_status())
            .and_then(|r| r.json())
            .map_err(|e| {
                fail(format!(
                    "GET /__mock/tokens: {e}; --hub must be a mock Hub started with `mdbook-hubcheck mock-hub`"
                ))
            })?;
        let student: serde_json::Value =
            reqwest::blocking::get(format!("{endpoint}/__mock/student"))
                .and_then(|r| r.error_for_status())
                .and_then(|r| r.json())
                .map_err(|e| fail(format!("GET /__mock/student: {e}")))?;
        let user = student["name"].as_str().unwrap_or_default().to_string();
        let tokens = Tokens::from_list(user, list);
        Ok(RemoteHub { endpoint, tokens })
    }

    /// Puts the Hub back to its seed (tokens keep their values) and empties its request log.
    fn reset(&self) -> Result<(), HubError> {
        self.post("/__mock/reset", &[])
    }

    /// POSTs a form to the admin API or a page of the Hub.
    fn post(&self, path: &str, form: &[(&str, &str)]) -> Result<(), HubError> {
        self.send_post(path, |request| request.form(form))
    }

    /// POSTs JSON to the admin API.
    fn post_json(&self, path: &str, body: &serde_json::Value) -> Result<(), HubError> {
        self.send_post(path, |request| request.json(body))
    }

    /// POSTs to `path` with the body `with_body` adds; any answer but a success is an error.
    fn send_post(
        &self,
        path: &str,
        with_body: impl FnOnce(reqwest::blocking::RequestBuilder) -> reqwest::blocking::RequestBuilder,
    ) -> Result<(), HubError> {
        let request = reqwest::blocking::Client::new().post(format!("{}{path}", self.endpoint));
        let response = with_body(request)
            .send()
            .map_err(|e| self.error(format!("POST {path}: {e}")))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(self.error(format!("POST {path} answered {}", response.status())))
        }
    }

    fn error(&self, message: String) -> HubError {
        HubError {
            endpoint: self.endpoint.clone(),
            message,
        }
    }
}

/// A remote Hub as one case sees it: its own endpoint may be a forwarder inside the case's network.
struct RemoteWorld {
    remote: RemoteHub,
    endpoint: String,
}

impl CaseHub for RemoteWorld {
    fn endpoint(&self) -> String {
        self.endpoint.clone()
    }

    fn user(&self) -> String {
        self.remote.tokens.user.clone()
    }

    fn token(&self, choice: &TokenChoice) -> Option<String> {
        self.remote.tokens.get(choice)
    }

    fn token_names(&self) -> Vec<String> {
        self.remote.tokens.names()
    }

    fn answer_device_login(&self, user_code: &str, approve: bool) -> Result<(), HubError> {
        // The approval page's form, as a person's browser sends it.
        let action = if approve { "approve" } else { "deny" };
        let user = self.user();
        self.remote.post(
            "/login/device",
            &[
                ("user_code", user_code),
                ("user", &user),
                ("action", action),
            ],
        )
    }

    fn requests(&self) -> Result<Vec<LoggedRequest>, HubError> {
        reqwest::blocking::get(format!("{}/__mock/requests", self.remote.endpoint))
            .and_then(|r| r.error_for_status())
            .and_then(|r| r.json())
            .map_err(|e| self.remote.error(format!("GET /__mock/requests: {e}")))
    }

    fn grant_gated_access(&self, repo_id: &str) -> Result<(), HubError> {
        let (repo_type, id) = RepoType::from_page_path(repo_id);
        self.remote.post_json(
            &format!("/__mock/repos/{}/{id}/gated-access", repo_type.plural()),
            &serde_json::json!({ "user": self.user() }),
        )
    }

    fn add_fault(&self, fault: &crate::snippets::annotation::HubFault) -> Result<(), HubError> {
        self.remote.post_json(
            "/__mock/faults",
            &serde_json::json!({
                "path_prefix": fault.path,
                "status": fault.status,
                "count": fault.count,
                "retry_after": fault.retry_after,
            }),
        )
    }

    fn set_inference_credits(&self, remaining: f64) -> Result<(), HubError> {
        self.remote.post_json(
            &format!("/__mock/users/{}/credits", self.user()),
            &serde_json::json!({ "remaining": remaining }),
        )
    }

    fn oauth_grant(&self, expires_in: u64) -> Result<(String, String), HubError> {
        let url = format!("{}/__mock/oauth/grants", self.remote.endpoint);
        let grant: crate::hub::state::OAuthGrant = reqwest::blocking::Client::new()
            .post(&url)
            .json(&serde_json::json!({"user": self.user(), "expires_in": expires_in}))
            .send()
            .and_then(|r| r.error_for_status())
            .and_then(|r| r.json())
            .map_err(|e| self.remote.error(format!("POST /__mock/oauth/grants: {e}")))?;
        Ok((grant.access_token, grant.refresh_token))
    }
}
