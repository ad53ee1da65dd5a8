//! File downloads: `HEAD`/`GET .../resolve/...` (`crates/mock-hub/src/resolve.rs`).

use super::*;

#[test]
fn resolve_head_and_get_serve_bytes_with_metadata() {
    let hub = Hub::start();
    let head = hub.head("/unidive/tiny-bert/resolve/main/config.json", None);
    assert_eq!(head.status(), 200);
    let headers = head.headers().clone();
    let etag = h(&headers, "etag").to_string();
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() == 42,
        "{etag}"
    );
    let len: usize = h(&headers, "content-length").parse().unwrap();
    for forbidden in [
        "x-xet-hash",
        "x-xet-refresh-route",
        "link",
        "content-encoding",
    ] {
        assert!(
            headers.get(forbidden).is_none(),
            "{forbidden} must not be sent"
        );
    }
    let get = hub
        .http
        .get(hub.url("/unidive/tiny-bert/resolve/main/config.json"))
        .header("accept-encoding", "gzip")
        .send()
        .unwrap();
    assert_eq!(get.status(), 200);
    assert_eq!(h(get.headers(), "etag"), etag);
    assert!(get.headers().get("content-encoding").is_none());
    let body = get.bytes().unwrap();
    assert_eq!(body.len(), len);
    let config: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(config["model_type"], "bert");

    // LFS-style file: sha256 ETag plus X-Linked-* headers, served directly.
    let head = hub.head("/unidive/tiny-bert/resolve/main/model.safetensors", None);
    assert_eq!(head.status(), 200);
    assert_eq!(h(head.headers(), "etag").len(), 66);
    assert_eq!(
        h(head.headers(), "x-linked-etag"),
        h(head.headers(), "etag")
    );
    assert_eq!(
        h(head.headers(), "x-linked-size"),
        h(head.headers(), "content-length")
    );
}

#[test]
fn resolve_ranges() {
    let hub = Hub::start();
    let full = hub
        .get("/unidive/tiny-bert/resolve/main/README.md", None)
        .bytes()
        .unwrap();
    let n = full.len();
    let range = |spec: &str| {
        hub.http
            .get(hub.url("/unidive/tiny-bert/resolve/main/README.md"))
            .header("range", spec)
            .send()
            .unwrap()
    };
    let r = range("bytes=10-");
    assert_eq!(r.status(), 206);
    assert_eq!(
        h(r.headers(), "content-range"),
        format!("bytes 10-{}/{n}", n - 1)
    );
    assert!(!h(r.headers(), "x-repo-commit").is_empty());
    assert_eq!(r.bytes().unwrap(), full.slice(10..));
    let r = range("bytes=0-4");
    assert_eq!(r.status(), 206);
    assert_eq!(h(r.headers(), "content-length"), "5");
    assert_eq!(r.bytes().unwrap(), full.slice(0..5));
    let r = range("bytes=-3");
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().unwrap(), full.slice(n - 3..));
    let r = range(&format!("bytes={n}-"));
    assert_eq!(r.status(), 416);
    assert_eq!(h(r.headers(), "content-range"), format!("bytes */{n}"));
    // Malformed and multi-part ranges are ignored.
    assert_eq!(range("bytes=abc").status(), 200);
    assert_eq!(range("bytes=0-1,3-4").status(), 200);
    assert_eq!(range("lines=1-2").status(), 200);
}

#[test]
fn resolve_errors() {
    let hub = Hub::start();
    let read = hub.token(TokenKind::Read);
    let fine = hub.token(TokenKind::FineGrained);
    let head = hub.head("/unidive/tiny-bert-private/resolve/main/config.json", None);
    assert_eq!(head.status(), 401);
    assert_eq!(h(head.headers(), "x-error-code"), "RepoNotFound");
    assert_eq!(h(head.headers(), "x-error-message"), "Repository not found");
    // HEAD has no body: check the GET for the body.
    assert_error(
        hub.get("/unidive/tiny-bert-private/resolve/main/config.json", None),
        401,
        Some("RepoNotFound"),
        "Repository not found",
    );
    assert_eq!(
        hub.get(
            "/unidive/tiny-bert-private/resolve/main/config.json",
            Some(&fine)
        )
        .status(),
        200
    );
    assert_error(
        hub.get("/unidive/tiny-bert-gated/resolve/main/config.json", None),
        401,
        Some("GatedRepo"),
        "Access to model unidive/tiny-bert-gated is restricted. You must have access to it and be authenticated to access it. Please log in.",
    );
    let hub_url = hub.public_base();
    assert_error(
        hub.get(
            "/unidive/tiny-bert-gated/resolve/main/config.json",
            Some(&read),
        ),
        403,
        Some("GatedRepo"),
        &format!(
            "Access to model unidive/tiny-bert-gated is restricted and you are not in the authorized list. Visit {hub_url}/unidive/tiny-bert-gated to ask for access."
        ),
    );
    hub.hub
        .state()
        .grant_gated_access(
            mdbook_hubcheck::hub::world::RepoType::Model,
            "unidive/tiny-bert-gated",
            "unidive-student",
        )
        .unwrap();
    assert_eq!(
        hub.get(
            "/unidive/tiny-bert-gated/resolve/main/config.json",
            Some(&read)
        )
        .status(),
        200
    );
    let info: Value = hub
        .get("/api/models/unidive/tiny-bert", None)
        .json()
        .unwrap();
    let headers = assert_error(
        hub.get("/unidive/tiny-bert/resolve/main/vocab.txt", None),
        404,
        Some("EntryNotFound"),
        "Entry not found",
    );
    assert_eq!(h(&headers, "x-repo-commit"), info["sha"].as_str().unwrap());
    assert_error(
        hub.get("/unidive/tiny-bert/resolve/v9/config.json", None),
        404,
        Some("RevisionNotFound"),
        "Invalid rev id: v9",
    );
    assert_error(
        hub.get(
            "/unidive/tiny-bert/resolve/main/config.json",
            Some(&hub.token(TokenKind::Revoked)),
        ),
        401,
        None,
        "Invalid credentials in Authorization header",
    );
    // Path tricks never leave the repository (sent raw: reqwest would normalise `..`).
    for path in [
        "/unidive/tiny-bert/resolve/main/..%2F..%2Fetc%2Fpasswd",
        "/unidive/tiny-bert/resolve/main/a/../config.json",
        "/unidive/tiny-bert/resolve/main/../../../etc/passwd",
        "/unidive/tiny-bert/resolve/main//etc/passwd",
        "/unidive/tiny-bert/resolve/main/%2Fetc%2Fpasswd",
        "/unidive/tiny-bert/resolve/main/./config.json",
    ] {
        let status = raw_status(&hub, "GET", path);
        assert!(status == 404 || status == 400, "{path}: {status}");
    }
}
