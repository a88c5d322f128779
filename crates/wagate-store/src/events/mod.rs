//! The durable event outbox. An event is written — with one delivery row
//! per matching webhook endpoint — in a single group-commit job, before
//! anyone is told about it; the dispatcher and the live streams read the
//! rows, never an in-memory queue.

mod append;
mod deliveries;
mod endpoints;

pub(crate) use append::append_in;

pub use deliveries::{Attempt, AttemptRecord, ClaimedDelivery, DeliveryRecord, DeliveryState};
pub use endpoints::{Endpoint, EndpointPatch, NewEndpoint};

use crate::cipher::StateCipher;
use crate::commit::Committer;
use crate::db::{Db, Row, query, query_scalar};
use crate::outbound::{commit_failed, internal, now_ms, to_time};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use tokio::sync::watch;
use wagate_core::{CoreError, SessionId, SessionKey, TenantId};

/// An event to append. `data` is the native payload's `data` (JSON).
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub id: String,
    pub key: SessionKey,
    pub kind: String,
    pub data: serde_json::Value,
    /// Deliveries wait for this (e.g. `"media"`) until released.
    pub held_for: Option<String>,
}

/// An inbound message's identity: WhatsApp ids are unique per chat and
/// sender only.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InboundKey {
    pub chat: String,
    pub sender: String,
    pub message_id: String,
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub seq: i64,
    pub id: String,
    pub key: SessionKey,
    pub kind: String,
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// The notification channel for committed events: the highest `seq`.
const EVENTS_CHANNEL: &str = "wagate_events";

/// The columns [`event_from_row`] reads.
const EVENT_COLUMNS: &str = "seq, id, tenant_id, session_id, kind, data, created_at";

/// The outbox over the process's committer. Cheap to clone.
#[derive(Clone)]
pub struct Events {
    committer: Committer,
    cipher: Arc<StateCipher>,
    /// The highest committed `seq`, for live streams and the dispatcher.
    latest: Arc<watch::Sender<i64>>,
    /// Rung when deliveries of events already stored are queued (a
    /// resend, a replay), which `latest` does not announce.
    queued: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Events")
    }
}

impl Events {
    pub async fn new(committer: Committer, cipher: Arc<StateCipher>) -> Result<Events, CoreError> {
        let last: i64 = query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events")
            .fetch_one(committer.db())
            .await
            .map_err(internal)?;
        Ok(Events {
            committer,
            cipher,
            latest: Arc::new(watch::channel(last).0),
            queued: Arc::default(),
        })
    }

    /// Changes whenever events are committed; holds the highest `seq`.
    pub fn subscribe(&self) -> watch::Receiver<i64> {
        self.latest.subscribe()
    }

    /// Appends `events` and their deliveries; returns their `seq`s once
    /// committed.
    pub async fn append(&self, events: Vec<NewEvent>) -> Result<Vec<i64>, CoreError> {
        let seqs = self
            .committer
            .run(move |link| {
                Box::pin(async move {
                    let mut seqs = Vec::with_capacity(events.len());
                    for e in &events {
                        seqs.push(append_in(link, e, now_ms()).await?);
                    }
                    Ok(seqs)
                })
            })
            .await
            .map_err(commit_failed)?;
        self.published(&seqs);
        Ok(seqs)
    }

    /// Appends inbound messages not seen before, all or nothing; returns
    /// each one's `seq`, `None` for a redelivered one.
    pub async fn append_inbound(
        &self,
        items: Vec<(InboundKey, NewEvent)>,
    ) -> Result<Vec<Option<i64>>, CoreError> {
        let seqs = self
            .committer
            .run(move |link| {
                Box::pin(async move {
                    let mut seqs = Vec::with_capacity(items.len());
                    for (key, event) in &items {
                        seqs.push(append::append_inbound_in(link, key, event).await?);
                    }
                    Ok(seqs)
                })
            })
            .await
            .map_err(commit_failed)?;
        self.published(&seqs.iter().flatten().copied().collect::<Vec<_>>());
        Ok(seqs)
    }

