//! A session's pacing settings over the configured defaults.

use crate::AppState;
use crate::auth::{Caller, TenantQuery};
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;
use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use utoipa::ToSchema;
use wagate_core::outbound::{SendPolicy, SendPolicyOverrides};

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyView {
    /// What the session follows now.
    #[schema(value_type = Object)]
    pub effective: SendPolicy,
    /// The session's own settings; unset fields follow the defaults.
    #[schema(value_type = Object)]
    pub overrides: SendPolicyOverrides,
}

fn view(state: &AppState, overrides: SendPolicyOverrides) -> PolicyView {
    PolicyView {
        effective: state.outgoing.default_policy.with(&overrides),
        overrides,
    }
}

/// The session's send pacing.
#[utoipa::path(get, path = "/api/v1/sessions/{id}/send-policy", tag = "messages",
    params(("id" = String, Path, description = "Session id"), TenantQuery),
    responses((status = 200, body = PolicyView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn get_policy(
    State(state): State<AppState>,
    caller: Caller,
    query: TenantQuery,
    Path(id): Path<String>,
) -> Result<Json<PolicyView>, ApiError> {
    let session = caller.session(&state, &id, query.tenant_id).await?;
    let overrides = state.outgoing.queue.policy(&session.key).await?;
    Ok(Json(view(&state, overrides)))
}

/// Replace the session's pacing settings (`{}` restores the defaults):
/// `minIntervalMs`, `jitterPercent`, `hourlyCap`, `firstContactDailyCap`,
/// `typingMs`; 0 turns a cap off.
#[utoipa::path(put, path = "/api/v1/sessions/{id}/send-policy", tag = "messages",
    params(("id" = String, Path, description = "Session id"), TenantQuery),
    request_body(content = Object),
    responses((status = 200, body = PolicyView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn put_policy(
    State(state): State<AppState>,
    caller: Caller,
    query: TenantQuery,
    Path(id): Path<String>,
    ApiJson(overrides): ApiJson<SendPolicyOverrides>,
) -> Result<Json<PolicyView>, ApiError> {
    let session = caller.session(&state, &id, query.tenant_id).await?;
    overrides.check()?;
    state
        .outgoing
        .queue
        .set_policy(&session.key, &overrides)
        .await?;
    state.outgoing.wake(&session.key);
    Ok(Json(view(&state, overrides)))
}
