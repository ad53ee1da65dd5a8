//! The mock Hub over real HTTP: every endpoint and error case the clients rely on, checked with
//! reqwest against `MockHub::start()`, plus a deterministic fuzz run.

use std::time::Duration;

use mdbook_hubcheck::hub::state::NewFile;
use mdbook_hubcheck::hub::world::TokenStatus;
use mdbook_hubcheck::hub::{MockHub, NewRepo, NewToken, RequestAuth, TokenKind};
use reqwest::blocking::{Client, Response};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

/// A client that never follows redirects and never decompresses.
fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// A started seeded hub and a client for it.
struct Hub {
    hub: MockHub,
    http: Client,
}

impl Hub {
    fn start() -> Hub {
        Hub {
            hub: MockHub::start().expect("mock hub starts"),
            http: client(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.hub.url())
    }

    fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut req = self.http.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().expect("request")
    }

    fn head(&self, path: &str, token: Option<&str>) -> Response {
        let mut req = self.http.head(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().expect("request")
    }

    fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        let mut req = self.http.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().expect("request")
    }

    fn token(&self, kind: TokenKind) -> String {
        self.hub.token(kind)
    }
}

/// A header as text ("" when missing).
fn h<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Sends a request line as-is (no client-side path normalisation) and returns the status.
fn raw_status(hub: &Hub, method: &str, target: &str) -> u16 {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(hub.hub.addr()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        hub.hub.addr()
    )
    .unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out);
    text.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Asserts status, X-Error-Code and X-Error-Message, and that the JSON body's `error` matches.
#[track_caller]
fn assert_error(resp: Response, status: u16, code: Option<&str>, message: &str) -> HeaderMap {
    let headers = resp.headers().clone();
    assert_eq!(
        resp.status().as_u16(),
        status,
        "status; headers: {headers:?}"
    );
    assert_eq!(
        headers.get("x-error-code").and_then(|v| v.to_str().ok()),
        code
    );
    assert_eq!(h(&headers, "x-error-message"), message);
    assert!(!h(&headers, "x-request-id").is_empty(), "X-Request-Id");
    let body: Value = resp.json().expect("json error body");
    assert_eq!(body["error"], message);
    headers
}

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

