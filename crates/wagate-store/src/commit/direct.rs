//! Direct jobs: statements the writer runs itself, through SQLite's C
//! API, on its own thread.
//!
//! The driver keeps each connection on a thread of its own and runs every
//! statement there, so each one costs two thread switches — on a shared
//! two-core machine more than the statement itself. The writes made for
//! every sent message go through here instead: the writer takes the
//! connection from the driver's thread once for a whole run of direct
//! jobs (the driver's documented way to make direct calls) and runs them
//! one after another, with no switch in between.

use super::{CommitError, Output};
use sqlx::SqliteConnection;
use std::sync::Arc;

/// A direct job: its statements, on the connection the writer holds.
pub(super) type Work =
    Box<dyn FnOnce(&rusqlite::Connection) -> Result<Output, rusqlite::Error> + Send>;

/// Runs `jobs` in order inside the open transaction, each in a savepoint
/// of its own (which costs no switch here), so a job's failure undoes only
/// its writes; then opens the savepoint `job` when the job after the run
/// needs one (see `run_batch`). Answers each job's result, or the error
/// that leaves the transaction's state unknown.
pub(super) async fn run(
    conn: &mut SqliteConnection,
    jobs: Vec<Work>,
    savepoint_after: bool,
) -> Result<Vec<Result<Output, CommitError>>, CommitError> {
    let mut handle = conn
        .lock_handle()
        .await
        .map_err(|e| CommitError::Commit(Arc::new(e)))?;
    let raw = handle.as_raw_handle();
    // SAFETY: while `handle` lives, the driver's thread makes no call on
    // the connection or its statements; `db` is dropped first, and does
    // not close the connection (it is not its owner).
    let db = unsafe { rusqlite::Connection::from_handle(raw.as_ptr()) }.map_err(broken)?;
    let answers = run_held(&db, jobs, savepoint_after);
    drop(db);
    drop(handle);
    answers
}

fn run_held(
    db: &rusqlite::Connection,
    jobs: Vec<Work>,
    savepoint_after: bool,
) -> Result<Vec<Result<Output, CommitError>>, CommitError> {
    let mut answers = Vec::with_capacity(jobs.len());
    for work in jobs {
        db.execute_batch("SAVEPOINT direct").map_err(broken)?;
        match work(db) {
            Ok(out) => {
                db.execute_batch("RELEASE direct").map_err(broken)?;
                answers.push(Ok(out));
            }
            Err(e) => {
                db.execute_batch("ROLLBACK TO direct; RELEASE direct")
                    .map_err(broken)?;
                answers.push(Err(CommitError::Statement(Arc::new(e))));
            }
        }
    }
    if savepoint_after {
        db.execute_batch("SAVEPOINT job").map_err(broken)?;
    }
    Ok(answers)
}

/// The savepoint machinery failed: nothing of the transaction may stay.
fn broken(e: rusqlite::Error) -> CommitError {
    CommitError::Commit(Arc::new(sqlx::Error::Protocol(format!(
        "direct statement: {e}"
    ))))
}
