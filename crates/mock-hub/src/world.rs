//! Everything the mock Hub knows: users, organisations, tokens, repositories with their commit
//! history, and pending OAuth device codes.
//!
//! The world is plain data with no locking and no HTTP in it, so the access rules (who may read or
//! write what) can be read and tested on their own. A book declares its world in a file
//! ([`super::world_file`]); token values are generated when it is read and never appear in
//! source.
//!
//! Why one file of about 700 lines: the [`World`] and its access rules (who may read or write
//! which repository, with which token) are one `impl`, so the rules read together. The tokens are
//! in `token.rs`, repositories in `repo.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::body::Bytes;
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

use super::generate;

pub use crate::content::FileContent;
pub(crate) use crate::content::splitmix64;
pub use crate::repo::{Commit, Repo, RepoFile, is_commit_id};
pub use crate::repo_type::RepoType;
pub use crate::token::{
    FineGrainedScope, ScopedPermission, SeededToken, Token, TokenKind, TokenRole, TokenStatus,
};
pub use crate::token_value::{TOKEN_BODY_LENGTH, TOKEN_PREFIX, generate_token_value};

/// An account's plan, which sets whoami-v2's `isPro` and the monthly Inference Providers credits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    /// A free account: US$0.10 of Inference Providers credits a month.
    #[default]
    Free,
    /// A PRO account: US$2.00 a month.
    Pro,
}

impl Plan {
    /// The monthly included Inference Providers credits, in US dollars (the Hub's pricing page).
    pub fn monthly_credits(self) -> f64 {
        match self {
            Plan::Free => 0.10,
            Plan::Pro => 2.00,
        }
    }
}

/// A Hub user account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// The user name (the namespace of their repositories).
    pub name: String,
    /// The full name shown by whoami-v2.
    #[serde(default)]
    pub fullname: String,
    /// The e-mail address shown by whoami-v2.
    #[serde(default)]
    pub email: String,
    /// Free or PRO.
    #[serde(default)]
    pub plan: Plan,
    /// Inference Providers credits left this month, in US dollars.
    #[serde(default = "free_monthly_credits")]
    pub inference_credits: f64,
}

fn free_monthly_credits() -> f64 {
    Plan::Free.monthly_credits()
}

impl Default for User {
    fn default() -> User {
        User {
            name: String::new(),
            fullname: String::new(),
            email: String::new(),
            plan: Plan::Free,
            inference_credits: free_monthly_credits(),
        }
    }
}

/// A member's role in an organisation, as on the Hub's organisation pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrgRole {
    /// Reads every repository of the organisation, private ones included; writes none.
    Read,
    /// Read, plus creating repositories and writing to the ones they created.
    Contributor,
    /// Writes to, creates, deletes and moves every repository of the organisation.
    Write,
    /// Write, plus managing the organisation (members, settings).
    Admin,
}

impl OrgRole {
    /// The word whoami-v2 reports as `roleInOrg`.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgRole::Read => "read",
            OrgRole::Contributor => "contributor",
            OrgRole::Write => "write",
            OrgRole::Admin => "admin",
        }
    }
}

/// A Hub organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Org {
    /// The organisation name (the namespace of its repositories).
    pub name: String,
    /// The full name shown by whoami-v2.
    #[serde(default)]
    pub fullname: String,
    /// User names of the members; a member without an entry in `roles` has the `write` role.
    #[serde(default)]
    pub members: BTreeSet<String>,
    /// Each member's role (members listed only here are members too).
    #[serde(default)]
    pub roles: BTreeMap<String, OrgRole>,
    /// Whether repositories created in the organisation are private unless asked otherwise.
    #[serde(default)]
    pub private_by_default: bool,
}

impl Org {
    /// The role of `user`, if they are a member.
    pub fn role_of(&self, user: &str) -> Option<OrgRole> {
        match self.roles.get(user) {
            Some(role) => Some(*role),
            None if self.members.contains(user) => Some(OrgRole::Write),
            None => None,
        }
    }
}

/// What a model is served for by Inference Providers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InferenceTask {
    /// Chat completion.
    Conversational,
    /// Plain text generation (`text_generation`).
    TextGeneration,
    /// Embeddings (`feature_extraction`).
    FeatureExtraction,
}

impl InferenceTask {
    /// The task word of the provider mapping.
    pub fn as_str(self) -> &'static str {
        match self {
            InferenceTask::Conversational => "conversational",
            InferenceTask::TextGeneration => "text-generation",
            InferenceTask::FeatureExtraction => "feature-extraction",
        }
    }
}

