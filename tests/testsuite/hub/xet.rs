//! Xet uploads: preupload's `uploadMode`, the Xet token endpoints, the mock's CAS (`/cas/...`)
//! and `lfsFile` commit lines, over HTTP with the xorb and shard hf_xet 1.8.0 made
//! (`crates/mock-hub/tests/fixtures/xet/`, the mock Hub crate's own unit tests read them too), then with the real clients (`huggingface_hub.upload_file`,
//! `datasets.Dataset.push_to_hub`) with hf_xet installed and `HF_HUB_DISABLE_XET` unset.

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::*;
use crate::prelude::repo_root;

/// The Xet fixtures, kept in the mock Hub crate beside its parser's and store's tests.
fn xet_fixtures() -> std::path::PathBuf {
    repo_root().join("crates/mock-hub/tests/fixtures/xet")
}

/// The xorb of the fixture files, named by its hash.
const XORB: &str = "3ae58bc9c11582c3d5c9b8fe66cf8691aa0b5e00fa234b3e4cb73ce8a3504e23";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(xet_fixtures().join(name)).unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The upload mode preupload answers for one file.
fn mode(hub: &Hub, token: &str, repo: &str, path: &str, sample: &[u8], size: u64) -> String {
    let sample = base64::engine::general_purpose::STANDARD.encode(sample);
    let resp = hub.post_json(
        &format!("/api/models/{repo}/preupload/main"),
        Some(token),
        &json!({"files": [{"path": path, "sample": sample, "size": size}]}),
    );
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().unwrap();
    body["files"][0]["uploadMode"].as_str().unwrap().to_string()
}

/// Creates `unidive-student/{name}` with the write token.
fn create(hub: &Hub, name: &str, repo_type: &str) {
    let write = hub.token(TokenKind::Write);
    let resp = hub.post_json(
        "/api/repos/create",
        Some(&write),
        &json!({"name": name, "organization": "unidive-student", "type": repo_type}),
    );
    assert_eq!(resp.status(), 200, "{}", resp.text().unwrap());
}

#[test]
fn preupload_sends_binary_big_and_gitattributes_files_to_lfs() {
    let hub = Hub::start();
    let write = hub.token(TokenKind::Write);
    create(&hub, "modes", "model");
    let repo = "unidive-student/modes";
    let cases: [(&str, &[u8], u64, &str); 9] = [
        ("notes.txt", b"hello\n", 6, "regular"),
        ("README.md", "héllo".as_bytes(), 6, "regular"),
        ("blob.dat", b"\x00\x01\x02", 3, "lfs"),
        ("latin1.txt", b"caf\xe9", 4, "lfs"),
        ("big.txt", b"text", 10_485_761, "lfs"),
        ("ok.txt", b"text", 10_485_760, "regular"),
        // The new repository's .gitattributes (the Hub's default) names these.
        ("data/train.parquet", b"PAR1", 4, "lfs"),
        ("model.safetensors", b"{}", 2, "lfs"),
        ("logs/events.out.tfevents.1", b"x", 1, "lfs"),
    ];
    for (path, sample, size, expected) in cases {
        assert_eq!(
            mode(&hub, &write, repo, path, sample, size),
            expected,
            "{path}"
        );
    }
    // A repository's own .gitattributes decides, at the revision asked for.
    let attributes = "*.txt filter=lfs diff=lfs merge=lfs -text\n";
    let commit = [
        json!({"key": "header", "value": {"summary": "Track txt"}}),
        json!({"key": "file", "value": {"path": ".gitattributes", "content": attributes}}),
    ];
    assert_eq!(
        super::commit::post_commit(&hub, repo, &write, &commit).status(),
        200
    );
    assert_eq!(mode(&hub, &write, repo, "notes.txt", b"hello\n", 6), "lfs");
    assert_eq!(
        mode(&hub, &write, repo, "data/train.parquet", b"PAR1", 4),
        "regular"
    );
}

