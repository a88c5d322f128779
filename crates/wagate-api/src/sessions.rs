//! Creating, listing, reading and deleting sessions.

use crate::AppState;
use crate::auth::{Caller, TenantQuery, tenant_not_found};
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;
use crate::views::SessionView;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wagate_core::keys::tail;
use wagate_core::{ApiKeyScope, CoreError, KeyDigest, NewApiKey, SessionId, SessionKey, TenantId};
use wagate_store::domain::{NewApiKeyRecord, NewSession};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/sessions", get(list_sessions).post(create_session))
        .route(
            "/api/v1/sessions/{id}",
            get(get_session).delete(delete_session),
        )
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateSessionRequest {
    /// `[A-Za-z0-9_-]{1,64}`, unique in the tenant; generated when absent.
    #[schema(example = "my-session-01")]
    pub session_id: Option<String>,
    #[schema(example = "Client ABC Company")]
    pub name: Option<String>,
    /// URL that receives this session's events.
    #[schema(example = "https://client-abc.example/whatsapp-webhook")]
    pub webhook: Option<String>,
    /// Admin keys only: the tenant to create the session in (default: the
    /// default tenant).
    pub tenant_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedSession {
    pub session: SessionView,
    /// A new key scoped to this session. Shown only in this response.
    #[schema(example = "wgk_3f9a...")]
    pub api_key: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    pub sessions: Vec<SessionView>,
}

pub(crate) fn validate_name(name: Option<String>) -> Result<Option<String>, ApiError> {
    match name.map(|n| n.trim().to_string()) {
        Some(n) if n.chars().count() > 128 => Err(ApiError::validation(
            "name",
            "must be at most 128 characters",
        )),
        Some(n) if n.is_empty() => Ok(None),
        other => Ok(other),
    }
}

fn validate_webhook(url: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(url) = url.map(|u| u.trim().to_string()) else {
        return Ok(None);
    };
    let has_host = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
    if !has_host || url.len() > 2048 || url.chars().any(char::is_whitespace) {
        return Err(ApiError::validation(
            "webhook",
            "must be an http:// or https:// URL of at most 2048 characters",
        ));
    }
    Ok(Some(url))
}

/// The tenant a new session goes to: the caller's own, or for an admin the
/// one asked for (checked to exist) or else the default tenant.
pub(crate) async fn target_tenant(
    state: &AppState,
    caller: &Caller,
    asked: Option<i64>,
) -> Result<TenantId, ApiError> {
    if let Some(tenant) = caller.tenant_filter(asked)? {
        if caller.is_admin() && state.store.tenant(tenant).await?.is_none() {
            return Err(tenant_not_found(tenant.0));
        }
        return Ok(tenant);
    }
    Ok(state.store.default_tenant().await?.id)
}

/// Create a session, get its session key, and start linking it.
#[utoipa::path(post, path = "/api/v1/sessions", tag = "sessions",
    request_body = CreateSessionRequest,
    responses(
        (status = 201, description = "Created; the session starts connecting", body = CreatedSession),
        (status = 400, description = "Invalid field", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "Unknown tenant", body = ErrorBody),
        (status = 409, description = "Session id taken", body = ErrorBody),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
#[tracing::instrument(skip_all, fields(session_id))]
pub async fn create_session(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateSessionRequest>,
) -> Result<(StatusCode, Json<CreatedSession>), ApiError> {
    caller.require_tenant_or_admin()?;
    let session = match req.session_id.as_deref() {
        Some(raw) => SessionId::parse(raw)?,
        None => SessionId::generate(),
    };
    tracing::Span::current().record("session_id", session.as_str());
    let new = NewSession {
        key: SessionKey {
            tenant: target_tenant(&state, &caller, req.tenant_id).await?,
            session,
        },
        name: validate_name(req.name)?,
        webhook_url: validate_webhook(req.webhook)?,
    };
    let (record, secret) = open_session(&state, &new, SessionSecret::Generate).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedSession {
            session: record.into(),
            api_key: secret.unwrap_or_default(),
        }),
    ))
}

