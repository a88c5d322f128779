//! Session state changes, written in batches.
//!
//! Every client event that changes a session's recorded state goes through
//! one writer task, in order. It applies whatever has queued up as one
//! store write, so a thousand sessions reconnecting at once cost a few
//! commits instead of a thousand. Each update is fenced by the session's
//! lease as the engine holds it when the update is made.

use crate::ownership::Ownership;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use wagate_core::{SessionKey, SessionRecords, SessionUpdate, SessionWrite};

/// Most updates applied in one write.
const MAX_BATCH: usize = 512;

enum Write {
    Update(SessionWrite),
    /// Answered once everything queued before it is written.
    Flush(oneshot::Sender<()>),
}

#[derive(Clone)]
pub(crate) struct StateWriter {
    tx: mpsc::UnboundedSender<Write>,
    leases: Arc<Ownership>,
}

impl StateWriter {
    pub fn start(records: Arc<dyn SessionRecords>, leases: Arc<Ownership>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(write_loop(records, rx));
        StateWriter { tx, leases }
    }

    pub fn record(&self, key: &SessionKey, update: SessionUpdate) {
        let _ = self.tx.send(Write::Update(SessionWrite {
            key: key.clone(),
            update,
            fence: Some(self.leases.fence(key)),
        }));
    }

    /// Waits until every update recorded so far is in the store.
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.tx.send(Write::Flush(done)).is_ok() {
            let _ = written.await;
        }
    }
}

async fn write_loop(records: Arc<dyn SessionRecords>, mut rx: mpsc::UnboundedReceiver<Write>) {
    while let Some(first) = rx.recv().await {
        let mut batch = Vec::new();
        let mut waiters = Vec::new();
        let mut next = Some(first);
        while let Some(write) = next.take() {
            match write {
                Write::Update(write) => batch.push(write),
                Write::Flush(done) => waiters.push(done),
            }
            if batch.len() < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        // In key order (stable, so each session's updates keep theirs):
        // batches on several nodes lock rows in one order.
        batch.sort_by(|a, b| {
            (a.key.tenant.0, a.key.session.as_str()).cmp(&(b.key.tenant.0, b.key.session.as_str()))
        });
        if !batch.is_empty()
            && let Err(e) = records.apply_updates(&batch).await
        {
            tracing::error!(updates = batch.len(), "cannot record session state: {e}");
        }
        for done in waiters {
            let _ = done.send(());
        }
    }
}
