//! Writing events: the event row and its deliveries, and inbound messages
//! with their history row. Run by the database writer itself as direct
//! jobs (see `crate::commit`): an event is written for every message sent
//! and received.

use super::{InboundKey, NewEvent};
use crate::outbound::{now_ms, to_time};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Deserialize;
use wagate_core::WebhookShape;
use wagate_core::events::{EventKind, InboundMessage};

/// Writes one event and a delivery for every enabled endpoint of its
/// tenant whose session and filter match, and whose payload shape takes
/// the event (see [`WebhookShape::leaves_out`]). For use inside a direct
/// job.
pub(crate) fn append_in(db: &Connection, e: &NewEvent, now: i64) -> rusqlite::Result<i64> {
    let seq: i64 = db
        .prepare_cached(
            "INSERT INTO events (id, tenant_id, session_id, kind, data, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING seq",
        )?
        .query_row(
            params![
                e.id,
                e.key.tenant.0,
                e.key.session.as_str(),
                e.kind,
                e.data.to_string(),
                now,
            ],
            |row| row.get(0),
        )?;
    let recorded_at = to_time(now);
    let shapes_left_out: Vec<&str> = WebhookShape::ALL
        .into_iter()
        .filter(|shape| shape.leaves_out(&e.kind, &e.data, recorded_at))
        .map(WebhookShape::as_str)
        .collect();
    db.prepare_cached(
        "INSERT INTO webhook_deliveries (endpoint_id, event_seq, next_at, held_for, created_at, updated_at) \
         SELECT id, ?1, ?2, ?3, ?2, ?2 FROM webhook_endpoints \
         WHERE tenant_id = ?4 AND (session_id IS NULL OR session_id = ?5) AND enabled = 1 \
           AND EXISTS (SELECT 1 FROM json_each(webhook_endpoints.events) \
                       WHERE value = '*' OR value = ?6) \
           AND shape NOT IN (SELECT value FROM json_each(?7))",
    )?
    .execute(params![
        seq,
        now,
        e.held_for,
        e.key.tenant.0,
        e.key.session.as_str(),
        e.kind,
        serde_json::json!(shapes_left_out).to_string(),
    ])?;
    Ok(seq)
}

/// Writes an inbound message's event, history row and seen mark, unless
/// it was seen before (then `None`). For use inside a direct job.
pub(super) fn append_inbound_in(
    db: &Connection,
    key: &InboundKey,
    e: &NewEvent,
) -> rusqlite::Result<Option<i64>> {
    let seen: Option<i64> = db
        .prepare_cached(
            "SELECT event_seq FROM inbound_seen WHERE tenant_id = ?1 AND session_id = ?2 \
             AND chat_jid = ?3 AND sender_jid = ?4 AND message_id = ?5",
        )?
        .query_row(
            params![
                e.key.tenant.0,
                e.key.session.as_str(),
                key.chat,
                key.sender,
                key.message_id,
            ],
            |row| row.get(0),
        )
        .optional()?;
    if seen.is_some() {
        return Ok(None);
    }
    let received = now_ms();
    let seq = append_in(db, e, received)?;
    // The history row commits with the event: both exist or neither.
    if e.kind == EventKind::MessageReceived.as_str() {
        match InboundMessage::deserialize(&e.data) {
            Ok(m) => crate::history::record_inbound_in(db, &e.key, seq, &m, received)?,
            Err(err) => {
                tracing::warn!(event = %e.id, "received message left out of history: {err}")
            }
        }
    }
    db.prepare_cached(
        "INSERT INTO inbound_seen (tenant_id, session_id, chat_jid, sender_jid, message_id, event_seq) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        e.key.tenant.0,
        e.key.session.as_str(),
        key.chat,
        key.sender,
        key.message_id,
        seq,
    ])?;
    Ok(Some(seq))
}
