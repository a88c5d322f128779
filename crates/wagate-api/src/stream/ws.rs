//! WebSocket: `GET /api/v1/events/ws`, all of a tenant's events (or one
//! session's), one text frame per event holding its native payload, which
//! carries the event's `id` and `type`.

use super::sse::{TenantStreamQuery, bad_query};
use super::{Feed, FeedEnd, KEEP_ALIVE, tenant_subscription};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use axum::extract::rejection::QueryRejection;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;

/// RFC 6455 close codes.
const GOING_AWAY: u16 = 1001;
const INTERNAL_ERROR: u16 = 1011;

/// A tenant's events over a WebSocket.
#[utoipa::path(get, path = "/api/v1/events/ws", tag = "events",
    params(TenantStreamQuery),
    responses(
        (status = 101, description = "Switching Protocols: one text frame per event, its native payload `{\"id\", \"type\", \"timestamp\", \"sessionId\", \"data\"}` as a native webhook receives it; a ping every 15 s; closed with 1001 when the server stops"),
        (status = 400, description = "Not a WebSocket upgrade, unknown event type in `events`, or unknown `lastEventId`", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "Unknown `session`", body = ErrorBody),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
#[tracing::instrument(skip_all)]
pub async fn tenant_socket(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<TenantStreamQuery>, QueryRejection>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(bad_query)?;
    let subscription = tenant_subscription(
        &state,
        &caller,
        q.tenant_id,
        q.session.as_deref(),
        q.events.as_deref(),
        q.last_event_id.as_deref(),
    )
    .await?;
    let upgrade = upgrade.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let feed = Feed::new(state.events.clone(), subscription, &state.shutdown);
    Ok(upgrade.on_upgrade(move |socket| follow(socket, feed)))
}

/// Sends the feed down `socket` until either side is done.
async fn follow(mut socket: WebSocket, mut feed: Feed) {
    let mut ping = tokio::time::interval(KEEP_ALIVE);
    ping.tick().await;
    let close = loop {
        tokio::select! {
            next = feed.next() => match next {
                Ok(item) => {
                    let frame = Message::text(item.payload.to_string());
                    if socket.send(frame).await.is_err() {
                        return;
                    }
                }
                Err(FeedEnd::Stopping) => break (GOING_AWAY, "server shutting down"),
                Err(FeedEnd::Failed(e)) => {
                    tracing::error!("event stream ends: {e}");
                    break (INTERNAL_ERROR, "events could not be read; resume with lastEventId");
                }
            },
            incoming = socket.recv() => match incoming {
                // What a client sends is not read; pongs are answered
                // by the socket itself.
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    return;
                }
            }
        }
    };
    let (code, reason) = close;
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}
