//! The accounts side of the store: tenants, API keys and sessions, and
//! the nodes serving them.
//!
//! Queries are built at run time and written with `$N` placeholders, which
//! both SQLite and PostgreSQL accept, so the PostgreSQL backend can reuse
//! them where the SQL is the same.

mod api_keys;
pub mod commands;
pub mod leases;
mod nodes;
mod orphans;
mod refresh_tokens;
mod sessions;
mod tenants;
mod tiers;
mod users;

pub use api_keys::{ApiKeyRecord, NewApiKeyRecord};
pub use leases::{Lease, LeaseCensus};
pub use nodes::{NewNode, NodeRecord};
pub use refresh_tokens::{NewRefreshToken, NextRefreshToken, Rotation};
pub use sessions::{NewSession, SessionRecord};
pub use tenants::{DEFAULT_TENANT, MAX_RETENTION_DAYS, Tenant};
pub use tiers::{MinuteCount, TenantTier, Tier, TierChange};
pub use users::{NewUser, User, UserChanges};

use crate::db::{Db, query};
use wagate_core::CoreError;

/// Tenants, API keys and sessions over one connection pool. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    db: Db,
}

impl Store {
    /// Wraps a database that is already migrated.
    pub fn new(db: Db) -> Self {
        Store { db }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Answers whether the database takes queries; used by readiness checks.
    pub async fn ping(&self) -> Result<(), CoreError> {
        query("SELECT 1")
            .execute(&self.db)
            .await
            .map_err(internal)?;
        Ok(())
    }
}

/// Unique constraints by name, with the column list SQLite reports for each
/// (SQLite's error names the columns, not the constraint).
const UNIQUE_CONSTRAINTS: &[(&str, &str)] = &[
    ("tenants_name_key", "tenants.name"),
    (
        "sessions_tenant_session_key",
        "sessions.tenant_id, sessions.session_id",
    ),
    ("api_keys_digest_key", "api_keys.digest"),
    ("users_email_key", "users.email"),
    ("refresh_tokens_digest_key", "refresh_tokens.digest"),
];

/// The name of the unique constraint `err` violated, if it is one of ours.
fn violated_unique(err: &sqlx::Error) -> Option<&'static str> {
    let db = err.as_database_error()?;
    if db.kind() != sqlx::error::ErrorKind::UniqueViolation {
        return None;
    }
    UNIQUE_CONSTRAINTS
        .iter()
        .find(|(name, columns)| db.constraint() == Some(*name) || db.message().ends_with(columns))
        .map(|(name, _)| *name)
}

/// A database failure: its text goes to logs via `CoreError::Internal`,
/// never to clients.
fn internal(err: sqlx::Error) -> CoreError {
    CoreError::Internal(format!("database: {err}"))
}

/// Maps a violation of `constraint` to a conflict with `message`, and
/// anything else to an internal error.
fn conflict_on(constraint: &str, message: String) -> impl FnOnce(sqlx::Error) -> CoreError {
    move |err| match violated_unique(&err) {
        Some(name) if name == constraint => CoreError::Conflict(message),
        _ => internal(err),
    }
}
