//! Branches, tags and history: `GET /api/{t}/{ns}/{name}/refs`, `POST`/`DELETE
//! .../branch/{branch}`, `POST .../tag/{rev}` and `DELETE .../tag/{tag}`, and
//! `GET .../commits/{rev}` (`list_repo_commits`).
//!
//! Every revision-taking endpoint of the mock (info, tree, resolve, commits, paths-info) accepts a
//! branch, a tag or a full commit id through [`super::world::Repo::resolve`]; this file only
//! changes and lists the refs.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::HubError;
use super::extract::{HubPath, JsonBody, origin, parse_query, query_flag};
use super::repos::{find_visible, repo_type, require_token, resolve_rev};
use super::state::{Caller, HubState};
use super::world::{Repo, World, is_commit_id};

/// Commits per page of `list_repo_commits`, as on the Hub.
const COMMITS_PAGE_SIZE: usize = 50;

/// The routes of this file.
pub(super) fn routes() -> Router<HubState> {
    Router::new()
        .route("/api/{t}/{ns}/{name}/refs", get(list_refs))
        .route(
            "/api/{t}/{ns}/{name}/branch/{branch}",
            post(create_branch).delete(delete_branch),
        )
        .route(
            "/api/{t}/{ns}/{name}/tag/{rev}",
            post(create_tag).delete(delete_tag),
        )
        .route("/api/{t}/{ns}/{name}/commits/{rev}", get(list_commits))
}

/// `{t}`, `{ns}`, `{name}` and one more segment.
type RefPath = (String, String, String, String);

/// One ref as `list_repo_refs` reads it.
fn ref_entry(name: &str, full: &str, target: &str) -> Value {
    json!({"name": name, "ref": full, "targetCommit": target})
}

/// Lists branches and tags (and pull requests with `include_prs=1`).
async fn list_refs(
    State(state): State<HubState>,
    caller: Caller,
    RawQuery(query): RawQuery,
    HubPath((t, ns, name)): HubPath<(String, String, String)>,
) -> Result<Json<Value>, HubError> {
    let include_prs = query_flag(&parse_query(query.as_deref().unwrap_or("")), "include_prs");
    let world = state.read();
    let repo = find_visible(&world, &caller, repo_type(&t)?, &format!("{ns}/{name}"))?;
    let (prs, branches): (Vec<_>, Vec<_>) = repo
        .branches
        .iter()
        .partition(|(b, _)| b.starts_with("refs/pr/"));
    let branches: Vec<Value> = branches
        .into_iter()
        .map(|(b, c)| ref_entry(b, &format!("refs/heads/{b}"), c))
        .collect();
    let tags: Vec<Value> = repo
        .tags
        .iter()
        .map(|(tag, c)| ref_entry(tag, &format!("refs/tags/{tag}"), c))
        .collect();
    let mut body = json!({"branches": branches, "converts": [], "tags": tags});
    if include_prs {
        let prs: Vec<Value> = prs.into_iter().map(|(b, c)| ref_entry(b, b, c)).collect();
        body["pullRequests"] = json!(prs);
    }
    Ok(Json(body))
}

/// Finds the repository and checks the caller may change its refs.
fn writable<'w>(
    world: &'w World,
    caller: &Caller,
    t: &str,
    id: &str,
) -> Result<&'w Repo, HubError> {
    let repo = find_visible(world, caller, repo_type(t)?, id)?;
    let token = require_token(caller)?;
    if world.token_can_write(token, repo) {
        Ok(repo)
    } else {
        Err(HubError::RepoWriteForbidden {
            repo: repo.id.clone(),
        })
    }
}

/// Checks a new branch or tag name.
fn check_ref_name(name: &str) -> Result<(), HubError> {
    let bad = name.is_empty()
        || name.len() > 200
        || name.starts_with(['/', '-', '.'])
        || name.ends_with(['/', '.'])
        || name.ends_with(".lock")
        || name.starts_with("refs/")
        || name.contains("..")
        || name.contains("//")
        || name.contains("@{")
        || is_commit_id(name)
        || name
            .chars()
            .any(|c| c.is_control() || " ~^:?*[\\".contains(c));
    if bad {
        return Err(HubError::BadRequest(format!(
            "Invalid reference name: '{name}'"
        )));
    }
    Ok(())
}

/// The body of `create_branch`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct BranchRequest {
    starting_point: Option<String>,
}

