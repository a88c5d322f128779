//! Accepting messages with group commit. Every accepted message must be
//! on disk before the API says yes, and one fsync per message would cap
//! the gateway at a few hundred messages a second; so one task takes
//! whatever requests have gathered, writes them in one transaction and
//! answers each once it is committed.

use super::{Outbound, commit_failed, internal, now_ms};
use crate::db::{Backend, Link, query, query_scalar};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, oneshot};
use wagate_core::outbound::{MessageId, OutboundBody};
use wagate_core::{CoreError, SessionKey};

/// Most requests written in one transaction.
const MAX_BATCH: usize = 512;

/// One message to queue.
#[derive(Debug, Clone)]
pub struct NewOutbound {
    pub id: MessageId,
    /// The recipient's JID.
    pub recipient: String,
    pub body: OutboundBody,
    pub send_at: Option<DateTime<Utc>>,
    pub batch_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub key: String,
    /// A digest of what was asked, so a reused key with another request
    /// is told apart from a retry.
    pub request_hash: String,
}

/// One API request's messages and the answer to replay for its key.
#[derive(Debug, Clone)]
pub struct Accept {
    pub key: SessionKey,
    pub messages: Vec<NewOutbound>,
    pub idempotency: Option<IdempotencyKey>,
    pub response_status: u16,
    pub response: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AcceptOutcome {
    /// Written; the messages are queued.
    Accepted,
    /// The same key and request came before: here is its first answer.
    Replayed { status: u16, body: Value },
    /// The key was used before for a different request.
    KeyReused,
}

type Reply = oneshot::Sender<Result<AcceptOutcome, CoreError>>;
type Waker = Arc<dyn Fn(&SessionKey) + Send + Sync>;

impl std::fmt::Debug for Enqueuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Enqueuer")
    }
}

/// The single writer of accepted messages. Cheap to clone.
#[derive(Clone)]
pub struct Enqueuer {
    tx: mpsc::UnboundedSender<(Accept, Reply)>,
    waker: Arc<OnceLock<Waker>>,
}

impl Enqueuer {
    /// Starts the writer task; `seq` continues after the highest stored.
    pub async fn start(queue: Outbound) -> Result<Enqueuer, CoreError> {
        let last: i64 = query_scalar("SELECT COALESCE(MAX(seq), 0) FROM outbound_messages")
            .fetch_one(queue.db())
            .await
            .map_err(internal)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let waker: Arc<OnceLock<Waker>> = Arc::default();
        tokio::spawn(write_loop(queue, rx, last, waker.clone()));
        Ok(Enqueuer { tx, waker })
    }

    /// Who to tell once a session has new messages (its sender).
    pub fn on_committed(&self, wake: impl Fn(&SessionKey) + Send + Sync + 'static) {
        let _ = self.waker.set(Arc::new(wake));
    }

    /// Returns once the request is committed (or refused).
    pub async fn submit(&self, accept: Accept) -> Result<AcceptOutcome, CoreError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((accept, reply))
            .map_err(|_| CoreError::Unavailable("the queue is shutting down".into()))?;
        answer
            .await
            .map_err(|_| CoreError::Unavailable("the queue is shutting down".into()))?
    }
}