/// A model the router serves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InferenceModel {
    /// The Hub model id.
    pub model: String,
    /// Providers that serve it, in preference order (`auto` takes the first).
    pub providers: Vec<String>,
    /// What it is served for.
    pub task: InferenceTask,
    /// The answer of every chat completion or text generation.
    pub reply: String,
    /// US dollars each answered call costs.
    pub cost: f64,
}

/// The state of an OAuth device code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceCodeStatus {
    /// Waiting for the user to approve or deny it.
    Pending,
    /// Approved; the next poll receives a token.
    Approved,
    /// Denied; the next poll receives `access_denied`.
    Denied,
    /// The token was handed out; the code is spent.
    Used,
}

/// An OAuth device code issued by `/oauth/device`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceCode {
    /// The secret the client polls with.
    #[serde(skip_serializing)]
    pub device_code: String,
    /// The short code the user types on the approval page (`ABCD-EFGH`).
    pub user_code: String,
    /// Where it stands.
    pub status: DeviceCodeStatus,
    /// The user it was approved for.
    pub user: Option<String>,
    /// When it stops being valid (Unix seconds).
    pub expires_at: u64,
}

/// Settings that shape the mock's answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The polling `interval` sent by `/oauth/device`, in seconds (the real Hub says 5).
    pub device_interval_secs: u64,
    /// The `expires_in` of device codes, in seconds.
    pub device_expires_in_secs: u64,
    /// When set, new device codes are approved at once for this user (handy for unattended
    /// `hf auth login` runs).
    pub auto_approve_device_for: Option<String>,
    /// Lifetime of OAuth access tokens, in seconds (the `expires_in` of `/oauth/token`).
    pub oauth_expires_in_secs: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            device_interval_secs: 1,
            device_expires_in_secs: 900,
            auto_approve_device_for: None,
            oauth_expires_in_secs: 30 * 86_400,
        }
    }
}

/// Errors from changing the world.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WorldError {
    /// A referenced user does not exist.
    #[error("unknown user `{0}`")]
    UnknownUser(String),
    /// A referenced organisation does not exist.
    #[error("unknown organisation `{0}`")]
    UnknownOrg(String),
    /// A referenced repository does not exist.
    #[error("unknown repository `{0}`")]
    UnknownRepo(String),
    /// A referenced device code does not exist.
    #[error("unknown device code `{0}`")]
    UnknownDeviceCode(String),
    /// A name or path failed validation.
    #[error("{0}")]
    Invalid(String),
    /// A value that must be unique is taken.
    #[error("{0} already exists")]
    Exists(String),
}

/// Everything the mock Hub serves.
#[derive(Clone, Debug, Default)]
pub struct World {
    /// Users by name.
    pub users: BTreeMap<String, User>,
    /// Organisations by name.
    pub orgs: BTreeMap<String, Org>,
    /// Tokens by value.
    pub tokens: BTreeMap<String, Arc<Token>>,
    /// Repositories by type and id.
    pub repos: BTreeMap<(RepoType, String), Repo>,
    /// The account scenarios act as: `{user}` in a book, the browser login, gated approvals.
    pub student: String,
    /// The tokens the world file declares, in the file's order.
    pub seeded_tokens: Vec<SeededToken>,
    /// OAuth device codes issued so far.
    pub device_codes: Vec<DeviceCode>,
    /// Answer-shaping settings.
    pub settings: Settings,
    /// Counter mixed into commit ids so that equal commits still get new ids.
    pub commit_counter: u64,
    /// Old repository ids (lower case) that now redirect to a moved repository's id.
    pub moved: BTreeMap<(RepoType, String), String>,
    /// OAuth refresh tokens by value.
    pub refresh_tokens: BTreeMap<String, RefreshToken>,
    /// Faults asked for through the admin API, answered before any handler runs.
    pub faults: Vec<Fault>,
    /// The models Inference Providers serve (`inference.rs`).
    pub inference: Vec<InferenceModel>,
    /// What Xet uploads left in the mock's CAS, and the Xet tokens handed out
    /// ([`super::xet`]).
    pub xet: super::xet::XetStore,
}

/// An OAuth refresh token: which user it belongs to and the access token it last produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshToken {
    /// The user the tokens belong to.
    pub user: String,
    /// The access token minted with it; it stops working when this refresh token is used.
    pub access_token: String,
}

/// The error status a [`Fault`] answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FaultStatus {
    /// 429 Too Many Requests, with `Retry-After`.
    #[serde(rename = "429")]
    TooManyRequests,
    /// 503 Service Unavailable.
    #[serde(rename = "503")]
    Unavailable,
}

