//! Trusted-contact privacy tokens.
//!
//! Two writers touch a row concurrently — the notification path (received
//! token) and the issuance path (sender bucket) — so each of them is one
//! atomic upsert that only changes its own fields, never a read-modify-write.

use super::{WaStateBackend, count, db_err, kind};
use crate::db::query_scalar;
use wacore::store::error::Result;
use wacore::store::traits::TcTokenEntry;

impl WaStateBackend {
    /// Empty tokens are stored as NULL: that is what marks a placeholder row
    /// for the expiry rule, and it cannot be seen through the seal.
    fn seal_token(&self, jid: &str, token: &[u8]) -> Option<Vec<u8>> {
        (!token.is_empty()).then(|| self.seal(kind::TC_TOKEN, &[jid.as_bytes()], token))
    }

    pub(super) async fn tc_token_get(&self, jid: &str) -> Result<Option<TcTokenEntry>> {
        let row = self
            .scoped(
                "SELECT token, token_timestamp, sender_timestamp FROM wa_tc_token \
                 WHERE tenant_id = $1 AND session_id = $2 AND jid = $3",
            )
            .bind(jid)
            .fetch_optional(&self.db)
            .await
            .map_err(db_err)?;
        let Some(row) = row else { return Ok(None) };
        let sealed: Option<Vec<u8>> = row.try_get("token").map_err(db_err)?;
        let token = match sealed {
            Some(s) => self.open(kind::TC_TOKEN, &[jid.as_bytes()], &s)?,
            None => Vec::new(),
        };
        Ok(Some(TcTokenEntry {
            token,
            token_timestamp: row.try_get("token_timestamp").map_err(db_err)?,
            sender_timestamp: row.try_get("sender_timestamp").map_err(db_err)?,
        }))
    }

    pub(super) async fn tc_token_put(&self, jid: &str, entry: &TcTokenEntry) -> Result<()> {
        let q = self.scoped(
            "INSERT INTO wa_tc_token (tenant_id, session_id, jid, token, token_timestamp, sender_timestamp) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (tenant_id, session_id, jid) DO UPDATE SET token = excluded.token, \
               token_timestamp = excluded.token_timestamp, sender_timestamp = excluded.sender_timestamp",
        )
        .bind(jid)
        .bind(self.seal_token(jid, &entry.token))
        .bind(entry.token_timestamp)
        .bind(entry.sender_timestamp);
        self.write(q).await?;
        Ok(())
    }

    pub(super) async fn tc_token_jids(&self) -> Result<Vec<String>> {
        query_scalar("SELECT jid FROM wa_tc_token WHERE tenant_id = $1 AND session_id = $2")
            .bind(self.tenant.0)
            .bind(self.session.as_str())
            .fetch_all(&self.db)
            .await
            .map_err(db_err)
    }

    /// Drops a row only when both its received token and its sender bucket
    /// are stale or absent.
    pub(super) async fn tc_tokens_delete_expired(
        &self,
        token_cutoff: i64,
        sender_cutoff: i64,
    ) -> Result<u32> {
        let q = self
            .scoped(
                "DELETE FROM wa_tc_token WHERE tenant_id = $1 AND session_id = $2 \
                   AND (token IS NULL OR token_timestamp < $3) \
                   AND (sender_timestamp IS NULL OR sender_timestamp < $4)",
            )
            .bind(token_cutoff)
            .bind(sender_cutoff);
        let done = self.write(q).await?;
        Ok(count(done))
    }

    /// Moves the sender bucket forward only (max), inserting a placeholder
    /// when the contact has no row yet.
    pub(super) async fn tc_token_touch_sender(
        &self,
        jid: &str,
        sender_timestamp: i64,
    ) -> Result<()> {
        let q = self.scoped(
            "INSERT INTO wa_tc_token (tenant_id, session_id, jid, token, token_timestamp, sender_timestamp) \
             VALUES ($1, $2, $3, NULL, $4, $4) \
             ON CONFLICT (tenant_id, session_id, jid) DO UPDATE SET sender_timestamp = \
               CASE WHEN wa_tc_token.sender_timestamp IS NULL \
                      OR wa_tc_token.sender_timestamp < excluded.sender_timestamp \
                    THEN excluded.sender_timestamp ELSE wa_tc_token.sender_timestamp END",
        )
        .bind(jid)
        .bind(sender_timestamp);
        self.write(q).await?;
        Ok(())
    }

    /// Newer-wins: the token pair is replaced only over a placeholder or by a
    /// token at least as new; the sender bucket is never touched.
    pub(super) async fn tc_token_store_received(
        &self,
        jid: &str,
        token: &[u8],
        token_timestamp: i64,
    ) -> Result<()> {
        let q = self.scoped(
            "INSERT INTO wa_tc_token (tenant_id, session_id, jid, token, token_timestamp, sender_timestamp) \
             VALUES ($1, $2, $3, $4, $5, NULL) \
             ON CONFLICT (tenant_id, session_id, jid) DO UPDATE SET \
               token = excluded.token, token_timestamp = excluded.token_timestamp \
             WHERE wa_tc_token.token IS NULL OR excluded.token_timestamp >= wa_tc_token.token_timestamp",
        )
        .bind(jid)
        .bind(self.seal_token(jid, token))
        .bind(token_timestamp);
        self.write(q).await?;
        Ok(())
    }
}
