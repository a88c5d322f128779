use super::api_keys::insert_api_key;
use super::tiers::{check_session_limit, lock_tenant};
use super::{NewApiKeyRecord, Store, conflict_on, internal};
use crate::db::{Query, Row, query};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use wagate_core::{
    CoreError, Fence, SessionId, SessionKey, SessionRecords, SessionStatus, SessionUpdate,
    SessionWrite, TenantId,
};

/// A session as created through the API.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub key: SessionKey,
    pub name: Option<String>,
    pub webhook_url: Option<String>,
}

/// A stored session: what clients set, plus what the engine last recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub key: SessionKey,
    pub name: Option<String>,
    pub status: SessionStatus,
    /// The QR string the engine last offered.
    pub qr: Option<String>,
    pub pair_code: Option<String>,
    /// Digits of the linked phone, once connected.
    pub phone: Option<String>,
    pub last_connected: Option<DateTime<Utc>>,
    pub webhook_url: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The node holding (or, until another takes it, last holding) the
    /// session's lease: where it runs.
    pub node: Option<String>,
}

const SESSION_COLUMNS: &str = "tenant_id, session_id, name, status, qr, pair_code, phone, \
     last_connected, webhook_url, created_at, owner_node";

fn session_from_row(row: &Row) -> Result<SessionRecord, sqlx::Error> {
    let corrupt = |column: &str, value: &str| sqlx::Error::ColumnDecode {
        index: column.to_string(),
        source: format!("unexpected value {value:?}").into(),
    };
    let id: String = row.try_get("session_id")?;
    let status: String = row.try_get("status")?;
    Ok(SessionRecord {
        key: SessionKey {
            tenant: TenantId(row.try_get("tenant_id")?),
            session: SessionId::parse(&id).map_err(|_| corrupt("session_id", &id))?,
        },
        name: row.try_get("name")?,
        status: SessionStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        qr: row.try_get("qr")?,
        pair_code: row.try_get("pair_code")?,
        phone: row.try_get("phone")?,
        last_connected: row.try_get("last_connected")?,
        webhook_url: row.try_get("webhook_url")?,
        created_at: row.try_get("created_at")?,
        node: row.try_get("owner_node")?,
    })
}

fn sessions_from_rows(rows: &[Row]) -> Result<Vec<SessionRecord>, CoreError> {
    rows.iter()
        .map(session_from_row)
        .collect::<Result<_, _>>()
        .map_err(internal)
}

impl Store {
    /// Creates a session in `disconnected`; an id taken in the same tenant
    /// is a `Conflict`.
    pub async fn create_session(&self, new: &NewSession) -> Result<SessionRecord, CoreError> {
        self.create_session_with_key(new, None).await
    }

    /// Creates a session and, when given, its own API key in one
    /// transaction: a key that cannot be stored (its secret is taken)
    /// leaves no session behind, and the reverse. A session the tenant's
    /// tier does not allow is `LimitReached`, and leaves nothing behind.
    pub async fn create_session_with_key(
        &self,
        new: &NewSession,
        key: Option<&NewApiKeyRecord>,
    ) -> Result<SessionRecord, CoreError> {
        let mut tx = self.db().begin().await.map_err(internal)?;
        lock_tenant(&mut tx, new.key.tenant).await?;
        let row = query(format!(
            "INSERT INTO sessions (tenant_id, session_id, name, webhook_url, created_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING {SESSION_COLUMNS}"
        ))
        .bind(new.key.tenant.0)
        .bind(new.key.session.as_str())
        .bind(new.name.as_deref())
        .bind(new.webhook_url.as_deref())
        .bind(Utc::now())
        .fetch_one(&mut tx)
        .await
        .map_err(conflict_on(
            "sessions_tenant_session_key",
            format!("Session '{}' already exists", new.key.session),
        ))?;
        let record = session_from_row(&row).map_err(internal)?;
        check_session_limit(&mut tx, new.key.tenant).await?;
        if let Some(key) = key {
            insert_api_key(&mut tx, key).await?;
        }
        tx.commit().await.map_err(internal)?;
        Ok(record)
    }

