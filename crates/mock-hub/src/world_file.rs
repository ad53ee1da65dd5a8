//! The world file: the accounts, organisations, tokens and repositories a book's snippets expect,
//! declared in TOML beside the book (`hub-world.toml`), and turned into a [`World`].
//!
//! A course that adds a chapter about a dataset or a second organisation writes it here, not in
//! Rust. Everything is checked before any run starts, and every mistake names the file and line
//! and says what to write instead: an unknown key, a duplicate repository, a token of an account
//! that does not exist, a folder outside the book. The format is documented in
//! `docs/world-file.md`; [`STARTER`] is the file `mdbook-hubcheck install` writes.
//!
//! Why one file of about 800 lines: the declarations (the file's schema, as serde structs) and the
//! `Reader` that checks them table by table sit together, so a table's schema and the checks
//! that name its lines are read side by side; its tests are in `world_file/tests.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Bytes;
use serde::Deserialize;
use toml::Spanned;

use super::generate::{self, Architecture};
use super::world::{
    FileContent, FineGrainedScope, InferenceModel, InferenceTask, Org, OrgRole, Plan, RepoType,
    ScopedPermission, SeededToken, Token, TokenRole, TokenStatus, User, World,
    generate_token_value,
};

/// The world file `mdbook-hubcheck install` writes into a new book, and the world of a book that
/// declares none: one student, one course organisation, a tiny BERT and a tiny Llama.
pub const STARTER: &str = include_str!("starter-world.toml");

/// The file name a book's world has when `book.toml` does not name another.
pub const DEFAULT_FILE_NAME: &str = "hub-world.toml";

/// Token names a scenario uses for something other than a token of the world.
const RESERVED_TOKEN_NAMES: [&str; 2] = ["invalid", "none"];

/// The date of every declared object, so repository info is the same in every run.
const DECLARED_DATE: &str = "2025-01-01T00:00:00.000Z";

/// The fine-grained permission names the Hub's token page offers, as whoami-v2 reports them
/// (docs/world-file.md says where each was learned).
pub const KNOWN_PERMISSIONS: &[&str] = &[
    "repo.content.read",
    "repo.write",
    "discussion.write",
    "inference.serverless.write",
    "inference.endpoints.infer.write",
    "inference.endpoints.write",
    "user.webhooks.read",
    "user.webhooks.write",
    "collection.read",
    "collection.write",
    "user.billing.read",
    "org.read",
    "org.write",
    "post.write",
];

