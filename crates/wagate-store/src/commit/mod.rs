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

mod direct;

use futures::future::BoxFuture;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, SqliteConnection, SqlitePool};
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
    /// A direct job's statement failed; its writes were undone.
    #[error("{0}")]
    Statement(Arc<rusqlite::Error>),
    /// The writer is gone (the process is shutting down).
    #[error("the database writer has stopped")]
    Closed,
}

impl CommitError {
    /// The underlying driver error, if any.
    pub fn sqlx(&self) -> Option<&sqlx::Error> {
        match self {
            CommitError::Job(e) | CommitError::Commit(e) => Some(e),
            CommitError::Statement(_) | CommitError::Closed => None,
        }
    }
}

type Output = Box<dyn Any + Send>;
type Work = Box<
    dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<Output, sqlx::Error>>
        + Send,
>;

enum JobWork {
    /// Statements through the driver, inside the savepoint `job`.
    Driver(Work),
    /// Statements run on the writer's own thread ([`direct`]).
    Direct(direct::Work),
}

struct Job {
    work: JobWork,
    done: oneshot::Sender<Result<Output, CommitError>>,
}

impl Job {
    /// Whether the job starts inside the savepoint `job` (see
    /// [`run_batch`]): driver jobs do.
    fn in_savepoint(&self) -> bool {
        matches!(self.work, JobWork::Driver(_))
    }
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
    ///
    /// The writer runs on a thread of its own with its own connection.
    /// Every statement is a round trip to the connection's thread; on the
    /// shared runtime each answer would wait for a worker to pick the
    /// writer up again, behind whatever else is runnable, and those waits
    /// add up over the ~15 statements of every sent message. A parked
    /// thread of its own resumes as soon as its answer arrives.
    pub fn start(pool: SqlitePool) -> Committer {
        let (jobs, rx) = mpsc::unbounded_channel();
        let options = pool.connect_options();
        std::thread::Builder::new()
            .name("wagate-writer".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for the database writer");
                runtime.block_on(write_loop(options, rx));
            })
            .expect("a thread for the database writer");
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
        let work: Work = Box::new(move |conn| {
            Box::pin(async move { work(conn).await.map(|t| Box::new(t) as Output) })
        });
        self.send(JobWork::Driver(work)).await
    }

    /// Runs `work` on the writer's own thread, with no round trip per
    /// statement, inside the next group transaction; returns its result
    /// once that transaction is committed. Its failure undoes only its own
    /// writes. For the writes made for every message.
    pub async fn run_direct<T, F>(&self, work: F) -> Result<T, CommitError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> Result<T, rusqlite::Error> + Send + 'static,
    {
        let work: direct::Work = Box::new(move |db| work(db).map(|t| Box::new(t) as Output));
        self.send(JobWork::Direct(work)).await
    }

    async fn send<T: 'static>(&self, work: JobWork) -> Result<T, CommitError> {
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

