//! The shared, lockable state behind every handler, and the Rust admin API over it.
//!
//! Tests and the harness change the world through [`HubState`] (add users, tokens, repositories,
//! approve device codes, read the request log); the `/__mock/` HTTP routes in `admin.rs` call the
//! same methods. Locks are never held across an `.await`, and a poisoned lock is recovered rather
//! than turned into a panic.
//!
//! Why one file of about 700 lines: one short method per change the admin API offers (a user, a
//! token, a repository, a fault, a device code, ...), each a lock, a check and a change, kept
//! together because each must keep the same locking rule. The request log is in `request_log.rs`.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use serde::{Deserialize, Serialize};

use crate::request_log::RequestLog;
pub use crate::request_log::{LoggedRequest, RequestAuth};
pub(crate) use crate::request_log::{Pending, SeenAuth};

use super::world::{
    DeviceCodeStatus, Fault, FileContent, FineGrainedScope, Org, OrgRole, RefreshToken, RepoType,
    SeededToken, Token, TokenKind, TokenRole, TokenStatus, User, World, WorldError,
    generate_token_value,
};

/// Who is calling, as worked out from the `Authorization` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// No `Authorization` header.
    Anonymous,
    /// A known, active token (shared with the world: a caller costs a reference count).
    Token(Arc<Token>),
    /// A header that is malformed, or names an unknown, expired or revoked token.
    Invalid,
}

impl Caller {
    /// The token, if the caller has a valid one.
    pub fn token(&self) -> Option<&Token> {
        match self {
            Caller::Token(t) => Some(t),
            _ => None,
        }
    }
}

/// A token as listed by the admin API: its value plus who owns it and what it may do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    /// The world file's name for it; absent for tokens made at run time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its kind.
    pub kind: TokenKind,
    /// Display name.
    pub display_name: String,
    /// The secret value.
    pub value: String,
    /// The owning user.
    pub user: String,
    /// `read`, `write` or `fineGrained`.
    pub role: String,
    /// Active, expired or revoked.
    pub status: TokenStatus,
}

impl From<&Token> for TokenInfo {
    fn from(t: &Token) -> Self {
        TokenInfo {
            name: t.name.clone(),
            kind: t.kind(),
            display_name: t.display_name.clone(),
            value: t.value.clone(),
            user: t.user.clone(),
            role: t.role_name().to_string(),
            status: t.status,
        }
    }
}

/// A request to add a token.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewToken {
    /// The value; generated when absent.
    pub value: Option<String>,
    /// The display name.
    pub display_name: String,
    /// The owning user (must exist).
    pub user: String,
    /// `read`, `write` or `fineGrained`; defaults to `read`.
    pub role: Option<String>,
    /// For fine-grained tokens: what they may do.
    pub scope: FineGrainedScope,
    /// Defaults to active.
    pub status: TokenStatus,
    /// Organisations the token is limited to (its user's own namespace stays allowed).
    pub orgs: Option<Vec<String>>,
}

/// An OAuth token pair as `/oauth/token` hands it out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthGrant {
    /// The access token (a write token of the user, reported as `oauth` by whoami).
    pub access_token: String,
    /// The refresh token that mints the next pair.
    pub refresh_token: String,
    /// Seconds until the access token stops working (may be 0: already expired).
    pub expires_in: u64,
    /// The user the tokens belong to.
    pub user: String,
}

/// One file of a [`NewRepo`]: exactly one of `content`, `content_base64` or `generated_size`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewFile {
    /// Path in the repository.
    pub path: String,
    /// UTF-8 text content.
    pub content: Option<String>,
    /// Binary content, base64.
    pub content_base64: Option<String>,
    /// Size of deterministic generated content (streamed, not held in memory).
    pub generated_size: Option<u64>,
}

/// A request to add a repository, or add files to an existing one.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewRepo {
    /// `ns/name`.
    pub id: String,
    /// Model (default), dataset or space.
    #[serde(rename = "type")]
    pub repo_type: RepoType,
    /// Whether the repository is private.
    pub private: bool,
    /// Whether the repository is gated.
    pub gated: bool,
    /// Users approved for the gate.
    pub gated_approved: Vec<String>,
    /// Files committed on `main` in one commit.
    pub files: Vec<NewFile>,
    /// The commit title; defaults to `Add files`.
    pub summary: Option<String>,
}

