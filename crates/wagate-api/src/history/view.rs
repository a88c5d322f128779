//! How history reads to clients: a chat with its newest message, and a
//! message of either direction with the content shapes used elsewhere (a
//! received message's event data, a sent message's queued body).

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use wagate_store::history::{ChatRecord, HistoryMessage, REACTOR_ME};

/// Characters of text a chat listing shows of its newest message.
const PREVIEW_CHARS: usize = 100;

/// A chat and its newest message.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatView {
    /// The chat's JID: the contact's for a direct chat, the group's.
    #[schema(example = "5511999999999@s.whatsapp.net")]
    pub chat_id: String,
    /// `direct` or `group`.
    #[schema(example = "direct")]
    pub kind: &'static str,
    /// Messages of the chat the gateway holds.
    pub message_count: i64,
    pub last_message: LastMessageView,
}

/// The newest message of a chat, as a chat list shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LastMessageView {
    #[schema(example = "3EB0B430A7C9D2F17E92AB")]
    pub id: String,
    /// `in` (received) or `out` (sent by this session).
    #[schema(example = "in")]
    pub direction: String,
    #[serde(rename = "type")]
    #[schema(example = "text")]
    pub kind: String,
    /// The start of its text or caption (as edited); null when it has
    /// none or was deleted.
    pub text: Option<String>,
    pub deleted: bool,
    pub timestamp: DateTime<Utc>,
}

impl From<ChatRecord> for ChatView {
    fn from(c: ChatRecord) -> Self {
        let m = c.last;
        let deleted = m.deleted_at.is_some();
        let text = m
            .text
            .filter(|_| !deleted)
            .map(|t| t.chars().take(PREVIEW_CHARS).collect());
        ChatView {
            chat_id: c.chat_jid,
            kind: if c.is_group { "group" } else { "direct" },
            message_count: c.message_count,
            last_message: LastMessageView {
                id: m.message_id,
                direction: m.direction,
                kind: m.kind,
                text,
                deleted,
                timestamp: m.at,
            },
        }
    }
}

/// A reaction on a message.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReactionView {
    /// The reactor's JID; null for this session's own reaction.
    pub from: Option<String>,
    pub from_me: bool,
    #[schema(example = "👍")]
    pub emoji: String,
}

/// One message of a chat, received or sent.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessageView {
    #[schema(example = "3EB0B430A7C9D2F17E92AB")]
    pub id: String,
    pub chat_id: String,
    /// `in` (received) or `out` (sent by this session).
    #[schema(example = "out")]
    pub direction: String,
    pub from_me: bool,
    /// Who wrote a received message (`phone`, `jid`, `lid`, `pushName`);
    /// null for the session's own.
    #[schema(value_type = Option<Object>)]
    pub from: Option<serde_json::Value>,
    #[serde(rename = "type")]
    #[schema(example = "text")]
    pub kind: String,
    /// The text or caption as it reads now (after edits); null when
    /// deleted.
    pub text: Option<String>,
    /// A received message: the `data` of its `message.received` event. A
    /// sent one: its queued body, as `GET …/messages/{id}` shows it. Null
    /// once deleted for everyone.
    #[schema(value_type = Option<Object>)]
    pub content: Option<serde_json::Value>,
    /// Where the gateway serves a received message's file.
    pub media_url: Option<String>,
    /// A sent message: sent, delivered, read, played or failed.
    #[schema(example = "delivered")]
    pub status: Option<String>,
    /// Why a sent message failed.
    pub last_error: Option<String>,
    /// When the message was written: WhatsApp's time for a received one,
    /// the ack's for a sent one.
    pub timestamp: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub read_at: Option<DateTime<Utc>>,
    pub played_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
    pub edited: bool,
    pub edited_at: Option<DateTime<Utc>>,
    /// Deleted for everyone by its sender (or a group admin).
    pub deleted: bool,
    pub deleted_at: Option<DateTime<Utc>>,
    pub reactions: Vec<ReactionView>,
    /// The `message.received` event of a received message.
    pub event_id: Option<String>,
}

impl From<HistoryMessage> for ChatMessageView {
    fn from(m: HistoryMessage) -> Self {
        let deleted = m.deleted_at.is_some();
        let (event_id, data) = m.event.unzip();
        let from = data.as_ref().and_then(|d| d.get("from").cloned());
        let media_url = data
            .as_ref()
            .and_then(|d| d["media"]["url"].as_str())
            .map(str::to_string)
            .filter(|_| !deleted);
        let sent = m.sent;
        let content = match (&sent, data) {
            _ if deleted => None,
            (Some(s), _) => Some(s.body.clone()),
            (None, data) => data,
        };
        let reactions = m
            .reactions
            .into_iter()
            .map(|(who, emoji)| {
                let me = who == REACTOR_ME;
                ReactionView {
                    from: (!me).then_some(who),
                    from_me: me,
                    emoji,
                }
            })
            .collect();
        ChatMessageView {
            from_me: m.direction == "out",
            id: m.message_id,
            chat_id: m.chat_jid,
            direction: m.direction,
            from,
            kind: m.kind,
            text: m.text.filter(|_| !deleted),
            content,
            media_url,
            status: sent.as_ref().map(|s| s.status.clone()),
            last_error: sent.as_ref().and_then(|s| s.last_error.clone()),
            timestamp: m.at,
            sent_at: sent.as_ref().and_then(|s| s.sent_at),
            delivered_at: sent.as_ref().and_then(|s| s.delivered_at),
            read_at: sent.as_ref().and_then(|s| s.read_at),
            played_at: sent.as_ref().and_then(|s| s.played_at),
            failed_at: sent.as_ref().and_then(|s| s.failed_at),
            edited: m.edited_at.is_some(),
            edited_at: m.edited_at,
            deleted,
            deleted_at: m.deleted_at,
            reactions,
            event_id,
        }
    }
}
