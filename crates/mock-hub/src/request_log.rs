//! The request log: every request the mock Hub answered, with the token it used described but
//! never its value. A leaf: [`crate::state::HubState`] keeps one and the service in front
//! (`track.rs`) fills it; it takes nothing from either.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use axum::http::{HeaderValue, Method, Uri};
use serde::{Deserialize, Serialize};

use crate::token::{Token, TokenKind};

/// How many requests the log keeps (the oldest are dropped first).
const REQUEST_LOG_CAPACITY: usize = 10_000;

/// The token a logged request used, without its value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "auth", rename_all = "kebab-case")]
pub enum RequestAuth {
    /// No `Authorization` header.
    Anonymous,
    /// A token the Hub knows (possibly expired or revoked).
    Token {
        /// The world file's name for it, when it declares it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// Its kind.
        kind: TokenKind,
        /// Its display name.
        display_name: String,
    },
    /// A malformed header or an unknown token.
    Invalid,
}

/// The token a request used, as the request log keeps it until it is read: the world's own copy
/// of the token at arrival (a reference count; the world copies a token before changing one that
/// is shared), described as a [`RequestAuth`] only when the log is read.
#[derive(Clone, Debug)]
pub(crate) enum SeenAuth {
    /// No `Authorization` header.
    Anonymous,
    /// A token the Hub knows (possibly expired or revoked).
    Token(Arc<Token>),
    /// A malformed header or an unknown token.
    Invalid,
}

impl SeenAuth {
    /// How the log shows it.
    pub(crate) fn describe(&self) -> RequestAuth {
        match self {
            SeenAuth::Anonymous => RequestAuth::Anonymous,
            SeenAuth::Token(t) => RequestAuth::Token {
                name: t.name.clone(),
                kind: t.kind(),
                display_name: t.display_name.clone(),
            },
            SeenAuth::Invalid => RequestAuth::Invalid,
        }
    }
}

/// One request as the mock saw it. Never holds a token value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedRequest {
    /// HTTP method.
    pub method: String,
    /// Path, still percent-encoded.
    pub path: String,
    /// Query string, if any.
    pub query: Option<String>,
    /// Which token was used.
    #[serde(flatten)]
    pub auth: RequestAuth,
    /// The `User-Agent` header, if any.
    pub user_agent: Option<String>,
    /// The answer's status code.
    pub status: u16,
    /// `https` when it came over the HTTPS listener (the real addresses), else `http`.
    #[serde(default = "plain_http")]
    pub scheme: String,
    /// The `Host` header: the name the client addressed (`huggingface.co`,
    /// `router.huggingface.co`, or `127.0.0.1:PORT` on the endpoint path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

/// The scheme of a logged request that does not say: plain HTTP (logs from before the field).
fn plain_http() -> String {
    "http".into()
}

/// The request log: compact entries in a ring of at most [`REQUEST_LOG_CAPACITY`], sharing the
/// strings they repeat (paths, queries, user agents). Once the ring is full, logging a request
/// drops the oldest entry: with shared strings and tokens that frees nothing, where four `String`s
/// per entry cost a `free` each (and the allocations that the next entry made).
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    entries: VecDeque<LogEntry>,
    /// The strings entries share; starts over at [`INTERNED_CAPACITY`] (entries keep theirs).
    strings: HashSet<Arc<str>>,
}

/// How many distinct strings the request log shares before it starts a new set.
const INTERNED_CAPACITY: usize = 4096;

impl RequestLog {
    /// Records a request that [`crate::track::Track`] saw, now that its status is known.
    pub(crate) fn record(&mut self, pending: Pending, status: u16) {
        let user_agent = pending.user_agent.as_ref().and_then(|v| v.to_str().ok());
        let host = pending.host.as_ref().and_then(|v| v.to_str().ok());
        let entry = LogEntry {
            host: host.map(|h| self.intern(h)),
            https: pending.https,
            path: self.intern(pending.uri.path()),
            query: pending.uri.query().map(|q| self.intern(q)),
            user_agent: user_agent.map(|ua| self.intern(ua)),
            method: pending.method,
            auth: pending.auth,
            status,
        };
        self.push(entry);
    }

    /// Every entry as the Rust and HTTP admin APIs show it, oldest first.
    pub(crate) fn logged(&self) -> Vec<LoggedRequest> {
        self.entries.iter().map(LogEntry::to_logged).collect()
    }

    /// The shared copy of `s`.
    fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(shared) = self.strings.get(s) {
            return Arc::clone(shared);
        }
        if self.strings.len() >= INTERNED_CAPACITY {
            self.strings.clear();
        }
        let shared: Arc<str> = Arc::from(s);
        self.strings.insert(Arc::clone(&shared));
        shared
    }

    /// Appends `entry`, dropping the oldest one when the ring is full.
    fn push(&mut self, entry: LogEntry) {
        if self.entries.len() >= REQUEST_LOG_CAPACITY {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }
}

/// One request in the [`RequestLog`]; a [`LoggedRequest`] when read.
#[derive(Debug)]
struct LogEntry {
    method: Method,
    path: Arc<str>,
    query: Option<Arc<str>>,
    auth: SeenAuth,
    user_agent: Option<Arc<str>>,
    status: u16,
    https: bool,
    host: Option<Arc<str>>,
}

impl LogEntry {
    /// The entry as the Rust and HTTP admin APIs show it.
    fn to_logged(&self) -> LoggedRequest {
        LoggedRequest {
            method: self.method.as_str().to_string(),
            path: self.path.to_string(),
            query: self.query.as_deref().map(str::to_string),
            auth: self.auth.describe(),
            user_agent: self.user_agent.as_deref().map(str::to_string),
            status: self.status,
            scheme: if self.https { "https" } else { "http" }.into(),
            host: self.host.as_deref().map(str::to_string),
        }
    }
}

/// What [`crate::track::Track`] logs once the answer is known: the request's parts the log keeps,
/// taken when it arrives (defined beside the log, so neither the state nor the log needs
/// anything from the service in front of it).
pub(crate) struct Pending {
    /// The request's method.
    pub method: Method,
    /// Its URI (path and query; shares the request's bytes).
    pub uri: Uri,
    /// The token it used.
    pub auth: SeenAuth,
    /// Its `User-Agent` header.
    pub user_agent: Option<HeaderValue>,
    /// Its `Host` header (or the URI's authority).
    pub host: Option<HeaderValue>,
    /// Whether it came over the HTTPS listener.
    pub https: bool,
}
