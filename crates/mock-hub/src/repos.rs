//! Repository metadata: info (`/api/{t}/{ns}/{name}[/revision/{rev}]`), tree listings,
//! `POST /api/repos/create` and `DELETE /api/repos/delete`.
//!
//! The lookup helpers here ([`find_visible`], [`resolve_rev`]) encode the order in which the real
//! Hub reports problems: bad credentials, then an unknown or invisible repository, then an
//! unknown revision. The file and commit endpoints use them too.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use sha1::{Digest, Sha1};

use super::error::HubError;
use super::extract::{HubPath, JsonBody, origin, parse_query, query_flag};
use super::state::{Caller, HubState, iso_now};
use super::whoami::object_id;
use super::world::{Commit, Repo, RepoType, World, WorldError, validate_repo_id};

/// Entries per page of a tree listing, as on the real Hub.
const TREE_PAGE_SIZE: usize = 1000;

/// The routes of this file.
pub(super) fn routes() -> Router<HubState> {
    Router::new()
        .route("/api/repos/create", post(create))
        .route("/api/repos/delete", delete(delete_repo))
        .route("/api/{t}/{ns}", get(info_no_namespace))
        .route("/api/{t}/{ns}/{name}", get(info))
        .route("/api/{t}/{ns}/{name}/revision/{rev}", get(info_at))
        .route("/api/{t}/{ns}/{name}/tree/{rev}", get(tree_root))
        .route("/api/{t}/{ns}/{name}/tree/{rev}/{*path}", get(tree_path))
}

/// Parses the `{t}` segment; anything else is an unknown page.
pub(super) fn repo_type(t: &str) -> Result<RepoType, HubError> {
    RepoType::from_plural(t).ok_or(HubError::RouteNotFound)
}

/// Rejects invalid credentials, then finds a repository the caller may see.
pub(super) fn find_visible<'w>(
    world: &'w World,
    caller: &Caller,
    repo_type: RepoType,
    id: &str,
) -> Result<&'w Repo, HubError> {
    if *caller == Caller::Invalid {
        return Err(HubError::InvalidCredentials);
    }
    let anonymous = *caller == Caller::Anonymous;
    match world.repo(repo_type, id) {
        Some(repo) if world.token_can_see(caller.token(), repo) => Ok(repo),
        _ => Err(HubError::RepoNotFound { anonymous }),
    }
}

/// The commit a revision names, or RevisionNotFound.
pub(super) fn resolve_rev<'r>(repo: &'r Repo, rev: &str) -> Result<&'r Commit, HubError> {
    repo.resolve(rev).ok_or_else(|| HubError::RevisionNotFound {
        rev: rev.to_string(),
    })
}

/// The web URL of a repository.
pub(super) fn repo_url(origin: &str, repo_type: RepoType, id: &str) -> String {
    format!("{origin}/{}{id}", repo_type.url_prefix())
}

/// Repository info for an id without a namespace: the Hub has none, so RepoNotFound.
async fn info_no_namespace(
    State(state): State<HubState>,
    caller: Caller,
    RawQuery(query): RawQuery,
    HubPath((t, name)): HubPath<(String, String)>,
) -> Result<Json<Value>, HubError> {
    info_body(&state, &caller, query, &t, &name, "main")
}

/// Repository info at `main`.
async fn info(
    State(state): State<HubState>,
    caller: Caller,
    RawQuery(query): RawQuery,
    HubPath((t, ns, name)): HubPath<(String, String, String)>,
) -> Result<Json<Value>, HubError> {
    info_body(&state, &caller, query, &t, &format!("{ns}/{name}"), "main")
}

/// Repository info at a revision.
async fn info_at(
    State(state): State<HubState>,
    caller: Caller,
    RawQuery(query): RawQuery,
    HubPath((t, ns, name, rev)): HubPath<(String, String, String, String)>,
) -> Result<Json<Value>, HubError> {
    info_body(&state, &caller, query, &t, &format!("{ns}/{name}"), &rev)
}

