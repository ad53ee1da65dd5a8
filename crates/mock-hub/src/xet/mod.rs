//! Xet uploads, as huggingface_hub 2.4.0 makes them when `hf_xet` is installed: the Hub's Xet
//! token endpoints, and a CAS service on the same listener under [`CAS_PREFIX`] with the calls
//! hf_xet makes for an upload (global dedupe query, xorb upload, shard upload).
//!
//! The flow (huggingface_hub `_commit_api.py` `_upload_xet_files`, hf_xet 1.8.0 as measured
//! against a capture server, see `tests/fixtures/xet/`): preupload says `lfs` for a file; the
//! client asks `GET /api/{t}/{id}/xet-write-token/{rev}` for a CAS URL and a short-lived token;
//! hf_xet chunks the file, asks `GET {cas}/v1/chunks/default/{chunk}` for some chunks (404: not
//! known), tries `POST {cas}/v1/xorb-grants/...` (404 here: no presigned uploads, so it uploads
//! directly), `POST {cas}/v1/xorbs/default/{xorb}`, tries `POST {cas}/v2/shards` (404 here) and
//! falls back to `POST {cas}/v1/shards`, then `POST /v1/telemetry` at the root of the CAS URL's
//! origin. The commit then names the file by sha256 in an `lfsFile` line, which
//! `commit.rs` accepts when [`XetStore::file`] has it. Downloads stay plain HTTP (no
//! `X-Xet-Hash`), see `docs/mock-hub.md`.

pub mod format;
pub mod store;

/// The upload that hf_xet 1.8.0 made of the fixture files in `tests/fixtures/xet/`, which the
/// parser's and the store's tests read (a file of its own, so the tests of `format` and `store`
/// need nothing from the routes in this file).
#[cfg(test)]
mod fixtures;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use super::error::HubError;
use super::extract::{HubPath, origin, parse_query, query_flag, read_body};
use super::repos::{find_visible, repo_type, require_token};
use super::state::{Caller, HubState, unix_now};
use format::XetHash;
use store::{CasError, StoredXorb, XET_TOKEN_LIFETIME_SECS, XetGrant};

pub use store::XetStore;

/// Where the mock's CAS service lives on the Hub's own listener; the token endpoints hand out
/// `<origin>/cas` as `casUrl`.
pub const CAS_PREFIX: &str = "/cas";

/// The largest xorb the CAS takes: 64 MiB serialized (Xet specification, "xorb": "The CAS
/// server will reject Xorb uploads that exceed the 64 MiB serialized size limit").
pub const XORB_BODY_LIMIT: usize = 64 * 1024 * 1024;

/// The largest shard the CAS takes (a shard lists chunks, 48 bytes each: far below this).
pub const SHARD_BODY_LIMIT: usize = 64 * 1024 * 1024;

/// The header carrying the CAS URL (`HUGGINGFACE_HEADER_X_XET_ENDPOINT`, huggingface_hub
/// `constants.py:334`).
const X_XET_CAS_URL: HeaderName = HeaderName::from_static("x-xet-cas-url");
/// The header carrying the Xet access token (`constants.py:335`).
const X_XET_ACCESS_TOKEN: HeaderName = HeaderName::from_static("x-xet-access-token");
/// The header carrying the token's expiry in Unix seconds (`constants.py:336`).
const X_XET_TOKEN_EXPIRATION: HeaderName = HeaderName::from_static("x-xet-token-expiration");

/// The routes of this module.
pub(super) fn routes() -> Router<HubState> {
    let cas = |path: &str| format!("{CAS_PREFIX}{path}");
    Router::new()
        .route(
            "/api/{t}/{ns}/{name}/xet-write-token/{*rev}",
            get(write_token),
        )
        .route(
            "/api/{t}/{ns}/{name}/xet-read-token/{*rev}",
            get(read_token),
        )
        .route(&cas("/v1/chunks/{prefix}/{hash}"), get(chunk_query))
        .route(
            &cas("/v1/xorbs/{prefix}/{hash}"),
            post(upload_xorb)
                .head(head_xorb)
                .layer(DefaultBodyLimit::max(XORB_BODY_LIMIT)),
        )
        .route(
            &cas("/v1/shards"),
            post(upload_shard).layer(DefaultBodyLimit::max(SHARD_BODY_LIMIT)),
        )
        .route("/v1/telemetry", post(telemetry))
}