/// The next `remaining` requests whose path starts with `path_prefix` (and whose method
/// matches, when given) are answered with `status`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    /// Requests whose path starts with this are affected.
    pub path_prefix: String,
    /// Only this method, when set (`GET`, `HEAD`, `POST`, ...).
    #[serde(default)]
    pub method: Option<String>,
    /// 429 or 503.
    pub status: FaultStatus,
    /// How many more requests get the fault.
    pub remaining: u32,
    /// The `Retry-After` seconds sent with the answer (429 always sends one; default 1).
    #[serde(default)]
    pub retry_after: Option<u64>,
}

impl World {
    /// An empty world: no users, no tokens, no repositories.
    pub fn empty() -> World {
        World::default()
    }

    /// The first declared token of `kind`, if this world has one.
    pub fn seeded_token(&self, kind: TokenKind) -> Option<&SeededToken> {
        self.seeded_tokens.iter().find(|t| t.kind == kind)
    }

    /// The declared token a scenario names (`token = "read"`).
    pub fn token_named(&self, name: &str) -> Option<&SeededToken> {
        self.seeded_tokens.iter().find(|t| t.name == name)
    }

    /// The organisations `user` belongs to.
    pub fn orgs_of(&self, user: &str) -> Vec<&Org> {
        self.orgs
            .values()
            .filter(|o| o.role_of(user).is_some())
            .collect()
    }

    /// The organisation named `namespace` (any case).
    pub fn org(&self, namespace: &str) -> Option<&Org> {
        self.orgs.get(namespace).or_else(|| {
            self.orgs
                .values()
                .find(|o| o.name.eq_ignore_ascii_case(namespace))
        })
    }

    /// What `user` may do in `namespace`: their own namespace counts as `admin`.
    pub fn role_in(&self, user: &str, namespace: &str) -> Option<OrgRole> {
        if user.eq_ignore_ascii_case(namespace) {
            return Some(OrgRole::Admin);
        }
        self.org(namespace).and_then(|o| o.role_of(user))
    }

    /// Whether `user` may write to repositories in `namespace` (their own or an org's where they
    /// hold the `write` or `admin` role).
    pub fn user_can_write_namespace(&self, user: &str, namespace: &str) -> bool {
        self.role_in(user, namespace)
            .is_some_and(|r| r >= OrgRole::Write)
    }

    /// Whether `user` may write to `repo`: `write`/`admin` in its namespace, or `contributor`
    /// and its creator.
    fn user_can_write_repo(&self, user: &str, repo: &Repo) -> bool {
        match self.role_in(user, repo.namespace()) {
            Some(OrgRole::Write | OrgRole::Admin) => true,
            Some(OrgRole::Contributor) => repo.created_by.as_deref() == Some(user),
            _ => false,
        }
    }

    /// Whether `token` may see `repo` at all (public, or private and allowed).
    pub fn token_can_see(&self, token: Option<&Token>, repo: &Repo) -> bool {
        if !repo.private {
            return true;
        }
        let Some(token) = token else { return false };
        if !token.allows_namespace(repo.namespace())
            || self.role_in(&token.user, repo.namespace()).is_none()
        {
            return false;
        }
        match &token.role {
            TokenRole::Read | TokenRole::Write => true,
            TokenRole::FineGrained(scope) => scope.can_read(repo),
        }
    }

    /// Whether `token` may commit to `repo` directly (and change its branches, tags, settings,
    /// delete or move it).
    pub fn token_can_write(&self, token: &Token, repo: &Repo) -> bool {
        if !token.allows_namespace(repo.namespace()) || !self.user_can_write_repo(&token.user, repo)
        {
            return false;
        }
        match &token.role {
            TokenRole::Read => false,
            TokenRole::Write => true,
            TokenRole::FineGrained(scope) => scope.can_write(repo),
        }
    }

    /// Whether `token` may create repositories in `namespace` (`contributor` and up).
    pub fn token_can_create(&self, token: &Token, namespace: &str) -> bool {
        let role_ok = self
            .role_in(&token.user, namespace)
            .is_some_and(|r| r >= OrgRole::Contributor);
        if !role_ok || !token.allows_namespace(namespace) {
            return false;
        }
        match &token.role {
            TokenRole::Read => false,
            TokenRole::Write => true,
            TokenRole::FineGrained(scope) => scope.can_create_in(namespace),
        }
    }

