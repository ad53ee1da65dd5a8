//! `GET /api/whoami-v2` and `GET /api/agent-harnesses` (`crates/mock-hub/src/whoami.rs`).

use super::*;

#[test]
fn agent_harnesses_is_the_empty_registry() {
    let hub = Hub::start();
    let resp = hub.get("/api/agent-harnesses", None);
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.json::<Value>().unwrap(),
        json!({"standardEnvVars": [], "harnesses": {}})
    );
}

#[test]
fn whoami_describes_each_valid_token() {
    let hub = Hub::start();
    for (kind, role) in [
        (TokenKind::Read, "read"),
        (TokenKind::Write, "write"),
        (TokenKind::FineGrained, "fineGrained"),
    ] {
        let resp = hub.get("/api/whoami-v2", Some(&hub.token(kind)));
        assert_eq!(resp.status(), 200);
        assert!(!h(resp.headers(), "x-request-id").is_empty());
        let body: Value = resp.json().unwrap();
        assert_eq!(body["name"], "unidive-student");
        assert_eq!(body["fullname"], "UniDive Student");
        assert_eq!(body["type"], "user");
        assert_eq!(body["orgs"][0]["name"], "unidive");
        assert_eq!(body["auth"]["type"], "access_token");
        assert_eq!(body["auth"]["accessToken"]["role"], role);
        assert_eq!(
            body["auth"]["accessToken"]["displayName"],
            format!("unidive-{kind}")
        );
        if kind == TokenKind::FineGrained {
            let scoped = &body["auth"]["accessToken"]["fineGrained"]["scoped"][0];
            assert_eq!(scoped["entity"]["name"], "unidive/tiny-bert-private");
            assert_eq!(scoped["permissions"], json!(["repo.content.read"]));
        }
    }
}

#[test]
fn whoami_rejects_expired_revoked_invalid_and_missing_tokens() {
    let hub = Hub::start();
    for token in [
        hub.token(TokenKind::Expired),
        hub.token(TokenKind::Revoked),
        MockHub::invalid_token(),
    ] {
        let resp = hub.get("/api/whoami-v2", Some(&token));
        assert_error(
            resp,
            401,
            None,
            "Invalid credentials in Authorization header",
        );
    }
    let resp = hub.get("/api/whoami-v2", None);
    assert_error(resp, 401, None, "Invalid username or password.");
}

#[test]
fn malformed_authorization_headers_are_401_never_500() {
    let hub = Hub::start();
    let write = hub.token(TokenKind::Write);
    for value in [
        "Basic dXNlcjpwYXNz".to_string(),
        "Bearer".to_string(),
        "Bearer ".to_string(),
        format!("Bearer  {write}"),
        format!("bearer{write}"),
        write.clone(),
    ] {
        let resp = hub
            .http
            .get(hub.url("/api/whoami-v2"))
            .header("authorization", value.as_bytes())
            .send()
            .unwrap();
        assert_eq!(resp.status(), 401, "{value:?}");
    }
    // Non-UTF-8 bytes in the header.
    let resp = hub
        .http
        .get(hub.url("/api/whoami-v2"))
        .header(
            "authorization",
            reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap(),
        )
        .send()
        .unwrap();
    assert_eq!(resp.status(), 401);
    // The scheme is case-insensitive.
    let resp = hub
        .http
        .get(hub.url("/api/whoami-v2"))
        .header("authorization", format!("bearer {write}"))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
}
