//! Writing: create, preupload, commit, validate-yaml (`crates/mock-hub/src/commit.rs`).

use super::*;

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
        format!("{}/unidive-student/new-model", hub.public_base())
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
        format!("{}/datasets/unidive-student/data", hub.public_base())
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
        format!(
            "{}/unidive-student/new-model/commit/{oid}",
            hub.public_base()
        )
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
        format!(
            "{}/unidive-student/new-model/discussions/1",
            hub.public_base()
        )
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

/// Posts an NDJSON commit body to `main` of `repo` with `token`.
pub(super) fn post_commit(hub: &Hub, repo: &str, token: &str, lines: &[Value]) -> Response {
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    hub.http
        .post(hub.url(&format!("/api/models/{repo}/commit/main")))
        .bearer_auth(token)
        .body(body)
        .send()
        .unwrap()
}

/// A `file` line with utf-8 content.
fn file_line(path: &str, content: &str) -> Value {
    json!({"key": "file", "value": {"path": path, "content": content, "encoding": "utf-8"}})
}

#[test]
fn paths_follow_the_hubs_rules() {
    let hub = Hub::start();
    let write = hub.token(TokenKind::Write);
    let header = json!({"key": "header", "value": {"summary": "paths"}});
    for bad in ["..\\evil.txt", "../evil.txt", "a/../b"] {
        assert_error(
            post_commit(
                &hub,
                "unidive/tiny-bert",
                &write,
                &[header.clone(), file_line(bad, "x")],
            ),
            422,
            None,
            "Invalid path",
        );
        let pre = hub.post_json(
            "/api/models/unidive/tiny-bert/preupload/main",
            Some(&write),
            &json!({"files": [{"path": bad, "sample": "", "size": 1}]}),
        );
        assert_error(pre, 422, None, "Invalid path");
    }
    // A backslash inside a name is an ordinary character, and downloads round-trip it.
    let literal = "folder/..\\..\\file";
    let r = post_commit(
        &hub,
        "unidive/tiny-bert",
        &write,
        &[header.clone(), file_line(literal, "literal\n")],
    );
    assert_eq!(r.status(), 200);
    let r = hub.get(
        "/unidive/tiny-bert/resolve/main/folder/..%5C..%5Cfile",
        None,
    );
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().unwrap(), "literal\n");
    let tree: Value = hub
        .get("/api/models/unidive/tiny-bert/tree/main/folder", None)
        .json()
        .unwrap();
    assert_eq!(tree[0]["path"], literal);
    // A deletedFile naming a folder deletes the folder.
    let r = post_commit(
        &hub,
        "unidive/tiny-bert",
        &write,
        &[
            header.clone(),
            json!({"key": "deletedFile", "value": {"path": "folder"}}),
        ],
    );
    assert_eq!(r.status(), 200);
    assert_error(
        hub.get("/api/models/unidive/tiny-bert/tree/main/folder", None),
        404,
        Some("EntryNotFound"),
        "Entry not found",
    );
}

#[test]
fn a_stale_parent_commit_is_412_with_the_hubs_text() {
    let hub = Hub::start();
    let write = hub.token(TokenKind::Write);
    let stale = hub
        .get("/api/models/unidive/tiny-bert", None)
        .json::<Value>()
        .unwrap()["sha"]
        .as_str()
        .unwrap()
        .to_string();
    let header =
        |parent: &str| json!({"key": "header", "value": {"summary": "s", "parentCommit": parent}});
    assert_eq!(
        post_commit(
            &hub,
            "unidive/tiny-bert",
            &write,
            &[header(&stale), file_line("a.txt", "a")]
        )
        .status(),
        200
    );
    assert_error(
        post_commit(
            &hub,
            "unidive/tiny-bert",
            &write,
            &[header(&stale), file_line("b.txt", "b")],
        ),
        412,
        None,
        "The branch was updated since you opened this page. Please refresh and try again.",
    );
}

#[test]
fn preupload_answers_should_ignore_from_the_sent_or_stored_gitignore() {
    let hub = Hub::start();
    let write = hub.token(TokenKind::Write);
    let files = json!([
        {"path": "keep.txt", "sample": "", "size": 1},
        {"path": "debug.log", "sample": "", "size": 1},
        {"path": "cache/x.bin", "sample": "", "size": 1},
    ]);
    let ignored = |answer: Value| -> Vec<bool> {
        answer["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["shouldIgnore"].as_bool().unwrap())
            .collect()
    };
    let pre = "/api/models/unidive/tiny-bert/preupload/main";
    let none: Value = hub
        .post_json(pre, Some(&write), &json!({"files": files}))
        .json()
        .unwrap();
    assert_eq!(ignored(none), [false, false, false]);
    let sent: Value = hub
        .post_json(
            pre,
            Some(&write),
            &json!({"files": files, "gitIgnore": "*.log\ncache/\n"}),
        )
        .json()
        .unwrap();
    assert_eq!(ignored(sent), [false, true, true]);
    let header = json!({"key": "header", "value": {"summary": "ignore logs"}});
    assert_eq!(
        post_commit(
            &hub,
            "unidive/tiny-bert",
            &write,
            &[header, file_line(".gitignore", "*.log\n")]
        )
        .status(),
        200
    );
    let stored: Value = hub
        .post_json(pre, Some(&write), &json!({"files": files}))
        .json()
        .unwrap();
    assert_eq!(ignored(stored), [false, true, false]);
}