/// Builds the info body; `sha` is the resolved commit, the same value resolve sends as
/// `X-Repo-Commit`. With `?blobs=true` (`files_metadata=True` in the client) each sibling also
/// carries `blobId`, `size` and, for LFS files, `lfs: {sha256, size, pointerSize}`.
fn info_body(
    state: &HubState,
    caller: &Caller,
    query: Option<String>,
    t: &str,
    id: &str,
    rev: &str,
) -> Result<Json<Value>, HubError> {
    let repo_type = repo_type(t)?;
    let blobs = query_flag(&parse_query(query.as_deref().unwrap_or("")), "blobs");
    let world = state.read();
    let repo = find_visible(&world, caller, repo_type, id)?;
    let commit = resolve_rev(repo, rev)?;
    let siblings: Vec<Value> = commit
        .files
        .iter()
        .map(|(p, file)| {
            if !blobs {
                return json!({ "rfilename": p });
            }
            let mut sibling =
                json!({ "rfilename": p, "blobId": file.git_oid, "size": file.size() });
            if file.lfs {
                sibling["lfs"] =
                    json!({"sha256": file.sha256, "size": file.size(), "pointerSize": 134});
            }
            sibling
        })
        .collect();
    let id = repo.id.as_str();
    let (author, _) = id.split_once('/').unwrap_or((id, ""));
    let mut body = json!({
        "_id": object_id(id),
        "id": id,
        "author": author,
        "sha": commit.id,
        "lastModified": commit.date,
        "createdAt": repo.created_at,
        "private": repo.private,
        "gated": repo.gated_label().map_or(json!(false), |g| json!(g)),
        "disabled": false,
        "downloads": 0,
        "likes": 0,
        "tags": [],
        "siblings": siblings,
    });
    let card = commit
        .files
        .get("README.md")
        .map(|f| String::from_utf8_lossy(&f.content.slice(0, 64 * 1024)).into_owned())
        .unwrap_or_default();
    let (pipeline_tag, mut tags) = card_metadata(&card);
    // The Hub lists the task among the tags too (`InferenceClient` looks for it there).
    if let Some(tag) = pipeline_tag.as_ref().filter(|t| !tags.contains(t)) {
        tags.push(tag.clone());
    }
    body["tags"] = json!(tags);
    match repo_type {
        RepoType::Model => {
            body["modelId"] = json!(id);
            if commit.files.contains_key("config.json") {
                body["library_name"] = json!("transformers");
            }
            if let Some(tag) = pipeline_tag {
                body["pipeline_tag"] = json!(tag);
            }
            if let Some(mapping) = super::inference::provider_mapping(&world, id) {
                body["inferenceProviderMapping"] = mapping;
            }
        }
        RepoType::Dataset => {}
        RepoType::Space => {
            body["sdk"] = json!("static");
        }
    }
    Ok(Json(body))
}

/// The `pipeline_tag` and `tags` of a model card's YAML front matter, which the Hub reports in
/// repo info (and `InferenceClient` checks before it calls HF Inference). Read line by line: a
/// `key: value` line, and `- item` lines under `tags:`.
fn card_metadata(card: &str) -> (Option<String>, Vec<String>) {
    let Some(front) = card
        .strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---").map(|(front, _)| front))
    else {
        return (None, Vec::new());
    };
    let mut pipeline_tag = None;
    let mut tags = Vec::new();
    let mut in_tags = false;
    for line in front.lines() {
        if let Some(item) = line.trim_start().strip_prefix("- ").filter(|_| in_tags) {
            tags.push(item.trim().trim_matches('"').to_string());
            continue;
        }
        in_tags = false;
        match line.split_once(':') {
            Some(("pipeline_tag", value)) => {
                pipeline_tag = Some(value.trim().trim_matches('"').to_string());
            }
            Some(("tags", value)) if value.trim().is_empty() => in_tags = true,
            _ => {}
        }
    }
    (pipeline_tag, tags)
}