#[test]
fn repo_info_sha_matches_resolve_commit() {
    let hub = Hub::start();
    let info: Value = hub
        .get("/api/models/unidive/tiny-bert", None)
        .json()
        .unwrap();
    assert_eq!(info["id"], "unidive/tiny-bert");
    assert_eq!(info["private"], false);
    let sha = info["sha"].as_str().unwrap().to_string();
    assert_eq!(sha.len(), 40);
    assert!(
        sha.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    let files: Vec<&str> = info["siblings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["rfilename"].as_str().unwrap())
        .collect();
    for f in [
        "config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "model.safetensors",
        "README.md",
    ] {
        assert!(files.contains(&f), "{f} in {files:?}");
    }
    let at_main: Value = hub
        .get("/api/models/unidive/tiny-bert/revision/main", None)
        .json()
        .unwrap();
    assert_eq!(at_main["sha"], sha.as_str());
    let at_sha: Value = hub
        .get(
            &format!("/api/models/unidive/tiny-bert/revision/{sha}"),
            None,
        )
        .json()
        .unwrap();
    assert_eq!(at_sha["sha"], sha.as_str());
    let head = hub.head("/unidive/tiny-bert/resolve/main/config.json", None);
    assert_eq!(head.status(), 200);
    assert_eq!(h(head.headers(), "x-repo-commit"), sha);
}

#[test]
fn repo_info_errors() {
    let hub = Hub::start();
    let write = hub.token(TokenKind::Write);
    let read = hub.token(TokenKind::Read);
    let fine = hub.token(TokenKind::FineGrained);
    // Private repo: anonymous 401, visible to read/write/fine-grained tokens.
    assert_error(
        hub.get("/api/models/unidive/tiny-bert-private", None),
        401,
        Some("RepoNotFound"),
        "Repository not found",
    );
    for t in [&write, &read, &fine] {
        assert_eq!(
            hub.get("/api/models/unidive/tiny-bert-private", Some(t))
                .status(),
            200
        );
    }
    // Missing repo: 401 anonymous, 404 authenticated.
    assert_error(
        hub.get("/api/models/unidive/nope", None),
        401,
        Some("RepoNotFound"),
        "Repository not found",
    );
    assert_error(
        hub.get("/api/models/unidive/nope", Some(&write)),
        404,
        Some("RepoNotFound"),
        "Repository not found",
    );
    // Unknown revision.
    assert_error(
        hub.get("/api/models/unidive/tiny-bert/revision/v9", None),
        404,
        Some("RevisionNotFound"),
        "Invalid rev id: v9",
    );
    // A URL-quoted revision decodes as one segment.
    assert_error(
        hub.get("/api/models/unidive/tiny-bert/revision/refs%2Fpr%2F1", None),
        404,
        Some("RevisionNotFound"),
        "Invalid rev id: refs/pr/1",
    );
    // Invalid credentials, even on a public repo.
    assert_error(
        hub.get(
            "/api/models/unidive/tiny-bert",
            Some(&MockHub::invalid_token()),
        ),
        401,
        None,
        "Invalid credentials in Authorization header",
    );
    // Gated metadata is public.
    let gated: Value = hub
        .get("/api/models/unidive/tiny-bert-gated", None)
        .json()
        .unwrap();
    assert_eq!(gated["gated"], "manual");
    // Unknown repo type segment.
    assert_eq!(
        hub.get("/api/buckets/unidive/tiny-bert", None).status(),
        404
    );
}

#[test]
fn tree_lists_files_without_xet_hashes() {
    let hub = Hub::start();
    let resp = hub.get(
        "/api/models/unidive/tiny-bert/tree/main?recursive=true&expand=false",
        None,
    );
    assert_eq!(resp.status(), 200);
    let entries: Vec<Value> = resp.json().unwrap();
    let st = entries
        .iter()
        .find(|e| e["path"] == "model.safetensors")
        .expect("model.safetensors listed");
    assert_eq!(st["type"], "file");
    assert_eq!(st["oid"].as_str().unwrap().len(), 40);
    assert_eq!(st["lfs"]["oid"].as_str().unwrap().len(), 64);
    let cfg = entries.iter().find(|e| e["path"] == "config.json").unwrap();
    assert!(cfg.get("lfs").is_none());
    assert!(entries.iter().all(|e| e.get("xetHash").is_none()));
    // Missing folder.
    assert_error(
        hub.get(
            "/api/models/unidive/tiny-bert/tree/main/additional_chat_templates?recursive=false&expand=false",
            None,
        ),
        404,
        Some("EntryNotFound"),
        "Entry not found",
    );
    // Private tree without a token (transformers does this): 401 RepoNotFound, harmless.
    assert_error(
        hub.get(
            "/api/models/unidive/tiny-bert-private/tree/main?recursive=true",
            None,
        ),
        401,
        Some("RepoNotFound"),
        "Repository not found",
    );
}

#[test]
fn tree_folders_recursive_and_not() {
    let hub = Hub::start();
    hub.hub
        .state()
        .put_repo(NewRepo {
            id: "unidive-student/nested".into(),
            files: vec![
                NewFile {
                    path: "a/b/c.txt".into(),
                    content: Some("c".into()),
                    ..Default::default()
                },
                NewFile {
                    path: "a/d.txt".into(),
                    content: Some("d".into()),
                    ..Default::default()
                },
                NewFile {
                    path: "top.txt".into(),
                    content: Some("t".into()),
                    ..Default::default()
                },
            ],
            ..Default::default()
        })
        .unwrap();
    let paths = |url: &str| -> Vec<(String, String)> {
        let v: Vec<Value> = hub.get(url, None).json().unwrap();
        v.iter()
            .map(|e| {
                (
                    e["type"].as_str().unwrap().to_string(),
                    e["path"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let root = paths("/api/models/unidive-student/nested/tree/main");
    assert!(root.contains(&("directory".into(), "a".into())));
    assert!(root.contains(&("file".into(), "top.txt".into())));
    assert!(!root.iter().any(|(_, p)| p == "a/d.txt"));
    let a = paths("/api/models/unidive-student/nested/tree/main/a");
    assert_eq!(
        a,
        vec![
            ("directory".into(), "a/b".into()),
            ("file".into(), "a/d.txt".into())
        ]
    );
    let all = paths("/api/models/unidive-student/nested/tree/main?recursive=true");
    assert!(all.contains(&("file".into(), "a/b/c.txt".into())));
    assert!(all.contains(&("directory".into(), "a/b".into())));
}

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
    let hub_url = hub.hub.url().to_string();
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

#[test]
fn datasets_and_spaces_prefixes() {
    let hub = Hub::start();
    for (t, ty) in [("dataset", "datasets"), ("space", "spaces")] {
        let id = format!("unidive-student/my-{t}");
        hub.hub
            .state()
            .put_repo(NewRepo {
                id: id.clone(),
                repo_type: mdbook_hubcheck::hub::world::RepoType::from_singular(t).unwrap(),
                files: vec![NewFile {
                    path: "data.csv".into(),
                    content: Some("a,b\n1,2\n".into()),
                    ..Default::default()
                }],
                ..Default::default()
            })
            .unwrap();
        assert_eq!(hub.get(&format!("/api/{ty}/{id}"), None).status(), 200);
        let r = hub.get(&format!("/{ty}/{id}/resolve/main/data.csv"), None);
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().unwrap(), "a,b\n1,2\n");
        // Not visible as a model.
        assert_eq!(hub.get(&format!("/api/models/{id}"), None).status(), 401);
    }
}

#[test]
fn create_upload_and_delete_with_a_write_token() {
    let hub = Hub::start();
    let write = hub.token(TokenKind::Write);
    let resp = hub.post_json(
        "/api/repos/create",
        Some(&write),
        &json!({"name": "new-model", "organization": "unidive-student"}),
    );
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().unwrap();
    assert_eq!(
        body["url"],
        format!("{}/unidive-student/new-model", hub.hub.url())
    );
    // Exists.
    let resp = hub.post_json(
        "/api/repos/create",
        Some(&write),
        &json!({"name": "new-model", "organization": "unidive-student"}),
    );
    assert_error(resp, 409, None, "You already created this model repo");
    // Bare name goes to the token's user; datasets get their prefix.
    let resp = hub.post_json(
        "/api/repos/create",
        Some(&write),
        &json!({"name": "data", "organization": null, "type": "dataset", "visibility": "private"}),
    );
    assert_eq!(
        resp.json::<Value>().unwrap()["url"],
        format!("{}/datasets/unidive-student/data", hub.hub.url())
    );
    assert_eq!(
        hub.get("/api/datasets/unidive-student/data", None).status(),
        401
    );
    assert_eq!(
        hub.get("/api/datasets/unidive-student/data", Some(&write))
            .status(),
        200
    );

    let before: Value = hub
        .get("/api/models/unidive-student/new-model", None)
        .json()
        .unwrap();
    // Preupload.
    let resp = hub.post_json(
        "/api/models/unidive-student/new-model/preupload/main",
        Some(&write),
        &json!({"files": [{"path": "notes.txt", "sample": "aGVsbG8gd29ybGQK", "size": 12}]}),
    );
    assert_eq!(resp.status(), 200);
    let pre: Value = resp.json().unwrap();
    assert_eq!(
        pre,
        json!({"files": [{"path": "notes.txt", "uploadMode": "regular", "shouldIgnore": false}]})
    );
    // Commit.
    let ndjson = concat!(
        r#"{"key":"header","value":{"summary":"Upload notes.txt with huggingface_hub","description":""}}"#,
        "\n",
        r#"{"key":"file","value":{"content":"aGVsbG8gd29ybGQK","path":"notes.txt","encoding":"base64"}}"#,
        "\n"
    );
    let resp = hub
        .http
        .post(hub.url("/api/models/unidive-student/new-model/commit/main"))
        .bearer_auth(&write)
        .header("content-type", "application/x-ndjson")
        .body(ndjson)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let commit: Value = resp.json().unwrap();
    let oid = commit["commitOid"].as_str().unwrap().to_string();
    assert_eq!(oid.len(), 40);
    assert_ne!(before["sha"], oid.as_str());
    assert_eq!(
        commit["commitUrl"],
        format!("{}/unidive-student/new-model/commit/{oid}", hub.hub.url())
    );
    let after: Value = hub
        .get("/api/models/unidive-student/new-model", None)
        .json()
        .unwrap();
    assert_eq!(after["sha"], oid.as_str());
    let file = hub.get("/unidive-student/new-model/resolve/main/notes.txt", None);
    assert_eq!(h(file.headers(), "x-repo-commit"), oid);
    assert_eq!(file.text().unwrap(), "hello world\n");
    // The old commit still resolves by sha and lacks the file.
    let old = before["sha"].as_str().unwrap();
    assert_eq!(
        hub.get(
            &format!("/unidive-student/new-model/resolve/{old}/notes.txt"),
            None
        )
        .status(),
        404
    );
    // Preupload now reports the remote oid (git blob sha1 of "hello world\n").
    let pre: Value = hub
        .post_json(
            "/api/models/unidive-student/new-model/preupload/main",
            Some(&write),
            &json!({"files": [{"path": "notes.txt", "sample": "", "size": 12}]}),
        )
        .json()
        .unwrap();
    assert_eq!(
        pre["files"][0]["oid"],
        "3b18e512dba79e4c8300dd08aeb37f8e728b8dad"
    );
    // Stale parentCommit.
    let stale = format!(
        "{{\"key\":\"header\",\"value\":{{\"summary\":\"x\",\"parentCommit\":\"{old}\"}}}}\n"
    );
    let resp = hub
        .http
        .post(hub.url("/api/models/unidive-student/new-model/commit/main"))
        .bearer_auth(&write)
        .body(stale)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 412);
    // Delete a file and open a PR.
    let del = "{\"key\":\"header\",\"value\":{\"summary\":\"rm\"}}\n{\"key\":\"deletedFile\",\"value\":{\"path\":\"notes.txt\"}}\n";
    let resp = hub
        .http
        .post(hub.url("/api/models/unidive-student/new-model/commit/main?create_pr=1"))
        .bearer_auth(&write)
        .body(del)
        .send()
        .unwrap();
    let pr: Value = resp.json().unwrap();
    assert_eq!(
        pr["pullRequestUrl"],
        format!("{}/unidive-student/new-model/discussions/1", hub.hub.url())
    );
    assert_eq!(
        hub.get("/unidive-student/new-model/resolve/main/notes.txt", None)
            .status(),
        200
    );
    assert_eq!(
        hub.get(
            "/unidive-student/new-model/resolve/refs%2Fpr%2F1/notes.txt",
            None
        )
        .status(),
        404
    );
    // Delete the repo, then again: RepoNotFound.
    let resp = hub
        .http
        .delete(hub.url("/api/repos/delete"))
        .bearer_auth(&write)
        .json(&json!({"name": "new-model", "organization": "unidive-student"}))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = hub
        .http
        .delete(hub.url("/api/repos/delete"))
        .bearer_auth(&write)
        .json(&json!({"name": "new-model", "organization": "unidive-student"}))
        .send()
        .unwrap();
    assert_error(resp, 404, Some("RepoNotFound"), "Repository not found");
}

#[test]
fn read_and_fine_grained_tokens_cannot_write() {
    let hub = Hub::start();
    for kind in [TokenKind::Read, TokenKind::FineGrained] {
        let token = hub.token(kind);
        let resp = hub.post_json(
            "/api/repos/create",
            Some(&token),
            &json!({"name": "x", "organization": "unidive"}),
        );
        assert_error(
            resp,
            403,
            None,
            "You don't have the rights to create a model under the namespace \"unidive\"",
        );
        let resp = hub.post_json(
            "/api/models/unidive/tiny-bert/preupload/main",
            Some(&token),
            &json!({"files": [{"path": "a.txt", "sample": "", "size": 0}]}),
        );
        assert_error(
            resp,
            403,
            None,
            "Forbidden: pass `create_pr=1` as a query parameter to create a Pull Request",
        );
        let resp = hub
            .http
            .post(hub.url("/api/models/unidive/tiny-bert/commit/main"))
            .bearer_auth(&token)
            .body("{\"key\":\"header\",\"value\":{\"summary\":\"x\"}}\n")
            .send()
            .unwrap();
        assert_error(
            resp,
            403,
            None,
            "Forbidden: pass `create_pr=1` as a query parameter to create a Pull Request",
        );
        let resp = hub
            .http
            .delete(hub.url("/api/repos/delete"))
            .bearer_auth(&token)
            .json(&json!({"name": "tiny-bert", "organization": "unidive"}))
            .send()
            .unwrap();
        assert_error(resp, 403, None, "This operation requires a write token");
    }
    // A write token in a namespace its user does not belong to.
    let resp = hub.post_json(
        "/api/repos/create",
        Some(&hub.token(TokenKind::Write)),
        &json!({"name": "x", "organization": "someone-else"}),
    );
    assert_eq!(resp.status(), 403);
    // No token / invalid token.
    let resp = hub.post_json(
        "/api/repos/create",
        None,
        &json!({"name": "x", "organization": "unidive"}),
    );
    assert_error(resp, 401, None, "Invalid username or password.");
    let resp = hub.post_json(
        "/api/repos/create",
        Some(&MockHub::invalid_token()),
        &json!({"name": "x", "organization": "unidive"}),
    );
    assert_error(
        resp,
        401,
        None,
        "Invalid credentials in Authorization header",
    );
    // Preupload to a missing repo.
    let resp = hub.post_json(
        "/api/models/unidive/missing/preupload/main",
        Some(&hub.token(TokenKind::Write)),
        &json!({"files": []}),
    );
    assert_error(resp, 404, Some("RepoNotFound"), "Repository not found");
}

#[test]
fn bad_write_input_is_400() {
    let hub = Hub::start();
    let write = hub.token(TokenKind::Write);
    for name in ["../evil", "a--b", "-x", "x.", "", "a/b", "ü"] {
        let resp = hub.post_json(
            "/api/repos/create",
            Some(&write),
            &json!({"name": name, "organization": "unidive-student"}),
        );
        assert_eq!(resp.status(), 400, "{name:?}");
    }
    let resp = hub
        .http
        .post(hub.url("/api/repos/create"))
        .bearer_auth(&write)
        .body("{not json")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 400);
    for line in [
        r#"{"key":"file","value":{"content":"","path":"a","encoding":"base64"}}"#,
        r#"{"key":"header","value":{"summary":"x"}}
{"key":"file","value":{"content":"","path":"../a","encoding":"base64"}}"#,
        r#"{"key":"header","value":{"summary":"x"}}
{"key":"file","value":{"content":"!!","path":"a","encoding":"base64"}}"#,
        r#"{"key":"header","value":{"summary":"x"}}
{"key":"lfsFile","value":{"path":"a","algo":"sha256","oid":"00","size":1}}"#,
        "not json",
    ] {
        let resp = hub
            .http
            .post(hub.url("/api/models/unidive/tiny-bert/commit/main"))
            .bearer_auth(&write)
            .body(line)
            .send()
            .unwrap();
        assert_eq!(resp.status(), 400, "{line}");
    }
}

#[test]
fn oversized_bodies_are_413() {
    let hub = Hub::start();
    let big = vec![b' '; 2 * 1024 * 1024];
    let resp = hub
        .http
        .post(hub.url("/api/repos/create"))
        .bearer_auth(hub.token(TokenKind::Write))
        .body(big)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 413);
    assert!(h(resp.headers(), "x-error-message").contains("too large"));
}

#[test]
fn validate_yaml() {
    let hub = Hub::start();
    let ok = hub.post_json(
        "/api/validate-yaml",
        None,
        &json!({"content": "---\nlicense: mit\n---\n# hi\n", "repoType": "model"}),
    );
    assert_eq!(ok.status(), 200);
    assert_eq!(
        ok.json::<Value>().unwrap(),
        json!({"errors": [], "warnings": []})
    );
    let bad = hub.post_json(
        "/api/validate-yaml",
        None,
        &json!({"content": "---\nlicense: mit\n", "repoType": "model"}),
    );
    assert_eq!(bad.status(), 400);
    let body: Value = bad.json().unwrap();
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("not closed")
    );
}

#[test]
fn device_flow_approve_and_deny() {
    let hub = Hub::start();
    let start = |hub: &Hub| -> Value {
        hub.http
            .post(hub.url("/oauth/device"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("client_id=26be6b09-91c5-47da-9861-d2d2bb7a7e36")
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let poll = |hub: &Hub, code: &str| -> (u16, Value) {
        let r = hub
            .http
            .post(hub.url("/oauth/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code={code}&client_id=26be6b09-91c5-47da-9861-d2d2bb7a7e36"
            ))
            .send()
            .unwrap();
        (r.status().as_u16(), r.json().unwrap())
    };
    let info = start(&hub);
    let code = info["device_code"].as_str().unwrap().to_string();
    let user_code = info["user_code"].as_str().unwrap().to_string();
    assert_eq!(
        info["verification_uri"],
        format!("{}/login/device", hub.hub.url())
    );
    assert_eq!(info["interval"], 1);
    assert_eq!(info["expires_in"], 900);
    assert_eq!(poll(&hub, &code).1["error"], "authorization_pending");
    // The approval page shows the code; the admin HTTP API approves it.
    let page = hub
        .get(&format!("/login/device?user_code={user_code}"), None)
        .text()
        .unwrap();
    assert!(page.contains(&user_code));
    let r = hub.post_json(
        &format!("/__mock/device-codes/{user_code}/approve"),
        None,
        &json!({}),
    );
    assert_eq!(r.status(), 200);
    let (status, granted) = poll(&hub, &code);
    assert_eq!(status, 200);
    let token = granted["access_token"].as_str().unwrap().to_string();
    assert!(token.starts_with("hf_"));
    let me: Value = hub.get("/api/whoami-v2", Some(&token)).json().unwrap();
    assert_eq!(me["name"], "unidive-student");
    assert_eq!(me["auth"]["type"], "oauth");
    assert_eq!(poll(&hub, &code).1["error"], "invalid_grant");

    // Deny through the approval page form.
    let info = start(&hub);
    let code = info["device_code"].as_str().unwrap().to_string();
    let user_code = info["user_code"].as_str().unwrap().to_string();
    let r = hub
        .http
        .post(hub.url("/login/device"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("user_code={user_code}&action=deny"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(poll(&hub, &code).1["error"], "access_denied");
    assert_eq!(poll(&hub, "unknown").1["error"], "invalid_grant");
}

#[test]
fn cors_preflight_allows_authorization() {
    let hub = Hub::start();
    let resp = hub
        .http
        .request(reqwest::Method::OPTIONS, hub.url("/api/whoami-v2"))
        .header("origin", "http://localhost:3000")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    assert_eq!(h(resp.headers(), "access-control-allow-origin"), "*");
    assert!(
        h(resp.headers(), "access-control-allow-headers")
            .to_ascii_lowercase()
            .contains("authorization")
    );
    assert!(h(resp.headers(), "access-control-allow-methods").contains("GET"));
    // The actual request exposes the headers clients read.
    let resp = hub
        .http
        .get(hub.url("/api/whoami-v2"))
        .header("origin", "http://localhost:3000")
        .bearer_auth(hub.token(TokenKind::Read))
        .send()
        .unwrap();
    assert_eq!(h(resp.headers(), "access-control-allow-origin"), "*");
    let exposed = h(resp.headers(), "access-control-expose-headers").to_ascii_lowercase();
    for name in [
        "x-error-code",
        "x-error-message",
        "x-request-id",
        "x-repo-commit",
        "etag",
    ] {
        assert!(exposed.contains(name), "{name} in {exposed}");
    }
}

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
    let a = MockHub::start().unwrap();
    let b = MockHub::start().unwrap();
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
                write_repos: vec!["unidive/tiny-bert".into()],
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
fn unknown_paths_are_404_with_request_id() {
    let hub = Hub::start();
    for path in [
        "/",
        "/nope",
        "/api/nope",
        "/api/models",
        "/unidive/tiny-bert/blob/main/x",
    ] {
        let r = hub.get(path, None);
        assert_eq!(r.status(), 404, "{path}");
        assert!(!h(r.headers(), "x-request-id").is_empty());
    }
}

/// A small deterministic generator for the fuzz test.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

#[test]
fn fuzz_random_requests_never_5xx() {
    let hub = Hub::start();
    let mut rng = Rng(0x00C0_FFEE);
    let segments = [
        "api",
        "models",
        "datasets",
        "spaces",
        "unidive",
        "tiny-bert",
        "tiny-bert-private",
        "tiny-bert-gated",
        "resolve",
        "tree",
        "revision",
        "main",
        "preupload",
        "commit",
        "config.json",
        "whoami-v2",
        "repos",
        "create",
        "delete",
        "oauth",
        "token",
        "device",
        "login",
        "__mock",
        "requests",
        "tokens",
        "..",
        ".",
        "%2e%2e",
        "%2F",
        "%00",
        "%ff",
        "refs%2Fpr%2F1",
        "a b",
        "%",
        "~",
        "0000000000000000000000000000000000000000",
        "",
        "validate-yaml",
        "agent-harnesses",
        "approve",
    ];
    let methods = [
        reqwest::Method::GET,
        reqwest::Method::HEAD,
        reqwest::Method::POST,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
        reqwest::Method::OPTIONS,
        reqwest::Method::PATCH,
    ];
    let write = hub.token(TokenKind::Write);
    let auths = [
        None,
        Some(format!("Bearer {write}")),
        Some(format!("Bearer {}", hub.token(TokenKind::Read))),
        Some("Bearer".to_string()),
        Some("Basic x".to_string()),
        Some(format!("Bearer {}", MockHub::invalid_token())),
    ];
    let bodies: [&[u8]; 8] = [
        b"",
        b"{}",
        b"{\"name\":\"fz\",\"organization\":\"unidive-student\"}",
        b"{\"files\":[{\"path\":\"x\",\"sample\":\"\",\"size\":0}]}",
        b"{\"key\":\"header\",\"value\":{\"summary\":\"s\"}}\n{\"key\":\"file\",\"value\":{\"content\":\"eA==\",\"path\":\"f.txt\",\"encoding\":\"base64\"}}\n",
        b"\xff\xfe\x00garbage",
        b"grant_type=urn:ietf:params:oauth:grant-type:device_code&device_code=x",
        b"[1,2,3]",
    ];
    let ranges = [
        "bytes=0-",
        "bytes=5-2",
        "bytes=-0",
        "bytes=99999999999999999999-",
        "x",
    ];
    for i in 0..3000 {
        let n = 1 + rng.next() % 7;
        let mut path = String::new();
        for _ in 0..n {
            path.push('/');
            let seg: &&str = rng.pick(&segments);
            path.push_str(seg);
        }
        if rng.next().is_multiple_of(5) {
            path.push_str("?recursive=true&cursor=x&create_pr=1");
        }
        let method = rng.pick(&methods).clone();
        let mut req = hub.http.request(method.clone(), hub.url(&path));
        if let Some(a) = rng.pick(&auths) {
            req = req.header("authorization", a.as_str());
        }
        if rng.next().is_multiple_of(4) {
            req = req.header("range", *rng.pick(&ranges));
        }
        if rng.next().is_multiple_of(3) {
            req = req.header("origin", "http://example.com");
        }
        let body = rng.pick(&bodies).to_vec();
        let resp = req
            .body(body)
            .send()
            .unwrap_or_else(|e| panic!("#{i} {method} {path}: {e}"));
        let status = resp.status();
        assert!(!status.is_server_error(), "#{i} {method} {path}: {status}");
    }
    // The server is still healthy.
    assert_eq!(hub.get("/api/whoami-v2", Some(&write)).status(), 200);
}

/// Serves a seeded mock for manual checks with the real clients:
/// `MOCK_HUB_PORT=8765 cargo test --test testsuite hub::serve_for_manual_checks -- --ignored --nocapture`
#[test]
#[ignore = "manual: serves until killed"]
fn serve_for_manual_checks() {
    let port: u16 = std::env::var("MOCK_HUB_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let hub = mdbook_hubcheck::hub::MockHub::start_with(
        mdbook_hubcheck::hub::World::seeded(),
        std::net::SocketAddr::from(([127, 0, 0, 1], port)),
    )
    .unwrap();
    println!(
        "{}",
        serde_json::to_string(&json!({"url": hub.url(), "tokens": hub.tokens()})).unwrap()
    );
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
