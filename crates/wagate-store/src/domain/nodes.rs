//! The gateway processes ("nodes") serving this database: each registers
//! at start, sends a heartbeat while it runs and marks itself stopped on a
//! clean shutdown. A few writes a minute per node, so plain statements on
//! the pool rather than the committer.

use super::{Store, internal};
use crate::db::{Row, query};
use chrono::{DateTime, TimeZone, Utc};
use wagate_core::CoreError;

/// A node as it registers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNode {
    pub id: String,
    /// Where its API is reached.
    pub address: String,
    pub version: String,
    /// What it does: `api`, `engine`, `sender`, `webhooks`.
    pub roles: Vec<String>,
}

/// A node and what it last reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRecord {
    pub id: String,
    pub address: String,
    pub version: String,
    pub roles: Vec<String>,
    pub started_at: DateTime<Utc>,
    pub last_heartbeat: DateTime<Utc>,
    /// Connected sessions at the last heartbeat.
    pub session_count: u32,
    /// `None` while it runs (or until it is found to have died).
    pub stopped_at: Option<DateTime<Utc>>,
}

const NODE_COLUMNS: &str =
    "id, address, version, roles, started_at, last_heartbeat, session_count, stopped_at";

fn time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

fn node_from_row(row: &Row) -> Result<NodeRecord, sqlx::Error> {
    let roles: String = row.try_get("roles")?;
    let session_count: i64 = row.try_get("session_count")?;
    Ok(NodeRecord {
        id: row.try_get("id")?,
        address: row.try_get("address")?,
        version: row.try_get("version")?,
        roles: roles
            .split(',')
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .collect(),
        started_at: time(row.try_get("started_at")?),
        last_heartbeat: time(row.try_get("last_heartbeat")?),
        session_count: session_count.clamp(0, i64::from(u32::MAX)) as u32,
        stopped_at: row.try_get::<Option<i64>, _>("stopped_at")?.map(time),
    })
}

impl Store {
    /// Adds `node`, started and last heard from `at`.
    pub async fn register_node(
        &self,
        node: &NewNode,
        at: DateTime<Utc>,
    ) -> Result<NodeRecord, CoreError> {
        let row = query(format!(
            "INSERT INTO nodes (id, address, version, roles, started_at, last_heartbeat,
                                session_count, stopped_at)
             VALUES ($1, $2, $3, $4, $5, $5, 0, NULL) RETURNING {NODE_COLUMNS}"
        ))
        .bind(&node.id)
        .bind(&node.address)
        .bind(&node.version)
        .bind(node.roles.join(","))
        .bind(at.timestamp_millis())
        .fetch_one(self.db())
        .await
        .map_err(internal)?;
        node_from_row(&row).map_err(internal)
    }

    /// Records that node `id` was alive `at`, running `sessions`; false
    /// when there is no such node.
    pub async fn node_heartbeat(
        &self,
        id: &str,
        sessions: u32,
        at: DateTime<Utc>,
    ) -> Result<bool, CoreError> {
        let done = query("UPDATE nodes SET last_heartbeat = $2, session_count = $3 WHERE id = $1")
            .bind(id)
            .bind(at.timestamp_millis())
            .bind(i64::from(sessions))
            .execute(self.db())
            .await
            .map_err(internal)?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks node `id` stopped `at`; its last heartbeat moves there too,
    /// since it was alive until then. False when there is no such node.
    pub async fn stop_node(&self, id: &str, at: DateTime<Utc>) -> Result<bool, CoreError> {
        let done = query(
            "UPDATE nodes SET stopped_at = $2, last_heartbeat = CASE WHEN last_heartbeat > $2 THEN last_heartbeat ELSE $2 END
             WHERE id = $1",
        )
        .bind(id)
        .bind(at.timestamp_millis())
        .execute(self.db())
        .await
        .map_err(internal)?;
        Ok(done.rows_affected() == 1)
    }

    /// Every node, the most recently heard from first.
    pub async fn nodes(&self) -> Result<Vec<NodeRecord>, CoreError> {
        let rows = query(format!(
            "SELECT {NODE_COLUMNS} FROM nodes ORDER BY last_heartbeat DESC, started_at DESC, id"
        ))
        .fetch_all(self.db())
        .await
        .map_err(internal)?;
        rows.iter()
            .map(node_from_row)
            .collect::<Result<_, _>>()
            .map_err(internal)
    }
}
