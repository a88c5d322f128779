//! Webhook deliveries: claimed by the dispatcher when due, each attempt
//! logged, retried on the caller's schedule, resent or replayed on demand.

use super::{EVENT_COLUMNS, Events, NewEvent, StoredEvent, append_in, event_from_row};
use crate::db::{Backend, Link, query, query_scalar};
use crate::outbound::{commit_failed, internal, now_ms, to_time};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::OnceLock;
use std::time::Duration;
use wagate_core::{CoreError, TenantId};

/// A delivery taken for one attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub endpoint_id: String,
    pub event_seq: i64,
    /// This attempt's number, from 1.
    pub attempt: u32,
    /// When the first attempt was due: how long the endpoint has been
    /// owed this event.
    pub created_at: DateTime<Utc>,
}

/// What became of a delivery after an attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryState {
    Delivered,
    /// Try again at this time (ms since the epoch).
    RetryAt(i64),
    /// No more tries.
    Failed,
}

/// One attempt's result, as the dispatcher saw it.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub delivery_id: i64,
    pub endpoint_id: String,
    pub attempt: u32,
    pub status_code: Option<u16>,
    pub latency: Duration,
    pub response_body: Option<String>,
    pub error: Option<String>,
    /// `delivered`, `retry`, `gone` or `refused`.
    pub verdict: String,
    pub next: DeliveryState,
    /// Disable the endpoint, for this reason (a 410, or failing too long);
    /// a `webhook.disabled` event is recorded with it.
    pub disable: Option<NewEvent>,
}

/// One line of an endpoint's delivery log.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptRecord {
    pub id: i64,
    pub delivery_id: i64,
    pub event_id: String,
    pub event_type: String,
    pub attempt: u32,
    pub at: DateTime<Utc>,
    pub status_code: Option<u16>,
    pub latency_ms: i64,
    pub response_body: Option<String>,
    pub error: Option<String>,
    pub verdict: String,
}

/// A delivery and where it stands.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryRecord {
    pub id: i64,
    pub event_id: String,
    pub event_type: String,
    pub status: String,
    pub attempts: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

const CLAIM: &str = "\
UPDATE webhook_deliveries SET status = 'delivering', claimed_until = $2, \
    attempts = attempts + 1, updated_at = $1 \
WHERE id IN ( \
    SELECT id FROM webhook_deliveries \
    WHERE ((status = 'pending' AND held_for IS NULL) \
           OR (status = 'delivering' AND claimed_until < $1)) \
      AND next_at <= $1 \
    ORDER BY next_at, id LIMIT $3 {lock}) \
RETURNING id, endpoint_id, event_seq, attempts, created_at";

/// [`CLAIM`] for each database: on PostgreSQL any node's dispatcher
/// claims, and skips rows another one's claim has locked.
fn claim_sql(backend: Backend) -> &'static str {
    static SQLITE: OnceLock<String> = OnceLock::new();
    static POSTGRES: OnceLock<String> = OnceLock::new();
    match backend {
        Backend::Sqlite => SQLITE.get_or_init(|| CLAIM.replace("{lock}", "")),
        Backend::Postgres => {
            POSTGRES.get_or_init(|| CLAIM.replace("{lock}", "FOR UPDATE SKIP LOCKED"))
        }
    }
}

