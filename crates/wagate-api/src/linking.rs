//! Linking a session to a phone: (re)connecting, pairing by code, and
//! logging out.

use crate::AppState;
use crate::auth::{Caller, TenantQuery};
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;
use crate::views::SessionView;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wagate_core::{Recipient, SessionKey};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/sessions/{id}/connect", post(connect_session))
        .route("/api/v1/sessions/{id}/logout", post(logout_session))
        .route("/api/v1/sessions/{id}/pair-code", post(request_pair_code))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PairCodeRequest {
    /// The phone to link, with country code.
    #[schema(example = "5511999999999")]
    pub phone_number: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PairCodeResponse {
    /// Enter this on the phone under "Link with phone number".
    #[schema(example = "ABCD1234")]
    pub pair_code: String,
}

async fn current(state: &AppState, key: &SessionKey) -> Result<SessionView, ApiError> {
    let record = state
        .store
        .session(key)
        .await?
        .ok_or_else(|| ApiError::session_not_found(&key.session))?;
    Ok(record.into())
}

/// Start (or restart) the session's connection; watch its status for the QR.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/connect", tag = "sessions",
    params(("id" = String, Path, description = "Session id"), TenantQuery),
    responses((status = 202, description = "Connecting", body = SessionView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
#[tracing::instrument(skip_all, fields(session_id = %id))]
pub async fn connect_session(
    State(state): State<AppState>,
    caller: Caller,
    query: TenantQuery,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<SessionView>), ApiError> {
    let record = caller.session(&state, &id, query.tenant_id).await?;
    state.control.connect(&record.key).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(current(&state, &record.key).await?),
    ))
}

/// Unlink the device from the phone; the session ends in `logged_out`.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/logout", tag = "sessions",
    params(("id" = String, Path, description = "Session id"), TenantQuery),
    responses((status = 200, body = SessionView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
#[tracing::instrument(skip_all, fields(session_id = %id))]
pub async fn logout_session(
    State(state): State<AppState>,
    caller: Caller,
    query: TenantQuery,
    Path(id): Path<String>,
) -> Result<Json<SessionView>, ApiError> {
    let record = caller.session(&state, &id, query.tenant_id).await?;
    state.control.logout(&record.key).await?;
    Ok(Json(current(&state, &record.key).await?))
}

/// Link by phone number instead of QR: returns the 8-character code to
/// enter on the phone.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/pair-code", tag = "sessions",
    params(("id" = String, Path, description = "Session id"), TenantQuery),
    request_body = PairCodeRequest,
    responses((status = 200, body = PairCodeResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
#[tracing::instrument(skip_all, fields(session_id = %id))]
pub async fn request_pair_code(
    State(state): State<AppState>,
    caller: Caller,
    query: TenantQuery,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<PairCodeRequest>,
) -> Result<Json<PairCodeResponse>, ApiError> {
    let record = caller.session(&state, &id, query.tenant_id).await?;
    let Ok(Recipient::Phone(digits)) = Recipient::parse(&req.phone_number) else {
        return Err(ApiError::validation(
            "phoneNumber",
            "must be a phone number with country code (digits, optional '+')",
        ));
    };
    let pair_code = state.control.pair_code(&record.key, &digits).await?;
    Ok(Json(PairCodeResponse { pair_code }))
}
