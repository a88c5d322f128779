//! `POST /sessions/init`, `GET /sessions/:sessionId` and
//! `DELETE /sessions/:sessionId`: the native session store, engine and
//! creation path, answered in the document's shapes.

use super::error::Seed003Error;
use super::extract::{Seed003Caller, Seed003Json, SessionParam};
use super::input;
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::profiles::settled;
use crate::sessions::{SessionSecret, close_session, open_session};
use crate::views::qr_data_url;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::Duration;
use wagate_core::{ApiKeyScope, SessionId, SessionKey, SessionStatus};
use wagate_store::domain::{NewSession, SessionRecord};

/// How long init waits for a QR (or the connection) before it answers
/// `connecting`; the client then polls `GET /sessions/:sessionId`.
const INIT_WAIT: Duration = Duration::from_secs(12);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitRequest {
    session_id: Option<Value>,
}

/// `InitSessionResponse`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionState {
    session_id: String,
    /// `disconnected`, `connecting`, `qr` or `connected`.
    status: &'static str,
    /// A `data:image/png;base64,` URL while the status is `qr`.
    qr_code: Option<String>,
}

/// `SessionInfo`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    #[serde(flatten)]
    state: SessionState,
    last_connected: Option<String>,
}

impl From<&SessionRecord> for SessionState {
    fn from(record: &SessionRecord) -> Self {
        // The document has no `logged_out`: such a session is simply not
        // connected, and init links it anew.
        let status = match record.status {
            SessionStatus::LoggedOut => SessionStatus::Disconnected,
            other => other,
        };
        let qr_code = match status {
            SessionStatus::Qr => record.qr.as_deref().and_then(qr_data_url),
            _ => None,
        };
        SessionState {
            session_id: record.key.session.to_string(),
            status: status.as_str(),
            qr_code,
        }
    }
}

impl From<&SessionRecord> for SessionInfo {
    fn from(record: &SessionRecord) -> Self {
        SessionInfo {
            state: record.into(),
            last_connected: record.last_connected.map(crate::views::rfc3339),
        }
    }
}

/// Creates the session if the caller's tenant has none of that id, else
/// reconnects it if it is not connected; answers once it shows a QR or
/// is connected (or [`INIT_WAIT`] passed).
#[tracing::instrument(skip_all, fields(session_id))]
pub async fn init(
    State(state): State<AppState>,
    Seed003Caller(caller): Seed003Caller,
    Seed003Json(req): Seed003Json<InitRequest>,
) -> Result<Json<SessionState>, Seed003Error> {
    let id = input::session_id(req.session_id.as_ref())?;
    tracing::Span::current().record("session_id", id.as_str());
    let key = match caller.session(&state, id.as_str(), None).await {
        Ok(record) => reconnect(&state, &record).await?,
        // A session key reaches its own session only: any other is
        // "not found", never created.
        Err(ApiError::NotFound(_)) if caller.scope != ApiKeyScope::Session => {
            create(&state, &caller, id).await?
        }
        Err(err) => return Err(err.into()),
    };
    let record = settled(&state, &key, INIT_WAIT).await?;
    Ok(Json((&record).into()))
}

/// A new session in the caller's tenant (an admin's: the default one),
/// through the one creation path; the engine starts linking it.
async fn create(state: &AppState, caller: &Caller, id: SessionId) -> Result<SessionKey, ApiError> {
    let tenant = match caller.tenant_filter(None)? {
        Some(tenant) => tenant,
        None => state.store.default_tenant().await?.id,
    };
    let new = NewSession {
        key: SessionKey {
            tenant,
            session: id,
        },
        name: None,
        webhook_url: None,
    };
    match open_session(state, &new, SessionSecret::None).await {
        Ok((record, _)) => Ok(record.key),
        // Another init of the same id won the race: carry on with it.
        Err(ApiError::Conflict(_)) => {
            let record = caller
                .session(state, new.key.session.as_str(), None)
                .await?;
            reconnect(state, &record).await
        }
        Err(err) => Err(err),
    }
}

/// Starts a session the engine is not working on. One that is connected,
/// connecting or showing a QR is left alone, so a QR already on a screen
/// stays valid; a logged-out one starts over with a new QR.
async fn reconnect(state: &AppState, record: &SessionRecord) -> Result<SessionKey, ApiError> {
    match record.status {
        SessionStatus::Connected | SessionStatus::Connecting | SessionStatus::Qr => {}
        SessionStatus::Disconnected | SessionStatus::LoggedOut => {
            state.control.connect(&record.key).await?;
        }
    }
    Ok(record.key.clone())
}

/// `GET /sessions/:sessionId`.
pub async fn get_session(
    State(state): State<AppState>,
    Seed003Caller(caller): Seed003Caller,
    SessionParam(id): SessionParam,
) -> Result<Json<SessionInfo>, Seed003Error> {
    read(&state, &caller, &id).await
}

/// `GET /sessions/init`: the session named `init`, as a router that
/// matches `/sessions/:sessionId` after `/sessions/init` would find it.
pub async fn get_session_named_init(
    State(state): State<AppState>,
    Seed003Caller(caller): Seed003Caller,
) -> Result<Json<SessionInfo>, Seed003Error> {
    read(&state, &caller, &named_init()).await
}

async fn read(
    state: &AppState,
    caller: &Caller,
    id: &SessionId,
) -> Result<Json<SessionInfo>, Seed003Error> {
    let record = caller.session(state, id.as_str(), None).await?;
    Ok(Json((&record).into()))
}

/// `DELETE /sessions/:sessionId`: logs the device out of WhatsApp, forgets
/// its credentials, deletes the session and revokes its keys.
#[tracing::instrument(skip_all, fields(session_id = %id))]
pub async fn delete_session(
    State(state): State<AppState>,
    Seed003Caller(caller): Seed003Caller,
    SessionParam(id): SessionParam,
) -> Result<Json<Value>, Seed003Error> {
    remove(&state, &caller, &id).await
}

/// `DELETE /sessions/init`, as [`get_session_named_init`].
pub async fn delete_session_named_init(
    State(state): State<AppState>,
    Seed003Caller(caller): Seed003Caller,
) -> Result<Json<Value>, Seed003Error> {
    remove(&state, &caller, &named_init()).await
}

async fn remove(
    state: &AppState,
    caller: &Caller,
    id: &SessionId,
) -> Result<Json<Value>, Seed003Error> {
    let record = caller.session(state, id.as_str(), None).await?;
    // The engine unlinks a logged-in device from the phone before it stops
    // the session and deletes its WhatsApp state.
    close_session(state, &record).await?;
    Ok(Json(json!({
        "success": true,
        "message": format!("Session '{id}' deleted successfully"),
    })))
}

fn named_init() -> SessionId {
    SessionId::parse("init").expect("'init' is a valid session id")
}
