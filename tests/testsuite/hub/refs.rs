//! Branches, tags and history (`crates/mock-hub/src/refs.rs`), and reading at any branch, tag or commit.

use super::*;

/// Commits one text file on `rev` with a write token; returns the new commit id.
pub(super) fn commit_file(hub: &Hub, repo: &str, rev: &str, path: &str, text: &str) -> String {
    use base64::Engine as _;
    let body = format!(
        "{}\n{}\n",
        json!({"key": "header", "value": {"summary": format!("Add {path}")}}),
        json!({"key": "file", "value": {"path": path, "encoding": "base64",
            "content": base64::engine::general_purpose::STANDARD.encode(text)}})
    );
    let resp = hub
        .http
        .post(hub.url(&format!("/api/models/{repo}/commit/{rev}")))
        .bearer_auth(hub.token(TokenKind::Write))
        .body(body)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json::<Value>().unwrap()["commitOid"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn branches_and_tags_are_created_listed_read_and_deleted() {
    let hub = Hub::start();
    let write = hub.token(TokenKind::Write);
    let base = "/api/models/unidive/tiny-bert";
    let main_sha = hub.get(base, None).json::<Value>().unwrap()["sha"]
        .as_str()
        .unwrap()
        .to_string();
    let r = hub.post_json(&format!("{base}/branch/dev"), Some(&write), &json!({}));
    assert_eq!(r.status(), 200);
    assert_error(
        hub.post_json(&format!("{base}/branch/dev"), Some(&write), &json!({})),
        409,
        None,
        "Reference already exists",
    );
    let dev_sha = commit_file(&hub, "unidive/tiny-bert", "dev", "dev.txt", "on dev\n");
    // main did not move; dev did.
    assert_eq!(
        hub.get(base, None).json::<Value>().unwrap()["sha"],
        main_sha.as_str()
    );
    let info: Value = hub
        .get(&format!("{base}/revision/dev"), None)
        .json()
        .unwrap();
    assert_eq!(info["sha"], dev_sha.as_str());
    // A tag on dev, then downloads and trees at branch, tag and full commit id.
    let r = hub.post_json(
        &format!("{base}/tag/dev"),
        Some(&write),
        &json!({"tag": "v1.0", "message": "first"}),
    );
    assert_eq!(r.status(), 200);
    assert_error(
        hub.post_json(
            &format!("{base}/tag/main"),
            Some(&write),
            &json!({"tag": "v1.0"}),
        ),
        409,
        None,
        "Reference already exists",
    );
    for rev in ["dev", "v1.0", "refs%2Ftags%2Fv1.0", dev_sha.as_str()] {
        let r = hub.get(&format!("/unidive/tiny-bert/resolve/{rev}/dev.txt"), None);
        assert_eq!(r.status(), 200, "{rev}");
        assert_eq!(h(r.headers(), "x-repo-commit"), dev_sha);
        assert_eq!(r.text().unwrap(), "on dev\n");
        let tree: Value = hub.get(&format!("{base}/tree/{rev}"), None).json().unwrap();
        assert!(
            tree.as_array()
                .unwrap()
                .iter()
                .any(|e| e["path"] == "dev.txt"),
            "{rev}"
        );
    }
    assert_error(
        hub.get("/unidive/tiny-bert/resolve/main/dev.txt", None),
        404,
        Some("EntryNotFound"),
        "Entry not found",
    );
    // Branch from a starting point; refs list everything; PRs only on request.
    let r = hub.post_json(
        &format!("{base}/branch/old"),
        Some(&write),
        &json!({"startingPoint": main_sha}),
    );
    assert_eq!(r.status(), 200);
    assert_error(
        hub.post_json(
            &format!("{base}/branch/x"),
            Some(&write),
            &json!({"startingPoint": "nope"}),
        ),
        404,
        Some("RevisionNotFound"),
        "Invalid rev id: nope",
    );
    let refs: Value = hub.get(&format!("{base}/refs"), None).json().unwrap();
    let names: Vec<&str> = refs["branches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["dev", "main", "old"]);
    assert_eq!(refs["branches"][0]["ref"], "refs/heads/dev");
    assert_eq!(refs["branches"][2]["targetCommit"], main_sha.as_str());
    assert_eq!(
        refs["tags"],
        json!([{"name": "v1.0", "ref": "refs/tags/v1.0", "targetCommit": dev_sha}])
    );
    assert_eq!(refs["converts"], json!([]));
    assert!(refs.get("pullRequests").is_none());
    let refs: Value = hub
        .get(&format!("{base}/refs?include_prs=1"), None)
        .json()
        .unwrap();
    assert_eq!(refs["pullRequests"], json!([]));
    // Deleting.
    let del = |path: &str, token: &str| {
        hub.http
            .delete(hub.url(path))
            .bearer_auth(token)
            .send()
            .unwrap()
    };
    assert_eq!(del(&format!("{base}/tag/v1.0"), &write).status(), 200);
    assert_error(
        del(&format!("{base}/tag/v1.0"), &write),
        404,
        Some("RevisionNotFound"),
        "Invalid rev id: v1.0",
    );
    assert_eq!(del(&format!("{base}/branch/dev"), &write).status(), 200);
    assert_error(
        hub.get(&format!("{base}/revision/dev"), None),
        404,
        Some("RevisionNotFound"),
        "Invalid rev id: dev",
    );
    assert_eq!(del(&format!("{base}/branch/main"), &write).status(), 400);
    // A read token may not touch refs; anonymous callers and invisible repos get the usual errors.
    let read = hub.token(TokenKind::Read);
    assert_error(
        hub.post_json(&format!("{base}/branch/r"), Some(&read), &json!({})),
        403,
        None,
        "You don't have write access to unidive/tiny-bert",
    );
    assert_error(
        hub.post_json(&format!("{base}/branch/r"), None, &json!({})),
        401,
        None,
        "Invalid username or password.",
    );
    assert_error(
        hub.post_json(
            "/api/models/unidive/tiny-bert-private/branch/r",
            None,
            &json!({}),
        ),
        401,
        Some("RepoNotFound"),
        "Repository not found",
    );
}

#[test]
fn commits_are_listed_newest_first_and_paged() {
    let hub = Hub::start();
    let mut ids = Vec::new();
    for i in 0..55 {
        ids.push(commit_file(
            &hub,
            "unidive/tiny-bert",
            "main",
            "n.txt",
            &format!("{i}\n"),
        ));
    }
    let r = hub.get("/api/models/unidive/tiny-bert/commits/main", None);
    assert_eq!(r.status(), 200);
    let link = h(r.headers(), "link").to_string();
    assert!(
        link.ends_with("/api/models/unidive/tiny-bert/commits/main?p=1>; rel=\"next\""),
        "{link}"
    );
    let page: Value = r.json().unwrap();
    let page = page.as_array().unwrap();
    assert_eq!(page.len(), 50);
    assert_eq!(page[0]["id"], ids[54].as_str());
    assert_eq!(page[0]["title"], "Add n.txt");
    assert_eq!(page[0]["authors"][0]["user"], "unidive-student");
    let r = hub.get("/api/models/unidive/tiny-bert/commits/main?p=1", None);
    assert!(h(r.headers(), "link").is_empty());
    let rest: Value = r.json().unwrap();
    let rest = rest.as_array().unwrap();
    // 55 new commits + "Add files" + "initial commit".
    assert_eq!(rest.len(), 7);
    assert_eq!(rest[6]["title"], "initial commit");
    assert_eq!(rest[6]["authors"][0]["user"], "system");
    assert_error(
        hub.get("/api/models/unidive/tiny-bert/commits/nope", None),
        404,
        Some("RevisionNotFound"),
        "Invalid rev id: nope",
    );
}
