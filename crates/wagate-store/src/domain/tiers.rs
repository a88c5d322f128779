//! Service tiers and what the limit checks read: a tenant's tier and
//! limits, its session count, and the messages it was accepted in the
//! last hour (to rebuild the hourly counts after a restart).

use super::{Store, Tenant, internal};
use crate::db::{Backend, Row, Tx, query, query_scalar};
use wagate_core::tiers::{MAX_LIMIT, SESSION_RETRY_AFTER_S};
use wagate_core::{CoreError, LimitExceeded, LimitKind, TenantId, TierLimits, TierName};

/// A tier and its limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    pub name: TierName,
    pub limits: TierLimits,
}

/// A change to a tier's limits: `None` leaves a limit as it is,
/// `Some(None)` makes it unlimited.
#[derive(Debug, Clone, Copy, Default)]
pub struct TierChange {
    pub sessions: Option<Option<u32>>,
    pub messages_per_hour: Option<Option<u32>>,
    pub api_calls_per_hour: Option<Option<u32>>,
}

/// A tenant's tier, as the limit checks need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantTier {
    pub tenant: TenantId,
    pub tenant_name: String,
    pub tier: Tier,
}

/// Messages a tenant was accepted in one minute (since the Unix epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinuteCount {
    pub tenant: TenantId,
    pub minute: i64,
    pub count: u32,
}

const TIER_COLUMNS: &str = "tiers.name, tiers.sessions, tiers.messages_per_hour, \
     tiers.api_calls_per_hour";

fn limit(row: &Row, column: &str) -> Result<Option<u32>, sqlx::Error> {
    Ok(row
        .try_get::<Option<i64>, _>(column)?
        .map(|n| n.clamp(0, i64::from(MAX_LIMIT)) as u32))
}

fn tier_from_row(row: &Row) -> Result<Tier, sqlx::Error> {
    let name: String = row.try_get("name")?;
    Ok(Tier {
        name: TierName::parse(&name).map_err(|_| sqlx::Error::ColumnDecode {
            index: "name".into(),
            source: format!("unexpected tier name {name:?}").into(),
        })?,
        limits: TierLimits {
            sessions: limit(row, "sessions")?,
            messages_per_hour: limit(row, "messages_per_hour")?,
            api_calls_per_hour: limit(row, "api_calls_per_hour")?,
        },
    })
}

/// Rows read per step when looking back over the newest messages.
const LOOK_BACK_PAGE: i64 = 1000;

impl Store {
    /// Every tier, smallest first.
    pub async fn tiers(&self) -> Result<Vec<Tier>, CoreError> {
        let rows = query(format!(
            "SELECT {TIER_COLUMNS} FROM tiers ORDER BY position, name"
        ))
        .fetch_all(self.db())
        .await
        .map_err(internal)?;
        rows.iter()
            .map(tier_from_row)
            .collect::<Result<_, _>>()
            .map_err(internal)
    }

    pub async fn tier(&self, name: &TierName) -> Result<Option<Tier>, CoreError> {
        let row = query(format!("SELECT {TIER_COLUMNS} FROM tiers WHERE name = $1"))
            .bind(name.as_str())
            .fetch_optional(self.db())
            .await
            .map_err(internal)?;
        row.as_ref()
            .map(tier_from_row)
            .transpose()
            .map_err(internal)
    }

