//! The admin HTTP API under `/__mock/`, a prefix the real Hub never uses.
//!
//! It lets a test or the harness, from any language, change the world while the mock runs: add
//! users, organisations, tokens and repositories, reset to the seed, decide device codes and read
//! the request log. Every route calls the [`HubState`] method of the same name, so the Rust and
//! HTTP admin APIs cannot drift apart. Admin requests are not written to the request log.

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::HubError;
use super::extract::{HubPath, JsonBody, LARGE_BODY_LIMIT, read_body};
use super::state::{HubState, LoggedRequest, NewRepo, NewToken, OAuthGrant, TokenInfo};
use super::world::{Fault, FaultStatus, Org, OrgRole, RepoType, User, WorldError};

impl From<WorldError> for HubError {
    fn from(e: WorldError) -> Self {
        match e {
            WorldError::UnknownUser(_)
            | WorldError::UnknownRepo(_)
            | WorldError::UnknownOrg(_)
            | WorldError::UnknownDeviceCode(_) => HubError::AdminNotFound(e.to_string()),
            WorldError::Invalid(_) | WorldError::Exists(_) => HubError::BadRequest(e.to_string()),
        }
    }
}

/// The routes of this file.
pub(super) fn routes() -> Router<HubState> {
    Router::new()
        .route("/__mock", get(index))
        .route("/__mock/reset", post(reset))
        .route("/__mock/tokens", get(list_tokens).post(add_token))
        .route("/__mock/student", get(student))
        .route("/__mock/users/{user}/credits", post(set_credits))
        .route("/__mock/users", post(add_user))
        .route("/__mock/orgs", post(add_org))
        .route("/__mock/orgs/{org}/members", post(set_org_role))
        .route(
            "/__mock/orgs/{org}/settings",
            axum::routing::put(org_settings),
        )
        .route("/__mock/oauth/grants", post(mint_oauth_grant))
        .route("/__mock/oauth/expire", post(expire_oauth_token))
        .route(
            "/__mock/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route(
            "/__mock/repos",
            post(put_repo).layer(DefaultBodyLimit::max(LARGE_BODY_LIMIT)),
        )
        .route(
            "/__mock/repos/{t}/{ns}/{name}/gated-access",
            post(grant_gated_access),
        )
        .route("/__mock/device-codes", get(device_codes))
        .route("/__mock/device-codes/{code}/approve", post(approve))
        .route("/__mock/device-codes/{code}/deny", post(deny))
        .route("/__mock/requests", get(requests).delete(clear_requests))
}

/// Lists the admin routes.
async fn index() -> Json<Value> {
    Json(json!({
        "routes": [
            "POST /__mock/reset",
            "GET /__mock/tokens",
            "GET /__mock/student",
            "POST /__mock/users/{user}/credits {remaining}",
            "POST /__mock/tokens {display_name, user, role?, value?, scope?, status?}",
            "POST /__mock/users {name, fullname?, email?}",
            "POST /__mock/orgs {name, fullname?, members?, roles?: {user: read|contributor|write|admin}, private_by_default?}",
            "POST /__mock/orgs/{org}/members {user, role}",
            "PUT /__mock/orgs/{org}/settings {private_by_default}",
            "POST /__mock/oauth/grants {user?, expires_in?}",
            "POST /__mock/oauth/expire {token, in_secs?}",
            "GET /__mock/faults",
            "POST /__mock/faults {path_prefix, method?, status: 429|503, count?, retry_after?}",
            "DELETE /__mock/faults",
            "POST /__mock/repos {id, type?, private?, gated?, gated_approved?, files?, summary?}",
            "POST /__mock/repos/{models|datasets|spaces}/{ns}/{name}/gated-access {user}",
            "GET /__mock/device-codes",
            "POST /__mock/device-codes/{user_code}/approve {user?}",
            "POST /__mock/device-codes/{user_code}/deny",
            "GET /__mock/requests",
            "DELETE /__mock/requests",
        ]
    }))
}

