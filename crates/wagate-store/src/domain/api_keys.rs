use super::{Store, conflict_on, internal};
use crate::db::{Row, Tx, query};
use chrono::{DateTime, Utc};
use wagate_core::keys::mask;
use wagate_core::{ApiKeyScope, CoreError, KeyDigest, SessionId, TenantId};

/// What is stored for a new key; the secret itself never reaches the store.
#[derive(Debug, Clone)]
pub struct NewApiKeyRecord {
    pub tenant: TenantId,
    pub scope: ApiKeyScope,
    /// Set exactly when `scope` is `Session`.
    pub session: Option<SessionId>,
    pub digest: KeyDigest,
    /// Last four characters of the secret (`wagate_core::keys::tail`).
    pub tail: String,
    pub name: Option<String>,
}

/// A stored key: its digest, masked tail and what it may touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: i64,
    pub tenant: TenantId,
    pub scope: ApiKeyScope,
    pub session: Option<SessionId>,
    pub digest: KeyDigest,
    pub tail: String,
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKeyRecord {
    /// `***` and the last four characters: the only form shown after creation.
    pub fn masked(&self) -> String {
        mask(&self.tail)
    }

    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }
}

const KEY_COLUMNS: &str =
    "id, tenant_id, scope, session_id, digest, tail, name, created_at, revoked_at";

fn key_from_row(row: &Row) -> Result<ApiKeyRecord, sqlx::Error> {
    let corrupt = |column: &str, value: &str| sqlx::Error::ColumnDecode {
        index: column.to_string(),
        source: format!("unexpected value {value:?}").into(),
    };
    let scope: String = row.try_get("scope")?;
    let digest: String = row.try_get("digest")?;
    let session: Option<String> = row.try_get("session_id")?;
    Ok(ApiKeyRecord {
        id: row.try_get("id")?,
        tenant: TenantId(row.try_get("tenant_id")?),
        scope: ApiKeyScope::parse(&scope).ok_or_else(|| corrupt("scope", &scope))?,
        session: session
            .map(|s| SessionId::parse(&s).map_err(|_| corrupt("session_id", &s)))
            .transpose()?,
        digest: KeyDigest::from_hex(&digest).ok_or_else(|| corrupt("digest", &digest))?,
        tail: row.try_get("tail")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

impl Store {
    pub async fn create_api_key(&self, new: &NewApiKeyRecord) -> Result<ApiKeyRecord, CoreError> {
        let mut tx = self.db().begin().await.map_err(internal)?;
        let record = insert_api_key(&mut tx, new).await?;
        tx.commit().await.map_err(internal)?;
        Ok(record)
    }

    /// The key whose digest is `digest`, revoked or not. The final equality
    /// check runs in constant time.
    pub async fn find_api_key(
        &self,
        digest: &KeyDigest,
    ) -> Result<Option<ApiKeyRecord>, CoreError> {
        let row = query(format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE digest = $1"
        ))
        .bind(digest.to_hex())
        .fetch_optional(self.db())
        .await
        .map_err(internal)?;
        let Some(row) = row else { return Ok(None) };
        let key = key_from_row(&row).map_err(internal)?;
        Ok(key.digest.matches(digest).then_some(key))
    }

    pub async fn api_key(&self, id: i64) -> Result<Option<ApiKeyRecord>, CoreError> {
        let row = query(format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.db())
            .await
            .map_err(internal)?;
        row.as_ref().map(key_from_row).transpose().map_err(internal)
    }

    /// Keys of one tenant, or of every tenant when `tenant` is `None`,
    /// oldest first, revoked ones included.
    pub async fn api_keys(&self, tenant: Option<TenantId>) -> Result<Vec<ApiKeyRecord>, CoreError> {
        let rows = query(format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE ($1 IS NULL OR tenant_id = $1) ORDER BY id"
        ))
        .bind(tenant.map(|t| t.0))
        .fetch_all(self.db())
        .await
        .map_err(internal)?;
        rows.iter()
            .map(key_from_row)
            .collect::<Result<_, _>>()
            .map_err(internal)
    }

    /// Revokes a key; `false` when there is no such key or it was already
    /// revoked.
    pub async fn revoke_api_key(&self, id: i64) -> Result<bool, CoreError> {
        let done =
            query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(Utc::now())
                .bind(id)
                .execute(self.db())
                .await
                .map_err(internal)?;
        Ok(done.rows_affected() == 1)
    }

    /// Whether any admin key can still be used; decides whether the first
    /// start must generate one.
    pub async fn has_active_admin_key(&self) -> Result<bool, CoreError> {
        let row = query(
            "SELECT COUNT(*) AS n FROM api_keys WHERE scope = 'admin' AND revoked_at IS NULL",
        )
        .fetch_one(self.db())
        .await
        .map_err(internal)?;
        let n: i64 = row.try_get("n").map_err(internal)?;
        Ok(n > 0)
    }
}

/// Inserts a key on `conn` (a pooled connection or an open transaction).
pub(crate) async fn insert_api_key(
    conn: &mut Tx,
    new: &NewApiKeyRecord,
) -> Result<ApiKeyRecord, CoreError> {
    if (new.scope == ApiKeyScope::Session) != new.session.is_some() {
        return Err(CoreError::validation(
            "sessionId",
            "is required for session keys and only for them",
        ));
    }
    let row = query(format!(
        "INSERT INTO api_keys (tenant_id, scope, session_id, digest, tail, name, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {KEY_COLUMNS}"
    ))
    .bind(new.tenant.0)
    .bind(new.scope.as_str())
    .bind(new.session.as_ref().map(SessionId::as_str))
    .bind(new.digest.to_hex())
    .bind(&new.tail)
    .bind(new.name.as_deref())
    .bind(Utc::now())
    .fetch_one(&mut *conn)
    .await
    .map_err(conflict_on(
        "api_keys_digest_key",
        "An API key with this secret already exists".to_string(),
    ))?;
    key_from_row(&row).map_err(internal)
}
