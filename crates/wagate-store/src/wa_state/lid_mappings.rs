//! LID <-> phone-number mappings. A LID row says which phone it belongs
//! to; `wa_pn_lid` says which LID a phone resolves to (the one stored last
//! for it), exactly as wacore's reference store keeps its reverse index.

use super::{WaStateBackend, db_err};
use crate::db::Row;
use wacore::store::error::Result;
use wacore::store::traits::LidPnMappingEntry;

fn lid_mapping(row: &Row) -> Result<LidPnMappingEntry> {
    Ok(LidPnMappingEntry {
        lid: row.try_get("lid").map_err(db_err)?,
        phone_number: row.try_get("phone_number").map_err(db_err)?,
        created_at: row.try_get("created_at").map_err(db_err)?,
        updated_at: row.try_get("updated_at").map_err(db_err)?,
        learning_source: row.try_get("learning_source").map_err(db_err)?,
    })
}

impl WaStateBackend {
    /// Stores LID mappings in one transaction, keeping the phone -> LID
    /// index pointing at the most recently stored LID of each phone.
    pub(super) async fn lid_mappings_put(&self, entries: &[LidPnMappingEntry]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        for e in entries {
            // The LID moved to another phone: its old phone no longer resolves.
            self.scoped(
                "DELETE FROM wa_pn_lid WHERE tenant_id = $1 AND session_id = $2 AND phone_number = \
                   (SELECT phone_number FROM wa_lid_mapping \
                    WHERE tenant_id = $1 AND session_id = $2 AND lid = $3 AND phone_number <> $4)",
            )
            .bind(&e.lid)
            .bind(&e.phone_number)
            .execute(&mut tx)
            .await
            .map_err(db_err)?;
            self.scoped(
                "INSERT INTO wa_pn_lid (tenant_id, session_id, phone_number, lid) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (tenant_id, session_id, phone_number) DO UPDATE SET lid = excluded.lid",
            )
            .bind(&e.phone_number)
            .bind(&e.lid)
            .execute(&mut tx)
            .await
            .map_err(db_err)?;
            self.scoped(
                "INSERT INTO wa_lid_mapping \
                   (tenant_id, session_id, lid, phone_number, created_at, updated_at, learning_source) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (tenant_id, session_id, lid) DO UPDATE SET \
                   phone_number = excluded.phone_number, created_at = excluded.created_at, \
                   updated_at = excluded.updated_at, learning_source = excluded.learning_source",
            )
            .bind(&e.lid)
            .bind(&e.phone_number)
            .bind(e.created_at)
            .bind(e.updated_at)
            .bind(&e.learning_source)
            .execute(&mut tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    pub(super) async fn lid_mapping_get(&self, lid: &str) -> Result<Option<LidPnMappingEntry>> {
        let row = self
            .scoped("SELECT * FROM wa_lid_mapping WHERE tenant_id = $1 AND session_id = $2 AND lid = $3")
            .bind(lid)
            .fetch_optional(&self.db)
            .await
            .map_err(db_err)?;
        row.as_ref().map(lid_mapping).transpose()
    }

    pub(super) async fn pn_mapping_get(&self, phone: &str) -> Result<Option<LidPnMappingEntry>> {
        let row = self
            .scoped(
                "SELECT m.* FROM wa_pn_lid p JOIN wa_lid_mapping m \
                   ON m.tenant_id = p.tenant_id AND m.session_id = p.session_id AND m.lid = p.lid \
                 WHERE p.tenant_id = $1 AND p.session_id = $2 AND p.phone_number = $3",
            )
            .bind(phone)
            .fetch_optional(&self.db)
            .await
            .map_err(db_err)?;
        row.as_ref().map(lid_mapping).transpose()
    }

    pub(super) async fn lid_mappings_all(&self) -> Result<Vec<LidPnMappingEntry>> {
        let rows = self
            .scoped("SELECT * FROM wa_lid_mapping WHERE tenant_id = $1 AND session_id = $2")
            .fetch_all(&self.db)
            .await
            .map_err(db_err)?;
        rows.iter().map(lid_mapping).collect()
    }
}