/// Resets the world to the seed.
async fn reset(State(state): State<HubState>) -> Json<Value> {
    state.reset();
    Json(json!({"ok": true}))
}

/// Lists every token with its value.
async fn list_tokens(State(state): State<HubState>) -> Json<Vec<TokenInfo>> {
    Json(state.tokens())
}

/// The account the scenarios act as (the world file's `student`).
async fn student(State(state): State<HubState>) -> Json<Value> {
    Json(json!({"name": state.read().student}))
}

/// The body of a credits change: US dollars of Inference Providers credits left.
#[derive(Debug, Deserialize)]
struct CreditsBody {
    remaining: f64,
}

/// Sets how many Inference Providers credits an account has left (0 makes the router answer 402).
async fn set_credits(
    State(state): State<HubState>,
    HubPath(user): HubPath<String>,
    JsonBody(body): JsonBody<CreditsBody>,
) -> Result<Json<Value>, HubError> {
    state.set_inference_credits(&user, body.remaining)?;
    Ok(Json(json!({"ok": true})))
}

/// Adds a token.
async fn add_token(
    State(state): State<HubState>,
    JsonBody(new): JsonBody<NewToken>,
) -> Result<Json<TokenInfo>, HubError> {
    Ok(Json(state.add_token(new)?))
}

/// Adds a user.
async fn add_user(
    State(state): State<HubState>,
    JsonBody(user): JsonBody<User>,
) -> Result<Json<Value>, HubError> {
    state.add_user(user)?;
    Ok(Json(json!({"ok": true})))
}

/// Adds an organisation.
async fn add_org(
    State(state): State<HubState>,
    JsonBody(org): JsonBody<Org>,
) -> Result<Json<Value>, HubError> {
    state.add_org(org)?;
    Ok(Json(json!({"ok": true})))
}

/// Adds a repository with files (or files to an existing one).
async fn put_repo(State(state): State<HubState>, req: Request) -> Result<Json<Value>, HubError> {
    let body = read_body(req, &state, LARGE_BODY_LIMIT).await?;
    let new: NewRepo = serde_json::from_slice(&body)
        .map_err(|e| HubError::BadRequest(format!("Invalid JSON body: {e}")))?;
    let id = new.id.clone();
    let sha = state.put_repo(new)?;
    Ok(Json(json!({"id": id, "sha": sha})))
}

/// The body naming a user.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UserBody {
    user: Option<String>,
}

/// Approves a user for a gated repository.
async fn grant_gated_access(
    State(state): State<HubState>,
    HubPath((t, ns, name)): HubPath<(String, String, String)>,
    JsonBody(body): JsonBody<UserBody>,
) -> Result<Json<Value>, HubError> {
    let repo_type = RepoType::from_plural(&t).ok_or(HubError::RouteNotFound)?;
    let user = body
        .user
        .ok_or_else(|| HubError::BadRequest("missing `user`".into()))?;
    state.grant_gated_access(repo_type, &format!("{ns}/{name}"), &user)?;
    Ok(Json(json!({"ok": true})))
}

/// Lists device codes.
async fn device_codes(State(state): State<HubState>) -> Json<Value> {
    Json(json!(state.device_codes()))
}

/// Approves a device code; the body (`{"user": ..}`) is optional.
async fn approve(
    State(state): State<HubState>,
    HubPath(code): HubPath<String>,
    req: Request,
) -> Result<Json<Value>, HubError> {
    let body = read_body(req, &state, super::extract::SMALL_BODY_LIMIT).await?;
    let user: UserBody = if body.iter().all(u8::is_ascii_whitespace) {
        UserBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| HubError::BadRequest(format!("Invalid JSON body: {e}")))?
    };
    state.approve_device_code(&code, user.user.as_deref())?;
    Ok(Json(json!({"ok": true})))
}

/// Denies a device code.
async fn deny(
    State(state): State<HubState>,
    HubPath(code): HubPath<String>,
) -> Result<Json<Value>, HubError> {
    state.deny_device_code(&code)?;
    Ok(Json(json!({"ok": true})))
}

