//! `MsgSecretStore`: per-message secrets that decrypt later add-ons (poll
//! votes, reactions, edits) referring to a message.

use super::{WaStateBackend, count, db_err, kind};
use async_trait::async_trait;
use wacore::store::error::Result;
use wacore::store::traits::{MsgSecretEntry, MsgSecretStore};

fn row_key<'a>(chat: &'a str, sender: &'a str, msg_id: &'a str) -> [&'a [u8]; 3] {
    [chat.as_bytes(), sender.as_bytes(), msg_id.as_bytes()]
}

#[async_trait]
impl MsgSecretStore for WaStateBackend {
    /// On conflict the merge rules of wacore apply in SQL: `expires_at` keeps
    /// the later deadline with 0 ("never") winning
    /// (`merge_msg_secret_expiry`), `message_ts` keeps the larger value
    /// (`merge_msg_secret_message_ts`).
    async fn put_msg_secrets(&self, entries: Vec<MsgSecretEntry>) -> Result<usize> {
        if entries.is_empty() {
            return Ok(0);
        }
        let rows = entries
            .iter()
            .map(|e| {
                let sealed = self.seal(
                    kind::MSG_SECRET,
                    &row_key(&e.chat, &e.sender, &e.msg_id),
                    &e.secret,
                );
                vec![
                    e.chat.as_ref().into(),
                    e.sender.as_ref().into(),
                    e.msg_id.as_ref().into(),
                    sealed.into(),
                    e.expires_at.into(),
                    e.message_ts.into(),
                ]
            })
            .collect();
        self.write_rows(
            "INSERT INTO wa_msg_secret \
                   (tenant_id, session_id, chat_jid, sender_jid, message_id, secret, expires_at, message_ts) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (tenant_id, session_id, chat_jid, sender_jid, message_id) DO UPDATE SET \
                   secret = excluded.secret, \
                   expires_at = CASE \
                     WHEN wa_msg_secret.expires_at = 0 OR excluded.expires_at = 0 THEN 0 \
                     WHEN excluded.expires_at > wa_msg_secret.expires_at THEN excluded.expires_at \
                     ELSE wa_msg_secret.expires_at END, \
                   message_ts = CASE \
                     WHEN excluded.message_ts > wa_msg_secret.message_ts THEN excluded.message_ts \
                     ELSE wa_msg_secret.message_ts END"
            .to_string(),
            rows,
        )
        .await?;
        Ok(entries.len())
    }

    async fn get_msg_secret(
        &self,
        chat: &str,
        sender: &str,
        msg_id: &str,
    ) -> Result<Option<Vec<u8>>> {
        Ok(self
            .get_msg_secret_with_ts(chat, sender, msg_id)
            .await?
            .map(|(secret, _)| secret))
    }

    async fn get_msg_secret_with_ts(
        &self,
        chat: &str,
        sender: &str,
        msg_id: &str,
    ) -> Result<Option<(Vec<u8>, i64)>> {
        let row = self
            .scoped(
                "SELECT secret, message_ts FROM wa_msg_secret WHERE tenant_id = $1 AND session_id = $2 \
                   AND chat_jid = $3 AND sender_jid = $4 AND message_id = $5",
            )
            .bind(chat)
            .bind(sender)
            .bind(msg_id)
            .fetch_optional(&self.db)
            .await
            .map_err(db_err)?;
        let Some(row) = row else { return Ok(None) };
        let sealed: Vec<u8> = row.try_get("secret").map_err(db_err)?;
        let secret = self.open(kind::MSG_SECRET, &row_key(chat, sender, msg_id), &sealed)?;
        Ok(Some((secret, row.try_get("message_ts").map_err(db_err)?)))
    }

    async fn delete_expired_msg_secrets(&self, cutoff_timestamp: i64) -> Result<u32> {
        let q = self
            .scoped(
                "DELETE FROM wa_msg_secret WHERE tenant_id = $1 AND session_id = $2 \
                   AND expires_at <> 0 AND expires_at <= $3",
            )
            .bind(cutoff_timestamp);
        let done = self.write(q).await?;
        Ok(count(done))
    }
}
