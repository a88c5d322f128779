//! `DeviceStore`: the session's own device — noise key, identity key,
//! signed prekey, ADV secret and account — as one sealed serde blob.

use super::{WaStateBackend, db_err, kind};
use crate::db::query_scalar;
use async_trait::async_trait;
use std::sync::Arc;
use wacore::stats::StorageResourceReport;
use wacore::store::Device;
use wacore::store::device::DEVICE_PROPS;
use wacore::store::error::Result;
use wacore::store::traits::DeviceStore;

/// The id `create` reports: a session has exactly one device row.
const DEVICE_ROW_ID: i32 = 1;

impl WaStateBackend {
    /// Upserts the device. With `only_if_absent` an existing row is kept
    /// (the `create` path must never overwrite real credentials).
    async fn write_device(&self, device: &Device, only_if_absent: bool) -> Result<()> {
        let sealed = self.seal_json(kind::DEVICE, &[], device)?;
        let sql = if only_if_absent {
            "INSERT INTO wa_device (tenant_id, session_id, device, paired) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, session_id) DO NOTHING"
        } else {
            "INSERT INTO wa_device (tenant_id, session_id, device, paired) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, session_id) \
             DO UPDATE SET device = excluded.device, paired = excluded.paired"
        };
        let q = self.scoped(sql).bind(sealed).bind(device.pn.is_some());
        self.write(q).await?;
        Ok(())
    }
}

#[async_trait]
impl DeviceStore for WaStateBackend {
    async fn save(&self, device: &Device) -> Result<()> {
        self.write_device(device, false).await
    }

    async fn load(&self) -> Result<Option<Device>> {
        let sealed: Option<Vec<u8>> =
            query_scalar("SELECT device FROM wa_device WHERE tenant_id = $1 AND session_id = $2")
                .bind(self.tenant.0)
                .bind(self.session.as_str())
                .fetch_optional(&self.db)
                .await
                .map_err(db_err)?;
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        let mut device: Device = self.open_json(kind::DEVICE, &[], &sealed)?;
        // `device_props` is not serialized; without this a reloaded device
        // would announce empty props instead of the defaults `Device::new`
        // sets (and that the client's builder overrides on top of).
        device.device_props = Arc::new(DEVICE_PROPS.clone());
        Ok(Some(device))
    }

    async fn exists(&self) -> Result<bool> {
        self.has_credentials().await
    }

    /// Materializes a fresh device when none is stored, like the in-memory
    /// backend, so its keys are durable before they are ever used.
    async fn create(&self) -> Result<i32> {
        if !self.has_credentials().await? {
            self.write_device(&Device::new(), true).await?;
        }
        Ok(DEVICE_ROW_ID)
    }

    /// Rows live in the process-wide SQLite page cache shared by every
    /// session, so nothing is attributable to one session.
    async fn resource_report(&self) -> StorageResourceReport {
        StorageResourceReport {
            memory_bytes: Some(0),
            ..StorageResourceReport::default()
        }
    }
}
