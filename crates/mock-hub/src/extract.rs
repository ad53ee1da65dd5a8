//! Request extractors that answer bad input in the Hub's error shape instead of axum's plain
//! text rejections, plus small URL helpers (percent-decoding, query and form parsing, origin).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;

use super::error::HubError;
use super::state::{Caller, HubState};

/// Body limit of JSON and form endpoints.
pub const SMALL_BODY_LIMIT: usize = 1024 * 1024;
/// Body limit of the commit endpoint and the admin repository upload.
pub const LARGE_BODY_LIMIT: usize = 200 * 1024 * 1024;

/// Path parameters, rejected as a 400 in the Hub's shape.
pub struct HubPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for HubPath<T> {
    type Rejection = HubError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, HubError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(t)| HubPath(t))
            .map_err(|e| HubError::BadRequest(e.body_text()))
    }
}

impl FromRequestParts<HubState> for Caller {
    type Rejection = HubError;

    async fn from_request_parts(parts: &mut Parts, state: &HubState) -> Result<Self, HubError> {
        // The request tracker (`track.rs`) put it there; taken, not cloned (a second extraction in
        // the same request works it out again).
        Ok(match parts.extensions.remove::<Caller>() {
            Some(caller) => caller,
            None => state.identify(&parts.headers),
        })
    }
}

/// Reads the whole body, turning a body over `limit` (the route's `DefaultBodyLimit`) into a
/// 413.
pub async fn read_body<S: Send + Sync>(
    req: Request,
    state: &S,
    limit: usize,
) -> Result<Bytes, HubError> {
    Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            HubError::PayloadTooLarge { limit }
        } else {
            HubError::BadRequest(e.body_text())
        }
    })
}

/// A JSON body, rejected as a 400 (or 413) in the Hub's shape.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = HubError;

    async fn from_request(req: Request, state: &S) -> Result<Self, HubError> {
        let bytes = read_body(req, state, SMALL_BODY_LIMIT).await?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| HubError::BadRequest(format!("Invalid JSON body: {e}")))
    }
}

/// An `application/x-www-form-urlencoded` body as a map (last value wins).
pub struct FormBody(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequest<S> for FormBody {
    type Rejection = HubError;

    async fn from_request(req: Request, state: &S) -> Result<Self, HubError> {
        let bytes = read_body(req, state, SMALL_BODY_LIMIT).await?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| HubError::BadRequest("Form body is not UTF-8".into()))?;
        Ok(FormBody(parse_query(text)))
    }
}

/// Percent-decodes `s` (`+` stays `+` unless `plus_is_space`); `None` if the result is not UTF-8.
pub fn percent_decode(s: &str, plus_is_space: bool) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Parses a query string or form body into a map (undecodable pairs are skipped).
pub fn parse_query(query: &str) -> HashMap<String, String> {
    parse_pairs(query).into_iter().collect()
}

/// Whether a query flag such as `recursive=true` or `create_pr=1` is set.
pub fn query_flag(query: &HashMap<String, String>, key: &str) -> bool {
    query
        .get(key)
        .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
}

/// The origin clients used to reach us (scheme + `Host`), which is what they expect back in
/// URLs they parse (repo `url`, `commitUrl`): `https://` when the request came over the HTTPS
/// listener (which sets `X-Forwarded-Proto: https`, as a TLS-terminating proxy in front of a
/// server does), `http://` otherwise.
pub fn origin(headers: &HeaderMap) -> String {
    let scheme = match headers.get("x-forwarded-proto").map(|v| v.as_bytes()) {
        Some(b"https") => "https",
        _ => "http",
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
        })
        .unwrap_or("127.0.0.1");
    format!("{scheme}://{host}")
}

/// Percent-encodes one path segment (everything but unreserved characters).
pub fn percent_encode_segment(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Parses a query string or form body into its pairs, keeping repeated keys in order.
pub fn parse_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((percent_decode(k, true)?, percent_decode(v, true)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_is_https_only_for_requests_the_https_listener_marked() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "huggingface.co".parse().unwrap());
        assert_eq!(origin(&headers), "http://huggingface.co");
        headers.insert("x-forwarded-proto", "https".parse().unwrap());
        assert_eq!(origin(&headers), "https://huggingface.co");
        headers.insert("x-forwarded-proto", "gopher".parse().unwrap());
        assert_eq!(origin(&headers), "http://huggingface.co");
    }
}