impl Events {
    /// Takes up to `limit` due deliveries for `visibility`; one whose
    /// dispatcher died is due again when that runs out.
    pub async fn claim_deliveries(
        &self,
        limit: u32,
        visibility: Duration,
    ) -> Result<Vec<ClaimedDelivery>, CoreError> {
        let now = now_ms();
        let until = now + visibility.as_millis() as i64;
        let rows = self
            .committer
            .run(move |conn| {
                Box::pin(async move {
                    query(claim_sql(conn.backend()))
                        .bind(now)
                        .bind(until)
                        .bind(i64::from(limit))
                        .fetch_all(conn)
                        .await
                })
            })
            .await
            .map_err(commit_failed)?;
        let mut claimed = rows
            .iter()
            .map(|r| {
                Ok(ClaimedDelivery {
                    id: r.try_get("id")?,
                    endpoint_id: r.try_get("endpoint_id")?,
                    event_seq: r.try_get("event_seq")?,
                    attempt: r.try_get::<i64, _>("attempts")? as u32,
                    created_at: to_time(r.try_get("created_at")?),
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(internal)?;
        claimed.sort_by_key(|c| c.id);
        Ok(claimed)
    }

    /// The events of a claim, by `seq`, in one read (an event deleted
    /// since is missing).
    pub async fn events_by_seq(
        &self,
        seqs: &[i64],
    ) -> Result<HashMap<i64, StoredEvent>, CoreError> {
        let mut q = query(format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq IN "));
        q.push_list(seqs.iter().copied());
        let rows = q.fetch_all(self.db()).await.map_err(internal)?;
        rows.iter()
            .map(|r| event_from_row(r).map(|e| (e.seq, e)))
            .collect()
    }

    /// Wakes when a resend or a replay has queued deliveries (new events
    /// show on [`subscribe`](Events::subscribe) instead).
    pub fn deliveries_queued(&self) -> Arc<tokio::sync::Notify> {
        self.queued.clone()
    }

    /// When the next delivery falls due, if any is waiting.
    pub async fn next_delivery_due(&self) -> Result<Option<i64>, CoreError> {
        query_scalar(
            "SELECT MIN(CASE WHEN status = 'delivering' THEN claimed_until ELSE next_at END) \
             FROM webhook_deliveries WHERE status IN ('pending', 'delivering') AND held_for IS NULL",
        )
        .fetch_one(self.db())
        .await
        .map_err(internal)
    }

    /// Logs an attempt and moves its delivery (and endpoint) on, in one
    /// job.
    pub async fn record_attempt(&self, a: Attempt) -> Result<(), CoreError> {
        let seq = self
            .committer
            .run(move |link| Box::pin(async move { record_in(link, &a).await }))
            .await
            .map_err(commit_failed)?;
        if let Some(seq) = seq {
            self.published(&[seq]);
        }
        Ok(())
    }

    /// Closes a claimed delivery without an attempt: the endpoint's payload
    /// shape has no form for its event.
    pub async fn skip_delivery(&self, delivery_id: i64) -> Result<(), CoreError> {
        self.close_delivery(delivery_id, "skipped", None).await
    }

    /// Closes a claimed delivery without an attempt because it can no
    /// longer go anywhere (its endpoint was disabled or deleted after it
    /// was queued), as disabling closes the endpoint's other deliveries.
    pub async fn cancel_delivery(&self, delivery_id: i64, reason: &str) -> Result<(), CoreError> {
        self.close_delivery(delivery_id, "cancelled", Some(reason.to_owned()))
            .await
    }

    /// Ends an undelivered delivery with `status`, keeping `reason`.
    async fn close_delivery(
        &self,
        delivery_id: i64,
        status: &'static str,
        reason: Option<String>,
    ) -> Result<(), CoreError> {
        let now = now_ms();
        self.committer
            .run(move |conn| {
                Box::pin(async move {
                    query(
                        "UPDATE webhook_deliveries SET status = $2, claimed_until = NULL, \
                         last_error = COALESCE($3, last_error), updated_at = $4 \
                         WHERE id = $1 AND status IN ('pending', 'delivering')",
                    )
                    .bind(delivery_id)
                    .bind(status)
                    .bind(reason)
                    .bind(now)
                    .execute(conn)
                    .await
                    .map(|_| ())
                })
            })
            .await
            .map_err(commit_failed)
    }

    /// Replaces the event's data (an inbound message whose media download
    /// settled) and lets its held deliveries go, in one job.
    pub async fn settle_held(
        &self,
        event_seq: i64,
        data: serde_json::Value,
    ) -> Result<(), CoreError> {
        let now = now_ms();
        self.committer
            .run(move |conn| {
                Box::pin(async move {
                    query("UPDATE events SET data = $2 WHERE seq = $1")
                        .bind(event_seq)
                        .bind(data.to_string())
                        .execute(&mut *conn)
                        .await?;
                    query(
                        "UPDATE webhook_deliveries SET held_for = NULL, next_at = $2, updated_at = $2 \
                         WHERE event_seq = $1 AND held_for IS NOT NULL",
                    )
                    .bind(event_seq)
                    .bind(now)
                    .execute(&mut *conn)
                    .await
                    .map(|_| ())
                })
            })
            .await
            .map_err(commit_failed)?;
        self.published(&[event_seq]);
        Ok(())
    }

    /// Events whose deliveries still wait on something (after a restart:
    /// media downloads that never finished).
    pub async fn held_events(&self) -> Result<Vec<StoredEvent>, CoreError> {
        let rows = query(format!(
            "SELECT {EVENT_COLUMNS} FROM events \
             WHERE seq IN (SELECT DISTINCT event_seq FROM webhook_deliveries \
                           WHERE held_for IS NOT NULL AND status = 'pending')"
        ))
        .fetch_all(self.db())
        .await
        .map_err(internal)?;
        rows.iter().map(event_from_row).collect()
    }

    /// The tenant's event with this id.
    pub async fn event_by_id(
        &self,
        tenant: TenantId,
        id: &str,
    ) -> Result<Option<StoredEvent>, CoreError> {
        let row = query(format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.0)
        .bind(id)
        .fetch_optional(self.db())
        .await
        .map_err(internal)?;
        row.as_ref().map(event_from_row).transpose()
    }

    /// Queues `event_seq` to the endpoint again, due now.
    pub async fn resend(&self, endpoint_id: &str, event_seq: i64) -> Result<i64, CoreError> {
        let now = now_ms();
        let id = query_scalar(
            "INSERT INTO webhook_deliveries (endpoint_id, event_seq, next_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $3, $3) RETURNING id",
        )
        .bind(endpoint_id)
        .bind(event_seq)
        .bind(now)
        .fetch_one(self.db())
        .await
        .map_err(internal)?;
        self.queued.notify_one();
        Ok(id)
    }

    /// Queues every event of `[since, until)` that the endpoint would get
    /// (its session and filter) to it again; returns how many.
    pub async fn replay(
        &self,
        tenant: TenantId,
        endpoint_id: &str,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<u64, CoreError> {
        let now = now_ms();
        let wanted = match self.db().backend() {
            Backend::Sqlite => {
                "EXISTS (SELECT 1 FROM json_each(w.events) WHERE value = '*' OR value = e.kind)"
            }
            Backend::Postgres => "(w.events::jsonb ? '*' OR w.events::jsonb ? e.kind)",
        };
        let done = query(format!(
            "INSERT INTO webhook_deliveries (endpoint_id, event_seq, next_at, created_at, updated_at) \
             SELECT w.id, e.seq, $5, $5, $5 FROM events e JOIN webhook_endpoints w \
               ON w.id = $2 AND w.tenant_id = e.tenant_id \
              AND (w.session_id IS NULL OR w.session_id = e.session_id) \
             WHERE e.tenant_id = $1 AND e.created_at >= $3 AND e.created_at < $4 AND {wanted} \
             ORDER BY e.seq",
        ))
        .bind(tenant.0)
        .bind(endpoint_id)
        .bind(since.timestamp_millis())
        .bind(until.timestamp_millis())
        .bind(now)
        .execute(self.db())
        .await
        .map_err(internal)?;
        self.queued.notify_one();
        Ok(done.rows_affected())
    }

    /// The endpoint's deliveries, newest first, before `before_id`.
    pub async fn deliveries(
        &self,
        endpoint_id: &str,
        before_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<DeliveryRecord>, CoreError> {
        let rows = query(
            "SELECT d.id, e.id AS event_id, e.kind, d.status, d.attempts, d.next_at, \
                    d.last_status, d.last_error, d.created_at, d.delivered_at \
             FROM webhook_deliveries d JOIN events e ON e.seq = d.event_seq \
             WHERE d.endpoint_id = $1 AND d.id < $2 ORDER BY d.id DESC LIMIT $3",
        )
        .bind(endpoint_id)
        .bind(before_id.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(self.db())
        .await
        .map_err(internal)?;
        rows.iter()
            .map(|r| {
                let status: String = r.try_get("status")?;
                let waiting = matches!(status.as_str(), "pending" | "delivering");
                Ok(DeliveryRecord {
                    id: r.try_get("id")?,
                    event_id: r.try_get("event_id")?,
                    event_type: r.try_get("kind")?,
                    attempts: r.try_get::<i64, _>("attempts")? as u32,
                    next_attempt_at: waiting
                        .then(|| r.try_get("next_at").map(to_time))
                        .transpose()?,
                    last_status_code: r
                        .try_get::<Option<i64>, _>("last_status")?
                        .map(|s| s as u16),
                    last_error: r.try_get("last_error")?,
                    created_at: to_time(r.try_get("created_at")?),
                    delivered_at: r.try_get::<Option<i64>, _>("delivered_at")?.map(to_time),
                    status,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(internal)
    }

    /// The endpoint's attempts, newest first, before `before_id`.
    pub async fn attempts(
        &self,
        endpoint_id: &str,
        before_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AttemptRecord>, CoreError> {
        let rows = query(
            "SELECT a.id, a.delivery_id, e.id AS event_id, e.kind, a.attempt, a.at, a.status_code, \
                    a.latency_ms, a.response_body, a.error, a.verdict \
             FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id \
             JOIN events e ON e.seq = d.event_seq \
             WHERE a.endpoint_id = $1 AND a.id < $2 ORDER BY a.id DESC LIMIT $3",
        )
        .bind(endpoint_id)
        .bind(before_id.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(self.db())
        .await
        .map_err(internal)?;
        rows.iter()
            .map(|r| {
                Ok(AttemptRecord {
                    id: r.try_get("id")?,
                    delivery_id: r.try_get("delivery_id")?,
                    event_id: r.try_get("event_id")?,
                    event_type: r.try_get("kind")?,
                    attempt: r.try_get::<i64, _>("attempt")? as u32,
                    at: to_time(r.try_get("at")?),
                    status_code: r
                        .try_get::<Option<i64>, _>("status_code")?
                        .map(|s| s as u16),
                    latency_ms: r.try_get("latency_ms")?,
                    response_body: r.try_get("response_body")?,
                    error: r.try_get("error")?,
                    verdict: r.try_get("verdict")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(internal)
    }
}

/// The writes of one attempt; returns the `seq` of a `webhook.disabled`
/// event if the endpoint was disabled. Runs as a job of the writer: it
/// may write an event, and events are written there.
async fn record_in(link: &mut Link<'_>, a: &Attempt) -> Result<Option<i64>, sqlx::Error> {
    let now = now_ms();
    query(
        "INSERT INTO webhook_attempts (delivery_id, endpoint_id, attempt, at, status_code, \
         latency_ms, response_body, error, verdict) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(a.delivery_id)
    .bind(a.endpoint_id.as_str())
    .bind(i64::from(a.attempt))
    .bind(now)
    .bind(a.status_code.map(i64::from))
    .bind(a.latency.as_millis() as i64)
    .bind(a.response_body.as_deref())
    .bind(a.error.as_deref())
    .bind(a.verdict.as_str())
    .execute(&mut *link)
    .await?;
    let (status, next_at) = match a.next {
        DeliveryState::Delivered => ("delivered", now),
        DeliveryState::RetryAt(at) => ("pending", at),
        DeliveryState::Failed => ("failed", now),
    };
    query(
        "UPDATE webhook_deliveries SET status = $2, next_at = $3, claimed_until = NULL, \
         last_status = $4, last_error = $5, updated_at = $6, \
         delivered_at = CASE WHEN $2 = 'delivered' THEN $6 ELSE delivered_at END \
         WHERE id = $1 AND status = 'delivering'",
    )
    .bind(a.delivery_id)
    .bind(status)
    .bind(next_at)
    .bind(a.status_code.map(i64::from))
    .bind(a.error.as_deref())
    .bind(now)
    .execute(&mut *link)
    .await?;
    // The failure run starts at the first failed attempt and ends at the
    // next success.
    query(
        "UPDATE webhook_endpoints SET failing_since = CASE WHEN $2 THEN NULL \
         ELSE COALESCE(failing_since, $3) END WHERE id = $1",
    )
    .bind(a.endpoint_id.as_str())
    .bind(a.next == DeliveryState::Delivered)
    .bind(now)
    .execute(&mut *link)
    .await?;
    let Some(event) = &a.disable else {
        return Ok(None);
    };
    let reason = event.data["reason"].as_str().unwrap_or("disabled");
    let disabled = query(
        "UPDATE webhook_endpoints SET enabled = FALSE, disabled_reason = $2, updated_at = $3 \
         WHERE id = $1 AND enabled = TRUE",
    )
    .bind(a.endpoint_id.as_str())
    .bind(reason)
    .bind(now)
    .execute(&mut *link)
    .await?;
    if disabled.rows_affected() == 0 {
        return Ok(None);
    }
    // Undelivered events stay in the log; a replay sends them later.
    query(
        "UPDATE webhook_deliveries SET status = 'cancelled', last_error = 'endpoint disabled', \
         updated_at = $2 WHERE endpoint_id = $1 AND status IN ('pending', 'delivering') AND id != $3",
    )
    .bind(a.endpoint_id.as_str())
    .bind(now)
    .bind(a.delivery_id)
    .execute(&mut *link)
    .await?;
    append_in(link, event, now).await.map(Some)
}
