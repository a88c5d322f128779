//! The WhatsApp auth state of one session, kept in the shared database.
//!
//! [`WaStateBackend`] implements wacore's storage traits (`SignalStore`,
//! `AppSyncStore`, `ProtocolStore`, `MsgSecretStore`, `DeviceStore`, hence
//! `Backend`) over one database pool (SQLite or PostgreSQL, see
//! [`crate::db`]) shared by every session of the process. A backend is a
//! small handle — database, cipher, tenant, session — with no caches of
//! its own: the whatsapp-rust client caches what it needs.
//!
//! Every write returns `Ok` only after its transaction committed, and every
//! batch is one transaction. Secret values are sealed with [`StateCipher`].
//! A backend made [`fenced`](WaStateBackend::fenced) writes only while its
//! node holds the session's lease (see `writes.rs`).

mod app_sync;
mod device;
mod lid_mappings;
mod message_buffers;
mod msg_secret;
mod prekeys;
mod protocol;
mod signal;
mod tc_tokens;
mod writes;

pub use writes::{LeaseLost, is_lease_lost};

use crate::cipher::StateCipher;
use crate::commit::Committer;
use crate::db::{Bind, Db, Query, query, query_scalar};
use std::borrow::Cow;
use std::sync::Arc;
use wacore::store::error::{Result, StoreError};
use wagate_core::{SessionId, TenantId};
use writes::Fence;

/// Every table holding wa_state rows, for [`WaStateBackend::delete_all`].
const TABLES: &[&str] = &[
    "wa_device",
    "wa_identity",
    "wa_signal_session",
    "wa_prekey",
    "wa_signed_prekey",
    "wa_sender_key",
    "wa_app_sync_key",
    "wa_app_state_version",
    "wa_app_state_mutation_mac",
    "wa_sender_key_device",
    "wa_lid_mapping",
    "wa_pn_lid",
    "wa_base_key",
    "wa_device_list",
    "wa_group_metadata",
    "wa_tc_token",
    "wa_sent_message",
    "wa_pending_inbound",
    "wa_msg_secret",
];

/// Record kinds named in the associated data of sealed blobs. One per
/// sealed column, so a blob cannot be moved between columns either.
mod kind {
    pub const DEVICE: &str = "device";
    pub const IDENTITY: &str = "identity";
    pub const SIGNAL_SESSION: &str = "signal_session";
    pub const PREKEY: &str = "prekey";
    pub const SIGNED_PREKEY: &str = "signed_prekey";
    pub const SENDER_KEY: &str = "sender_key";
    pub const APP_SYNC_KEY: &str = "app_sync_key";
    pub const APP_STATE_VERSION: &str = "app_state_version";
    pub const MUTATION_MAC: &str = "mutation_mac";
    pub const BASE_KEY: &str = "base_key";
    pub const DEVICE_LIST: &str = "device_list";
    pub const GROUP_METADATA: &str = "group_metadata";
    pub const TC_TOKEN: &str = "tc_token";
    pub const SENT_MESSAGE: &str = "sent_message";
    pub const PENDING_INBOUND: &str = "pending_inbound";
    pub const MSG_SECRET: &str = "msg_secret";
}

/// Most ids bound into one `IN (...)` list; keeps far below SQLite's
/// variable limit (and PostgreSQL's) and keeps statements cacheable in size.
const IN_CHUNK: usize = 500;

/// One session's WhatsApp auth state in the shared database.
///
/// Create one per session with [`WaStateBackend::new`] (made
/// [`fenced`](Self::fenced) by the node holding the session's lease) and
/// hand it to the whatsapp-rust client as its `Backend`.
#[derive(Debug, Clone)]
pub struct WaStateBackend {
    db: Db,
    committer: Committer,
    cipher: Arc<StateCipher>,
    tenant: TenantId,
    session: SessionId,
    /// The lease every write is checked against; `None` writes unchecked.
    fence: Option<Arc<Fence>>,
}

impl WaStateBackend {
    /// `<statement> WHERE tenant_id = $1 AND session_id = $2 [AND collection = $3]
    /// AND <column> IN ($n, …)`: a statement over a chunk of this session's
    /// rows, chunked by the caller to at most [`IN_CHUNK`] values.
    fn rows_in<V: Bind>(
        &self,
        statement: &str,
        collection: Option<&str>,
        column: &str,
        values: impl IntoIterator<Item = V>,
    ) -> Query {
        let mut q = query(format!("{statement} WHERE tenant_id = "));
        q.push_bind(self.tenant.0)
            .push(" AND session_id = ")
            .push_bind(self.session.as_str());
        if let Some(collection) = collection {
            q.push(" AND collection = ").push_bind(collection);
        }
        q.push(format!(" AND {column} IN ")).push_list(values);
        q
    }
}

