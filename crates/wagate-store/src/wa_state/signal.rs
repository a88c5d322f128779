//! `SignalStore`: peer identities, Signal sessions and group sender keys.
//! Prekeys live in `prekeys.rs`; this impl forwards to them.

use super::{WaStateBackend, db_err, kind};
use crate::db::query_scalar;
use async_trait::async_trait;
use bytes::Bytes;
use std::sync::Arc;
use wacore::store::error::{Result, StoreError};
use wacore::store::traits::SignalStore;

/// The tables keyed by a Signal address whose value is one sealed blob.
#[derive(Clone, Copy)]
struct AddressTable {
    table: &'static str,
    column: &'static str,
    kind: &'static str,
}

const IDENTITIES: AddressTable = AddressTable {
    table: "wa_identity",
    column: "identity_key",
    kind: kind::IDENTITY,
};
const SESSIONS: AddressTable = AddressTable {
    table: "wa_signal_session",
    column: "record",
    kind: kind::SIGNAL_SESSION,
};
const SENDER_KEYS: AddressTable = AddressTable {
    table: "wa_sender_key",
    column: "record",
    kind: kind::SENDER_KEY,
};

impl WaStateBackend {
    async fn address_get(&self, t: AddressTable, address: &str) -> Result<Option<Vec<u8>>> {
        let sql = format!(
            "SELECT {} FROM {} WHERE tenant_id = $1 AND session_id = $2 AND address = $3",
            t.column, t.table
        );
        let sealed: Option<Vec<u8>> = query_scalar(sql)
            .bind(self.tenant.0)
            .bind(self.session.as_str())
            .bind(address)
            .fetch_optional(&self.db)
            .await
            .map_err(db_err)?;
        sealed
            .map(|sealed| self.open(t.kind, &[address.as_bytes()], &sealed))
            .transpose()
    }

    /// Upserts many rows in one transaction (one row is a batch of one).
    async fn address_put(&self, t: AddressTable, rows: &[(&str, &[u8])]) -> Result<()> {
        let sql = format!(
            "INSERT INTO {table} (tenant_id, session_id, address, {col}) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, session_id, address) DO UPDATE SET {col} = excluded.{col}",
            table = t.table,
            col = t.column
        );
        let rows = rows
            .iter()
            .map(|&(address, value)| {
                let sealed = self.seal(t.kind, &[address.as_bytes()], value);
                vec![address.into(), sealed.into()]
            })
            .collect();
        self.write_rows(sql, rows).await
    }

    async fn address_delete(&self, t: AddressTable, address: &str) -> Result<()> {
        let sql = format!(
            "DELETE FROM {} WHERE tenant_id = $1 AND session_id = $2 AND address = $3",
            t.table
        );
        let q = self.scoped(sql).bind(address);
        self.write(q).await?;
        Ok(())
    }
}

#[async_trait]
impl SignalStore for WaStateBackend {
    async fn put_identity(&self, address: &str, key: [u8; 32]) -> Result<()> {
        self.address_put(IDENTITIES, &[(address, &key[..])]).await
    }

    async fn put_identities_batch(&self, identities: &[(Arc<str>, [u8; 32])]) -> Result<()> {
        let rows = identities
            .iter()
            .map(|(a, k)| (a.as_ref(), &k[..]))
            .collect::<Vec<_>>();
        self.address_put(IDENTITIES, &rows).await
    }

    async fn load_identity(&self, address: &str) -> Result<Option<[u8; 32]>> {
        let Some(key) = self.address_get(IDENTITIES, address).await? else {
            return Ok(None);
        };
        let len = key.len();
        let key: [u8; 32] = key.try_into().map_err(|_| {
            StoreError::Validation(format!("stored identity key has {len} bytes, expected 32"))
        })?;
        Ok(Some(key))
    }

    async fn delete_identity(&self, address: &str) -> Result<()> {
        self.address_delete(IDENTITIES, address).await
    }

    async fn get_session(&self, address: &str) -> Result<Option<Bytes>> {
        Ok(self.address_get(SESSIONS, address).await?.map(Bytes::from))
    }

    async fn put_session(&self, address: &str, session: &[u8]) -> Result<()> {
        self.address_put(SESSIONS, &[(address, session)]).await
    }

