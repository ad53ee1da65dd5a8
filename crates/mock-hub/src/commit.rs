//! Writing to a repository: `POST /api/{t}/{ns}/{name}/preupload/{rev}`, the NDJSON
//! `POST /api/{t}/{ns}/{name}/commit/{rev}`, and `POST /api/validate-yaml` (sent before any
//! commit touching `README.md`).
//!
//! Preupload answers `uploadMode` as the Hub does ([`super::upload_mode`]): `regular` files come
//! inline in the commit, `lfs` files are uploaded first (through Xet, [`super::xet`]) and named in
//! the commit by sha256 in an `lfsFile` line, which is accepted when the mock's CAS has that
//! content. The legacy LFS batch API (`info/lfs/objects/batch`) is not implemented.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{HubError, X_ERROR_MESSAGE, header_text};
use super::extract::{
    HubPath, JsonBody, LARGE_BODY_LIMIT, origin, parse_query, query_flag, read_body,
};
use super::gitignore::GitIgnore;
use super::repos::{find_visible, repo_type, repo_url, require_token, resolve_rev};
use super::state::{Caller, HubState, iso_now};
use super::upload_mode::{LfsRules, upload_mode};
use super::world::{FileContent, RepoFile, World, is_commit_id, validate_file_path};

/// The routes of this file.
pub(super) fn routes() -> Router<HubState> {
    Router::new()
        .route("/api/{t}/{ns}/{name}/preupload/{rev}", post(preupload))
        .route(
            "/api/{t}/{ns}/{name}/commit/{rev}",
            post(commit).layer(DefaultBodyLimit::max(LARGE_BODY_LIMIT)),
        )
        .route("/api/validate-yaml", post(validate_yaml))
}

/// Path parameters of the write endpoints.
type WritePath = (String, String, String, String);

/// Checks the caller may write to the repository (directly, or through a pull request).
pub(super) fn check_write(
    world: &World,
    caller: &Caller,
    t: &str,
    id: &str,
    create_pr: bool,
) -> Result<(), HubError> {
    let repo_type = repo_type(t)?;
    let repo = find_visible(world, caller, repo_type, id)?;
    let token = require_token(caller)?;
    let allowed = if create_pr {
        !matches!(token.role, super::world::TokenRole::Read)
    } else {
        world.token_can_write(token, repo)
    };
    if allowed {
        Ok(())
    } else {
        Err(HubError::WriteForbidden)
    }
}

/// The body of a preupload call.
#[derive(Debug, Deserialize)]
struct PreuploadRequest {
    files: Vec<PreuploadFile>,
    /// The `.gitignore` the client wants applied (else the repository's own).
    #[serde(default, rename = "gitIgnore")]
    git_ignore: Option<String>,
}

/// The error for a path the Hub refuses: 422 `Invalid path` for a parent-folder escape
/// (`..` as a segment, `..\name` as the first one), 400 with the reason otherwise.
pub(super) fn path_error(path: &str) -> HubError {
    let first = path.split('/').next().unwrap_or("");
    if first.starts_with("..\\") || path.split('/').any(|seg| seg == "..") {
        return HubError::InvalidPath;
    }
    match validate_file_path(path) {
        Err(reason) => HubError::BadRequest(reason),
        Ok(()) => HubError::InvalidPath,
    }
}

/// Validates a path of a write request.
fn check_path(path: &str) -> Result<(), HubError> {
    validate_file_path(path).map_err(|_| path_error(path))
}

/// One file of a preupload call: its path, size and first 512 bytes in base64
/// (`_commit_api.py` `_fetch_upload_modes`).
#[derive(Debug, Deserialize)]
struct PreuploadFile {
    path: String,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    sample: Option<String>,
}

/// The text of a file at a commit (at most 1 MiB), if the file exists.
fn small_text(commit: &super::world::Commit, path: &str) -> Option<String> {
    commit
        .files
        .get(path)
        .map(|f| String::from_utf8_lossy(&f.content.slice(0, f.size().min(1 << 20))).into_owned())
}