impl WaStateBackend {
    /// A backend for `session` of `tenant` over the shared database of
    /// `committer` (already migrated, see [`Db::open`]).
    /// Writes on the client's hot paths go through the committer.
    pub fn new(
        committer: Committer,
        cipher: Arc<StateCipher>,
        tenant: TenantId,
        session: SessionId,
    ) -> Self {
        Self {
            db: committer.db().clone(),
            committer,
            cipher,
            tenant,
            session,
            fence: None,
        }
    }

    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    pub fn session(&self) -> &SessionId {
        &self.session
    }

    /// Whether a device row exists for this session. Note that wacore's
    /// `DeviceStore::create` writes a fresh, unpaired device on first start,
    /// so this turns true before pairing; see [`is_paired`](Self::is_paired).
    pub async fn has_credentials(&self) -> Result<bool> {
        let row = self
            .scoped("SELECT 1 FROM wa_device WHERE tenant_id = $1 AND session_id = $2")
            .fetch_optional(&self.db)
            .await
            .map_err(db_err)?;
        Ok(row.is_some())
    }

    /// Whether the stored device has been paired with a phone (it has a
    /// phone-number JID), i.e. the session can reconnect without a new QR.
    pub async fn is_paired(&self) -> Result<bool> {
        let paired: Option<bool> = query_scalar::<bool>(
            "SELECT paired FROM wa_device WHERE tenant_id = $1 AND session_id = $2",
        )
        .bind(self.tenant.0)
        .bind(self.session.as_str())
        .fetch_optional(&self.db)
        .await
        .map_err(db_err)?;
        Ok(paired.unwrap_or(false))
    }

    /// Removes every wa_state row of `session` in one transaction (logout,
    /// session deletion). Other sessions are untouched. Returns the number
    /// of rows removed. Not fenced: whoever logs a session out or deletes
    /// it clears its state, whichever node runs it.
    pub async fn delete_all(db: &Db, tenant: TenantId, session: &SessionId) -> Result<u64> {
        let mut tx = db.begin_write().await.map_err(db_err)?;
        let mut removed = 0;
        for table in TABLES {
            let sql = format!("DELETE FROM {table} WHERE tenant_id = $1 AND session_id = $2");
            removed += query(sql)
                .bind(tenant.0)
                .bind(session.as_str())
                .execute(&mut tx)
                .await
                .map_err(db_err)?
                .rows_affected();
        }
        tx.commit().await.map_err(db_err)?;
        Ok(removed)
    }

    /// A query with this session's scope bound as `$1` (tenant) and `$2`
    /// (session); further parameters start at `$3`.
    fn scoped(&self, sql: impl Into<Cow<'static, str>>) -> Query {
        query(sql).bind(self.tenant.0).bind(self.session.as_str())
    }

    /// Fetches one sealed blob by a scoped query with string arguments.
    async fn fetch_blob(&self, sql: &'static str, args: &[&str]) -> Result<Option<Vec<u8>>> {
        let mut q = query_scalar::<Vec<u8>>(sql)
            .bind(self.tenant.0)
            .bind(self.session.as_str());
        for a in args {
            q = q.bind(*a);
        }
        q.fetch_optional(&self.db).await.map_err(db_err)
    }

    fn aad(&self, kind: &str, row_key: &[&[u8]]) -> Vec<u8> {
        StateCipher::aad(self.tenant, &self.session, kind, row_key)
    }

    fn seal(&self, kind: &str, row_key: &[&[u8]], plaintext: &[u8]) -> Vec<u8> {
        self.cipher.seal(&self.aad(kind, row_key), plaintext)
    }

    fn open(&self, kind: &str, row_key: &[&[u8]], sealed: &[u8]) -> Result<Vec<u8>> {
        self.cipher
            .open(&self.aad(kind, row_key), sealed)
            .map_err(|e| StoreError::Serialization(Box::new(e)))
    }

    /// Seals a serde value as JSON.
    fn seal_json<T: serde::Serialize>(
        &self,
        kind: &str,
        row_key: &[&[u8]],
        value: &T,
    ) -> Result<Vec<u8>> {
        let json = serde_json::to_vec(value).map_err(|e| StoreError::Serialization(Box::new(e)))?;
        Ok(self.seal(kind, row_key, &json))
    }

    fn open_json<T: serde::de::DeserializeOwned>(
        &self,
        kind: &str,
        row_key: &[&[u8]],
        sealed: &[u8],
    ) -> Result<T> {
        let json = self.open(kind, row_key, sealed)?;
        serde_json::from_slice(&json).map_err(|e| StoreError::Serialization(Box::new(e)))
    }
}

/// Maps a driver error to wacore's store error, keeping it as the source.
fn db_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Connection(Box::new(e))
        }
        e => StoreError::Database(Box::new(e)),
    }
}

/// A stored `u32` id read back from an INTEGER column.
fn id_from_db(id: i64) -> Result<u32> {
    u32::try_from(id).map_err(|_| StoreError::Validation(format!("stored id {id} is out of range")))
}

/// Rows affected as the `u32` count the traits return.
fn count(rows: u64) -> u32 {
    u32::try_from(rows).unwrap_or(u32::MAX)
}