/// List the sessions the key may see.
/// The secret of a new session's own API key.
pub enum SessionSecret {
    /// A fresh `wgk_…` key.
    Generate,
    /// The caller's own secret (a profile whose clients choose their key).
    Given(String),
    /// No session key: the caller reaches the session with its tenant key.
    None,
}

/// Creates a session with its key, in one transaction, and starts it
/// connecting: the one creation path of every API shape. Answers the
/// stored session and the key's secret, if one was made.
pub(crate) async fn open_session(
    state: &AppState,
    new: &NewSession,
    secret: SessionSecret,
) -> Result<(wagate_store::domain::SessionRecord, Option<String>), ApiError> {
    let secret = match secret {
        SessionSecret::Generate => Some(NewApiKey::generate().secret),
        SessionSecret::Given(secret) => Some(secret),
        SessionSecret::None => None,
    };
    let key = secret.as_ref().map(|secret| NewApiKeyRecord {
        tenant: new.key.tenant,
        scope: ApiKeyScope::Session,
        session: Some(new.key.session.clone()),
        digest: KeyDigest::of(secret),
        tail: tail(secret),
        name: Some(format!("session {}", new.key.session)),
    });
    state
        .store
        .create_session_with_key(new, key.as_ref())
        .await?;
    // The session exists and its key must reach the caller even when the
    // engine cannot start it now; `connect` can be retried later.
    if let Err(err) = state.control.connect(&new.key).await {
        tracing::warn!(%err, "new session could not be started");
    }
    let record = state
        .store
        .session(&new.key)
        .await?
        .ok_or_else(|| ApiError::session_not_found(&new.key.session))?;
    Ok((record, secret))
}

#[utoipa::path(get, path = "/api/v1/sessions", tag = "sessions", params(TenantQuery),
    responses((status = 200, body = SessionList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn list_sessions(
    State(state): State<AppState>,
    caller: Caller,
    query: TenantQuery,
) -> Result<Json<SessionList>, ApiError> {
    let tenant = caller.tenant_filter(query.tenant_id)?;
    let sessions = state
        .store
        .sessions(tenant)
        .await?
        .into_iter()
        .filter(|s| {
            caller
                .session
                .as_ref()
                .is_none_or(|own| *own == s.key.session)
        })
        .map(SessionView::from)
        .collect();
    Ok(Json(SessionList { sessions }))
}

/// A session's status, QR code, pair code and phone number.
#[utoipa::path(get, path = "/api/v1/sessions/{id}", tag = "sessions",
    params(("id" = String, Path, description = "Session id"), TenantQuery),
    responses((status = 200, body = SessionView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn get_session(
    State(state): State<AppState>,
    caller: Caller,
    query: TenantQuery,
    Path(id): Path<String>,
) -> Result<Json<SessionView>, ApiError> {
    let record = caller.session(&state, &id, query.tenant_id).await?;
    Ok(Json(record.into()))
}

/// Stop the session, forget its WhatsApp credentials, delete it and
/// revoke its session keys.
#[utoipa::path(delete, path = "/api/v1/sessions/{id}", tag = "sessions",
    params(("id" = String, Path, description = "Session id"), TenantQuery),
    responses((status = 204, description = "Deleted"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, description = "Engine cannot stop the session now", body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
#[tracing::instrument(skip_all, fields(session_id = %id))]
pub async fn delete_session(
    State(state): State<AppState>,
    caller: Caller,
    query: TenantQuery,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let record = caller.session(&state, &id, query.tenant_id).await?;
    close_session(&state, &record).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stops the session in the engine, then deletes it and revokes its keys:
/// the one deletion path of every API shape.
pub(crate) async fn close_session(
    state: &AppState,
    record: &wagate_store::domain::SessionRecord,
) -> Result<(), ApiError> {
    match state.control.remove(&record.key).await {
        // The engine never ran this session: nothing to stop or forget.
        Ok(()) | Err(CoreError::NotFound(_)) => {}
        Err(err) => return Err(err.into()),
    }
    if !state.store.delete_session(&record.key).await? {
        return Err(ApiError::session_not_found(&record.key.session));
    }
    Ok(())
}
