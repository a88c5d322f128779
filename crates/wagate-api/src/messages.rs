//! Sending messages through a session.

use crate::AppState;
use crate::auth::{Caller, TenantQuery};
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;
use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wagate_core::Recipient;

/// WhatsApp's practical limit for one text, as the seed gateways enforce.
pub const MAX_TEXT_CHARS: usize = 4096;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/sessions/{id}/messages", post(send_message))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SendMessageRequest {
    /// Phone number with country code (`+` and separators allowed) or a
    /// JID such as `123@g.us`.
    #[schema(example = "5511999999999")]
    pub to: String,
    /// 1-4096 characters.
    #[schema(example = "Hello from the gateway!")]
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SentMessage {
    /// The WhatsApp message id.
    #[schema(example = "3EB0B430A7C9D2F17E92")]
    pub id: String,
    #[schema(example = "sent")]
    pub status: &'static str,
}

fn validate_text(text: &str) -> Result<(), ApiError> {
    let chars = text.chars().count();
    if text.trim().is_empty() || chars > MAX_TEXT_CHARS {
        return Err(ApiError::validation(
            "message",
            format!("must be 1-{MAX_TEXT_CHARS} characters (got {chars})"),
        ));
    }
    Ok(())
}

/// Send a text message now.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/messages", tag = "messages",
    params(("id" = String, Path, description = "Session id"), TenantQuery),
    request_body = SendMessageRequest,
    responses((status = 200, description = "Sent", body = SentMessage),
        (status = 400, description = "Invalid `to` or `message`", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 503, description = "Session not connected", body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
#[tracing::instrument(skip_all, fields(session_id = %id))]
pub async fn send_message(
    State(state): State<AppState>,
    caller: Caller,
    query: TenantQuery,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<SendMessageRequest>,
) -> Result<Json<SentMessage>, ApiError> {
    let record = caller.session(&state, &id, query.tenant_id).await?;
    let to = Recipient::parse(&req.to)?;
    validate_text(&req.message)?;
    match state
        .control
        .send_text(&record.key, &to, &req.message)
        .await
    {
        Ok(id) => {
            state.metrics.message_sent();
            Ok(Json(SentMessage { id, status: "sent" }))
        }
        Err(err) => {
            state.metrics.message_failed();
            Err(err.into())
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_limits() {
        assert!(super::validate_text("hi").is_ok());
        assert!(super::validate_text(&"é".repeat(4096)).is_ok());
        assert!(super::validate_text(&"a".repeat(4097)).is_err());
        assert!(super::validate_text("").is_err());
        assert!(super::validate_text("  \n").is_err());
    }
}
