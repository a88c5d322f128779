//! How the backend writes, and the lease fence every write passes.
//!
//! Several nodes may share one database, and a node runs a session only
//! while it holds the session's lease (see [`crate::domain::leases`]). A
//! node that lost the lease — say it was frozen past its term and another
//! node took the session over under a higher epoch — can still have its
//! client running for a moment, and its writes would land over the new
//! owner's keys and sessions. So a fenced backend checks, inside the very
//! transaction of each write, that its node still holds the lease at its
//! epoch, and writes nothing when it does not. On PostgreSQL the check
//! share-locks the session's row until that transaction ends, so the lease
//! cannot change hands between the check and the commit; on SQLite every
//! write transaction holds the database's write lock from its start.
//!
//! Writes take one of three paths, each fenced here: [`write_rows`] (the
//! group commit), [`begin`] (a transaction of their own) and [`write`]
//! (one statement).
//!
//! [`write_rows`]: WaStateBackend::write_rows
//! [`begin`]: WaStateBackend::begin
//! [`write`]: WaStateBackend::write

use super::{WaStateBackend, db_err};
use crate::commit::CommitError;
use crate::db::{Backend, Exec, Query, Tx, query};
use crate::domain::leases::holds_lease;
use std::sync::Arc;
use wacore::store::error::{Result, StoreError};
use wagate_core::SessionKey;

/// The lease a fenced backend writes under.
#[derive(Debug)]
pub(super) struct Fence {
    node: String,
    epoch: i64,
}

impl Fence {
    /// Whether the node still holds `key`'s lease at this epoch, asked in
    /// the transaction `on` is in.
    async fn holds<'a>(
        &self,
        on: impl Exec<'a>,
        backend: Backend,
        key: &SessionKey,
    ) -> std::result::Result<bool, sqlx::Error> {
        holds_lease(on, backend, key, &self.node, self.epoch).await
    }

    fn lost(&self) -> LeaseLost {
        LeaseLost { epoch: self.epoch }
    }
}

/// Why a fenced write was refused: the session's lease has moved on from
/// the epoch the backend was fenced with. Nothing of the write was stored.
/// It comes as the source of a [`StoreError::Database`]; see
/// [`is_lease_lost`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("this node no longer holds the session's lease (epoch {epoch})")]
pub struct LeaseLost {
    /// The epoch the backend was fenced with.
    pub epoch: i64,
}

impl From<LeaseLost> for StoreError {
    fn from(lost: LeaseLost) -> StoreError {
        StoreError::Database(Box::new(lost))
    }
}

/// Whether `err` is a write refused because this node lost the session's
/// lease: the session must stop here, retrying cannot help.
pub fn is_lease_lost(err: &StoreError) -> bool {
    let mut source = std::error::Error::source(err);
    while let Some(e) = source {
        if e.is::<LeaseLost>() {
            return true;
        }
        source = e.source();
    }
    false
}

impl WaStateBackend {
    /// This backend, writing only while `node` holds the session's lease
    /// at `epoch`; every write checks it in its own transaction and fails
    /// with [`LeaseLost`] once the lease has moved on. Reads are not
    /// fenced, nor is [`delete_all`](Self::delete_all).
    pub fn fenced(mut self, node: impl Into<String>, epoch: i64) -> Self {
        self.fence = Some(Arc::new(Fence {
            node: node.into(),
            epoch,
        }));
        self
    }

    pub(super) fn is_fenced(&self) -> bool {
        self.fence.is_some()
    }

    fn key(&self) -> SessionKey {
        SessionKey {
            tenant: self.tenant,
            session: self.session.clone(),
        }
    }

    /// A write transaction of this backend's database, past the fence; see
    /// [`crate::db::Db::begin_write`]. A deferred transaction that reads
    /// first and writes later would fail with `SQLITE_BUSY` instead of
    /// waiting when another writer committed in between; taking the lock
    /// first makes it wait its turn (up to the busy timeout) like any
    /// single statement.
    pub(super) async fn begin(&self) -> Result<Tx> {
        let mut tx = self.db.begin_write().await.map_err(db_err)?;
        if let Some(fence) = &self.fence {
            let backend = tx.backend();
            let held = fence
                .holds(&mut tx, backend, &self.key())
                .await
                .map_err(db_err)?;
            if !held {
                // Dropped uncommitted, the transaction rolls back.
                return Err(fence.lost().into());
            }
        }
        Ok(tx)
    }

    /// Runs the write `q` and answers the rows it affected. Unfenced it is
    /// a statement of its own; fenced it needs a transaction to check the
    /// lease in.
    pub(super) async fn write(&self, q: Query) -> Result<u64> {
        if self.fence.is_none() {
            return Ok(q.execute(&self.db).await.map_err(db_err)?.rows_affected());
        }
        let mut tx = self.begin().await?;
        let done = q.execute(&mut tx).await.map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(done.rows_affected())
    }

    /// Runs a scoped write with string arguments.
    pub(super) async fn exec(&self, sql: &'static str, args: &[&str]) -> Result<()> {
        let mut q = self.scoped(sql);
        for a in args {
            q = q.bind(*a);
        }
        self.write(q).await?;
        Ok(())
    }

    /// Runs the scoped statement `sql` once per row of further arguments
    /// (`$3` on), all in the next group commit of the [`crate::Committer`].
    /// For writes the client makes per message: they share one fsync with
    /// every other writer of the process.
    pub(super) async fn write_rows(&self, sql: String, rows: Vec<Vec<Arg>>) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let (key, fence) = (self.key(), self.fence.clone());
        // Run by the writer itself: these are made for every message.
        self.committer
            .run(move |link| {
                Box::pin(async move {
                    if let Some(fence) = &fence {
                        let backend = link.backend();
                        if !fence.holds(&mut *link, backend, &key).await? {
                            // Checked before any statement of the job, so
                            // there is nothing of it to undo; answered as
                            // the job's value because a job's error can
                            // only be a driver error, and this one must
                            // stay recognisable.
                            return Ok(Err(fence.lost()));
                        }
                    }
                    for row in rows {
                        let mut q = query(sql.clone())
                            .bind(key.tenant.0)
                            .bind(key.session.as_str());
                        for arg in row {
                            q = match arg {
                                Arg::Text(t) => q.bind(t),
                                Arg::Blob(b) => q.bind(b),
                                Arg::Int(i) => q.bind(i),
                            };
                        }
                        q.execute(&mut *link).await?;
                    }
                    Ok(Ok(()))
                })
            })
            .await
            .map_err(commit_err)?
            .map_err(StoreError::from)
    }
}

/// One bound value of a [`WaStateBackend::write_rows`] row.
pub(super) enum Arg {
    Text(String),
    Blob(Vec<u8>),
    Int(i64),
}

impl From<&str> for Arg {
    fn from(t: &str) -> Arg {
        Arg::Text(t.to_string())
    }
}

impl From<Vec<u8>> for Arg {
    fn from(b: Vec<u8>) -> Arg {
        Arg::Blob(b)
    }
}

impl From<i64> for Arg {
    fn from(i: i64) -> Arg {
        Arg::Int(i)
    }
}

/// Maps a group-commit failure to wacore's store error.
fn commit_err(e: CommitError) -> StoreError {
    match e {
        CommitError::Closed => StoreError::Connection(Box::new(e)),
        CommitError::Commit(_) => StoreError::Connection(Box::new(e)),
        CommitError::Job(_) => StoreError::Database(Box::new(e)),
    }
}
