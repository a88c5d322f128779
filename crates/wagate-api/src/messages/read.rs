//! Reading messages back: one by id, or a filtered page.

use crate::AppState;
use crate::auth::{Caller, TenantQuery};
use crate::error::{ApiError, ErrorBody};
use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wagate_core::outbound::{MessageId, OutboundStatus};
use wagate_core::{Recipient, SessionStatus};
use wagate_store::OutboundRecord;
use wagate_store::domain::SessionRecord;
use wagate_store::outbound::ListFilter;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    #[schema(example = "3EB0B430A7C9D2F17E92AB")]
    pub id: String,
    /// The recipient's JID.
    #[schema(example = "5511999999999@s.whatsapp.net")]
    pub to: String,
    #[serde(rename = "type")]
    #[schema(example = "text")]
    pub kind: String,
    /// queued, sending, sent, delivered, read, played or failed.
    #[schema(example = "delivered")]
    pub status: String,
    /// Why a queued message is not out yet.
    pub wait_reason: Option<String>,
    pub attempts: u32,
    /// Why the last try failed (or why the message failed).
    pub last_error: Option<String>,
    pub batch_id: Option<String>,
    pub send_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub read_at: Option<DateTime<Utc>>,
    pub played_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
    /// What was queued, as stored.
    #[schema(value_type = Object)]
    pub content: serde_json::Value,
}

/// Why a queued message waits, from the most specific reason down.
fn wait_reason(
    r: &OutboundRecord,
    session: &SessionRecord,
    paused: Option<&str>,
) -> Option<String> {
    if r.status != OutboundStatus::Queued {
        return None;
    }
    if let Some(reason) = &r.wait_reason {
        return Some(reason.clone());
    }
    if r.send_at.is_some_and(|t| t > Utc::now()) {
        return Some("scheduled".into());
    }
    if session.status != SessionStatus::Connected {
        return Some(format!("session is {}", session.status.as_str()));
    }
    paused.map(str::to_string)
}

fn view(r: OutboundRecord, session: &SessionRecord, paused: Option<&str>) -> MessageView {
    MessageView {
        wait_reason: wait_reason(&r, session, paused),
        id: r.id.to_string(),
        to: r.recipient,
        kind: r.kind,
        status: r.status.as_str().to_string(),
        attempts: r.attempts,
        last_error: r.last_error,
        batch_id: r.batch_id,
        send_at: r.send_at,
        created_at: r.created_at,
        sent_at: r.sent_at,
        delivered_at: r.delivered_at,
        read_at: r.read_at,
        played_at: r.played_at,
        failed_at: r.failed_at,
        content: serde_json::to_value(&r.body).unwrap_or_default(),
    }
}

/// One message and where it is.
#[utoipa::path(get, path = "/api/v1/sessions/{id}/messages/{messageId}", tag = "messages",
    params(("id" = String, Path, description = "Session id"),
        ("messageId" = String, Path, description = "Message id"), TenantQuery),
    responses((status = 200, body = MessageView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn get_message(
    State(state): State<AppState>,
    caller: Caller,
    query: TenantQuery,
    Path((id, message_id)): Path<(String, String)>,
) -> Result<Json<MessageView>, ApiError> {
    let session = caller.session(&state, &id, query.tenant_id).await?;
    let not_found = || ApiError::NotFound(format!("Message '{message_id}' not found"));
    let mid = MessageId::parse(&message_id).map_err(|_| not_found())?;
    let record = state
        .outgoing
        .queue
        .get(&session.key, mid.as_str())
        .await?
        .ok_or_else(not_found)?;
    let paused = state.outgoing.queue.paused(&session.key).await?;
    Ok(Json(view(
        record,
        &session,
        paused.as_ref().map(|p| p.1.as_str()),
    )))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    pub tenant_id: Option<i64>,
    /// Only messages in this status.
    pub status: Option<String>,
    /// Only messages to this phone number or JID.
    pub to: Option<String>,
    /// Accepted at or after (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Accepted before (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    pub batch_id: Option<String>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<i64>,
    /// 1-500, default 50.
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessagePage {
    pub items: Vec<MessageView>,
    /// Pass as `cursor` for the next (older) page; null on the last.
    pub next_cursor: Option<i64>,
}

/// The session's messages, newest first.
#[utoipa::path(get, path = "/api/v1/sessions/{id}/messages", tag = "messages",
    params(("id" = String, Path, description = "Session id"), ListQuery),
    responses((status = 200, body = MessagePage), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn list_messages(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<MessagePage>, ApiError> {
    let Query(q) =
        query.map_err(|e| ApiError::BadRequest(format!("Invalid query: {}", e.body_text())))?;
    let session = caller.session(&state, &id, q.tenant_id).await?;
    let status = match &q.status {
        Some(s) => Some(OutboundStatus::parse(s).ok_or_else(|| {
            ApiError::validation(
                "status",
                "must be one of queued, sending, sent, delivered, read, played, failed",
            )
        })?),
        None => None,
    };
    let recipient =
        q.to.as_deref()
            .map(Recipient::parse)
            .transpose()?
            .map(|r| r.to_jid());
    let filter = ListFilter {
        status,
        recipient,
        since_ms: q.since.map(|t| t.timestamp_millis()),
        until_ms: q.until.map(|t| t.timestamp_millis()),
        batch_id: q.batch_id,
        before_seq: q.cursor,
        limit: q.limit.unwrap_or(50),
    };
    let page = state.outgoing.queue.list(&session.key, &filter).await?;
    let paused = state.outgoing.queue.paused(&session.key).await?;
    let paused = paused.as_ref().map(|p| p.1.as_str());
    Ok(Json(MessagePage {
        items: page
            .items
            .into_iter()
            .map(|r| view(r, &session, paused))
            .collect(),
        next_cursor: page.next,
    }))
}
