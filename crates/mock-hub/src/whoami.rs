//! `GET /api/whoami-v2` (who owns this token and what may it do) and `GET /api/agent-harnesses`
//! (the registry the `hf` CLI reads at startup; empty, so the CLI keeps its human output).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{Value, json};

use super::error::HubError;
use super::state::{Caller, HubState};
use super::world::{Plan, Token, TokenRole, World};

/// The routes of this file.
pub(super) fn routes() -> Router<HubState> {
    Router::new()
        .route("/api/whoami-v2", get(whoami))
        .route("/api/agent-harnesses", get(agent_harnesses))
}

/// The empty agent registry.
async fn agent_harnesses() -> Json<Value> {
    Json(json!({"standardEnvVars": [], "harnesses": {}}))
}

/// Describes the caller's user, organisations and token. Serialised straight from typed structs
/// (no intermediate `serde_json::Value`): this is the endpoint clients call most.
async fn whoami(State(state): State<HubState>, caller: Caller) -> Result<Response, HubError> {
    let token = match caller {
        Caller::Anonymous => return Err(HubError::AuthRequired),
        Caller::Invalid => return Err(HubError::InvalidCredentials),
        Caller::Token(t) => t,
    };
    // Clients ask whoami-v2 at every start, with the same token, while the world rarely changes:
    // the body is cached per token until the next write to the world. It is built from the
    // world's copy of the token, so a cached body never reflects an older token than the world's.
    let body = state.cached_body(&token.value, |world| {
        let current = world.tokens.get(&token.value)?;
        serde_json::to_vec(&whoami_body(world, current))
            .ok()
            .map(Bytes::from)
    });
    match body {
        Some(body) => Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response()),
        // The token left the world since the request arrived: answer from the request's copy.
        None => Ok(Json(whoami_body(&state.read(), &token)).into_response()),
    }
}

/// A stable fake object id (24 hex digits) derived from a name.
pub(crate) fn object_id(name: &str) -> String {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3);
    }
    format!("{:08x}{h:016x}", name.len())
}

/// The whoami-v2 body for `token`, shaped like the real Hub's (fields in the Hub's order).
pub fn whoami_body<'a>(world: &'a World, token: &'a Token) -> WhoAmI<'a> {
    let user = world.users.get(&token.user);
    let orgs = world
        .orgs_of(&token.user)
        .into_iter()
        .map(|o| {
            let id = object_id(&o.name);
            OrgEntry {
                kind: "org",
                avatar_url: avatar_url(&id),
                id,
                name: &o.name,
                fullname: &o.fullname,
                email: None,
                can_pay: false,
                role_in_org: o.role_of(&token.user).map_or("read", |r| r.as_str()),
                is_enterprise: false,
                period_end: None,
            }
        })
        .collect();
    let auth = if token.oauth {
        Auth::OAuth {
            expires_at: token.expires_at.map(|at| {
                humantime::format_rfc3339_seconds(
                    std::time::UNIX_EPOCH + std::time::Duration::from_secs(at),
                )
                .to_string()
            }),
        }
    } else {
        let fine_grained = match &token.role {
            TokenRole::FineGrained(scope) => Some(FineGrained {
                can_read_gated_repos: scope.can_read_gated_repos,
                global: &scope.global,
                scoped: scope
                    .scoped
                    .iter()
                    .map(|s| Scoped {
                        entity: Entity {
                            id: object_id(&s.name),
                            kind: &s.kind,
                            name: &s.name,
                        },
                        permissions: &s.permissions,
                    })
                    .collect(),
            }),
            _ => None,
        };
        Auth::AccessToken {
            access_token: AccessToken {
                display_name: &token.display_name,
                role: token.role_name(),
                created_at: "2025-01-01T00:00:00.000Z",
                fine_grained,
            },
        }
    };
    let id = object_id(&token.user);
    WhoAmI {
        kind: "user",
        avatar_url: avatar_url(&id),
        id,
        name: &token.user,
        fullname: user.map_or(token.user.as_str(), |u| u.fullname.as_str()),
        email: user.map_or("", |u| u.email.as_str()),
        email_verified: true,
        can_pay: false,
        is_pro: user.is_some_and(|u| u.plan == Plan::Pro),
        period_end: None,
        orgs,
        auth,
    }
}

fn avatar_url(id: &str) -> String {
    format!("https://cdn-avatars.huggingface.co/v1/production/uploads/{id}.png")
}

/// The whoami-v2 answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WhoAmI<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: String,
    name: &'a str,
    fullname: &'a str,
    email: &'a str,
    email_verified: bool,
    can_pay: bool,
    is_pro: bool,
    period_end: Option<()>,
    avatar_url: String,
    orgs: Vec<OrgEntry<'a>>,
    auth: Auth<'a>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct OrgEntry<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: String,
    name: &'a str,
    fullname: &'a str,
    email: Option<()>,
    can_pay: bool,
    avatar_url: String,
    role_in_org: &'a str,
    is_enterprise: bool,
    period_end: Option<()>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "type")]
enum Auth<'a> {
    #[serde(rename = "oauth", rename_all = "camelCase")]
    OAuth { expires_at: Option<String> },
    #[serde(rename = "access_token", rename_all = "camelCase")]
    AccessToken { access_token: AccessToken<'a> },
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AccessToken<'a> {
    display_name: &'a str,
    role: &'a str,
    created_at: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    fine_grained: Option<FineGrained<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct FineGrained<'a> {
    can_read_gated_repos: bool,
    global: &'a [String],
    scoped: Vec<Scoped<'a>>,
}

#[derive(Debug, Serialize)]
struct Scoped<'a> {
    entity: Entity<'a>,
    permissions: &'a [String],
}

#[derive(Debug, Serialize)]
struct Entity<'a> {
    #[serde(rename = "_id")]
    id: String,
    #[serde(rename = "type")]
    kind: &'a str,
    name: &'a str,
}
