//! The native extractors — the API-key caller, the JSON body, the path —
//! with their rejections in the document's error shape. They wrap the
//! native ones rather than repeat them, so what those check (and learn to
//! check) holds here too.

use super::error::Seed003Error;
use super::input;
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::ApiJson;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use wagate_core::SessionId;

/// The caller, from `Authorization: Bearer <API key>` (or `X-Api-Key`).
pub struct Seed003Caller(pub Caller);

impl FromRequestParts<AppState> for Seed003Caller {
    type Rejection = Seed003Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Seed003Error> {
        let sent_nothing =
            !parts.headers.contains_key(AUTHORIZATION) && !parts.headers.contains_key("x-api-key");
        match Caller::from_request_parts(parts, state).await {
            Ok(caller) => Ok(Seed003Caller(caller)),
            // The document's own words for its two auth failures.
            Err(ApiError::Unauthorized(_)) if sent_nothing => {
                Err(ApiError::Unauthorized("Missing authorization header".to_string()).into())
            }
            Err(ApiError::Forbidden(_)) => {
                Err(ApiError::Forbidden("Invalid API token".to_string()).into())
            }
            Err(other) => Err(other.into()),
        }
    }
}

/// A JSON object body. Malformed JSON, another content type or no body
/// at all is a 400 `Bad Request`; a field of the wrong type a 400
/// `Validation Error` naming it.
pub struct Seed003Json<T>(pub T);

impl<T, S> FromRequest<S> for Seed003Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Seed003Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Seed003Error> {
        let ApiJson(value) = ApiJson::<T>::from_request(req, state).await?;
        Ok(Seed003Json(value))
    }
}

/// The `:sessionId` of the path, held to the same rule as in a body.
pub struct SessionParam(pub SessionId);

impl<S: Send + Sync> FromRequestParts<S> for SessionParam {
    type Rejection = Seed003Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Seed003Error> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
        Ok(SessionParam(input::session_id_text(&raw)?))
    }
}
