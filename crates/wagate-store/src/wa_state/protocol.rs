//! `ProtocolStore`: sender-key distribution status, LID/PN mappings, base
//! keys, device lists and group metadata. Trusted-contact tokens and the
//! sent/pending message buffers live in their own files; this impl forwards.

use super::{IN_CHUNK, WaStateBackend, db_err, kind};
use async_trait::async_trait;
use wacore::store::error::Result;
use wacore::store::traits::{
    DeviceListRecord, LidPnMappingEntry, PendingInboundKey, PendingInboundRow, ProtocolStore,
    TcTokenEntry,
};

impl WaStateBackend {
    async fn put_device_lists_tx(&self, records: &[DeviceListRecord]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        for record in records {
            let sealed = self.seal_json(kind::DEVICE_LIST, &[record.user.as_bytes()], record)?;
            self.scoped(
                "INSERT INTO wa_device_list (tenant_id, session_id, user_id, record) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (tenant_id, session_id, user_id) DO UPDATE SET record = excluded.record",
            )
            .bind(&record.user)
            .bind(sealed)
            .execute(&mut tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }
}

#[async_trait]
impl ProtocolStore for WaStateBackend {
    async fn get_sender_key_devices(&self, group_jid: &str) -> Result<Vec<(String, bool)>> {
        let rows = self
            .scoped(
                "SELECT device_jid, has_key FROM wa_sender_key_device \
                 WHERE tenant_id = $1 AND session_id = $2 AND group_jid = $3",
            )
            .bind(group_jid)
            .fetch_all(&self.db)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("device_jid").map_err(db_err)?,
                    r.try_get("has_key").map_err(db_err)?,
                ))
            })
            .collect()
    }

    async fn set_sender_key_status(&self, group_jid: &str, entries: &[(&str, bool)]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        for (device_jid, has_key) in entries {
            self.scoped(
                "INSERT INTO wa_sender_key_device (tenant_id, session_id, group_jid, device_jid, has_key) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (tenant_id, session_id, group_jid, device_jid) DO UPDATE SET has_key = excluded.has_key",
            )
            .bind(group_jid)
            .bind(*device_jid)
            .bind(*has_key)
            .execute(&mut tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn clear_sender_key_devices(&self, group_jid: &str) -> Result<()> {
        self.exec(
            "DELETE FROM wa_sender_key_device WHERE tenant_id = $1 AND session_id = $2 AND group_jid = $3",
            &[group_jid],
        )
        .await
    }

    async fn delete_sender_key_device_rows(&self, device_jids: &[&str]) -> Result<()> {
        if device_jids.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        for chunk in device_jids.chunks(IN_CHUNK) {
            let q = self.rows_in(
                "DELETE FROM wa_sender_key_device",
                None,
                "device_jid",
                chunk.iter().copied(),
            );
            q.execute(&mut tx).await.map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn clear_all_sender_key_devices(&self) -> Result<()> {
        self.exec(
            "DELETE FROM wa_sender_key_device WHERE tenant_id = $1 AND session_id = $2",
            &[],
        )
        .await
    }

    async fn get_lid_mapping(&self, lid: &str) -> Result<Option<LidPnMappingEntry>> {
        self.lid_mapping_get(lid).await
    }

    async fn get_pn_mapping(&self, phone: &str) -> Result<Option<LidPnMappingEntry>> {
        self.pn_mapping_get(phone).await
    }

    async fn put_lid_mapping(&self, entry: &LidPnMappingEntry) -> Result<()> {
        self.lid_mappings_put(std::slice::from_ref(entry)).await
    }

    async fn put_lid_mappings(&self, entries: &[LidPnMappingEntry]) -> Result<()> {
        self.lid_mappings_put(entries).await
    }

    async fn get_all_lid_mappings(&self) -> Result<Vec<LidPnMappingEntry>> {
        self.lid_mappings_all().await
    }

    async fn save_base_key(&self, address: &str, message_id: &str, base_key: &[u8]) -> Result<()> {
        let sealed = self.seal(
            kind::BASE_KEY,
            &[address.as_bytes(), message_id.as_bytes()],
            base_key,
        );
        self.write_rows(
            "INSERT INTO wa_base_key (tenant_id, session_id, address, message_id, base_key) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_id, session_id, address, message_id) DO UPDATE SET base_key = excluded.base_key"
                .to_string(),
            vec![vec![address.into(), message_id.into(), sealed.into()]],
        )
        .await
    }

    async fn has_same_base_key(
        &self,
        address: &str,
        message_id: &str,
        current_base_key: &[u8],
    ) -> Result<bool> {
        let sealed = self
            .fetch_blob(
                "SELECT base_key FROM wa_base_key \
                 WHERE tenant_id = $1 AND session_id = $2 AND address = $3 AND message_id = $4",
                &[address, message_id],
            )
            .await?;
        let Some(sealed) = sealed else {
            return Ok(false);
        };
        let stored = self.open(
            kind::BASE_KEY,
            &[address.as_bytes(), message_id.as_bytes()],
            &sealed,
        )?;
        Ok(stored == current_base_key)
    }

    async fn delete_base_key(&self, address: &str, message_id: &str) -> Result<()> {
        self.exec(
            "DELETE FROM wa_base_key WHERE tenant_id = $1 AND session_id = $2 AND address = $3 AND message_id = $4",
            &[address, message_id],
        )
        .await
    }

    async fn update_device_list(&self, record: DeviceListRecord) -> Result<()> {
        self.put_device_lists_tx(std::slice::from_ref(&record))
            .await
    }

    async fn update_device_lists(&self, records: Vec<DeviceListRecord>) -> Result<()> {
        self.put_device_lists_tx(&records).await
    }

    async fn get_devices(&self, user: &str) -> Result<Option<DeviceListRecord>> {
        let sealed = self
            .fetch_blob(
                "SELECT record FROM wa_device_list WHERE tenant_id = $1 AND session_id = $2 AND user_id = $3",
                &[user],
            )
            .await?;
        sealed
            .map(|s| self.open_json(kind::DEVICE_LIST, &[user.as_bytes()], &s))
            .transpose()
    }

    async fn delete_devices(&self, user: &str) -> Result<()> {
        self.exec(
            "DELETE FROM wa_device_list WHERE tenant_id = $1 AND session_id = $2 AND user_id = $3",
            &[user],
        )
        .await
    }

    async fn get_group_metadata(&self, group_jid: &str) -> Result<Option<Vec<u8>>> {
        let sealed = self
            .fetch_blob(
                "SELECT metadata FROM wa_group_metadata WHERE tenant_id = $1 AND session_id = $2 AND group_jid = $3",
                &[group_jid],
            )
            .await?;
        sealed
            .map(|s| self.open(kind::GROUP_METADATA, &[group_jid.as_bytes()], &s))
            .transpose()
    }

    async fn put_group_metadata(&self, group_jid: &str, blob: &[u8]) -> Result<()> {
        let sealed = self.seal(kind::GROUP_METADATA, &[group_jid.as_bytes()], blob);
        let q = self.scoped(
            "INSERT INTO wa_group_metadata (tenant_id, session_id, group_jid, metadata) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, session_id, group_jid) DO UPDATE SET metadata = excluded.metadata",
        )
        .bind(group_jid)
        .bind(sealed);
        self.write(q).await?;
        Ok(())
    }

    async fn delete_group_metadata(&self, group_jid: &str) -> Result<()> {
        self.exec(
            "DELETE FROM wa_group_metadata WHERE tenant_id = $1 AND session_id = $2 AND group_jid = $3",
            &[group_jid],
        )
        .await
    }

    async fn get_tc_token(&self, jid: &str) -> Result<Option<TcTokenEntry>> {
        self.tc_token_get(jid).await
    }

    async fn put_tc_token(&self, jid: &str, entry: &TcTokenEntry) -> Result<()> {
        self.tc_token_put(jid, entry).await
    }

    async fn delete_tc_token(&self, jid: &str) -> Result<()> {
        self.exec(
            "DELETE FROM wa_tc_token WHERE tenant_id = $1 AND session_id = $2 AND jid = $3",
            &[jid],
        )
        .await
    }

    async fn get_all_tc_token_jids(&self) -> Result<Vec<String>> {
        self.tc_token_jids().await
    }

    async fn delete_expired_tc_tokens(&self, token_cutoff: i64, sender_cutoff: i64) -> Result<u32> {
        self.tc_tokens_delete_expired(token_cutoff, sender_cutoff)
            .await
    }

    async fn touch_tc_token_sender_timestamp(
        &self,
        jid: &str,
        sender_timestamp: i64,
    ) -> Result<()> {
        self.tc_token_touch_sender(jid, sender_timestamp).await
    }

    async fn store_received_tc_token(
        &self,
        jid: &str,
        token: &[u8],
        token_timestamp: i64,
    ) -> Result<()> {
        self.tc_token_store_received(jid, token, token_timestamp)
            .await
    }

    async fn store_sent_message(
        &self,
        chat_jid: &str,
        message_id: &str,
        payload: &[u8],
    ) -> Result<()> {
        self.sent_message_store(chat_jid, message_id, payload).await
    }

    async fn take_sent_message(&self, chat_jid: &str, message_id: &str) -> Result<Option<Vec<u8>>> {
        self.sent_message_take(chat_jid, message_id).await
    }

    async fn delete_expired_sent_messages(&self, cutoff_timestamp: i64) -> Result<u32> {
        self.sent_messages_delete_expired(cutoff_timestamp).await
    }

    async fn store_pending_inbound(
        &self,
        chat: &str,
        sender: &str,
        id: &str,
        message: &[u8],
    ) -> Result<()> {
        let row = PendingInboundRow {
            chat,
            sender,
            id,
            message,
        };
        self.pending_inbound_store(&[row]).await
    }

    async fn get_pending_inbound(
        &self,
        chat: &str,
        sender: &str,
        id: &str,
    ) -> Result<Option<Vec<u8>>> {
        self.pending_inbound_get(chat, sender, id).await
    }

    async fn delete_pending_inbound(&self, chat: &str, sender: &str, id: &str) -> Result<()> {
        self.pending_inbound_delete(&[PendingInboundKey { chat, sender, id }])
            .await
    }

    async fn delete_expired_pending_inbound(&self, cutoff_timestamp: i64) -> Result<u32> {
        self.pending_inbound_delete_expired(cutoff_timestamp).await
    }

    async fn store_pending_inbound_batch(&self, rows: &[PendingInboundRow<'_>]) -> Result<()> {
        self.pending_inbound_store(rows).await
    }

    async fn delete_pending_inbound_batch(&self, keys: &[PendingInboundKey<'_>]) -> Result<()> {
        self.pending_inbound_delete(keys).await
    }
}
