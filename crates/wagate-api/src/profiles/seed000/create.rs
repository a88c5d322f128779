//! `POST /api/v1/gateway/sessions`: a session with the caller's chosen
//! key and webhook, answered with its first QR code.

use super::express::{ExpressError, JsonBody, Key};
use crate::AppState;
use crate::error::ApiError;
use crate::profiles::settled;
use crate::sessions::{SessionSecret, open_session, target_tenant, validate_name};
use crate::webhooks::session_endpoint;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;
use wagate_core::{SessionId, SessionKey, SessionStatus, WebhookShape};
use wagate_store::domain::NewSession;
use wagate_store::events::Endpoint;

/// How long creation waits for the first QR code; clients of this API
/// expect it in the answer, and ask `/qr` when it is null.
const FIRST_QR_WAIT: Duration = Duration::from_secs(12);

/// Shortest session key a caller may choose: the key is the only secret
/// guarding the session's routes.
const MIN_KEY_CHARS: usize = 16;
const MAX_KEY_CHARS: usize = 256;

/// Session ids that are paths of this API: `/api/v1/gateway/sessions`
/// could not be deleted, nor `sessions/…` addressed.
const RESERVED_IDS: &[&str] = &["sessions"];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRequest {
    /// Generated when absent.
    session_id: Option<String>,
    name: Option<String>,
    /// The session's own key; generated when absent.
    api_key: Option<String>,
    /// Receives the session's events in the seed 000 shapes.
    webhook: Option<String>,
    /// Admin keys only, as in the native API.
    tenant_id: Option<i64>,
}

fn session_id(raw: Option<&str>) -> Result<SessionId, ApiError> {
    let id = match raw {
        Some(raw) => SessionId::parse(raw)?,
        None => SessionId::generate(),
    };
    if RESERVED_IDS.contains(&id.as_str()) {
        return Err(ApiError::validation(
            "sessionId",
            format!("'{id}' is reserved: /api/v1/gateway/{id} is a path of this API"),
        ));
    }
    Ok(id)
}

fn session_secret(given: Option<String>) -> Result<SessionSecret, ApiError> {
    let Some(key) = given else {
        return Ok(SessionSecret::Generate);
    };
    let chars = key.chars().count();
    if chars < MIN_KEY_CHARS {
        return Err(ApiError::validation(
            "apiKey",
            format!(
                "must be at least {MIN_KEY_CHARS} characters (got {chars}); leave it out to get a generated key"
            ),
        ));
    }
    // It travels in a header: visible ASCII only, nothing to trim.
    if chars > MAX_KEY_CHARS || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::validation(
            "apiKey",
            format!("must be at most {MAX_KEY_CHARS} visible ASCII characters, without spaces"),
        ));
    }
    Ok(SessionSecret::Given(key))
}

/// The webhook's URL errors name the field the client sent.
fn as_webhook_field(err: ApiError) -> ApiError {
    match err {
        ApiError::Validation { message, .. } => ApiError::validation("webhook", message),
        ApiError::UnprocessableField { message, .. } => ApiError::UnprocessableField {
            field: "webhook".into(),
            message,
        },
        other => other,
    }
}

#[tracing::instrument(skip_all, fields(session_id))]
pub async fn create_session(
    State(state): State<AppState>,
    Key(caller): Key,
    JsonBody(req): JsonBody<CreateRequest>,
) -> Result<Json<Value>, ExpressError> {
    caller.require_tenant_or_admin()?;
    // Everything is checked before anything is written, so a bad field
    // leaves no session, key or endpoint behind.
    let session = session_id(req.session_id.as_deref())?;
    tracing::Span::current().record("session_id", session.as_str());
    let secret = session_secret(req.api_key)?;
    let generated = matches!(secret, SessionSecret::Generate);
    let name = validate_name(req.name)?;
    let key = SessionKey {
        tenant: target_tenant(&state, &caller, req.tenant_id).await?,
        session,
    };
    // An empty URL is how some clients say "none".
    let webhook = req
        .webhook
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty());
    let hook = match webhook {
        Some(url) => Some(
            session_endpoint(
                &state,
                key.tenant,
                key.session.clone(),
                url,
                WebhookShape::Maytapi,
            )
            .map_err(as_webhook_field)?,
        ),
        None => None,
    };
    // The endpoint must exist before the session starts, or its first
    // `qr_code` event would have nowhere to go; and it must not attach
    // to a session that is already there. (A creation of the same id
    // racing this one can still win; this endpoint is then removed.)
    if state.store.session(&key).await?.is_some() {
        return Err(ApiError::Conflict(format!("Session '{}' already exists", key.session)).into());
    }
    let new = NewSession {
        key,
        name,
        webhook_url: hook.as_ref().map(|h| h.url.clone()),
    };
    let endpoint = match hook {
        Some(hook) => Some(state.events.create_endpoint(hook).await?),
        None => None,
    };
    let (record, secret) = match open_session(&state, &new, secret).await {
        Ok(opened) => opened,
        Err(err) => {
            forget(&state, endpoint.as_ref()).await;
            return Err(err.into());
        }
    };
    let record = settled(&state, &record.key, FIRST_QR_WAIT).await?;
    let qr = record.qr.filter(|_| record.status == SessionStatus::Qr);
    let mut answer = json!({
        "success": true,
        "sessionId": record.key.session.as_str(),
        "qrCode": qr,
        "message": "Session created successfully",
    });
    // Shown only here, like every secret the gateway makes.
    if generated {
        answer["apiKey"] = json!(secret);
    }
    if let Some(endpoint) = endpoint {
        answer["webhookSecret"] = json!(endpoint.secret);
    }
    Ok(Json(answer))
}

/// Removes the endpoint made for a session that could not be created.
async fn forget(state: &AppState, endpoint: Option<&Endpoint>) {
    let Some(endpoint) = endpoint else { return };
    if let Err(err) = state
        .events
        .delete_endpoint(endpoint.tenant, &endpoint.id)
        .await
    {
        tracing::error!(%err, endpoint = %endpoint.id, "endpoint of a failed session creation left behind");
    }
}
