//! Everything the mock Hub knows: users, organisations, tokens, repositories with their commit
//! history, and pending OAuth device codes.
//!
//! The world is plain data with no locking and no HTTP in it, so the access rules (who may read or
//! write what) can be read and tested on their own. A book declares its world in a file
//! ([`super::world_file`]); token values are generated when it is read and never appear in
//! source.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use axum::body::Bytes;
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};
use sha2::Sha256;

use super::generate;

pub use crate::content::FileContent;
pub(crate) use crate::content::splitmix64;
pub use crate::repo_type::RepoType;
pub use crate::token_value::{TOKEN_BODY_LENGTH, TOKEN_PREFIX, generate_token_value};

/// Files with these extensions are reported as LFS files, as the real Hub's default
/// `.gitattributes` would store them.
const LFS_EXTENSIONS: &[&str] = &[
    ".safetensors",
    ".bin",
    ".pt",
    ".pth",
    ".ckpt",
    ".h5",
    ".msgpack",
    ".onnx",
    ".zip",
    ".7z",
];

/// Files at least this large are reported as LFS files whatever their name.
const LFS_MIN_SIZE: u64 = 10 * 1024 * 1024;

/// The five kinds of token a world can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenKind {
    /// A classic token with the `read` role.
    Read,
    /// A classic token with the `write` role.
    Write,
    /// A fine-grained token with explicit per-repository permissions.
    FineGrained,
    /// A token past its expiry date: answered like an unknown token.
    Expired,
    /// A token its owner revoked: answered like an unknown token.
    Revoked,
}

impl TokenKind {
    /// Every kind.
    pub const ALL: [TokenKind; 5] = [
        TokenKind::Read,
        TokenKind::Write,
        TokenKind::FineGrained,
        TokenKind::Expired,
        TokenKind::Revoked,
    ];

    /// The kebab-case name used in JSON and in the request log.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Read => "read",
            TokenKind::Write => "write",
            TokenKind::FineGrained => "fine-grained",
            TokenKind::Expired => "expired",
            TokenKind::Revoked => "revoked",
        }
    }
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a token allows, as the whoami-v2 `auth.accessToken.role` field reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "camelCase")]
pub enum TokenRole {
    /// Read every repository its user can read.
    Read,
    /// Read and write every repository its user can.
    Write,
    /// Only what the scope lists (public repositories stay readable).
    FineGrained(FineGrainedScope),
}

/// The permissions of a fine-grained token, as whoami-v2 reports them under
/// `auth.accessToken.fineGrained`: a flag for gated repositories, global permissions, and
/// permissions scoped to an entity (the token's user, an organisation or one repository).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct FineGrainedScope {
    /// "Read access to contents of all public gated repos you can access".
    pub can_read_gated_repos: bool,
    /// Permissions not tied to an entity (e.g. `discussion.write`, `post.write`).
    pub global: Vec<String>,
    /// Permissions on one entity each.
    pub scoped: Vec<ScopedPermission>,
}

/// Permissions of a fine-grained token on one entity.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScopedPermission {
    /// `user`, `org`, `model`, `dataset` or `space`.
    pub kind: String,
    /// The user or organisation name, or the repository id (`ns/name`).
    pub name: String,
    /// Permission names such as `repo.content.read`, `repo.write`, `inference.serverless.write`.
    pub permissions: Vec<String>,
}

impl FineGrainedScope {
    /// Whether `permission` is granted on the namespace `namespace` (as its user or organisation
    /// entity) or, when `repo` is given, on that repository itself.
    fn grants(&self, permission: &str, namespace: &str, repo: Option<&Repo>) -> bool {
        self.scoped.iter().any(|s| {
            let entity_matches = match s.kind.as_str() {
                "user" | "org" => s.name.eq_ignore_ascii_case(namespace),
                kind => repo.is_some_and(|r| {
                    kind == r.repo_type.singular() && s.name.eq_ignore_ascii_case(&r.id)
                }),
            };
            entity_matches && s.permissions.iter().any(|p| p == permission)
        })
    }

    /// Whether the token may read the files of `repo` (private ones included).
    pub fn can_read(&self, repo: &Repo) -> bool {
        self.grants("repo.content.read", repo.namespace(), Some(repo))
            || self.grants("repo.write", repo.namespace(), Some(repo))
    }

    /// Whether the token may write to `repo`.
    pub fn can_write(&self, repo: &Repo) -> bool {
        self.grants("repo.write", repo.namespace(), Some(repo))
    }

