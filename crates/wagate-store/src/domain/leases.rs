//! Session leases: which node runs each session, for how long, and under
//! which epoch (see `migrations/*/0011_session_leases.sql` and `0012`).
//! The fence — `sessions.owner_node` and `sessions.lease_epoch` — changes
//! only when a session changes hands; the expiry, renewed every few
//! seconds, is in `session_leases`, so renewals never wait on the row
//! locks that fenced writes hold.
//!
//! Every time is the database's clock in milliseconds, read inside the
//! statement that uses it, so two nodes with skewed clocks still agree on
//! whether a lease ran out. A node must not trust a lease for its whole
//! term: it measures the term from before it asked, on its own monotonic
//! clock, and stops the session a safety margin earlier.

use super::{Store, internal};
use crate::db::{Backend, Exec, Row, query};
use std::time::Duration;
use wagate_core::{CoreError, SessionId, SessionKey, TenantId};

/// A session held by a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub key: SessionKey,
    /// Raised every time the session changes hands (or is taken again
    /// after its lease ran out); writes name it.
    pub epoch: i64,
    /// When it runs out unless renewed, in the database's milliseconds.
    pub expires_at_ms: i64,
}

/// Leases as a node sees them when it decides how many orphans to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseCensus {
    /// Sessions some node holds a live lease on.
    pub live: i64,
    /// Sessions whose lease ran out with their holder gone.
    pub orphans: i64,
    /// Of the live ones, this node's.
    pub mine: i64,
    /// Other nodes holding at least one live lease: the ones alive.
    pub other_nodes: i64,
}

impl LeaseCensus {
    /// How many orphans this node should take now: up to an even share of
    /// every session over the nodes alive (this one included). The least
    /// loaded node always has room, so no orphan waits forever.
    pub fn orphans_to_take(&self) -> i64 {
        let nodes = self.other_nodes + 1;
        let share = (self.live + self.orphans + nodes - 1) / nodes;
        (share - self.mine).clamp(0, self.orphans)
    }
}

/// The database's clock, in milliseconds since the Unix epoch.
pub fn db_now_ms(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "CAST(unixepoch('subsec') * 1000 AS INTEGER)",
        Backend::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
    }
}

fn key_from_row(row: &Row) -> Result<SessionKey, sqlx::Error> {
    let session: String = row.try_get("session_id")?;
    Ok(SessionKey {
        tenant: TenantId(row.try_get("tenant_id")?),
        session: SessionId::parse(&session).map_err(|e| sqlx::Error::ColumnDecode {
            index: "session_id".into(),
            source: e.to_string().into(),
        })?,
    })
}

fn lease_from_row(row: &Row) -> Result<Lease, sqlx::Error> {
    Ok(Lease {
        key: key_from_row(row)?,
        epoch: row.try_get("epoch")?,
        expires_at_ms: row.try_get("expires_at")?,
    })
}

/// `sql` with `key`'s tenant and session as `$1` and `$2`, the holding
/// node as `$3` and its epoch as `$4`.
fn held_by(
    sql: impl Into<std::borrow::Cow<'static, str>>,
    key: &SessionKey,
    node: &str,
    epoch: i64,
) -> crate::db::Query {
    query(sql)
        .bind(key.tenant.0)
        .bind(key.session.as_str())
        .bind(node)
        .bind(epoch)
}

fn millis(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX)
}

