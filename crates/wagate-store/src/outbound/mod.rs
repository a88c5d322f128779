//! The outbound queue: messages are rows from the moment they are
//! accepted. The API adds them through the [`Enqueuer`] (group commit), a
//! session's sender claims them in order, and every outcome and receipt
//! goes back through the [`OutcomeWriter`] in batches.

mod accept;
mod claim;
mod outcomes;
mod queries;
pub mod work_notices;

pub use accept::{Accept, AcceptOutcome, Enqueuer, IdempotencyKey, NewOutbound};
pub use claim::Claimed;
pub use outcomes::{Outcome, OutcomeWriter};
pub use queries::{ListFilter, OutboundPage};

use crate::commit::{CommitError, Committer};
use crate::db::Db;
use crate::db::Row;
use chrono::{DateTime, TimeZone, Utc};
use wagate_core::outbound::{MessageId, OutboundBody, OutboundStatus};
use wagate_core::{CoreError, SessionId, SessionKey, TenantId};

/// The queue over the shared pool; hot writes go through the process's
/// [`Committer`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Outbound {
    committer: Committer,
}

/// One queued (or finished) message as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboundRecord {
    pub id: MessageId,
    pub key: SessionKey,
    /// The JID the message is addressed to.
    pub recipient: String,
    pub kind: String,
    pub body: OutboundBody,
    pub status: OutboundStatus,
    pub wait_reason: Option<String>,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub send_at: Option<DateTime<Utc>>,
    pub batch_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub read_at: Option<DateTime<Utc>>,
    pub played_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
}

const RECORD_COLUMNS: &str = "id, tenant_id, session_id, recipient, kind, body, status, \
     wait_reason, attempts, last_error, send_at, batch_id, created_at, updated_at, sent_at, \
     delivered_at, read_at, played_at, failed_at";

/// Milliseconds since the epoch, the queue's clock unit.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

pub fn to_time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

fn corrupt(column: &str, detail: String) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: column.to_string(),
        source: detail.into(),
    }
}

fn record_from_row(row: &Row) -> Result<OutboundRecord, sqlx::Error> {
    let time = |c: &str| -> Result<Option<DateTime<Utc>>, sqlx::Error> {
        Ok(row.try_get::<Option<i64>, _>(c)?.map(to_time))
    };
    let id: String = row.try_get("id")?;
    let session: String = row.try_get("session_id")?;
    let status: String = row.try_get("status")?;
    let body: String = row.try_get("body")?;
    Ok(OutboundRecord {
        id: MessageId::parse(&id).map_err(|e| corrupt("id", e.to_string()))?,
        key: SessionKey {
            tenant: TenantId(row.try_get("tenant_id")?),
            session: SessionId::parse(&session)
                .map_err(|e| corrupt("session_id", e.to_string()))?,
        },
        recipient: row.try_get("recipient")?,
        kind: row.try_get("kind")?,
        body: serde_json::from_str(&body).map_err(|e| corrupt("body", e.to_string()))?,
        status: OutboundStatus::parse(&status)
            .ok_or_else(|| corrupt("status", format!("unknown status {status:?}")))?,
        wait_reason: row.try_get("wait_reason")?,
        attempts: row.try_get::<i64, _>("attempts")? as u32,
        last_error: row.try_get("last_error")?,
        send_at: time("send_at")?,
        batch_id: row.try_get("batch_id")?,
        created_at: to_time(row.try_get("created_at")?),
        updated_at: to_time(row.try_get("updated_at")?),
        sent_at: time("sent_at")?,
        delivered_at: time("delivered_at")?,
        read_at: time("read_at")?,
        played_at: time("played_at")?,
        failed_at: time("failed_at")?,
    })
}

pub(crate) fn internal(err: sqlx::Error) -> CoreError {
    CoreError::Internal(format!("database: {err}"))
}

pub(crate) fn commit_failed(err: CommitError) -> CoreError {
    match err {
        CommitError::Closed => CoreError::Unavailable("the database writer has stopped".into()),
        e => CoreError::Internal(format!("database: {e}")),
    }
}

impl Outbound {
    pub fn new(committer: Committer) -> Self {
        Outbound { committer }
    }

    pub fn db(&self) -> &Db {
        self.committer.db()
    }

    pub fn committer(&self) -> &Committer {
        &self.committer
    }
}
