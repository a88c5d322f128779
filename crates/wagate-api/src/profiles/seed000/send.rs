//! Sending text, an image or a document. Each goes through the native
//! send path and is answered at once with its WhatsApp message id, which
//! is fixed before the first attempt to send.

use super::express::{BodyCap, ExpressError, JsonBody, Key, SessionPath, Tenant};
use crate::AppState;
use crate::error::ApiError;
use crate::messages::{SendMessageRequest, UploadedPart, json_limit, queue_one, read_send_request};
use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use wagate_core::outbound::MediaKind;
use wagate_store::domain::SessionRecord;

#[derive(Debug, Deserialize)]
pub struct TextRequest {
    /// A phone number with country code, `+` allowed.
    to: String,
    message: String,
}

/// The document's answer: only the message id.
async fn queued(
    state: &AppState,
    record: &SessionRecord,
    request: &SendMessageRequest,
    upload: Option<UploadedPart>,
    headers: &HeaderMap,
) -> Result<Json<Value>, ExpressError> {
    let (_, body) = queue_one(state, record, request, upload, headers).await?;
    Ok(Json(json!({"success": true, "messageId": body["id"]})))
}

#[tracing::instrument(skip_all, fields(session_id = %id))]
pub async fn send_text(
    State(state): State<AppState>,
    Key(caller): Key,
    Tenant(tenant): Tenant,
    SessionPath(id): SessionPath,
    headers: HeaderMap,
    JsonBody(req): JsonBody<TextRequest>,
) -> Result<Json<Value>, ExpressError> {
    let record = caller.session(&state, &id, tenant).await?;
    let request = SendMessageRequest {
        to: req.to,
        kind: Some("text".into()),
        message: Some(req.message),
        ..SendMessageRequest::default()
    };
    queued(&state, &record, &request, None, &headers).await
}

#[tracing::instrument(skip_all, fields(session_id = %id))]
pub async fn send_image(
    State(state): State<AppState>,
    Key(caller): Key,
    Tenant(tenant): Tenant,
    SessionPath(id): SessionPath,
    headers: HeaderMap,
    request: Request,
) -> Result<Json<Value>, ExpressError> {
    let record = caller.session(&state, &id, tenant).await?;
    send_file(&state, &record, MediaKind::Image, &headers, request).await
}

#[tracing::instrument(skip_all, fields(session_id = %id))]
pub async fn send_document(
    State(state): State<AppState>,
    Key(caller): Key,
    Tenant(tenant): Tenant,
    SessionPath(id): SessionPath,
    headers: HeaderMap,
    request: Request,
) -> Result<Json<Value>, ExpressError> {
    let record = caller.session(&state, &id, tenant).await?;
    send_file(&state, &record, MediaKind::Document, &headers, request).await
}

/// The most a multipart send may carry: the largest file and its form,
/// as on the native route.
fn upload_limit(state: &AppState) -> usize {
    let limits = &state.outgoing.media.limits;
    json_limit(limits).max(limits.largest() as usize + 64 * 1024)
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

/// A multipart form with `to`, `caption` and the file in a part named
/// after the route's kind (`image` or `document`).
async fn send_file(
    state: &AppState,
    record: &SessionRecord,
    kind: MediaKind,
    headers: &HeaderMap,
    request: Request,
) -> Result<Json<Value>, ExpressError> {
    let part = kind.as_str();
    if !is_multipart(headers) {
        return Err(ApiError::UnsupportedMediaType(format!(
            "Expected multipart/form-data with the file in a part named '{part}'"
        ))
        .into());
    }
    let limit = upload_limit(state);
    let cap = BodyCap::default();
    let request = cap.apply(request, limit);
    let (req, upload) = read_send_request(state, headers, request)
        .await
        .map_err(|e| cap.explain(e, limit))?;
    let mut upload = match upload {
        Some(upload) if req.kind_name() == part => upload,
        Some(_) => {
            return Err(ApiError::validation(
                part,
                format!(
                    "is required: this route sends the file of a part named '{part}', not a {}",
                    req.kind_name()
                ),
            )
            .into());
        }
        None => {
            return Err(
                ApiError::validation(part, "is required: add the file as a form part").into(),
            );
        }
    };
    upload.mimetype = file_type(state, kind, &upload).await?;
    queued(state, record, &req, Some(upload), headers).await
}

/// The file's type: as its part declares it, or, when the part says
/// nothing specific (`application/octet-stream`, as form libraries send
/// a buffer), as its first bytes show.
async fn file_type(
    state: &AppState,
    kind: MediaKind,
    upload: &UploadedPart,
) -> Result<Option<String>, ApiError> {
    let declared = upload.mimetype.as_deref().map(|m| {
        m.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    });
    let generic = declared
        .as_deref()
        .is_none_or(|m| m.is_empty() || m == "application/octet-stream");
    if !generic {
        return Ok(upload.mimetype.clone());
    }
    let sniffed = first_bytes(state, &upload.blob.0)
        .await
        .and_then(|head| sniff(&head));
    match sniffed {
        Some(found) if kind.accepts_mimetype(found) => Ok(Some(found.to_string())),
        _ if kind == MediaKind::Image => Err(ApiError::validation(
            "image",
            "is not a JPEG, PNG, GIF or WebP image",
        )),
        // Documents may be anything.
        _ => Ok(upload.mimetype.clone()),
    }
}

async fn first_bytes(state: &AppState, sha256: &str) -> Option<Vec<u8>> {
    let mut stream = state.outgoing.media.blobs.stream(sha256).await.ok()?;
    let chunk = stream.next().await?.ok()?;
    Some(chunk.to_vec())
}

/// The formats a gateway client sends as images or PDF documents, by
/// their leading magic bytes.
fn sniff(head: &[u8]) -> Option<&'static str> {
    match head {
        [0xFF, 0xD8, 0xFF, ..] => Some("image/jpeg"),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some("image/png"),
        [b'G', b'I', b'F', b'8', ..] => Some("image/gif"),
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => Some("image/webp"),
        [b'%', b'P', b'D', b'F', b'-', ..] => Some("application/pdf"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::sniff;

    #[test]
    fn generic_uploads_are_named_by_their_first_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0"), Some("image/png"));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff(b"RIFF\x1a\0\0\0WEBPVP8L"), Some("image/webp"));
        assert_eq!(sniff(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(sniff(b"PK\x03\x04"), None);
        assert_eq!(sniff(b""), None);
    }
}