    /// Tells watchers about events committed elsewhere (inside another
    /// job, see [`append_in`]), and the other nodes too.
    pub fn published(&self, seqs: &[i64]) {
        if let Some(&max) = seqs.iter().max() {
            self.raise(max);
            crate::db::notices::tell(self.committer.db(), EVENTS_CHANNEL, max.to_string());
        }
    }

    fn raise(&self, max: i64) {
        self.latest.send_if_modified(|latest| {
            let newer = max > *latest;
            if newer {
                *latest = max;
            }
            newer
        });
    }

    /// Hears of events other nodes commit, so this node's live streams
    /// and webhook dispatcher see them at once; `None` on SQLite, where
    /// this process is the only writer. A notice only says "look": the
    /// highest `seq` is read from the table, since a channel is shared by
    /// everything on the database server's database (other schemas too)
    /// and a number from elsewhere would move new streams past events.
    pub fn listen_to_other_nodes(&self) -> Option<tokio::task::JoinHandle<()>> {
        let rung = Arc::new(tokio::sync::Notify::new());
        let ring = rung.clone();
        let listener = crate::db::notices::listen(
            self.committer.db(),
            EVENTS_CHANNEL,
            Arc::new(move |_: &str| ring.notify_one()),
        )?;
        let events = self.clone();
        Some(tokio::spawn(async move {
            let _listener = crate::db::notices::AbortOnDrop(listener);
            loop {
                rung.notified().await;
                let max = query_scalar::<i64>("SELECT COALESCE(MAX(seq), 0) FROM events")
                    .fetch_one(events.committer.db())
                    .await;
                match max {
                    Ok(max) => events.raise(max),
                    Err(e) => tracing::warn!("cannot read the latest event: {e}"),
                }
            }
        }))
    }

    /// Events of a tenant (one session, or all) after `after_seq`, oldest
    /// first.
    pub async fn after(
        &self,
        tenant: TenantId,
        session: Option<&SessionId>,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, CoreError> {
        let rows = query(format!(
            "SELECT {EVENT_COLUMNS} FROM events \
             WHERE tenant_id = $1 AND ($2 IS NULL OR session_id = $2) AND seq > $3 \
             ORDER BY seq LIMIT $4"
        ))
        .bind(tenant.0)
        .bind(session.map(SessionId::as_str))
        .bind(after_seq)
        .bind(i64::from(limit))
        .fetch_all(self.committer.db())
        .await
        .map_err(internal)?;
        rows.iter().map(event_from_row).collect()
    }

    /// One event by `seq`.
    pub async fn get(&self, seq: i64) -> Result<Option<StoredEvent>, CoreError> {
        let row = query(format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq = $1"))
            .bind(seq)
            .fetch_optional(self.committer.db())
            .await
            .map_err(internal)?;
        row.as_ref().map(event_from_row).transpose()
    }

    fn db(&self) -> &Db {
        self.committer.db()
    }
}

fn event_from_row(row: &Row) -> Result<StoredEvent, CoreError> {
    let session: String = row.try_get("session_id").map_err(internal)?;
    let data: String = row.try_get("data").map_err(internal)?;
    Ok(StoredEvent {
        seq: row.try_get("seq").map_err(internal)?,
        id: row.try_get("id").map_err(internal)?,
        key: SessionKey {
            tenant: TenantId(row.try_get("tenant_id").map_err(internal)?),
            session: SessionId::parse(&session).map_err(|e| CoreError::Internal(e.to_string()))?,
        },
        kind: row.try_get("kind").map_err(internal)?,
        data: serde_json::from_str(&data).map_err(|e| CoreError::Internal(e.to_string()))?,
        created_at: to_time(row.try_get("created_at").map_err(internal)?),
    })
}
