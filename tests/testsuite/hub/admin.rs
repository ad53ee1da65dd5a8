//! The `/__mock/` admin API and the Rust admin API (`crates/mock-hub/src/admin.rs`, `crates/mock-hub/src/state.rs`).

use super::*;

#[test]
fn request_log_names_tokens_but_never_values() {
    let hub = Hub::start();
    let read = hub.token(TokenKind::Read);
    hub.get("/api/whoami-v2", Some(&read));
    hub.get("/api/whoami-v2?x=1", None);
    hub.get("/api/whoami-v2", Some(&MockHub::invalid_token()));
    hub.get("/__mock/tokens", None);
    let log = hub.hub.request_log();
    assert_eq!(log.len(), 3, "admin requests are not logged: {log:?}");
    assert_eq!(
        log[0].auth,
        RequestAuth::Token {
            name: Some("read".into()),
            kind: TokenKind::Read,
            display_name: "unidive-read".into()
        }
    );
    assert_eq!(log[0].status, 200);
    assert_eq!(log[1].auth, RequestAuth::Anonymous);
    assert_eq!(log[1].query.as_deref(), Some("x=1"));
    assert_eq!(log[2].auth, RequestAuth::Invalid);
    assert_eq!(log[2].status, 401);
    let text = serde_json::to_string(&log).unwrap();
    for t in hub.hub.tokens() {
        assert!(!text.contains(&t.value));
    }
    let over_http: Vec<Value> = hub.get("/__mock/requests", None).json().unwrap();
    assert_eq!(over_http.len(), 3);
}