/// Says how each file should be uploaded (inline or LFS) and which are already there.
async fn preupload(
    State(state): State<HubState>,
    caller: Caller,
    RawQuery(query): RawQuery,
    HubPath((t, ns, name, rev)): HubPath<WritePath>,
    JsonBody(body): JsonBody<PreuploadRequest>,
) -> Result<Json<Value>, HubError> {
    let create_pr = query_flag(&parse_query(query.as_deref().unwrap_or("")), "create_pr");
    let id = format!("{ns}/{name}");
    let world = state.read();
    check_write(&world, &caller, &t, &id, create_pr)?;
    let repo = find_visible(&world, &caller, repo_type(&t)?, &id)?;
    let commit = resolve_rev(repo, &rev)?;
    let ignore_text = body.git_ignore.or_else(|| small_text(commit, ".gitignore"));
    let ignore = GitIgnore::parse(ignore_text.as_deref().unwrap_or(""));
    let lfs_rules = LfsRules::parse(&small_text(commit, ".gitattributes").unwrap_or_default());
    let mut files = Vec::new();
    for f in body.files {
        check_path(&f.path)?;
        let should_ignore = ignore.ignores(&f.path);
        let sample = base64::engine::general_purpose::STANDARD
            .decode(f.sample.as_deref().unwrap_or("").as_bytes())
            .map_err(|e| HubError::BadRequest(format!("Invalid sample for '{}': {e}", f.path)))?;
        let mode = upload_mode(&lfs_rules, &f.path, f.size, &sample);
        let mut entry = json!({"path": f.path, "uploadMode": mode, "shouldIgnore": should_ignore});
        // The client compares this with its own oid to skip unchanged files: the sha256 for
        // LFS files, the git blob sha1 otherwise (`_commit_api.py` `_local_oid`).
        if let Some(existing) = commit.files.get(&f.path) {
            entry["oid"] = json!(existing.etag());
        }
        files.push(entry);
    }
    Ok(Json(json!({ "files": files })))
}

/// One NDJSON line of a commit.
#[derive(Debug, Deserialize)]
struct CommitLine {
    key: String,
    value: Value,
}

/// The operations a commit body asks for.
#[derive(Debug, Default)]
struct CommitPlan {
    summary: String,
    parent: Option<String>,
    adds: Vec<(String, Vec<u8>)>,
    /// `lfsFile` lines: path, sha256 and the size the client states.
    lfs_adds: Vec<LfsAdd>,
    deletes: Vec<String>,
    delete_folders: Vec<String>,
}

/// One `lfsFile` line of a commit: `{path, algo: "sha256", oid, size}`
/// (`_commit_api.py` `_prepare_commit_payload`).
#[derive(Debug)]
struct LfsAdd {
    path: String,
    oid: String,
    size: Option<u64>,
}

/// A string field of a JSON object, or a 400 naming it.
fn field<'a>(value: &'a Value, name: &str, key: &str) -> Result<&'a str, HubError> {
    value
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| HubError::BadRequest(format!("Invalid '{key}' line: missing '{name}'")))
}

