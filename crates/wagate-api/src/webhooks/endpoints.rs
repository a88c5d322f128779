//! Creating, listing, reading, changing and deleting endpoints.

use super::{fields, find_endpoint, new_endpoint_id, tenant_of, view::EndpointView, visible};
use crate::AppState;
use crate::auth::{Caller, TenantQuery};
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use wagate_store::events::{EndpointPatch, NewEndpoint};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateEndpointRequest {
    /// An http(s) URL on a public address (or one the operator allows).
    #[schema(example = "https://client.example/whatsapp-events")]
    pub url: String,
    /// Event types to send; `["*"]` (the default) for all, including
    /// types added later.
    #[schema(example = json!(["*"]))]
    pub events: Option<Vec<String>>,
    /// Only this session's events; null or absent for every session of
    /// the tenant (a session key always means its own session).
    pub session_id: Option<String>,
    /// `whsec_` and the base64 of 24-64 bytes; generated when absent.
    pub secret: Option<String>,
    /// Extra headers for each delivery, e.g. an `Authorization` token.
    #[schema(example = json!({"Authorization": "Bearer 3f9a..."}))]
    pub headers: Option<BTreeMap<String, String>>,
    /// `native` (default), `seed000` or `seed003`.
    #[schema(example = "native")]
    pub shape: Option<String>,
    /// Default true.
    pub enabled: Option<bool>,
}