/// Tree listing of the repository root.
async fn tree_root(
    State(state): State<HubState>,
    caller: Caller,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    HubPath((t, ns, name, rev)): HubPath<(String, String, String, String)>,
) -> Result<Response, HubError> {
    tree(
        &state,
        &caller,
        &headers,
        query,
        &t,
        &format!("{ns}/{name}"),
        &rev,
        "",
    )
}

/// Tree listing of a folder.
async fn tree_path(
    State(state): State<HubState>,
    caller: Caller,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    HubPath((t, ns, name, rev, path)): HubPath<(String, String, String, String, String)>,
) -> Result<Response, HubError> {
    let path = path.trim_end_matches('/');
    tree(
        &state,
        &caller,
        &headers,
        query,
        &t,
        &format!("{ns}/{name}"),
        &rev,
        path,
    )
}

/// A stable fake tree oid for a folder at a commit.
fn folder_oid(commit: &str, path: &str) -> String {
    let mut h = Sha1::new();
    h.update(format!("tree {commit} {path}").as_bytes());
    hex::encode(h.finalize())
}

/// Lists files and folders under `dir`, one level or all, paged at 1000 entries.
#[allow(clippy::too_many_arguments)]
fn tree(
    state: &HubState,
    caller: &Caller,
    headers: &HeaderMap,
    query: Option<String>,
    t: &str,
    id: &str,
    rev: &str,
    dir: &str,
) -> Result<Response, HubError> {
    let repo_type = repo_type(t)?;
    let query = parse_query(query.as_deref().unwrap_or(""));
    let recursive = query_flag(&query, "recursive");
    let world = state.read();
    let repo = find_visible(&world, caller, repo_type, id)?;
    let commit = resolve_rev(repo, rev)?;
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let mut folders = BTreeSet::new();
    let mut entries: BTreeMap<String, Value> = BTreeMap::new();
    let mut dir_exists = dir.is_empty();
    for (path, file) in &commit.files {
        let Some(rest) = path.strip_prefix(&prefix) else {
            continue;
        };
        dir_exists = true;
        // Every folder between `dir` and the file.
        let parts: Vec<&str> = rest.split('/').collect();
        let depth_limit = if recursive { parts.len() - 1 } else { 1 };
        for i in 1..=depth_limit.min(parts.len() - 1) {
            folders.insert(format!("{prefix}{}", parts[..i].join("/")));
        }
        if recursive || parts.len() == 1 {
            let mut entry = json!({
                "type": "file",
                "oid": file.git_oid,
                "size": file.size(),
                "path": path,
            });
            if file.lfs {
                entry["lfs"] = json!({"oid": file.sha256, "size": file.size(), "pointerSize": 134});
            }
            entries.insert(path.clone(), entry);
        }
    }
    if !dir_exists {
        return Err(HubError::EntryNotFound {
            commit: commit.id.clone(),
        });
    }
    for folder in folders {
        let entry = json!({"type": "directory", "oid": folder_oid(&commit.id, &folder), "size": 0, "path": folder});
        entries.insert(folder, entry);
    }
    let cursor: usize = query
        .get("cursor")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let all: Vec<Value> = entries.into_values().collect();
    let page: Vec<Value> = all
        .iter()
        .skip(cursor)
        .take(TREE_PAGE_SIZE)
        .cloned()
        .collect();
    let mut response = Json(page).into_response();
    if cursor + TREE_PAGE_SIZE < all.len() {
        let path_part = if dir.is_empty() {
            String::new()
        } else {
            format!("/{dir}")
        };
        let next = format!(
            "<{}/api/{t}/{id}/tree/{rev}{path_part}?recursive={recursive}&expand=false&cursor={}>; rel=\"next\"",
            origin(headers),
            cursor + TREE_PAGE_SIZE
        );
        if let Ok(v) = HeaderValue::from_str(&next) {
            response.headers_mut().insert(header::LINK, v);
        }
    }
    Ok(response)
}

