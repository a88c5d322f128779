//! Moving a session to a named gateway node (admins only): its node lets
//! what it is sending finish, stops it and hands it over; the target node
//! connects it from the database, with no new QR.

use crate::AppState;
use crate::auth::{Caller, TenantQuery};
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;
use crate::nodes::MISSING_AFTER;
use crate::views::SessionView;
use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use chrono::Utc;
use serde::Deserialize;
use utoipa::ToSchema;
use wagate_core::CoreError;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/sessions/{id}/move", post(move_session))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MoveRequest {
    /// The node to run the session on (an id from `GET /api/v1/admin/nodes`).
    #[schema(example = "node_3f9c2a7b1e04d685")]
    pub node: String,
}

/// Move a session to another node; answers the session as it is after.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/move", tag = "nodes",
    params(("id" = String, Path, description = "Session id"), TenantQuery),
    request_body = MoveRequest,
    responses((status = 200, body = SessionView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
#[tracing::instrument(skip_all, fields(session_id = %id))]
pub async fn move_session(
    State(state): State<AppState>,
    caller: Caller,
    query: TenantQuery,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<MoveRequest>,
) -> Result<Json<SessionView>, ApiError> {
    caller.require_admin()?;
    let record = caller.session(&state, &id, query.tenant_id).await?;
    let now = Utc::now();
    let target = state
        .store
        .nodes()
        .await?
        .into_iter()
        .find(|n| n.id == req.node)
        .ok_or_else(|| CoreError::validation("node", format!("no node '{}'", req.node)))?;
    if target.stopped_at.is_some() || now - target.last_heartbeat > MISSING_AFTER {
        return Err(
            CoreError::validation("node", format!("node '{}' is not running", req.node)).into(),
        );
    }
    if !target.roles.iter().any(|r| r == "engine") {
        return Err(CoreError::validation(
            "node",
            format!("node '{}' does not run sessions (no engine role)", req.node),
        )
        .into());
    }
    state.control.move_to(&record.key, &req.node).await?;
    let moved = state
        .store
        .session(&record.key)
        .await?
        .ok_or_else(|| CoreError::NotFound(format!("Session '{id}'")))?;
    Ok(Json(SessionView::from(moved)))
}
