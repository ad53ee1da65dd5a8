//! The tokens a world holds: their kinds and roles, a fine-grained token's scopes, and the rules
//! of what a token may do (a leaf the world and the routes take from).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::repo::Repo;

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
