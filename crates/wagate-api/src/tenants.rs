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
use wagate_core::TenantId;

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
    let tenant = state.store.create_tenant(&req.name).await?;
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
}

/// Tells a field sent as `null` from one left out.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<u32>>, D::Error> {
    Option::<u32>::deserialize(d).map(Some)
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
    let tenant = own_tenant(&state, &caller, id).await?;
    let Some(days) = req.history_retention_days else {
        return Ok(Json(tenant.into()));
    };
    let tenant = state
        .store
        .set_history_retention(tenant.id, days)
        .await?
        .ok_or_else(|| tenant_not_found(id))?;
    Ok(Json(tenant.into()))
}
