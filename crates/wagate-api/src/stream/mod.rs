//! The live event stream: a tenant's events as they are committed, over
//! Server-Sent Events (one session, or all) and WebSocket.
//!
//! Every item is the event's native payload, the body a native webhook
//! endpoint receives, so one parser serves webhooks and streams. Streams
//! read the durable outbox, never a queue in memory: a client that
//! reconnects with the id of the last event it got (`Last-Event-ID`, or
//! `lastEventId`) is sent everything after it from the database, in
//! order, before it follows new commits.

pub mod feed;
pub mod sse;
pub mod ws;

pub use feed::{Feed, FeedEnd, StreamItem, Subscription};

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use axum::Router;
use axum::routing::get;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use wagate_core::events::{EventFilter, EventId};
use wagate_core::{SessionId, TenantId};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/sessions/{id}/events", get(sse::session_events))
        .route("/api/v1/events", get(sse::tenant_events))
        .route("/api/v1/events/ws", get(ws::tenant_socket))
}

/// How often an idle stream sends a comment (SSE) or a ping (WebSocket),
/// well inside the minute after which proxies commonly drop quiet
/// connections.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Tells open streams that the server is stopping. A graceful shutdown
/// waits for every response to finish, and a stream never would by itself.
#[derive(Debug, Clone)]
pub struct Shutdown(Arc<watch::Sender<bool>>);

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown(Arc::new(watch::channel(false).0))
    }
}

impl Shutdown {
    /// Ends every open stream, and every stream opened from now on.
    pub fn begin(&self) {
        self.0.send_replace(true);
    }

    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.0.subscribe()
    }
}

/// Parses `events=` (comma-separated names, `*` for all) with the rules
/// of a webhook endpoint's filter.
fn parse_filter(raw: Option<&str>) -> Result<EventFilter, ApiError> {
    match raw {
        None => Ok(EventFilter::All),
        Some(raw) => Ok(EventFilter::parse(raw.split(',').map(str::trim))?),
    }
}

/// Where a stream starts: after the event the client names, else at the
/// newest event committed now.
async fn start_after(
    state: &AppState,
    caller: &Caller,
    tenant: TenantId,
    last_event_id: Option<&str>,
) -> Result<i64, ApiError> {
    let Some(raw) = last_event_id.map(str::trim).filter(|id| !id.is_empty()) else {
        return Ok(*state.events.subscribe().borrow());
    };
    let unknown = || ApiError::validation("lastEventId", format!("unknown event id '{raw}'"));
    let id = EventId::parse(raw).map_err(|_| unknown())?;
    // Another tenant's id, or another session's for a session key, is as
    // unknown as one never issued: the answer must not tell them apart.
    let event = state
        .events
        .event_by_id(tenant, id.as_str())
        .await?
        .filter(|e| {
            caller
                .session
                .as_ref()
                .is_none_or(|own| *own == e.key.session)
        })
        .ok_or_else(unknown)?;
    Ok(event.seq)
}

/// What a tenant-wide stream follows: the tenant's sessions, or the one
/// `session` names (a session key: always its own).
async fn tenant_subscription(
    state: &AppState,
    caller: &Caller,
    tenant_id: Option<i64>,
    session: Option<&str>,
    events: Option<&str>,
    last_event_id: Option<&str>,
) -> Result<Subscription, ApiError> {
    let tenant = caller.tenant_filter(tenant_id)?.unwrap_or(caller.tenant);
    let session: Option<SessionId> = match session {
        Some(raw) => Some(
            caller
                .session(state, raw, Some(tenant.0))
                .await?
                .key
                .session,
        ),
        None => caller.session.clone(),
    };
    let filter = parse_filter(events)?;
    let after = start_after(state, caller, tenant, last_event_id).await?;
    Ok(Subscription {
        tenant,
        session,
        filter,
        after,
    })
}

/// What one session's stream follows.
async fn session_subscription(
    state: &AppState,
    caller: &Caller,
    id: &str,
    tenant_id: Option<i64>,
    events: Option<&str>,
    last_event_id: Option<&str>,
) -> Result<Subscription, ApiError> {
    let record = caller.session(state, id, tenant_id).await?;
    let filter = parse_filter(events)?;
    let after = start_after(state, caller, record.key.tenant, last_event_id).await?;
    Ok(Subscription {
        tenant: record.key.tenant,
        session: Some(record.key.session),
        filter,
        after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wagate_core::events::EventKind;

    #[test]
    fn filters_read_like_a_webhook_endpoints() {
        assert_eq!(parse_filter(None).unwrap(), EventFilter::All);
        assert_eq!(parse_filter(Some("*")).unwrap(), EventFilter::All);
        assert_eq!(
            parse_filter(Some("message.received, session.status")).unwrap(),
            EventFilter::Only(vec![EventKind::MessageReceived, EventKind::SessionStatus])
        );
        let err = parse_filter(Some("message.received,message_recieved")).unwrap_err();
        assert!(err.to_string().contains("\"message_recieved\""), "{err}");
        assert!(parse_filter(Some("")).is_err());
    }

    #[tokio::test]
    async fn shutdown_reaches_streams_opened_before_and_after() {
        let shutdown = Shutdown::default();
        let mut before = shutdown.subscribe();
        assert!(!*before.borrow());
        shutdown.begin();
        before.wait_for(|s| *s).await.unwrap();
        assert!(*shutdown.subscribe().borrow());
    }
}
