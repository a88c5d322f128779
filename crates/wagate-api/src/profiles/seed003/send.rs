//! `POST /messages/send`: a text through the native queue, answered once
//! WhatsApp's server acknowledged it, as the document's flow shows.

use super::error::Seed003Error;
use super::extract::{Seed003Caller, Seed003Json};
use super::input;
use crate::AppState;
use crate::error::ApiError;
use crate::messages::{SendMessageRequest, queue_one};
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;
use wagate_core::SessionKey;
use wagate_core::SessionStatus;
use wagate_core::outbound::OutboundStatus;

/// How long an answer waits for the server's ack. A message still unsent
/// then stays queued and goes out when it can, so the answer is success.
const ACK_WAIT: Duration = Duration::from_secs(15);
const ACK_POLL: Duration = Duration::from_millis(50);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendRequest {
    session_id: Option<Value>,
    to: Option<Value>,
    message: Option<Value>,
}

#[tracing::instrument(skip_all, fields(session_id))]
pub async fn send(
    State(state): State<AppState>,
    Seed003Caller(caller): Seed003Caller,
    headers: HeaderMap,
    Seed003Json(req): Seed003Json<SendRequest>,
) -> Result<Json<Value>, Seed003Error> {
    let id = input::session_id(req.session_id.as_ref())?;
    tracing::Span::current().record("session_id", id.as_str());
    let to = input::phone(req.to.as_ref())?;
    let text = input::message(req.message.as_ref())?;
    let record = caller.session(&state, id.as_str(), None).await?;
    // The document refuses rather than queues for a session that is not
    // connected; the native API would hold the message until it is.
    if record.status != SessionStatus::Connected {
        return Err(ApiError::BadRequest(format!("Session '{id}' is not connected")).into());
    }
    let request = SendMessageRequest {
        to,
        message: Some(text),
        ..SendMessageRequest::default()
    };
    let (_, queued) = queue_one(&state, &record, &request, None, &headers).await?;
    let message_id = queued["id"]
        .as_str()
        .ok_or_else(|| ApiError::Internal(format!("queue answered without an id: {queued}")))?
        .to_string();
    if let Some(reason) = failure_within(&state, &record.key, &message_id, ACK_WAIT).await? {
        return Err(ApiError::BadRequest(format!("Message could not be sent: {reason}")).into());
    }
    Ok(Json(json!({"success": true, "messageId": message_id})))
}

/// Waits up to `within` for the message to leave: `None` once the server
/// acknowledged it (or the time ran out with it still queued), the reason
/// if it failed for good.
async fn failure_within(
    state: &AppState,
    key: &SessionKey,
    id: &str,
    within: Duration,
) -> Result<Option<String>, ApiError> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let record = state.outgoing.queue.get(key, id).await?;
        match record.as_ref().map(|r| r.status) {
            Some(OutboundStatus::Failed) => {
                let reason = record.and_then(|r| r.last_error);
                return Ok(Some(reason.unwrap_or_else(|| "unknown reason".into())));
            }
            Some(
                OutboundStatus::Sent
                | OutboundStatus::Delivered
                | OutboundStatus::Read
                | OutboundStatus::Played,
            ) => return Ok(None),
            Some(OutboundStatus::Queued | OutboundStatus::Sending) | None => {}
        }
        if tokio::time::Instant::now() >= deadline {
            tracing::info!(
                message_id = id,
                "no server ack yet; the message stays queued"
            );
            return Ok(None);
        }
        tokio::time::sleep(ACK_POLL).await;
    }
}
