//! File downloads: `HEAD` and `GET /{p}{ns}/{name}/resolve/{rev}/{path}`.
//!
//! `hf_hub_download` reads `X-Repo-Commit`, `ETag` and the size from the HEAD, then GETs the
//! bytes (with `Range: bytes=N-` when resuming). Bodies are streamed in 64 KiB chunks from the
//! stored content, so large generated files never sit in memory. No Xet or LFS-redirect headers
//! are ever sent: files are always served directly from this origin.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http_body::{Frame, SizeHint};

use super::error::{HubError, X_REPO_COMMIT, header_text};
use super::extract::{HubPath, origin};
use super::repos::{find_visible, resolve_rev};
use super::state::{Caller, HubState};
use super::world::{Repo, RepoFile, RepoType, World, validate_file_path};

/// Chunk size of streamed bodies.
const CHUNK: u64 = 64 * 1024;

/// The routes of this file.
pub(super) fn routes() -> Router<HubState> {
    Router::new()
        .route("/{ns}/{name}/resolve/{rev}/{*path}", get(resolve_model))
        .route(
            "/datasets/{ns}/{name}/resolve/{rev}/{*path}",
            get(resolve_dataset),
        )
        .route(
            "/spaces/{ns}/{name}/resolve/{rev}/{*path}",
            get(resolve_space),
        )
}

/// Path parameters of a resolve URL.
type ResolvePath = (String, String, String, String);

/// A model file.
async fn resolve_model(
    State(state): State<HubState>,
    caller: Caller,
    headers: HeaderMap,
    HubPath(p): HubPath<ResolvePath>,
) -> Result<Response, HubError> {
    resolve(&state, &caller, &headers, RepoType::Model, p)
}

/// A dataset file.
async fn resolve_dataset(
    State(state): State<HubState>,
    caller: Caller,
    headers: HeaderMap,
    HubPath(p): HubPath<ResolvePath>,
) -> Result<Response, HubError> {
    resolve(&state, &caller, &headers, RepoType::Dataset, p)
}

/// A Space file.
async fn resolve_space(
    State(state): State<HubState>,
    caller: Caller,
    headers: HeaderMap,
    HubPath(p): HubPath<ResolvePath>,
) -> Result<Response, HubError> {
    resolve(&state, &caller, &headers, RepoType::Space, p)
}

/// Finds the file (checking credentials, visibility, gate, revision, path in that order) and
/// answers with its headers and, for GET, its bytes.
fn resolve(
    state: &HubState,
    caller: &Caller,
    headers: &HeaderMap,
    repo_type: RepoType,
    (ns, name, rev, path): ResolvePath,
) -> Result<Response, HubError> {
    let id = format!("{ns}/{name}");
    let (commit_id, file) = {
        let world = state.read();
        let repo = find_visible(&world, caller, repo_type, &id)?;
        check_gate(&world, caller, headers, repo)?;
        let commit = resolve_rev(repo, &rev)?;
        let not_found = || HubError::EntryNotFound {
            commit: commit.id.clone(),
        };
        validate_file_path(&path).map_err(|_| not_found())?;
        let file = commit.files.get(&path).cloned().ok_or_else(not_found)?;
        (commit.id.clone(), file)
    };
    let size = file.size();
    let range = match headers.get(header::RANGE).and_then(|r| r.to_str().ok()) {
        Some(spec) => parse_range(spec, size)?,
        None => None,
    };
    let (status, start, end) = match range {
        Some((s, e)) => (StatusCode::PARTIAL_CONTENT, s, e),
        None => (StatusCode::OK, 0, size),
    };
    let mut out = HeaderMap::new();
    out.insert(X_REPO_COMMIT, header_text(&commit_id));
    out.insert(header::ETAG, header_text(&format!("\"{}\"", file.etag())));
    out.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    out.insert(header::CONTENT_LENGTH, HeaderValue::from(end - start));
    out.insert(header::CONTENT_TYPE, content_type(&path));
    if file.lfs {
        out.insert(
            HeaderName::from_static("x-linked-etag"),
            header_text(&format!("\"{}\"", file.sha256)),
        );
        out.insert(
            HeaderName::from_static("x-linked-size"),
            HeaderValue::from(size),
        );
    }
    if status == StatusCode::PARTIAL_CONTENT {
        out.insert(
            header::CONTENT_RANGE,
            header_text(&format!("bytes {start}-{}/{size}", end.saturating_sub(1))),
        );
    }
    let body = Body::new(FileBody {
        file,
        pos: start,
        end,
    });
    Ok((status, out, body).into_response())
}

/// Refuses the files of a gated repository to callers not approved (anonymous: 401, else 403).
pub(super) fn check_gate(
    world: &World,
    caller: &Caller,
    headers: &HeaderMap,
    repo: &Repo,
) -> Result<(), HubError> {
    if !repo.gated {
        return Ok(());
    }
    let (repo_type, id) = (repo.repo_type, repo.id.clone());
    match caller.token() {
        None => Err(HubError::GatedAnonymous {
            repo_type,
            repo: id,
        }),
        Some(t) if !world.token_passes_gate(t, repo) => Err(HubError::GatedNotApproved {
            repo_type,
            repo: id,
            origin: origin(headers),
        }),
        Some(_) => Ok(()),
    }
}

/// The content type by extension; JSON and text files are served as text.
fn content_type(path: &str) -> HeaderValue {
    let ext = path.rsplit_once('.').map_or("", |(_, e)| e);
    HeaderValue::from_static(match ext {
        "json" => "application/json; charset=utf-8",
        "md" | "txt" | "jinja" | "gitattributes" | "py" | "yaml" | "yml" | "csv" => {
            "text/plain; charset=utf-8"
        }
        _ => "application/octet-stream",
    })
}

/// Parses a single `bytes=` range into `start..end` (end exclusive). A malformed or multi-part
/// range is ignored (`Ok(None)`: serve the whole file); a range starting past the end is a 416.
pub(crate) fn parse_range(spec: &str, size: u64) -> Result<Option<(u64, u64)>, HubError> {
    let Some(set) = spec.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if set.contains(',') || size == 0 {
        return Ok(None);
    }
    let Some((a, b)) = set.trim().split_once('-') else {
        return Ok(None);
    };
    let (a, b) = (a.trim(), b.trim());
    let parsed = match (a.is_empty(), b.is_empty()) {
        (false, _) => {
            let Ok(start) = a.parse::<u64>() else {
                return Ok(None);
            };
            let end = if b.is_empty() {
                size
            } else {
                match b.parse::<u64>() {
                    Ok(last) if last >= start => last.saturating_add(1).min(size),
                    _ => return Ok(None),
                }
            };
            (start, end)
        }
        (true, false) => {
            let Ok(suffix) = b.parse::<u64>() else {
                return Ok(None);
            };
            if suffix == 0 {
                return Err(HubError::RangeNotSatisfiable { size });
            }
            (size.saturating_sub(suffix), size)
        }
        (true, true) => return Ok(None),
    };
    if parsed.0 >= size {
        return Err(HubError::RangeNotSatisfiable { size });
    }
    Ok(Some(parsed))
}

/// A response body that streams `pos..end` of a stored file in chunks.
struct FileBody {
    file: Arc<RepoFile>,
    pos: u64,
    end: u64,
}

impl http_body::Body for FileBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.pos >= self.end {
            return Poll::Ready(None);
        }
        let next = (self.pos + CHUNK).min(self.end);
        let chunk = self.file.content.slice(self.pos, next);
        self.pos = next;
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.pos >= self.end
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.end.saturating_sub(self.pos))
    }
}
