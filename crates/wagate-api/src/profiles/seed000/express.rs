//! The answers of the Express-built gateways whose clients the seed 000
//! and external profiles serve: `{"success": true, …}` on success and
//! `{"success": false, "error": "<Kind>", "message": "<text>"}` on
//! failure, with the status and kind the native API gives the same
//! failure. The extractors here reject in that shape too, so a client
//! never sees the native error body on these routes.

use crate::AppState;
use crate::auth::{Caller, TenantQuery};
use crate::error::ApiError;
use crate::json::ApiJson;
use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use wagate_core::CoreError;

/// A failure, answered as `{"success": false, "error", "message"}`.
#[derive(Debug)]
pub struct ExpressError(pub ApiError);

impl From<ApiError> for ExpressError {
    fn from(err: ApiError) -> Self {
        ExpressError(err)
    }
}

impl From<CoreError> for ExpressError {
    fn from(err: CoreError) -> Self {
        ExpressError(err.into())
    }
}

impl IntoResponse for ExpressError {
    fn into_response(self) -> Response {
        // The message of a field error already starts with the field's
        // name, so nothing is lost by leaving out the native `field`; a
        // tier limit's wait still goes out as `Retry-After`.
        let (status, body) = self.0.into_parts();
        let shaped = json!({"success": false, "error": body.error, "message": body.message});
        crate::error::answer(status, body.retry_after, shaped)
    }
}

/// The caller, authenticated by the native extractor (an API key in
/// `x-api-key` or `Authorization: Bearer`).
pub struct Key(pub Caller);

impl FromRequestParts<AppState> for Key {
    type Rejection = ExpressError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ExpressError> {
        Ok(Key(Caller::from_request_parts(parts, state).await?))
    }
}

/// `?tenantId=`: lets an admin key name the tenant of a session id that
/// several tenants use.
pub struct Tenant(pub Option<i64>);

impl FromRequestParts<AppState> for Tenant {
    type Rejection = ExpressError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ExpressError> {
        let query = TenantQuery::from_request_parts(parts, state).await?;
        Ok(Tenant(query.tenant_id))
    }
}

/// The session id in the path.
pub struct SessionPath(pub String);

impl FromRequestParts<AppState> for SessionPath {
    type Rejection = ExpressError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ExpressError> {
        let Path(id) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::BadRequest(format!("Invalid path: {}", e.body_text())))?;
        Ok(SessionPath(id))
    }
}

/// A JSON body, read and checked as the native API reads one.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ExpressError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ExpressError> {
        let ApiJson(value) = ApiJson::<T>::from_request(req, state).await?;
        Ok(JsonBody(value))
    }
}

/// Unknown paths under a profile's prefix.
pub async fn no_route() -> ExpressError {
    ApiError::NotFound("No such endpoint".to_string()).into()
}

/// A known path with a method it does not serve.
pub async fn wrong_method() -> ExpressError {
    ApiError::MethodNotAllowed.into()
}

/// Stops reading a request body after `limit` bytes, for routes whose
/// limit depends on the configured media limits and so cannot be set
/// when the router is built. [`BodyCap::hit`] tells a body that was cut
/// off from a malformed one.
#[derive(Clone, Default)]
pub struct BodyCap(Arc<AtomicBool>);

impl BodyCap {
    pub fn apply(&self, request: Request, limit: usize) -> Request {
        let hit = self.0.clone();
        request.map(|body| {
            let mut seen = 0usize;
            Body::from_stream(body.into_data_stream().map(move |chunk| {
                let chunk = chunk?;
                seen = seen.saturating_add(chunk.len());
                if seen > limit {
                    hit.store(true, Ordering::SeqCst);
                    return Err(axum::Error::new(std::io::Error::other(
                        "request body exceeds its limit",
                    )));
                }
                Ok(chunk)
            }))
        })
    }

    pub fn hit(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// `err`, or 413 when the body was cut off at `limit`.
    pub fn explain(&self, err: ApiError, limit: usize) -> ApiError {
        if self.hit() {
            ApiError::PayloadTooLarge(format!("Request body exceeds the limit of {limit} bytes"))
        } else {
            err
        }
    }
}
