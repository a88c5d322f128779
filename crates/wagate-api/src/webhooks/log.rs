//! An endpoint's delivery log, and sending events to it again.

use super::find_endpoint;
use crate::AppState;
use crate::auth::{Caller, TenantQuery};
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wagate_core::EventId;
use wagate_store::events::{AttemptRecord, DeliveryRecord};

const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 500;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    pub tenant_id: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<i64>,
    /// 1-500, default 50.
    pub limit: Option<u32>,
}

type QueryResult = Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>;

fn page_query(query: QueryResult) -> Result<PageQuery, ApiError> {
    let Query(q) =
        query.map_err(|e| ApiError::BadRequest(format!("Invalid query: {}", e.body_text())))?;
    if q.limit.is_some_and(|l| !(1..=MAX_PAGE).contains(&l)) {
        return Err(ApiError::validation(
            "limit",
            format!("must be from 1 to {MAX_PAGE}"),
        ));
    }
    Ok(q)
}

/// Cuts a page fetched one longer than `limit`; the cursor is the last id
/// shown when more follow.
fn paged<T>(mut items: Vec<T>, limit: u32, id: impl Fn(&T) -> i64) -> (Vec<T>, Option<i64>) {
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next = more.then(|| items.last().map(&id)).flatten();
    (items, next)
}

/// One delivery: an event on its way to the endpoint.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    pub id: i64,
    #[schema(example = "evt_5f1c0a9e2b7d4c3a8e6f0b1d")]
    pub event_id: String,
    #[schema(example = "message.received")]
    pub event_type: String,
    /// pending, delivering, delivered, failed, skipped or cancelled.
    #[schema(example = "delivered")]
    pub status: String,
    pub attempts: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl From<DeliveryRecord> for DeliveryView {
    fn from(d: DeliveryRecord) -> Self {
        DeliveryView {
            id: d.id,
            event_id: d.event_id,
            event_type: d.event_type,
            status: d.status,
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            created_at: d.created_at,
            delivered_at: d.delivered_at,
        }
    }
}

/// One POST to the endpoint and what came of it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptView {
    pub id: i64,
    pub delivery_id: i64,
    pub event_id: String,
    pub event_type: String,
    /// 1 for the first try of a delivery.
    pub attempt: u32,
    pub at: DateTime<Utc>,
    pub status_code: Option<u16>,
    pub latency_ms: i64,
    /// The start of the receiver's answer (at most 20 KB).
    pub response_body: Option<String>,
    pub error: Option<String>,
    #[schema(example = "delivered")]
    pub verdict: String,
}

