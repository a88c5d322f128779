//! Claiming queued messages for sending.
//!
//! A claim marks rows `sending` with who took them and until when; a row
//! whose claim ran out (its worker died) can be claimed again. On SQLite
//! the claim is one `UPDATE … RETURNING`, which runs in a write
//! transaction, so two claimers never take the same row; PostgreSQL's
//! form adds `FOR UPDATE SKIP LOCKED` to the inner select, so claimers on
//! several nodes pass each other's rows by.

use super::{Outbound, commit_failed, internal, now_ms};
use crate::db::{Backend, query, query_scalar};
use std::sync::OnceLock;
use std::time::Duration;
use wagate_core::outbound::{MessageId, OutboundBody};
use wagate_core::{CoreError, SessionKey};

/// A message taken for sending.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: MessageId,
    pub seq: i64,
    pub recipient: String,
    pub body: OutboundBody,
    /// Tries so far, this one included.
    pub attempts: u32,
}

/// A row as [`CLAIM`] reads it back.
struct ClaimedRow {
    id: String,
    seq: i64,
    recipient: String,
    body: String,
    attempts: i64,
}

/// Due rows of one session in acceptance order, skipping recipients with
/// an earlier message held back (after a failed try or a cap), so one
/// recipient's messages never overtake each other. `{lock}` is where
/// PostgreSQL's row lock goes; `{held}` is written as each database's
/// partial index on held rows says it, so the index serves.
const CLAIM: &str = "\
UPDATE outbound_messages \
SET status = 'sending', claimed_by = $3, claimed_until = $4, attempts = attempts + 1, \
    held = FALSE, wait_reason = NULL, updated_at = $5 \
WHERE id IN ( \
    SELECT m.id FROM outbound_messages m \
    WHERE m.tenant_id = $1 AND m.session_id = $2 \
      AND (m.status = 'queued' OR (m.status = 'sending' AND m.claimed_until < $5)) \
      AND m.not_before <= $5 \
      AND NOT EXISTS ( \
          SELECT 1 FROM outbound_messages p \
          WHERE p.tenant_id = m.tenant_id AND p.session_id = m.session_id \
            AND p.recipient = m.recipient AND {held} AND p.status = 'queued' \
            AND p.seq < m.seq) \
    ORDER BY m.seq LIMIT $6 {lock}) \
RETURNING id, seq, recipient, body, attempts";

/// [`CLAIM`] for each database: PostgreSQL skips rows another node's
/// claim has locked instead of waiting for it.
fn claim_sql(backend: Backend) -> &'static str {
    static SQLITE: OnceLock<String> = OnceLock::new();
    static POSTGRES: OnceLock<String> = OnceLock::new();
    match backend {
        Backend::Sqlite => {
            SQLITE.get_or_init(|| CLAIM.replace("{lock}", "").replace("{held}", "p.held = 1"))
        }
        Backend::Postgres => POSTGRES.get_or_init(|| {
            CLAIM
                .replace("{lock}", "FOR UPDATE OF m SKIP LOCKED")
                .replace("{held}", "p.held")
        }),
    }
}