/// Parses the NDJSON body into a plan, validating every path.
fn parse_commit(body: &[u8]) -> Result<CommitPlan, HubError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| HubError::BadRequest("Commit body is not UTF-8".into()))?;
    let mut plan = CommitPlan::default();
    let mut saw_header = false;
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let line: CommitLine = serde_json::from_str(line)
            .map_err(|e| HubError::BadRequest(format!("Invalid JSON on line {}: {e}", n + 1)))?;
        match line.key.as_str() {
            "header" if !saw_header => {
                saw_header = true;
                plan.summary = field(&line.value, "summary", "header")?.to_string();
                plan.parent = line
                    .value
                    .get("parentCommit")
                    .and_then(Value::as_str)
                    .map(str::to_string);
            }
            _ if !saw_header => {
                return Err(HubError::BadRequest(
                    "The first line of a commit must be its header".into(),
                ));
            }
            "file" => {
                let path = field(&line.value, "path", "file")?;
                check_path(path)?;
                let content = field(&line.value, "content", "file")?;
                let bytes = match line.value.get("encoding").and_then(Value::as_str) {
                    Some("base64") => base64::engine::general_purpose::STANDARD
                        .decode(content.as_bytes())
                        .map_err(|e| {
                            HubError::BadRequest(format!("Invalid base64 for '{path}': {e}"))
                        })?,
                    None | Some("utf-8") => content.as_bytes().to_vec(),
                    Some(other) => {
                        return Err(HubError::BadRequest(format!(
                            "Unsupported encoding '{other}' for '{path}'"
                        )));
                    }
                };
                plan.adds.push((path.to_string(), bytes));
            }
            "deletedFile" => {
                let path = field(&line.value, "path", "deletedFile")?;
                check_path(path)?;
                plan.deletes.push(path.to_string());
            }
            "deletedFolder" => {
                let path = field(&line.value, "path", "deletedFolder")?.trim_end_matches('/');
                check_path(path)?;
                plan.delete_folders.push(format!("{path}/"));
            }
            "lfsFile" => {
                let path = field(&line.value, "path", "lfsFile")?;
                check_path(path)?;
                let algo = field(&line.value, "algo", "lfsFile")?;
                if algo != "sha256" {
                    return Err(HubError::BadRequest(format!(
                        "Unsupported LFS hash algorithm '{algo}' for '{path}'"
                    )));
                }
                let oid = field(&line.value, "oid", "lfsFile")?;
                plan.lfs_adds.push(LfsAdd {
                    path: path.to_string(),
                    oid: oid.to_ascii_lowercase(),
                    size: line.value.get("size").and_then(Value::as_u64),
                });
            }
            other => {
                return Err(HubError::BadRequest(format!(
                    "Unsupported commit operation '{other}'"
                )));
            }
        }
    }
    if !saw_header {
        return Err(HubError::BadRequest("Missing commit header".into()));
    }
    Ok(plan)
}

/// Applies an NDJSON commit and answers with the new commit id and URL.
async fn commit(
    State(state): State<HubState>,
    caller: Caller,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    HubPath((t, ns, name, rev)): HubPath<WritePath>,
    req: Request,
) -> Result<Json<Value>, HubError> {
    let create_pr = query_flag(&parse_query(query.as_deref().unwrap_or("")), "create_pr");
    let id = format!("{ns}/{name}");
    let repo_type = repo_type(&t)?;
    // Check access before reading a possibly large body.
    check_write(&state.read(), &caller, &t, &id, create_pr)?;
    let body = read_body(req, &state, LARGE_BODY_LIMIT).await?;
    let plan = parse_commit(&body)?;
    let files: Vec<(String, Arc<RepoFile>)> = plan
        .adds
        .into_iter()
        .map(|(path, bytes)| {
            let file = RepoFile::new(&path, FileContent::Bytes(bytes.into()));
            (path, Arc::new(file))
        })
        .collect();

    let mut world = state.write();
    // Re-check under the write lock: the world may have changed while the body was read.
    check_write(&world, &caller, &t, &id, create_pr)?;
    let repo = find_visible(&world, &caller, repo_type, &id)?;
    if is_commit_id(&rev) && !repo.branches.contains_key(&rev) {
        return Err(HubError::BadRequest(format!(
            "Cannot commit to a commit id ({rev}); use a branch name"
        )));
    }
    let base = resolve_rev(repo, &rev)?;
    let branch = rev.strip_prefix("refs/heads/").unwrap_or(&rev).to_string();
    if !repo.branches.contains_key(&branch) {
        return Err(HubError::BadRequest(format!(
            "Cannot commit to the tag '{rev}'; use a branch name"
        )));
    }
    if let Some(parent) = &plan.parent
        && !parent.eq_ignore_ascii_case(&base.id)
    {
        return Err(HubError::ParentCommitMismatch);
    }
    let parent_id = base.id.clone();
    let mut snapshot: BTreeMap<String, Arc<RepoFile>> = base.files.clone();
    for folder in &plan.delete_folders {
        snapshot.retain(|path, _| !path.starts_with(folder.as_str()));
    }
    for path in &plan.deletes {
        if snapshot.remove(path).is_some() {
            continue;
        }
        // A `deletedFile` naming a folder deletes the folder, as on the Hub.
        let folder = format!("{path}/");
        let before = snapshot.len();
        snapshot.retain(|p, _| !p.starts_with(&folder));
        if snapshot.len() == before {
            return Err(HubError::BadRequest(format!(
                "Cannot delete '{path}': no such file"
            )));
        }
    }
    snapshot.extend(files);
    snapshot.extend(lfs_files(&world, &plan.lfs_adds)?);
    let summary = if plan.summary.is_empty() {
        "Update files".to_string()
    } else {
        plan.summary
    };
    let mut new_commit = world.make_commit(&id, Some(parent_id), &summary, &iso_now(), snapshot);
    new_commit.author = require_token(&caller)?.user.clone();
    let commit_id = new_commit.id.clone();
    let repo = world
        .repo_mut(repo_type, &id)
        .ok_or(HubError::RepoNotFound { anonymous: false })?;
    let url = repo_url(&origin(&headers), repo_type, &id);
    let mut answer = json!({
        "success": true,
        "commitOid": commit_id,
        "commitUrl": format!("{url}/commit/{commit_id}"),
    });
    if create_pr {
        repo.pull_requests += 1;
        let n = repo.pull_requests;
        repo.branches
            .insert(format!("refs/pr/{n}"), commit_id.clone());
        answer["pullRequestUrl"] = json!(format!("{url}/discussions/{n}"));
    } else {
        repo.branches.insert(branch, commit_id.clone());
    }
    repo.commits.insert(commit_id, new_commit);
    Ok(Json(answer))
}