/// The shared state of one mock Hub: the world, the seed it can be reset to, and the request
/// log. Cheap to clone.
#[derive(Clone, Debug)]
pub struct HubState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    world: RwLock<World>,
    seed: World,
    log: Mutex<RequestLog>,
    /// Counts write locks taken on `world`: a body cached at one value is still right while the
    /// value is the same.
    generation: AtomicU64,
    /// Response bodies worked out from the world, by key, with the generation they were made at.
    bodies: Mutex<HashMap<String, (u64, Bytes)>>,
}

/// How many cached bodies are kept before the cache starts over.
const BODY_CACHE_CAPACITY: usize = 1024;

/// The current time as Unix seconds.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The current time in the ISO 8601 form the Hub uses, e.g. `2026-11-29T10:00:00.000Z`.
pub(crate) fn iso_now() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

impl HubState {
    /// Wraps `world`; [`HubState::reset`] returns to this same world.
    pub fn new(world: World) -> HubState {
        HubState {
            inner: Arc::new(Inner {
                world: RwLock::new(world.clone()),
                seed: world,
                log: Mutex::new(RequestLog::default()),
                generation: AtomicU64::new(0),
                bodies: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Read access to the world.
    pub fn read(&self) -> RwLockReadGuard<'_, World> {
        self.inner
            .world
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Write access to the world. Every cached body (`HubState::cached_body`) is stale from here.
    pub fn write(&self) -> RwLockWriteGuard<'_, World> {
        let guard = self
            .inner
            .world
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Bumped while the write lock is held: a reader that holds the read lock sees either the
        // world before this writer with the old value, or the world after it with the new one.
        self.inner.generation.fetch_add(1, Ordering::Relaxed);
        guard
    }

    /// The body stored under `key` if the world has not been written since it was made, else the
    /// one `make` builds from the world now (`None`: nothing to cache, e.g. the token is gone).
    /// For answers that depend only on the world and the key, such as whoami-v2 for a token.
    pub(crate) fn cached_body(
        &self,
        key: &str,
        make: impl FnOnce(&World) -> Option<Bytes>,
    ) -> Option<Bytes> {
        let world = self.read();
        let generation = self.inner.generation.load(Ordering::Relaxed);
        let lock = || {
            self.inner
                .bodies
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        };
        if let Some((made_at, body)) = lock().get(key)
            && *made_at == generation
        {
            return Some(body.clone());
        }
        let body = make(&world)?;
        let mut bodies = lock();
        if bodies.len() >= BODY_CACHE_CAPACITY {
            bodies.clear();
        }
        bodies.insert(key.to_string(), (generation, body.clone()));
        Some(body)
    }

    /// Works out who is calling from the `Authorization` header.
    pub fn identify(&self, headers: &HeaderMap) -> Caller {
        let Some(raw) = headers.get(AUTHORIZATION) else {
            return Caller::Anonymous;
        };
        let Some(value) = bearer_value(raw) else {
            return Caller::Invalid;
        };
        match self.read().tokens.get(value) {
            Some(t) if t.usable_at(unix_now()) => Caller::Token(Arc::clone(t)),
            _ => Caller::Invalid,
        }
    }

    /// How the log records the `Authorization` header (never the value).
    pub fn describe_auth(&self, headers: &HeaderMap) -> RequestAuth {
        let Some(raw) = headers.get(AUTHORIZATION) else {
            return RequestAuth::Anonymous;
        };
        let value = bearer_value(raw);
        match value.and_then(|v| self.read().tokens.get(v).cloned()) {
            Some(t) => SeenAuth::Token(t).describe(),
            None => RequestAuth::Invalid,
        }
    }

    /// [`HubState::identify`] and how the log records the token, under one read lock, plus
    /// whether the world has pending faults or moved repositories (so the request may need an
    /// early answer): what [`super::track::Track`] needs for every request.
    pub(crate) fn arrival(&self, headers: &HeaderMap) -> (Caller, SeenAuth, bool) {
        let world = self.read();
        let early = !world.faults.is_empty() || !world.moved.is_empty();
        let Some(raw) = headers.get(AUTHORIZATION) else {
            return (Caller::Anonymous, SeenAuth::Anonymous, early);
        };
        match bearer_value(raw).and_then(|v| world.tokens.get(v)) {
            Some(t) => {
                let caller = if t.usable_at(unix_now()) {
                    Caller::Token(Arc::clone(t))
                } else {
                    Caller::Invalid
                };
                (caller, SeenAuth::Token(Arc::clone(t)), early)
            }
            None => (Caller::Invalid, SeenAuth::Invalid, early),
        }
    }

    /// Puts the world back to what it was at start (tokens keep their values) and clears the
    /// request log.
    pub fn reset(&self) {
        *self.write() = self.inner.seed.clone();
        self.clear_request_log();
    }

    /// The declared tokens, in the world file's order.
    pub fn seeded_tokens(&self) -> Vec<SeededToken> {
        self.read().seeded_tokens.clone()
    }

    /// Every token the Hub knows, with values.
    pub fn tokens(&self) -> Vec<TokenInfo> {
        self.read()
            .tokens
            .values()
            .map(|t| TokenInfo::from(&**t))
            .collect()
    }

    /// Adds a user; replaces one of the same name.
    pub fn add_user(&self, user: User) -> Result<(), WorldError> {
        super::world::validate_repo_id(&format!("{}/x", user.name)).map_err(WorldError::Invalid)?;
        self.write().users.insert(user.name.clone(), user);
        Ok(())
    }

    /// Adds an organisation; every member must exist.
    pub fn add_org(&self, org: Org) -> Result<(), WorldError> {
        super::world::validate_repo_id(&format!("{}/x", org.name)).map_err(WorldError::Invalid)?;
        let mut org = org;
        org.members.extend(org.roles.keys().cloned());
        let mut w = self.write();
        if let Some(missing) = org.members.iter().find(|m| !w.users.contains_key(*m)) {
            return Err(WorldError::UnknownUser(missing.clone()));
        }
        w.orgs.insert(org.name.clone(), org);
        Ok(())
    }

    /// Gives `user` (who must exist) `role` in the organisation `org`, adding them as a member.
    pub fn set_org_role(&self, org: &str, user: &str, role: OrgRole) -> Result<(), WorldError> {
        let mut w = self.write();
        if !w.users.contains_key(user) {
            return Err(WorldError::UnknownUser(user.into()));
        }
        let org = w
            .orgs
            .get_mut(org)
            .ok_or_else(|| WorldError::UnknownOrg(org.into()))?;
        org.members.insert(user.into());
        org.roles.insert(user.into(), role);
        Ok(())
    }

    /// Makes new repositories of the organisation private by default (or not).
    pub fn set_org_private_by_default(&self, org: &str, private: bool) -> Result<(), WorldError> {
        let mut w = self.write();
        let org = w
            .orgs
            .get_mut(org)
            .ok_or_else(|| WorldError::UnknownOrg(org.into()))?;
        org.private_by_default = private;
        Ok(())
    }

    /// Mints an OAuth token pair for `user`, as an approved browser login does; the access token
    /// stops working after `expires_in` seconds (0: at once, as for a stored token that expired).
    pub fn mint_oauth_grant(&self, user: &str, expires_in: u64) -> Result<OAuthGrant, WorldError> {
        let mut w = self.write();
        if !w.users.contains_key(user) {
            return Err(WorldError::UnknownUser(user.into()));
        }
        Ok(mint_oauth(&mut w, user, expires_in))
    }

    /// Exchanges a refresh token for a new pair for the same user; the old access token and the
    /// old refresh token stop working. `None` for an unknown or spent refresh token.
    pub fn refresh_oauth_grant(&self, refresh_token: &str) -> Option<OAuthGrant> {
        let mut w = self.write();
        let old = w.refresh_tokens.remove(refresh_token)?;
        if let Some(t) = w.tokens.get_mut(&old.access_token) {
            Arc::make_mut(t).status = TokenStatus::Revoked;
        }
        let lifetime = w.settings.oauth_expires_in_secs;
        Some(mint_oauth(&mut w, &old.user, lifetime))
    }

    /// Makes the stored OAuth access token `value` expire `in_secs` seconds from now.
    pub fn expire_oauth_token(&self, value: &str, in_secs: u64) -> Result<(), WorldError> {
        let mut w = self.write();
        let token = w
            .tokens
            .get_mut(value)
            .filter(|t| t.oauth)
            .ok_or_else(|| WorldError::Invalid("unknown OAuth token".into()))?;
        Arc::make_mut(token).expires_at = Some(unix_now() + in_secs);
        Ok(())
    }

    /// Adds a fault: the next `remaining` matching requests answer 429 or 503.
    pub fn add_fault(&self, fault: Fault) -> Result<(), WorldError> {
        if !fault.path_prefix.starts_with('/') || fault.path_prefix.starts_with("/__mock") {
            return Err(WorldError::Invalid(
                "path_prefix must start with `/` and not be an admin path".into(),
            ));
        }
        self.write().faults.push(fault);
        Ok(())
    }

    /// The faults still pending.
    pub fn faults(&self) -> Vec<Fault> {
        self.read().faults.clone()
    }

    /// Removes every pending fault.
    pub fn clear_faults(&self) {
        self.write().faults.clear();
    }

    /// Takes one use of the first fault matching `method` and `path`, if any.
    pub fn take_fault(&self, method: &str, path: &str) -> Option<Fault> {
        if self.read().faults.is_empty() {
            return None;
        }
        let mut w = self.write();
        let index = w.faults.iter().position(|f| {
            path.starts_with(&f.path_prefix)
                && f.method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
        })?;
        let fault = w.faults[index].clone();
        w.faults[index].remaining = w.faults[index].remaining.saturating_sub(1);
        if w.faults[index].remaining == 0 {
            w.faults.remove(index);
        }
        Some(fault)
    }

    /// Adds a token for an existing user and returns it.
    pub fn add_token(&self, new: NewToken) -> Result<TokenInfo, WorldError> {
        let role = match new.role.as_deref().unwrap_or("read") {
            "read" => TokenRole::Read,
            "write" => TokenRole::Write,
            "fineGrained" | "fine-grained" => TokenRole::FineGrained(new.scope),
            other => return Err(WorldError::Invalid(format!("unknown token role `{other}`"))),
        };
        let value = new.value.unwrap_or_else(generate_token_value);
        if value.is_empty() || value.chars().any(|c| c.is_control() || c == ' ') {
            return Err(WorldError::Invalid(
                "a token value must be non-empty, without spaces or control characters".into(),
            ));
        }
        let mut w = self.write();
        if !w.users.contains_key(&new.user) {
            return Err(WorldError::UnknownUser(new.user));
        }
        if w.tokens.contains_key(&value) {
            return Err(WorldError::Exists("a token with this value".into()));
        }
        let mut token = Token::new(value.clone(), new.display_name, new.user, role);
        token.status = new.status;
        token.orgs = new.orgs;
        let info = TokenInfo::from(&token);
        w.tokens.insert(value, Arc::new(token));
        Ok(info)
    }

    /// Sets a token's status (e.g. revokes it).
    pub fn set_token_status(&self, value: &str, status: TokenStatus) -> Result<(), WorldError> {
        let mut w = self.write();
        let token = w
            .tokens
            .get_mut(value)
            .ok_or_else(|| WorldError::Invalid("unknown token".into()))?;
        Arc::make_mut(token).status = status;
        Ok(())
    }

    /// Adds a repository with files, or adds the files to an existing one in a new commit.
    /// Returns the head commit id.
    pub fn put_repo(&self, new: NewRepo) -> Result<String, WorldError> {
        use base64::Engine as _;
        let mut files = Vec::new();
        for f in new.files {
            let content = match (f.content, f.content_base64, f.generated_size) {
                (Some(text), None, None) => FileContent::Bytes(text.into_bytes().into()),
                (None, Some(b64), None) => FileContent::Bytes(
                    base64::engine::general_purpose::STANDARD
                        .decode(b64.as_bytes())
                        .map_err(|e| WorldError::Invalid(format!("{}: bad base64: {e}", f.path)))?
                        .into(),
                ),
                (None, None, Some(len)) => FileContent::Generated {
                    seed: f.path.bytes().fold(0xF11E, |h, b| {
                        h.wrapping_mul(0x100_0000_01B3) ^ u64::from(b)
                    }),
                    len,
                },
                _ => {
                    return Err(WorldError::Invalid(format!(
                        "{}: give exactly one of content, content_base64, generated_size",
                        f.path
                    )));
                }
            };
            files.push((f.path, content));
        }
        // Hash before taking the lock: large generated files take a while.
        let files = super::world::hash_files(files)?;
        let now = iso_now();
        let mut w = self.write();
        let repo = match w.repo_mut(new.repo_type, &new.id) {
            Some(repo) => repo,
            None => w.create_repo(new.repo_type, &new.id, new.private, &now)?,
        };
        repo.private = new.private;
        repo.gated = new.gated;
        repo.gated_approved.extend(new.gated_approved);
        let head = repo.head().map(|c| c.id.clone()).unwrap_or_default();
        if files.is_empty() {
            return Ok(head);
        }
        let summary = new.summary.unwrap_or_else(|| "Add files".into());
        w.commit_hashed(new.repo_type, &new.id, &summary, files, &now)
    }

    /// Approves `user` for the gated repository `id`.
    pub fn grant_gated_access(
        &self,
        repo_type: RepoType,
        id: &str,
        user: &str,
    ) -> Result<(), WorldError> {
        let mut w = self.write();
        if !w.users.contains_key(user) {
            return Err(WorldError::UnknownUser(user.into()));
        }
        let repo = w
            .repo_mut(repo_type, id)
            .ok_or_else(|| WorldError::UnknownRepo(id.into()))?;
        repo.gated_approved.insert(user.into());
        Ok(())
    }

    /// The device codes issued so far (without their secret device_code).
    pub fn device_codes(&self) -> Vec<super::world::DeviceCode> {
        self.read().device_codes.clone()
    }

    /// Sets the Inference Providers credits `user` has left, in US dollars (at least 0).
    pub fn set_inference_credits(&self, user: &str, remaining: f64) -> Result<(), WorldError> {
        if remaining.is_nan() || remaining < 0.0 {
            return Err(WorldError::Invalid(
                "remaining credits must be 0 or more".into(),
            ));
        }
        let mut w = self.write();
        let account = w
            .users
            .get_mut(user)
            .ok_or_else(|| WorldError::UnknownUser(user.to_string()))?;
        account.inference_credits = remaining;
        Ok(())
    }

    /// Approves a pending device code for `user` (the world's student when `None`).
    pub fn approve_device_code(
        &self,
        user_code: &str,
        user: Option<&str>,
    ) -> Result<(), WorldError> {
        let user = match user {
            Some(u) => u.to_string(),
            None => self.read().student.clone(),
        };
        let mut w = self.write();
        if !w.users.contains_key(&user) {
            return Err(WorldError::UnknownUser(user));
        }
        let code = pending_device_code(&mut w, user_code)?;
        code.status = DeviceCodeStatus::Approved;
        code.user = Some(user);
        Ok(())
    }

    /// Denies a pending device code.
    pub fn deny_device_code(&self, user_code: &str) -> Result<(), WorldError> {
        let mut w = self.write();
        let code = pending_device_code(&mut w, user_code)?;
        code.status = DeviceCodeStatus::Denied;
        Ok(())
    }

    /// Records a request that [`super::track::Track`] saw, now that its status is known.
    pub(crate) fn log_pending(&self, pending: Pending, status: u16) {
        self.lock_log().record(pending, status);
    }

    /// The request log, locked.
    fn lock_log(&self) -> MutexGuard<'_, RequestLog> {
        self.inner
            .log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every logged request, oldest first (at most the last 10 000).
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.lock_log().logged()
    }

    /// Empties the request log.
    pub fn clear_request_log(&self) {
        *self.lock_log() = RequestLog::default();
    }

    /// Names of all users (for the approval page).
    pub fn user_names(&self) -> BTreeSet<String> {
        self.read().users.keys().cloned().collect()
    }
}

/// Mints an OAuth access token (a write token, reported as `oauth`) and its refresh token.
pub(crate) fn mint_oauth(world: &mut World, user: &str, expires_in: u64) -> OAuthGrant {
    let access = generate_token_value();
    let refresh = format!(
        "hf_oauth_refresh_{}",
        generate_token_value().trim_start_matches("hf_")
    );
    let mut token = Token::new(
        access.clone(),
        format!("oauth-{user}"),
        user.to_string(),
        TokenRole::Write,
    );
    token.oauth = true;
    token.expires_at = Some(unix_now() + expires_in);
    world.tokens.insert(access.clone(), Arc::new(token));
    world.refresh_tokens.insert(
        refresh.clone(),
        RefreshToken {
            user: user.to_string(),
            access_token: access.clone(),
        },
    );
    OAuthGrant {
        access_token: access,
        refresh_token: refresh,
        expires_in,
        user: user.to_string(),
    }
}

/// The token of an `Authorization: Bearer <token>` header; `None` when the header has another form.
fn bearer_value(raw: &axum::http::HeaderValue) -> Option<&str> {
    raw.to_str()
        .ok()
        .and_then(|t| t.split_at_checked(7))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer "))
        .map(|(_, v)| v)
}

/// The device code a person typed (any case), if it still waits for an answer.
fn pending_device_code<'w>(
    world: &'w mut World,
    user_code: &str,
) -> Result<&'w mut super::world::DeviceCode, WorldError> {
    let code = world
        .device_codes
        .iter_mut()
        .find(|c| c.user_code.eq_ignore_ascii_case(user_code))
        .ok_or_else(|| WorldError::UnknownDeviceCode(user_code.into()))?;
    if code.status != DeviceCodeStatus::Pending {
        return Err(WorldError::Invalid(format!(
            "device code `{user_code}` is not pending"
        )));
    }
    Ok(code)
}