#[test]
fn xet_tokens_follow_the_write_rules_and_carry_the_cas_url() {
    let hub = Hub::start();
    let write = hub.token(TokenKind::Write);
    let read = hub.token(TokenKind::Read);
    create(&hub, "tokens", "model");
    let path = "/api/models/unidive-student/tokens/xet-write-token/main";
    let refused = hub.get(path, Some(&read));
    assert_eq!(refused.status(), 403);
    assert_eq!(
        refused.headers()["x-error-message"],
        "Forbidden: pass `create_pr=1` as a query parameter to create a Pull Request"
    );
    // Not even for a pull request, as with preupload and commit.
    assert_eq!(
        hub.get(&format!("{path}?create_pr=1"), Some(&read))
            .status(),
        403
    );
    assert_eq!(hub.get(path, None).status(), 401);
    let resp = hub.get(path, Some(&write));
    assert_eq!(resp.status(), 200);
    let headers = resp.headers().clone();
    let body: Value = resp.json().unwrap();
    let cas = format!("{}/cas", hub.public_base());
    assert_eq!(headers["x-xet-cas-url"], cas.as_str());
    assert_eq!(body["casUrl"], cas.as_str());
    assert_eq!(
        headers["x-xet-access-token"].to_str().unwrap(),
        body["accessToken"].as_str().unwrap()
    );
    assert_eq!(
        headers["x-xet-token-expiration"].to_str().unwrap(),
        body["exp"].to_string()
    );
    // With create_pr the client names no revision.
    assert_eq!(
        hub.get(
            "/api/models/unidive-student/tokens/xet-write-token/None?create_pr=1",
            Some(&write)
        )
        .status(),
        200
    );
    // Read tokens: whoever may read the files, gates included.
    let gated = hub.get(
        "/api/models/unidive/tiny-bert-gated/xet-read-token/main",
        Some(&read),
    );
    assert_eq!(gated.status(), 403);
    assert_eq!(gated.headers()["x-error-code"], "GatedRepo");
    assert_eq!(
        hub.get(
            "/api/models/unidive/tiny-bert/xet-read-token/main",
            Some(&read)
        )
        .status(),
        200
    );
    assert_eq!(
        hub.get(
            "/api/models/unidive/tiny-bert-private/xet-read-token/main",
            None
        )
        .status(),
        401
    );
}

/// A CAS token from the write-token endpoint (write) or the read-token one.
fn cas_token(hub: &Hub, repo: &str, write: bool) -> String {
    let which = if write { "write" } else { "read" };
    let body: Value = hub
        .get(
            &format!("/api/models/{repo}/xet-{which}-token/main"),
            Some(&hub.token(TokenKind::Write)),
        )
        .json()
        .unwrap();
    body["accessToken"].as_str().unwrap().to_string()
}

fn cas_post(hub: &Hub, path: &str, token: Option<&str>, body: Vec<u8>) -> Response {
    let mut req = hub.http.post(hub.url(&format!("/cas{path}"))).body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().unwrap()
}

