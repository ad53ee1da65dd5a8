//! Listing repositories and paths (`crates/mock-hub/src/listing.rs`).

use super::*;

/// The ids of a listing.
fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn list_models_filters_by_author_and_search_and_hides_private_repos() {
    let hub = Hub::start();
    let read = hub.token(TokenKind::Read);
    let all: Value = hub.get("/api/models", None).json().unwrap();
    assert_eq!(ids(&all), ["unidive/tiny-bert", "unidive/tiny-bert-gated"]);
    assert_eq!(all[1]["gated"], "manual");
    assert_eq!(all[0]["private"], false);
    let mine: Value = hub
        .get("/api/models?author=unidive", Some(&read))
        .json()
        .unwrap();
    assert_eq!(
        ids(&mine),
        [
            "unidive/tiny-bert",
            "unidive/tiny-bert-gated",
            "unidive/tiny-bert-private"
        ]
    );
    let found: Value = hub
        .get("/api/models?search=PRIVATE", Some(&read))
        .json()
        .unwrap();
    assert_eq!(ids(&found), ["unidive/tiny-bert-private"]);
    let none: Value = hub
        .get("/api/models?author=someone-else", Some(&read))
        .json()
        .unwrap();
    assert_eq!(none, json!([]));
    let limited: Value = hub.get("/api/models?limit=1", None).json().unwrap();
    assert_eq!(ids(&limited), ["unidive/tiny-bert"]);
    assert_eq!(
        hub.get("/api/datasets", None).json::<Value>().unwrap(),
        json!([])
    );
    assert_error(
        hub.get("/api/models", Some(&MockHub::invalid_token())),
        401,
        None,
        "Invalid credentials in Authorization header",
    );
}

#[test]
fn paths_info_describes_files_and_folders_with_last_commits() {
    let hub = Hub::start();
    let first = super::refs::commit_file(&hub, "unidive/tiny-bert", "main", "docs/a.md", "a\n");
    let second = super::refs::commit_file(&hub, "unidive/tiny-bert", "main", "notes.txt", "n\n");
    let url = hub.url("/api/models/unidive/tiny-bert/paths-info/main");
    let resp = hub
        .http
        .post(&url)
        .form(&[
            ("paths", "docs"),
            ("paths", "model.safetensors"),
            ("paths", "missing.txt"),
            ("paths", "notes.txt"),
            ("expand", "True"),
        ])
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let info: Value = resp.json().unwrap();
    let info = info.as_array().unwrap();
    assert_eq!(info.len(), 3, "{info:?}");
    let by_path = |p: &str| info.iter().find(|e| e["path"] == p).unwrap().clone();
    let docs = by_path("docs");
    assert_eq!(docs["type"], "directory");
    assert_eq!(docs["lastCommit"]["id"], first.as_str());
    assert_eq!(docs["lastCommit"]["title"], "Add docs/a.md");
    let weights = by_path("model.safetensors");
    assert_eq!(weights["type"], "file");
    assert!(weights["lfs"]["oid"].as_str().unwrap().len() == 64);
    assert_eq!(weights["lastCommit"]["title"], "Add files");
    assert_eq!(by_path("notes.txt")["lastCommit"]["id"], second.as_str());
    // Without expand there is no lastCommit; at an older commit the new file is absent.
    let plain: Value = hub
        .http
        .post(&url)
        .form(&[("paths", "notes.txt")])
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(plain[0].get("lastCommit").is_none());
    let old: Value = hub
        .http
        .post(hub.url(&format!("/api/models/unidive/tiny-bert/paths-info/{first}")))
        .form(&[("paths", "notes.txt")])
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(old, json!([]));
    assert_error(
        hub.http
            .post(hub.url("/api/models/unidive/tiny-bert-private/paths-info/main"))
            .form(&[("paths", "x")])
            .send()
            .unwrap(),
        401,
        Some("RepoNotFound"),
        "Repository not found",
    );
}
