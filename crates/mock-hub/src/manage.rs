//! Managing a repository: `PUT /api/{t}/{ns}/{name}/settings` (`update_repo_settings`:
//! visibility and gating), `POST /api/repos/move` (`move_repo`; the old id then redirects),
//! and `GET /api/{t}/{ns}/{name}/auth-check[/write]` (`auth_check`).

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::HubError;
use super::extract::{HubPath, JsonBody, origin};
use super::repos::{find_visible, repo_type, require_token};
use super::state::{Caller, HubState};
use super::world::{RepoType, World, WorldError};

/// The routes of this file.
pub(super) fn routes() -> Router<HubState> {
    Router::new()
        .route("/api/{t}/{ns}/{name}/settings", put(settings))
        .route("/api/repos/move", post(move_repo))
        .route("/api/{t}/{ns}/{name}/auth-check", get(auth_check_read))
        .route(
            "/api/{t}/{ns}/{name}/auth-check/write",
            get(auth_check_write),
        )
}

/// The body of a settings update.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SettingsRequest {
    private: Option<bool>,
    /// `public`, `private` or (Spaces) `protected`: what huggingface_hub 2.4.0 sends.
    visibility: Option<String>,
    gated: Option<Value>,
}

/// Changes visibility and gating; answers the new settings.
async fn settings(
    State(state): State<HubState>,
    caller: Caller,
    HubPath((t, ns, name)): HubPath<(String, String, String)>,
    JsonBody(body): JsonBody<SettingsRequest>,
) -> Result<Json<Value>, HubError> {
    let repo_type = repo_type(&t)?;
    let id = format!("{ns}/{name}");
    let gated = match &body.gated {
        None => None,
        Some(Value::Bool(false)) => Some((false, false)),
        Some(Value::String(s)) if s == "auto" => Some((true, true)),
        Some(Value::String(s)) if s == "manual" => Some((true, false)),
        Some(other) => {
            return Err(HubError::BadRequest(format!(
                "Invalid gated value: {other} (expected false, \"auto\" or \"manual\")"
            )));
        }
    };
    let private = match body.visibility.as_deref() {
        None => body.private,
        Some("private") => Some(true),
        Some("public") => Some(false),
        Some("protected") if repo_type == RepoType::Space => Some(false),
        Some(other) => {
            return Err(HubError::BadRequest(format!(
                "Invalid visibility: '{other}'"
            )));
        }
    };
    let mut world = state.write();
    let repo = find_visible(&world, &caller, repo_type, &id)?;
    let token = require_token(&caller)?;
    if !world.token_can_write(token, repo) {
        return Err(HubError::RepoWriteForbidden {
            repo: repo.id.clone(),
        });
    }
    let repo = world
        .repo_mut(repo_type, &id)
        .ok_or(HubError::RepoNotFound { anonymous: false })?;
    if let Some(private) = private {
        repo.private = private;
    }
    if let Some((on, auto)) = gated {
        repo.gated = on;
        repo.gated_auto = auto;
    }
    Ok(Json(json!({
        "private": repo.private,
        "gated": repo.gated_label().map_or(json!(false), |g| json!(g)),
    })))
}

/// The body of `move_repo`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MoveRequest {
    from_repo: String,
    to_repo: String,
    #[serde(default, rename = "type")]
    repo_type: Option<String>,
}

/// Renames or transfers a repository; the old id redirects to the new one afterwards.
async fn move_repo(
    State(state): State<HubState>,
    caller: Caller,
    JsonBody(body): JsonBody<MoveRequest>,
) -> Result<Json<Value>, HubError> {
    let repo_type = match body.repo_type.as_deref() {
        None => RepoType::Model,
        Some(t) => RepoType::from_singular(t)
            .ok_or_else(|| HubError::BadRequest(format!("Invalid repo type: '{t}'")))?,
    };
    super::world::validate_repo_id(&body.to_repo).map_err(HubError::BadRequest)?;
    let mut world = state.write();
    let repo = find_visible(&world, &caller, repo_type, &body.from_repo)?;
    let token = require_token(&caller)?;
    let (to_ns, _) = body.to_repo.split_once('/').unwrap_or_default();
    if !world.token_can_write(token, repo) || !world.token_can_create(token, to_ns) {
        return Err(HubError::RepoWriteForbidden {
            repo: repo.id.clone(),
        });
    }
    let from = repo.id.clone();
    match world.move_repo(repo_type, &from, &body.to_repo) {
        Ok(()) => Ok(Json(json!({}))),
        Err(WorldError::Exists(_)) => Err(HubError::MoveTargetExists {
            repo_type,
            id: body.to_repo,
        }),
        Err(e) => Err(HubError::BadRequest(e.to_string())),
    }
}

