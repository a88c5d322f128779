//! Writing history rows, always inside a job of the database writer that
//! already runs for the message (see `crate::commit`): the inbound event's commit, or the
//! outcome writer's batch. Edits, deletions and reactions change the row
//! of the message they target instead of adding one, as a chat shows
//! them.

use crate::db::{Backend, Link, query};
use wagate_core::SessionKey;
use wagate_core::events::{InboundKind, InboundMessage};
use wagate_core::outbound::{Content, OutboundBody};

/// Who a reaction of the session itself is filed under.
pub const REACTOR_ME: &str = "me";

/// The chat a received message belongs to. A direct chat is keyed by the
/// contact's phone JID when WhatsApp shares the number, so a chat
/// addressed by LID meets the messages sent to the number.
pub fn inbound_chat(m: &InboundMessage) -> String {
    match (&m.from.phone, m.is_group) {
        (Some(phone), false) => phone_jid(phone),
        _ => m.chat_id.clone(),
    }
}

fn phone_jid(phone: &str) -> String {
    format!("{phone}@s.whatsapp.net")
}

/// Records a received message (or applies the change it makes) under
/// event `event_seq`, received at `now`.
pub(crate) async fn record_inbound_in(
    link: &mut Link<'_>,
    key: &SessionKey,
    event_seq: i64,
    m: &InboundMessage,
    now: i64,
) -> Result<(), sqlx::Error> {
    let chat = inbound_chat(m);
    let sender = m.from.phone.as_deref().map(phone_jid);
    let sender = sender.unwrap_or_else(|| m.from.jid.clone());
    // WhatsApp stamps whole seconds: a live message is placed at the
    // moment it arrived within its second, so a reply sent in the same
    // second stays after it; a late one (queued while offline) at the end
    // of its second.
    let at = now.min(m.timestamp.saturating_mul(1000).saturating_add(999));
    let target = Target {
        key,
        chat: &chat,
        at,
    };
    match m.kind {
        InboundKind::Edit => {
            let Some(edit) = &m.edit else { return Ok(()) };
            target.edit(link, &edit.target_id, "in", &edit.text).await
        }
        InboundKind::Revoke => {
            let Some(revoke) = &m.revoke else {
                return Ok(());
            };
            target.delete(link, &revoke.target_id).await
        }
        InboundKind::Reaction => {
            let Some(r) = &m.reaction else { return Ok(()) };
            target.react(link, &r.target_id, &sender, &r.emoji).await
        }
        // A vote changes a tally, not a message of the chat.
        InboundKind::PollVote => Ok(()),
        kind => {
            let text = m
                .text
                .clone()
                .or_else(|| m.poll.as_ref().map(|p| p.name.clone()));
            let row = NewRow {
                chat: &chat,
                direction: "in",
                message_id: &m.id,
                sender: Some(&sender),
                kind: kind.as_str(),
                text: text.as_deref(),
                at,
                event_seq: Some(event_seq),
            };
            insert(link, key, &row).await
        }
    }
}

/// A sent message as the outbound queue holds it.
#[derive(Clone, Copy)]
pub(crate) struct Outgoing<'a> {
    pub id: &'a str,
    pub recipient: &'a str,
    pub kind: &'a str,
    /// The stored JSON body.
    pub body: &'a str,
}

/// Records a message this session sent, the first time the outcome writer
/// sees it leave the queue: `sent` says WhatsApp took it (else it failed).
/// A failed edit, deletion or reaction changed nothing and is left out.
pub(crate) async fn record_outbound_in(
    link: &mut Link<'_>,
    key: &SessionKey,
    message: &Outgoing<'_>,
    at: i64,
    now: i64,
    sent: bool,
) -> Result<(), sqlx::Error> {
    // The server's ack is stamped in whole seconds, like a received
    // message: placed, as those are, at the moment it was recorded within
    // its second, so a message received earlier in that second stays
    // before it and a reply received later stays after.
    let at = now.min(at.saturating_add(999)).max(at);
    let Outgoing {
        id,
        recipient,
        kind,
        body,
    } = *message;
    // A body that does not read back is still a message of the chat.
    let body: Option<OutboundBody> = serde_json::from_str(body).ok();
    let target = Target {
        key,
        chat: recipient,
        at,
    };
    match body.map(|b| b.content) {
        Some(Content::Edit { target: t, text }) if sent => {
            target.edit(link, &t.id, "out", &text).await
        }
        Some(Content::Delete { target: t }) if sent => target.delete(link, &t.id).await,
        Some(Content::Reaction { target: t, emoji }) if sent => {
            target.react(link, &t.id, REACTOR_ME, &emoji).await
        }
        Some(Content::Edit { .. } | Content::Delete { .. } | Content::Reaction { .. }) => Ok(()),
        content => {
            let text = content.as_ref().and_then(Content::preview_text);
            let row = NewRow {
                chat: recipient,
                direction: "out",
                message_id: id,
                sender: None,
                kind,
                text,
                at,
                event_seq: None,
            };
            insert(link, key, &row).await
        }
    }
}