#[test]
fn the_cas_checks_xorbs_and_shards_and_commits_take_their_files() {
    let hub = Hub::start();
    let write = hub.token(TokenKind::Write);
    create(&hub, "cas", "model");
    let repo = "unidive-student/cas";
    let token = cas_token(&hub, repo, true);
    let reader = cas_token(&hub, repo, false);
    let xorb = fixture(&format!("xorb-{XORB}"));
    let shard = fixture("shard");
    let xorb_path = format!("/v1/xorbs/default/{XORB}");

    // Tokens: none or unknown is 401, a read grant cannot upload.
    assert_eq!(cas_post(&hub, &xorb_path, None, xorb.clone()).status(), 401);
    assert_eq!(
        cas_post(&hub, &xorb_path, Some(&write), xorb.clone()).status(),
        401,
        "a Hub token is no CAS token"
    );
    assert_eq!(
        cas_post(&hub, &xorb_path, Some(&reader), xorb.clone()).status(),
        403
    );
    // The dedupe query knows no chunk.
    let query = hub
        .http
        .get(hub.url(&format!("/cas/v1/chunks/default/{XORB}")))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(query.status(), 404);
    // A shard before its xorb, a xorb under the wrong name: refused with the reason.
    let early = cas_post(&hub, "/v1/shards", Some(&token), shard.clone());
    assert_eq!(early.status(), 400);
    assert!(early.text().unwrap().contains("was not uploaded"));
    let wrong = cas_post(
        &hub,
        &format!("/v1/xorbs/default/{}", "0".repeat(64)),
        Some(&token),
        xorb.clone(),
    );
    assert_eq!(wrong.status(), 400);
    assert!(wrong.text().unwrap().contains("xorb hash mismatch"));

    let first = cas_post(&hub, &xorb_path, Some(&token), xorb.clone());
    assert_eq!(first.status(), 200);
    assert_eq!(
        first.json::<Value>().unwrap(),
        json!({"was_inserted": true})
    );
    let again = cas_post(&hub, &xorb_path, Some(&token), xorb);
    assert_eq!(
        again.json::<Value>().unwrap(),
        json!({"was_inserted": false})
    );
    let stored = cas_post(&hub, "/v1/shards", Some(&token), shard);
    assert_eq!(stored.status(), 200);
    assert_eq!(stored.json::<Value>().unwrap(), json!({"result": 1}));

    // The commit names the files by sha256; they are then LFS files like any other.
    let floats = fixture("floats.bin");
    let text = fixture("text.txt");
    let lines = [
        json!({"key": "header", "value": {"summary": "Add via Xet"}}),
        json!({"key": "lfsFile", "value": {"path": "floats.bin", "algo": "sha256",
            "oid": sha256_hex(&floats), "size": floats.len()}}),
        json!({"key": "lfsFile", "value": {"path": "docs/text.txt", "algo": "sha256",
            "oid": sha256_hex(&text)}}),
    ];
    let resp = super::commit::post_commit(&hub, repo, &write, &lines);
    assert_eq!(resp.status(), 200, "{}", resp.text().unwrap());
    let got = hub.get(&format!("/{repo}/resolve/main/floats.bin"), None);
    assert_eq!(got.status(), 200);
    assert_eq!(
        got.headers()["x-linked-etag"].to_str().unwrap(),
        format!("\"{}\"", sha256_hex(&floats))
    );
    assert!(
        got.headers().get("x-xet-hash").is_none(),
        "downloads stay plain HTTP"
    );
    assert_eq!(got.bytes().unwrap().as_ref(), floats.as_slice());
    let tree: Value = hub
        .get(&format!("/api/models/{repo}/tree/main/docs"), None)
        .json()
        .unwrap();
    assert_eq!(tree[0]["lfs"]["oid"], sha256_hex(&text).as_str());
    assert_eq!(tree[0]["size"], text.len());
}

#[test]
fn lfs_lines_without_uploaded_content_and_the_lfs_batch_api_are_refused_by_name() {
    let hub = Hub::start();
    let write = hub.token(TokenKind::Write);
    create(&hub, "missing", "model");
    let lines = [
        json!({"key": "header", "value": {"summary": "Dangling"}}),
        json!({"key": "lfsFile", "value": {"path": "a.bin", "algo": "sha256",
            "oid": "ab".repeat(32), "size": 3}}),
        json!({"key": "lfsFile", "value": {"path": "b.bin", "algo": "sha256",
            "oid": "cd".repeat(32), "size": 3}}),
    ];
    let resp = super::commit::post_commit(&hub, "unidive-student/missing", &write, &lines);
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.headers()["x-error-message"],
        "Your push was rejected because an LFS pointer pointed to a file that does not exist. \
         For instance, this can happen if you used git push --no-verify to push your changes. \
         Offending file: - a.bin - b.bin"
    );
    let batch = hub.post_json(
        "/unidive-student/missing.git/info/lfs/objects/batch",
        Some(&write),
        &json!({"operation": "upload", "objects": []}),
    );
    assert_eq!(batch.status(), 501);
    let text = batch.headers()["x-error-message"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(text.contains("Git LFS batch API"), "{text}");
    assert!(text.contains("io.BufferedIOBase"), "{text}");
}

/// Runs `client_check.py which` with the pinned Python as the holder of `token`, without
/// `HF_HUB_DISABLE_XET`; its stdout (the check fails on a non-zero exit).
fn client_check(hub: &Hub, token: &str, which: &str) -> String {
    client_check_with(hub, token, &[which])
}

/// [`client_check`] with more arguments after the mode.
fn client_check_with(hub: &Hub, token: &str, args: &[&str]) -> String {
    let script = xet_fixtures().join("client_check.py");
    run_client_script(&script.to_string_lossy(), args, hub.hub.url(), token, &[])
}

/// The requests whose path contains `part`, as `METHOD path status`.
fn logged(hub: &Hub, part: &str) -> Vec<String> {
    hub.hub
        .request_log()
        .into_iter()
        .filter(|r| r.path.contains(part))
        .map(|r| format!("{} {} {}", r.method, r.path, r.status))
        .collect()
}