async fn write_loop(options: Arc<SqliteConnectOptions>, mut rx: mpsc::UnboundedReceiver<Job>) {
    // Opened when first needed, and again after a failed commit (the
    // connection's state is then unknown).
    let mut writer: Option<SqliteConnection> = None;
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
            None => match options.connect().await {
                Ok(conn) => writer.insert(conn),
                Err(e) => {
                    fail_all(batch, e);
                    continue;
                }
            },
        };
        let (jobs, started) = (batch.len(), std::time::Instant::now());
        if !run_batch(conn, batch).await {
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
/// (or with the reason there was none). Answers false when the connection
/// should not be used again.
///
/// A driver job runs inside the savepoint `job`, so its failure undoes
/// only its own writes. A direct job has savepoints of its own (see
/// [`direct`]) and must not run inside another job's, where a later
/// `ROLLBACK TO` would undo it. So every job starts inside a fresh
/// savepoint `job` exactly when it is a driver job. Every statement is a round trip to the connection's
/// thread, so the savepoint statements ride with others where they can
/// (`BEGIN IMMEDIATE; SAVEPOINT job`, `RELEASE job; SAVEPOINT job`), and
/// the commit releases the last. After a `ROLLBACK TO` the savepoint
/// stays open right where the next job starts.
async fn run_batch(conn: &mut SqliteConnection, batch: Vec<Job>) -> bool {
    let begin = if batch[0].in_savepoint() {
        "BEGIN IMMEDIATE; SAVEPOINT job"
    } else {
        "BEGIN IMMEDIATE"
    };
    if let Err(e) = sqlx::query(begin).execute(&mut *conn).await {
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
        fail_all(batch, e);
        return false;
    }
    let mut results = Vec::with_capacity(batch.len());
    let mut replies = Vec::with_capacity(batch.len());
    let mut jobs = batch.into_iter().peekable();
    while let Some(Job { work, done }) = jobs.next() {
        replies.push(done);
        let outcome = match work {
            JobWork::Driver(work) => {
                let next = jobs.peek().map(Next::of);
                run_job(conn, work, next)
                    .await
                    .map(|r| vec![Ok(r)])
                    .or_else(|e| match e {
                        e @ CommitError::Commit(_) => Err(e),
                        e => Ok(vec![Err(e)]),
                    })
            }
            JobWork::Direct(first) => {
                // This job and the direct ones right after it, under one
                // hold of the connection.
                let mut run = vec![first];
                while let Some(Job {
                    work: JobWork::Direct(_),
                    ..
                }) = jobs.peek()
                {
                    let Some(Job {
                        work: JobWork::Direct(work),
                        done,
                    }) = jobs.next()
                    else {
                        unreachable!("peeked a direct job");
                    };
                    run.push(work);
                    replies.push(done);
                }
                let next = jobs.peek().map(Next::of);
                direct::run(conn, run, next == Some(Next::Savepoint)).await
            }
        };
        match outcome {
            Ok(answers) => results.extend(answers),
            Err(e) => {
                // The transaction's state is unknown (the savepoint
                // machinery failed, or SQLite may have rolled it back):
                // nothing of it may be committed, and the jobs not run yet
                // are told so too.
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                for reply in replies.into_iter().chain(jobs.map(|j| j.done)) {
                    let _ = reply.send(Err(e.clone()));
                }
                return false;
            }
        }
    }
    if let Err(e) = sqlx::query("COMMIT").execute(&mut *conn).await {
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
        let e = CommitError::Commit(Arc::new(e));
        for reply in replies {
            let _ = reply.send(Err(e.clone()));
        }
        return false;
    }
    for (reply, result) in replies.into_iter().zip(results) {
        let _ = reply.send(result);
    }
    true
}

/// What the job after the current one needs to start in.
#[derive(Clone, Copy, PartialEq)]
enum Next {
    /// A fresh savepoint `job`: a driver job.
    Savepoint,
    /// No savepoint: a direct job.
    Bare,
}

impl Next {
    fn of(job: &Job) -> Next {
        if job.in_savepoint() {
            Next::Savepoint
        } else {
            Next::Bare
        }
    }
}

/// One driver job inside the open savepoint, leaving the
/// connection where `next` starts.
async fn run_job(
    conn: &mut SqliteConnection,
    work: Work,
    next: Option<Next>,
) -> Result<Output, CommitError> {
    let commit_err = |e| CommitError::Commit(Arc::new(e));
    let (result, then) = match work(conn).await {
        Ok(out) => {
            let then = match next {
                Some(Next::Savepoint) => Some("RELEASE job; SAVEPOINT job"),
                Some(Next::Bare) => Some("RELEASE job"),
                None => None,
            };
            (Ok(out), then)
        }
        Err(e) => {
            let then = match next {
                Some(Next::Bare) => "ROLLBACK TO job; RELEASE job",
                _ => "ROLLBACK TO job",
            };
            (Err(CommitError::Job(Arc::new(e))), Some(then))
        }
    };
    if let Some(sql) = then {
        sqlx::query(sql)
            .execute(&mut *conn)
            .await
            .map_err(commit_err)?;
    }
    result
}

fn fail_all(batch: Vec<Job>, e: sqlx::Error) {
    tracing::error!(jobs = batch.len(), "cannot write to the database: {e}");
    let e = CommitError::Commit(Arc::new(e));
    for job in batch {
        let _ = job.done.send(Err(e.clone()));
    }
}
