//! Short-lived message buffers of the client: sent messages kept for retry
//! receipts, and decrypted inbound messages awaiting the durability hook.
//! Both hold message content, so the payloads are sealed.

use super::{WaStateBackend, count, db_err, kind};
use crate::db::query_scalar;
use wacore::store::error::Result;
use wacore::store::traits::{PendingInboundKey, PendingInboundRow};

impl WaStateBackend {
    pub(super) async fn sent_message_store(
        &self,
        chat_jid: &str,
        message_id: &str,
        payload: &[u8],
    ) -> Result<()> {
        let sealed = self.seal(
            kind::SENT_MESSAGE,
            &[chat_jid.as_bytes(), message_id.as_bytes()],
            payload,
        );
        // wacore's clock, not SQLite's: the client computes the expiry
        // cutoffs from that clock (which can be swapped with
        // `wacore::time::set_time_provider`), so both must agree.
        let now = wacore::time::now_secs();
        self.write_rows(
            "INSERT INTO wa_sent_message (tenant_id, session_id, chat_jid, message_id, payload, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (tenant_id, session_id, chat_jid, message_id) \
             DO UPDATE SET payload = excluded.payload, created_at = excluded.created_at"
                .to_string(),
            vec![vec![chat_jid.into(), message_id.into(), sealed.into(), now.into()]],
        )
        .await
    }

    /// Atomic take: the row is deleted by the same statement that returns
    /// it, so two retry receipts can never both get the payload.
    pub(super) async fn sent_message_take(
        &self,
        chat_jid: &str,
        message_id: &str,
    ) -> Result<Option<Vec<u8>>> {
        let q = query_scalar::<Vec<u8>>(
            "DELETE FROM wa_sent_message \
             WHERE tenant_id = $1 AND session_id = $2 AND chat_jid = $3 AND message_id = $4 \
             RETURNING payload",
        )
        .bind(self.tenant.0)
        .bind(self.session.as_str())
        .bind(chat_jid)
        .bind(message_id);
        // A take deletes, so a fenced one runs in a transaction that checks
        // the lease (see `writes.rs`); the row comes back from the same
        // statement either way.
        let sealed = if self.is_fenced() {
            let mut tx = self.begin().await?;
            let sealed = q.fetch_optional(&mut tx).await.map_err(db_err)?;
            tx.commit().await.map_err(db_err)?;
            sealed
        } else {
            q.fetch_optional(&self.db).await.map_err(db_err)?
        };
        sealed
            .map(|s| {
                self.open(
                    kind::SENT_MESSAGE,
                    &[chat_jid.as_bytes(), message_id.as_bytes()],
                    &s,
                )
            })
            .transpose()
    }

    pub(super) async fn sent_messages_delete_expired(&self, cutoff: i64) -> Result<u32> {
        let q = self
            .scoped("DELETE FROM wa_sent_message WHERE tenant_id = $1 AND session_id = $2 AND created_at < $3")
            .bind(cutoff);
        let done = self.write(q).await?;
        Ok(count(done))
    }

    fn pending_aad_key<'a>(chat: &'a str, sender: &'a str, id: &'a str) -> [&'a [u8]; 3] {
        [chat.as_bytes(), sender.as_bytes(), id.as_bytes()]
    }

    pub(super) async fn pending_inbound_store(&self, rows: &[PendingInboundRow<'_>]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let now = wacore::time::now_secs();
        let rows = rows
            .iter()
            .map(|row| {
                let key = Self::pending_aad_key(row.chat, row.sender, row.id);
                let sealed = self.seal(kind::PENDING_INBOUND, &key, row.message);
                vec![
                    row.chat.into(),
                    row.sender.into(),
                    row.id.into(),
                    sealed.into(),
                    now.into(),
                ]
            })
            .collect();
        self.write_rows(
            "INSERT INTO wa_pending_inbound \
               (tenant_id, session_id, chat_jid, sender_jid, stanza_id, message, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (tenant_id, session_id, chat_jid, sender_jid, stanza_id) \
             DO UPDATE SET message = excluded.message, created_at = excluded.created_at"
                .to_string(),
            rows,
        )
        .await
    }

    pub(super) async fn pending_inbound_get(
        &self,
        chat: &str,
        sender: &str,
        id: &str,
    ) -> Result<Option<Vec<u8>>> {
        let sealed: Option<Vec<u8>> = query_scalar(
            "SELECT message FROM wa_pending_inbound WHERE tenant_id = $1 AND session_id = $2 \
               AND chat_jid = $3 AND sender_jid = $4 AND stanza_id = $5",
        )
        .bind(self.tenant.0)
        .bind(self.session.as_str())
        .bind(chat)
        .bind(sender)
        .bind(id)
        .fetch_optional(&self.db)
        .await
        .map_err(db_err)?;
        sealed
            .map(|s| {
                self.open(
                    kind::PENDING_INBOUND,
                    &Self::pending_aad_key(chat, sender, id),
                    &s,
                )
            })
            .transpose()
    }

    pub(super) async fn pending_inbound_delete(
        &self,
        keys: &[PendingInboundKey<'_>],
    ) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let rows = keys
            .iter()
            .map(|key| vec![key.chat.into(), key.sender.into(), key.id.into()])
            .collect();
        self.write_rows(
            "DELETE FROM wa_pending_inbound WHERE tenant_id = $1 AND session_id = $2 \
               AND chat_jid = $3 AND sender_jid = $4 AND stanza_id = $5"
                .to_string(),
            rows,
        )
        .await
    }

    pub(super) async fn pending_inbound_delete_expired(&self, cutoff: i64) -> Result<u32> {
        let q = self
            .scoped("DELETE FROM wa_pending_inbound WHERE tenant_id = $1 AND session_id = $2 AND created_at < $3")
            .bind(cutoff);
        let done = self.write(q).await?;
        Ok(count(done))
    }
}