/// Checks the caller may read the repository's files (gate included).
async fn auth_check_read(
    State(state): State<HubState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    HubPath((t, ns, name)): HubPath<(String, String, String)>,
) -> Result<Json<Value>, HubError> {
    let repo_type = repo_type(&t)?;
    let world = state.read();
    let repo = find_visible(&world, &caller, repo_type, &format!("{ns}/{name}"))?;
    check_gate(&world, &caller, repo, &origin(&headers))?;
    Ok(Json(json!({"ok": true})))
}

/// Checks the caller may write to the repository.
async fn auth_check_write(
    State(state): State<HubState>,
    caller: Caller,
    HubPath((t, ns, name)): HubPath<(String, String, String)>,
) -> Result<Json<Value>, HubError> {
    let repo_type = repo_type(&t)?;
    let world = state.read();
    let repo = find_visible(&world, &caller, repo_type, &format!("{ns}/{name}"))?;
    let token = require_token(&caller)?;
    if !world.token_can_write(token, repo) {
        return Err(HubError::RepoWriteForbidden {
            repo: repo.id.clone(),
        });
    }
    Ok(Json(json!({"ok": true})))
}

/// GatedRepo errors for a gated repository the caller is not approved for.
pub(super) fn check_gate(
    world: &World,
    caller: &Caller,
    repo: &super::world::Repo,
    origin: &str,
) -> Result<(), HubError> {
    if !repo.gated {
        return Ok(());
    }
    match caller.token() {
        None => Err(HubError::GatedAnonymous {
            repo_type: repo.repo_type,
            repo: repo.id.clone(),
        }),
        Some(t) if !world.token_passes_gate(t, repo) => Err(HubError::GatedNotApproved {
            repo_type: repo.repo_type,
            repo: repo.id.clone(),
            origin: origin.to_string(),
        }),
        Some(_) => Ok(()),
    }
}

/// Where a request for a moved repository's old id goes: the same path and query with the new
/// id, when the old id names no repository and the caller may see the new one.
fn moved_target(world: &World, caller: &Caller, path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split('/').collect();
    // `/api/{t}/{ns}/{name}...` or `/[datasets/|spaces/]{ns}/{name}/resolve/...`.
    let (repo_type, at) = match segments.as_slice() {
        ["", "api", t, _, _, ..] => (RepoType::from_plural(t)?, 3),
        ["", "datasets", _, _, "resolve", ..] => (RepoType::Dataset, 2),
        ["", "spaces", _, _, "resolve", ..] => (RepoType::Space, 2),
        ["", _, _, "resolve", ..] => (RepoType::Model, 1),
        _ => return None,
    };
    let old = format!("{}/{}", segments[at], segments[at + 1]);
    if world.repo(repo_type, &old).is_some() {
        return None;
    }
    let new = world.moved_to(repo_type, &old)?;
    let repo = world.repo(repo_type, new)?;
    if !world.token_can_see(caller.token(), repo) {
        return None;
    }
    let mut out: Vec<&str> = segments[..at].to_vec();
    out.push(new);
    out.extend(&segments[at + 2..]);
    Some(out.join("/"))
}

/// A 307 to the new id of a moved repository, if the request names an old one.
pub(super) fn moved_redirect(
    state: &HubState,
    caller: &Caller,
    path: &str,
    query: Option<&str>,
) -> Option<Response> {
    let world = state.read();
    if world.moved.is_empty() {
        return None;
    }
    let target = moved_target(&world, caller, path)?;
    let location = match query {
        Some(q) => format!("{target}?{q}"),
        None => target,
    };
    let value = HeaderValue::from_str(&location).ok()?;
    Some(
        (
            StatusCode::TEMPORARY_REDIRECT,
            [(header::LOCATION, value)],
            Json(json!({"message": "Repository moved", "url": location})),
        )
            .into_response(),
    )
}
