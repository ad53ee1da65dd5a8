//! Inference Providers: the router (`router.huggingface.co`) that `InferenceClient` calls, for
//! the models a world file's `[[inference]]` entries declare, with deterministic answers.
//!
//! The router's paths do not collide with the Hub's, so one server answers both (the harness
//! sends both host names to it). What is served, as `InferenceClient` 2.4.0 builds it
//! (`huggingface_hub/inference/_providers/`):
//!
//! - `POST /v1/chat/completions`: the auto router (`provider="auto"`, the default for chat);
//!   `model` may carry a `:provider` suffix (`:fastest` and `:cheapest` pick the first);
//! - `POST /{provider}/v1/chat/completions`: one provider, `model` is its `providerId`;
//! - `POST /hf-inference/models/{ns}/{name}/v1/chat/completions`, `.../pipeline/feature-extraction`
//!   and `.../models/{ns}/{name}` (text generation): HF Inference;
//! - streaming (`"stream": true`) as server-sent events ending with `data: [DONE]`.
//!
//! Who may call, in this order: a valid token (401 otherwise); a fine-grained token only with
//! `inference.serverless.write` (403 with the router's text); an account with credits left (402);
//! a model the route serves (400). Each answered call costs the entry's `cost` in US dollars.
//! Where each text was learned is in `docs/mock-hub.md`, "Inference Providers".

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::HubPath;
use super::state::{Caller, HubState};
use super::world::{InferenceModel, InferenceTask, TokenRole, World, splitmix64};

/// The permission a fine-grained token needs ("Make calls to Inference Providers").
pub const INFERENCE_PERMISSION: &str = "inference.serverless.write";

/// A fixed `created` time for answers, so outputs are the same in every run.
const CREATED: u64 = 1_735_689_600;

/// How many numbers a feature-extraction answer has per input.
const EMBEDDING_SIZE: usize = 32;

/// A router error: a status, the JSON `{"error": message}` and the same text in
/// `X-Error-Message`, as the router sends them (so huggingface_hub prints `403 Forbidden: <text>.`).
#[derive(Debug, Clone, PartialEq)]
pub struct RouterError {
    status: StatusCode,
    message: String,
}

impl RouterError {
    fn new(status: StatusCode, message: impl Into<String>) -> RouterError {
        RouterError {
            status,
            message: message.into(),
        }
    }
}

impl IntoResponse for RouterError {
    fn into_response(self) -> Response {
        let header_text = HeaderValue::from_str(&self.message)
            .unwrap_or_else(|_| HeaderValue::from_static("error"));
        (
            self.status,
            [(super::error::X_ERROR_MESSAGE, header_text)],
            axum::Json(json!({"error": self.message})),
        )
            .into_response()
    }
}

/// The routes of the router.
pub(super) fn routes() -> Router<HubState> {
    Router::new()
        .route("/v1/chat/completions", post(auto_chat))
        // `{ns}`: the Hub's routes name their first segment so, and the router needs one name there.
        .route("/{ns}/v1/chat/completions", post(provider_chat))
        .route(
            "/hf-inference/models/{ns}/{name}/v1/chat/completions",
            post(hf_inference_chat),
        )
        .route(
            "/hf-inference/models/{ns}/{name}/pipeline/feature-extraction",
            post(hf_inference_features),
        )
        .route(
            "/hf-inference/models/{ns}/{name}",
            post(hf_inference_generate),
        )
}

/// The provider mapping of `model` as model info's `inferenceProviderMapping` shows it.
pub fn provider_mapping(world: &World, model: &str) -> Option<Value> {
    let entry = find(world, model)?;
    let mapping: serde_json::Map<String, Value> = entry
        .providers
        .iter()
        .map(|p| {
            (
                p.clone(),
                json!({"status": "live", "providerId": entry.model, "task": entry.task.as_str()}),
            )
        })
        .collect();
    Some(Value::Object(mapping))
}

fn find<'a>(world: &'a World, model: &str) -> Option<&'a InferenceModel> {
    world
        .inference
        .iter()
        .find(|m| m.model.eq_ignore_ascii_case(model))
}

