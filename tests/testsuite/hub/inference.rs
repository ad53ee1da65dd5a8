//! Inference Providers: the router's answers over HTTP, then the real `InferenceClient` against
//! them (`tests/fixtures/inference/client_check.py`), with the world `worlds/inference.toml`.

use mdbook_hubcheck::hub::MockHub;

use super::*;
use crate::prelude::fixtures;

fn inference_hub() -> Hub {
    let world = mdbook_hubcheck::hub::world_file::load(
        &fixtures().join("worlds/inference.toml"),
        &fixtures(),
    )
    .expect("the inference world loads");
    Hub::start_world(world)
}

fn chat(hub: &Hub, token: Option<&str>, model: &str) -> Response {
    hub.post_json(
        "/v1/chat/completions",
        token,
        &json!({"model": model, "messages": [{"role": "user", "content": "Say hello"}]}),
    )
}

fn error_text(response: Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().unwrap();
    (
        status,
        body["error"].as_str().unwrap_or_default().to_string(),
    )
}

#[test]
fn the_router_answers_a_chat_with_the_declared_reply_and_takes_its_cost() {
    let hub = inference_hub();
    let read = hub.hub.token_named("read");
    let answer: Value = chat(&hub, Some(&read), "lab/tiny-chat").json().unwrap();
    assert_eq!(answer["object"], "chat.completion");
    assert_eq!(
        answer["choices"][0]["message"]["content"],
        "Salaam! I am a tiny mock model."
    );
    assert_eq!(answer["usage"]["completion_tokens"], 7);
    // 0.10 of credits at 0.04 a call: two more calls, then 402.
    assert_eq!(
        chat(&hub, Some(&read), "lab/tiny-chat:together").status(),
        200
    );
    assert_eq!(
        chat(&hub, Some(&read), "lab/tiny-chat:fastest").status(),
        200
    );
    let (status, text) = error_text(chat(&hub, Some(&read), "lab/tiny-chat"));
    assert_eq!(status, 402);
    assert_eq!(
        text,
        "You have exceeded your monthly included credits for Inference Providers. Subscribe to PRO to get 20x more monthly included credits."
    );
}

#[test]
fn the_router_refuses_as_the_real_one_does() {
    let hub = inference_hub();
    let (status, text) = error_text(chat(&hub, Some(&MockHub::invalid_token()), "lab/tiny-chat"));
    assert_eq!(
        (status, text.as_str()),
        (401, "Invalid credentials in Authorization header")
    );
    let scoped = hub.hub.token_named("fine-grained-no-inference");
    let (status, text) = error_text(chat(&hub, Some(&scoped), "lab/tiny-chat"));
    assert_eq!(status, 403);
    assert_eq!(
        text,
        "This authentication method does not have sufficient permissions to call Inference Providers on behalf of user nia"
    );
    let allowed = hub.hub.token_named("fine-grained-inference");
    assert_eq!(chat(&hub, Some(&allowed), "lab/tiny-chat").status(), 200);
    let (status, text) = error_text(chat(&hub, Some(&allowed), "lab/tiny-writer"));
    assert_eq!(status, 400);
    assert_eq!(
        text,
        "The requested model 'lab/tiny-writer' is not supported by any provider you have enabled."
    );
    let (status, text) = error_text(chat(&hub, Some(&allowed), "lab/tiny-chat:groq"));
    assert_eq!(
        (status, text.contains("not supported by any provider")),
        (400, true)
    );

    hub.post_json(
        "/__mock/users/nia/credits",
        None,
        &json!({"remaining": 0.0}),
    );
    assert_eq!(chat(&hub, Some(&allowed), "lab/tiny-chat").status(), 402);
}

#[test]
fn a_streamed_chat_is_the_reply_in_events_ending_with_done() {
    let hub = inference_hub();
    let read = hub.hub.token_named("read");
    let response = hub.post_json(
        "/together/v1/chat/completions",
        Some(&read),
        &json!({"model": "lab/tiny-chat", "messages": [], "stream": true}),
    );
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let text = response.text().unwrap();
    let events: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .collect();
    assert_eq!(events.last(), Some(&"[DONE]"));
    let content: String = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str::<Value>(e).unwrap())
        .filter_map(|e| {
            e["choices"][0]["delta"]["content"]
                .as_str()
                .map(String::from)
        })
        .collect();
    assert_eq!(content, "Salaam! I am a tiny mock model.");
}

#[test]
fn model_info_maps_served_models_to_their_providers() {
    let hub = inference_hub();
    let info: Value = hub
        .get(
            "/api/models/lab/tiny-chat?expand=inferenceProviderMapping",
            None,
        )
        .json()
        .unwrap();
    let mapping = &info["inferenceProviderMapping"];
    assert_eq!(mapping["together"]["status"], "live");
    assert_eq!(mapping["together"]["task"], "conversational");
    assert_eq!(mapping["hf-inference"]["providerId"], "lab/tiny-chat");
    assert_eq!(info["pipeline_tag"], "text-generation");
    let plain: Value = hub
        .get("/api/models/lab/tiny-embedder", None)
        .json()
        .unwrap();
    assert!(
        plain["tags"]
            .as_array()
            .unwrap()
            .contains(&json!("feature-extraction"))
    );
}

/// Runs the client check with `token` against `hub` (the router's address too); its stdout.
fn client_check(hub: &Hub, token: &str, which: &str) -> String {
    let base = hub.base();
    run_client_script(
        "inference/client_check.py",
        &[which],
        &base,
        token,
        &[("MOCK_ROUTER", &base)],
    )
}

#[test]
fn the_real_inference_client_gets_what_the_pages_promise() {
    let hub = inference_hub();
    hub.post_json(
        "/__mock/users/nia/credits",
        None,
        &json!({"remaining": 1.0}),
    );
    let read = hub.hub.token_named("read");
    for (which, says) in [
        ("chat", "chat: Salaam! I am a tiny mock model. | tokens: 9"),
        ("chat-provider", "together: Salaam! I am a tiny mock model."),
        (
            "chat-hf-inference",
            "hf-inference: Salaam! I am a tiny mock model.",
        ),
        (
            "stream",
            "stream: Salaam! I am a tiny mock model. | chunks: 8",
        ),
        ("generate", "generate: once upon a time"),
        ("embed", "embed: shape (1, 32)"),
        (
            "unknown-model",
            "Bad request:\nThe requested model 'lab/no-such-model' is not supported by any provider you have enabled.",
        ),
    ] {
        let out = client_check(&hub, &read, which);
        assert!(out.contains(says), "{which}: expected `{says}` in:\n{out}");
    }
    let scoped = hub.hub.token_named("fine-grained-no-inference");
    let out = client_check(&hub, &scoped, "chat");
    // As students of Hugging Face's agents course report it (huggingface/agents-course#558).
    assert!(
        out.contains("403 Forbidden: This authentication method does not have sufficient permissions to call Inference Providers on behalf of user nia.\nCannot access content at:"),
        "{out}"
    );
    hub.post_json(
        "/__mock/users/nia/credits",
        None,
        &json!({"remaining": 0.0}),
    );
    let out = client_check(&hub, &read, "chat");
    assert!(
        out.contains("error 402: Client error '402 Payment Required'"),
        "{out}"
    );
    assert!(
        out.contains("You have exceeded your monthly included credits"),
        "{out}"
    );
}
