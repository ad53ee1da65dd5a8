//! Listings: `GET /api/{models,datasets,spaces}` (`list_models`/`list_datasets` with `author=`
//! and `search=`; private repositories only for callers who may read them) and
//! `POST /api/{t}/{ns}/{name}/paths-info/{rev}` (`get_paths_info`, with `expand` giving each
//! path's last commit).

use std::collections::BTreeSet;

use axum::extract::{RawQuery, Request, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::error::HubError;
use super::extract::{HubPath, SMALL_BODY_LIMIT, parse_pairs, parse_query, read_body};
use super::repos::{find_visible, repo_type, resolve_rev};
use super::state::{Caller, HubState};
use super::whoami::object_id;
use super::world::{Commit, Repo, RepoType};

/// The most entries one listing answers.
const LIST_LIMIT_MAX: usize = 1000;

/// The routes of this file.
pub(super) fn routes() -> Router<HubState> {
    Router::new()
        .route("/api/{t}", get(list_repos))
        .route("/api/{t}/{ns}/{name}/paths-info/{rev}", post(paths_info))
}

/// The short info of a repository in a listing.
fn listed(repo: &Repo) -> Value {
    let (author, _) = repo.id.split_once('/').unwrap_or((&repo.id, ""));
    let head = repo.head();
    let mut entry = json!({
        "_id": object_id(&repo.id),
        "id": repo.id,
        "author": author,
        "private": repo.private,
        "gated": repo.gated_label().map_or(json!(false), |g| json!(g)),
        "downloads": 0,
        "likes": 0,
        "tags": [],
        "createdAt": repo.created_at,
        "lastModified": head.map(|c| c.date.clone()),
        "sha": head.map(|c| c.id.clone()),
    });
    if repo.repo_type == RepoType::Model {
        entry["modelId"] = json!(repo.id);
    }
    entry
}

/// Lists the repositories of a type the caller may see, filtered by `author` and `search`.
async fn list_repos(
    State(state): State<HubState>,
    caller: Caller,
    RawQuery(query): RawQuery,
    HubPath(t): HubPath<String>,
) -> Result<Json<Value>, HubError> {
    let repo_type = repo_type(&t)?;
    if caller == Caller::Invalid {
        return Err(HubError::InvalidCredentials);
    }
    let query = parse_query(query.as_deref().unwrap_or(""));
    let author = query.get("author").filter(|a| !a.is_empty());
    let search = query.get("search").map(|s| s.to_ascii_lowercase());
    let limit = query
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(LIST_LIMIT_MAX)
        .min(LIST_LIMIT_MAX);
    let world = state.read();
    let items: Vec<Value> = world
        .repos
        .values()
        .filter(|r| r.repo_type == repo_type)
        .filter(|r| author.is_none_or(|a| r.namespace().eq_ignore_ascii_case(a)))
        .filter(|r| {
            search
                .as_deref()
                .is_none_or(|s| r.id.to_ascii_lowercase().contains(s))
        })
        .filter(|r| world.token_can_see(caller.token(), r))
        .take(limit)
        .map(listed)
        .collect();
    Ok(Json(json!(items)))
}

/// The newest commit in `history` (newest first) that changed anything under `path`.
fn last_change<'c>(history: &[&'c Commit], path: &str, folder: bool) -> Option<&'c Commit> {
    let prefix = format!("{path}/");
    let view = |c: &Commit| -> Vec<(String, String)> {
        c.files
            .iter()
            .filter(|(p, _)| {
                if folder {
                    p.starts_with(&prefix)
                } else {
                    p.as_str() == path
                }
            })
            .map(|(p, f)| (p.clone(), f.git_oid.clone()))
            .collect()
    };
    let mut newest = *history.first()?;
    let mut state = view(newest);
    for commit in &history[1..] {
        if view(commit) != state {
            return Some(newest);
        }
        newest = commit;
        state = view(commit);
    }
    Some(newest)
}

/// Describes the requested paths at `rev` (missing ones are left out), with `lastCommit` when
/// `expand` is set. The form body repeats `paths=`; a JSON body `{paths, expand}` works too.
async fn paths_info(
    State(state): State<HubState>,
    caller: Caller,
    HubPath((t, ns, name, rev)): HubPath<(String, String, String, String)>,
    req: Request,
) -> Result<Json<Value>, HubError> {
    let repo_type = repo_type(&t)?;
    let body = read_body(req, &state, SMALL_BODY_LIMIT).await?;
    let (paths, expand) = parse_paths_body(&body)?;
    let world = state.read();
    let repo = find_visible(&world, &caller, repo_type, &format!("{ns}/{name}"))?;
    let commit = resolve_rev(repo, &rev)?;
    let history = if expand {
        repo.history(&commit.id)
    } else {
        Vec::new()
    };
    let mut out = Vec::new();
    for path in paths {
        let path = path.trim_matches('/').to_string();
        let folder = commit
            .files
            .keys()
            .any(|p| p.starts_with(&format!("{path}/")));
        let mut entry = match commit.files.get(&path) {
            Some(file) => {
                let mut e =
                    json!({"type": "file", "oid": file.git_oid, "size": file.size(), "path": path});
                if file.lfs {
                    e["lfs"] = json!({"oid": file.sha256, "size": file.size(), "pointerSize": 134});
                }
                e
            }
            None if folder && !path.is_empty() => {
                json!({"type": "directory", "oid": object_id(&format!("{}:{path}", commit.id)), "size": 0, "path": path})
            }
            None => continue,
        };
        if expand && let Some(last) = last_change(&history, &path, entry["type"] == "directory") {
            entry["lastCommit"] = json!({"id": last.id, "title": last.summary, "date": last.date});
        }
        out.push(entry);
    }
    Ok(Json(json!(out)))
}

/// Reads `paths` and `expand` from a form or JSON body.
fn parse_paths_body(body: &[u8]) -> Result<(Vec<String>, bool), HubError> {
    let text =
        std::str::from_utf8(body).map_err(|_| HubError::BadRequest("Body is not UTF-8".into()))?;
    if text.trim_start().starts_with('{') {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| HubError::BadRequest(format!("Invalid JSON body: {e}")))?;
        let paths = value["paths"]
            .as_array()
            .ok_or_else(|| HubError::BadRequest("Missing 'paths'".into()))?
            .iter()
            .filter_map(|p| p.as_str().map(str::to_string))
            .collect();
        return Ok((paths, value["expand"].as_bool().unwrap_or(false)));
    }
    let pairs = parse_pairs(text);
    let paths: BTreeSet<String> = pairs
        .iter()
        .filter(|(k, _)| k == "paths" || k == "paths[]")
        .map(|(_, v)| v.clone())
        .collect();
    let expand = pairs
        .iter()
        .any(|(k, v)| k == "expand" && matches!(v.to_ascii_lowercase().as_str(), "1" | "true"));
    Ok((paths.into_iter().collect(), expand))
}