/// `POST /v1/chat/completions`.
async fn auto_chat(
    State(state): State<HubState>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, RouterError> {
    let request = chat_request(&body)?;
    let (model, wanted) = match request.model.rsplit_once(':') {
        Some((model, suffix)) if !matches!(suffix, "fastest" | "cheapest") => {
            (model.to_string(), Some(suffix.to_string()))
        }
        Some((model, _)) => (model.to_string(), None),
        None => (request.model.clone(), None),
    };
    let not_served = || {
        RouterError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "The requested model '{}' is not supported by any provider you have enabled.",
                request.model
            ),
        )
    };
    let entry = {
        let world = state.read();
        let entry = find(&world, &model)
            .filter(|e| e.task == InferenceTask::Conversational)
            .filter(|e| wanted.as_ref().is_none_or(|p| e.providers.contains(p)))
            .cloned();
        entry.ok_or_else(not_served)
    };
    answer_chat(&state, &caller, entry, &request)
}

/// `POST /{provider}/v1/chat/completions`: `model` is the provider's id for it.
async fn provider_chat(
    State(state): State<HubState>,
    caller: Caller,
    HubPath(provider): HubPath<String>,
    body: Bytes,
) -> Result<Response, RouterError> {
    let request = chat_request(&body)?;
    let entry = served_by(
        &state,
        &request.model,
        &provider,
        InferenceTask::Conversational,
    );
    answer_chat(&state, &caller, entry, &request)
}

/// `POST /hf-inference/models/{ns}/{name}/v1/chat/completions`.
async fn hf_inference_chat(
    State(state): State<HubState>,
    caller: Caller,
    HubPath((ns, name)): HubPath<(String, String)>,
    body: Bytes,
) -> Result<Response, RouterError> {
    let request = chat_request(&body)?;
    let model = format!("{ns}/{name}");
    let entry = served_by(
        &state,
        &model,
        "hf-inference",
        InferenceTask::Conversational,
    );
    answer_chat(&state, &caller, entry, &request)
}

/// `POST /hf-inference/models/{ns}/{name}` with `{"inputs": "...", "parameters": {...}}`.
async fn hf_inference_generate(
    State(state): State<HubState>,
    caller: Caller,
    HubPath((ns, name)): HubPath<(String, String)>,
    body: Bytes,
) -> Result<Response, RouterError> {
    let model = format!("{ns}/{name}");
    let entry = served_by(
        &state,
        &model,
        "hf-inference",
        InferenceTask::TextGeneration,
    );
    let entry = admit(&state, &caller, entry)?;
    inputs_of(&body)?;
    Ok(axum::Json(json!([{"generated_text": entry.reply}])).into_response())
}

/// `POST /hf-inference/models/{ns}/{name}/pipeline/feature-extraction`.
async fn hf_inference_features(
    State(state): State<HubState>,
    caller: Caller,
    HubPath((ns, name)): HubPath<(String, String)>,
    body: Bytes,
) -> Result<Response, RouterError> {
    let model = format!("{ns}/{name}");
    let entry = served_by(
        &state,
        &model,
        "hf-inference",
        InferenceTask::FeatureExtraction,
    );
    admit(&state, &caller, entry)?;
    let texts: Vec<String> = match inputs_of(&body)? {
        Value::String(text) => vec![text],
        Value::Array(items) => items
            .into_iter()
            .map(|i| i.as_str().unwrap_or_default().to_string())
            .collect(),
        other => vec![other.to_string()],
    };
    let vectors: Vec<Vec<f32>> = texts.iter().map(|t| embedding(t)).collect();
    Ok(axum::Json(json!(vectors)).into_response())
}

/// The entry `provider` serves `model` from for `task`, or the router's 400.
fn served_by(
    state: &HubState,
    model: &str,
    provider: &str,
    task: InferenceTask,
) -> Result<InferenceModel, RouterError> {
    let world = state.read();
    find(&world, model)
        .filter(|e| e.task == task && e.providers.iter().any(|p| p == provider))
        .cloned()
        .ok_or_else(|| {
            RouterError::new(
                StatusCode::BAD_REQUEST,
                format!("Model not supported by provider {provider}"),
            )
        })
}