    /// Whether the token may create repositories in `namespace`.
    pub fn can_create_in(&self, namespace: &str) -> bool {
        self.grants("repo.write", namespace, None)
    }

    /// Whether the token reads `repo` because it names that very repository (which lets it past
    /// the gate once its user is approved, even without `can_read_gated_repos`).
    pub fn names_repo(&self, repo: &Repo) -> bool {
        self.scoped.iter().any(|s| {
            s.kind == repo.repo_type.singular()
                && s.name.eq_ignore_ascii_case(&repo.id)
                && s.permissions
                    .iter()
                    .any(|p| p == "repo.content.read" || p == "repo.write")
        })
    }

    /// Whether `permission` is granted globally or on the token's own user `user`.
    pub fn grants_user_permission(&self, user: &str, permission: &str) -> bool {
        self.global.iter().any(|p| p == permission)
            || self.scoped.iter().any(|s| {
                s.kind == "user"
                    && s.name.eq_ignore_ascii_case(user)
                    && s.permissions.iter().any(|p| p == permission)
            })
    }
}

/// Whether a token is usable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenStatus {
    /// Usable.
    #[default]
    Active,
    /// Past its expiry date.
    Expired,
    /// Revoked by its owner.
    Revoked,
}

/// One access token the Hub knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// The secret itself. Never logged.
    pub value: String,
    /// The name the world file gives it, by which scenarios ask for it (`read`, `write`, ...);
    /// `None` for tokens made at run time (admin API, browser logins).
    pub name: Option<String>,
    /// The name shown by whoami-v2 and used by `hf auth login` to store the token.
    pub display_name: String,
    /// The user the token belongs to.
    pub user: String,
    /// What the token may do.
    pub role: TokenRole,
    /// Whether the token is usable.
    pub status: TokenStatus,
    /// True for tokens minted by the OAuth device flow (whoami reports `auth.type: "oauth"`).
    pub oauth: bool,
    /// Organisations the token is limited to (`None`: every namespace its user may use). The
    /// user's own namespace always stays allowed.
    pub orgs: Option<Vec<String>>,
    /// When the token stops working (Unix seconds); `None` for tokens that never expire.
    pub expires_at: Option<u64>,
}

impl Token {
    /// A plain active token of `user` with `role`, no expiry and no organisation limit.
    pub fn new(value: String, display_name: String, user: String, role: TokenRole) -> Token {
        Token {
            value,
            name: None,
            display_name,
            user,
            role,
            status: TokenStatus::Active,
            oauth: false,
            orgs: None,
            expires_at: None,
        }
    }

    /// Whether the token may act in `namespace` at all (its organisation limit).
    pub fn allows_namespace(&self, namespace: &str) -> bool {
        match &self.orgs {
            None => true,
            Some(orgs) => {
                namespace.eq_ignore_ascii_case(&self.user)
                    || orgs.iter().any(|o| o.eq_ignore_ascii_case(namespace))
            }
        }
    }

    /// Whether the token is usable at `now` (active and not past its expiry).
    pub fn usable_at(&self, now: u64) -> bool {
        self.status == TokenStatus::Active && self.expires_at.is_none_or(|at| now < at)
    }

    /// The kind this token falls under (status first, then role).
    pub fn kind(&self) -> TokenKind {
        match (self.status, &self.role) {
            (TokenStatus::Expired, _) => TokenKind::Expired,
            (TokenStatus::Revoked, _) => TokenKind::Revoked,
            (TokenStatus::Active, TokenRole::Read) => TokenKind::Read,
            (TokenStatus::Active, TokenRole::Write) => TokenKind::Write,
            (TokenStatus::Active, TokenRole::FineGrained(_)) => TokenKind::FineGrained,
        }
    }

    /// The role word whoami-v2 reports.
    pub fn role_name(&self) -> &'static str {
        match self.role {
            TokenRole::Read => "read",
            TokenRole::Write => "write",
            TokenRole::FineGrained(_) => "fineGrained",
        }
    }
}

/// A token the world file declares, as handed to tests and printed by the standalone server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeededToken {
    /// The world file's name for it, which scenarios use (`token = "read"`).
    pub name: String,
    /// Which of the five kinds it is.
    pub kind: TokenKind,
    /// Its display name, e.g. `course-read`.
    pub display_name: String,
    /// The secret value.
    pub value: String,
}

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

/// A file stored in a commit, with the hashes the API reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoFile {
    /// The bytes.
    pub content: FileContent,
    /// The git blob sha1 (`oid` in tree listings, the ETag of regular files).
    pub git_oid: String,
    /// The sha256 (the LFS oid, the ETag of LFS files).
    pub sha256: String,
    /// Whether the file is reported as stored in LFS.
    pub lfs: bool,
}

