//! The OAuth device flow (RFC 8628) that interactive `hf auth login` uses when stdin is not a
//! terminal: `POST /oauth/device` issues a code, `POST /oauth/token` is polled until the code is
//! approved or denied, and `/login/device` is the small approval page a person (or a test, or
//! the admin API) uses to decide.
//!
//! The token endpoint answers in OAuth's own error shape (`{"error": "authorization_pending"}`),
//! not the Hub's, because that is what the client's polling loop reads.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rand::RngExt;
use serde_json::json;
use std::collections::HashMap;

use super::extract::{FormBody, origin};
use super::state::{HubState, OAuthGrant, mint_oauth, unix_now};
use super::world::{DeviceCode, DeviceCodeStatus};

/// The routes of this file.
pub(super) fn routes() -> Router<HubState> {
    Router::new()
        .route("/oauth/device", post(device))
        .route("/oauth/token", post(token))
        .route("/login/device", get(approval_page).post(approval_submit))
}

/// Random characters from `alphabet`.
fn random_from(alphabet: &[u8], n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())]))
        .collect()
}

/// Issues a device code.
async fn device(State(state): State<HubState>, headers: HeaderMap, _form: FormBody) -> Response {
    let device_code = random_from(b"abcdefghijklmnopqrstuvwxyz0123456789", 40);
    let letters = b"BCDFGHJKLMNPQRSTVWXZ";
    let user_code = format!("{}-{}", random_from(letters, 4), random_from(letters, 4));
    let (interval, expires_in) = {
        let mut w = state.write();
        let s = w.settings.clone();
        let auto = s
            .auto_approve_device_for
            .filter(|u| w.users.contains_key(u));
        w.device_codes.push(DeviceCode {
            device_code: device_code.clone(),
            user_code: user_code.clone(),
            status: if auto.is_some() {
                DeviceCodeStatus::Approved
            } else {
                DeviceCodeStatus::Pending
            },
            user: auto,
            expires_at: unix_now() + s.device_expires_in_secs,
        });
        (s.device_interval_secs, s.device_expires_in_secs)
    };
    let base = format!("{}/login/device", origin(&headers));
    Json(json!({
        "device_code": device_code,
        "user_code": user_code,
        "verification_uri": base,
        "verification_uri_complete": format!("{base}?user_code={user_code}"),
        "interval": interval,
        "expires_in": expires_in,
    }))
    .into_response()
}

/// An OAuth error answer.
fn oauth_error(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// The JSON answer carrying a token pair.
fn grant_answer(grant: &OAuthGrant) -> Response {
    Json(json!({
        "access_token": grant.access_token,
        "refresh_token": grant.refresh_token,
        "token_type": "bearer",
        "expires_in": grant.expires_in,
        "scope": "openid profile read-repos write-repos manage-repos",
    }))
    .into_response()
}

/// The token endpoint: a device-code poll, or a refresh.
async fn token(State(state): State<HubState>, FormBody(form): FormBody) -> Response {
    match form.get("grant_type").map(String::as_str) {
        Some("urn:ietf:params:oauth:grant-type:device_code") => device_poll(&state, &form),
        Some("refresh_token") => refresh(&state, &form),
        _ => oauth_error("unsupported_grant_type", "Unsupported grant_type"),
    }
}

/// `grant_type=refresh_token`: a new pair for the same user; the old pair stops working.
fn refresh(state: &HubState, form: &HashMap<String, String>) -> Response {
    let Some(refresh_token) = form.get("refresh_token") else {
        return oauth_error("invalid_request", "Missing refresh_token");
    };
    match state.refresh_oauth_grant(refresh_token) {
        Some(grant) => grant_answer(&grant),
        None => oauth_error(
            "invalid_grant",
            "The refresh token is invalid or was already used",
        ),
    }
}

/// Answers one device-code poll according to the code's state.
fn device_poll(state: &HubState, form: &HashMap<String, String>) -> Response {
    let Some(device_code) = form.get("device_code") else {
        return oauth_error("invalid_request", "Missing device_code");
    };
    let mut w = state.write();
    let now = unix_now();
    let Some(index) = w
        .device_codes
        .iter()
        .position(|c| &c.device_code == device_code)
    else {
        return oauth_error("invalid_grant", "Unknown device code");
    };
    let code = w.device_codes[index].clone();
    if code.status == DeviceCodeStatus::Pending && now >= code.expires_at {
        return oauth_error("expired_token", "The device code has expired");
    }
    match code.status {
        DeviceCodeStatus::Pending => {
            oauth_error("authorization_pending", "The user has not authorized yet")
        }
        DeviceCodeStatus::Denied => oauth_error("access_denied", "The user denied the request"),
        DeviceCodeStatus::Used => oauth_error("invalid_grant", "The device code was already used"),
        DeviceCodeStatus::Approved => {
            let user = code.user.unwrap_or_default();
            let lifetime = w.settings.oauth_expires_in_secs;
            let grant = mint_oauth(&mut w, &user, lifetime);
            w.device_codes[index].status = DeviceCodeStatus::Used;
            grant_answer(&grant)
        }
    }
}

/// Escapes text for HTML.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Wraps a body in a minimal HTML page.
fn page(status: StatusCode, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Mock Hub device login</title></head>\
         <body><h1>Mock Hub device login</h1>\n{body}\n</body></html>\n"
    );
    (status, Html(html)).into_response()
}

/// Shows the code and approve/deny buttons.
async fn approval_page(
    State(state): State<HubState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let code = query.get("user_code").cloned().unwrap_or_default();
    let users: String = state
        .user_names()
        .iter()
        .map(|u| format!("<option value=\"{0}\">{0}</option>", escape(u)))
        .collect();
    let body = format!(
        "<form method=\"post\" action=\"/login/device\">\
         <label>Code <input name=\"user_code\" value=\"{}\"></label>\
         <label>Log in as <select name=\"user\">{users}</select></label>\
         <button name=\"action\" value=\"approve\">Authorize</button>\
         <button name=\"action\" value=\"deny\">Deny</button></form>",
        escape(&code)
    );
    page(StatusCode::OK, &body)
}

/// Records the decision taken on the approval page.
async fn approval_submit(State(state): State<HubState>, FormBody(form): FormBody) -> Response {
    let code = form.get("user_code").map(String::as_str).unwrap_or("");
    let result = match form.get("action").map(String::as_str) {
        Some("deny") => state.deny_device_code(code).map(|()| "denied"),
        _ => state
            .approve_device_code(code, form.get("user").map(String::as_str))
            .map(|()| "authorized"),
    };
    match result {
        Ok(word) => page(
            StatusCode::OK,
            &format!("<p>Device {word}. You can close this page.</p>"),
        ),
        Err(e) => page(
            StatusCode::BAD_REQUEST,
            &format!("<p>{}</p>", escape(&e.to_string())),
        ),
    }
}
