//! Settings, moves and auth checks (`crates/mock-hub/src/manage.rs`), plus how repository ids are matched.

use super::*;

/// A PUT with a JSON body.
fn put_json(hub: &Hub, path: &str, token: Option<&str>, body: &Value) -> Response {
    let mut req = hub.http.put(hub.url(path)).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().unwrap()
}

#[test]
fn settings_change_visibility_and_gating_at_once() {
    let hub = Hub::start();
    let write = hub.token(TokenKind::Write);
    let settings = "/api/models/unidive/tiny-bert/settings";
    let r = put_json(&hub, settings, Some(&write), &json!({"private": true}));
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().unwrap(),
        json!({"private": true, "gated": false})
    );
    assert_error(
        hub.get("/api/models/unidive/tiny-bert", None),
        401,
        Some("RepoNotFound"),
        "Repository not found",
    );
    assert_error(
        hub.get("/unidive/tiny-bert/resolve/main/config.json", None),
        401,
        Some("RepoNotFound"),
        "Repository not found",
    );
    let info: Value = hub
        .get("/api/models/unidive/tiny-bert", Some(&write))
        .json()
        .unwrap();
    assert_eq!(info["private"], true);
    let r = put_json(
        &hub,
        settings,
        Some(&write),
        &json!({"private": false, "gated": "auto"}),
    );
    assert_eq!(
        r.json::<Value>().unwrap(),
        json!({"private": false, "gated": "auto"})
    );
    let info: Value = hub
        .get("/api/models/unidive/tiny-bert", None)
        .json()
        .unwrap();
    assert_eq!(info["gated"], "auto");
    assert_error(
        hub.get("/unidive/tiny-bert/resolve/main/config.json", None),
        401,
        Some("GatedRepo"),
        "Access to model unidive/tiny-bert is restricted. You must have access to it and be authenticated to access it. Please log in.",
    );
    put_json(&hub, settings, Some(&write), &json!({"gated": false}));
    assert_eq!(
        hub.head("/unidive/tiny-bert/resolve/main/config.json", None)
            .status(),
        200
    );
    assert_eq!(
        put_json(&hub, settings, Some(&write), &json!({"gated": "sometimes"})).status(),
        400
    );
    assert_error(
        put_json(
            &hub,
            settings,
            Some(&hub.token(TokenKind::Read)),
            &json!({"private": true}),
        ),
        403,
        None,
        "You don't have write access to unidive/tiny-bert",
    );
}

#[test]
fn moved_repos_redirect_from_their_old_id() {
    let hub = Hub::start();
    let write = hub.token(TokenKind::Write);
    let body = json!({"fromRepo": "unidive/tiny-bert", "toRepo": "unidive-student/bert-moved", "type": "model"});
    assert_eq!(
        hub.post_json("/api/repos/move", Some(&write), &body)
            .status(),
        200
    );
    let info: Value = hub
        .get("/api/models/unidive-student/bert-moved", None)
        .json()
        .unwrap();
    assert_eq!(info["id"], "unidive-student/bert-moved");
    let r = hub.get(
        "/api/models/unidive/tiny-bert/revision/main?blobs=true",
        None,
    );
    assert_eq!(r.status(), 307);
    assert_eq!(
        h(r.headers(), "location"),
        "/api/models/unidive-student/bert-moved/revision/main?blobs=true"
    );
    let r = hub.head("/unidive/tiny-bert/resolve/main/config.json", None);
    assert_eq!(r.status(), 307);
    assert_eq!(
        h(r.headers(), "location"),
        "/unidive-student/bert-moved/resolve/main/config.json"
    );
    // Moving onto an existing id is a conflict; a read token may not move.
    let taken =
        json!({"fromRepo": "unidive-student/bert-moved", "toRepo": "unidive/tiny-bert-gated"});
    assert_error(
        hub.post_json("/api/repos/move", Some(&write), &taken),
        409,
        None,
        "You already have a model named unidive/tiny-bert-gated",
    );
    let back = json!({"fromRepo": "unidive-student/bert-moved", "toRepo": "unidive/tiny-bert"});
    assert_error(
        hub.post_json("/api/repos/move", Some(&hub.token(TokenKind::Read)), &back),
        403,
        None,
        "You don't have write access to unidive-student/bert-moved",
    );
    // A new repo at the old id ends the redirect.
    assert_eq!(
        hub.post_json("/api/repos/move", Some(&write), &back)
            .status(),
        200
    );
    assert_eq!(hub.get("/api/models/unidive/tiny-bert", None).status(), 200);
    assert_eq!(
        hub.get("/api/models/unidive-student/bert-moved", None)
            .status(),
        307
    );
}

#[test]
fn auth_check_reports_access_and_gates() {
    let hub = Hub::start();
    let read = hub.token(TokenKind::Read);
    assert_eq!(
        hub.get("/api/models/unidive/tiny-bert/auth-check", None)
            .status(),
        200
    );
    assert_eq!(
        hub.get(
            "/api/models/unidive/tiny-bert-private/auth-check",
            Some(&read)
        )
        .status(),
        200
    );
    assert_error(
        hub.get("/api/models/unidive/tiny-bert-private/auth-check", None),
        401,
        Some("RepoNotFound"),
        "Repository not found",
    );
    assert_error(
        hub.get(
            "/api/models/unidive/tiny-bert-gated/auth-check",
            Some(&read),
        ),
        403,
        Some("GatedRepo"),
        &format!(
            "Access to model unidive/tiny-bert-gated is restricted and you are not in the authorized list. Visit {}/unidive/tiny-bert-gated to ask for access.",
            hub.public_base()
        ),
    );
    assert_error(
        hub.get(
            "/api/models/unidive/tiny-bert/auth-check/write",
            Some(&read),
        ),
        403,
        None,
        "You don't have write access to unidive/tiny-bert",
    );
    assert_eq!(
        hub.get(
            "/api/models/unidive/tiny-bert/auth-check/write",
            Some(&hub.token(TokenKind::Write))
        )
        .status(),
        200
    );
}

#[test]
fn ids_match_without_case_and_need_a_namespace() {
    let hub = Hub::start();
    let info: Value = hub
        .get("/api/models/Unidive/Tiny-Bert", None)
        .json()
        .unwrap();
    assert_eq!(info["id"], "unidive/tiny-bert");
    assert_eq!(
        hub.head("/UNIDIVE/tiny-BERT/resolve/main/config.json", None)
            .status(),
        200
    );
    let write = hub.token(TokenKind::Write);
    assert_error(
        hub.post_json(
            "/api/repos/create",
            Some(&write),
            &json!({"name": "Tiny-Bert", "organization": "unidive"}),
        ),
        409,
        None,
        "You already created this model repo",
    );
    for path in [
        "/api/models/repo-that-does-not-exist",
        "/api/models/repo-that-does-not-exist/revision/main",
        "/api/datasets/repo-that-does-not-exist/tree/main",
        "/repo-that-does-not-exist/resolve/main/config.json",
        "/datasets/repo-that-does-not-exist/resolve/main/data.csv",
    ] {
        assert_error(
            hub.get(path, None),
            401,
            Some("RepoNotFound"),
            "Repository not found",
        );
        assert_error(
            hub.get(path, Some(&write)),
            404,
            Some("RepoNotFound"),
            "Repository not found",
        );
    }
    assert_error(
        hub.get(
            "/api/models/repo-that-does-not-exist",
            Some(&MockHub::invalid_token()),
        ),
        401,
        None,
        "Invalid credentials in Authorization header",
    );
}
