//! Files of received messages, at the URL their `message.received` event
//! names: `GET /api/v1/media/{eventId}`. Any key of the event's tenant
//! may fetch it (a session key: its own session's only); everyone else is
//! told it does not exist.

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/media/{event_id}", get(media))
        .route("/media/{event_id}", get(public_media))
}

#[derive(serde::Deserialize)]
pub struct SignedLink {
    tenant: i64,
    expires: i64,
    sig: String,
}

/// The file of a received message, through the signed link its event
/// carries as `publicUrl`: no API key, but only until the link expires.
pub async fn public_media(
    State(state): State<AppState>,
    Path(event_id): Path<String>,
    link: Result<axum::extract::Query<SignedLink>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let refused = |why: &str| ApiError::Forbidden(format!("This media link is not valid: {why}"));
    let links = state
        .media_links
        .as_ref()
        .ok_or_else(|| refused("public media links are off"))?;
    let axum::extract::Query(link) = link.map_err(|_| refused("it is not signed"))?;
    links
        .verify(
            link.tenant,
            &event_id,
            link.expires,
            &link.sig,
            chrono::Utc::now().timestamp(),
        )
        .map_err(|e| refused(&e.to_string()))?;
    let missing = || ApiError::NotFound(format!("No media for event '{event_id}'"));
    let event = state
        .events
        .event_by_id(wagate_core::TenantId(link.tenant), &event_id)
        .await?
        .ok_or_else(missing)?;
    serve(&state, &event_id, &event.data).await
}

/// The file of a received message.
#[utoipa::path(
    get,
    path = "/api/v1/media/{event_id}",
    tag = "webhooks",
    params(("event_id" = String, Path, description = "The `message.received` event's id")),
    responses(
        (status = 200, description = "The file, with the sender's content type"),
        (status = 404, body = ErrorBody, description = "No such event, no file, or the download failed"),
        (status = 409, body = ErrorBody, description = "Still downloading"),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn media(
    State(state): State<AppState>,
    caller: Caller,
    Path(event_id): Path<String>,
) -> Result<Response, ApiError> {
    let missing = || ApiError::NotFound(format!("No media for event '{event_id}'"));
    let event = state
        .events
        .event_by_id(caller.tenant, &event_id)
        .await?
        .filter(|e| {
            caller
                .session
                .as_ref()
                .is_none_or(|own| *own == e.key.session)
        })
        .ok_or_else(missing)?;
    serve(&state, &event_id, &event.data).await
}

/// The event's file, or why there is none yet.
async fn serve(
    state: &AppState,
    event_id: &str,
    data: &serde_json::Value,
) -> Result<Response, ApiError> {
    let missing = || ApiError::NotFound(format!("No media for event '{event_id}'"));
    let media = data.get("media").ok_or_else(missing)?;
    match media["status"].as_str() {
        Some("stored") => {}
        Some("pending") => {
            return Err(ApiError::Conflict(
                "The file is still being downloaded from WhatsApp; try again shortly".into(),
            ));
        }
        _ => {
            let why = media["error"].as_str().unwrap_or("the download failed");
            return Err(ApiError::NotFound(format!(
                "The file of event '{event_id}' could not be fetched: {why}"
            )));
        }
    }
    let sha = media["sha256"].as_str().ok_or_else(missing)?;
    // Streamed: a video need not sit whole in memory to be served.
    let bytes = state
        .outgoing
        .media
        .blobs
        .stream(sha)
        .await
        .map_err(|_| missing())?;
    let bytes = axum::body::Body::from_stream(bytes);
    let mimetype = media["mimetype"]
        .as_str()
        .unwrap_or("application/octet-stream")
        .to_string();
    let mut response = ([(CONTENT_TYPE, mimetype)], bytes).into_response();
    if let Some(name) = media["fileName"].as_str() {
        // Quotes and control characters would break the header.
        let safe: String = name
            .chars()
            .filter(|c| !c.is_control() && *c != '"' && *c != '\\')
            .collect();
        if let Ok(value) = format!("attachment; filename=\"{safe}\"").parse() {
            response.headers_mut().insert(CONTENT_DISPOSITION, value);
        }
    }
    Ok(response)
}