/// Path parameters of the token endpoints.
type TokenPath = (String, String, String, String);

/// `GET /api/{t}/{ns}/{name}/xet-write-token/{rev}[?create_pr=1]`: a CAS token for uploads,
/// with the same checks as preupload and commit (a read token gets the same 403). The revision
/// is not resolved: with `create_pr` the client sends `None` (`utils/_xet.py`
/// `xet_connection_info_refresh_url`).
async fn write_token(
    State(state): State<HubState>,
    caller: Caller,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    HubPath((t, ns, name, _rev)): HubPath<TokenPath>,
) -> Result<Response, HubError> {
    let create_pr = query_flag(&parse_query(query.as_deref().unwrap_or("")), "create_pr");
    let id = format!("{ns}/{name}");
    let grant = {
        let world = state.read();
        super::commit::check_write(&world, &caller, &t, &id, create_pr)?;
        let repo = find_visible(&world, &caller, repo_type(&t)?, &id)?;
        grant_for(&caller, repo.repo_type, &repo.id, true)?
    };
    Ok(token_answer(&state, &headers, grant))
}

/// `GET /api/{t}/{ns}/{name}/xet-read-token/{rev}`: a CAS token for downloads, for whoever may
/// read the repository's files (gates included).
async fn read_token(
    State(state): State<HubState>,
    caller: Caller,
    headers: HeaderMap,
    HubPath((t, ns, name, _rev)): HubPath<TokenPath>,
) -> Result<Response, HubError> {
    let id = format!("{ns}/{name}");
    let grant = {
        let world = state.read();
        let repo_type = repo_type(&t)?;
        let repo = find_visible(&world, &caller, repo_type, &id)?;
        super::resolve::check_gate(&world, &caller, &headers, repo)?;
        grant_for(&caller, repo_type, &repo.id, false)?
    };
    Ok(token_answer(&state, &headers, grant))
}

/// The grant for the caller's user (anonymous callers get one for what they may read).
fn grant_for(
    caller: &Caller,
    repo_type: super::world::RepoType,
    repo_id: &str,
    write: bool,
) -> Result<XetGrant, HubError> {
    let user = match caller {
        Caller::Anonymous => String::new(),
        _ => require_token(caller)?.user.clone(),
    };
    Ok(XetGrant {
        user,
        repo_type,
        repo_id: repo_id.to_string(),
        write,
        expires_at: unix_now() + XET_TOKEN_LIFETIME_SECS,
    })
}

/// Mints the token and answers as the Hub does: the connection info both as `X-Xet-*` headers
/// (what huggingface_hub reads: `utils/_xet.py` `parse_xet_connection_info_from_headers`) and as
/// JSON `{casUrl, accessToken, exp}` (what hf_xet's token refresher reads:
/// xet-core `hf_xet/src/py_xet_session.rs`, `xet_client/src/hub_client/types.rs`).
fn token_answer(state: &HubState, headers: &HeaderMap, grant: XetGrant) -> Response {
    let exp = grant.expires_at;
    let cas_url = format!("{}{CAS_PREFIX}", origin(headers));
    let token = state.write().xet.mint(grant);
    let mut out = HeaderMap::new();
    out.insert(X_XET_CAS_URL, HeaderValue::from_str(&cas_url).expect("URL"));
    out.insert(
        X_XET_ACCESS_TOKEN,
        HeaderValue::from_str(&token).expect("token"),
    );
    out.insert(X_XET_TOKEN_EXPIRATION, HeaderValue::from(exp));
    let body = json!({"casUrl": cas_url, "accessToken": token, "exp": exp});
    (out, Json(body)).into_response()
}