    /// Changes a tier's limits; `None` when there is no such tier.
    pub async fn update_tier(
        &self,
        name: &TierName,
        change: &TierChange,
    ) -> Result<Option<Tier>, CoreError> {
        let fields = [
            ("sessions", change.sessions),
            ("messagesPerHour", change.messages_per_hour),
            ("apiCallsPerHour", change.api_calls_per_hour),
        ];
        for (field, value) in fields {
            if value.flatten().is_some_and(|n| n > MAX_LIMIT) {
                return Err(CoreError::validation(
                    field,
                    format!("must be null (unlimited) or from 0 to {MAX_LIMIT}"),
                ));
            }
        }
        // Each limit is written only when given: a true `$2` says it was.
        let row = query(format!(
            "UPDATE tiers SET
                 sessions = CASE WHEN $2 THEN $3 ELSE sessions END,
                 messages_per_hour = CASE WHEN $4 THEN $5 ELSE messages_per_hour END,
                 api_calls_per_hour = CASE WHEN $6 THEN $7 ELSE api_calls_per_hour END
             WHERE name = $1 RETURNING {}",
            TIER_COLUMNS.replace("tiers.", "")
        ))
        .bind(name.as_str())
        .bind(change.sessions.is_some())
        .bind(change.sessions.flatten().map(i64::from))
        .bind(change.messages_per_hour.is_some())
        .bind(change.messages_per_hour.flatten().map(i64::from))
        .bind(change.api_calls_per_hour.is_some())
        .bind(change.api_calls_per_hour.flatten().map(i64::from))
        .fetch_optional(self.db())
        .await
        .map_err(internal)?;
        row.as_ref()
            .map(tier_from_row)
            .transpose()
            .map_err(internal)
    }

    /// The tier called `name`, or a `tier` validation error listing the
    /// tiers there are.
    pub async fn known_tier(&self, name: &TierName) -> Result<Tier, CoreError> {
        match self.tier(name).await? {
            Some(tier) => Ok(tier),
            None => Err(self.unknown_tier(name).await),
        }
    }