impl RepoFile {
    /// Hashes `content` for the file at `path`.
    pub fn new(path: &str, content: FileContent) -> RepoFile {
        let len = content.len();
        let mut sha1 = Sha1::new();
        sha1.update(format!("blob {len}\0").as_bytes());
        let mut sha256 = Sha256::new();
        content.for_each_chunk(|chunk| {
            sha1.update(chunk);
            sha256.update(chunk);
        });
        let lfs = len >= LFS_MIN_SIZE || LFS_EXTENSIONS.iter().any(|ext| path.ends_with(ext));
        RepoFile {
            content,
            git_oid: hex::encode(sha1.finalize()),
            sha256: hex::encode(sha256.finalize()),
            lfs,
        }
    }

    /// The size in bytes.
    pub fn size(&self) -> u64 {
        self.content.len()
    }

    /// The ETag value (without quotes): sha256 for LFS files, the git oid otherwise.
    pub fn etag(&self) -> &str {
        if self.lfs {
            &self.sha256
        } else {
            &self.git_oid
        }
    }
}

/// One commit: a full snapshot of the files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commit {
    /// The 40-hex commit id.
    pub id: String,
    /// The parent commit, if any.
    pub parent: Option<String>,
    /// The commit title.
    pub summary: String,
    /// When it was made (ISO 8601).
    pub date: String,
    /// Who made it (`system` for the commits a world file declares).
    pub author: String,
    /// Every file at this commit, by path.
    pub files: BTreeMap<String, Arc<RepoFile>>,
}

/// A repository with its branches and history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repo {
    /// Model, dataset or Space.
    pub repo_type: RepoType,
    /// `ns/name`.
    pub id: String,
    /// Private repositories are visible only to their namespace's members.
    pub private: bool,
    /// Gated repositories serve metadata to anyone but files only to approved users.
    pub gated: bool,
    /// Users approved for a gated repository.
    pub gated_approved: BTreeSet<String>,
    /// Branch name (`main`, `refs/pr/1`) to commit id.
    pub branches: BTreeMap<String, String>,
    /// Tag name to commit id.
    pub tags: BTreeMap<String, String>,
    /// Gating mode when `gated`: automatic approval (`true`) or manual (`false`).
    pub gated_auto: bool,
    /// The user who created the repository (contributors may write to their own repositories).
    pub created_by: Option<String>,
    /// Every commit by id.
    pub commits: BTreeMap<String, Commit>,
    /// Number of pull requests opened so far.
    pub pull_requests: u64,
    /// Creation date (ISO 8601).
    pub created_at: String,
}

impl Repo {
    /// The namespace part of the id.
    pub fn namespace(&self) -> &str {
        self.id.split_once('/').map_or("", |(ns, _)| ns)
    }

    /// The commit a revision names: a branch, a tag (also as `refs/heads/..`, `refs/tags/..`),
    /// or a full 40-hex commit id.
    pub fn resolve(&self, rev: &str) -> Option<&Commit> {
        let branch = rev.strip_prefix("refs/heads/").unwrap_or(rev);
        if let Some(id) = self.branches.get(branch) {
            return self.commits.get(id);
        }
        let tag = rev.strip_prefix("refs/tags/").unwrap_or(rev);
        if let Some(id) = self.tags.get(tag) {
            return self.commits.get(id);
        }
        if is_commit_id(rev) {
            return self.commits.get(&rev.to_ascii_lowercase());
        }
        None
    }

    /// The commit `main` points to.
    pub fn head(&self) -> Option<&Commit> {
        self.resolve("main")
    }

    /// The `gated` value repo info reports: `false`, `"auto"` or `"manual"`.
    pub fn gated_label(&self) -> Option<&'static str> {
        match (self.gated, self.gated_auto) {
            (false, _) => None,
            (true, true) => Some("auto"),
            (true, false) => Some("manual"),
        }
    }

    /// The commits reachable from `commit_id`, newest first.
    pub fn history(&self, commit_id: &str) -> Vec<&Commit> {
        let mut out = Vec::new();
        let mut next = self.commits.get(commit_id);
        while let Some(commit) = next {
            out.push(commit);
            next = commit.parent.as_ref().and_then(|p| self.commits.get(p));
            if out.len() > self.commits.len() {
                break;
            }
        }
        out
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

/// Whether `s` looks like a full commit id (40 hex digits).
pub fn is_commit_id(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
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
    /// The models Inference Providers serve ([`super::inference`]).
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
