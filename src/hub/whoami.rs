//! `GET /api/whoami-v2` (who owns this token and what may it do) and `GET /api/agent-harnesses`
//! (the registry the `hf` CLI reads at startup; empty, so the CLI keeps its human output).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::error::HubError;
use super::state::{Caller, HubState};
use super::world::{Token, TokenRole, World};

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

/// Describes the caller's user, organisations and token.
async fn whoami(State(state): State<HubState>, caller: Caller) -> Result<Json<Value>, HubError> {
    let token = match caller {
        Caller::Anonymous => return Err(HubError::AuthRequired),
        Caller::Invalid => return Err(HubError::InvalidCredentials),
        Caller::Token(t) => t,
    };
    let world = state.read();
    Ok(Json(whoami_body(&world, &token)))
}

/// A stable fake object id (24 hex digits) derived from a name.
pub(crate) fn object_id(name: &str) -> String {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3);
    }
    format!("{:08x}{h:016x}", name.len())
}

/// The whoami-v2 body for `token`, shaped like the real Hub's.
pub fn whoami_body(world: &World, token: &Token) -> Value {
    let user = world.users.get(&token.user);
    let fullname = user.map_or(token.user.as_str(), |u| u.fullname.as_str());
    let email = user.map_or("", |u| u.email.as_str());
    let orgs: Vec<Value> = world
        .orgs_of(&token.user)
        .into_iter()
        .map(|o| {
            json!({
                "type": "org",
                "id": object_id(&o.name),
                "name": o.name,
                "fullname": o.fullname,
                "email": null,
                "canPay": false,
                "avatarUrl": format!("https://cdn-avatars.huggingface.co/v1/production/uploads/{}.png", object_id(&o.name)),
                "roleInOrg": o.role_of(&token.user).map_or("read", |r| r.as_str()),
                "isEnterprise": false,
                "periodEnd": null,
            })
        })
        .collect();
    let auth = if token.oauth {
        let expires = token.expires_at.map(|at| {
            humantime::format_rfc3339_seconds(
                std::time::UNIX_EPOCH + std::time::Duration::from_secs(at),
            )
            .to_string()
        });
        json!({"type": "oauth", "expiresAt": expires})
    } else {
        let mut access = json!({
            "displayName": token.display_name,
            "role": token.role_name(),
            "createdAt": "2025-01-01T00:00:00.000Z",
        });
        if let TokenRole::FineGrained(scope) = &token.role {
            let scoped: Vec<Value> = scope
                .read_repos
                .iter()
                .map(|r| (r, vec!["repo.content.read"]))
                .chain(
                    scope
                        .write_repos
                        .iter()
                        .map(|r| (r, vec!["repo.content.read", "repo.write"])),
                )
                .map(|(repo, perms)| {
                    json!({
                        "entity": {"_id": object_id(repo), "type": "model", "name": repo},
                        "permissions": perms,
                    })
                })
                .chain(scope.create_in.iter().map(|ns| {
                    json!({
                        "entity": {"_id": object_id(ns), "type": "user", "name": ns},
                        "permissions": ["repo.write"],
                    })
                }))
                .collect();
            access["fineGrained"] = json!({
                "canReadGatedRepos": scope.can_read_gated_repos,
                "global": [],
                "scoped": scoped,
            });
        }
        json!({"type": "access_token", "accessToken": access})
    };
    json!({
        "type": "user",
        "id": object_id(&token.user),
        "name": token.user,
        "fullname": fullname,
        "email": email,
        "emailVerified": true,
        "canPay": false,
        "isPro": false,
        "periodEnd": null,
        "avatarUrl": format!("https://cdn-avatars.huggingface.co/v1/production/uploads/{}.png", object_id(&token.user)),
        "orgs": orgs,
        "auth": auth,
    })
}