/// An error of the CAS service: status and a plain-text reason (the CAS is not the Hub, and
/// hf_xet only reports the status and the text).
#[derive(Debug, thiserror::Error)]
enum CasReply {
    /// No Xet token, or an unknown or expired one.
    #[error("invalid or expired Xet access token")]
    Unauthorized,
    /// A read token used to upload.
    #[error("this Xet access token does not allow uploads")]
    ReadOnly,
    /// The upload does not check out.
    #[error("{0}")]
    Refused(#[from] CasError),
    /// A hash in the path that is not 64 hex digits.
    #[error("invalid hash in path: {0}")]
    BadHash(String),
    /// The body could not be read (too large, cut off).
    #[error("{0}")]
    Body(HubError),
}

impl IntoResponse for CasReply {
    fn into_response(self) -> Response {
        let status = match &self {
            CasReply::Unauthorized => StatusCode::UNAUTHORIZED,
            CasReply::ReadOnly => StatusCode::FORBIDDEN,
            CasReply::Refused(_) | CasReply::BadHash(_) => StatusCode::BAD_REQUEST,
            CasReply::Body(e) => e.status(),
        };
        (status, self.to_string()).into_response()
    }
}

/// The Xet access token of a CAS request, checked; `write` asks for an upload grant.
fn cas_grant(state: &HubState, headers: &HeaderMap, write: bool) -> Result<(), CasReply> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(CasReply::Unauthorized)?;
    let world = state.read();
    let grant = world
        .xet
        .grant(token.trim(), unix_now())
        .ok_or(CasReply::Unauthorized)?;
    if write && !grant.write {
        return Err(CasReply::ReadOnly);
    }
    Ok(())
}

/// A hash from the path.
fn path_hash(text: &str) -> Result<XetHash, CasReply> {
    XetHash::from_hex(text).ok_or_else(|| CasReply::BadHash(text.to_string()))
}

/// `GET {cas}/v1/chunks/{prefix}/{hash}`: the global dedupe query. The mock keeps no dedupe
/// index, so every chunk is "not found" (404), and the client uploads everything.
async fn chunk_query(
    State(state): State<HubState>,
    headers: HeaderMap,
    HubPath((_prefix, hash)): HubPath<(String, String)>,
) -> Result<Response, CasReply> {
    cas_grant(&state, &headers, false)?;
    path_hash(&hash)?;
    Ok((StatusCode::NOT_FOUND, "chunk not found").into_response())
}

/// `HEAD {cas}/v1/xorbs/{prefix}/{hash}`: 200 when the xorb is stored, else 404.
async fn head_xorb(
    State(state): State<HubState>,
    headers: HeaderMap,
    HubPath((_prefix, hash)): HubPath<(String, String)>,
) -> Result<StatusCode, CasReply> {
    cas_grant(&state, &headers, false)?;
    let hash = path_hash(&hash)?;
    Ok(if state.read().xet.has_xorb(&hash) {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    })
}

/// `POST {cas}/v1/xorbs/{prefix}/{hash}`: stores a xorb after parsing every chunk and checking
/// the chunks hash to the name; answers `{"was_inserted": bool}` (xet-core
/// `cas_types::UploadXorbResponse`).
async fn upload_xorb(
    State(state): State<HubState>,
    headers: HeaderMap,
    HubPath((_prefix, hash)): HubPath<(String, String)>,
    req: Request,
) -> Result<Json<serde_json::Value>, CasReply> {
    // The body is read first: answering before it is read makes clients see a reset connection
    // instead of the status.
    let body: Bytes = read_body(req, &state, XORB_BODY_LIMIT)
        .await
        .map_err(CasReply::Body)?;
    cas_grant(&state, &headers, true)?;
    let hash = path_hash(&hash)?;
    let xorb = StoredXorb::parse(hash, &body)?;
    let inserted = state.write().xet.insert_xorb(hash, xorb);
    Ok(Json(json!({ "was_inserted": inserted })))
}

/// `POST {cas}/v1/shards`: rebuilds every file the shard describes from the stored xorbs and
/// keeps them by sha256; answers `{"result": 1}` (`SyncPerformed`, xet-core
/// `cas_types::UploadShardResponseType`).
async fn upload_shard(
    State(state): State<HubState>,
    headers: HeaderMap,
    req: Request,
) -> Result<Json<serde_json::Value>, CasReply> {
    let body: Bytes = read_body(req, &state, SHARD_BODY_LIMIT)
        .await
        .map_err(CasReply::Body)?;
    cas_grant(&state, &headers, true)?;
    let files = state.read().xet.rebuild_files(&body)?;
    state.write().xet.insert_files(files);
    Ok(Json(json!({ "result": 1 })))
}

/// `POST /v1/telemetry`: hf_xet's transfer summary (sent to the root of the CAS URL's origin).
/// Accepted and dropped.
async fn telemetry() -> StatusCode {
    StatusCode::OK
}