/// Why a world file could not become a world.
#[derive(Debug, thiserror::Error)]
pub enum WorldFileError {
    /// The file (or a folder it names) could not be read.
    #[error("{}: cannot read it: {source}", file.display())]
    Read {
        /// What was read.
        file: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// A mistake in the file, with the line it is on.
    #[error("{}:{line}: {message}", file.display())]
    Invalid {
        /// The world file.
        file: PathBuf,
        /// 1-based line of the mistake.
        line: usize,
        /// What is wrong and what to write instead.
        message: String,
    },
}

/// The whole file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Declaration {
    student: Spanned<String>,
    #[serde(default)]
    accounts: BTreeMap<Spanned<String>, AccountDecl>,
    #[serde(default)]
    organisations: BTreeMap<Spanned<String>, OrgDecl>,
    #[serde(default)]
    tokens: BTreeMap<Spanned<String>, TokenDecl>,
    #[serde(default)]
    repos: Vec<RepoDecl>,
    #[serde(default)]
    inference: Vec<InferenceDecl>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct InferenceDecl {
    model: Spanned<String>,
    providers: Spanned<Vec<String>>,
    #[serde(default = "conversational")]
    task: InferenceTask,
    reply: Option<String>,
    #[serde(default = "default_cost")]
    cost: f64,
}

fn conversational() -> InferenceTask {
    InferenceTask::Conversational
}

/// What an answered call costs when the file does not say: a tenth of a cent.
fn default_cost() -> f64 {
    0.001
}

/// The providers a world may name: the keys of `PROVIDERS` in huggingface_hub 2.4.0's
/// `inference/_providers/__init__.py`.
pub const KNOWN_PROVIDERS: &[&str] = &[
    "hf-inference",
    "baseten",
    "cerebras",
    "cohere",
    "deepinfra",
    "fal-ai",
    "featherless-ai",
    "fireworks-ai",
    "groq",
    "novita",
    "nscale",
    "openai",
    "ovhcloud",
    "publicai",
    "replicate",
    "scaleway",
    "together",
    "wavespeed",
    "zai-org",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct AccountDecl {
    #[serde(default)]
    fullname: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    plan: Plan,
    inference_credits: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct OrgDecl {
    #[serde(default)]
    fullname: String,
    #[serde(default)]
    members: BTreeMap<Spanned<String>, OrgRole>,
    #[serde(default)]
    private_by_default: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum RoleDecl {
    Read,
    Write,
    FineGrained,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct TokenDecl {
    account: Option<Spanned<String>>,
    display_name: String,
    role: Spanned<RoleDecl>,
    #[serde(default)]
    status: TokenStatus,
    #[serde(default)]
    read_gated_repos: Option<Spanned<bool>>,
    #[serde(default)]
    global: Vec<Spanned<String>>,
    #[serde(default)]
    scoped: Vec<ScopedDecl>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ScopedDecl {
    entity: Spanned<String>,
    permissions: Vec<Spanned<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum GateDecl {
    Auto,
    Manual,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RepoDecl {
    id: Spanned<String>,
    #[serde(rename = "type", default)]
    repo_type: RepoType,
    #[serde(default)]
    private: bool,
    gated: Option<GateDecl>,
    #[serde(default)]
    approved: Vec<Spanned<String>>,
    generate: Option<Spanned<Architecture>>,
    files: Option<Spanned<String>>,
    #[serde(default)]
    branches: Vec<Spanned<String>>,
    #[serde(default)]
    tags: Vec<Spanned<String>>,
}

/// Reads the world file at `path`; folders it names must lie inside `book_root`.
pub fn load(path: &Path, book_root: &Path) -> Result<World, WorldFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| WorldFileError::Read {
        file: path.to_path_buf(),
        source,
    })?;
    parse(&text, path, book_root)
}

/// The world of [`STARTER`], for books that declare none.
pub fn starter() -> World {
    parse(STARTER, Path::new("starter-world.toml"), Path::new("."))
        .unwrap_or_else(|e| panic!("the embedded starter world is invalid: {e}"))
}

/// Builds the world `text` declares; `file` names it in errors and its folder is where relative
/// folders start.
pub fn parse(text: &str, file: &Path, book_root: &Path) -> Result<World, WorldFileError> {
    let reader = Reader { text, file };
    let declaration: Declaration = toml::from_str(text).map_err(|e| {
        reader.error(
            e.span().unwrap_or(0..0),
            format!("{} (see docs/world-file.md)", e.message().trim_end()),
        )
    })?;
    let base = file.parent().unwrap_or(Path::new("."));
    reader.build(declaration, base, book_root)
}

/// The file being read, for errors with line numbers.
struct Reader<'a> {
    text: &'a str,
    file: &'a Path,
}

impl Reader<'_> {
    fn error(&self, span: Range<usize>, message: String) -> WorldFileError {
        let at = span.start.min(self.text.len());
        WorldFileError::Invalid {
            file: self.file.to_path_buf(),
            line: self.text[..at].matches('\n').count() + 1,
            message,
        }
    }

    fn build(
        &self,
        d: Declaration,
        base: &Path,
        book_root: &Path,
    ) -> Result<World, WorldFileError> {
        let mut world = World::empty();
        self.add_accounts(&mut world, &d.accounts)?;
        if !world.users.contains_key(d.student.get_ref()) {
            return Err(self.error(
                d.student.span(),
                format!(
                    "student = \"{}\" names no account; declare [accounts.{}] or name one of: {}",
                    d.student.get_ref(),
                    d.student.get_ref(),
                    names(world.users.keys())
                ),
            ));
        }
        world.student = d.student.get_ref().clone();
        self.add_orgs(&mut world, &d.organisations)?;
        self.add_tokens(&mut world, &d.tokens)?;
        let mut seen = BTreeSet::new();
        for repo in &d.repos {
            self.add_repo(&mut world, repo, &mut seen, base, book_root)?;
        }
        self.check_scopes(&world, &d.tokens)?;
        for entry in &d.inference {
            self.add_inference(&mut world, entry)?;
        }
        Ok(world)
    }

    fn add_accounts(
        &self,
        world: &mut World,
        accounts: &BTreeMap<Spanned<String>, AccountDecl>,
    ) -> Result<(), WorldFileError> {
        for (name, a) in accounts {
            self.check_namespace_name(name)?;
            let credits = a.inference_credits.unwrap_or(a.plan.monthly_credits());
            if credits < 0.0 || credits.is_nan() {
                return Err(self.error(
                    name.span(),
                    format!(
                        "[accounts.{}] inference-credits must be 0 or more (US dollars left)",
                        name.get_ref()
                    ),
                ));
            }
            world.users.insert(
                name.get_ref().clone(),
                User {
                    name: name.get_ref().clone(),
                    fullname: a.fullname.clone(),
                    email: a.email.clone(),
                    plan: a.plan,
                    inference_credits: credits,
                },
            );
        }
        Ok(())
    }

    fn add_orgs(
        &self,
        world: &mut World,
        orgs: &BTreeMap<Spanned<String>, OrgDecl>,
    ) -> Result<(), WorldFileError> {
        for (name, o) in orgs {
            self.check_namespace_name(name)?;
            if world.users.contains_key(name.get_ref()) {
                return Err(self.error(
                    name.span(),
                    format!(
                        "`{}` is both an account and an organisation; rename one",
                        name.get_ref()
                    ),
                ));
            }
            let mut roles = BTreeMap::new();
            for (member, role) in &o.members {
                self.account(world, member, "a member")?;
                roles.insert(member.get_ref().clone(), *role);
            }
            world.orgs.insert(
                name.get_ref().clone(),
                Org {
                    name: name.get_ref().clone(),
                    fullname: o.fullname.clone(),
                    members: BTreeSet::new(),
                    roles,
                    private_by_default: o.private_by_default,
                },
            );
        }
        Ok(())
    }

    fn add_tokens(
        &self,
        world: &mut World,
        tokens: &BTreeMap<Spanned<String>, TokenDecl>,
    ) -> Result<(), WorldFileError> {
        let mut display_names = BTreeSet::new();
        for (name, t) in in_file_order(tokens) {
            self.check_token_name(name)?;
            let user = match &t.account {
                Some(account) => self.account(world, account, "the token's account")?,
                None => world.student.clone(),
            };
            if !display_names.insert(t.display_name.clone()) {
                return Err(self.error(
                    name.span(),
                    format!(
                        "[tokens.{}] display-name = \"{}\" is taken by another token; display names are unique on the Hub",
                        name.get_ref(),
                        t.display_name
                    ),
                ));
            }
            let role = self.token_role(name, t)?;
            let mut token = Token::new(generate_token_value(), t.display_name.clone(), user, role);
            token.status = t.status;
            token.name = Some(name.get_ref().clone());
            world.seeded_tokens.push(SeededToken {
                name: name.get_ref().clone(),
                kind: token.kind(),
                display_name: token.display_name.clone(),
                value: token.value.clone(),
            });
            world.tokens.insert(token.value.clone(), Arc::new(token));
        }
        Ok(())
    }

    fn token_role(
        &self,
        name: &Spanned<String>,
        t: &TokenDecl,
    ) -> Result<TokenRole, WorldFileError> {
        let fine = *t.role.get_ref() == RoleDecl::FineGrained;
        if !fine {
            let extra = t
                .read_gated_repos
                .as_ref()
                .map(Spanned::span)
                .or_else(|| t.global.first().map(Spanned::span))
                .or_else(|| t.scoped.first().map(|s| s.entity.span()));
            if let Some(span) = extra {
                return Err(self.error(
                    span,
                    format!(
                        "[tokens.{}] has fine-grained permissions but role = \"{}\"; write role = \"fine-grained\" or remove them",
                        name.get_ref(),
                        if *t.role.get_ref() == RoleDecl::Read { "read" } else { "write" }
                    ),
                ));
            }
        }
        Ok(match t.role.get_ref() {
            RoleDecl::Read => TokenRole::Read,
            RoleDecl::Write => TokenRole::Write,
            RoleDecl::FineGrained => {
                let mut scope = FineGrainedScope {
                    can_read_gated_repos: t.read_gated_repos.as_ref().is_some_and(|b| *b.get_ref()),
                    ..FineGrainedScope::default()
                };
                for permission in &t.global {
                    self.check_permission(permission)?;
                    scope.global.push(permission.get_ref().clone());
                }
                for s in &t.scoped {
                    let (kind, entity) = self.entity(&s.entity)?;
                    let mut permissions = Vec::new();
                    for permission in &s.permissions {
                        self.check_permission(permission)?;
                        permissions.push(permission.get_ref().clone());
                    }
                    scope.scoped.push(ScopedPermission {
                        kind,
                        name: entity,
                        permissions,
                    });
                }
                TokenRole::FineGrained(scope)
            }
        })
    }

    /// Parses `user:NAME`, `org:NAME`, `model:NS/NAME`, `dataset:NS/NAME`, `space:NS/NAME`.
    fn entity(&self, entity: &Spanned<String>) -> Result<(String, String), WorldFileError> {
        const KINDS: [&str; 5] = ["user", "org", "model", "dataset", "space"];
        match entity.get_ref().split_once(':') {
            Some((kind, name)) if KINDS.contains(&kind) && !name.is_empty() => {
                Ok((kind.to_string(), name.to_string()))
            }
            _ => Err(self.error(
                entity.span(),
                format!(
                    "entity = \"{}\" is not an entity; write `user:NAME`, `org:NAME`, `model:NS/NAME`, `dataset:NS/NAME` or `space:NS/NAME`",
                    entity.get_ref()
                ),
            )),
        }
    }

    fn check_permission(&self, permission: &Spanned<String>) -> Result<(), WorldFileError> {
        if KNOWN_PERMISSIONS.contains(&permission.get_ref().as_str()) {
            return Ok(());
        }
        Err(self.error(
            permission.span(),
            format!(
                "`{}` is not a fine-grained permission of the Hub; known ones: {}",
                permission.get_ref(),
                KNOWN_PERMISSIONS.join(", ")
            ),
        ))
    }

    /// Scoped entities must exist once every repository is declared.
    fn check_scopes(
        &self,
        world: &World,
        tokens: &BTreeMap<Spanned<String>, TokenDecl>,
    ) -> Result<(), WorldFileError> {
        for s in tokens.values().flat_map(|t| &t.scoped) {
            let (kind, name) = self.entity(&s.entity)?;
            let exists = match kind.as_str() {
                "user" => world.users.contains_key(&name),
                "org" => world.orgs.contains_key(&name),
                other => {
                    RepoType::from_singular(other).is_some_and(|t| world.repo(t, &name).is_some())
                }
            };
            if !exists {
                return Err(self.error(
                    s.entity.span(),
                    format!(
                        "entity = \"{}\": no such {kind} is declared in this file",
                        s.entity.get_ref()
                    ),
                ));
            }
        }
        Ok(())
    }

    fn add_inference(&self, world: &mut World, e: &InferenceDecl) -> Result<(), WorldFileError> {
        let model = e.model.get_ref();
        if world.repo(RepoType::Model, model).is_none() {
            return Err(self.error(
                e.model.span(),
                format!("model = \"{model}\" is not a model of this world; declare it in [[repos]] first"),
            ));
        }
        if world
            .inference
            .iter()
            .any(|m| m.model.eq_ignore_ascii_case(model))
        {
            return Err(self.error(
                e.model.span(),
                format!("model `{model}` has two [[inference]] entries; keep one and list every provider in it"),
            ));
        }
        let unknown = e
            .providers
            .get_ref()
            .iter()
            .find(|p| !KNOWN_PROVIDERS.contains(&p.as_str()));
        if e.providers.get_ref().is_empty() || unknown.is_some() {
            return Err(self.error(
                e.providers.span(),
                format!(
                    "providers: {}; name one or more of: {}",
                    unknown.map_or("the list is empty".to_string(), |p| format!(
                        "`{p}` is not a provider"
                    )),
                    KNOWN_PROVIDERS.join(", ")
                ),
            ));
        }
        if e.cost.is_nan() || e.cost < 0.0 {
            return Err(self.error(
                e.model.span(),
                "cost must be 0 or more (US dollars a call)".into(),
            ));
        }
        let reply = e.reply.clone().unwrap_or_else(|| match e.task {
            InferenceTask::FeatureExtraction => String::new(),
            _ => "Hello! I am a mock model served by mdbook-hubcheck.".to_string(),
        });
        world.inference.push(InferenceModel {
            model: model.clone(),
            providers: e.providers.get_ref().clone(),
            task: e.task,
            reply,
            cost: e.cost,
        });
        Ok(())
    }

    fn add_repo(
        &self,
        world: &mut World,
        r: &RepoDecl,
        seen: &mut BTreeSet<(RepoType, String)>,
        base: &Path,
        book_root: &Path,
    ) -> Result<(), WorldFileError> {
        let id = r.id.get_ref();
        let kind = r.repo_type.singular();
        super::world::validate_repo_id(id).map_err(|m| self.error(r.id.span(), m))?;
        if !seen.insert((r.repo_type, id.to_ascii_lowercase())) {
            return Err(self.error(
                r.id.span(),
                format!("{kind} `{id}` is declared twice; keep one [[repos]] entry for it"),
            ));
        }
        let namespace = id.split_once('/').map_or("", |(ns, _)| ns);
        if !world.users.contains_key(namespace) && !world.orgs.contains_key(namespace) {
            return Err(self.error(
                r.id.span(),
                format!(
                    "`{namespace}` (the namespace of `{id}`) is neither an account nor an organisation; declare [organisations.{namespace}]"
                ),
            ));
        }
        if r.generate.is_none() && r.files.is_none() {
            return Err(self.error(
                r.id.span(),
                format!(
                    "{kind} `{id}` has no files; add `generate = \"bert\"` (or \"llama\") or `files = \"a folder of the book\"`"
                ),
            ));
        }
        if r.gated.is_none()
            && let Some(first) = r.approved.first()
        {
            return Err(self.error(
                first.span(),
                format!(
                    "`approved` needs a gate: add `gated = \"manual\"` or `\"auto\"` to `{id}`"
                ),
            ));
        }
        let mut files = Vec::new();
        if let Some(architecture) = &r.generate {
            if r.repo_type != RepoType::Model {
                return Err(self.error(
                    architecture.span(),
                    format!(
                        "`generate` makes model files; `{id}` is a {kind}: use `files` instead"
                    ),
                ));
            }
            files.extend(generate::model_files(
                *architecture.get_ref(),
                id,
                r.gated.is_some(),
            ));
        }
        if let Some(folder) = &r.files {
            files.extend(self.folder_files(folder, base, book_root)?);
        }
        let approved = r
            .approved
            .iter()
            .map(|a| self.account(world, a, "an approved account"))
            .collect::<Result<BTreeSet<_>, _>>()?;
        let repo = world
            .create_repo(r.repo_type, id, r.private, DECLARED_DATE)
            .map_err(|e| self.error(r.id.span(), e.to_string()))?;
        repo.gated = r.gated.is_some();
        repo.gated_auto = r.gated == Some(GateDecl::Auto);
        repo.gated_approved = approved;
        world
            .commit_files(r.repo_type, id, "Add files", files, DECLARED_DATE)
            .map_err(|e| self.error(r.id.span(), e.to_string()))?;
        self.add_refs(world, r)
    }

    fn add_refs(&self, world: &mut World, r: &RepoDecl) -> Result<(), WorldFileError> {
        let Some(repo) = world.repo_mut(r.repo_type, r.id.get_ref()) else {
            return Ok(());
        };
        let head = repo.branches.get("main").cloned().unwrap_or_default();
        for (what, names, refs) in [
            ("branch", &r.branches, &mut repo.branches),
            ("tag", &r.tags, &mut repo.tags),
        ] {
            for name in names {
                if refs.insert(name.get_ref().clone(), head.clone()).is_some() {
                    return Err(self.error(
                        name.span(),
                        format!("{what} `{}` is declared twice", name.get_ref()),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Every file under `folder` (relative to the world file), which must be inside the book.
    fn folder_files(
        &self,
        folder: &Spanned<String>,
        base: &Path,
        book_root: &Path,
    ) -> Result<Vec<(String, FileContent)>, WorldFileError> {
        let path = base.join(folder.get_ref());
        let outside = || {
            self.error(
                folder.span(),
                format!(
                    "files = \"{}\" is outside the book ({}); put the files in a folder inside it",
                    folder.get_ref(),
                    book_root.display()
                ),
            )
        };
        let (Ok(resolved), Ok(root)) = (path.canonicalize(), book_root.canonicalize()) else {
            return Err(if path.exists() {
                outside()
            } else {
                self.error(
                    folder.span(),
                    format!(
                        "files = \"{}\": no such folder ({})",
                        folder.get_ref(),
                        path.display()
                    ),
                )
            });
        };
        if !resolved.starts_with(&root) {
            return Err(outside());
        }
        if !resolved.is_dir() {
            return Err(self.error(
                folder.span(),
                format!("files = \"{}\" is not a folder", folder.get_ref()),
            ));
        }
        let mut out = Vec::new();
        collect_files(&resolved, &resolved, &mut out).map_err(|source| WorldFileError::Read {
            file: resolved.clone(),
            source,
        })?;
        if out.is_empty() {
            return Err(self.error(
                folder.span(),
                format!("files = \"{}\" is an empty folder", folder.get_ref()),
            ));
        }
        Ok(out)
    }

    fn account(
        &self,
        world: &World,
        name: &Spanned<String>,
        what: &str,
    ) -> Result<String, WorldFileError> {
        if world.users.contains_key(name.get_ref()) {
            return Ok(name.get_ref().clone());
        }
        Err(self.error(
            name.span(),
            format!(
                "{what} `{}` is not an account of this world; declare [accounts.{}] or use one of: {}",
                name.get_ref(),
                name.get_ref(),
                names(world.users.keys())
            ),
        ))
    }

    fn check_namespace_name(&self, name: &Spanned<String>) -> Result<(), WorldFileError> {
        super::world::validate_repo_id(&format!("{}/x", name.get_ref()))
            .map_err(|m| self.error(name.span(), m))
    }

    fn check_token_name(&self, name: &Spanned<String>) -> Result<(), WorldFileError> {
        let n = name.get_ref();
        if RESERVED_TOKEN_NAMES.contains(&n.as_str()) {
            return Err(self.error(
                name.span(),
                format!(
                    "[tokens.{n}]: `{n}` is what a scenario writes for {}; give the token another name",
                    if n == "none" { "no token at all" } else { "a token the Hub does not know" }
                ),
            ));
        }
        let kebab = !n.is_empty()
            && n.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !kebab {
            return Err(self.error(
                name.span(),
                format!("[tokens.\"{n}\"]: token names are kebab-case (`read`, `fine-grained-no-inference`)"),
            ));
        }
        Ok(())
    }
}

/// Adds every regular file below `dir` as (path relative to `root` with `/`, bytes), sorted.
fn collect_files(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, FileContent)>,
) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            collect_files(root, &path, out)?;
        } else {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            let name = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            out.push((name, FileContent::Bytes(Bytes::from(std::fs::read(&path)?))));
        }
    }
    Ok(())
}

/// The entries of a table in the order the file writes them (serde's map sorts them by name).
fn in_file_order<V>(table: &BTreeMap<Spanned<String>, V>) -> Vec<(&Spanned<String>, &V)> {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(name, _)| name.span().start);
    entries
}

/// `a, b, c` for an error message (or `none yet`).
fn names<'a>(items: impl Iterator<Item = &'a String>) -> String {
    let list: Vec<&str> = items.map(String::as_str).collect();
    if list.is_empty() {
        "none yet".into()
    } else {
        list.join(", ")
    }
}

#[cfg(test)]
mod tests;