async fn write_loop(
    queue: Outbound,
    mut rx: mpsc::UnboundedReceiver<(Accept, Reply)>,
    mut seq: i64,
    waker: Arc<OnceLock<Waker>>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let (accepts, replies): (Vec<Accept>, Vec<Reply>) = batch.into_iter().unzip();
        let accepts = Arc::new(accepts);
        match write_batch(&queue, accepts.clone(), seq).await {
            Ok((outcomes, last_seq)) => {
                seq = last_seq;
                if let Some(wake) = waker.get() {
                    for (accept, outcome) in accepts.iter().zip(&outcomes) {
                        if *outcome == AcceptOutcome::Accepted && !accept.messages.is_empty() {
                            wake(&accept.key);
                        }
                    }
                }
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(e) => {
                tracing::error!(requests = replies.len(), "cannot queue messages: {e}");
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }
}

/// Writes the requests after `seq` in one job of the group commit;
/// returns each one's outcome and the last `seq` used.
async fn write_batch(
    queue: &Outbound,
    accepts: Arc<Vec<Accept>>,
    mut seq: i64,
) -> Result<(Vec<AcceptOutcome>, i64), CoreError> {
    let now = now_ms();
    queue
        .committer()
        .run(move |link| {
            Box::pin(async move {
                let mut outcomes = Vec::with_capacity(accepts.len());
                for accept in accepts.iter() {
                    if let Some(idem) = &accept.idempotency
                        && let Some(earlier) = claim_key(link, accept, idem, now).await?
                    {
                        outcomes.push(earlier);
                        continue;
                    }
                    for m in &accept.messages {
                        seq += 1;
                        insert_message(link, &accept.key, m, seq, now).await?;
                    }
                    outcomes.push(AcceptOutcome::Accepted);
                }
                let mut with_work: Vec<&SessionKey> = accepts
                    .iter()
                    .zip(&outcomes)
                    .filter(|(a, o)| **o == AcceptOutcome::Accepted && !a.messages.is_empty())
                    .map(|(a, _)| &a.key)
                    .collect();
                with_work.sort_by(|a, b| {
                    (a.tenant.0, a.session.as_str()).cmp(&(b.tenant.0, b.session.as_str()))
                });
                with_work.dedup();
                super::work_notices::announce(link, with_work).await?;
                Ok((outcomes, seq))
            })
        })
        .await
        .map_err(commit_failed)
}

/// Records the key, or returns what an earlier request with it got.
async fn claim_key(
    link: &mut Link<'_>,
    accept: &Accept,
    idem: &IdempotencyKey,
    now: i64,
) -> Result<Option<AcceptOutcome>, sqlx::Error> {
    let inserted = query(
        "INSERT INTO idempotency_keys (tenant_id, idem_key, request_hash, status_code, response, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(accept.key.tenant.0)
    .bind(&idem.key)
    .bind(&idem.request_hash)
    .bind(i64::from(accept.response_status))
    .bind(accept.response.to_string())
    .bind(now)
    .execute(&mut *link)
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(None);
    }
    let row = query(
        "SELECT request_hash, status_code, response FROM idempotency_keys \
         WHERE tenant_id = $1 AND idem_key = $2",
    )
    .bind(accept.key.tenant.0)
    .bind(&idem.key)
    .fetch_one(link)
    .await?;
    let (hash, status, body): (String, i64, String) =
        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    if hash != idem.request_hash {
        return Ok(Some(AcceptOutcome::KeyReused));
    }
    Ok(Some(AcceptOutcome::Replayed {
        status: status as u16,
        body: serde_json::from_str(&body).unwrap_or(Value::Null),
    }))
}

/// A message's row. On SQLite the single writer numbers messages in
/// acceptance order; on PostgreSQL, where several nodes accept at once,
/// a database sequence does.
async fn insert_message(
    link: &mut Link<'_>,
    key: &SessionKey,
    m: &NewOutbound,
    seq: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    let send_at = m.send_at.map(|t| t.timestamp_millis());
    let body = serde_json::to_string(&m.body).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let sql = match link.backend() {
        Backend::Sqlite => {
            "INSERT INTO outbound_messages (id, seq, tenant_id, session_id, recipient, kind, body, \
             send_at, not_before, batch_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)"
        }
        Backend::Postgres => {
            "INSERT INTO outbound_messages (id, seq, tenant_id, session_id, recipient, kind, body, \
             send_at, not_before, batch_id, created_at, updated_at) \
             VALUES ($1, nextval('outbound_messages_seq'), $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)"
        }
    };
    query(sql)
        .bind(m.id.as_str())
        .bind(seq)
        .bind(key.tenant.0)
        .bind(key.session.as_str())
        .bind(&m.recipient)
        .bind(m.body.content.kind_name())
        .bind(body)
        .bind(send_at)
        .bind(send_at.unwrap_or(now).max(now))
        .bind(m.batch_id.as_deref())
        .bind(now)
        .execute(link)
        .await?;
    Ok(())
}
