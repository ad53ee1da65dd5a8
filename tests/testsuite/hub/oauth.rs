//! The OAuth device flow and refresh tokens (`crates/mock-hub/src/oauth.rs`).

use super::*;

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
        format!("{}/login/device", hub.public_base())
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

/// Posts a form to `/oauth/token`.
fn token_form(hub: &Hub, form: &[(&str, &str)]) -> (u16, Value) {
    let r = hub
        .http
        .post(hub.url("/oauth/token"))
        .form(form)
        .send()
        .unwrap();
    (r.status().as_u16(), r.json().unwrap())
}

#[test]
fn refresh_tokens_mint_a_new_pair_and_retire_the_old_one() {
    let hub = Hub::start();
    hub.hub.state().write().settings.auto_approve_device_for = Some("unidive-student".into());
    let device: Value = hub
        .http
        .post(hub.url("/oauth/device"))
        .form(&[("client_id", "x")])
        .send()
        .unwrap()
        .json()
        .unwrap();
    let code = device["device_code"].as_str().unwrap();
    let (status, first) = token_form(
        &hub,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", code),
        ],
    );
    assert_eq!(status, 200);
    assert_eq!(first["expires_in"], 30 * 86_400);
    let access = first["access_token"].as_str().unwrap();
    let refresh = first["refresh_token"].as_str().unwrap();
    assert_eq!(hub.get("/api/whoami-v2", Some(access)).status(), 200);
    let (status, second) = token_form(
        &hub,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", "x"),
        ],
    );
    assert_eq!(status, 200);
    let new_access = second["access_token"].as_str().unwrap();
    assert_ne!(new_access, access);
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    let me: Value = hub.get("/api/whoami-v2", Some(new_access)).json().unwrap();
    assert_eq!(me["name"], "unidive-student");
    assert_eq!(me["auth"]["type"], "oauth");
    assert_error(
        hub.get("/api/whoami-v2", Some(access)),
        401,
        None,
        "Invalid credentials in Authorization header",
    );
    // A spent refresh token is invalid_grant, as the client expects for "log in again".
    let (status, spent) = token_form(
        &hub,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    );
    assert_eq!(status, 400);
    assert_eq!(spent["error"], "invalid_grant");
}

#[test]
fn admin_grants_can_be_made_to_expire() {
    let hub = Hub::start();
    let grant: Value = hub
        .post_json(
            "/__mock/oauth/grants",
            None,
            &json!({"user": "unidive-student", "expires_in": 0}),
        )
        .json()
        .unwrap();
    assert_eq!(grant["expires_in"], 0);
    let access = grant["access_token"].as_str().unwrap();
    assert_eq!(
        hub.get("/api/whoami-v2", Some(access)).status(),
        401,
        "expired at once"
    );
    let (status, fresh) = token_form(
        &hub,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", grant["refresh_token"].as_str().unwrap()),
        ],
    );
    assert_eq!(status, 200);
    let fresh_access = fresh["access_token"].as_str().unwrap().to_string();
    assert_eq!(hub.get("/api/whoami-v2", Some(&fresh_access)).status(), 200);
    let r = hub.post_json(
        "/__mock/oauth/expire",
        None,
        &json!({"token": fresh_access, "in_secs": 0}),
    );
    assert_eq!(r.status(), 200);
    assert_eq!(hub.get("/api/whoami-v2", Some(&fresh_access)).status(), 401);
    assert_eq!(
        hub.post_json("/__mock/oauth/expire", None, &json!({"token": "nope"}))
            .status(),
        400
    );
}