/// Creates a branch at `startingPoint` (default: the head of `main`); 409 if it exists.
async fn create_branch(
    State(state): State<HubState>,
    caller: Caller,
    HubPath((t, ns, name, branch)): HubPath<RefPath>,
    JsonBody(body): JsonBody<BranchRequest>,
) -> Result<Json<Value>, HubError> {
    let id = format!("{ns}/{name}");
    let mut world = state.write();
    let repo = writable(&world, &caller, &t, &id)?;
    check_ref_name(&branch)?;
    if repo.branches.contains_key(&branch) {
        return Err(HubError::RefExists);
    }
    let start = body.starting_point.as_deref().unwrap_or("main");
    let target = resolve_rev(repo, start)?.id.clone();
    let repo_type = repo.repo_type;
    if let Some(repo) = world.repo_mut(repo_type, &id) {
        repo.branches.insert(branch, target);
    }
    Ok(Json(json!({})))
}

/// Deletes a branch (never `main`).
async fn delete_branch(
    State(state): State<HubState>,
    caller: Caller,
    HubPath((t, ns, name, branch)): HubPath<RefPath>,
) -> Result<Json<Value>, HubError> {
    let id = format!("{ns}/{name}");
    let mut world = state.write();
    let repo = writable(&world, &caller, &t, &id)?;
    let branch = branch
        .strip_prefix("refs/heads/")
        .unwrap_or(&branch)
        .to_string();
    if branch == "main" {
        return Err(HubError::BadRequest(
            "Cannot delete the default branch".into(),
        ));
    }
    if !repo.branches.contains_key(&branch) {
        return Err(HubError::RevisionNotFound { rev: branch });
    }
    let repo_type = repo.repo_type;
    if let Some(repo) = world.repo_mut(repo_type, &id) {
        repo.branches.remove(&branch);
    }
    Ok(Json(json!({})))
}

/// The body of `create_tag`.
#[derive(Debug, Deserialize)]
struct TagRequest {
    tag: String,
    #[serde(default)]
    #[allow(dead_code)]
    message: Option<String>,
}

/// Tags the commit `rev` names; 409 if the tag exists.
async fn create_tag(
    State(state): State<HubState>,
    caller: Caller,
    HubPath((t, ns, name, rev)): HubPath<RefPath>,
    JsonBody(body): JsonBody<TagRequest>,
) -> Result<Json<Value>, HubError> {
    let id = format!("{ns}/{name}");
    let mut world = state.write();
    let repo = writable(&world, &caller, &t, &id)?;
    check_ref_name(&body.tag)?;
    if repo.tags.contains_key(&body.tag) {
        return Err(HubError::RefExists);
    }
    let target = resolve_rev(repo, &rev)?.id.clone();
    let repo_type = repo.repo_type;
    if let Some(repo) = world.repo_mut(repo_type, &id) {
        repo.tags.insert(body.tag, target);
    }
    Ok(Json(json!({})))
}

/// Deletes a tag.
async fn delete_tag(
    State(state): State<HubState>,
    caller: Caller,
    HubPath((t, ns, name, tag)): HubPath<RefPath>,
) -> Result<Json<Value>, HubError> {
    let id = format!("{ns}/{name}");
    let mut world = state.write();
    let repo = writable(&world, &caller, &t, &id)?;
    let tag = tag.strip_prefix("refs/tags/").unwrap_or(&tag).to_string();
    if !repo.tags.contains_key(&tag) {
        return Err(HubError::RevisionNotFound { rev: tag });
    }
    let repo_type = repo.repo_type;
    if let Some(repo) = world.repo_mut(repo_type, &id) {
        repo.tags.remove(&tag);
    }
    Ok(Json(json!({})))
}

/// The commits reachable from `rev`, newest first, 50 a page with `Link: rel="next"` (`p=`).
async fn list_commits(
    State(state): State<HubState>,
    caller: Caller,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    HubPath((t, ns, name, rev)): HubPath<RefPath>,
) -> Result<Response, HubError> {
    let id = format!("{ns}/{name}");
    let page: usize = parse_query(query.as_deref().unwrap_or(""))
        .get("p")
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let world = state.read();
    let repo = find_visible(&world, &caller, repo_type(&t)?, &id)?;
    let head = resolve_rev(repo, &rev)?;
    let history = repo.history(&head.id);
    let items: Vec<Value> = history
        .iter()
        .skip(page.saturating_mul(COMMITS_PAGE_SIZE))
        .take(COMMITS_PAGE_SIZE)
        .map(|c| {
            json!({
                "id": c.id,
                "title": c.summary,
                "message": "",
                "authors": [{"user": c.author, "avatar": null}],
                "date": c.date,
            })
        })
        .collect();
    let mut response = Json(items).into_response();
    if (page + 1).saturating_mul(COMMITS_PAGE_SIZE) < history.len() {
        let next = format!(
            "<{}/api/{t}/{id}/commits/{}?p={}>; rel=\"next\"",
            origin(&headers),
            super::extract::percent_encode_segment(&rev),
            page + 1
        );
        if let Ok(v) = HeaderValue::from_str(&next) {
            response.headers_mut().insert(header::LINK, v);
        }
    }
    Ok(response)
}
