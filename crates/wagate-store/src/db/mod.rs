//! The database wagate keeps everything in: SQLite (one node, no set-up)
//! or PostgreSQL (several nodes), chosen by the URL's scheme.
//!
//! Store code is written once against this module: statements with `$N`
//! placeholders, values that keep their type ([`Value`]) and rows read by
//! column name ([`Row`]). Where the two databases need different SQL, the
//! code asks [`Db::backend`].

mod direct;
pub mod notices;
mod query;
mod row;
mod value;

pub use direct::to_sqlx;
pub use query::{Done, Exec, Query, Scalar, Target, query, query_scalar};
pub use row::{ColumnIndex, Row};
pub use value::{Bind, FromValue, Kind, Value};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

/// Which database a [`Db`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A pool of connections to the database. Cheap to clone.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Connections each node keeps to PostgreSQL. The server's default limit
/// is 100, shared by every node.
pub const PG_POOL_SIZE: u32 = 16;

/// Migrations of the PostgreSQL database, embedded in the binary.
pub static PG_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Db {
    /// Opens the database at `url` and applies its pending migrations:
    /// `postgres://…` or `postgresql://…` for PostgreSQL, anything else
    /// for SQLite (`sqlite://path`). Concurrent nodes migrating one
    /// PostgreSQL database take turns (the migrator holds an advisory
    /// lock).
    pub async fn open(url: &str) -> Result<Db, sqlx::Error> {
        if is_postgres_url(url) {
            let pool = PgPoolOptions::new()
                .max_connections(PG_POOL_SIZE)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(PgConnectOptions::from_str(url)?)
                .await?;
            PG_MIGRATOR.run(&pool).await?;
            Ok(Db::Postgres(pool))
        } else {
            Ok(Db::Sqlite(crate::sqlite::open_sqlite(url).await?))
        }
    }

    /// A pool of its own, of `size` connections, to the same PostgreSQL
    /// database: for work that must not wait behind the main pool's, such
    /// as renewing leases. SQLite has one writer either way: the same pool.
    pub fn side_pool(&self, size: u32) -> Db {
        match self {
            Db::Sqlite(_) => self.clone(),
            Db::Postgres(pool) => {
                let options = (*pool.connect_options()).clone();
                Db::Postgres(
                    PgPoolOptions::new()
                        .max_connections(size)
                        .acquire_timeout(Duration::from_secs(10))
                        .connect_lazy_with(options),
                )
            }
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// A transaction for reads and writes.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// A transaction that will write. SQLite takes its write lock at once
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads first and
    /// writes later fails with `SQLITE_BUSY` instead of waiting when
    /// another writer got in between. PostgreSQL locks rows as it goes.
    pub async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(pool) => pool.close().await,
            Db::Postgres(pool) => pool.close().await,
        }
    }

    pub fn is_closed(&self) -> bool {
        match self {
            Db::Sqlite(pool) => pool.is_closed(),
            Db::Postgres(pool) => pool.is_closed(),
        }
    }
}

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// An open transaction; dropped without [`Tx::commit`], it rolls back.
#[derive(Debug)]
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl Tx {
    pub fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
    }
}

/// The connection a job of the database writer runs on: SQLite's, held
/// by the writer itself, or a PostgreSQL connection.
pub enum Link<'a> {
    Direct(&'a rusqlite::Connection),
    Postgres(&'a mut PgConnection),
}

impl Link<'_> {
    pub fn backend(&self) -> Backend {
        match self {
            Link::Direct(_) => Backend::Sqlite,
            Link::Postgres(_) => Backend::Postgres,
        }
    }
}