/// The files of a commit's `lfsFile` lines, from the content Xet uploads left in the CAS (as LFS
/// files). Lines whose content never arrived are refused together, as the Hub does.
fn lfs_files(world: &World, adds: &[LfsAdd]) -> Result<Vec<(String, Arc<RepoFile>)>, HubError> {
    let mut files = Vec::with_capacity(adds.len());
    let mut missing = Vec::new();
    for add in adds {
        match world.xet.file(&add.oid) {
            Some(f) if add.size.is_none_or(|s| s == f.bytes.len() as u64) => {
                let mut file = RepoFile::new(&add.path, FileContent::Bytes(f.bytes.clone()));
                file.lfs = true;
                files.push((add.path.clone(), Arc::new(file)));
            }
            _ => missing.push(add.path.clone()),
        }
    }
    if missing.is_empty() {
        Ok(files)
    } else {
        Err(HubError::LfsObjectMissing { paths: missing })
    }
}

/// The body of `POST /api/validate-yaml`.
#[derive(Debug, Deserialize)]
struct ValidateRequest {
    content: String,
}

/// Problems found in a model card's YAML front matter (a light check: the block must be
/// closed, and top-level lines must be `key: value`, list items or comments).
pub(crate) fn front_matter_errors(content: &str) -> Vec<String> {
    let mut lines = content.lines();
    if lines.next().map(str::trim_end) != Some("---") {
        return Vec::new();
    }
    let mut errors = Vec::new();
    for line in lines {
        if line.trim_end() == "---" {
            return errors;
        }
        let top_level = !line.starts_with([' ', '\t']);
        let t = line.trim();
        if top_level
            && !t.is_empty()
            && !t.starts_with('#')
            && !t.starts_with('-')
            && !t.contains(':')
        {
            errors.push(format!("Invalid YAML in metadata: unexpected line \"{t}\""));
        }
    }
    errors.push("Invalid YAML in metadata: the front matter is not closed by \"---\"".into());
    errors
}

/// Validates README.md metadata.
async fn validate_yaml(
    caller: Caller,
    JsonBody(body): JsonBody<ValidateRequest>,
) -> Result<Response, HubError> {
    if caller == Caller::Invalid {
        return Err(HubError::InvalidCredentials);
    }
    let errors = front_matter_errors(&body.content);
    if errors.is_empty() {
        return Ok(Json(json!({"errors": [], "warnings": []})).into_response());
    }
    let list: Vec<Value> = errors.iter().map(|m| json!({"message": m})).collect();
    let mut headers = HeaderMap::new();
    headers.insert(X_ERROR_MESSAGE, header_text(&errors[0]));
    Ok((
        StatusCode::BAD_REQUEST,
        headers,
        Json(json!({"error": errors[0], "errors": list, "warnings": []})),
    )
        .into_response())
}
