//! One-time prekeys and signed prekeys (their private halves are sealed).

use super::{IN_CHUNK, WaStateBackend, db_err, id_from_db, kind};
use crate::db::{query, query_scalar};
use bytes::Bytes;
use std::collections::HashMap;
use wacore::store::error::Result;

/// Rows per insert: five values each, far below SQLite's limit on bound
/// values in one statement.
const PREKEYS_PER_STATEMENT: usize = 200;

impl WaStateBackend {
    /// Upserts prekeys in one transaction with the given uploaded flag.
    /// A link stores hundreds at once, so they go in multi-row statements:
    /// each statement is a round trip to the connection's thread.
    pub(super) async fn prekeys_store(&self, rows: &[(u32, &[u8])], uploaded: bool) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        for chunk in rows.chunks(PREKEYS_PER_STATEMENT) {
            let mut q = query(
                "INSERT INTO wa_prekey (tenant_id, session_id, prekey_id, record, uploaded) VALUES ",
            );
            for (i, &(id, record)) in chunk.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.push("(")
                    .push_bind(self.tenant.0)
                    .push(", ")
                    .push_bind(self.session.as_str())
                    .push(", ")
                    .push_bind(i64::from(id))
                    .push(", ")
                    .push_bind(self.seal(kind::PREKEY, &[&id.to_be_bytes()], record))
                    .push(", ")
                    .push_bind(uploaded)
                    .push(")");
            }
            q.push(
                " ON CONFLICT (tenant_id, session_id, prekey_id) \
                 DO UPDATE SET record = excluded.record, uploaded = excluded.uploaded",
            );
            q.execute(&mut tx).await.map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    /// The stored prekeys among `ids`, in the order (and multiplicity) asked.
    pub(super) async fn prekeys_load(&self, ids: &[u32]) -> Result<Vec<(u32, Bytes)>> {
        let mut found: HashMap<u32, Bytes> = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(IN_CHUNK) {
            let q = self.rows_in(
                "SELECT prekey_id, record FROM wa_prekey",
                None,
                "prekey_id",
                chunk.iter().map(|id| i64::from(*id)),
            );
            let rows = q.fetch_all(&self.db).await.map_err(db_err)?;
            for row in rows {
                let id = id_from_db(row.try_get("prekey_id").map_err(db_err)?)?;
                let sealed: Vec<u8> = row.try_get("record").map_err(db_err)?;
                let record = self.open(kind::PREKEY, &[&id.to_be_bytes()], &sealed)?;
                found.insert(id, Bytes::from(record));
            }
        }
        Ok(ids
            .iter()
            .filter_map(|id| found.get(id).map(|r| (*id, r.clone())))
            .collect())
    }

    /// UPDATE only: a prekey consumed since the upload snapshot stays gone.
    pub(super) async fn prekeys_mark_uploaded(&self, ids: &[u32]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        for chunk in ids.chunks(IN_CHUNK) {
            let q = self.rows_in(
                "UPDATE wa_prekey SET uploaded = TRUE",
                None,
                "prekey_id",
                chunk.iter().map(|id| i64::from(*id)),
            );
            q.execute(&mut tx).await.map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    pub(super) async fn prekey_remove(&self, id: u32) -> Result<()> {
        let q = self
            .scoped(
                "DELETE FROM wa_prekey WHERE tenant_id = $1 AND session_id = $2 AND prekey_id = $3",
            )
            .bind(i64::from(id));
        self.write(q).await?;
        Ok(())
    }

    pub(super) async fn prekey_max_id(&self) -> Result<u32> {
        let max: Option<i64> = query_scalar(
            "SELECT MAX(prekey_id) FROM wa_prekey WHERE tenant_id = $1 AND session_id = $2",
        )
        .bind(self.tenant.0)
        .bind(self.session.as_str())
        .fetch_one(&self.db)
        .await
        .map_err(db_err)?;
        max.map_or(Ok(0), id_from_db)
    }

    /// Whether prekey `id` is marked uploaded (`None` if it is not stored).
    /// wacore's traits never read the flag back; it is kept for operators.
    pub async fn prekey_uploaded(&self, id: u32) -> Result<Option<bool>> {
        query_scalar("SELECT uploaded FROM wa_prekey WHERE tenant_id = $1 AND session_id = $2 AND prekey_id = $3")
            .bind(self.tenant.0)
            .bind(self.session.as_str())
            .bind(i64::from(id))
            .fetch_optional(&self.db)
            .await
            .map_err(db_err)
    }

    pub(super) async fn signed_prekey_store(&self, id: u32, record: &[u8]) -> Result<()> {
        let sealed = self.seal(kind::SIGNED_PREKEY, &[&id.to_be_bytes()], record);
        let q = self
            .scoped(
                "INSERT INTO wa_signed_prekey (tenant_id, session_id, prekey_id, record) \
                 VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (tenant_id, session_id, prekey_id) DO UPDATE SET record = excluded.record",
            )
            .bind(i64::from(id))
            .bind(sealed);
        self.write(q).await?;
        Ok(())
    }

    pub(super) async fn signed_prekey_load(&self, id: u32) -> Result<Option<Vec<u8>>> {
        let sealed: Option<Vec<u8>> = query_scalar(
            "SELECT record FROM wa_signed_prekey WHERE tenant_id = $1 AND session_id = $2 AND prekey_id = $3",
        )
        .bind(self.tenant.0)
        .bind(self.session.as_str())
        .bind(i64::from(id))
        .fetch_optional(&self.db)
        .await
        .map_err(db_err)?;
        sealed
            .map(|s| self.open(kind::SIGNED_PREKEY, &[&id.to_be_bytes()], &s))
            .transpose()
    }

    pub(super) async fn signed_prekeys_load_all(&self) -> Result<Vec<(u32, Vec<u8>)>> {
        let rows = self
            .scoped(
                "SELECT prekey_id, record FROM wa_signed_prekey \
                 WHERE tenant_id = $1 AND session_id = $2 ORDER BY prekey_id",
            )
            .fetch_all(&self.db)
            .await
            .map_err(db_err)?;
        rows.into_iter()
            .map(|row| {
                let id = id_from_db(row.try_get("prekey_id").map_err(db_err)?)?;
                let sealed: Vec<u8> = row.try_get("record").map_err(db_err)?;
                Ok((
                    id,
                    self.open(kind::SIGNED_PREKEY, &[&id.to_be_bytes()], &sealed)?,
                ))
            })
            .collect()
    }

    pub(super) async fn signed_prekey_remove(&self, id: u32) -> Result<()> {
        let q = self.scoped("DELETE FROM wa_signed_prekey WHERE tenant_id = $1 AND session_id = $2 AND prekey_id = $3")
            .bind(i64::from(id));
        self.write(q).await?;
        Ok(())
    }
}
