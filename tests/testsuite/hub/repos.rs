//! Repository info and tree listings, create and delete (`crates/mock-hub/src/repos.rs`).

use super::*;

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

/// Regression: `model_info(.., files_metadata=True)` sends `?blobs=True`; the mock ignored it, so
/// the client showed `size=None`, `blob_id=None` and `lfs=None` for every file.

#[test]
fn repo_info_with_blobs_gives_sizes_blob_ids_and_lfs() {
    let hub = Hub::start();
    let plain: Value = hub
        .get("/api/models/unidive/tiny-bert", None)
        .json()
        .unwrap();
    let plain_cfg = plain["siblings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["rfilename"] == "config.json")
        .unwrap()
        .clone();
    assert_eq!(plain_cfg, json!({"rfilename": "config.json"}));

    let tree: Vec<Value> = hub
        .get(
            "/api/models/unidive/tiny-bert/tree/main?recursive=true",
            None,
        )
        .json()
        .unwrap();
    let sha = plain["sha"].as_str().unwrap();
    for path in [
        "/api/models/unidive/tiny-bert?blobs=True".to_string(),
        format!("/api/models/unidive/tiny-bert/revision/{sha}?blobs=true"),
    ] {
        let info: Value = hub.get(&path, None).json().unwrap();
        let siblings = info["siblings"].as_array().unwrap();
        assert_eq!(siblings.len(), tree.len(), "{path}");
        for entry in &tree {
            let sibling = siblings
                .iter()
                .find(|s| s["rfilename"] == entry["path"])
                .unwrap_or_else(|| panic!("{} in {path}", entry["path"]));
            assert_eq!(sibling["blobId"], entry["oid"], "{path}");
            assert_eq!(sibling["size"], entry["size"], "{path}");
            match entry.get("lfs") {
                Some(lfs) => {
                    assert_eq!(sibling["lfs"]["sha256"], lfs["oid"]);
                    assert_eq!(sibling["lfs"]["size"], lfs["size"]);
                    assert_eq!(sibling["lfs"]["pointerSize"], lfs["pointerSize"]);
                }
                None => assert!(sibling.get("lfs").is_none(), "{sibling}"),
            }
        }
    }
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