    /// A `tier` validation error listing the tiers there are.
    pub(super) async fn unknown_tier(&self, name: &TierName) -> CoreError {
        let known = match self.tiers().await {
            Ok(tiers) => tiers
                .iter()
                .map(|t| t.name.as_str().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            Err(err) => return err,
        };
        CoreError::validation(
            "tier",
            format!("must be one of {known} (there is no tier '{name}')"),
        )
    }

    /// Moves a tenant to another tier; `None` when there is no such
    /// tenant, a `tier` validation error when there is no such tier.
    pub async fn set_tenant_tier(
        &self,
        tenant: TenantId,
        tier: &TierName,
    ) -> Result<Option<Tenant>, CoreError> {
        self.known_tier(tier).await?;
        query("UPDATE tenants SET tier = $2 WHERE id = $1")
            .bind(tenant.0)
            .bind(tier.as_str())
            .execute(self.db())
            .await
            .map_err(internal)?;
        self.tenant(tenant).await
    }

    /// The tenant's name, tier and limits; `None` for no such tenant.
    pub async fn tenant_tier(&self, tenant: TenantId) -> Result<Option<TenantTier>, CoreError> {
        let row = query(format!(
            "SELECT tenants.id AS tenant_id, tenants.name AS tenant_name, {TIER_COLUMNS}
             FROM tenants JOIN tiers ON tiers.name = COALESCE(tenants.tier, 'unlimited')
             WHERE tenants.id = $1"
        ))
        .bind(tenant.0)
        .fetch_optional(self.db())
        .await
        .map_err(internal)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let read = || -> Result<TenantTier, sqlx::Error> {
            Ok(TenantTier {
                tenant: TenantId(row.try_get("tenant_id")?),
                tenant_name: row.try_get("tenant_name")?,
                tier: tier_from_row(&row)?,
            })
        };
        read().map(Some).map_err(internal)
    }

    pub async fn session_count(&self, tenant: TenantId) -> Result<u64, CoreError> {
        let n: i64 = query_scalar("SELECT COUNT(*) FROM sessions WHERE tenant_id = $1")
            .bind(tenant.0)
            .fetch_one(self.db())
            .await
            .map_err(internal)?;
        Ok(n.max(0) as u64)
    }

    /// Messages accepted at or after `since_ms` (ms since the Unix
    /// epoch), counted per tenant and minute. Reads back from the newest
    /// row and stops at a page wholly older than `since_ms`, so a start
    /// reads about an hour of messages, not the whole table; rows are
    /// written in acceptance order, so their ids follow their times.
    pub async fn recent_message_counts(
        &self,
        since_ms: i64,
    ) -> Result<Vec<MinuteCount>, CoreError> {
        let mut counts = std::collections::BTreeMap::<(i64, i64), u32>::new();
        let mut before = i64::MAX;
        // SQLite pages back by row id; PostgreSQL has none, and finds
        // the recent rows by their `seq`, which follows acceptance too.
        let sql = match self.db().backend() {
            Backend::Sqlite => {
                "SELECT rowid AS position, tenant_id, created_at FROM outbound_messages
                 WHERE rowid < $1 ORDER BY rowid DESC LIMIT $2"
            }
            Backend::Postgres => {
                "SELECT seq AS position, tenant_id, created_at FROM outbound_messages
                 WHERE seq < $1 ORDER BY seq DESC LIMIT $2"
            }
        };
        loop {
            let rows = query(sql)
                .bind(before)
                .bind(LOOK_BACK_PAGE)
                .fetch_all(self.db())
                .await
                .map_err(internal)?;
            let mut any_recent = false;
            for row in &rows {
                before = row.try_get("position").map_err(internal)?;
                let at: i64 = row.try_get("created_at").map_err(internal)?;
                if at >= since_ms {
                    any_recent = true;
                    let tenant: i64 = row.try_get("tenant_id").map_err(internal)?;
                    *counts.entry((tenant, at.div_euclid(60_000))).or_default() += 1;
                }
            }
            if !any_recent || (rows.len() as i64) < LOOK_BACK_PAGE {
                break;
            }
        }
        Ok(counts
            .into_iter()
            .map(|((tenant, minute), count)| MinuteCount {
                tenant: TenantId(tenant),
                minute,
                count,
            })
            .collect())
    }
}

/// Inside the transaction that has just inserted a session: refuses it
/// when the tenant now has more sessions than its tier allows. The insert
/// took SQLite's write lock, so no other session of the tenant can be
/// committed between the insert and this count; two creates at once
/// cannot both pass. On PostgreSQL the transaction locked the tenant's
/// row first ([`lock_tenant`]) for the same effect.
pub(super) async fn check_session_limit(conn: &mut Tx, tenant: TenantId) -> Result<(), CoreError> {
    let row = query(
        "SELECT tenants.name AS tenant_name, tiers.name AS tier, tiers.sessions AS max,
                (SELECT COUNT(*) FROM sessions WHERE tenant_id = tenants.id) AS used
         FROM tenants JOIN tiers ON tiers.name = COALESCE(tenants.tier, 'unlimited')
         WHERE tenants.id = $1",
    )
    .bind(tenant.0)
    .fetch_optional(conn)
    .await
    .map_err(internal)?;
    let Some(row) = row else {
        return Ok(());
    };
    let max = limit(&row, "max").map_err(internal)?;
    let used: i64 = row.try_get("used").map_err(internal)?;
    match max {
        Some(max) if used > i64::from(max) => {
            let tenant_name: String = row.try_get("tenant_name").map_err(internal)?;
            let tier: String = row.try_get("tier").map_err(internal)?;
            // `used` counts the session being created.
            let had = (used - 1).max(0) as u64;
            Err(LimitExceeded::new(
                LimitKind::Sessions,
                &tier,
                &tenant_name,
                max,
                had,
                1,
                SESSION_RETRY_AFTER_S,
            )
            .into())
        }
        _ => Ok(()),
    }
}

/// On PostgreSQL, locks the tenant's row until the transaction ends, so
/// sessions of one tenant are created one at a time and
/// [`check_session_limit`] counts every other one. SQLite's write lock
/// already does that.
pub(super) async fn lock_tenant(conn: &mut Tx, tenant: TenantId) -> Result<(), CoreError> {
    if conn.backend() == Backend::Postgres {
        query("SELECT id FROM tenants WHERE id = $1 FOR UPDATE")
            .bind(tenant.0)
            .execute(conn)
            .await
            .map_err(internal)?;
    }
    Ok(())
}
