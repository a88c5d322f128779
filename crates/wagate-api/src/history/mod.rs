//! Message history: a session's chats, and each chat's messages in both
//! directions, paged like every other listing.

pub mod view;

pub use view::{ChatMessageView, ChatView};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wagate_core::Recipient;
use wagate_store::history::{ChatQuery, MAX_PAGE};

const DEFAULT_PAGE: u32 = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/sessions/{id}/chats", get(list_chats))
        .route(
            "/api/v1/sessions/{id}/chats/{chat_id}/messages",
            get(chat_messages),
        )
}

/// Everything arrives as text, so a bad value is answered naming its
/// parameter rather than with a generic parse error.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Admin keys only: the tenant of the session.
    #[param(value_type = Option<i64>)]
    pub tenant_id: Option<String>,
    /// `nextCursor` of the previous page.
    #[param(value_type = Option<i64>)]
    pub cursor: Option<String>,
    /// 1-500, default 50.
    #[param(value_type = Option<u32>)]
    pub limit: Option<String>,
    /// Messages only: `desc` (newest first, the default) or `asc`.
    pub order: Option<String>,
    /// Messages only: written before this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub before: Option<String>,
    /// Messages only: written after this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub after: Option<String>,
}

type QueryResult = Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>;

fn number<T: std::str::FromStr>(field: &str, raw: Option<&str>) -> Result<Option<T>, ApiError> {
    raw.map(|v| {
        v.parse()
            .map_err(|_| ApiError::validation(field, "must be an integer"))
    })
    .transpose()
}

fn time(field: &str, raw: Option<&str>) -> Result<Option<i64>, ApiError> {
    raw.map(|v| {
        DateTime::parse_from_rfc3339(v)
            .map(|t| t.with_timezone(&Utc).timestamp_millis())
            .map_err(|_| ApiError::validation(field, "must be an RFC 3339 time"))
    })
    .transpose()
}

/// The parts every history listing shares: tenant, cursor and limit.
struct Paging {
    tenant_id: Option<i64>,
    cursor: Option<i64>,
    limit: u32,
}

fn paging(q: &HistoryQuery) -> Result<Paging, ApiError> {
    let limit = number::<u32>("limit", q.limit.as_deref())?.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::validation(
            "limit",
            format!("must be from 1 to {MAX_PAGE}"),
        ));
    }
    Ok(Paging {
        tenant_id: number("tenantId", q.tenant_id.as_deref())?,
        cursor: number("cursor", q.cursor.as_deref())?,
        limit,
    })
}

fn query(query: QueryResult) -> Result<HistoryQuery, ApiError> {
    query
        .map(|Query(q)| q)
        .map_err(|e| ApiError::BadRequest(format!("Invalid query: {}", e.body_text())))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatPage {
    pub items: Vec<ChatView>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessagePage {
    pub items: Vec<ChatMessageView>,
    /// Pass as `cursor` (with the same `order`) for the next page; null
    /// on the last.
    pub next_cursor: Option<i64>,
}

/// The session's chats, the one with the newest activity first.
#[utoipa::path(get, path = "/api/v1/sessions/{id}/chats", tag = "history",
    params(("id" = String, Path, description = "Session id"), HistoryQuery),
    responses((status = 200, body = ChatPage), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
#[tracing::instrument(skip_all, fields(session_id = %id), err)]
pub async fn list_chats(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    q: QueryResult,
) -> Result<Json<ChatPage>, ApiError> {
    let q = query(q)?;
    if let Some(field) = [
        ("order", &q.order),
        ("before", &q.before),
        ("after", &q.after),
    ]
    .into_iter()
    .find_map(|(name, v)| v.is_some().then_some(name))
    {
        return Err(ApiError::validation(
            field,
            "applies to a chat's messages only",
        ));
    }
    let p = paging(&q)?;
    let session = caller.session(&state, &id, p.tenant_id).await?;
    let page = state.store.chats(&session.key, p.cursor, p.limit).await?;
    Ok(Json(ChatPage {
        items: page.items.into_iter().map(ChatView::from).collect(),
        next_cursor: page.next,
    }))
}

/// A chat's messages, both directions, newest first (or `order=asc`). The
/// chat is a JID or a phone number; one with no messages is an empty page.
#[utoipa::path(get, path = "/api/v1/sessions/{id}/chats/{chatId}/messages", tag = "history",
    params(("id" = String, Path, description = "Session id"),
        ("chatId" = String, Path, description = "The chat's JID, or a phone number with country code"),
        HistoryQuery),
    responses((status = 200, body = ChatMessagePage), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
#[tracing::instrument(skip_all, fields(session_id = %id), err)]
pub async fn chat_messages(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, chat_id)): Path<(String, String)>,
    q: QueryResult,
) -> Result<Json<ChatMessagePage>, ApiError> {
    let q = query(q)?;
    let p = paging(&q)?;
    let ascending = match q.order.as_deref() {
        None | Some("desc") => false,
        Some("asc") => true,
        Some(_) => return Err(ApiError::validation("order", "must be asc or desc")),
    };
    let chat = Recipient::parse(&chat_id)
        .map_err(|_| {
            ApiError::validation(
                "chatId",
                "must be a JID or a phone number with country code",
            )
        })?
        .to_jid();
    let query = ChatQuery {
        chat_jid: chat,
        before_ms: time("before", q.before.as_deref())?,
        after_ms: time("after", q.after.as_deref())?,
        cursor: p.cursor,
        ascending,
        limit: p.limit,
    };
    let session = caller.session(&state, &id, p.tenant_id).await?;
    let page = state.store.chat_messages(&session.key, &query).await?;
    Ok(Json(ChatMessagePage {
        items: page.items.into_iter().map(ChatMessageView::from).collect(),
        next_cursor: page.next,
    }))
}