    async fn put_sessions_batch(&self, sessions: &[(Arc<str>, Bytes)]) -> Result<()> {
        let rows = sessions
            .iter()
            .map(|(a, s)| (a.as_ref(), s.as_ref()))
            .collect::<Vec<_>>();
        self.address_put(SESSIONS, &rows).await
    }

    async fn delete_session(&self, address: &str) -> Result<()> {
        self.address_delete(SESSIONS, address).await
    }

    async fn has_session(&self, address: &str) -> Result<bool> {
        let row = self
            .scoped(
                "SELECT 1 FROM wa_signal_session \
                 WHERE tenant_id = $1 AND session_id = $2 AND address = $3",
            )
            .bind(address)
            .fetch_optional(&self.db)
            .await
            .map_err(db_err)?;
        Ok(row.is_some())
    }

    async fn has_signal_state_for_user(&self, user: &str) -> Result<bool> {
        // Addresses are `user@server` or `user:device@server`: match the exact
        // user part. substr() rather than LIKE, so `_`/`%` in input are inert.
        let row = self
            .scoped(
                "SELECT 1 FROM wa_signal_session \
                 WHERE tenant_id = $1 AND session_id = $2 \
                   AND substr(address, 1, length($3)) = $3 \
                   AND substr(address, length($3) + 1, 1) IN ('@', ':') \
                 UNION ALL \
                 SELECT 1 FROM wa_identity \
                 WHERE tenant_id = $1 AND session_id = $2 \
                   AND substr(address, 1, length($3)) = $3 \
                   AND substr(address, length($3) + 1, 1) IN ('@', ':') \
                 LIMIT 1",
            )
            .bind(user)
            .fetch_optional(&self.db)
            .await
            .map_err(db_err)?;
        Ok(row.is_some())
    }

    async fn store_prekey(&self, id: u32, record: &[u8], uploaded: bool) -> Result<()> {
        self.prekeys_store(&[(id, record)], uploaded).await
    }

    async fn store_prekeys_batch(&self, keys: &[(u32, Bytes)], uploaded: bool) -> Result<()> {
        let rows = keys
            .iter()
            .map(|(id, r)| (*id, r.as_ref()))
            .collect::<Vec<_>>();
        self.prekeys_store(&rows, uploaded).await
    }

    async fn load_prekey(&self, id: u32) -> Result<Option<Bytes>> {
        Ok(self
            .prekeys_load(&[id])
            .await?
            .into_iter()
            .next()
            .map(|(_, r)| r))
    }

    async fn load_prekeys_batch(&self, ids: &[u32]) -> Result<Vec<(u32, Bytes)>> {
        self.prekeys_load(ids).await
    }

    async fn mark_prekeys_uploaded(&self, ids: &[u32]) -> Result<()> {
        self.prekeys_mark_uploaded(ids).await
    }

    async fn remove_prekey(&self, id: u32) -> Result<()> {
        self.prekey_remove(id).await
    }

    async fn get_max_prekey_id(&self) -> Result<u32> {
        self.prekey_max_id().await
    }

    async fn store_signed_prekey(&self, id: u32, record: &[u8]) -> Result<()> {
        self.signed_prekey_store(id, record).await
    }

    async fn load_signed_prekey(&self, id: u32) -> Result<Option<Vec<u8>>> {
        self.signed_prekey_load(id).await
    }

    async fn load_all_signed_prekeys(&self) -> Result<Vec<(u32, Vec<u8>)>> {
        self.signed_prekeys_load_all().await
    }

    async fn remove_signed_prekey(&self, id: u32) -> Result<()> {
        self.signed_prekey_remove(id).await
    }

    async fn put_sender_key(&self, address: &str, record: &[u8]) -> Result<()> {
        self.address_put(SENDER_KEYS, &[(address, record)]).await
    }

    async fn put_sender_keys_batch(&self, sender_keys: &[(Arc<str>, Bytes)]) -> Result<()> {
        let rows = sender_keys
            .iter()
            .map(|(a, r)| (a.as_ref(), r.as_ref()))
            .collect::<Vec<_>>();
        self.address_put(SENDER_KEYS, &rows).await
    }

    async fn get_sender_key(&self, address: &str) -> Result<Option<Vec<u8>>> {
        self.address_get(SENDER_KEYS, address).await
    }

    async fn delete_sender_key(&self, address: &str) -> Result<()> {
        self.address_delete(SENDER_KEYS, address).await
    }
}
