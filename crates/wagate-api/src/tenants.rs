//! Tenants: the accounts that own sessions and keys. Admin keys create
//! and list them; a tenant key also reads and changes its own tenant's
//! settings (another tenant is "not found" to it).

use crate::AppState;
use crate::auth::{Caller, tenant_not_found};
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;
use crate::views::TenantView;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wagate_core::{TenantId, TierName};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tenants", get(list_tenants).post(create_tenant))
        .route("/api/v1/tenants/{id}", get(get_tenant).patch(update_tenant))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateTenantRequest {
    /// Unique, 1-128 characters.
    #[schema(example = "acme")]
    pub name: String,
    /// The service tier (`GET /api/v1/admin/tiers`); default: the
    /// `default_tier` setting.
    #[schema(example = "basic")]
    pub tier: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TenantList {
    pub tenants: Vec<TenantView>,
}

/// Create a tenant.
#[utoipa::path(post, path = "/api/v1/tenants", tag = "tenants", request_body = CreateTenantRequest,
    responses((status = 201, body = TenantView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn create_tenant(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateTenantRequest>,
) -> Result<(StatusCode, Json<TenantView>), ApiError> {
    caller.require_admin()?;
    let tier = match req.tier.as_deref() {
        Some(tier) => TierName::parse(tier)?,
        None => state.limits.default_tier().clone(),
    };
    let tenant = state.store.create_tenant_in_tier(&req.name, &tier).await?;
    Ok((StatusCode::CREATED, Json(tenant.into())))
}

/// List tenants.
#[utoipa::path(get, path = "/api/v1/tenants", tag = "tenants",
    responses((status = 200, body = TenantList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn list_tenants(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<TenantList>, ApiError> {
    caller.require_admin()?;
    let tenants = state
        .store
        .tenants()
        .await?
        .into_iter()
        .map(TenantView::from)
        .collect();
    Ok(Json(TenantList { tenants }))
}

/// The tenant `id`, if the caller may act on it: an admin any, a tenant
/// key its own.
async fn own_tenant(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<wagate_store::domain::Tenant, ApiError> {
    caller.require_tenant_or_admin()?;
    caller.tenant_filter(Some(id))?;
    state
        .store
        .tenant(TenantId(id))
        .await?
        .ok_or_else(|| tenant_not_found(id))
}

/// One tenant and its settings.
#[utoipa::path(get, path = "/api/v1/tenants/{id}", tag = "tenants",
    params(("id" = i64, Path, description = "Tenant id")),
    responses((status = 200, body = TenantView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn get_tenant(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<TenantView>, ApiError> {
    Ok(Json(own_tenant(&state, &caller, id).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateTenantRequest {
    /// Days of message history to keep, 0 = forever, null = the
    /// gateway's default; absent leaves it as it is.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>, example = 30)]
    pub history_retention_days: Option<Option<u32>>,
    /// Admin keys only: the service tier to move the tenant to; its
    /// limits apply at once.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, example = "pro")]
    pub tier: Option<Option<String>>,
}

/// Tells a field sent as `null` from one left out.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Change a tenant's settings.
#[utoipa::path(patch, path = "/api/v1/tenants/{id}", tag = "tenants",
    params(("id" = i64, Path, description = "Tenant id")),
    request_body = UpdateTenantRequest,
    responses((status = 200, body = TenantView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
#[tracing::instrument(skip_all, fields(tenant_id = id), err)]
pub async fn update_tenant(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<UpdateTenantRequest>,
) -> Result<Json<TenantView>, ApiError> {
    let mut tenant = own_tenant(&state, &caller, id).await?;
    // The tier is checked before anything is written, so a request with
    // a bad one changes nothing.
    let tier = match req.tier {
        None => None,
        Some(tier) => {
            caller.require_admin()?;
            let tier = tier.ok_or_else(|| ApiError::validation("tier", "must be a tier name"))?;
            let tier = TierName::parse(&tier)?;
            state.store.known_tier(&tier).await?;
            Some(tier)
        }
    };
    if let Some(days) = req.history_retention_days {
        tenant = state
            .store
            .set_history_retention(tenant.id, days)
            .await?
            .ok_or_else(|| tenant_not_found(id))?;
    }
    if let Some(tier) = tier {
        tenant = state
            .store
            .set_tenant_tier(tenant.id, &tier)
            .await?
            .ok_or_else(|| tenant_not_found(id))?;
        state.limits.tiers_changed();
    }
    Ok(Json(tenant.into()))
}