impl Outbound {
    /// Takes up to `limit` due messages of the session for `visibility`.
    pub async fn claim(
        &self,
        key: &SessionKey,
        claimer: &str,
        limit: u32,
        visibility: Duration,
    ) -> Result<Vec<Claimed>, CoreError> {
        let now = now_ms();
        let (tenant, session, claimer) =
            (key.tenant.0, key.session.to_string(), claimer.to_string());
        let until = now + visibility.as_millis() as i64;
        // Run by the writer itself: a sender claims for every few messages.
        let rows = self
            .committer()
            .run(move |link| {
                Box::pin(async move {
                    let rows = query(claim_sql(link.backend()))
                        .bind(tenant)
                        .bind(session)
                        .bind(claimer)
                        .bind(until)
                        .bind(now)
                        .bind(i64::from(limit))
                        .fetch_all(link)
                        .await?;
                    rows.iter()
                        .map(|row| {
                            Ok(ClaimedRow {
                                id: row.try_get(0)?,
                                seq: row.try_get(1)?,
                                recipient: row.try_get(2)?,
                                body: row.try_get(3)?,
                                attempts: row.try_get(4)?,
                            })
                        })
                        .collect::<Result<Vec<_>, sqlx::Error>>()
                })
            })
            .await
            .map_err(commit_failed)?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            let body: OutboundBody = match serde_json::from_str(&row.body) {
                Ok(b) => b,
                Err(e) => {
                    // Only a bug can store an unreadable body; keep it out
                    // of the sender's way and say why.
                    self.fail_unreadable(&row.id, &e.to_string()).await?;
                    continue;
                }
            };
            claimed.push(Claimed {
                id: MessageId::parse(&row.id).map_err(|e| CoreError::Internal(e.to_string()))?,
                seq: row.seq,
                recipient: row.recipient,
                body,
                attempts: row.attempts as u32,
            });
        }
        // RETURNING does not promise an order.
        claimed.sort_by_key(|c| c.seq);
        Ok(claimed)
    }

    /// When the session's next queued message falls due, if any.
    pub async fn next_due(&self, key: &SessionKey) -> Result<Option<i64>, CoreError> {
        query_scalar(
            "SELECT MIN(CASE WHEN status = 'sending' THEN claimed_until ELSE not_before END) \
             FROM outbound_messages \
             WHERE tenant_id = $1 AND session_id = $2 AND status IN ('queued', 'sending')",
        )
        .bind(key.tenant.0)
        .bind(key.session.as_str())
        .fetch_one(self.db())
        .await
        .map_err(internal)
    }

    /// Sessions with messages waiting, for senders to start on.
    pub async fn sessions_with_work(&self) -> Result<Vec<(i64, String)>, CoreError> {
        let rows = query(
            "SELECT DISTINCT tenant_id, session_id FROM outbound_messages \
             WHERE status IN ('queued', 'sending')",
        )
        .fetch_all(self.db())
        .await
        .map_err(internal)?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(internal)
    }

    /// Puts back every claimed row. A single node calls this at start:
    /// whatever was `sending` belonged to a process that is gone. The
    /// tries keep their count; the ids stay, so a resend is no duplicate.
    pub async fn release_all_claims(&self) -> Result<u64, CoreError> {
        let done = query(
            "UPDATE outbound_messages SET status = 'queued', claimed_by = NULL, \
             claimed_until = NULL WHERE status = 'sending'",
        )
        .execute(self.db())
        .await
        .map_err(internal)?;
        Ok(done.rows_affected())
    }

    /// How many of the session's messages are being sent (claimed).
    pub async fn in_flight(&self, key: &SessionKey) -> Result<i64, CoreError> {
        query_scalar(
            "SELECT COUNT(*) FROM outbound_messages \
             WHERE tenant_id = $1 AND session_id = $2 AND status = 'sending'",
        )
        .bind(key.tenant.0)
        .bind(key.session.as_str())
        .fetch_one(self.db())
        .await
        .map_err(internal)
    }

    /// Puts back the claimed rows of one session: a node calls this when
    /// it takes the session over under a new epoch, since the node that
    /// claimed them lost the session (and its claims with it).
    pub async fn release_session_claims(&self, key: &SessionKey) -> Result<u64, CoreError> {
        let done = query(
            "UPDATE outbound_messages SET status = 'queued', claimed_by = NULL, \
             claimed_until = NULL WHERE tenant_id = $1 AND session_id = $2 AND status = 'sending'",
        )
        .bind(key.tenant.0)
        .bind(key.session.as_str())
        .execute(self.db())
        .await
        .map_err(internal)?;
        Ok(done.rows_affected())
    }

    async fn fail_unreadable(&self, id: &str, why: &str) -> Result<(), CoreError> {
        query(
            "UPDATE outbound_messages SET status = 'failed', failed_at = $2, updated_at = $2, \
             last_error = $3 WHERE id = $1",
        )
        .bind(id)
        .bind(now_ms())
        .bind(format!("stored message is unreadable: {why}"))
        .execute(self.db())
        .await
        .map_err(internal)?;
        Ok(())
    }
}
