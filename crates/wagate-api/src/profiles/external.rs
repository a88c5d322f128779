//! The external API of seed 001, a gateway platform's routes for API-key
//! integrations: `POST /api/v1/external/send` and
//! `GET /api/v1/external/session/:id/status`, authenticated by
//! `X-API-Key`. The document shows requests only; answers use its
//! Express envelope, `{"success": true, "data": …}`, and failures the
//! same `{"success": false, "error", "message"}` as the seed 000 profile.

use super::seed000::express::{
    BodyCap, ExpressError, Key, SessionPath, Tenant, no_route, wrong_method,
};
use crate::AppState;
use crate::error::ApiError;
use crate::messages::{SendMessageRequest, json_limit, queue_one};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};
use wagate_core::{Recipient, SessionStatus};

pub const PREFIX: &str = "/api/v1/external";

pub fn router() -> Router<AppState> {
    let routes = Router::new()
        // The body may carry base64 media up to the media limits, which
        // the handler applies (`read_body`).
        .route("/send", post(send).layer(DefaultBodyLimit::disable()))
        .route("/session/{id}/status", get(session_status))
        .method_not_allowed_fallback(wrong_method)
        .fallback(no_route);
    Router::new().nest(PREFIX, routes)
}

/// Whether the body is to be read as JSON. The document's first example
/// is `curl -d '{…}'` without a content type, which curl sends as
/// `application/x-www-form-urlencoded`; such a body is taken as JSON
/// when it is a JSON object, and refused as malformed otherwise.
fn json_like(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return true;
    };
    let essence = value
        .to_str()
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
        || essence == "application/x-www-form-urlencoded"
}

async fn read_body(
    state: &AppState,
    headers: &HeaderMap,
    request: Request,
) -> Result<Bytes, ApiError> {
    if !json_like(headers) {
        return Err(ApiError::UnsupportedMediaType(
            "Expected a JSON body with 'Content-Type: application/json'".into(),
        ));
    }
    let limit = json_limit(&state.outgoing.media.limits);
    let cap = BodyCap::default();
    let request = cap.apply(request, limit);
    Bytes::from_request(request, state).await.map_err(|_| {
        cap.explain(
            ApiError::BadRequest("Could not read the request body".into()),
            limit,
        )
    })
}

/// `sessionId` and a native send request: `type` (default `text`),
/// `to` as digits or a JID, and the type's fields (`message` or `text`
/// for a text).
fn split_request(bytes: &[u8]) -> Result<(String, SendMessageRequest), ApiError> {
    let mut fields: Map<String, Value> = crate::json::parse(bytes)?;
    let session = match fields.remove("sessionId") {
        Some(Value::String(id)) => id,
        Some(_) => return Err(ApiError::validation("sessionId", "must be a string")),
        None => return Err(ApiError::validation("sessionId", "is required")),
    };
    let rest = serde_json::to_vec(&Value::Object(fields))
        .map_err(|e| ApiError::Internal(format!("re-encoding a parsed body: {e}")))?;
    Ok((session, crate::json::parse(&rest)?))
}

#[tracing::instrument(skip_all, fields(session_id))]
pub async fn send(
    State(state): State<AppState>,
    Key(caller): Key,
    Tenant(tenant): Tenant,
    headers: HeaderMap,
    request: Request,
) -> Result<(StatusCode, Json<Value>), ExpressError> {
    let bytes = read_body(&state, &headers, request).await?;
    let (session, req) = split_request(&bytes)?;
    tracing::Span::current().record("session_id", session.as_str());
    let record = caller.session(&state, &session, tenant).await?;
    let to = Recipient::parse(&req.to)?.to_jid();
    let (status, body) = queue_one(&state, &record, &req, None, &headers).await?;
    Ok((
        status,
        Json(json!({
            "success": true,
            "data": {
                "messageId": body["id"],
                "status": body["status"],
                "sessionId": record.key.session.as_str(),
                "to": to,
            },
        })),
    ))
}

pub async fn session_status(
    State(state): State<AppState>,
    Key(caller): Key,
    Tenant(tenant): Tenant,
    SessionPath(id): SessionPath,
) -> Result<Json<Value>, ExpressError> {
    let record = caller.session(&state, &id, tenant).await?;
    let qr = record
        .qr
        .as_deref()
        .filter(|_| record.status == SessionStatus::Qr);
    Ok(Json(json!({
        "success": true,
        "data": {
            "sessionId": record.key.session.as_str(),
            "name": record.name,
            "status": record.status.as_str(),
            "connected": record.status == SessionStatus::Connected,
            "phoneNumber": record.phone,
            "qrCode": qr,
            "lastConnected": record
                .last_connected
                .map(crate::views::rfc3339),
        },
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_is_taken_out_and_the_rest_is_a_send_request() {
        let body = br#"{"sessionId":"s1","to":"6281234567890@s.whatsapp.net","type":"text","message":"Hi"}"#;
        let (session, req) = split_request(body).unwrap();
        assert_eq!(session, "s1");
        assert_eq!(req.kind_name(), "text");
        assert_eq!(req.message.as_deref(), Some("Hi"));
        let missing = split_request(br#"{"to":"1234567","message":"x"}"#).unwrap_err();
        assert!(matches!(missing, ApiError::Validation { ref field, .. } if field == "sessionId"));
        let unknown = split_request(br#"{"sessionId":"s","to":"1234567","colour":"x"}"#);
        assert!(unknown.is_err());
        assert!(matches!(
            split_request(b"[1]"),
            Err(ApiError::BadRequest(_))
        ));
    }
}
