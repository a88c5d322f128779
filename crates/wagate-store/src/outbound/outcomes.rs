//! What happened to claimed messages, and the receipts that follow,
//! written in batches by one task: at two thousand messages a second a
//! commit per outcome would be the bottleneck.

use super::{Outbound, commit_failed};
use crate::db::{Link, query};
use crate::events::{Events, NewEvent, append_in};
use crate::history;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use wagate_core::events::{EventId, EventKind};
use wagate_core::outbound::{MessageId, OutboundStatus};
use wagate_core::{CoreError, SessionId, SessionKey, TenantId};

const MAX_BATCH: usize = 1024;

#[derive(Debug, Clone)]
pub enum Outcome {
    /// WhatsApp acked it.
    Sent {
        id: MessageId,
        at_ms: i64,
    },
    /// Not sent this time; try again from `not_before`. `counts` is false
    /// when no real try was made (a cap, a dropped connection), so it does
    /// not use up the message's tries.
    Retry {
        id: MessageId,
        not_before_ms: i64,
        reason: String,
        counts: bool,
    },
    Failed {
        id: MessageId,
        reason: String,
    },
    /// A receipt from the recipient; statuses only move forward.
    Receipt {
        key: SessionKey,
        id: String,
        status: OutboundStatus,
        at_ms: i64,
    },
}

enum Write {
    Outcome(Outcome),
    Flush(oneshot::Sender<()>),
}

impl std::fmt::Debug for OutcomeWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OutcomeWriter")
    }
}

/// The single writer of outcomes. Cheap to clone.
#[derive(Clone)]
pub struct OutcomeWriter {
    tx: mpsc::UnboundedSender<Write>,
}

impl OutcomeWriter {
    /// Starts the writer; every status change it makes is announced as a
    /// `message.status` event in the same transaction.
    pub fn start(queue: Outbound, events: Events) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(write_loop(queue, events, rx));
        OutcomeWriter { tx }
    }

    pub fn record(&self, outcome: Outcome) {
        let _ = self.tx.send(Write::Outcome(outcome));
    }

    /// Waits until everything recorded so far is written.
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.tx.send(Write::Flush(done)).is_ok() {
            let _ = written.await;
        }
    }
}

async fn write_loop(queue: Outbound, events: Events, mut rx: mpsc::UnboundedReceiver<Write>) {
    while let Some(first) = rx.recv().await {
        let mut batch = Vec::new();
        let mut waiters = Vec::new();
        let mut next = Some(first);
        while let Some(write) = next.take() {
            match write {
                Write::Outcome(o) => batch.push(o),
                Write::Flush(done) => waiters.push(done),
            }
            if batch.len() < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            let batch = Arc::new(batch);
            // A failed batch is retried once: losing a `sent` would only
            // cost a deduplicated resend, but losing a receipt is final.
            let mut result = write_batch(&queue, &batch).await;
            if result.is_err() {
                result = write_batch(&queue, &batch).await;
            }
            match result {
                Ok(seqs) => events.published(&seqs),
                Err(e) => {
                    tracing::error!(outcomes = batch.len(), "cannot record send outcomes: {e}")
                }
            }
        }
        for done in waiters {
            let _ = done.send(());
        }
    }
}

/// Applies the batch in one job of the group commit; returns the `seq`s
/// of the status events it made.
///
/// Each outcome stands alone, in a savepoint of its own: one that cannot
/// be written (logged and dropped) does not take the batch's other
/// receipts with it.
async fn write_batch(queue: &Outbound, batch: &Arc<Vec<Outcome>>) -> Result<Vec<i64>, CoreError> {
    let now = super::now_ms();
    let batch = batch.clone();
    queue
        .committer()
        .run(move |link| {
            Box::pin(async move {
                let mut seqs = Vec::new();
                for outcome in batch.iter() {
                    let id = outcome.message_id();
                    query("SAVEPOINT outcome").execute(&mut *link).await?;
                    let written = match apply(link, outcome, now).await {
                        Ok(moved) => announce(link, id, moved, outcome, now).await,
                        Err(e) => Err(e),
                    };
                    match written {
                        Ok(seq) => {
                            query("RELEASE SAVEPOINT outcome")
                                .execute(&mut *link)
                                .await?;
                            seqs.extend(seq);
                        }
                        Err(e) => {
                            query("ROLLBACK TO SAVEPOINT outcome")
                                .execute(&mut *link)
                                .await?;
                            query("RELEASE SAVEPOINT outcome")
                                .execute(&mut *link)
                                .await?;
                            tracing::error!(message_id = id, "cannot record a send outcome: {e}");
                        }
                    }
                }
                Ok(seqs)
            })
        })
        .await
        .map_err(commit_failed)
}

impl Outcome {
    fn message_id(&self) -> &str {
        match self {
            Outcome::Sent { id, .. } | Outcome::Retry { id, .. } | Outcome::Failed { id, .. } => {
                id.as_str()
            }
            Outcome::Receipt { id, .. } => id,
        }
    }
}

/// A message an outcome matched, as the outcome's UPDATE read it back:
/// owner, recipient, status before and after, kind and body (the body for
/// its history row, read here rather than by another query).
type Moved = (i64, String, String, Option<String>, String, String, String);

/// An outcome's UPDATE, reading the row back into [`Moved`].
macro_rules! returning {
    ($sql:expr) => {
        concat!(
            $sql,
            " RETURNING tenant_id, session_id, recipient, status_before, status, kind, body"
        )
    };
}

