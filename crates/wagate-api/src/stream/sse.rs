//! Server-Sent Events: `GET /api/v1/sessions/{id}/events` for one
//! session, `GET /api/v1/events` for all of a tenant's. Each message
//! carries the event's id (for `Last-Event-ID`), its type as the SSE event
//! name, and the native payload as data.

use super::{
    Feed, FeedEnd, KEEP_ALIVE, StreamItem, Subscription, session_subscription, tenant_subscription,
};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::http::header::HeaderName;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use serde::Deserialize;
use std::convert::Infallible;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SessionStreamQuery {
    /// Comma-separated event types, e.g. `message.received,session.status`;
    /// `*` (the default) for all, including types added later.
    pub events: Option<String>,
    /// Resume after this event id, for clients that cannot send the
    /// `Last-Event-ID` header (the header wins when both are sent).
    pub last_event_id: Option<String>,
    /// Admin keys only: the tenant of the session.
    pub tenant_id: Option<i64>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TenantStreamQuery {
    /// Comma-separated event types; `*` (the default) for all.
    pub events: Option<String>,
    /// Only this session's events (a session key: always its own).
    pub session: Option<String>,
    /// Resume after this event id (for WebSocket clients, and SSE clients
    /// that cannot send `Last-Event-ID`).
    pub last_event_id: Option<String>,
    /// Admin keys only: the tenant to follow (default: the key's own).
    pub tenant_id: Option<i64>,
}

pub(super) fn bad_query(rejection: QueryRejection) -> ApiError {
    ApiError::BadRequest(format!("Invalid query: {}", rejection.body_text()))
}

/// The `Last-Event-ID` header an `EventSource` sends when it reconnects,
/// else the query's `lastEventId`.
fn last_event_id<'a>(
    headers: &'a HeaderMap,
    query: Option<&'a str>,
) -> Result<Option<&'a str>, ApiError> {
    match headers.get("last-event-id") {
        Some(value) => value.to_str().map(Some).map_err(|_| {
            ApiError::validation("Last-Event-ID", "unknown event id (not visible ASCII)")
        }),
        None => Ok(query),
    }
}

/// One session's events as they are committed.
#[utoipa::path(get, path = "/api/v1/sessions/{id}/events", tag = "events",
    params(
        ("id" = String, Path, description = "Session id"),
        SessionStreamQuery,
        ("Last-Event-ID" = Option<String>, Header,
            description = "Resume after this event: every later event is sent first, in order"),
    ),
    responses(
        (status = 200, content_type = "text/event-stream", body = String,
            description = "Server-Sent Events: `id` is the event id, `event` its type, `data` the native payload (as a native webhook receives it); a comment every 15 s keeps the connection open"),
        (status = 400, description = "Unknown event type in `events`, or unknown `Last-Event-ID`", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
#[tracing::instrument(skip_all, fields(session_id = %id))]
pub async fn session_events(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    query: Result<Query<SessionStreamQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(bad_query)?;
    let resume = last_event_id(&headers, q.last_event_id.as_deref())?;
    let subscription = session_subscription(
        &state,
        &caller,
        &id,
        q.tenant_id,
        q.events.as_deref(),
        resume,
    )
    .await?;
    Ok(respond(&state, subscription))
}

/// All of a tenant's events (or one session's) as they are committed.
#[utoipa::path(get, path = "/api/v1/events", tag = "events",
    params(
        TenantStreamQuery,
        ("Last-Event-ID" = Option<String>, Header,
            description = "Resume after this event: every later event is sent first, in order"),
    ),
    responses(
        (status = 200, content_type = "text/event-stream", body = String,
            description = "Server-Sent Events as for one session, for every session of the tenant"),
        (status = 400, description = "Unknown event type in `events`, or unknown `Last-Event-ID`", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "Unknown `session`", body = ErrorBody),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
#[tracing::instrument(skip_all)]
pub async fn tenant_events(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    query: Result<Query<TenantStreamQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(bad_query)?;
    let resume = last_event_id(&headers, q.last_event_id.as_deref())?;
    let subscription = tenant_subscription(
        &state,
        &caller,
        q.tenant_id,
        q.session.as_deref(),
        q.events.as_deref(),
        resume,
    )
    .await?;
    Ok(respond(&state, subscription))
}

fn respond(state: &AppState, subscription: Subscription) -> Response {
    let feed = Feed::new(state.events.clone(), subscription, &state.shutdown);
    let sse = Sse::new(messages(feed)).keep_alive(KeepAlive::new().interval(KEEP_ALIVE));
    // Buffering proxies (nginx) would hold events back until a buffer fills.
    let unbuffered = [(HeaderName::from_static("x-accel-buffering"), "no")];
    (unbuffered, sse).into_response()
}

/// The feed as SSE messages; it ends when the server stops or the outbox
/// cannot be read, and the client resumes from the last id it got.
fn messages(feed: Feed) -> impl Stream<Item = Result<Event, Infallible>> {
    futures::stream::unfold(feed, |mut feed| async move {
        match feed.next().await {
            Ok(item) => Some((Ok(message(&item)), feed)),
            Err(FeedEnd::Stopping) => None,
            Err(FeedEnd::Failed(e)) => {
                tracing::error!("event stream ends: {e}");
                None
            }
        }
    })
}

fn message(item: &StreamItem) -> Event {
    Event::default()
        .id(&item.id)
        .event(item.kind.as_str())
        .data(item.payload.to_string())
}