    pub async fn session(&self, key: &SessionKey) -> Result<Option<SessionRecord>, CoreError> {
        let row = query(format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE tenant_id = $1 AND session_id = $2"
        ))
        .bind(key.tenant.0)
        .bind(key.session.as_str())
        .fetch_optional(self.db())
        .await
        .map_err(internal)?;
        row.as_ref()
            .map(session_from_row)
            .transpose()
            .map_err(internal)
    }

    /// Sessions of one tenant, or of every tenant when `tenant` is `None`.
    pub async fn sessions(
        &self,
        tenant: Option<TenantId>,
    ) -> Result<Vec<SessionRecord>, CoreError> {
        let rows = query(format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE ($1 IS NULL OR tenant_id = $1)
             ORDER BY tenant_id, created_at, session_id"
        ))
        .bind(tenant.map(|t| t.0))
        .fetch_all(self.db())
        .await
        .map_err(internal)?;
        sessions_from_rows(&rows)
    }

    /// Every tenant's session called `id`; lets an admin address a session
    /// without naming its tenant when the id is unambiguous.
    pub async fn sessions_with_id(&self, id: &SessionId) -> Result<Vec<SessionRecord>, CoreError> {
        let rows = query(format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE session_id = $1 ORDER BY tenant_id"
        ))
        .bind(id.as_str())
        .fetch_all(self.db())
        .await
        .map_err(internal)?;
        sessions_from_rows(&rows)
    }

    /// Deletes the session and revokes its session keys in one transaction;
    /// `false` when there was no such session.
    pub async fn delete_session(&self, key: &SessionKey) -> Result<bool, CoreError> {
        let mut tx = self.db().begin().await.map_err(internal)?;
        let deleted = query("DELETE FROM sessions WHERE tenant_id = $1 AND session_id = $2")
            .bind(key.tenant.0)
            .bind(key.session.as_str())
            .execute(&mut tx)
            .await
            .map_err(internal)?;
        // A later session with the same id must not inherit old keys.
        query(
            "UPDATE api_keys SET revoked_at = $1
             WHERE tenant_id = $2 AND session_id = $3 AND revoked_at IS NULL",
        )
        .bind(Utc::now())
        .bind(key.tenant.0)
        .bind(key.session.as_str())
        .execute(&mut tx)
        .await
        .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        Ok(deleted.rows_affected() == 1)
    }

    /// How many sessions are in each status, every status listed.
    pub async fn session_counts(&self) -> Result<Vec<(SessionStatus, i64)>, CoreError> {
        let rows = query("SELECT status, COUNT(*) AS n FROM sessions GROUP BY status")
            .fetch_all(self.db())
            .await
            .map_err(internal)?;
        let mut counts: Vec<(SessionStatus, i64)> =
            SessionStatus::ALL.iter().map(|s| (*s, 0)).collect();
        for row in rows {
            let status: String = row.try_get("status").map_err(internal)?;
            let n: i64 = row.try_get("n").map_err(internal)?;
            if let Some(slot) = counts.iter_mut().find(|(s, _)| s.as_str() == status) {
                slot.1 = n;
            }
        }
        Ok(counts)
    }

    /// Runs an update on one session; `NotFound` when it no longer exists
    /// (e.g. deleted while the engine was still reporting on it).
    async fn update_session(&self, key: &SessionKey, query: Query) -> Result<(), CoreError> {
        let done = query.execute(self.db()).await.map_err(internal)?;
        if done.rows_affected() == 0 {
            return Err(CoreError::NotFound(format!("Session '{}'", key.session)));
        }
        Ok(())
    }
}

/// The statement that records `update` for `key`; with a fence, only
/// while the fence's node holds the session at its epoch (inside the
/// statement itself, so no other node can take the lease in between).
fn update_query(key: &SessionKey, update: &SessionUpdate, fence: Option<&Fence>) -> Query {
    let mut q = match update {
        SessionUpdate::Status(status) => {
            query("UPDATE sessions SET status = $1").bind(status.as_str())
        }
        SessionUpdate::Qr(qr) => query("UPDATE sessions SET qr = $1").bind(qr.as_deref()),
        SessionUpdate::PairCode(code) => {
            query("UPDATE sessions SET pair_code = $1").bind(code.as_deref())
        }
        // Once linked, neither a QR nor a pair code is valid any more.
        SessionUpdate::Connected { phone, at } => query(
            "UPDATE sessions SET status = 'connected', phone = $1, last_connected = $2,
                 qr = NULL, pair_code = NULL",
        )
        .bind(phone.as_str())
        .bind(*at),
    };
    q.push(" WHERE tenant_id = ")
        .push_bind(key.tenant.0)
        .push(" AND session_id = ")
        .push_bind(key.session.as_str());
    if let Some(fence) = fence {
        q.push(" AND owner_node = ")
            .push_bind(fence.node.as_ref())
            .push(" AND lease_epoch = ")
            .push_bind(fence.epoch);
    }
    q
}

#[async_trait]
impl SessionRecords for Store {
    async fn set_status(&self, key: &SessionKey, status: SessionStatus) -> Result<(), CoreError> {
        let update = SessionUpdate::Status(status);
        self.update_session(key, update_query(key, &update, None))
            .await
    }

    async fn set_qr(&self, key: &SessionKey, qr: Option<&str>) -> Result<(), CoreError> {
        let update = SessionUpdate::Qr(qr.map(str::to_string));
        self.update_session(key, update_query(key, &update, None))
            .await
    }

    async fn set_pair_code(&self, key: &SessionKey, code: Option<&str>) -> Result<(), CoreError> {
        let update = SessionUpdate::PairCode(code.map(str::to_string));
        self.update_session(key, update_query(key, &update, None))
            .await
    }

    async fn set_connected(
        &self,
        key: &SessionKey,
        phone: &str,
        at: DateTime<Utc>,
    ) -> Result<(), CoreError> {
        let update = SessionUpdate::Connected {
            phone: phone.to_string(),
            at,
        };
        self.update_session(key, update_query(key, &update, None))
            .await
    }

    /// One transaction for the whole batch: one commit, one fsync.
    async fn apply_updates(&self, updates: &[SessionWrite]) -> Result<(), CoreError> {
        let mut tx = self.db().begin().await.map_err(internal)?;
        for w in updates {
            update_query(&w.key, &w.update, w.fence.as_ref())
                .execute(&mut tx)
                .await
                .map_err(internal)?;
        }
        tx.commit().await.map_err(internal)
    }

    async fn sessions_to_restore(&self) -> Result<Vec<SessionKey>, CoreError> {
        let rows = query(format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE status <> 'logged_out'
             ORDER BY tenant_id, session_id"
        ))
        .fetch_all(self.db())
        .await
        .map_err(internal)?;
        Ok(sessions_from_rows(&rows)?
            .into_iter()
            .map(|s| s.key)
            .collect())
    }
}