/// Fields to change; absent ones keep their value. `headers` replaces the
/// whole set.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateEndpointRequest {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub secret: Option<String>,
    pub headers: Option<BTreeMap<String, String>>,
    pub shape: Option<String>,
    /// `true` re-enables an endpoint the gateway disabled and clears its
    /// failure record.
    pub enabled: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointList {
    pub items: Vec<EndpointView>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListEndpointsQuery {
    /// Admin keys only: the tenant to act in (default: the key's own).
    pub tenant_id: Option<i64>,
    /// Only endpoints that get this session's events (its own and the
    /// tenant-wide ones).
    pub session_id: Option<String>,
}

/// Adds an endpoint for all the tenant's sessions or for one.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks",
    params(TenantQuery),
    request_body = CreateEndpointRequest,
    responses(
        (status = 201, description = "Created; the secret is shown in full only here", body = EndpointView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "Unknown session", body = ErrorBody),
        (status = 422, description = "The URL's address is refused", body = ErrorBody),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
#[tracing::instrument(skip_all, fields(endpoint_id))]
pub async fn create_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    query: TenantQuery,
    ApiJson(req): ApiJson<CreateEndpointRequest>,
) -> Result<(StatusCode, Json<EndpointView>), ApiError> {
    let session = req
        .session_id
        .clone()
        .or_else(|| caller.session.as_ref().map(|s| s.to_string()));
    create(&state, &caller, query.tenant_id, session, req).await
}

/// Adds an endpoint for this session's events.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/webhooks", tag = "webhooks",
    params(("id" = String, Path, description = "Session id"), TenantQuery),
    request_body = CreateEndpointRequest,
    responses(
        (status = 201, description = "Created; the secret is shown in full only here", body = EndpointView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "The URL's address is refused", body = ErrorBody),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
#[tracing::instrument(skip_all, fields(session_id = %id, endpoint_id))]
pub async fn create_session_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    query: TenantQuery,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<CreateEndpointRequest>,
) -> Result<(StatusCode, Json<EndpointView>), ApiError> {
    if req.session_id.as_ref().is_some_and(|s| *s != id) {
        return Err(ApiError::validation(
            "sessionId",
            "must be left out or match the session in the path",
        ));
    }
    create(&state, &caller, query.tenant_id, Some(id), req).await
}

async fn create(
    state: &AppState,
    caller: &Caller,
    tenant_id: Option<i64>,
    session: Option<String>,
    req: CreateEndpointRequest,
) -> Result<(StatusCode, Json<EndpointView>), ApiError> {
    let tenant = tenant_of(caller, tenant_id)?;
    let session = match session {
        Some(raw) => Some(
            caller
                .session(state, &raw, Some(tenant.0))
                .await?
                .key
                .session,
        ),
        None => None,
    };
    let new = NewEndpoint {
        id: new_endpoint_id(),
        tenant,
        session,
        url: fields::url(&req.url, &state.webhook_policy)?,
        events: fields::events(req.events.as_deref().unwrap_or(&["*".to_string()]))?,
        secret: match &req.secret {
            Some(raw) => fields::secret(raw)?,
            None => wagate_net::webhook::WebhookSecret::generate().expose(),
        },
        headers: fields::headers(req.headers.unwrap_or_default())?,
        shape: fields::shape(req.shape.as_deref().unwrap_or("native"))?,
    };
    tracing::Span::current().record("endpoint_id", &new.id);
    let mut endpoint = state.events.create_endpoint(new).await?;
    if req.enabled == Some(false) {
        let patch = EndpointPatch {
            enabled: Some(false),
            ..EndpointPatch::default()
        };
        endpoint = state
            .events
            .update_endpoint(tenant, &endpoint.id, patch)
            .await?
            .ok_or_else(|| ApiError::Internal("endpoint vanished after insert".into()))?;
    }
    Ok((
        StatusCode::CREATED,
        Json(EndpointView::with_secret(endpoint)),
    ))
}

/// The tenant's endpoints, oldest first.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks",
    params(ListEndpointsQuery),
    responses((status = 200, body = EndpointList),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn list_endpoints(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ListEndpointsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<EndpointList>, ApiError> {
    let Query(q) =
        query.map_err(|e| ApiError::BadRequest(format!("Invalid query: {}", e.body_text())))?;
    let tenant = tenant_of(&caller, q.tenant_id)?;
    let session = match &q.session_id {
        Some(raw) => Some(
            caller
                .session(&state, raw, Some(tenant.0))
                .await?
                .key
                .session,
        ),
        None => None,
    };
    let items = state
        .events
        .endpoints(tenant, session.as_ref())
        .await?
        .into_iter()
        .filter(|e| visible(&caller, e))
        .map(EndpointView::masked)
        .collect();
    Ok(Json(EndpointList { items }))
}

/// One endpoint, its secret and header values masked.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "Endpoint id"), TenantQuery),
    responses((status = 200, body = EndpointView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn get_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    query: TenantQuery,
    Path(id): Path<String>,
) -> Result<Json<EndpointView>, ApiError> {
    let endpoint = find_endpoint(&state, &caller, query.tenant_id, &id).await?;
    Ok(Json(EndpointView::masked(endpoint)))
}

/// Changes an endpoint; `enabled: true` re-enables a disabled one.
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "Endpoint id"), TenantQuery),
    request_body = UpdateEndpointRequest,
    responses((status = 200, body = EndpointView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "The URL's address is refused", body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
#[tracing::instrument(skip_all, fields(endpoint_id = %id))]
pub async fn update_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    query: TenantQuery,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateEndpointRequest>,
) -> Result<Json<EndpointView>, ApiError> {
    let endpoint = find_endpoint(&state, &caller, query.tenant_id, &id).await?;
    let patch = EndpointPatch {
        url: req
            .url
            .map(|u| fields::url(&u, &state.webhook_policy))
            .transpose()?,
        events: req.events.map(|e| fields::events(&e)).transpose()?,
        secret: req.secret.map(|s| fields::secret(&s)).transpose()?,
        headers: req.headers.map(fields::headers).transpose()?,
        shape: req.shape.map(|s| fields::shape(&s)).transpose()?,
        enabled: req.enabled,
    };
    let updated = state
        .events
        .update_endpoint(endpoint.tenant, &endpoint.id, patch)
        .await?
        .ok_or_else(|| super::endpoint_not_found(&id))?;
    Ok(Json(EndpointView::masked(updated)))
}

/// Deletes an endpoint; its undelivered events are cancelled.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "Endpoint id"), TenantQuery),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
#[tracing::instrument(skip_all, fields(endpoint_id = %id))]
pub async fn delete_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    query: TenantQuery,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let endpoint = find_endpoint(&state, &caller, query.tenant_id, &id).await?;
    if !state
        .events
        .delete_endpoint(endpoint.tenant, &endpoint.id)
        .await?
    {
        return Err(super::endpoint_not_found(&id));
    }
    Ok(StatusCode::NO_CONTENT)
}
