//! Opening the SQLite database that holds every tenant's data.

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

/// Connections in the shared pool. SQLite lets one writer in at a time, so
/// more connections only help concurrent readers; a handful is plenty even
/// for thousands of sessions.
pub const POOL_SIZE: u32 = 8;

/// How long a statement waits for another connection's write lock before
/// failing with `SQLITE_BUSY`.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connection options every wagate SQLite connection must use.
///
/// - WAL journal: readers never block the writer and vice versa.
/// - `synchronous = FULL`: a commit is fsynced before it returns, so "Ok
///   only after commit" holds across power loss. `NORMAL` (the usual WAL
///   pairing) may lose the last commits on power loss, which for Signal
///   state means reused ratchet keys and undecryptable messages.
/// - `busy_timeout` of [`BUSY_TIMEOUT`]: writers queue instead of erroring.
/// - foreign keys on, and the file is created when missing.
/// - no automatic WAL checkpoints: SQLite runs them inside whichever
///   commit crosses the threshold, adding their fsyncs to that commit's
///   latency (and to every write waiting behind it). The [`Committer`]
///   checkpoints in the background instead.
///
/// [`Committer`]: crate::commit::Committer
pub fn sqlite_options(url: &str) -> Result<SqliteConnectOptions, sqlx::Error> {
    Ok(SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true)
        .pragma("wal_autocheckpoint", "0"))
}

/// Opens the shared pool with [`sqlite_options`] and [`POOL_SIZE`]
/// connections, then applies all pending migrations.
///
/// `url` is an sqlx SQLite URL such as `sqlite:///var/lib/wagate/wagate.db`
/// or `sqlite://wagate.db`.
pub async fn open_sqlite(url: &str) -> Result<SqlitePool, sqlx::Error> {
    let pool = SqlitePoolOptions::new()
        .max_connections(POOL_SIZE)
        .connect_with(sqlite_options(url)?)
        .await?;
    crate::MIGRATOR.run(&pool).await?;
    Ok(pool)
}
