//! Seeding a standalone mock Hub (`mdbook-hubcheck mock-hub`) through HTTP only, then running the
//! real `huggingface_hub` against it as each seeded account: organisation roles, a private-by-
//! default organisation, tokens with fixed values and a requested 429 the client retries.

use super::*;

/// Fixed token values (not token-shaped, so the build's token check never fires).
const ANA_TOKEN: &str = "hf_fixed_ana_admin_token";
/// Ben's token: a write token, but Ben only has the `read` role in the organisation.
const BEN_TOKEN: &str = "hf_fixed_ben_reader_token";
/// Ana's token limited to Ana's own namespace (no organisation).
const ANA_SOLO_TOKEN: &str = "hf_fixed_ana_solo_token";

/// POSTs JSON to the admin API and checks it succeeded.
#[track_caller]
fn admin(http: &Client, url: &str, path: &str, body: Value) {
    let r = http
        .post(format!("{url}{path}"))
        .json(&body)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{path}: {}", r.text().unwrap_or_default());
}

/// Runs `code` with the pinned Python against `url` as the holder of `token`; (stdout, stderr).
fn python_as(url: &str, token: &str, code: &str) -> (String, String) {
    let (mut command, _home) = pinned_python_as(url, token);
    let out = command.args(["-c", code]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "python failed:\n{stdout}\n{stderr}");
    (stdout, stderr)
}

#[test]
fn seeded_over_http_then_used_by_the_real_client_as_each_account() {
    let hub = crate::prelude::StandaloneHub::start();
    let url = hub.url().to_string();
    let http = client();
    admin(
        &http,
        &url,
        "/__mock/users",
        json!({"name": "ana", "fullname": "Ana"}),
    );
    admin(
        &http,
        &url,
        "/__mock/users",
        json!({"name": "ben", "fullname": "Ben"}),
    );
    admin(
        &http,
        &url,
        "/__mock/orgs",
        json!({"name": "lab", "roles": {"ana": "admin"}, "private_by_default": true}),
    );
    admin(
        &http,
        &url,
        "/__mock/orgs/lab/members",
        json!({"user": "ben", "role": "read"}),
    );
    for (value, user, orgs) in [
        (ANA_TOKEN, "ana", None),
        (BEN_TOKEN, "ben", None),
        (ANA_SOLO_TOKEN, "ana", Some(json!([]))),
    ] {
        let mut body = json!({"display_name": format!("{user}-write"), "user": user, "role": "write", "value": value});
        if let Some(orgs) = orgs {
            body["orgs"] = orgs;
        }
        admin(&http, &url, "/__mock/tokens", body);
    }

    let (out, _) = python_as(
        &url,
        ANA_TOKEN,
        r#"
from huggingface_hub import HfApi
api = HfApi()
me = api.whoami()
print("user:", me["name"], "role in lab:", me["orgs"][0]["roleInOrg"])
repo = api.create_repo("lab/shared").repo_id
print("private by default:", api.model_info(repo).private)
api.upload_file(path_or_fileobj=b"hello\n", path_in_repo="hello.txt", repo_id=repo)
print("files:", api.list_repo_files(repo))
"#,
    );
    assert!(out.contains("user: ana role in lab: admin"), "{out}");
    assert!(out.contains("private by default: True"), "{out}");
    assert!(
        out.contains("files: ['.gitattributes', 'hello.txt']"),
        "{out}"
    );

    // Ben reads the private repository but may neither write nor create; a requested 429 on
    // his first tree listing is retried by the client after `Retry-After` + 1 second.
    admin(
        &http,
        &url,
        "/__mock/faults",
        json!({"path_prefix": "/api/models/lab/shared/tree", "status": 429, "count": 1, "retry_after": 0}),
    );
    let (out, err) = python_as(
        &url,
        BEN_TOKEN,
        r#"
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import HfHubHTTPError
api = HfApi()
print("role in lab:", api.whoami()["orgs"][0]["roleInOrg"])
print("reads:", open(hf_hub_download("lab/shared", "hello.txt")).read().strip())
for label, call in [
    ("upload", lambda: api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="lab/shared")),
    ("create", lambda: api.create_repo("lab/bens")),
]:
    try:
        call()
    except HfHubHTTPError as e:
        print(label + ":", e.response.status_code, e.server_message)
print("listed:", api.list_repo_files("lab/shared"))
"#,
    );
    assert!(out.contains("role in lab: read"), "{out}");
    assert!(out.contains("reads: hello"), "{out}");
    assert!(
        out.contains("upload: 403 Forbidden: pass `create_pr=1` as a query parameter to create a Pull Request"),
        "{out}"
    );
    assert!(
        out.contains(
            "create: 403 You don't have the rights to create a model under the namespace \"lab\""
        ),
        "{out}"
    );
    assert!(
        out.contains("listed: ['.gitattributes', 'hello.txt']"),
        "{out}"
    );
    assert!(
        err.contains("HTTP Error 429 thrown while requesting GET"),
        "{err}"
    );
    assert!(
        err.contains("Rate limited. Waiting 1.0s before retry [Retry 1/5]."),
        "{err}"
    );

    // Ana's token limited to her own namespace does not see the organisation's private repo.
    let (out, _) = python_as(
        &url,
        ANA_SOLO_TOKEN,
        r#"
from huggingface_hub import HfApi
api = HfApi()
print("sees lab/shared:", api.repo_exists("lab/shared"))
print("own repo:", api.create_repo("ana/solo").repo_id)
"#,
    );
    assert!(out.contains("sees lab/shared: False"), "{out}");
    assert!(out.contains("own repo: ana/solo"), "{out}");
}