/// The request log.
async fn requests(State(state): State<HubState>) -> Json<Vec<LoggedRequest>> {
    Json(state.request_log())
}

/// Clears the request log.
async fn clear_requests(State(state): State<HubState>) -> Json<Value> {
    state.clear_request_log();
    Json(json!({"ok": true}))
}

/// The body of a member role change.
#[derive(Debug, Deserialize)]
struct MemberBody {
    user: String,
    role: OrgRole,
}

/// Sets a member's role in an organisation.
async fn set_org_role(
    State(state): State<HubState>,
    HubPath(org): HubPath<String>,
    JsonBody(body): JsonBody<MemberBody>,
) -> Result<Json<Value>, HubError> {
    state.set_org_role(&org, &body.user, body.role)?;
    Ok(Json(json!({"ok": true})))
}

/// The body of an organisation settings change.
#[derive(Debug, Deserialize)]
struct OrgSettingsBody {
    private_by_default: bool,
}

/// Changes an organisation's settings.
async fn org_settings(
    State(state): State<HubState>,
    HubPath(org): HubPath<String>,
    JsonBody(body): JsonBody<OrgSettingsBody>,
) -> Result<Json<Value>, HubError> {
    state.set_org_private_by_default(&org, body.private_by_default)?;
    Ok(Json(json!({"ok": true})))
}

/// The body of an OAuth grant request.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct GrantBody {
    user: Option<String>,
    expires_in: Option<u64>,
}

/// Mints an OAuth token pair, as an approved browser login would.
async fn mint_oauth_grant(
    State(state): State<HubState>,
    JsonBody(body): JsonBody<GrantBody>,
) -> Result<Json<OAuthGrant>, HubError> {
    let student = state.read().student.clone();
    let user = body.user.as_deref().unwrap_or(&student);
    let lifetime = body
        .expires_in
        .unwrap_or_else(|| state.read().settings.oauth_expires_in_secs);
    Ok(Json(state.mint_oauth_grant(user, lifetime)?))
}

/// The body of an OAuth expiry change.
#[derive(Debug, Deserialize)]
struct ExpireBody {
    token: String,
    #[serde(default)]
    in_secs: u64,
}

/// Makes a stored OAuth access token expire soon (or now).
async fn expire_oauth_token(
    State(state): State<HubState>,
    JsonBody(body): JsonBody<ExpireBody>,
) -> Result<Json<Value>, HubError> {
    state.expire_oauth_token(&body.token, body.in_secs)?;
    Ok(Json(json!({"ok": true})))
}

/// The body of a fault request.
#[derive(Debug, Deserialize)]
struct FaultBody {
    path_prefix: String,
    #[serde(default)]
    method: Option<String>,
    status: u16,
    #[serde(default = "one")]
    count: u32,
    #[serde(default)]
    retry_after: Option<u64>,
}

/// The default fault count.
fn one() -> u32 {
    1
}

/// Lists pending faults.
async fn list_faults(State(state): State<HubState>) -> Json<Vec<Fault>> {
    Json(state.faults())
}

/// Makes the next `count` matching requests answer 429 or 503.
async fn add_fault(
    State(state): State<HubState>,
    JsonBody(body): JsonBody<FaultBody>,
) -> Result<Json<Value>, HubError> {
    let status = match body.status {
        429 => FaultStatus::TooManyRequests,
        503 => FaultStatus::Unavailable,
        other => {
            return Err(HubError::BadRequest(format!(
                "status must be 429 or 503, not {other}"
            )));
        }
    };
    state.add_fault(Fault {
        path_prefix: body.path_prefix,
        method: body.method,
        status,
        remaining: body.count.max(1),
        retry_after: body.retry_after,
    })?;
    Ok(Json(json!({"ok": true})))
}

/// Removes every pending fault.
async fn clear_faults(State(state): State<HubState>) -> Json<Value> {
    state.clear_faults();
    Json(json!({"ok": true}))
}
