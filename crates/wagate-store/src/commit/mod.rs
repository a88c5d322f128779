//! Group commit for every hot write of the process.
//!
//! SQLite lets one writer in at a time and, at `synchronous = FULL`, every
//! commit costs an fsync; on PostgreSQL too every commit waits for its
//! log flush. Writers that each open their own transaction
//! pay that fsync alone and, worse, queue on the write lock through
//! SQLite's busy handler, which sleeps for milliseconds between tries. So
//! the hot writers (accepted messages, claims, outcomes, the WhatsApp
//! client's per-message state) hand their statements to one
//! [`Committer`] task instead: it takes whatever jobs have gathered, runs
//! them in one `BEGIN IMMEDIATE` transaction — each inside its own
//! savepoint, so one job's failure undoes only that job — commits once,
//! and only then answers each job. "Ok only after commit" still holds.

use crate::db::{Db, Link, to_sqlx};
use futures::future::LocalBoxFuture;
use sqlx::{ConnectOptions, Executor, PgConnection, SqliteConnection};
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

type Output = Box<dyn Any + Send>;

/// A job: its statements, on the writer's connection. The future runs on
/// the writer's own thread, so it need not be `Send`.
type Work = Box<
    dyn for<'c> FnOnce(&'c mut Link<'c>) -> LocalBoxFuture<'c, Result<Output, sqlx::Error>> + Send,
>;

struct Job {
    work: Work,
    done: oneshot::Sender<Result<Output, CommitError>>,
}

/// The single writer of the database. Cheap to clone.
#[derive(Clone)]
pub struct Committer {
    db: Db,
    jobs: mpsc::UnboundedSender<Job>,
}

impl std::fmt::Debug for Committer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Committer")
    }
}

impl Committer {
    /// Starts the writer over `db` (already migrated).
    ///
    /// The writer runs on a thread of its own with its own connection.
    /// On the shared runtime each of a batch's statements would wait for
    /// a worker to pick the writer up again, behind whatever else is
    /// runnable; a parked thread of its own resumes at once.
    pub fn start(db: Db) -> Committer {
        let (jobs, rx) = mpsc::unbounded_channel();
        let writer_db = db.clone();
        std::thread::Builder::new()
            .name("wagate-writer".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for the database writer");
                runtime.block_on(write_loop(writer_db, rx));
            })
            .expect("a thread for the database writer");
        if let Db::Sqlite(pool) = &db {
            tokio::spawn(checkpoint_loop(pool.clone()));
        }
        Committer { db, jobs }
    }

    /// The database, for reads (and for rare writes that need no batching).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Runs `work` inside the next group transaction and returns its
    /// result once that transaction is committed. Its failure undoes only
    /// its own writes.
    pub async fn run<T, F>(&self, work: F) -> Result<T, CommitError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Link<'c>) -> LocalBoxFuture<'c, Result<T, sqlx::Error>>
            + Send
            + 'static,
    {
        let work: Work = Box::new(move |link| {
            Box::pin(async move { work(link).await.map(|t| Box::new(t) as Output) })
        });
        let (done, answer) = oneshot::channel();
        self.jobs
            .send(Job { work, done })
            .map_err(|_| CommitError::Closed)?;
        let out = answer.await.map_err(|_| CommitError::Closed)??;
        Ok(*out
            .downcast::<T>()
            .expect("a job answers with its own type"))
    }
}

