//! Every error the mock Hub answers with, in one enum.
//!
//! The clients decide which exception to raise from the status, the `X-Error-Code` header and
//! the `X-Error-Message` header (see `hf_raise_for_status` in huggingface_hub), so each variant
//! fixes all three plus the JSON body `{"error": <message>}`. The wording follows the error table
//! of `docs/mock-hub.md`; handlers never build error responses by hand.

use axum::Json;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::repo_type::RepoType;

/// The header carrying a per-response request id, which the client quotes in error messages.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The header naming the error class (`RepoNotFound`, `GatedRepo`, ...).
pub const X_ERROR_CODE: HeaderName = HeaderName::from_static("x-error-code");
/// The header carrying the human-readable error message.
pub const X_ERROR_MESSAGE: HeaderName = HeaderName::from_static("x-error-message");
/// The header carrying the commit a file answer refers to.
pub const X_REPO_COMMIT: HeaderName = HeaderName::from_static("x-repo-commit");

/// An error answer of the mock Hub.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum HubError {
    /// A token was sent but is unknown, expired, revoked or malformed: 401, no code.
    #[error("Invalid credentials in Authorization header")]
    InvalidCredentials,
    /// The endpoint needs a token and none was sent: 401, no code.
    #[error("Invalid username or password.")]
    AuthRequired,
    /// The repository does not exist or is not visible: 401 when anonymous, else 404.
    #[error("Repository not found")]
    RepoNotFound {
        /// Whether the request carried no token.
        anonymous: bool,
    },
    /// The revision is neither a branch nor a known commit: 404.
    #[error("Invalid rev id: {rev}")]
    RevisionNotFound {
        /// The revision as requested.
        rev: String,
    },
    /// The file (or tree path) is missing at that commit: 404, with `X-Repo-Commit`.
    #[error("Entry not found")]
    EntryNotFound {
        /// The commit that was searched.
        commit: String,
    },
    /// Anonymous download from a gated repository: 401 GatedRepo.
    #[error(
        "Access to {} {repo} is restricted. You must have access to it and be authenticated to access it. Please log in.",
        repo_type.singular()
    )]
    GatedAnonymous {
        /// The repository type.
        repo_type: RepoType,
        /// The repository id.
        repo: String,
    },
    /// Authenticated download from a gated repository without approval: 403 GatedRepo.
    #[error(
        "Access to {} {repo} is restricted and you are not in the authorized list. Visit {origin}/{}{repo} to ask for access.",
        repo_type.singular(), repo_type.url_prefix()
    )]
    GatedNotApproved {
        /// The repository type.
        repo_type: RepoType,
        /// The repository id.
        repo: String,
        /// The Hub origin to point the user to.
        origin: String,
    },
    /// Creating a repository without the right to: 403, no code.
    #[error("You don't have the rights to create a {} under the namespace \"{namespace}\"", repo_type.singular())]
    CreateForbidden {
        /// The repository type.
        repo_type: RepoType,
        /// The namespace asked for.
        namespace: String,
    },
    /// Committing (or preuploading) without write access: 403, no code.
    #[error("Forbidden: pass `create_pr=1` as a query parameter to create a Pull Request")]
    WriteForbidden,
    /// Deleting with a token that cannot: 403, no code (the real wording is unknown).
    #[error("This operation requires a write token")]
    WriteTokenRequired,
    /// The repository already exists: 409.
    #[error("You already created this {} repo", repo_type.singular())]
    RepoExists {
        /// The repository type.
        repo_type: RepoType,
        /// Its URL, also sent in the body.
        url: String,
    },
    /// `parentCommit` is not the branch head any more: 412.
    #[error("The branch was updated since you opened this page. Please refresh and try again.")]
    ParentCommitMismatch,
    /// A file path the Hub refuses (`..` as first segment, also written `..\name`): 422.
    #[error("Invalid path")]
    InvalidPath,
    /// A branch or tag of that name already exists: 409.
    #[error("Reference already exists")]
    RefExists,
    /// The target of a move is taken: 409.
    #[error("You already have a {} named {id}", repo_type.singular())]
    MoveTargetExists {
        /// The repository type.
        repo_type: RepoType,
        /// The id asked for.
        id: String,
    },
    /// Changing branches, tags, settings or moving without write access to the repository: 403.
    #[error("You don't have write access to {repo}")]
    RepoWriteForbidden {
        /// The repository id.
        repo: String,
    },
    /// A fault asked for through the admin API: 429 with `Retry-After`.
    #[error("You have been rate-limited; you can retry this action in {retry_after} seconds.")]
    RateLimited {
        /// Seconds to wait, sent as `Retry-After`.
        retry_after: u64,
    },
    /// A fault asked for through the admin API: 503.
    #[error("The Hub is temporarily unavailable. Please try again later.")]
    Unavailable {
        /// Seconds to wait, sent as `Retry-After` when set.
        retry_after: Option<u64>,
    },
    /// A commit's `lfsFile` lines name content the mock never received (no Xet upload of that
    /// sha256): 400, with the Hub's text (huggingface/huggingface_hub#3829 and users' reports).
    #[error(
        "Your push was rejected because an LFS pointer pointed to a file that does not exist. For instance, this can happen if you used git push --no-verify to push your changes. Offending file: - {}",
        paths.join(" - ")
    )]
    LfsObjectMissing {
        /// The paths whose content is missing.
        paths: Vec<String>,
    },
    /// Malformed input: 400.
    #[error("{0}")]
    BadRequest(String),
    /// The body is larger than the endpoint accepts: 413.
    #[error("Request body is too large (limit {limit} bytes)")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// A `Range` header outside the file: 416.
    #[error("Requested range not satisfiable")]
    RangeNotSatisfiable {
        /// The file size, for `Content-Range: bytes */size`.
        size: u64,
    },
    /// The Git LFS batch API, which the mock does not implement: 501. huggingface_hub 2.4.0 only
    /// calls it for uploads the Xet path cannot take (a binary file object) or without hf_xet.
    #[error(
        "The mock Hub does not implement the Git LFS batch API ({path}). huggingface_hub uses it for LFS uploads that cannot go through Xet: a file object (io.BufferedIOBase) as path_or_fileobj, or hf_xet not installed. Pass bytes or a file path instead, with hf_xet installed."
    )]
    LfsBatchUnsupported {
        /// The path the client called.
        path: String,
    },
    /// No such page: 404, no code.
    #[error("Sorry, we can't find the page you are looking for.")]
    RouteNotFound,
    /// A request to the dataset viewer (`datasets-server.huggingface.co`), which has processed
    /// no dataset of the mock's world: 404, the viewer's text for a dataset it cannot show.
    #[error(
        "The dataset does not exist, or is not accessible without authentication (private or \
         gated). Please check the spelling of the dataset name or retry with authentication."
    )]
    ViewerHasNoDataset,
    /// An admin API call named something that does not exist: 404.
    #[error("{0}")]
    AdminNotFound(String),
}

