//! Sessions whose node stopped renewing their lease, and the counts a
//! node decides from how many of them to take over.

use super::leases::{LeaseCensus, db_now_ms};
use super::{Store, internal};
use crate::db::query;
use wagate_core::{CoreError, SessionId, SessionKey, TenantId};

impl Store {
    /// Sessions whose holder let the lease run out, longest ago first: the
    /// ones live nodes should take over.
    pub async fn orphaned_sessions(&self, limit: u32) -> Result<Vec<SessionKey>, CoreError> {
        let now = db_now_ms(self.db().backend());
        let rows = query(format!(
            "SELECT tenant_id, session_id FROM session_leases
             WHERE expires_at <= {now} ORDER BY expires_at LIMIT $1"
        ))
        .bind(i64::from(limit))
        .fetch_all(self.db())
        .await
        .map_err(internal)?;
        let mut keys = Vec::with_capacity(rows.len());
        for row in &rows {
            let session: String = row.try_get("session_id").map_err(internal)?;
            // An id the API would refuse cannot be run; skipping it beats
            // stopping the takeover of every other session.
            if let Ok(session) = SessionId::parse(&session) {
                keys.push(SessionKey {
                    tenant: TenantId(row.try_get("tenant_id").map_err(internal)?),
                    session,
                });
            }
        }
        Ok(keys)
    }

    /// What `node`'s fair share is computed from, as the leases say now.
    pub async fn lease_census(&self, node: &str) -> Result<LeaseCensus, CoreError> {
        let now = db_now_ms(self.db().backend());
        let row = query(format!(
            "SELECT
                 COALESCE(SUM(CASE WHEN expires_at > {now} THEN 1 ELSE 0 END), 0) AS live,
                 COALESCE(SUM(CASE WHEN expires_at <= {now} THEN 1 ELSE 0 END), 0) AS orphans,
                 COALESCE(SUM(CASE WHEN expires_at > {now} AND owner_node = $1
                                   THEN 1 ELSE 0 END), 0) AS mine,
                 COUNT(DISTINCT CASE WHEN expires_at > {now} AND owner_node <> $1
                                     THEN owner_node END) AS other_nodes
             FROM session_leases"
        ))
        .bind(node)
        .fetch_one(self.db())
        .await
        .map_err(internal)?;
        let get = |name: &str| row.try_get::<i64, _>(name).map_err(internal);
        Ok(LeaseCensus {
            live: get("live")?,
            orphans: get("orphans")?,
            mine: get("mine")?,
            other_nodes: get("other_nodes")?,
        })
    }
}