struct NewRow<'a> {
    chat: &'a str,
    direction: &'static str,
    message_id: &'a str,
    sender: Option<&'a str>,
    kind: &'a str,
    text: Option<&'a str>,
    at: i64,
    event_seq: Option<i64>,
}

/// Adds the row (once: a late ack after a failure finds it there) and
/// makes it its chat's newest message unless an earlier-written one is.
async fn insert(
    link: &mut Link<'_>,
    key: &SessionKey,
    row: &NewRow<'_>,
) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO chat_messages (tenant_id, session_id, chat_jid, direction, message_id, \
         sender_jid, kind, text, at, event_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT DO NOTHING",
    )
    .bind(key.tenant.0)
    .bind(key.session.as_str())
    .bind(row.chat)
    .bind(row.direction)
    .bind(row.message_id)
    .bind(row.sender)
    .bind(row.kind)
    .bind(row.text)
    .bind(row.at)
    .bind(row.event_seq)
    .execute(link)
    .await?;
    // Its chat's count and newest message follow in the same statement:
    // trigger `chat_messages_count_in_chat`.
    Ok(())
}

/// The message a change in `chat` refers to.
struct Target<'a> {
    key: &'a SessionKey,
    chat: &'a str,
    /// When the change was made.
    at: i64,
}

impl Target<'_> {
    /// New text; only the author edits, so the direction must match.
    async fn edit(
        &self,
        link: &mut Link<'_>,
        id: &str,
        direction: &str,
        text: &str,
    ) -> Result<(), sqlx::Error> {
        query(
            "UPDATE chat_messages SET text = $6, edited_at = $5 \
             WHERE tenant_id = $1 AND session_id = $2 AND chat_jid = $3 AND message_id = $4 \
               AND direction = $7 AND deleted_at IS NULL",
        )
        .bind(self.key.tenant.0)
        .bind(self.key.session.as_str())
        .bind(self.chat)
        .bind(id)
        .bind(self.at)
        .bind(text)
        .bind(direction)
        .execute(link)
        .await
        .map(|_| ())
    }

    /// Deleted for everyone: by its author, or in a group by an admin, so
    /// either direction.
    async fn delete(&self, link: &mut Link<'_>, id: &str) -> Result<(), sqlx::Error> {
        query(
            "UPDATE chat_messages SET deleted_at = COALESCE(deleted_at, $5) \
             WHERE tenant_id = $1 AND session_id = $2 AND chat_jid = $3 AND message_id = $4",
        )
        .bind(self.key.tenant.0)
        .bind(self.key.session.as_str())
        .bind(self.chat)
        .bind(id)
        .bind(self.at)
        .execute(link)
        .await
        .map(|_| ())
    }

    /// One reaction per reactor; an empty emoji takes it back. Reactions
    /// are a JSON object from reactor to emoji.
    async fn react(
        &self,
        link: &mut Link<'_>,
        id: &str,
        reactor: &str,
        emoji: &str,
    ) -> Result<(), sqlx::Error> {
        let sql = match link.backend() {
            // JSON path keys are quoted: JIDs hold '@' and '.'.
            Backend::Sqlite => {
                "UPDATE chat_messages SET reactions = CASE WHEN $6 = '' \
                   THEN json_remove(COALESCE(reactions, '{}'), $5) \
                   ELSE json_set(COALESCE(reactions, '{}'), $5, $6) END \
                 WHERE tenant_id = $1 AND session_id = $2 AND chat_jid = $3 AND message_id = $4"
            }
            Backend::Postgres => {
                "UPDATE chat_messages SET reactions = CASE WHEN $6 = '' \
                   THEN (COALESCE(reactions, '{}')::jsonb - $7)::text \
                   ELSE jsonb_set(COALESCE(reactions, '{}')::jsonb, ARRAY[$7], to_jsonb($6))::text END \
                 WHERE tenant_id = $1 AND session_id = $2 AND chat_jid = $3 AND message_id = $4"
            }
        };
        let reactor = reactor.replace('"', "");
        query(sql)
            .bind(self.key.tenant.0)
            .bind(self.key.session.as_str())
            .bind(self.chat)
            .bind(id)
            .bind(format!("$.\"{reactor}\""))
            .bind(emoji)
            .bind(reactor)
            .execute(link)
            .await
            .map(|_| ())
    }
}
