//! Group commit for every hot write of the process.
//!
//! SQLite lets one writer in at a time and, at `synchronous = FULL`, every
//! commit costs an fsync. Writers that each open their own transaction
//! pay that fsync alone and, worse, queue on the write lock through
//! SQLite's busy handler, which sleeps for milliseconds between tries. So
//! the hot writers (accepted messages, claims, outcomes, the WhatsApp
//! client's per-message state) hand their statements to one
//! [`Committer`] task instead: it takes whatever jobs have gathered, runs
//! them in one `BEGIN IMMEDIATE` transaction — each inside its own
//! savepoint, so one job's failure undoes only that job — commits once,
//! and only then answers each job. "Ok only after commit" still holds.

use futures::future::BoxFuture;
use sqlx::{SqliteConnection, SqlitePool};
use std::any::Any;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Most jobs in one transaction; bounds how long one commit holds the
/// write lock (and the latency of the first job in it).
const MAX_JOBS: usize = 1024;

/// Why a job's writes are not on disk.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CommitError {
    /// The job's own statements failed; its writes were undone.
    #[error("{0}")]
    Job(Arc<sqlx::Error>),
    /// The transaction holding the job could not be begun or committed.
    #[error("commit failed: {0}")]
    Commit(Arc<sqlx::Error>),
    /// The writer is gone (the process is shutting down).
    #[error("the database writer has stopped")]
    Closed,
}

impl CommitError {
    /// The underlying driver error, if any.
    pub fn sqlx(&self) -> Option<&sqlx::Error> {
        match self {
            CommitError::Job(e) | CommitError::Commit(e) => Some(e),
            CommitError::Closed => None,
        }
    }
}

type Output = Box<dyn Any + Send>;
type Work = Box<
    dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<Output, sqlx::Error>>
        + Send,
>;

struct Job {
    work: Work,
    done: oneshot::Sender<Result<Output, CommitError>>,
}

/// The single writer of the database. Cheap to clone.
#[derive(Clone)]
pub struct Committer {
    pool: SqlitePool,
    jobs: mpsc::UnboundedSender<Job>,
}

impl std::fmt::Debug for Committer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Committer")
    }
}

impl Committer {
    /// Starts the writer task over `pool` (already migrated).
    pub fn start(pool: SqlitePool) -> Committer {
        let (jobs, rx) = mpsc::unbounded_channel();
        tokio::spawn(write_loop(pool.clone(), rx));
        tokio::spawn(checkpoint_loop(pool.clone()));
        Committer { pool, jobs }
    }

    /// The pool, for reads (and for rare writes that need no batching).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Runs `work` inside the next group transaction and returns its
    /// result once that transaction is committed.
    pub async fn run<T, F>(&self, work: F) -> Result<T, CommitError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, sqlx::Error>>
            + Send
            + 'static,
    {
        let (done, answer) = oneshot::channel();
        let work: Work = Box::new(move |conn| {
            Box::pin(async move { work(conn).await.map(|t| Box::new(t) as Output) })
        });
        self.jobs
            .send(Job { work, done })
            .map_err(|_| CommitError::Closed)?;
        let out = answer.await.map_err(|_| CommitError::Closed)??;
        Ok(*out
            .downcast::<T>()
            .expect("a job answers with its own type"))
    }
}

async fn write_loop(pool: SqlitePool, mut rx: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_JOBS {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (jobs, started) = (batch.len(), std::time::Instant::now());
        run_batch(&pool, batch).await;
        tracing::debug!(
            jobs,
            ms = started.elapsed().as_secs_f64() * 1000.0,
            "group commit"
        );
    }
}

/// How often the write-ahead log is copied back into the database.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Checkpoints the WAL off the commit path (see
/// [`crate::sqlite::sqlite_options`]). `PASSIVE` never waits for readers or
/// the writer; frames it could not copy are copied next time. Stops when
/// the pool is closed.
async fn checkpoint_loop(pool: SqlitePool) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            if pool.is_closed() {
                return;
            }
            tracing::warn!("cannot checkpoint the database log: {e}");
        }
    }
}

/// One transaction for `batch`; every job is answered, after the commit
/// (or with the reason there was none).
///
/// Each job runs inside the savepoint `job`, so its failure undoes only
/// its own writes. Every statement is a round trip to the connection's
/// thread, so a successful job's release and the next job's savepoint go
/// in one, and the commit releases the last. After a `ROLLBACK TO` the
/// savepoint stays open right where the next job starts.
async fn run_batch(pool: &SqlitePool, batch: Vec<Job>) {
    let mut conn = match pool.acquire().await {
        Ok(c) => c,
        Err(e) => return fail_all(batch, e),
    };
    if let Err(e) = sqlx::query("BEGIN IMMEDIATE; SAVEPOINT job")
        .execute(&mut *conn)
        .await
    {
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
        return fail_all(batch, e);
    }
    let mut results = Vec::with_capacity(batch.len());
    let mut replies = Vec::with_capacity(batch.len());
    let mut jobs = batch.into_iter().peekable();
    while let Some(Job { work, done }) = jobs.next() {
        replies.push(done);
        let more = jobs.peek().is_some();
        let result = run_job(&mut conn, work, more).await;
        if let Err(e @ CommitError::Commit(_)) = &result {
            // The savepoint machinery itself failed: the transaction's
            // state is unknown, so nothing of it may be committed, and
            // the jobs not run yet are told so too.
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            for reply in replies.into_iter().chain(jobs.map(|j| j.done)) {
                let _ = reply.send(Err(e.clone()));
            }
            return;
        }
        results.push(result);
    }
    if let Err(e) = sqlx::query("COMMIT").execute(&mut *conn).await {
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
        let e = CommitError::Commit(Arc::new(e));
        for reply in replies {
            let _ = reply.send(Err(e.clone()));
        }
        return;
    }
    for (reply, result) in replies.into_iter().zip(results) {
        let _ = reply.send(result);
    }
}

/// One job inside the open savepoint; `more` says another job follows
/// and needs a savepoint of its own.
async fn run_job(
    conn: &mut SqliteConnection,
    work: Work,
    more: bool,
) -> Result<Output, CommitError> {
    let commit_err = |e| CommitError::Commit(Arc::new(e));
    match work(conn).await {
        Ok(out) => {
            if more {
                sqlx::query("RELEASE job; SAVEPOINT job")
                    .execute(&mut *conn)
                    .await
                    .map_err(commit_err)?;
            }
            Ok(out)
        }
        Err(e) => {
            sqlx::query("ROLLBACK TO job")
                .execute(&mut *conn)
                .await
                .map_err(commit_err)?;
            Err(CommitError::Job(Arc::new(e)))
        }
    }
}

fn fail_all(batch: Vec<Job>, e: sqlx::Error) {
    tracing::error!(jobs = batch.len(), "cannot write to the database: {e}");
    let e = CommitError::Commit(Arc::new(e));
    for job in batch {
        let _ = job.done.send(Err(e.clone()));
    }
}