/// The writer's own connection, opened when first needed and again after
/// a failed batch (its state is then unknown).
enum Writer {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

async fn connect(db: &Db) -> Result<Writer, sqlx::Error> {
    Ok(match db {
        Db::Sqlite(pool) => Writer::Sqlite(pool.connect_options().connect().await?),
        Db::Postgres(pool) => Writer::Postgres(pool.connect_options().connect().await?),
    })
}

async fn write_loop(db: Db, mut rx: mpsc::UnboundedReceiver<Job>) {
    let mut writer: Option<Writer> = None;
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_JOBS {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let conn = match writer.as_mut() {
            Some(conn) => conn,
            None => match connect(&db).await {
                Ok(conn) => writer.insert(conn),
                Err(e) => {
                    fail_all(batch, e);
                    continue;
                }
            },
        };
        let (jobs, started) = (batch.len(), std::time::Instant::now());
        let healthy = match conn {
            Writer::Sqlite(conn) => sqlite_batch(conn, batch).await,
            Writer::Postgres(conn) => run_batch(&mut Held::Postgres(conn), "BEGIN", batch).await,
        };
        if !healthy {
            writer = None;
        }
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
async fn checkpoint_loop(pool: sqlx::SqlitePool) {
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

/// One SQLite transaction for `batch`, every statement run by the writer
/// itself on the connection it takes from the driver. Answers false when
/// the connection should not be used again.
async fn sqlite_batch(conn: &mut SqliteConnection, batch: Vec<Job>) -> bool {
    let mut handle = match conn.lock_handle().await {
        Ok(handle) => handle,
        Err(e) => {
            fail_all(batch, e);
            return false;
        }
    };
    let raw = handle.as_raw_handle();
    // SAFETY: while `handle` lives, the driver's thread makes no call on
    // the connection or its statements; `db` is dropped first, and does
    // not close the connection (it is not its owner).
    let db = match unsafe { rusqlite::Connection::from_handle(raw.as_ptr()) } {
        Ok(db) => db,
        Err(e) => {
            drop(handle);
            fail_all(batch, to_sqlx(e));
            return false;
        }
    };
    let healthy = run_batch(&mut Held::Sqlite(&db), "BEGIN IMMEDIATE", batch).await;
    drop(db);
    drop(handle);
    healthy
}

/// The connection a batch runs on.
enum Held<'a> {
    Sqlite(&'a rusqlite::Connection),
    Postgres(&'a mut PgConnection),
}

impl Held<'_> {
    /// Runs statements that take no values (transaction control).
    async fn control(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        match self {
            Held::Sqlite(db) => db.execute_batch(sql).map_err(to_sqlx),
            Held::Postgres(conn) => (&mut **conn).execute(sql).await.map(|_| ()),
        }
    }

    fn link(&mut self) -> Link<'_> {
        match self {
            Held::Sqlite(db) => Link::Direct(db),
            Held::Postgres(conn) => Link::Postgres(conn),
        }
    }
}

/// One transaction for `batch`; every job is answered, after the commit
/// (or with the reason there was none). Each job runs inside the
/// savepoint `job`, so its failure undoes only its own writes (and, on
/// PostgreSQL, clears the failed state a statement error leaves the
/// transaction in). Answers false when the connection should not be
/// used again.
async fn run_batch(on: &mut Held<'_>, begin: &str, batch: Vec<Job>) -> bool {
    if let Err(e) = on.control(begin).await {
        let _ = on.control("ROLLBACK").await;
        fail_all(batch, e);
        return false;
    }
    let mut answered = Vec::with_capacity(batch.len());
    let mut jobs = batch.into_iter();
    while let Some(Job { work, done }) = jobs.next() {
        let result = match on.control("SAVEPOINT job").await {
            Ok(()) => {
                let result = {
                    let mut link = on.link();
                    work(&mut link).await
                };
                let end = match result {
                    Ok(_) => "RELEASE SAVEPOINT job",
                    Err(_) => "ROLLBACK TO SAVEPOINT job; RELEASE SAVEPOINT job",
                };
                on.control(end).await.map(|()| result)
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(result) => answered.push((done, result.map_err(|e| CommitError::Job(Arc::new(e))))),
            Err(e) => {
                // The savepoint machinery failed: the transaction's state
                // is unknown, so nothing of it may be committed, and the
                // jobs not run yet are told so too.
                let _ = on.control("ROLLBACK").await;
                let e = CommitError::Commit(Arc::new(e));
                let pending = std::iter::once(done).chain(jobs.map(|j| j.done));
                for reply in answered.into_iter().map(|(d, _)| d).chain(pending) {
                    let _ = reply.send(Err(e.clone()));
                }
                return false;
            }
        }
    }
    if let Err(e) = on.control("COMMIT").await {
        let _ = on.control("ROLLBACK").await;
        let e = CommitError::Commit(Arc::new(e));
        for (reply, _) in answered {
            let _ = reply.send(Err(e.clone()));
        }
        return false;
    }
    for (reply, result) in answered {
        let _ = reply.send(result);
    }
    true
}

fn fail_all(batch: Vec<Job>, e: sqlx::Error) {
    tracing::error!(jobs = batch.len(), "cannot write to the database: {e}");
    let e = CommitError::Commit(Arc::new(e));
    for job in batch {
        let _ = job.done.send(Err(e.clone()));
    }
}
