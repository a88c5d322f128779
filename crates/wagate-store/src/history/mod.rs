//! Message history: a session's conversations, chat by chat, both
//! directions. Rows are written inside jobs that already run for each
//! message (see [`record`]); the content is read from where it was stored
//! first — the `message.received` event, the queued body — so nothing is
//! kept twice. The [`sweep`] module deletes history past a tenant's
//! retention.

mod record;
pub mod sweep;

pub(crate) use record::{Outgoing, record_inbound_in, record_outbound_in};
pub use record::{REACTOR_ME, inbound_chat};
pub use sweep::{RetentionSweeper, SweepReport, sweep_once};

use crate::db::{Row, query, query_scalar};
use crate::domain::Store;
use crate::outbound::{internal, to_time};
use chrono::{DateTime, Utc};
use wagate_core::{CoreError, SessionKey};

/// Most items a history page holds.
pub const MAX_PAGE: u32 = 500;

/// A page of history, newest first unless asked otherwise.
#[derive(Debug, Clone)]
pub struct HistoryPage<T> {
    pub items: Vec<T>,
    /// Pass back as the cursor for the next page; `None` on the last.
    pub next: Option<i64>,
}

/// A chat and its newest message.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRecord {
    pub chat_jid: String,
    pub is_group: bool,
    pub message_count: i64,
    /// The listing's cursor: chats are ordered by it.
    pub last_seq: i64,
    pub last: HistoryMessage,
}

/// The outbound side of a sent message, read from the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct SentState {
    pub status: String,
    /// The queued body, as stored.
    pub body: serde_json::Value,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub read_at: Option<DateTime<Utc>>,
    pub played_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
}

/// One message of a chat.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryMessage {
    pub seq: i64,
    pub chat_jid: String,
    /// `in` or `out`.
    pub direction: String,
    pub message_id: String,
    pub sender_jid: Option<String>,
    pub kind: String,
    /// The text or caption as it reads now.
    pub text: Option<String>,
    pub at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
    /// Reactor (JID, or [`REACTOR_ME`]) and emoji.
    pub reactions: Vec<(String, String)>,
    /// A received message: its event's id and data.
    pub event: Option<(String, serde_json::Value)>,
    /// A sent message: where it stands.
    pub sent: Option<SentState>,
}

/// What a chat's page asks for.
#[derive(Debug, Clone, Default)]
pub struct ChatQuery {
    pub chat_jid: String,
    /// Messages written before this time (ms since the epoch).
    pub before_ms: Option<i64>,
    /// Messages written after this time.
    pub after_ms: Option<i64>,
    /// The `seq` of the last message of the previous page.
    pub cursor: Option<i64>,
    /// Oldest first instead of newest first.
    pub ascending: bool,
    pub limit: u32,
}

const MESSAGE_COLUMNS: &str = "m.seq, m.chat_jid, m.direction, m.message_id, m.sender_jid, \
     m.kind, m.text, m.at, m.edited_at, m.deleted_at, m.reactions, \
     e.id AS event_id, e.data AS event_data, o.status AS out_status, o.body AS out_body, \
     o.last_error AS out_error, o.created_at AS out_created, o.sent_at AS out_sent, \
     o.delivered_at AS out_delivered, o.read_at AS out_read, o.played_at AS out_played, \
     o.failed_at AS out_failed";

const MESSAGE_JOINS: &str = "LEFT JOIN events e ON e.seq = m.event_seq \
     LEFT JOIN outbound_messages o ON m.direction = 'out' AND o.id = m.message_id \
       AND o.tenant_id = m.tenant_id";

