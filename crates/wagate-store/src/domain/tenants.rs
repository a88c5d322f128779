use super::{Store, conflict_on, internal};
use crate::db::{Row, query};
use chrono::{DateTime, Utc};
use wagate_core::{CoreError, TenantId, TierName};

/// Name of the tenant that exists from the first start on; admin actions
/// that name no tenant act in it.
pub const DEFAULT_TENANT: &str = "default";

/// An account: owns sessions and API keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// Days of message history kept; `None`: the configured default,
    /// `Some(0)`: forever.
    pub history_retention_days: Option<u32>,
    /// The service tier whose limits apply.
    pub tier: TierName,
}

// A tenant inserted without a tier gets `unlimited` from a trigger, after
// RETURNING has read the row; COALESCE reports it the same.
const TENANT_COLUMNS: &str =
    "id, name, created_at, history_retention_days, COALESCE(tier, 'unlimited') AS tier";

/// The longest retention a tenant may set (100 years).
pub const MAX_RETENTION_DAYS: u32 = 36_500;

fn tenant_from_row(row: &Row) -> Result<Tenant, sqlx::Error> {
    Ok(Tenant {
        id: TenantId(row.try_get("id")?),
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        history_retention_days: row
            .try_get::<Option<i64>, _>("history_retention_days")?
            .map(|d| d.clamp(0, i64::from(MAX_RETENTION_DAYS)) as u32),
        tier: {
            let tier: String = row.try_get("tier")?;
            TierName::parse(&tier).map_err(|_| sqlx::Error::ColumnDecode {
                index: "tier".into(),
                source: format!("unexpected tier {tier:?}").into(),
            })?
        },
    })
}

impl Store {
    /// Creates a tenant in the unlimited tier; a taken name is a `Conflict`.
    pub async fn create_tenant(&self, name: &str) -> Result<Tenant, CoreError> {
        self.create_tenant_in_tier(name, &TierName::unlimited())
            .await
    }

    /// Creates a tenant in `tier`; a taken name is a `Conflict`, a tier
    /// that does not exist a `tier` validation error.
    pub async fn create_tenant_in_tier(
        &self,
        name: &str,
        tier: &TierName,
    ) -> Result<Tenant, CoreError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 128 {
            return Err(CoreError::validation("name", "must be 1-128 characters"));
        }
        // Inserts nothing when the tier does not exist.
        let row = query(format!(
            "INSERT INTO tenants (name, created_at, tier)
             SELECT $1, $2, name FROM tiers WHERE name = $3 RETURNING {TENANT_COLUMNS}"
        ))
        .bind(name)
        .bind(Utc::now())
        .bind(tier.as_str())
        .fetch_optional(self.db())
        .await
        .map_err(conflict_on(
            "tenants_name_key",
            format!("Tenant '{name}' already exists"),
        ))?;
        match row {
            Some(row) => tenant_from_row(&row).map_err(internal),
            None => Err(self.unknown_tier(tier).await),
        }
    }

    pub async fn tenant(&self, id: TenantId) -> Result<Option<Tenant>, CoreError> {
        let row = query(format!(
            "SELECT {TENANT_COLUMNS} FROM tenants WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(self.db())
        .await
        .map_err(internal)?;
        row.as_ref()
            .map(tenant_from_row)
            .transpose()
            .map_err(internal)
    }

    /// Sets (or with `None` clears) how many days of history the tenant
    /// keeps; `None` when there is no such tenant.
    pub async fn set_history_retention(
        &self,
        id: TenantId,
        days: Option<u32>,
    ) -> Result<Option<Tenant>, CoreError> {
        if days.is_some_and(|d| d > MAX_RETENTION_DAYS) {
            return Err(CoreError::validation(
                "historyRetentionDays",
                format!("must be from 0 (keep forever) to {MAX_RETENTION_DAYS}"),
            ));
        }
        let row = query(format!(
            "UPDATE tenants SET history_retention_days = $2 WHERE id = $1 RETURNING {TENANT_COLUMNS}"
        ))
        .bind(id.0)
        .bind(days.map(i64::from))
        .fetch_optional(self.db())
        .await
        .map_err(internal)?;
        row.as_ref()
            .map(tenant_from_row)
            .transpose()
            .map_err(internal)
    }

    pub async fn tenants(&self) -> Result<Vec<Tenant>, CoreError> {
        let rows = query(format!("SELECT {TENANT_COLUMNS} FROM tenants ORDER BY id"))
            .fetch_all(self.db())
            .await
            .map_err(internal)?;
        rows.iter()
            .map(tenant_from_row)
            .collect::<Result<_, _>>()
            .map_err(internal)
    }

    /// The default tenant, created if this is the first start. Safe to call
    /// from several processes at once: the insert yields to an existing row.
    pub async fn default_tenant(&self) -> Result<Tenant, CoreError> {
        query(
            "INSERT INTO tenants (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(DEFAULT_TENANT)
        .bind(Utc::now())
        .execute(self.db())
        .await
        .map_err(internal)?;
        let row = query(format!(
            "SELECT {TENANT_COLUMNS} FROM tenants WHERE name = $1"
        ))
        .bind(DEFAULT_TENANT)
        .fetch_one(self.db())
        .await
        .map_err(internal)?;
        tenant_from_row(&row).map_err(internal)
    }
}
