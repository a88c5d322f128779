//! The one error type of the HTTP layer and its response shape:
//! `{"error": "<Kind>", "message": "<text>"}` with the matching status.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use wagate_core::{CoreError, LimitExceeded};

/// Body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The kind of error, e.g. `Validation Error`, `Not Found`.
    #[schema(example = "Validation Error")]
    pub error: &'static str,
    /// What went wrong, for people; names the offending field when there is one.
    #[schema(example = "sessionId must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-'")]
    pub message: String,
    /// The request field at fault, for validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "sessionId")]
    pub field: Option<String>,
    /// For 429: the limit reached — `sessions`, `messagesPerHour` or
    /// `apiCallsPerHour`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "messagesPerHour")]
    pub limit: Option<&'static str>,
    /// For 429: how many the tenant's tier allows.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = 100)]
    pub max: Option<u32>,
    /// For 429: seconds to wait, as in the `Retry-After` header.
    #[serde(rename = "retryAfter", skip_serializing_if = "Option::is_none")]
    #[schema(example = 120)]
    pub retry_after: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A field breaks a rule.
    #[error("{field} {message}")]
    Validation { field: String, message: String },
    /// The request as a whole is unusable (malformed JSON, wrong content type).
    #[error("{0}")]
    BadRequest(String),
    /// No credentials were sent.
    #[error("{0}")]
    Unauthorized(String),
    /// Credentials were sent but are unknown, revoked, or lack the scope.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Well-formed but cannot be acted on as asked.
    #[error("{0}")]
    Unprocessable(String),
    /// A field is well formed but asks for what the gateway will not do,
    /// such as fetching media from a private address.
    #[error("{field} {message}")]
    UnprocessableField { field: String, message: String },
    /// The session (or the service) cannot do this now.
    #[error("{0}")]
    Unavailable(String),
    /// A tier limit is reached: 429 with `Retry-After`; the body names
    /// the limit.
    #[error("{}", .0.message)]
    RateLimited(Box<LimitExceeded>),
    /// A failure inside; the text is logged, never sent.
    #[error("internal: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Places a validation error inside list `list` at `index`
    /// (`messages[3].to`); other errors name the item in their text.
    pub fn at_index(self, list: &str, index: usize) -> Self {
        match self {
            ApiError::Validation { field, message } => ApiError::Validation {
                field: format!("{list}[{index}].{field}"),
                message,
            },
            ApiError::UnprocessableField { field, message } => ApiError::UnprocessableField {
                field: format!("{list}[{index}].{field}"),
                message,
            },
            ApiError::PayloadTooLarge(m) => {
                ApiError::PayloadTooLarge(format!("{list}[{index}]: {m}"))
            }
            ApiError::Unprocessable(m) => ApiError::Unprocessable(format!("{list}[{index}]: {m}")),
            other => other,
        }
    }

    pub fn session_not_found(id: impl std::fmt::Display) -> Self {
        ApiError::NotFound(format!("Session '{id}' not found"))
    }

    fn status_and_kind(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Validation { .. } => (StatusCode::BAD_REQUEST, "Validation Error"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "Bad Request"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "Unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "Forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "Not Found"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "Conflict"),
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "Payload Too Large"),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "Unsupported Media Type")
            }
            ApiError::Unprocessable(_) | ApiError::UnprocessableField { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "Unprocessable Entity")
            }
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable"),
            ApiError::RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
        }
    }
}

impl From<CoreError> for ApiError {
    fn from(err: CoreError) -> Self {
        match err {
            CoreError::Validation { field, message } => ApiError::validation(field, message),
            CoreError::NotFound(what) => ApiError::NotFound(format!("{what} not found")),
            CoreError::Conflict(message) => ApiError::Conflict(message),
            CoreError::Unavailable(message) => ApiError::Unavailable(message),
            CoreError::LimitReached(limit) => ApiError::RateLimited(limit),
            CoreError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

impl ApiError {
    /// The status and body this error answers with. The compatibility
    /// profiles re-shape the body into their clients' error format, so an
    /// error reads the same (kind, status, hidden causes) on every API.
    pub fn into_parts(self) -> (StatusCode, ErrorBody) {
        let (status, kind) = self.status_and_kind();
        let mut reached = None;
        let (message, field) = match self {
            ApiError::Validation { field, message }
            | ApiError::UnprocessableField { field, message } => {
                (format!("{field} {message}"), Some(field))
            }
            ApiError::Internal(cause) => {
                // The cause may hold SQL, paths or peer addresses: logs only.
                tracing::error!(%cause, "request failed");
                ("An internal error occurred".to_string(), None)
            }
            ApiError::MethodNotAllowed => ("Method not allowed for this path".to_string(), None),
            ApiError::RateLimited(limit) => {
                reached = Some((limit.kind.as_str(), limit.max, limit.retry_after_s));
                (limit.message, None)
            }
            ApiError::BadRequest(m)
            | ApiError::Unauthorized(m)
            | ApiError::Forbidden(m)
            | ApiError::NotFound(m)
            | ApiError::Conflict(m)
            | ApiError::PayloadTooLarge(m)
            | ApiError::UnsupportedMediaType(m)
            | ApiError::Unprocessable(m)
            | ApiError::Unavailable(m) => (m, None),
        };
        let body = ErrorBody {
            error: kind,
            message,
            field,
            limit: reached.map(|(limit, _, _)| limit),
            max: reached.map(|(_, max, _)| max),
            retry_after: reached.map(|(_, _, seconds)| seconds),
        };
        (status, body)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = self.into_parts();
        let retry_after = body.retry_after;
        answer(status, retry_after, body)
    }
}

/// An error answer in any API shape: `body` as JSON, with `Retry-After`
/// when the refusal says how long to wait. Every shape (native and the
/// compatibility profiles) answers through it, so none can drop the
/// header.
pub(crate) fn answer(
    status: StatusCode,
    retry_after: Option<u64>,
    body: impl Serialize,
) -> Response {
    let mut response = (status, Json(body)).into_response();
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// Answer for paths no route matches.
pub async fn no_route() -> ApiError {
    ApiError::NotFound("No such endpoint".to_string())
}

/// Answer for a known path with a method it does not serve.
pub async fn wrong_method() -> ApiError {
    ApiError::MethodNotAllowed
}
