//! `POST /messages` and `POST /messages/bulk`: check, write to the queue,
//! answer 202. Nothing is accepted before it is committed; a request that
//! fails a check leaves nothing in the queue.

use super::prepare::{UploadedPart, prepare};
use super::request::SendMessageRequest;
use super::upload::read_multipart;
use crate::AppState;
use crate::auth::{Caller, TenantQuery};
use crate::error::{ApiError, ErrorBody};
use crate::limits::Counted;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use wagate_core::SessionKey;
use wagate_store::outbound::{Accept, AcceptOutcome, IdempotencyKey, NewOutbound};

/// Most messages in one bulk request.
pub const MAX_BULK: usize = 1000;

#[derive(Debug, Serialize, ToSchema)]
pub struct QueuedMessage {
    /// The WhatsApp message id, fixed now and kept through every retry.
    #[schema(example = "3EB0B430A7C9D2F17E92AB")]
    pub id: String,
    #[schema(example = "queued")]
    pub status: &'static str,
}

/// Many recipients of one message, or many messages.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkRequest {
    pub recipients: Option<Vec<String>>,
    /// The message for every recipient (its `to` is ignored).
    pub message: Option<SendMessageRequest>,
    pub messages: Option<Vec<SendMessageRequest>>,
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let v = v
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 255)
        .ok_or_else(|| {
            ApiError::validation("Idempotency-Key", "must be 1-255 visible characters")
        })?;
    Ok(Some(v.to_string()))
}