/// The checks every call passes before it is answered, then its cost taken from the credits.
fn admit(
    state: &HubState,
    caller: &Caller,
    entry: Result<InferenceModel, RouterError>,
) -> Result<InferenceModel, RouterError> {
    let token = match caller {
        Caller::Token(token) => token.clone(),
        Caller::Anonymous => {
            return Err(RouterError::new(
                StatusCode::UNAUTHORIZED,
                "Invalid username or password.",
            ));
        }
        Caller::Invalid => {
            return Err(RouterError::new(
                StatusCode::UNAUTHORIZED,
                "Invalid credentials in Authorization header",
            ));
        }
    };
    if let TokenRole::FineGrained(scope) = &token.role
        && !scope.grants_user_permission(&token.user, INFERENCE_PERMISSION)
    {
        return Err(RouterError::new(
            StatusCode::FORBIDDEN,
            format!(
                "This authentication method does not have sufficient permissions to call Inference Providers on behalf of user {}",
                token.user
            ),
        ));
    }
    let mut world = state.write();
    let Some(user) = world.users.get_mut(&token.user) else {
        return Err(RouterError::new(
            StatusCode::UNAUTHORIZED,
            "Invalid credentials in Authorization header",
        ));
    };
    if user.inference_credits <= 0.0 {
        return Err(RouterError::new(
            StatusCode::PAYMENT_REQUIRED,
            "You have exceeded your monthly included credits for Inference Providers. Subscribe to PRO to get 20x more monthly included credits.",
        ));
    }
    let entry = entry?;
    user.inference_credits = (user.inference_credits - entry.cost).max(0.0);
    Ok(entry)
}

/// The part of a chat request the mock reads.
#[derive(Debug, Deserialize)]
struct ChatRequest {
    model: String,
    #[serde(default)]
    messages: Vec<Value>,
    #[serde(default)]
    stream: bool,
}

fn chat_request(body: &[u8]) -> Result<ChatRequest, RouterError> {
    serde_json::from_slice(body).map_err(|e| {
        RouterError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("Failed to deserialize the JSON body into the target type: {e}"),
        )
    })
}

fn inputs_of(body: &[u8]) -> Result<Value, RouterError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        RouterError::new(StatusCode::BAD_REQUEST, format!("Invalid JSON body: {e}"))
    })?;
    value.get("inputs").cloned().ok_or_else(|| {
        RouterError::new(
            StatusCode::BAD_REQUEST,
            "The request has no `inputs`".to_string(),
        )
    })
}

/// Answers a chat request: the whole completion, or its words as server-sent events.
fn answer_chat(
    state: &HubState,
    caller: &Caller,
    entry: Result<InferenceModel, RouterError>,
    request: &ChatRequest,
) -> Result<Response, RouterError> {
    let entry = admit(state, caller, entry)?;
    let prompt_tokens: usize = request
        .messages
        .iter()
        .filter_map(|m| m.get("content").and_then(Value::as_str))
        .map(|c| c.split_whitespace().count())
        .sum();
    let completion_tokens = entry.reply.split_whitespace().count();
    let id = format!("chatcmpl-{:016x}", text_hash(&entry.reply));
    if !request.stream {
        return Ok(axum::Json(json!({
            "id": id,
            "object": "chat.completion",
            "created": CREATED,
            "model": entry.model,
            "system_fingerprint": "mock",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": entry.reply},
                "logprobs": null,
                "finish_reason": "stop"
            }],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens
            }
        }))
        .into_response());
    }
    let chunk = |delta: Value, finish: Value| {
        let event = json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": entry.model,
            "system_fingerprint": "mock",
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]
        });
        format!("data: {event}\n\n")
    };
    let mut events = String::new();
    let words: Vec<&str> = entry.reply.split_inclusive(' ').collect();
    for (i, word) in words.iter().enumerate() {
        let delta = if i == 0 {
            json!({"role": "assistant", "content": word})
        } else {
            json!({"content": word})
        };
        events.push_str(&chunk(delta, Value::Null));
    }
    events.push_str(&chunk(json!({}), json!("stop")));
    events.push_str("data: [DONE]\n\n");
    Ok((
        [(header::CONTENT_TYPE, "text/event-stream")],
        Body::from(events),
    )
        .into_response())
}

fn text_hash(text: &str) -> u64 {
    text.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    })
}

/// A deterministic unit-length vector for `text`.
fn embedding(text: &str) -> Vec<f32> {
    let mut state = text_hash(text);
    let raw: Vec<f32> = (0..EMBEDDING_SIZE)
        .map(|_| ((splitmix64(&mut state) >> 40) as f32 / (1u64 << 24) as f32) - 0.5)
        .collect();
    let norm = raw
        .iter()
        .map(|v| v * v)
        .sum::<f32>()
        .sqrt()
        .max(f32::EPSILON);
    raw.iter().map(|v| v / norm).collect()
}