impl Store {
    /// Takes the lease of `key` for `node` for `ttl`, when nobody holds it,
    /// `node` does, or its holder let it run out. Holding on keeps the
    /// epoch; any other taking raises it. `None`: another node holds it,
    /// or there is no such session.
    pub async fn acquire_lease(
        &self,
        key: &SessionKey,
        node: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>, CoreError> {
        self.take_lease(key, node, ttl, false).await
    }

    /// Takes the lease of `key` for `node` whoever holds it, under a new
    /// epoch. Only for a database one node serves (SQLite): a lease held
    /// by another node id there is a dead process's, and waiting it out
    /// would only delay the restart.
    pub async fn take_over_lease(
        &self,
        key: &SessionKey,
        node: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>, CoreError> {
        self.take_lease(key, node, ttl, true).await
    }

    async fn take_lease(
        &self,
        key: &SessionKey,
        node: &str,
        ttl: Duration,
        steal: bool,
    ) -> Result<Option<Lease>, CoreError> {
        let backend = self.db().backend();
        let now = db_now_ms(backend);
        let mut tx = self.db().begin_write().await.map_err(internal)?;
        // The session's row first, locked: a taking waits for the fenced
        // writes of the old holder in flight, and two takings take turns.
        let lock = match backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE OF s",
        };
        let row = query(format!(
            "SELECT s.owner_node, s.lease_epoch, l.owner_node AS holder,
                    CASE WHEN l.expires_at > {now} THEN 1 ELSE 0 END AS live
             FROM sessions s LEFT JOIN session_leases l
               ON l.tenant_id = s.tenant_id AND l.session_id = s.session_id
             WHERE s.tenant_id = $1 AND s.session_id = $2{lock}"
        ))
        .bind(key.tenant.0)
        .bind(key.session.as_str())
        .fetch_optional(&mut tx)
        .await
        .map_err(internal)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let fence_owner: Option<String> = row.try_get("owner_node").map_err(internal)?;
        let epoch: i64 = row.try_get("lease_epoch").map_err(internal)?;
        let holder: Option<String> = row.try_get("holder").map_err(internal)?;
        let live: bool = row.try_get("live").map_err(internal)?;
        let ours = live && holder.as_deref() == Some(node) && fence_owner.as_deref() == Some(node);
        if live && !ours && !steal {
            return Ok(None);
        }
        let epoch = if ours && !steal { epoch } else { epoch + 1 };
        if !ours || steal {
            held_by(
                "UPDATE sessions SET owner_node = $3, lease_epoch = $4
                 WHERE tenant_id = $1 AND session_id = $2",
                key,
                node,
                epoch,
            )
            .execute(&mut tx)
            .await
            .map_err(internal)?;
        }
        let lease = held_by(
            format!(
                "INSERT INTO session_leases (tenant_id, session_id, owner_node, epoch, expires_at)
             VALUES ($1, $2, $3, $4, {now} + $5)
             ON CONFLICT (tenant_id, session_id) DO UPDATE
               SET owner_node = excluded.owner_node, epoch = excluded.epoch,
                   expires_at = excluded.expires_at
             RETURNING tenant_id, session_id, epoch, expires_at"
            ),
            key,
            node,
            epoch,
        )
        .bind(millis(ttl))
        .fetch_one(&mut tx)
        .await
        .map_err(internal)?;
        let lease = lease_from_row(&lease).map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        Ok(Some(lease))
    }

    /// Extends every lease `node` still holds by `ttl` from now; answers
    /// them. A lease that ran out before this is not renewed (another node
    /// may have it already): its session must stop.
    pub async fn renew_leases(&self, node: &str, ttl: Duration) -> Result<Vec<Lease>, CoreError> {
        let now = db_now_ms(self.db().backend());
        let rows = query(format!(
            "UPDATE session_leases SET expires_at = {now} + $2
             WHERE owner_node = $1 AND expires_at > {now}
             RETURNING tenant_id, session_id, epoch, expires_at"
        ))
        .bind(node)
        .bind(millis(ttl))
        .fetch_all(self.db())
        .await
        .map_err(internal)?;
        rows.iter()
            .map(lease_from_row)
            .collect::<Result<_, _>>()
            .map_err(internal)
    }

    /// Gives up `node`'s lease of `key` taken at `epoch`: nobody runs the
    /// session until asked to. False when it no longer held it.
    pub async fn release_lease(
        &self,
        key: &SessionKey,
        node: &str,
        epoch: i64,
    ) -> Result<bool, CoreError> {
        let mut tx = self.db().begin_write().await.map_err(internal)?;
        let done = held_by(
            "UPDATE sessions SET owner_node = NULL
             WHERE tenant_id = $1 AND session_id = $2 AND owner_node = $3 AND lease_epoch = $4",
            key,
            node,
            epoch,
        )
        .execute(&mut tx)
        .await
        .map_err(internal)?;
        held_by(
            "DELETE FROM session_leases
             WHERE tenant_id = $1 AND session_id = $2 AND owner_node = $3 AND epoch = $4",
            key,
            node,
            epoch,
        )
        .execute(&mut tx)
        .await
        .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        Ok(done.rows_affected() == 1)
    }

    /// Lets `node`'s lease of `key` at `epoch` run out now, keeping the
    /// owner: the session is an orphan at once, for another node to take
    /// (a clean stop of one node among several). False when it no longer
    /// held it.
    pub async fn hand_over_lease(
        &self,
        key: &SessionKey,
        node: &str,
        epoch: i64,
    ) -> Result<bool, CoreError> {
        let now = db_now_ms(self.db().backend());
        let done = held_by(
            format!(
                "UPDATE session_leases SET expires_at = {now} - 1
             WHERE tenant_id = $1 AND session_id = $2 AND owner_node = $3 AND epoch = $4"
            ),
            key,
            node,
            epoch,
        )
        .execute(self.db())
        .await
        .map_err(internal)?;
        Ok(done.rows_affected() == 1)
    }
}

/// Checks, inside the transaction `on` is in, that `node` still holds
/// `key`'s lease at `epoch`; a write made after a failed check must not
/// commit. On PostgreSQL the session's row stays key-share-locked until
/// the transaction ends, so no other node can take the lease in between
/// (a taking locks the row `FOR UPDATE`). Key share, not share: plain
/// updates of the row (status, QR) do not wait for it, so a batch of them
/// cannot deadlock with a batch of fenced writes.
pub async fn holds_lease<'a>(
    on: impl Exec<'a>,
    backend: Backend,
    key: &SessionKey,
    node: &str,
    epoch: i64,
) -> Result<bool, sqlx::Error> {
    let lock = match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR KEY SHARE",
    };
    let row = held_by(
        format!(
            "SELECT 1 FROM sessions
             WHERE tenant_id = $1 AND session_id = $2 AND owner_node = $3 AND lease_epoch = $4{lock}"
        ),
        key,
        node,
        epoch,
    )
    .fetch_optional(on)
    .await?;
    Ok(row.is_some())
}