/// Asserts the log shows a whole Xet upload for `repo` (`models/ns/name`): the write token with
/// the Hub token, then xorb and shard uploads to the CAS.
#[track_caller]
fn assert_went_through_xet(hub: &Hub, repo: &str) {
    let token_calls: Vec<_> = hub
        .hub
        .request_log()
        .into_iter()
        .filter(|r| r.path.starts_with(&format!("/api/{repo}/xet-write-token/")))
        .collect();
    assert!(
        !token_calls.is_empty(),
        "no xet-write-token call for {repo}"
    );
    assert!(token_calls.iter().all(|r| r.status == 200
        && matches!(
            &r.auth,
            RequestAuth::Token {
                kind: TokenKind::Write,
                ..
            }
        )));
    assert!(
        logged(hub, "/cas/v1/xorbs/default/")
            .iter()
            .any(|l| l.starts_with("POST ") && l.ends_with(" 200")),
        "{:?}",
        logged(hub, "/cas/")
    );
    assert!(logged(hub, "/cas/v1/shards").contains(&"POST /cas/v1/shards 200".to_string()));
}

#[test]
fn upload_file_goes_through_xet_and_downloads_back_byte_for_byte() {
    let hub = Hub::start();
    let out = client_check(&hub, &hub.token(TokenKind::Write), "upload");
    for line in [
        "weights/blob.dat: same bytes True, 16389 bytes",
        "data/train.parquet: same bytes True, 9008 bytes",
        "weights/blob.dat: lfs sha256 matches True",
        "data/train.parquet: lfs sha256 matches True",
        // Preupload gives the remote file's sha256 as its oid, so the client skips it.
        "same bytes again: new commits 0",
    ] {
        assert!(out.contains(line), "missing {line:?} in:\n{out}");
    }
    assert_went_through_xet(&hub, "models/unidive-student/xet-model");
    // Both files were committed as lfsFile lines (none inline), after two preuploads saying lfs.
    assert_eq!(
        logged(&hub, "/commit/main"),
        vec![
            "POST /api/models/unidive-student/xet-model/commit/main 200".to_string(),
            "POST /api/models/unidive-student/xet-model/commit/main 200".to_string(),
        ]
    );
}

#[test]
fn a_binary_file_object_names_the_missing_lfs_batch_api() {
    let hub = Hub::start();
    let out = client_check(&hub, &hub.token(TokenKind::Write), "buffered");
    assert!(out.contains("501"), "{out}");
    assert!(
        out.contains("The mock Hub does not implement the Git LFS batch API"),
        "{out}"
    );
}

#[test]
fn push_to_hub_with_a_write_token_works_and_load_dataset_reads_it_back() {
    let hub = Hub::start();
    let out = client_check(&hub, &hub.token(TokenKind::Write), "push");
    assert!(out.contains("rows: ['a', 'b']"), "{out}");
    assert_went_through_xet(&hub, "datasets/unidive-student/my-first-dataset");
    let files: Value = hub
        .get(
            "/api/datasets/unidive-student/my-first-dataset/tree/main/data",
            None,
        )
        .json()
        .unwrap();
    assert_eq!(files[0]["path"], "data/train-00000-of-00001.parquet");
    assert!(files[0]["lfs"]["oid"].is_string(), "{files}");
}

#[test]
fn push_to_hub_with_a_read_token_fails_with_the_hubs_403s() {
    let hub = Hub::start();
    let out = client_check(&hub, &hub.token(TokenKind::Read), "push-read");
    assert!(
        out.contains(
            "403 Forbidden: You don't have the rights to create a dataset under the namespace \"unidive-student\"."
        ),
        "{out}"
    );
    // Into a dataset that exists, the refusal is preupload's.
    create(&hub, "existing", "dataset");
    let out = client_check_with(
        &hub,
        &hub.token(TokenKind::Read),
        &["push-read", "unidive-student/existing"],
    );
    assert!(
        out.contains(
            "403 Forbidden: Forbidden: pass `create_pr=1` as a query parameter to create a Pull Request."
        ),
        "{out}"
    );
    assert!(
        out.contains("/api/datasets/unidive-student/existing/preupload/main"),
        "{out}"
    );
    assert!(logged(&hub, "xet-write-token").is_empty());
}
