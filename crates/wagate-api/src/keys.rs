//! API keys: created by admin and tenant keys, listed masked, revoked.

use crate::AppState;
use crate::auth::{Caller, TenantQuery, tenant_not_found};
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;
use crate::views::KeyView;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wagate_core::keys::tail;
use wagate_core::{ApiKeyScope, NewApiKey, SessionId, SessionKey, TenantId};
use wagate_store::domain::NewApiKeyRecord;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/keys", get(list_keys).post(create_key))
        .route("/api/v1/keys/{id}", delete(revoke_key))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateKeyRequest {
    /// `admin`, `tenant` or `session`.
    #[schema(example = "session")]
    pub scope: String,
    pub name: Option<String>,
    /// Admin keys only: the tenant the key belongs to (default: the
    /// default tenant).
    pub tenant_id: Option<i64>,
    /// Required for `session` keys: the session the key may use.
    pub session_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedKey {
    #[serde(flatten)]
    pub info: KeyView,
    /// The secret. Shown only in this response; only its digest is stored.
    #[schema(example = "wgk_3f9a...")]
    pub key: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyList {
    pub keys: Vec<KeyView>,
}

/// Checks what `caller` may create and builds the stored record.
async fn key_record(
    state: &AppState,
    caller: &Caller,
    req: CreateKeyRequest,
    secret: &NewApiKey,
) -> Result<NewApiKeyRecord, ApiError> {
    caller.require_tenant_or_admin()?;
    let scope = ApiKeyScope::parse(&req.scope)
        .ok_or_else(|| ApiError::validation("scope", "must be one of admin, tenant, session"))?;
    if scope == ApiKeyScope::Admin {
        caller.require_admin()?;
    }
    let tenant = match caller.tenant_filter(req.tenant_id)? {
        Some(tenant) if state.store.tenant(tenant).await?.is_some() => tenant,
        Some(tenant) => return Err(tenant_not_found(tenant.0)),
        None => state.store.default_tenant().await?.id,
    };
    let session = match (scope, req.session_id) {
        (ApiKeyScope::Session, Some(raw)) => {
            let key = SessionKey {
                tenant,
                session: SessionId::parse(&raw)?,
            };
            if state.store.session(&key).await?.is_none() {
                return Err(ApiError::session_not_found(&key.session));
            }
            Some(key.session)
        }
        (ApiKeyScope::Session, None) => {
            return Err(ApiError::validation(
                "sessionId",
                "is required for session keys",
            ));
        }
        (_, Some(_)) => {
            return Err(ApiError::validation(
                "sessionId",
                "is only for session keys",
            ));
        }
        (_, None) => None,
    };
    let name = req
        .name
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    if name.as_ref().is_some_and(|n| n.chars().count() > 128) {
        return Err(ApiError::validation(
            "name",
            "must be at most 128 characters",
        ));
    }
    Ok(NewApiKeyRecord {
        tenant,
        scope,
        session,
        digest: secret.digest.clone(),
        tail: tail(&secret.secret),
        name,
    })
}

/// Create an API key. Admin keys may create any key; tenant keys may
/// create tenant and session keys of their own tenant.
#[utoipa::path(post, path = "/api/v1/keys", tag = "keys", request_body = CreateKeyRequest,
    responses((status = 201, body = CreatedKey),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn create_key(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateKeyRequest>,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    let secret = NewApiKey::generate();
    let record = key_record(&state, &caller, req, &secret).await?;
    let stored = state.store.create_api_key(&record).await?;
    tracing::info!(
        key_id = stored.id,
        scope = stored.scope.as_str(),
        "API key created"
    );
    Ok((
        StatusCode::CREATED,
        Json(CreatedKey {
            info: stored.into(),
            key: secret.secret,
        }),
    ))
}

/// Whether a tenant key may see `key`: its tenant's keys, minus admin
/// keys, which belong to no tenant's user.
fn visible_to(caller: &Caller, tenant: TenantId, scope: ApiKeyScope) -> bool {
    caller.is_admin() || (tenant == caller.tenant && scope != ApiKeyScope::Admin)
}

/// List API keys, masked (`***` and the last four characters).
#[utoipa::path(get, path = "/api/v1/keys", tag = "keys", params(TenantQuery),
    responses((status = 200, body = KeyList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn list_keys(
    State(state): State<AppState>,
    caller: Caller,
    query: TenantQuery,
) -> Result<Json<KeyList>, ApiError> {
    caller.require_tenant_or_admin()?;
    let tenant = caller.tenant_filter(query.tenant_id)?;
    let keys = state
        .store
        .api_keys(tenant)
        .await?
        .into_iter()
        .filter(|k| visible_to(&caller, k.tenant, k.scope))
        .map(KeyView::from)
        .collect();
    Ok(Json(KeyList { keys }))
}

/// Revoke an API key; requests with it are refused from then on.
#[utoipa::path(delete, path = "/api/v1/keys/{id}", tag = "keys",
    params(("id" = i64, Path, description = "Key id")),
    responses((status = 204, description = "Revoked"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn revoke_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require_tenant_or_admin()?;
    let not_found = || ApiError::NotFound(format!("API key '{id}' not found"));
    let key_id: i64 = id.parse().map_err(|_| not_found())?;
    let key = state.store.api_key(key_id).await?.ok_or_else(not_found)?;
    if !visible_to(&caller, key.tenant, key.scope) {
        return Err(not_found());
    }
    // Revoking twice is not an error: the key is revoked either way.
    state.store.revoke_api_key(key.id).await?;
    tracing::info!(key_id = key.id, "API key revoked");
    Ok(StatusCode::NO_CONTENT)
}
