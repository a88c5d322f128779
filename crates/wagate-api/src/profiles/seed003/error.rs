//! The document's error body, `{"error": "<Error Type>", "message": "…"}`,
//! with only the six error types it names. Every native [`ApiError`] goes
//! through the one conversion here, so the profile's handlers use the
//! native checks unchanged and only the answer's shape differs.

use crate::error::ApiError;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

const VALIDATION: &str = "Validation Error";
const BAD_REQUEST: &str = "Bad Request";
const INTERNAL: &str = "Internal Server Error";

/// An error of this profile: a native error, answered in the document's
/// shape.
#[derive(Debug)]
pub struct Seed003Error(pub ApiError);

impl From<ApiError> for Seed003Error {
    fn from(err: ApiError) -> Self {
        Seed003Error(err)
    }
}

#[derive(Serialize)]
struct ErrorBody {
    error: &'static str,
    message: String,
}

fn answer(status: StatusCode, error: &'static str, message: String) -> Response {
    crate::error::answer(status, None, ErrorBody { error, message })
}

impl IntoResponse for Seed003Error {
    fn into_response(self) -> Response {
        // The native status and text (causes of 5xx already hidden and
        // logged), under the document's error types. It knows 400 for a
        // bad field ("Validation Error") and for anything else the client
        // must change ("Bad Request"); the native 409, 413, 415 and 422
        // are such cases.
        let (status, body) = self.0.into_parts();
        let (status, error) = match status {
            StatusCode::BAD_REQUEST if body.error == VALIDATION => (status, VALIDATION),
            StatusCode::UNAUTHORIZED => (status, "Unauthorized"),
            StatusCode::FORBIDDEN => (status, "Forbidden"),
            StatusCode::NOT_FOUND => (status, "Not Found"),
            StatusCode::CONFLICT
            | StatusCode::PAYLOAD_TOO_LARGE
            | StatusCode::UNSUPPORTED_MEDIA_TYPE
            | StatusCode::UNPROCESSABLE_ENTITY => (StatusCode::BAD_REQUEST, BAD_REQUEST),
            // 503 and 429 keep their status: it tells clients to retry.
            s if s.is_server_error() => (status, INTERNAL),
            _ => (status, BAD_REQUEST),
        };
        // A refusal for a limit keeps its `Retry-After`.
        crate::error::answer(
            status,
            body.retry_after,
            ErrorBody {
                error,
                message: body.message,
            },
        )
    }
}

/// A method the profile's path does not serve, named in the answer.
pub async fn wrong_method(method: Method, uri: Uri) -> Response {
    answer(
        StatusCode::METHOD_NOT_ALLOWED,
        BAD_REQUEST,
        format!("Cannot {method} {}", uri.path()),
    )
}