/// The body of `POST /api/repos/create`.
#[derive(Debug, Deserialize)]
struct CreateRequest {
    name: String,
    #[serde(default)]
    organization: Option<String>,
    #[serde(default, rename = "type")]
    repo_type: Option<String>,
    #[serde(default)]
    private: Option<bool>,
    #[serde(default)]
    visibility: Option<String>,
}

/// Checks the caller holds a valid token (for the write endpoints).
pub(super) fn require_token(caller: &Caller) -> Result<&super::world::Token, HubError> {
    match caller {
        Caller::Anonymous => Err(HubError::AuthRequired),
        Caller::Invalid => Err(HubError::InvalidCredentials),
        Caller::Token(t) => Ok(t),
    }
}

/// Parses the optional singular `type` of a create/delete body.
fn body_repo_type(t: Option<&str>) -> Result<RepoType, HubError> {
    match t {
        None => Ok(RepoType::Model),
        Some(t) => RepoType::from_singular(t)
            .ok_or_else(|| HubError::BadRequest(format!("Invalid repo type: '{t}'"))),
    }
}

/// Creates a repository owned by `organization` (or the caller when null).
async fn create(
    State(state): State<HubState>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CreateRequest>,
) -> Result<Json<Value>, HubError> {
    let token = require_token(&caller)?;
    let repo_type = body_repo_type(body.repo_type.as_deref())?;
    let namespace = body.organization.unwrap_or_else(|| token.user.clone());
    let id = format!("{namespace}/{}", body.name);
    validate_repo_id(&id).map_err(HubError::BadRequest)?;
    let asked = match body.visibility.as_deref() {
        Some("private") => Some(true),
        Some("public") => Some(false),
        Some(other) => {
            return Err(HubError::BadRequest(format!(
                "Invalid visibility: '{other}'"
            )));
        }
        None => body.private,
    };
    let url = repo_url(&origin(&headers), repo_type, &id);
    let mut world = state.write();
    if !world.token_can_create(token, &namespace) {
        return Err(HubError::CreateForbidden {
            repo_type,
            namespace,
        });
    }
    let private =
        asked.unwrap_or_else(|| world.org(&namespace).is_some_and(|o| o.private_by_default));
    match world.create_repo(repo_type, &id, private, &iso_now()) {
        Ok(repo) => {
            repo.created_by = Some(token.user.clone());
            Ok(Json(json!({"url": url, "name": id, "id": id})))
        }
        Err(WorldError::Exists(_)) => Err(HubError::RepoExists { repo_type, url }),
        Err(e) => Err(HubError::BadRequest(e.to_string())),
    }
}

/// The body of `DELETE /api/repos/delete`.
#[derive(Debug, Deserialize)]
struct DeleteRequest {
    name: String,
    #[serde(default)]
    organization: Option<String>,
    #[serde(default, rename = "type")]
    repo_type: Option<String>,
}

/// Deletes a repository.
async fn delete_repo(
    State(state): State<HubState>,
    caller: Caller,
    JsonBody(body): JsonBody<DeleteRequest>,
) -> Result<Json<Value>, HubError> {
    let token = require_token(&caller)?;
    let repo_type = body_repo_type(body.repo_type.as_deref())?;
    let namespace = body.organization.unwrap_or_else(|| token.user.clone());
    let id = format!("{namespace}/{}", body.name);
    let mut world = state.write();
    let repo = find_visible(&world, &caller, repo_type, &id)?;
    if !world.token_can_write(token, repo) {
        return Err(HubError::WriteTokenRequired);
    }
    world.remove_repo(repo_type, &id);
    Ok(Json(json!({})))
}
