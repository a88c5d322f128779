//! Webhook endpoints: where a tenant's events go. The secret is sealed
//! with the master key; the row id and tenant are bound into the seal, so
//! a secret cannot be moved to another endpoint.

use super::Events;
use crate::db::{Row, query};
use crate::outbound::{internal, now_ms, to_time};
use chrono::{DateTime, Utc};
use wagate_core::{CoreError, SessionId, TenantId};

/// An endpoint to create. Validation (URL, filter, headers, shape) is the
/// caller's.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    pub id: String,
    pub tenant: TenantId,
    /// `None`: every session of the tenant.
    pub session: Option<SessionId>,
    pub url: String,
    pub events: Vec<String>,
    pub secret: String,
    pub headers: Vec<(String, String)>,
    pub shape: String,
}

/// Fields to change; `None` keeps the stored value.
#[derive(Debug, Clone, Default)]
pub struct EndpointPatch {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub secret: Option<String>,
    pub headers: Option<Vec<(String, String)>>,
    pub shape: Option<String>,
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub id: String,
    pub tenant: TenantId,
    pub session: Option<SessionId>,
    pub url: String,
    pub events: Vec<String>,
    pub secret: String,
    pub headers: Vec<(String, String)>,
    pub shape: String,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub failing_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, tenant_id, session_id, url, events, secret, headers, shape, enabled, \
     disabled_reason, failing_since, created_at, updated_at";

impl Events {
    fn secret_aad(tenant: TenantId, id: &str) -> Vec<u8> {
        format!("webhook_secret\0{}\0{id}", tenant.0).into_bytes()
    }

    pub async fn create_endpoint(&self, e: NewEndpoint) -> Result<Endpoint, CoreError> {
        let now = now_ms();
        let sealed = self
            .cipher
            .seal(&Self::secret_aad(e.tenant, &e.id), e.secret.as_bytes());
        query(
            "INSERT INTO webhook_endpoints (id, tenant_id, session_id, url, events, secret, headers, \
             shape, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(&e.id)
        .bind(e.tenant.0)
        .bind(e.session.as_ref().map(SessionId::as_str))
        .bind(&e.url)
        .bind(json(&e.events))
        .bind(sealed)
        .bind(json(&e.headers))
        .bind(&e.shape)
        .bind(now)
        .execute(self.db())
        .await
        .map_err(internal)?;
        self.endpoint(e.tenant, &e.id)
            .await?
            .ok_or_else(|| CoreError::Internal("endpoint vanished after insert".into()))
    }

    /// The tenant's endpoint `id`; another tenant's is `None`.
    pub async fn endpoint(
        &self,
        tenant: TenantId,
        id: &str,
    ) -> Result<Option<Endpoint>, CoreError> {
        let row = query(format!(
            "SELECT {COLUMNS} FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.0)
        .bind(id)
        .fetch_optional(self.db())
        .await
        .map_err(internal)?;
        row.map(|r| self.endpoint_from_row(&r)).transpose()
    }

    /// The tenant's endpoints; with `session`, those that get its events
    /// (its own and the tenant-wide ones).
    pub async fn endpoints(
        &self,
        tenant: TenantId,
        session: Option<&SessionId>,
    ) -> Result<Vec<Endpoint>, CoreError> {
        let rows = query(format!(
            "SELECT {COLUMNS} FROM webhook_endpoints WHERE tenant_id = $1 \
             AND ($2 IS NULL OR session_id IS NULL OR session_id = $2) ORDER BY created_at, id"
        ))
        .bind(tenant.0)
        .bind(session.map(SessionId::as_str))
        .fetch_all(self.db())
        .await
        .map_err(internal)?;
        rows.iter().map(|r| self.endpoint_from_row(r)).collect()
    }

    /// Applies `patch`; re-enabling clears the failure record. `None` if
    /// the tenant has no such endpoint.
    pub async fn update_endpoint(
        &self,
        tenant: TenantId,
        id: &str,
        patch: EndpointPatch,
    ) -> Result<Option<Endpoint>, CoreError> {
        let sealed = patch.secret.as_ref().map(|s| {
            self.cipher
                .seal(&Self::secret_aad(tenant, id), s.as_bytes())
        });
        let done = query(
            "UPDATE webhook_endpoints SET url = COALESCE($3, url), events = COALESCE($4, events), \
             secret = COALESCE($5, secret), headers = COALESCE($6, headers), \
             shape = COALESCE($7, shape), enabled = COALESCE($8, enabled), \
             disabled_reason = CASE WHEN $8 THEN NULL ELSE disabled_reason END, \
             failing_since = CASE WHEN $8 THEN NULL ELSE failing_since END, \
             updated_at = $9 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.0)
        .bind(id)
        .bind(&patch.url)
        .bind(patch.events.as_ref().map(json))
        .bind(sealed)
        .bind(patch.headers.as_ref().map(json))
        .bind(&patch.shape)
        .bind(patch.enabled)
        .bind(now_ms())
        .execute(self.db())
        .await
        .map_err(internal)?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        self.endpoint(tenant, id).await
    }

    /// Removes the endpoint and cancels its undelivered events. Returns
    /// whether it existed.
    pub async fn delete_endpoint(&self, tenant: TenantId, id: &str) -> Result<bool, CoreError> {
        let mut tx = self.db().begin().await.map_err(internal)?;
        let done = query("DELETE FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.0)
            .bind(id)
            .execute(&mut tx)
            .await
            .map_err(internal)?;
        query(
            "UPDATE webhook_deliveries SET status = 'cancelled', updated_at = $2 \
             WHERE endpoint_id = $1 AND status IN ('pending', 'delivering')",
        )
        .bind(id)
        .bind(now_ms())
        .execute(&mut tx)
        .await
        .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        Ok(done.rows_affected() == 1)
    }

    fn endpoint_from_row(&self, row: &Row) -> Result<Endpoint, CoreError> {
        let id: String = row.try_get("id").map_err(internal)?;
        let tenant = TenantId(row.try_get("tenant_id").map_err(internal)?);
        let session: Option<String> = row.try_get("session_id").map_err(internal)?;
        let sealed: Vec<u8> = row.try_get("secret").map_err(internal)?;
        let secret = self
            .cipher
            .open(&Self::secret_aad(tenant, &id), &sealed)
            .map_err(|e| CoreError::Internal(format!("webhook secret of {id}: {e}")))?;
        let events: String = row.try_get("events").map_err(internal)?;
        let headers: String = row.try_get("headers").map_err(internal)?;
        let corrupt = |what: &str, e: serde_json::Error| {
            CoreError::Internal(format!("stored {what} of endpoint {id}: {e}"))
        };
        Ok(Endpoint {
            session: session
                .map(|s| SessionId::parse(&s))
                .transpose()
                .map_err(|e| CoreError::Internal(e.to_string()))?,
            url: row.try_get("url").map_err(internal)?,
            events: serde_json::from_str(&events).map_err(|e| corrupt("events", e))?,
            secret: String::from_utf8_lossy(&secret).into_owned(),
            headers: serde_json::from_str(&headers).map_err(|e| corrupt("headers", e))?,
            shape: row.try_get("shape").map_err(internal)?,
            enabled: row.try_get("enabled").map_err(internal)?,
            disabled_reason: row.try_get("disabled_reason").map_err(internal)?,
            failing_since: row
                .try_get::<Option<i64>, _>("failing_since")
                .map_err(internal)?
                .map(to_time),
            created_at: to_time(row.try_get("created_at").map_err(internal)?),
            updated_at: to_time(row.try_get("updated_at").map_err(internal)?),
            tenant,
            id,
        })
    }
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data serializes")
}