    /// Whether `token` may download files from the gated `repo`.
    pub fn token_passes_gate(&self, token: &Token, repo: &Repo) -> bool {
        // Only the approval list counts, even for members of the repository's own organisation:
        // the real Hub gates them too.
        let approved = repo.gated_approved.contains(&token.user);
        match &token.role {
            TokenRole::FineGrained(scope) => {
                approved && (scope.can_read_gated_repos || scope.names_repo(repo))
            }
            _ => approved,
        }
    }

    /// The stored key of a repository, matching `id` without regard to case.
    fn repo_key(&self, repo_type: RepoType, id: &str) -> Option<(RepoType, String)> {
        let exact = (repo_type, id.to_string());
        if self.repos.contains_key(&exact) {
            return Some(exact);
        }
        self.repos
            .keys()
            .find(|(t, k)| *t == repo_type && k.eq_ignore_ascii_case(id))
            .cloned()
    }

    /// Looks up a repository (the id in any case, as on the Hub).
    pub fn repo(&self, repo_type: RepoType, id: &str) -> Option<&Repo> {
        self.repo_key(repo_type, id)
            .and_then(|k| self.repos.get(&k))
    }

    /// Looks up a repository for changing it (the id in any case).
    pub fn repo_mut(&mut self, repo_type: RepoType, id: &str) -> Option<&mut Repo> {
        let key = self.repo_key(repo_type, id)?;
        self.repos.get_mut(&key)
    }

    /// Removes a repository (the id in any case).
    pub fn remove_repo(&mut self, repo_type: RepoType, id: &str) -> Option<Repo> {
        let key = self.repo_key(repo_type, id)?;
        self.repos.remove(&key)
    }

    /// The id a moved repository now has, when `id` is an old id of one that still exists.
    pub fn moved_to(&self, repo_type: RepoType, id: &str) -> Option<&str> {
        let new = self.moved.get(&(repo_type, id.to_ascii_lowercase()))?;
        self.repo(repo_type, new).map(|r| r.id.as_str())
    }

    /// Renames a repository; the old id then redirects to the new one.
    pub fn move_repo(
        &mut self,
        repo_type: RepoType,
        from: &str,
        to: &str,
    ) -> Result<(), WorldError> {
        validate_repo_id(to).map_err(WorldError::Invalid)?;
        if self.repo(repo_type, to).is_some() {
            return Err(WorldError::Exists(format!("repository `{to}`")));
        }
        let mut repo = self
            .remove_repo(repo_type, from)
            .ok_or_else(|| WorldError::UnknownRepo(from.to_string()))?;
        let old = repo.id.clone();
        repo.id = to.to_string();
        self.repos.insert((repo_type, to.to_string()), repo);
        self.moved
            .retain(|_, target| !target.eq_ignore_ascii_case(&old));
        self.moved.remove(&(repo_type, to.to_ascii_lowercase()));
        self.moved
            .insert((repo_type, old.to_ascii_lowercase()), to.to_string());
        Ok(())
    }

    /// Creates an empty repository whose first commit holds only `.gitattributes`, as the real
    /// Hub does. Fails if the id is invalid or taken.
    pub fn create_repo(
        &mut self,
        repo_type: RepoType,
        id: &str,
        private: bool,
        date: &str,
    ) -> Result<&mut Repo, WorldError> {
        validate_repo_id(id).map_err(WorldError::Invalid)?;
        let key = (repo_type, id.to_string());
        if self.repo(repo_type, id).is_some() {
            return Err(WorldError::Exists(format!("repository `{id}`")));
        }
        self.moved.remove(&(repo_type, id.to_ascii_lowercase()));
        let attributes = Arc::new(RepoFile::new(
            ".gitattributes",
            FileContent::Bytes(Bytes::from_static(
                generate::default_gitattributes(repo_type).as_bytes(),
            )),
        ));
        let files = BTreeMap::from([(".gitattributes".to_string(), attributes)]);
        let commit = self.make_commit(id, None, "initial commit", date, files);
        let repo = Repo {
            repo_type,
            id: id.to_string(),
            private,
            gated: false,
            gated_approved: BTreeSet::new(),
            branches: BTreeMap::from([("main".to_string(), commit.id.clone())]),
            tags: BTreeMap::new(),
            gated_auto: false,
            created_by: None,
            commits: BTreeMap::from([(commit.id.clone(), commit)]),
            pull_requests: 0,
            created_at: date.to_string(),
        };
        Ok(self.repos.entry(key).or_insert(repo))
    }