impl Store {
    /// The session's chats, the one with the newest activity first.
    pub async fn chats(
        &self,
        key: &SessionKey,
        cursor: Option<i64>,
        limit: u32,
    ) -> Result<HistoryPage<ChatRecord>, CoreError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let rows = query(format!(
            "SELECT c.is_group, c.message_count, c.last_seq, {MESSAGE_COLUMNS} \
             FROM chats c JOIN chat_messages m ON m.seq = c.last_seq {MESSAGE_JOINS} \
             WHERE c.tenant_id = $1 AND c.session_id = $2 AND c.last_seq < $3 \
             ORDER BY c.last_seq DESC LIMIT $4"
        ))
        .bind(key.tenant.0)
        .bind(key.session.as_str())
        .bind(cursor.unwrap_or(i64::MAX))
        .bind(i64::from(limit) + 1)
        .fetch_all(self.db())
        .await
        .map_err(internal)?;
        let chats = rows
            .iter()
            .map(|r| {
                let last = message_from_row(r)?;
                Ok(ChatRecord {
                    chat_jid: last.chat_jid.clone(),
                    is_group: r.try_get("is_group")?,
                    message_count: r.try_get("message_count")?,
                    last_seq: r.try_get("last_seq")?,
                    last,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(internal)?;
        Ok(page(chats, limit, |c| c.last_seq))
    }

    /// A page of one chat's messages. An unknown chat is an empty page; a
    /// cursor that names no message of the chat is a validation error.
    pub async fn chat_messages(
        &self,
        key: &SessionKey,
        q: &ChatQuery,
    ) -> Result<HistoryPage<HistoryMessage>, CoreError> {
        let limit = q.limit.clamp(1, MAX_PAGE);
        let cursor_at = match q.cursor {
            Some(seq) => Some(self.cursor_time(key, &q.chat_jid, seq).await?),
            None => None,
        };
        let mut b = query(format!(
            "SELECT {MESSAGE_COLUMNS} FROM chat_messages m {MESSAGE_JOINS} WHERE m.tenant_id = "
        ));
        b.push_bind(key.tenant.0)
            .push(" AND m.session_id = ")
            .push_bind(key.session.as_str())
            .push(" AND m.chat_jid = ")
            .push_bind(q.chat_jid.clone());
        if let Some(t) = q.before_ms {
            b.push(" AND m.at < ").push_bind(t);
        }
        if let Some(t) = q.after_ms {
            b.push(" AND m.at > ").push_bind(t);
        }
        let (cmp, order) = if q.ascending {
            (">", "ASC")
        } else {
            ("<", "DESC")
        };
        if let (Some(at), Some(seq)) = (cursor_at, q.cursor) {
            b.push(format!(" AND (m.at, m.seq) {cmp} ("))
                .push_bind(at)
                .push(", ")
                .push_bind(seq)
                .push(")");
        }
        b.push(format!(" ORDER BY m.at {order}, m.seq {order} LIMIT "))
            .push_bind(i64::from(limit) + 1);
        let rows = b.fetch_all(self.db()).await.map_err(internal)?;
        let items = rows
            .iter()
            .map(message_from_row)
            .collect::<Result<Vec<_>, _>>()
            .map_err(internal)?;
        Ok(page(items, limit, |m| m.seq))
    }

    async fn cursor_time(&self, key: &SessionKey, chat: &str, seq: i64) -> Result<i64, CoreError> {
        let at: Option<i64> = query_scalar(
            "SELECT at FROM chat_messages \
             WHERE seq = $1 AND tenant_id = $2 AND session_id = $3 AND chat_jid = $4",
        )
        .bind(seq)
        .bind(key.tenant.0)
        .bind(key.session.as_str())
        .bind(chat)
        .fetch_optional(self.db())
        .await
        .map_err(internal)?;
        at.ok_or_else(|| {
            CoreError::validation(
                "cursor",
                "names no message of this chat (it may have been removed by retention)",
            )
        })
    }
}

/// Cuts a list fetched one longer than `limit`.
fn page<T>(mut items: Vec<T>, limit: u32, cursor: impl Fn(&T) -> i64) -> HistoryPage<T> {
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next = more.then(|| items.last().map(&cursor)).flatten();
    HistoryPage { items, next }
}

fn json_column(row: &Row, column: &str) -> Result<Option<serde_json::Value>, sqlx::Error> {
    let raw: Option<String> = row.try_get(column)?;
    raw.map(|s| {
        serde_json::from_str(&s).map_err(|e| sqlx::Error::ColumnDecode {
            index: column.to_string(),
            source: e.into(),
        })
    })
    .transpose()
}

fn message_from_row(row: &Row) -> Result<HistoryMessage, sqlx::Error> {
    let time = |c: &str| -> Result<Option<DateTime<Utc>>, sqlx::Error> {
        Ok(row.try_get::<Option<i64>, _>(c)?.map(to_time))
    };
    let reactions = match json_column(row, "reactions")? {
        Some(serde_json::Value::Object(map)) => map
            .into_iter()
            .filter_map(|(who, emoji)| Some((who, emoji.as_str()?.to_string())))
            .collect(),
        _ => Vec::new(),
    };
    let event = match (
        row.try_get::<Option<String>, _>("event_id")?,
        json_column(row, "event_data")?,
    ) {
        (Some(id), Some(data)) => Some((id, data)),
        _ => None,
    };
    let sent = match row.try_get::<Option<String>, _>("out_status")? {
        Some(status) => Some(SentState {
            status,
            body: json_column(row, "out_body")?.unwrap_or_default(),
            last_error: row.try_get("out_error")?,
            created_at: to_time(row.try_get("out_created")?),
            sent_at: time("out_sent")?,
            delivered_at: time("out_delivered")?,
            read_at: time("out_read")?,
            played_at: time("out_played")?,
            failed_at: time("out_failed")?,
        }),
        None => None,
    };
    Ok(HistoryMessage {
        seq: row.try_get("seq")?,
        chat_jid: row.try_get("chat_jid")?,
        direction: row.try_get("direction")?,
        message_id: row.try_get("message_id")?,
        sender_jid: row.try_get("sender_jid")?,
        kind: row.try_get("kind")?,
        text: row.try_get("text")?,
        at: to_time(row.try_get("at")?),
        edited_at: time("edited_at")?,
        deleted_at: time("deleted_at")?,
        reactions,
        event,
        sent,
    })
}
