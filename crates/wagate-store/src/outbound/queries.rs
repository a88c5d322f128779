//! Reading the queue: one message, filtered listings, and the counts the
//! pacing rules need.

use super::{Outbound, OutboundRecord, RECORD_COLUMNS, internal, record_from_row};
use crate::db::{query, query_scalar};
use wagate_core::outbound::{MessageId, OutboundStatus, SendPolicyOverrides};
use wagate_core::{CoreError, SessionKey};

/// What a listing asks for. The cursor is the `seq` of the last row of
/// the previous page: pages run newest first.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub status: Option<OutboundStatus>,
    pub recipient: Option<String>,
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    pub batch_id: Option<String>,
    pub before_seq: Option<i64>,
    pub limit: u32,
}

#[derive(Debug, Clone)]
pub struct OutboundPage {
    pub items: Vec<OutboundRecord>,
    /// Pass back as the cursor for the next page; `None` on the last.
    pub next: Option<i64>,
}

impl Outbound {
    pub async fn get(
        &self,
        key: &SessionKey,
        id: &str,
    ) -> Result<Option<OutboundRecord>, CoreError> {
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM outbound_messages \
             WHERE tenant_id = $1 AND session_id = $2 AND id = $3"
        );
        let row = query(sql)
            .bind(key.tenant.0)
            .bind(key.session.as_str())
            .bind(id)
            .fetch_optional(self.db())
            .await
            .map_err(internal)?;
        row.as_ref()
            .map(record_from_row)
            .transpose()
            .map_err(internal)
    }

    pub async fn list(
        &self,
        key: &SessionKey,
        filter: &ListFilter,
    ) -> Result<OutboundPage, CoreError> {
        let mut q = query(format!(
            "SELECT seq, {RECORD_COLUMNS} FROM outbound_messages WHERE tenant_id = "
        ));
        q.push_bind(key.tenant.0)
            .push(" AND session_id = ")
            .push_bind(key.session.as_str());
        if let Some(s) = filter.status {
            q.push(" AND status = ").push_bind(s.as_str());
        }
        if let Some(r) = &filter.recipient {
            q.push(" AND recipient = ").push_bind(r.clone());
        }
        if let Some(t) = filter.since_ms {
            q.push(" AND created_at >= ").push_bind(t);
        }
        if let Some(t) = filter.until_ms {
            q.push(" AND created_at < ").push_bind(t);
        }
        if let Some(b) = &filter.batch_id {
            q.push(" AND batch_id = ").push_bind(b.clone());
        }
        if let Some(c) = filter.before_seq {
            q.push(" AND seq < ").push_bind(c);
        }
        let limit = filter.limit.clamp(1, 500);
        q.push(" ORDER BY seq DESC LIMIT ")
            .push_bind(i64::from(limit) + 1);
        let rows = q.fetch_all(self.db()).await.map_err(internal)?;
        let more = rows.len() > limit as usize;
        let mut items = Vec::with_capacity(rows.len());
        let mut last_seq = None;
        for row in rows.iter().take(limit as usize) {
            items.push(record_from_row(row).map_err(internal)?);
            last_seq = Some(row.try_get::<i64, _>("seq").map_err(internal)?);
        }
        Ok(OutboundPage {
            items,
            next: if more { last_seq } else { None },
        })
    }

    /// The session's messages that have not gone out (queued, or claimed
    /// and not yet acked), oldest first.
    pub async fn unsent(&self, key: &SessionKey) -> Result<Vec<MessageId>, CoreError> {
        let ids: Vec<String> = query_scalar(
            "SELECT id FROM outbound_messages \
             WHERE tenant_id = $1 AND session_id = $2 AND status IN ('queued', 'sending') \
             ORDER BY seq",
        )
        .bind(key.tenant.0)
        .bind(key.session.as_str())
        .fetch_all(self.db())
        .await
        .map_err(internal)?;
        // Stored ids passed `MessageId::parse` when they were accepted.
        Ok(ids
            .into_iter()
            .filter_map(|id| MessageId::parse(&id).ok())
            .collect())
    }

    /// Messages the session sent since `since_ms`, for the hourly cap.
    pub async fn sent_since(&self, key: &SessionKey, since_ms: i64) -> Result<Vec<i64>, CoreError> {
        query_scalar(
            // A message being sent counts from its claim: its `sent` may
            // not be written yet when a sender reloads its counts, and
            // leaving it out would let one more through a cap.
            "SELECT COALESCE(sent_at, updated_at) AS at FROM outbound_messages \
             WHERE tenant_id = $1 AND session_id = $2 \
               AND (sent_at >= $3 OR (status = 'sending' AND sent_at IS NULL)) \
             ORDER BY at",
        )
        .bind(key.tenant.0)
        .bind(key.session.as_str())
        .bind(since_ms)
        .fetch_all(self.db())
        .await
        .map_err(internal)
    }

    /// When each recipient first messaged since `since_ms` was written to.
    pub async fn first_contacts_since(
        &self,
        key: &SessionKey,
        since_ms: i64,
    ) -> Result<Vec<i64>, CoreError> {
        // Recipients of messages being sent count from the claim, as in
        // `sent_since`: their contact row is written with the outcome.
        query_scalar(
            "SELECT first_sent_at AS at FROM session_contacts \
             WHERE tenant_id = $1 AND session_id = $2 AND first_sent_at >= $3 \
             UNION ALL \
             SELECT MIN(m.updated_at) AS at FROM outbound_messages m \
             WHERE m.tenant_id = $1 AND m.session_id = $2 AND m.status = 'sending' \
               AND NOT EXISTS (SELECT 1 FROM session_contacts c WHERE c.tenant_id = m.tenant_id \
                   AND c.session_id = m.session_id AND c.recipient = m.recipient) \
             GROUP BY m.recipient \
             ORDER BY at",
        )
        .bind(key.tenant.0)
        .bind(key.session.as_str())
        .bind(since_ms)
        .fetch_all(self.db())
        .await
        .map_err(internal)
    }

    pub async fn is_known_contact(
        &self,
        key: &SessionKey,
        recipient: &str,
    ) -> Result<bool, CoreError> {
        let found: Option<i64> = query_scalar(
            "SELECT 1 FROM session_contacts \
             WHERE tenant_id = $1 AND session_id = $2 AND recipient = $3",
        )
        .bind(key.tenant.0)
        .bind(key.session.as_str())
        .bind(recipient)
        .fetch_optional(self.db())
        .await
        .map_err(internal)?;
        Ok(found.is_some())
    }

    /// The session's own pacing settings.
    pub async fn policy(&self, key: &SessionKey) -> Result<SendPolicyOverrides, CoreError> {
        let raw: Option<Option<String>> = query_scalar(
            "SELECT send_policy FROM sessions WHERE tenant_id = $1 AND session_id = $2",
        )
        .bind(key.tenant.0)
        .bind(key.session.as_str())
        .fetch_optional(self.db())
        .await
        .map_err(internal)?;
        Ok(raw
            .flatten()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default())
    }

    pub async fn set_policy(
        &self,
        key: &SessionKey,
        policy: &SendPolicyOverrides,
    ) -> Result<(), CoreError> {
        let json = serde_json::to_string(policy).map_err(|e| CoreError::Internal(e.to_string()))?;
        let mut tx = self.db().begin().await.map_err(internal)?;
        query("UPDATE sessions SET send_policy = $3 WHERE tenant_id = $1 AND session_id = $2")
            .bind(key.tenant.0)
            .bind(key.session.as_str())
            .bind(json)
            .execute(&mut tx)
            .await
            .map_err(internal)?;
        // Messages held back by a cap wait until the cap's window ends (up
        // to a day). New settings may lift or raise the cap, so they go
        // back to the sender now, which holds them again if still capped.
        // The reasons are the pacer's ("… cap of N … reached"); retry
        // waits after failed tries keep their backoff.
        query(
            "UPDATE outbound_messages SET not_before = $3, held = FALSE, wait_reason = NULL \
             WHERE tenant_id = $1 AND session_id = $2 AND status = 'queued' \
             AND wait_reason LIKE '% cap of % reached'",
        )
        .bind(key.tenant.0)
        .bind(key.session.as_str())
        .bind(super::now_ms())
        .execute(&mut tx)
        .await
        .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        Ok(())
    }

    /// Records (or clears, with `None`) why the session's sender waits.
    pub async fn set_paused(
        &self,
        key: &SessionKey,
        pause: Option<(i64, &str)>,
    ) -> Result<(), CoreError> {
        query(
            "UPDATE sessions SET send_paused_until = $3, send_paused_reason = $4 \
             WHERE tenant_id = $1 AND session_id = $2",
        )
        .bind(key.tenant.0)
        .bind(key.session.as_str())
        .bind(pause.map(|p| p.0))
        .bind(pause.map(|p| p.1.to_string()))
        .execute(self.db())
        .await
        .map_err(internal)?;
        Ok(())
    }

    /// Why the session's sender waits, if it does.
    pub async fn paused(&self, key: &SessionKey) -> Result<Option<(i64, String)>, CoreError> {
        let row = query(
            "SELECT send_paused_until, send_paused_reason FROM sessions \
             WHERE tenant_id = $1 AND session_id = $2",
        )
        .bind(key.tenant.0)
        .bind(key.session.as_str())
        .fetch_optional(self.db())
        .await
        .map_err(internal)?;
        let row: Option<(Option<i64>, Option<String>)> = row
            .map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?)))
            .transpose()
            .map_err(internal)?;
        Ok(match row {
            Some((Some(until), Some(reason))) if until > super::now_ms() => Some((until, reason)),
            _ => None,
        })
    }
}