impl HubError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            HubError::InvalidCredentials | HubError::AuthRequired => StatusCode::UNAUTHORIZED,
            HubError::RepoNotFound { anonymous: true } => StatusCode::UNAUTHORIZED,
            HubError::RepoNotFound { anonymous: false } => StatusCode::NOT_FOUND,
            HubError::RevisionNotFound { .. } | HubError::EntryNotFound { .. } => {
                StatusCode::NOT_FOUND
            }
            HubError::GatedAnonymous { .. } => StatusCode::UNAUTHORIZED,
            HubError::GatedNotApproved { .. } => StatusCode::FORBIDDEN,
            HubError::CreateForbidden { .. }
            | HubError::WriteForbidden
            | HubError::WriteTokenRequired => StatusCode::FORBIDDEN,
            HubError::RepoExists { .. } => StatusCode::CONFLICT,
            HubError::ParentCommitMismatch => StatusCode::PRECONDITION_FAILED,
            HubError::InvalidPath => StatusCode::UNPROCESSABLE_ENTITY,
            HubError::RefExists | HubError::MoveTargetExists { .. } => StatusCode::CONFLICT,
            HubError::RepoWriteForbidden { .. } => StatusCode::FORBIDDEN,
            HubError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            HubError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            HubError::BadRequest(_) | HubError::LfsObjectMissing { .. } => StatusCode::BAD_REQUEST,
            HubError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            HubError::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            HubError::RouteNotFound | HubError::AdminNotFound(_) | HubError::ViewerHasNoDataset => {
                StatusCode::NOT_FOUND
            }
            HubError::LfsBatchUnsupported { .. } => StatusCode::NOT_IMPLEMENTED,
        }
    }

    /// The `X-Error-Code` value, if this error has one.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            HubError::RepoNotFound { .. } => Some("RepoNotFound"),
            HubError::RevisionNotFound { .. } => Some("RevisionNotFound"),
            HubError::EntryNotFound { .. } => Some("EntryNotFound"),
            HubError::GatedAnonymous { .. } | HubError::GatedNotApproved { .. } => {
                Some("GatedRepo")
            }
            _ => None,
        }
    }
}

/// Makes a header value from arbitrary text, replacing what HTTP headers cannot carry.
pub fn header_text(text: &str) -> HeaderValue {
    let clean: String = text
        .chars()
        .map(|c| {
            if c == ' ' || c.is_ascii_graphic() {
                c
            } else {
                '?'
            }
        })
        .collect();
    HeaderValue::from_str(&clean).unwrap_or_else(|_| HeaderValue::from_static("?"))
}

impl IntoResponse for HubError {
    fn into_response(self) -> Response {
        let message = self.to_string();
        let mut headers = HeaderMap::new();
        headers.insert(X_ERROR_MESSAGE, header_text(&message));
        if let Some(code) = self.code() {
            headers.insert(X_ERROR_CODE, HeaderValue::from_static(code));
        }
        let mut body = json!({ "error": message });
        match &self {
            HubError::EntryNotFound { commit } => {
                headers.insert(X_REPO_COMMIT, header_text(commit));
            }
            HubError::RepoExists { url, .. } => {
                body["url"] = json!(url);
            }
            HubError::RateLimited { retry_after }
            | HubError::Unavailable {
                retry_after: Some(retry_after),
            } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            HubError::RangeNotSatisfiable { size } => {
                headers.insert(
                    header::CONTENT_RANGE,
                    header_text(&format!("bytes */{size}")),
                );
            }
            _ => {}
        }
        (self.status(), headers, Json(body)).into_response()
    }
}
