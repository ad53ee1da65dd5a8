//! Unit tests of the router through `tower::ServiceExt::oneshot` (no socket), and of the pure
//! helpers: the safetensors writer, range parsing, path validation and front-matter checks.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use super::commit::front_matter_errors;
use super::generate::{bert_tensor_shapes, tiny_bert_safetensors};
use super::resolve::parse_range;
use super::world::{RepoType, validate_file_path, validate_repo_id};
use super::*;

/// Sends one request to a router.
async fn send(
    state: &HubState,
    req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let resp = router(state.clone())
        .oneshot(req)
        .await
        .expect("infallible");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    (status, headers, body)
}

fn get(path: &str, token: Option<&str>) -> Request<Body> {
    let mut b = Request::get(path).header("host", "127.0.0.1:9");
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    b.body(Body::empty()).expect("request")
}

/// A Hub with the starter world, and its read token.
fn seeded_state_and_read_token() -> (HubState, String) {
    let state = HubState::new(world_file::starter());
    let token = state
        .read()
        .seeded_token(TokenKind::Read)
        .unwrap()
        .value
        .clone();
    (state, token)
}

#[tokio::test]
async fn whoami_follows_every_change_to_the_world_despite_its_cache() {
    let (state, token) = seeded_state_and_read_token();
    let fullname = |body: &[u8]| serde_json::from_slice::<Value>(body).unwrap()["fullname"].clone();
    let (_, _, first) = send(&state, get("/api/whoami-v2", Some(&token))).await;
    let (_, _, again) = send(&state, get("/api/whoami-v2", Some(&token))).await;
    assert_eq!(first, again);
    state
        .write()
        .users
        .get_mut("course-student")
        .unwrap()
        .fullname = "Renamed Student".into();
    let (_, _, renamed) = send(&state, get("/api/whoami-v2", Some(&token))).await;
    assert_eq!(fullname(&renamed), "Renamed Student");
    std::sync::Arc::make_mut(state.write().tokens.get_mut(&token).unwrap()).display_name =
        "renamed-token".into();
    let (_, _, body) = send(&state, get("/api/whoami-v2", Some(&token))).await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["auth"]["accessToken"]["displayName"], "renamed-token");
    state.reset();
    let (_, _, reset) = send(&state, get("/api/whoami-v2", Some(&token))).await;
    assert_eq!(reset, first);
}

#[tokio::test]
async fn the_log_keeps_each_token_as_it_was_when_its_request_arrived() {
    let (state, token) = seeded_state_and_read_token();
    send(&state, get("/api/whoami-v2?a=1", Some(&token))).await;
    state
        .set_token_status(&token, world::TokenStatus::Revoked)
        .unwrap();
    send(&state, get("/api/whoami-v2?a=1", Some(&token))).await;
    let log = state.request_log();
    let kinds: Vec<_> = log
        .iter()
        .map(|r| match &r.auth {
            RequestAuth::Token { kind, .. } => Some(*kind),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, [Some(TokenKind::Read), Some(TokenKind::Revoked)]);
    assert_eq!(log.iter().map(|r| r.status).collect::<Vec<_>>(), [200, 401]);
    for r in &log {
        assert_eq!(
            (r.method.as_str(), r.path.as_str(), r.query.as_deref()),
            ("GET", "/api/whoami-v2", Some("a=1"))
        );
    }
}

#[tokio::test]
async fn the_log_keeps_the_last_ten_thousand_requests() {
    let state = HubState::new(world_file::starter());
    let app = router(state.clone());
    for i in 0..10_005 {
        let req = get(&format!("/api/whoami-v2?n={i}"), None);
        app.clone().oneshot(req).await.expect("infallible");
    }
    let log = state.request_log();
    assert_eq!(log.len(), 10_000);
    assert_eq!(log[0].query.as_deref(), Some("n=5"));
    assert_eq!(log[9_999].query.as_deref(), Some("n=10004"));
    assert!(
        log.iter()
            .all(|r| r.status == 401 && r.auth == RequestAuth::Anonymous)
    );
    state.clear_request_log();
    assert!(state.request_log().is_empty());
}

#[tokio::test]
async fn whoami_with_the_write_token() {
    let state = HubState::new(world_file::starter());
    let token = state
        .read()
        .seeded_token(TokenKind::Write)
        .unwrap()
        .value
        .clone();
    let (status, headers, body) = send(&state, get("/api/whoami-v2", Some(&token))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers.contains_key("x-request-id"));
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["name"], "course-student");
    assert_eq!(body["auth"]["accessToken"]["displayName"], "course-write");
}