    /// Builds a commit with a fresh id derived from its content and a counter.
    pub fn make_commit(
        &mut self,
        repo_id: &str,
        parent: Option<String>,
        summary: &str,
        date: &str,
        files: BTreeMap<String, Arc<RepoFile>>,
    ) -> Commit {
        self.commit_counter += 1;
        let mut h = Sha1::new();
        h.update(
            format!(
                "{repo_id}\n{}\n{summary}\n{}\n",
                parent.as_deref().unwrap_or(""),
                self.commit_counter
            )
            .as_bytes(),
        );
        for (path, file) in &files {
            h.update(format!("{path} {}\n", file.git_oid).as_bytes());
        }
        Commit {
            id: hex::encode(h.finalize()),
            parent,
            summary: summary.to_string(),
            date: date.to_string(),
            author: "system".to_string(),
            files,
        }
    }

    /// Adds or replaces `files` on `main` of an existing repository in one commit; returns the
    /// new commit id.
    pub fn commit_files(
        &mut self,
        repo_type: RepoType,
        id: &str,
        summary: &str,
        files: Vec<(String, FileContent)>,
        date: &str,
    ) -> Result<String, WorldError> {
        let hashed = hash_files(files)?;
        self.commit_hashed(repo_type, id, summary, hashed, date)
    }

    /// Like [`World::commit_files`] for files already hashed with [`hash_files`] (so a caller
    /// holding a lock does not hash large files under it).
    pub fn commit_hashed(
        &mut self,
        repo_type: RepoType,
        id: &str,
        summary: &str,
        files: Vec<(String, Arc<RepoFile>)>,
        date: &str,
    ) -> Result<String, WorldError> {
        let repo = self
            .repo(repo_type, id)
            .ok_or_else(|| WorldError::UnknownRepo(id.to_string()))?;
        let head = repo.head().map(|c| (c.id.clone(), c.files.clone()));
        let (parent, mut snapshot) = match head {
            Some((p, f)) => (Some(p), f),
            None => (None, BTreeMap::new()),
        };
        snapshot.extend(files);
        let commit = self.make_commit(id, parent, summary, date, snapshot);
        let commit_id = commit.id.clone();
        let repo = self
            .repo_mut(repo_type, id)
            .ok_or_else(|| WorldError::UnknownRepo(id.to_string()))?;
        repo.branches.insert("main".into(), commit_id.clone());
        repo.commits.insert(commit_id.clone(), commit);
        Ok(commit_id)
    }
}

/// Validates the paths of `files` and hashes their contents.
pub fn hash_files(
    files: Vec<(String, FileContent)>,
) -> Result<Vec<(String, Arc<RepoFile>)>, WorldError> {
    files
        .into_iter()
        .map(|(path, content)| {
            validate_file_path(&path).map_err(WorldError::Invalid)?;
            let file = Arc::new(RepoFile::new(&path, content));
            Ok((path, file))
        })
        .collect()
}

/// Checks one part (namespace or name) of a repository id against the real Hub's rules.
fn validate_id_part(part: &str) -> Result<(), String> {
    let ok_chars = part
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if part.is_empty()
        || part.len() > 96
        || !ok_chars
        || part.contains("--")
        || part.contains("..")
        || part.starts_with(['-', '.'])
        || part.ends_with(['-', '.'])
    {
        return Err(format!(
            "Repo id must use alphanumeric chars or '-', '_', '.', '--' and '..' are forbidden, \
             '-' and '.' cannot start or end the name, max length is 96: '{part}'."
        ));
    }
    Ok(())
}

/// Checks a full repository id (`ns/name`).
pub fn validate_repo_id(id: &str) -> Result<(), String> {
    let Some((ns, name)) = id.split_once('/') else {
        return Err(format!(
            "Invalid repo id '{id}': expected 'namespace/name'."
        ));
    };
    validate_id_part(ns)?;
    validate_id_part(name)
}

/// Checks a path inside a repository as the Hub does: relative, no `.`/`..`/empty segments, a
/// first segment that does not start with `..\` (Windows' parent folder), no `.git/`, no control
/// characters. A backslash elsewhere is an ordinary character of a name.
pub fn validate_file_path(path: &str) -> Result<(), String> {
    let first = path.split('/').next().unwrap_or("");
    let bad = path.is_empty()
        || path.len() > 1000
        || path.starts_with('/')
        || first.starts_with("..\\")
        || path.chars().any(char::is_control)
        || path
            .split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == "..")
        || path == ".git"
        || path.starts_with(".git/");
    if bad {
        return Err(format!("Invalid path in repository: '{path}'"));
    }
    Ok(())
}
