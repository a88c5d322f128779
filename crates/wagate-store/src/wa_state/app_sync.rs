//! `AppSyncStore`: app-state sync keys, collection versions and the
//! mutation MACs that back each collection's ltHash.

use super::{IN_CHUNK, WaStateBackend, db_err, kind};
use crate::db::query_scalar;
use async_trait::async_trait;
use std::collections::HashMap;
use wacore::appstate::hash::HashState;
use wacore::appstate::processor::AppStateMutationMAC;
use wacore::store::error::Result;
use wacore::store::traits::{AppStateSyncKey, AppSyncStore};

impl WaStateBackend {
    fn open_mac(&self, name: &str, index_mac: &[u8], sealed: &[u8]) -> Result<Vec<u8>> {
        self.open(kind::MUTATION_MAC, &[name.as_bytes(), index_mac], sealed)
    }
}

#[async_trait]
impl AppSyncStore for WaStateBackend {
    async fn get_sync_key(&self, key_id: &[u8]) -> Result<Option<AppStateSyncKey>> {
        let sealed: Option<Vec<u8>> = query_scalar(
            "SELECT sync_key FROM wa_app_sync_key WHERE tenant_id = $1 AND session_id = $2 AND key_id = $3",
        )
        .bind(self.tenant.0)
        .bind(self.session.as_str())
        .bind(key_id)
        .fetch_optional(&self.db)
        .await
        .map_err(db_err)?;
        sealed
            .map(|s| self.open_json(kind::APP_SYNC_KEY, &[key_id], &s))
            .transpose()
    }

    async fn set_sync_key(&self, key_id: &[u8], key: AppStateSyncKey) -> Result<()> {
        let sealed = self.seal_json(kind::APP_SYNC_KEY, &[key_id], &key)?;
        // One statement, so the sequence number is taken under the write lock.
        let q = self
            .scoped(
                "INSERT INTO wa_app_sync_key (tenant_id, session_id, key_id, sync_key, set_seq) \
                 VALUES ($1, $2, $3, $4, (SELECT COALESCE(MAX(set_seq), 0) + 1 FROM wa_app_sync_key \
                                          WHERE tenant_id = $1 AND session_id = $2)) \
                 ON CONFLICT (tenant_id, session_id, key_id) \
                 DO UPDATE SET sync_key = excluded.sync_key, set_seq = excluded.set_seq",
            )
            .bind(key_id)
            .bind(sealed);
        self.write(q).await?;
        Ok(())
    }

    async fn get_version(&self, name: &str) -> Result<HashState> {
        let sealed: Option<Vec<u8>> = query_scalar(
            "SELECT hash_state FROM wa_app_state_version \
             WHERE tenant_id = $1 AND session_id = $2 AND collection = $3",
        )
        .bind(self.tenant.0)
        .bind(self.session.as_str())
        .bind(name)
        .fetch_optional(&self.db)
        .await
        .map_err(db_err)?;
        match sealed {
            Some(s) => self.open_json(kind::APP_STATE_VERSION, &[name.as_bytes()], &s),
            None => Ok(HashState::default()),
        }
    }

    async fn set_version(&self, name: &str, state: HashState) -> Result<()> {
        let sealed = self.seal_json(kind::APP_STATE_VERSION, &[name.as_bytes()], &state)?;
        let q = self.scoped(
            "INSERT INTO wa_app_state_version (tenant_id, session_id, collection, hash_state) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, session_id, collection) DO UPDATE SET hash_state = excluded.hash_state",
        )
        .bind(name)
        .bind(sealed);
        self.write(q).await?;
        Ok(())
    }

    async fn put_mutation_macs(
        &self,
        name: &str,
        version: u64,
        mutations: &[AppStateMutationMAC],
    ) -> Result<()> {
        if mutations.is_empty() {
            return Ok(());
        }
        let version = i64::try_from(version).unwrap_or(i64::MAX);
        let mut tx = self.begin().await?;
        for m in mutations {
            let sealed = self.seal(
                kind::MUTATION_MAC,
                &[name.as_bytes(), &m.index_mac],
                &m.value_mac,
            );
            self.scoped(
                "INSERT INTO wa_app_state_mutation_mac \
                   (tenant_id, session_id, collection, index_mac, version, value_mac) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (tenant_id, session_id, collection, index_mac) \
                 DO UPDATE SET version = excluded.version, value_mac = excluded.value_mac",
            )
            .bind(name)
            .bind(m.index_mac.as_slice())
            .bind(version)
            .bind(sealed)
            .execute(&mut tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn get_mutation_mac(&self, name: &str, index_mac: &[u8]) -> Result<Option<Vec<u8>>> {
        let sealed: Option<Vec<u8>> = query_scalar(
            "SELECT value_mac FROM wa_app_state_mutation_mac \
             WHERE tenant_id = $1 AND session_id = $2 AND collection = $3 AND index_mac = $4",
        )
        .bind(self.tenant.0)
        .bind(self.session.as_str())
        .bind(name)
        .bind(index_mac)
        .fetch_optional(&self.db)
        .await
        .map_err(db_err)?;
        sealed
            .map(|s| self.open_mac(name, index_mac, &s))
            .transpose()
    }

    async fn get_mutation_macs(
        &self,
        name: &str,
        index_macs: &[[u8; 32]],
    ) -> Result<HashMap<[u8; 32], Vec<u8>>> {
        let mut out = HashMap::with_capacity(index_macs.len());
        for chunk in index_macs.chunks(IN_CHUNK) {
            let q = self.rows_in(
                "SELECT index_mac, value_mac FROM wa_app_state_mutation_mac",
                Some(name),
                "index_mac",
                chunk.iter().map(|mac| mac.as_slice()),
            );
            for row in q.fetch_all(&self.db).await.map_err(db_err)? {
                let index_mac: Vec<u8> = row.try_get("index_mac").map_err(db_err)?;
                let sealed: Vec<u8> = row.try_get("value_mac").map_err(db_err)?;
                let value = self.open_mac(name, &index_mac, &sealed)?;
                // Only 32-byte index MACs can have been asked for.
                if let Ok(key) = <[u8; 32]>::try_from(index_mac.as_slice()) {
                    out.insert(key, value);
                }
            }
        }
        Ok(out)
    }

    async fn delete_mutation_macs(&self, name: &str, index_macs: &[Vec<u8>]) -> Result<()> {
        if index_macs.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        for chunk in index_macs.chunks(IN_CHUNK) {
            let q = self.rows_in(
                "DELETE FROM wa_app_state_mutation_mac",
                Some(name),
                "index_mac",
                chunk.iter().map(|mac| mac.as_slice()),
            );
            q.execute(&mut tx).await.map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn clear_mutation_macs(&self, name: &str) -> Result<()> {
        let q = self
            .scoped(
                "DELETE FROM wa_app_state_mutation_mac \
                 WHERE tenant_id = $1 AND session_id = $2 AND collection = $3",
            )
            .bind(name);
        self.write(q).await?;
        Ok(())
    }

    async fn get_latest_sync_key_id(&self) -> Result<Option<Vec<u8>>> {
        query_scalar(
            "SELECT key_id FROM wa_app_sync_key WHERE tenant_id = $1 AND session_id = $2 \
             ORDER BY set_seq DESC LIMIT 1",
        )
        .bind(self.tenant.0)
        .bind(self.session.as_str())
        .fetch_optional(&self.db)
        .await
        .map_err(db_err)
    }
}