#[tokio::test]
async fn private_repo_is_repo_not_found_for_anonymous_callers() {
    let state = HubState::new(world_file::starter());
    let (status, headers, _) =
        send(&state, get("/api/models/my-course/tiny-bert-private", None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers["x-error-code"], "RepoNotFound");
    assert_eq!(headers["x-error-message"], "Repository not found");
}

#[tokio::test]
async fn entry_not_found_carries_the_commit() {
    let state = HubState::new(world_file::starter());
    let sha = state
        .read()
        .repo(RepoType::Model, "my-course/tiny-bert")
        .and_then(|r| r.head().map(|c| c.id.clone()))
        .unwrap();
    let (status, headers, _) = send(
        &state,
        get("/my-course/tiny-bert/resolve/main/vocab.txt", None),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(headers["x-error-code"], "EntryNotFound");
    assert_eq!(headers["x-repo-commit"], sha.as_str());
}

#[tokio::test]
async fn reset_restores_the_seed_and_keeps_token_values() {
    let state = HubState::new(world_file::starter());
    let before = state.seeded_tokens();
    state.write().repos.clear();
    state.reset();
    assert_eq!(state.seeded_tokens(), before);
    assert!(
        state
            .read()
            .repo(RepoType::Model, "my-course/tiny-bert")
            .is_some()
    );
}

#[test]
fn safetensors_header_lists_every_bert_tensor() {
    let bytes = tiny_bert_safetensors();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    assert_eq!(n % 8, 0);
    let header: Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let shapes = bert_tensor_shapes();
    // 5 embedding tensors, 16 per layer, 2 pooler tensors.
    assert_eq!(shapes.len(), 5 + 16 * 2 + 2);
    let mut end = 0;
    for (name, shape) in &shapes {
        let entry = &header[name];
        assert_eq!(entry["dtype"], "F32", "{name}");
        assert_eq!(entry["shape"], serde_json::json!(shape));
        let offsets = entry["data_offsets"].as_array().unwrap();
        let (a, b) = (offsets[0].as_u64().unwrap(), offsets[1].as_u64().unwrap());
        assert_eq!(b - a, shape.iter().product::<usize>() as u64 * 4);
        end = end.max(b);
    }
    assert_eq!(bytes.len(), 8 + n + end as usize);
    assert_eq!(header["__metadata__"]["format"], "pt");
    // Deterministic.
    assert_eq!(bytes, tiny_bert_safetensors());
}

#[test]
fn ranges() {
    assert_eq!(parse_range("bytes=0-", 10), Ok(Some((0, 10))));
    assert_eq!(parse_range("bytes=2-4", 10), Ok(Some((2, 5))));
    assert_eq!(parse_range("bytes=2-400", 10), Ok(Some((2, 10))));
    assert_eq!(parse_range("bytes=-3", 10), Ok(Some((7, 10))));
    assert_eq!(parse_range("bytes=-30", 10), Ok(Some((0, 10))));
    assert_eq!(parse_range("bytes=5-2", 10), Ok(None));
    assert_eq!(parse_range("bytes=0-1,4-5", 10), Ok(None));
    assert_eq!(parse_range("bytes=x-", 10), Ok(None));
    assert!(parse_range("bytes=18446744073709551615-", 10).is_err());
    assert!(parse_range("bytes=10-", 10).is_err());
}

#[test]
fn repo_ids_and_paths() {
    assert!(validate_repo_id("my-course/tiny-bert").is_ok());
    for bad in [
        "tiny-bert",
        "a/b/c",
        "a/..",
        "a/-b",
        "a/b.",
        "a/b--c",
        "/b",
        "a/",
    ] {
        assert!(validate_repo_id(bad).is_err(), "{bad}");
    }
    assert!(validate_file_path("a/b/c.json").is_ok());
    // A backslash inside a name is an ordinary character, as on the Hub.
    assert!(validate_file_path("folder/..\\..\\file").is_ok());
    assert!(validate_file_path("a\\b").is_ok());
    for bad in [
        "",
        "/etc/passwd",
        "a/../b",
        "./a",
        "a//b",
        ".git/config",
        "..\\evil",
        "..",
        "a\0b",
    ] {
        assert!(validate_file_path(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn front_matter() {
    assert!(front_matter_errors("# no front matter").is_empty());
    assert!(front_matter_errors("---\nlicense: mit\ntags:\n  - a\n---\n").is_empty());
    assert_eq!(front_matter_errors("---\nlicense: mit\n").len(), 1);
    assert_eq!(front_matter_errors("---\njust words\n---\n").len(), 1);
}

#[test]
fn gitignore_rules() {
    use super::gitignore::GitIgnore;
    let ignore =
        GitIgnore::parse("# comment\n*.log\n/build/\nsecrets/\n!keep.log\ndocs/**/*.tmp\n");
    assert!(ignore.ignores("a.log"));
    assert!(ignore.ignores("deep/in/b.log"));
    assert!(
        !ignore.ignores("keep.log"),
        "negation wins when it comes last"
    );
    assert!(ignore.ignores("build/out.bin"));
    assert!(
        !ignore.ignores("src/build/out.bin"),
        "a leading / anchors to the root"
    );
    assert!(ignore.ignores("x/secrets/key.txt"));
    assert!(!ignore.ignores("secrets.txt"));
    assert!(ignore.ignores("docs/a/b/c.tmp"));
    assert!(!ignore.ignores("model.safetensors"));
    assert!(!GitIgnore::parse("").ignores("anything"));
}

#[tokio::test]
async fn the_dataset_viewer_answers_that_it_has_no_dataset_and_the_hub_is_not_it() {
    let (state, _) = seeded_state_and_read_token();
    for path in ["/info?dataset=a/b", "/parquet?dataset=a/b"] {
        let request = Request::get(path)
            .header("host", "datasets-server.huggingface.co")
            .body(Body::empty())
            .unwrap();
        let (status, headers, body) = send(&state, request).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        let text = String::from_utf8(body).unwrap();
        assert!(
            text.contains("The dataset does not exist, or is not accessible"),
            "{text}"
        );
        assert!(headers.get("x-error-code").is_none());
    }
    let (status, _, body) = send(&state, get("/info?dataset=a/b", None)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        String::from_utf8(body)
            .unwrap()
            .contains("can't find the page")
    );
}