impl From<AttemptRecord> for AttemptView {
    fn from(a: AttemptRecord) -> Self {
        AttemptView {
            id: a.id,
            delivery_id: a.delivery_id,
            event_id: a.event_id,
            event_type: a.event_type,
            attempt: a.attempt,
            at: a.at,
            status_code: a.status_code,
            latency_ms: a.latency_ms,
            response_body: a.response_body,
            error: a.error,
            verdict: a.verdict,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryPage {
    pub items: Vec<DeliveryView>,
    /// Pass as `cursor` for the next (older) page; null on the last.
    pub next_cursor: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptPage {
    pub items: Vec<AttemptView>,
    /// Pass as `cursor` for the next (older) page; null on the last.
    pub next_cursor: Option<i64>,
}

/// The endpoint's deliveries, newest first.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path, description = "Endpoint id"), PageQuery),
    responses((status = 200, body = DeliveryPage), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    query: QueryResult,
) -> Result<Json<DeliveryPage>, ApiError> {
    let q = page_query(query)?;
    let endpoint = find_endpoint(&state, &caller, q.tenant_id, &id).await?;
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    let rows = state
        .events
        .deliveries(&endpoint.id, q.cursor, limit + 1)
        .await?;
    let (rows, next_cursor) = paged(rows, limit, |d| d.id);
    Ok(Json(DeliveryPage {
        items: rows.into_iter().map(DeliveryView::from).collect(),
        next_cursor,
    }))
}

/// The endpoint's attempts, newest first.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/attempts", tag = "webhooks",
    params(("id" = String, Path, description = "Endpoint id"), PageQuery),
    responses((status = 200, body = AttemptPage), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn list_attempts(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    query: QueryResult,
) -> Result<Json<AttemptPage>, ApiError> {
    let q = page_query(query)?;
    let endpoint = find_endpoint(&state, &caller, q.tenant_id, &id).await?;
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    let rows = state
        .events
        .attempts(&endpoint.id, q.cursor, limit + 1)
        .await?;
    let (rows, next_cursor) = paged(rows, limit, |a| a.id);
    Ok(Json(AttemptPage {
        items: rows.into_iter().map(AttemptView::from).collect(),
        next_cursor,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResendRequest {
    #[schema(example = "evt_5f1c0a9e2b7d4c3a8e6f0b1d")]
    pub event_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Resent {
    pub delivery_id: i64,
}

/// Sends one event to the endpoint again, as a new delivery due now.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/resend", tag = "webhooks",
    params(("id" = String, Path, description = "Endpoint id"), TenantQuery),
    request_body = ResendRequest,
    responses((status = 202, description = "Queued", body = Resent),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "Unknown endpoint, or an event it does not get", body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
#[tracing::instrument(skip_all, fields(endpoint_id = %id))]
pub async fn resend(
    State(state): State<AppState>,
    caller: Caller,
    query: TenantQuery,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ResendRequest>,
) -> Result<(StatusCode, Json<Resent>), ApiError> {
    let endpoint = find_endpoint(&state, &caller, query.tenant_id, &id).await?;
    let event_id = EventId::parse(&req.event_id)?;
    // A session's endpoint gets that session's events only, resent or not.
    let event = state
        .events
        .event_by_id(endpoint.tenant, event_id.as_str())
        .await?
        .filter(|e| {
            endpoint
                .session
                .as_ref()
                .is_none_or(|s| *s == e.key.session)
        })
        .ok_or_else(|| ApiError::NotFound(format!("Event '{event_id}' not found")))?;
    let delivery_id = state.events.resend(&endpoint.id, event.seq).await?;
    Ok((StatusCode::ACCEPTED, Json(Resent { delivery_id })))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplayRequest {
    /// Events created at or after this time (RFC 3339).
    #[schema(example = "2024-01-15T10:00:00Z")]
    pub since: DateTime<Utc>,
    /// Events created before this time (RFC 3339); default now.
    pub until: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Replayed {
    /// Deliveries queued.
    pub queued: u64,
}

/// Sends every event of a time range the endpoint would get (its session
/// and event filter) to it again.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/replay", tag = "webhooks",
    params(("id" = String, Path, description = "Endpoint id"), TenantQuery),
    request_body = ReplayRequest,
    responses((status = 202, description = "Queued", body = Replayed),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
#[tracing::instrument(skip_all, fields(endpoint_id = %id))]
pub async fn replay(
    State(state): State<AppState>,
    caller: Caller,
    query: TenantQuery,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ReplayRequest>,
) -> Result<(StatusCode, Json<Replayed>), ApiError> {
    let endpoint = find_endpoint(&state, &caller, query.tenant_id, &id).await?;
    let until = req.until.unwrap_or_else(Utc::now);
    if req.since >= until {
        return Err(ApiError::validation(
            "since",
            "must be before until (which defaults to now)",
        ));
    }
    let queued = state
        .events
        .replay(endpoint.tenant, &endpoint.id, req.since, until)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(Replayed { queued })))
}

#[cfg(test)]
mod tests {
    use super::paged;

    #[test]
    fn cursor_only_when_more_follow() {
        assert_eq!(paged(vec![9, 8, 7], 2, |i| *i), (vec![9, 8], Some(8)));
        assert_eq!(paged(vec![9, 8], 2, |i| *i), (vec![9, 8], None));
        assert_eq!(paged(Vec::<i64>::new(), 2, |i| *i), (vec![], None));
    }
}