/// What makes two requests "the same": their session and queued content,
/// not their bytes (multipart boundaries differ on every send).
fn request_hash(key: &SessionKey, messages: &[NewOutbound]) -> String {
    let canonical: Vec<Value> = messages
        .iter()
        .map(|m| json!([m.recipient, m.body, m.send_at, m.batch_id.is_some()]))
        .collect();
    let text = json!([key.session.as_str(), canonical]).to_string();
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Writes `messages`, counted against the tenant's tier as `counted`;
/// the count is given back when nothing new was queued (a failure, or a
/// repeat answered with the first reply).
async fn submit(
    state: &AppState,
    key: &SessionKey,
    idempotency: Option<String>,
    messages: Vec<NewOutbound>,
    counted: Counted,
    response: Value,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let idempotency = idempotency.map(|k| IdempotencyKey {
        request_hash: request_hash(key, &messages),
        key: k,
    });
    let outcome = state
        .outgoing
        .enqueuer
        .submit(Accept {
            key: key.clone(),
            messages,
            idempotency,
            response_status: StatusCode::ACCEPTED.as_u16(),
            response: response.clone(),
        })
        .await;
    if !matches!(outcome, Ok(AcceptOutcome::Accepted)) {
        state.limits.give_back(counted);
    }
    let outcome = outcome?;
    match outcome {
        AcceptOutcome::Accepted => Ok((StatusCode::ACCEPTED, Json(response))),
        AcceptOutcome::Replayed { status, body } => Ok((
            StatusCode::from_u16(status).unwrap_or(StatusCode::ACCEPTED),
            Json(body),
        )),
        AcceptOutcome::KeyReused => Err(ApiError::Conflict(
            "Idempotency-Key was already used for a different request".into(),
        )),
    }
}

/// Messages wait in the queue while a session reconnects, but a logged
/// out session has no phone: they would go out from whichever number is
/// linked next.
fn can_queue(session: &wagate_store::domain::SessionRecord) -> Result<(), ApiError> {
    if session.status == wagate_core::SessionStatus::LoggedOut {
        return Err(ApiError::Unavailable(format!(
            "Session '{}' is logged out: link it to a phone again before sending",
            session.key.session
        )));
    }
    Ok(())
}

fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// Queue a message of any kind.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/messages", tag = "messages",
    params(("id" = String, Path, description = "Session id"), TenantQuery,
        ("Idempotency-Key" = Option<String>, Header, description = "Repeats with the same key and body get the first answer")),
    request_body(content = SendMessageRequest, description = "JSON, or multipart/form-data with the same fields and a file part (`file`, or named after the kind)"),
    responses((status = 202, description = "Queued", body = QueuedMessage),
        (status = 400, description = "A field is invalid; the error names it", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Idempotency-Key reused with another body", body = ErrorBody),
        (status = 413, description = "The file exceeds its kind's limit", body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "media.url could not be fetched", body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
#[tracing::instrument(skip_all, fields(session_id = %id))]
pub async fn send_message(
    State(state): State<AppState>,
    caller: Caller,
    query: TenantQuery,
    Path(id): Path<String>,
    headers: HeaderMap,
    request: Request,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let record = caller.session(&state, &id, query.tenant_id).await?;
    can_queue(&record)?;
    let (req, upload) = read_send_request(&state, &headers, request).await?;
    let (status, body) = queue_one(&state, &record, &req, upload, &headers).await?;
    Ok((status, Json(body)))
}

/// A send request as JSON, or as multipart with its file part stored.
pub(crate) async fn read_send_request(
    state: &AppState,
    headers: &HeaderMap,
    request: Request,
) -> Result<(SendMessageRequest, Option<UploadedPart>), ApiError> {
    if is_multipart(headers) {
        read_multipart(state, request).await
    } else {
        Ok((read_json(request, state).await?, None))
    }
}

/// Queues one message on `record`'s session: the one send path of every
/// API shape (native and compatibility profiles). Answers the status and
/// body to give — `{"id", "status": "queued"}`, or the first answer again
/// for a repeated `Idempotency-Key`.
pub(crate) async fn queue_one(
    state: &AppState,
    record: &wagate_store::domain::SessionRecord,
    req: &SendMessageRequest,
    upload: Option<UploadedPart>,
    headers: &HeaderMap,
) -> Result<(StatusCode, Value), ApiError> {
    can_queue(record)?;
    let idempotency = idempotency_key(headers)?;
    // Counted before any work (a media fetch, a stored file) is done for
    // a message the tier would refuse.
    let counted = state.limits.take_messages(record.key.tenant, 1).await?;
    let message = match prepare(state, &record.key, req, upload, None).await {
        Ok(message) => message,
        Err(err) => {
            state.limits.give_back(counted);
            return Err(err);
        }
    };
    let response = json!({"id": message.id.as_str(), "status": "queued"});
    let (status, Json(body)) = submit(
        state,
        &record.key,
        idempotency,
        vec![message],
        counted,
        response,
    )
    .await?;
    Ok((status, body))
}

/// Queue one message for many recipients, or many messages.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/messages/bulk", tag = "messages",
    params(("id" = String, Path, description = "Session id"), TenantQuery),
    request_body = BulkRequest,
    responses((status = 202, description = "All queued under one batch id"),
        (status = 400, description = "A message is invalid; the field names its index", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
#[tracing::instrument(skip_all, fields(session_id = %id))]
pub async fn send_bulk(
    State(state): State<AppState>,
    caller: Caller,
    query: TenantQuery,
    Path(id): Path<String>,
    headers: HeaderMap,
    request: Request,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let record = caller.session(&state, &id, query.tenant_id).await?;
    can_queue(&record)?;
    let bulk: BulkRequest = read_json(request, &state).await?;
    let requests = match (bulk.recipients, bulk.message, bulk.messages) {
        (Some(to), Some(message), None) => to
            .into_iter()
            .map(|to| SendMessageRequest {
                to,
                ..message.clone()
            })
            .collect::<Vec<_>>(),
        (None, None, Some(messages)) => messages,
        _ => {
            return Err(ApiError::validation(
                "messages",
                "give either recipients with message, or messages",
            ));
        }
    };
    if requests.is_empty() || requests.len() > MAX_BULK {
        return Err(ApiError::validation(
            "messages",
            format!("must hold 1-{MAX_BULK} messages"),
        ));
    }
    let idempotency = idempotency_key(&headers)?;
    // The whole request counts, and is refused whole, before any work.
    let counted = state
        .limits
        .take_messages(record.key.tenant, requests.len())
        .await?;
    let batch = format!("batch_{}", hex::encode(rand::random::<[u8; 8]>()));
    let mut queued = Vec::with_capacity(requests.len());
    for (i, req) in requests.iter().enumerate() {
        match prepare(&state, &record.key, req, None, Some(batch.clone())).await {
            Ok(m) => queued.push(m),
            Err(err) => {
                state.limits.give_back(counted);
                return Err(err.at_index("messages", i));
            }
        }
    }
    let listed: Vec<Value> = queued
        .iter()
        .map(|m| json!({"id": m.id.as_str(), "to": m.recipient, "status": "queued"}))
        .collect();
    let response = json!({"batchId": batch, "messages": listed});
    submit(&state, &record.key, idempotency, queued, counted, response).await
}

/// JSON up to the size a base64 file of the largest kind needs.
async fn read_json<T: serde::de::DeserializeOwned>(
    request: Request,
    state: &AppState,
) -> Result<T, ApiError> {
    let is_json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("json"));
    if !is_json {
        return Err(ApiError::UnsupportedMediaType(
            "Expected 'Content-Type: application/json' or multipart/form-data".into(),
        ));
    }
    let limit = super::json_limit(&state.outgoing.media.limits);
    let bytes = Bytes::from_request(request, state).await.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(format!("Request body exceeds the limit of {limit} bytes"))
        } else {
            ApiError::BadRequest("Could not read the request body".into())
        }
    })?;
    crate::json::parse(&bytes)
}