/// Records a `message.status` event if the outcome moved the message to a
/// status the tenant sees (`sent` onwards, or `failed`). `moved` is what
/// the outcome's update read back, `None` if it matched no row.
async fn announce(
    link: &mut Link<'_>,
    id: &str,
    moved: Option<Moved>,
    outcome: &Outcome,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let Some((tenant, session, to, Some(old), new, kind, body)) = moved else {
        return Ok(None);
    };
    if new == old || matches!(new.as_str(), "queued" | "sending") {
        return Ok(None);
    }
    let Ok(session) = SessionId::parse(&session) else {
        return Ok(None);
    };
    let (error, at_ms) = match outcome {
        Outcome::Failed { reason, .. } => (Some(reason.clone()), now),
        Outcome::Sent { at_ms, .. } | Outcome::Receipt { at_ms, .. } => (None, *at_ms),
        Outcome::Retry { .. } => (None, now),
    };
    let key = SessionKey {
        tenant: TenantId(tenant),
        session,
    };
    // The message joins its chat's history when it first leaves the
    // queue, in this batch rather than in the accept transaction.
    if matches!(old.as_str(), "queued" | "sending" | "failed") {
        let message = history::Outgoing {
            id,
            recipient: &to,
            kind: &kind,
            body: &body,
        };
        history::record_outbound_in(link, &key, &message, at_ms, now, new != "failed").await?;
    }
    let mut data =
        serde_json::json!({ "id": id, "to": to, "status": new, "timestamp": at_ms / 1000 });
    if let Some(error) = error {
        data["error"] = error.into();
    }
    let event = NewEvent {
        id: EventId::generate().as_str().to_string(),
        key,
        kind: EventKind::MessageStatus.as_str().to_string(),
        data,
        held_for: None,
    };
    append_in(link, &event, now).await.map(Some)
}

/// The statuses a receipt of `status` may raise.
fn lower_than(status: OutboundStatus) -> &'static str {
    match status {
        OutboundStatus::Delivered => "('queued', 'sending', 'failed', 'sent')",
        OutboundStatus::Read => "('queued', 'sending', 'failed', 'sent', 'delivered')",
        OutboundStatus::Played => "('queued', 'sending', 'failed', 'sent', 'delivered', 'read')",
        _ => "('queued', 'sending', 'failed')",
    }
}

/// Applies one outcome; returns the message as it moved, or `None` when
/// the outcome did not apply (read back by `RETURNING`, not by other
/// queries).
async fn apply(
    link: &mut Link<'_>,
    outcome: &Outcome,
    now: i64,
) -> Result<Option<Moved>, sqlx::Error> {
    let update = match outcome {
        // A receipt can beat the ack; then only the time is filled in.
        // The first send also makes the recipient a contact of the
        // session: trigger `outbound_first_contact`.
        Outcome::Sent { id, at_ms } => query(returning!(
            "UPDATE outbound_messages SET sent_at = COALESCE(sent_at, $2), status_before = status, \
             status = CASE WHEN status IN ('queued', 'sending', 'failed') THEN 'sent' ELSE status END, \
             claimed_by = NULL, claimed_until = NULL, held = FALSE, wait_reason = NULL, \
             last_error = NULL, failed_at = NULL, updated_at = $3 WHERE id = $1"
        ))
        .bind(id.as_str())
        .bind(*at_ms)
        .bind(now),
        Outcome::Retry {
            id,
            not_before_ms,
            reason,
            counts,
        } => query(returning!(
            "UPDATE outbound_messages SET status_before = status, status = 'queued', held = TRUE, \
             not_before = $2, wait_reason = $3, \
             last_error = CASE WHEN $4 THEN $3 ELSE last_error END, \
             attempts = CASE WHEN $4 OR attempts < 1 THEN attempts ELSE attempts - 1 END, \
             claimed_by = NULL, claimed_until = NULL, updated_at = $5 \
             WHERE id = $1 AND status = 'sending'"
        ))
        .bind(id.as_str())
        .bind(*not_before_ms)
        .bind(reason.as_str())
        .bind(*counts)
        .bind(now),
        Outcome::Failed { id, reason } => query(returning!(
            "UPDATE outbound_messages SET status_before = status, status = 'failed', held = FALSE, \
             last_error = $2, wait_reason = NULL, failed_at = $3, claimed_by = NULL, \
             claimed_until = NULL, updated_at = $3 \
             WHERE id = $1 AND status IN ('queued', 'sending')"
        ))
        .bind(id.as_str())
        .bind(reason.as_str())
        .bind(now),
        Outcome::Receipt {
            key,
            id,
            status,
            at_ms,
        } => {
            let column = match status {
                OutboundStatus::Delivered => "delivered_at",
                OutboundStatus::Read => "read_at",
                OutboundStatus::Played => "played_at",
                _ => return Ok(None),
            };
            query(format!(
                returning!(
                    "UPDATE outbound_messages SET {column} = COALESCE({column}, $4), \
                     sent_at = COALESCE(sent_at, $4), status_before = status, \
                     status = CASE WHEN status IN {lower} THEN $5 ELSE status END, \
                     held = FALSE, wait_reason = NULL, claimed_by = NULL, claimed_until = NULL, \
                     updated_at = $6 \
                     WHERE id = $1 AND tenant_id = $2 AND session_id = $3"
                ),
                column = column,
                lower = lower_than(*status)
            ))
            .bind(id.as_str())
            .bind(key.tenant.0)
            .bind(key.session.as_str())
            .bind(*at_ms)
            .bind(status.as_str())
            .bind(now)
        }
    };
    let Some(row) = update.fetch_optional(link).await? else {
        return Ok(None);
    };
    Ok(Some((
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
        row.try_get(4)?,
        row.try_get(5)?,
        row.try_get(6)?,
    )))
}
