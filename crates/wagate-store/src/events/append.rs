//! Writing events: the event row and its deliveries, and inbound messages
//! with their history row. Run inside jobs of the database writer
//! (see `crate::commit`): an event is written for every message sent and
//! received.

use super::{InboundKey, NewEvent};
use crate::db::{Backend, Link, query};
use crate::outbound::{now_ms, to_time};
use serde::Deserialize;
use wagate_core::WebhookShape;
use wagate_core::events::{EventKind, InboundMessage};

/// The advisory lock that orders event commits across nodes ("wagate
/// events" as bytes, so other users of advisory locks do not collide).
const EVENT_ORDER_LOCK: i64 = 0x7761_6761_7465_7601;

/// Writes one event and a delivery for every enabled endpoint of its
/// tenant whose session and filter match, and whose payload shape takes
/// the event (see [`WebhookShape::leaves_out`]). For use inside a direct
/// job.
pub(crate) async fn append_in(
    link: &mut Link<'_>,
    e: &NewEvent,
    now: i64,
) -> Result<i64, sqlx::Error> {
    // Live streams read `seq > last`. With several nodes writing, a seq
    // taken first could commit last and be skipped by a reader that saw
    // the later one. On PostgreSQL the row is made under a lock held to
    // the commit (taken in the same statement, before the seq is drawn),
    // so seqs commit in order; one writer per node batches many events
    // under one hold.
    let insert = match link.backend() {
        Backend::Sqlite => {
            "INSERT INTO events (id, tenant_id, session_id, kind, data, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq"
        }
        Backend::Postgres => {
            "INSERT INTO events (id, tenant_id, session_id, kind, data, created_at) \
             SELECT $1, $2, $3, $4, $5, $6 FROM (SELECT pg_advisory_xact_lock($7)) AS ordered \
             RETURNING seq"
        }
    };
    let seq: i64 = query(insert)
        .bind(e.id.as_str())
        .bind(e.key.tenant.0)
        .bind(e.key.session.as_str())
        .bind(e.kind.as_str())
        .bind(e.data.to_string())
        .bind(now)
        .bind(EVENT_ORDER_LOCK)
        .fetch_one(&mut *link)
        .await?
        .try_get(0)?;
    let recorded_at = to_time(now);
    let mut deliveries = query(match link.backend() {
        Backend::Sqlite => {
            "INSERT INTO webhook_deliveries (endpoint_id, event_seq, next_at, held_for, created_at, updated_at) \
             SELECT id, $1, $2, $3, $2, $2 FROM webhook_endpoints \
             WHERE tenant_id = $4 AND (session_id IS NULL OR session_id = $5) AND enabled = TRUE \
               AND EXISTS (SELECT 1 FROM json_each(webhook_endpoints.events) \
                           WHERE value = '*' OR value = $6)"
        }
        Backend::Postgres => {
            "INSERT INTO webhook_deliveries (endpoint_id, event_seq, next_at, held_for, created_at, updated_at) \
             SELECT id, $1, $2, $3, $2, $2 FROM webhook_endpoints \
             WHERE tenant_id = $4 AND (session_id IS NULL OR session_id = $5) AND enabled = TRUE \
               AND (webhook_endpoints.events::jsonb ? '*' OR webhook_endpoints.events::jsonb ? $6)"
        }
    })
    .bind(seq)
    .bind(now)
    .bind(e.held_for.as_deref())
    .bind(e.key.tenant.0)
    .bind(e.key.session.as_str())
    .bind(e.kind.as_str());
    let mut shapes_left_out = WebhookShape::ALL
        .into_iter()
        .filter(|shape| shape.leaves_out(&e.kind, &e.data, recorded_at))
        .peekable();
    if shapes_left_out.peek().is_some() {
        deliveries.push(" AND shape NOT IN (");
        for (i, shape) in shapes_left_out.enumerate() {
            if i > 0 {
                deliveries.push(", ");
            }
            deliveries.push_bind(shape.as_str());
        }
        deliveries.push(")");
    }
    deliveries.execute(link).await?;
    Ok(seq)
}

/// Writes an inbound message's event, history row and seen mark, unless
/// it was seen before (then `None`). For use inside a direct job.
pub(super) async fn append_inbound_in(
    link: &mut Link<'_>,
    key: &InboundKey,
    e: &NewEvent,
) -> Result<Option<i64>, sqlx::Error> {
    let seen = query(
        "SELECT event_seq FROM inbound_seen WHERE tenant_id = $1 AND session_id = $2 \
         AND chat_jid = $3 AND sender_jid = $4 AND message_id = $5",
    )
    .bind(e.key.tenant.0)
    .bind(e.key.session.as_str())
    .bind(key.chat.as_str())
    .bind(key.sender.as_str())
    .bind(key.message_id.as_str())
    .fetch_optional(&mut *link)
    .await?;
    if seen.is_some() {
        return Ok(None);
    }
    let received = now_ms();
    let seq = append_in(link, e, received).await?;
    // The history row commits with the event: both exist or neither.
    if e.kind == EventKind::MessageReceived.as_str() {
        match InboundMessage::deserialize(&e.data) {
            Ok(m) => crate::history::record_inbound_in(link, &e.key, seq, &m, received).await?,
            Err(err) => {
                tracing::warn!(event = %e.id, "received message left out of history: {err}")
            }
        }
    }
    query(
        "INSERT INTO inbound_seen (tenant_id, session_id, chat_jid, sender_jid, message_id, event_seq) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(e.key.tenant.0)
    .bind(e.key.session.as_str())
    .bind(key.chat.as_str())
    .bind(key.sender.as_str())
    .bind(key.message_id.as_str())
    .bind(seq)
    .execute(link)
    .await?;
    Ok(Some(seq))
}
