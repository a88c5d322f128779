//! `GET /api/v1/admin/tiers`, `PATCH /api/v1/admin/tiers/{name}` (admin
//! keys) and `GET /api/v1/tenants/{id}/usage` (an admin, or the tenant's
//! own keys).

use super::LimitKind;
use crate::AppState;
use crate::auth::{Caller, tenant_not_found};
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;
use axum::extract::{Path, State};
use axum::routing::{get, patch};
use axum::{Json, Router};
use chrono::DateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wagate_core::tiers::MAX_LIMIT;
use wagate_core::{TenantId, TierName};
use wagate_store::domain::{Tier, TierChange};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/tiers", get(list_tiers))
        .route("/api/v1/admin/tiers/{name}", patch(update_tier))
        .route("/api/v1/tenants/{id}/usage", get(tenant_usage))
}

/// A tier and its limits; `null` is unlimited.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TierView {
    #[schema(example = "basic")]
    pub name: String,
    #[schema(example = 1)]
    pub sessions: Option<u32>,
    #[schema(example = 100)]
    pub messages_per_hour: Option<u32>,
    #[schema(example = 1000)]
    pub api_calls_per_hour: Option<u32>,
}

impl From<Tier> for TierView {
    fn from(t: Tier) -> Self {
        TierView {
            name: t.name.as_str().to_string(),
            sessions: t.limits.sessions,
            messages_per_hour: t.limits.messages_per_hour,
            api_calls_per_hour: t.limits.api_calls_per_hour,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TierList {
    pub tiers: Vec<TierView>,
}

/// The tiers and their limits.
#[utoipa::path(get, path = "/api/v1/admin/tiers", tag = "tiers",
    responses((status = 200, body = TierList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn list_tiers(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<TierList>, ApiError> {
    caller.require_admin()?;
    let tiers = state.store.tiers().await?;
    Ok(Json(TierList {
        tiers: tiers.into_iter().map(TierView::from).collect(),
    }))
}

/// New limits for a tier: a number from 0, or `null` for unlimited;
/// a limit left out stays as it is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateTierRequest {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>, example = 5)]
    pub sessions: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>, example = 1000)]
    pub messages_per_hour: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>, example = 10000)]
    pub api_calls_per_hour: Option<Option<i64>>,
}

/// Tells a field sent as `null` from one left out.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(d).map(Some)
}

fn limit_value(
    kind: LimitKind,
    value: Option<Option<i64>>,
) -> Result<Option<Option<u32>>, ApiError> {
    match value {
        Some(Some(n)) => match u32::try_from(n) {
            Ok(n) if n <= MAX_LIMIT => Ok(Some(Some(n))),
            _ => Err(ApiError::validation(
                kind.as_str(),
                format!("must be null (unlimited) or a whole number from 0 to {MAX_LIMIT}"),
            )),
        },
        other => Ok(other.map(|_| None)),
    }
}

/// Change a tier's limits; they apply at once to every tenant in it.
#[utoipa::path(patch, path = "/api/v1/admin/tiers/{name}", tag = "tiers",
    params(("name" = String, Path, description = "Tier name, e.g. basic")),
    request_body = UpdateTierRequest,
    responses((status = 200, body = TierView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
#[tracing::instrument(skip_all, fields(tier = %name), err)]
pub async fn update_tier(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<UpdateTierRequest>,
) -> Result<Json<TierView>, ApiError> {
    caller.require_admin()?;
    let not_found = || ApiError::NotFound(format!("Tier '{name}' not found"));
    let tier = TierName::parse(&name).map_err(|_| not_found())?;
    let change = TierChange {
        sessions: limit_value(LimitKind::Sessions, req.sessions)?,
        messages_per_hour: limit_value(LimitKind::MessagesPerHour, req.messages_per_hour)?,
        api_calls_per_hour: limit_value(LimitKind::ApiCallsPerHour, req.api_calls_per_hour)?,
    };
    let updated = state.store.update_tier(&tier, &change).await?;
    state.limits.tiers_changed();
    Ok(Json(updated.ok_or_else(not_found)?.into()))
}

/// Sessions a tenant has, against its tier's limit.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionUsage {
    pub used: u64,
    /// `null`: unlimited.
    pub max: Option<u32>,
}

/// Messages or API calls in the last hour, against the tier's limit.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HourlyUsage {
    pub used: u64,
    /// `null`: unlimited.
    pub max: Option<u32>,
    /// When the oldest one counted stops counting and frees a slot;
    /// `null` when none is counted.
    #[schema(example = "2025-01-01T12:34:00.000Z")]
    pub frees_at: Option<String>,
}

/// A tenant's tier and what it has used of it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageView {
    pub tenant_id: i64,
    pub tenant: String,
    #[schema(example = "basic")]
    pub tier: String,
    pub sessions: SessionUsage,
    pub messages_per_hour: HourlyUsage,
    pub api_calls_per_hour: HourlyUsage,
}

fn rfc3339_ms(at_ms: i64) -> Option<String> {
    DateTime::from_timestamp_millis(at_ms).map(crate::views::rfc3339)
}

/// A tenant's tier, limits and usage: its sessions, and its messages
/// and API calls in the sliding hour (this request included).
#[utoipa::path(get, path = "/api/v1/tenants/{id}/usage", tag = "tiers",
    params(("id" = i64, Path, description = "Tenant id")),
    responses((status = 200, body = UsageView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn tenant_usage(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<UsageView>, ApiError> {
    caller.require_tenant_or_admin()?;
    caller.tenant_filter(Some(id))?;
    let tenant = TenantId(id);
    let tier = state
        .store
        .tenant_tier(tenant)
        .await?
        .ok_or_else(|| tenant_not_found(id))?;
    let sessions = state.store.session_count(tenant).await?;
    let hourly = |kind| {
        let (used, frees_at) = state.limits.hourly(kind, tenant);
        HourlyUsage {
            used,
            max: tier.tier.limits.get(kind),
            frees_at: frees_at.and_then(rfc3339_ms),
        }
    };
    Ok(Json(UsageView {
        tenant_id: id,
        tenant: tier.tenant_name.clone(),
        tier: tier.tier.name.as_str().to_string(),
        sessions: SessionUsage {
            used: sessions,
            max: tier.tier.limits.sessions,
        },
        messages_per_hour: hourly(LimitKind::MessagesPerHour),
        api_calls_per_hour: hourly(LimitKind::ApiCallsPerHour),
    }))
}