#[test]
fn seeded_tokens_are_generated_and_distinct() {
    let a = crate::prelude::unidive_hub();
    let b = crate::prelude::unidive_hub();
    let tokens = a.tokens();
    assert_eq!(tokens.len(), 5);
    let names: Vec<&str> = tokens.iter().map(|t| t.display_name.as_str()).collect();
    assert_eq!(
        names,
        [
            "unidive-read",
            "unidive-write",
            "unidive-fine-grained",
            "unidive-expired",
            "unidive-revoked"
        ]
    );
    for t in &tokens {
        assert!(t.value.starts_with("hf_") && t.value.len() == 37);
        assert!(t.value[3..].bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(t.value, b.token(t.kind));
    }
    assert!(!a.url().ends_with('/'));
}

#[test]
fn admin_api_adds_users_tokens_repos_and_resets() {
    let hub = Hub::start();
    let r = hub.post_json(
        "/__mock/users",
        None,
        &json!({"name": "alice", "fullname": "Alice"}),
    );
    assert_eq!(r.status(), 200);
    let r = hub.post_json(
        "/__mock/orgs",
        None,
        &json!({"name": "acme", "members": ["alice"]}),
    );
    assert_eq!(r.status(), 200);
    let r = hub.post_json(
        "/__mock/orgs",
        None,
        &json!({"name": "bad", "members": ["nobody"]}),
    );
    assert_eq!(r.status(), 404);
    let tok: Value = hub
        .post_json(
            "/__mock/tokens",
            None,
            &json!({"display_name": "alice-write", "user": "alice", "role": "write"}),
        )
        .json()
        .unwrap();
    let alice = tok["value"].as_str().unwrap().to_string();
    let me: Value = hub.get("/api/whoami-v2", Some(&alice)).json().unwrap();
    assert_eq!(me["name"], "alice");
    assert_eq!(me["orgs"][0]["name"], "acme");
    let r = hub.post_json(
        "/__mock/repos",
        None,
        &json!({"id": "acme/secret", "private": true, "files": [
            {"path": "a.txt", "content": "A"},
            {"path": "b.bin", "content_base64": "AAEC"},
            {"path": "big.bin", "generated_size": 100000}
        ]}),
    );
    assert_eq!(r.status(), 200);
    assert_eq!(
        hub.get("/acme/secret/resolve/main/a.txt", Some(&alice))
            .text()
            .unwrap(),
        "A"
    );
    assert_eq!(
        hub.get("/acme/secret/resolve/main/b.bin", Some(&alice))
            .bytes()
            .unwrap()
            .as_ref(),
        &[0, 1, 2]
    );
    let big = hub
        .get("/acme/secret/resolve/main/big.bin", Some(&alice))
        .bytes()
        .unwrap();
    assert_eq!(big.len(), 100_000);
    let part = hub
        .http
        .get(hub.url("/acme/secret/resolve/main/big.bin"))
        .bearer_auth(&alice)
        .header("range", "bytes=65533-65540")
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    assert_eq!(part, big.slice(65533..65541));
    // The student cannot see acme's private repo.
    assert_eq!(
        hub.get(
            "/api/models/acme/secret",
            Some(&hub.token(TokenKind::Write))
        )
        .status(),
        404
    );
    // Bad admin input.
    assert_eq!(
        hub.post_json("/__mock/repos", None, &json!({"id": "../x"}))
            .status(),
        400
    );
    assert_eq!(
        hub.post_json(
            "/__mock/repos",
            None,
            &json!({"id": "a/b", "files": [{"path": "/etc/passwd", "content": ""}]})
        )
        .status(),
        400
    );
    let tokens: Vec<Value> = hub.get("/__mock/tokens", None).json().unwrap();
    assert_eq!(tokens.len(), 6);
    // Reset.
    assert_eq!(
        hub.post_json("/__mock/reset", None, &json!({})).status(),
        200
    );
    assert_eq!(hub.get("/api/whoami-v2", Some(&alice)).status(), 401);
    assert_eq!(hub.get("/api/models/acme/secret", None).status(), 401);
    assert_eq!(
        hub.get("/api/whoami-v2", Some(&hub.token(TokenKind::Read)))
            .status(),
        200
    );
}

#[test]
fn rust_admin_api_token_status_and_fine_grained_scopes() {
    let hub = Hub::start();
    let state = hub.hub.state();
    let info = state
        .add_token(NewToken {
            display_name: "scoped".into(),
            user: "unidive-student".into(),
            role: Some("fineGrained".into()),
            scope: mdbook_hubcheck::hub::world::FineGrainedScope {
                scoped: vec![mdbook_hubcheck::hub::world::ScopedPermission {
                    kind: "model".into(),
                    name: "unidive/tiny-bert".into(),
                    permissions: vec!["repo.write".into()],
                }],
                ..Default::default()
            },
            ..Default::default()
        })
        .unwrap();
    let pre = hub.post_json(
        "/api/models/unidive/tiny-bert/preupload/main",
        Some(&info.value),
        &json!({"files": []}),
    );
    assert_eq!(pre.status(), 200);
    state
        .set_token_status(&info.value, TokenStatus::Revoked)
        .unwrap();
    assert_eq!(hub.get("/api/whoami-v2", Some(&info.value)).status(), 401);
}

#[test]
fn faults_answer_429_with_retry_after_then_503_then_recover() {
    let hub = Hub::start();
    let r = hub.post_json(
        "/__mock/faults",
        None,
        &json!({"path_prefix": "/api/models", "status": 429, "count": 2, "retry_after": 3}),
    );
    assert_eq!(r.status(), 200);
    hub.post_json(
        "/__mock/faults",
        None,
        &json!({"path_prefix": "/unidive/tiny-bert/resolve", "method": "HEAD", "status": 503}),
    );
    let faults: Value = hub.get("/__mock/faults", None).json().unwrap();
    assert_eq!(faults.as_array().unwrap().len(), 2);
    for _ in 0..2 {
        let headers = assert_error(
            hub.get("/api/models/unidive/tiny-bert", None),
            429,
            None,
            "You have been rate-limited; you can retry this action in 3 seconds.",
        );
        assert_eq!(h(&headers, "retry-after"), "3");
    }
    assert_eq!(hub.get("/api/models/unidive/tiny-bert", None).status(), 200);
    // The HEAD fault leaves GETs alone.
    assert_eq!(
        hub.get("/unidive/tiny-bert/resolve/main/config.json", None)
            .status(),
        200
    );
    assert_eq!(
        hub.head("/unidive/tiny-bert/resolve/main/config.json", None)
            .status(),
        503
    );
    assert_eq!(
        hub.head("/unidive/tiny-bert/resolve/main/config.json", None)
            .status(),
        200
    );
    assert!(hub.hub.state().faults().is_empty());
    assert_eq!(
        hub.post_json(
            "/__mock/faults",
            None,
            &json!({"path_prefix": "/x", "status": 500})
        )
        .status(),
        400
    );
    assert_eq!(
        hub.post_json(
            "/__mock/faults",
            None,
            &json!({"path_prefix": "/__mock", "status": 503})
        )
        .status(),
        400
    );
    // Faulted requests are logged with their status.
    assert!(hub.hub.request_log().iter().any(|r| r.status == 429));
}

#[test]
fn org_roles_private_default_and_org_limited_tokens() {
    let hub = Hub::start();
    for user in ["ana", "ben", "cy", "dee"] {
        assert_eq!(
            hub.post_json("/__mock/users", None, &json!({"name": user}))
                .status(),
            200
        );
    }
    let org = json!({"name": "lab", "roles": {"ana": "read", "ben": "contributor", "cy": "write"}, "private_by_default": true});
    assert_eq!(hub.post_json("/__mock/orgs", None, &org).status(), 200);
    assert_eq!(
        hub.post_json(
            "/__mock/orgs/lab/members",
            None,
            &json!({"user": "dee", "role": "admin"})
        )
        .status(),
        200
    );
    assert_eq!(
        hub.post_json(
            "/__mock/orgs/lab/members",
            None,
            &json!({"user": "nobody", "role": "admin"})
        )
        .status(),
        404
    );
    let token = |user: &str| -> String {
        let t: Value = hub
            .post_json(
                "/__mock/tokens",
                None,
                &json!({"display_name": format!("{user}-write"), "user": user, "role": "write"}),
            )
            .json()
            .unwrap();
        t["value"].as_str().unwrap().to_string()
    };
    let (ana, ben, cy, dee) = (token("ana"), token("ben"), token("cy"), token("dee"));
    let create = |t: &str, name: &str| {
        hub.post_json(
            "/api/repos/create",
            Some(t),
            &json!({"name": name, "organization": "lab"}),
        )
    };
    assert_error(
        create(&ana, "a"),
        403,
        None,
        "You don't have the rights to create a model under the namespace \"lab\"",
    );
    assert_eq!(create(&ben, "b").status(), 200);
    assert_eq!(create(&cy, "c").status(), 200);
    // Private by default: anonymous callers do not see it, the read member does.
    assert_eq!(hub.get("/api/models/lab/b", None).status(), 401);
    assert_eq!(
        hub.get("/api/models/lab/b", Some(&ana))
            .json::<Value>()
            .unwrap()["private"],
        true
    );
    let public = hub.post_json(
        "/api/repos/create",
        Some(&cy),
        &json!({"name": "open", "organization": "lab", "private": false}),
    );
    assert_eq!(public.status(), 200);
    assert_eq!(hub.get("/api/models/lab/open", None).status(), 200);
    // Writing: the contributor only to their own repo, write and admin to all.
    let branch = |t: &str, repo: &str| {
        hub.post_json(
            &format!("/api/models/lab/{repo}/branch/x-{}", &t[3..8]),
            Some(t),
            &json!({}),
        )
    };
    assert_eq!(branch(&ana, "b").status(), 403);
    assert_eq!(branch(&ben, "b").status(), 200);
    assert_eq!(branch(&ben, "c").status(), 403);
    assert_eq!(branch(&cy, "b").status(), 200);
    assert_eq!(branch(&dee, "c").status(), 200);
    let me: Value = hub.get("/api/whoami-v2", Some(&ben)).json().unwrap();
    assert_eq!(me["orgs"][0]["roleInOrg"], "contributor");
    // The organisation setting can be turned off again.
    let off = hub
        .http
        .put(hub.url("/__mock/orgs/lab/settings"))
        .json(&json!({"private_by_default": false}))
        .send()
        .unwrap();
    assert_eq!(off.status(), 200);
    assert_eq!(create(&cy, "later").status(), 200);
    assert_eq!(hub.get("/api/models/lab/later", None).status(), 200);
    // A token limited to other organisations cannot see or write lab's private repos.
    let limited: Value = hub
        .post_json("/__mock/tokens", None, &json!({"display_name": "cy-other", "user": "cy", "role": "write", "orgs": ["unidive"]}))
        .json()
        .unwrap();
    let limited = limited["value"].as_str().unwrap();
    assert_error(
        hub.get("/api/models/lab/b", Some(limited)),
        404,
        Some("RepoNotFound"),
        "Repository not found",
    );
    assert_eq!(create(limited, "nope").status(), 403);
}
