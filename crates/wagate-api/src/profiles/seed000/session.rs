//! A session's status and QR code, deleting it, and the list of sessions.

use super::express::{ExpressError, Key, SessionPath, Tenant};
use crate::AppState;
use crate::profiles::settled;
use crate::sessions::close_session;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;
use wagate_core::keys::mask;
use wagate_core::{ApiKeyScope, SessionId, SessionKey, SessionStatus, TenantId};
use wagate_store::domain::SessionRecord;

/// How long `/qr` waits for a session that is still connecting to offer
/// one: clients call it right after creating a session.
const QR_WAIT: Duration = Duration::from_secs(5);

/// The QR code to scan, while one is on offer; an earlier state's QR is
/// no longer scannable.
fn scannable_qr(record: &SessionRecord) -> Option<&str> {
    record
        .qr
        .as_deref()
        .filter(|_| record.status == SessionStatus::Qr)
}

pub async fn session_status(
    State(state): State<AppState>,
    Key(caller): Key,
    Tenant(tenant): Tenant,
    SessionPath(id): SessionPath,
) -> Result<Json<Value>, ExpressError> {
    // A session the key cannot see is 404, so `exists` is always true.
    let record = caller.session(&state, &id, tenant).await?;
    Ok(Json(json!({
        "success": true,
        "data": {
            "exists": true,
            "connected": record.status == SessionStatus::Connected,
            "phoneNumber": record.phone,
            "qrCode": scannable_qr(&record),
        },
    })))
}

pub async fn session_qr(
    State(state): State<AppState>,
    Key(caller): Key,
    Tenant(tenant): Tenant,
    SessionPath(id): SessionPath,
) -> Result<Json<Value>, ExpressError> {
    let mut record = caller.session(&state, &id, tenant).await?;
    if matches!(
        record.status,
        SessionStatus::Connecting | SessionStatus::Disconnected
    ) {
        record = settled(&state, &record.key, QR_WAIT).await?;
    }
    let (qr, message) = match (record.status, scannable_qr(&record)) {
        (SessionStatus::Qr, Some(qr)) => (Some(qr), "Scan this QR code with WhatsApp"),
        (SessionStatus::Connected, _) => (None, "Session is already connected: no QR code to scan"),
        (SessionStatus::LoggedOut, _) => (
            None,
            "Session is logged out: delete it and create it again to link a phone",
        ),
        _ => (
            None,
            "No QR code yet: the session is still connecting; ask again in a few seconds",
        ),
    };
    Ok(Json(json!({
        "success": true,
        "data": {"qrCode": qr, "message": message},
    })))
}

#[tracing::instrument(skip_all, fields(session_id = %id))]
pub async fn delete_session(
    State(state): State<AppState>,
    Key(caller): Key,
    Tenant(tenant): Tenant,
    SessionPath(id): SessionPath,
) -> Result<Json<Value>, ExpressError> {
    let record = caller.session(&state, &id, tenant).await?;
    close_session(&state, &record).await?;
    drop_session_endpoints(&state, &record.key).await?;
    Ok(Json(json!({"success": true, "message": "Session deleted"})))
}

/// The webhook given with a session belongs to it: left in place, it
/// would receive the events of a later session of the same id.
async fn drop_session_endpoints(state: &AppState, key: &SessionKey) -> Result<(), ExpressError> {
    let endpoints = state
        .events
        .endpoints(key.tenant, Some(&key.session))
        .await?;
    for endpoint in endpoints
        .iter()
        .filter(|e| e.session.as_ref() == Some(&key.session))
    {
        state
            .events
            .delete_endpoint(key.tenant, &endpoint.id)
            .await?;
    }
    Ok(())
}

pub async fn list_sessions(
    State(state): State<AppState>,
    Key(caller): Key,
    Tenant(tenant): Tenant,
) -> Result<Json<Value>, ExpressError> {
    caller.require_tenant_or_admin()?;
    let tenant = caller.tenant_filter(tenant)?;
    let sessions = state.store.sessions(tenant).await?;
    // Each session's newest usable key, by its last four characters.
    let mut tails: HashMap<(TenantId, SessionId), String> = HashMap::new();
    for key in state.store.api_keys(tenant).await? {
        if let (ApiKeyScope::Session, Some(session), false) =
            (key.scope, key.session.clone(), key.is_revoked())
        {
            tails.insert((key.tenant, session), key.tail);
        }
    }
    let data: Vec<Value> = sessions
        .into_iter()
        .map(|s| {
            let tail = tails.get(&(s.key.tenant, s.key.session.clone()));
            json!({
                "sessionId": s.key.session.as_str(),
                "name": s.name,
                "phoneNumber": s.phone,
                "apiKey": tail.map(|t| mask(t)),
                "isActive": s.status == SessionStatus::Connected,
            })
        })
        .collect();
    Ok(Json(json!({"success": true, "data": data})))
}
