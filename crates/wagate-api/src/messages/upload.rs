//! Multipart sends: text fields become the request, the file part is
//! streamed to disk and stopped as soon as it passes its kind's limit.

use super::media_in::too_large;
use super::prepare::UploadedPart;
use super::request::SendMessageRequest;
use crate::AppState;
use crate::error::ApiError;
use axum::extract::{FromRequest, Multipart, Request};
use serde_json::{Map, Value};
use wagate_core::outbound::MediaKind;

/// Text fields a multipart send may carry (the JSON request's names).
const TEXT_FIELDS: &[&str] = &[
    "to", "type", "text", "message", "caption", "replyTo", "sendAt", "mimetype", "filename",
];

fn bad_multipart(e: impl std::fmt::Display) -> ApiError {
    ApiError::BadRequest(format!("Malformed multipart body: {e}"))
}

pub async fn read_multipart(
    state: &AppState,
    request: Request,
) -> Result<(SendMessageRequest, Option<UploadedPart>), ApiError> {
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(bad_multipart)?;
    let limits = state.outgoing.media.limits;
    let mut fields = Map::new();
    let mut upload: Option<(MediaKind, UploadedPart)> = None;
    while let Some(mut part) = multipart.next_field().await.map_err(bad_multipart)? {
        let name = part.name().unwrap_or("").to_string();
        if part.file_name().is_none() && TEXT_FIELDS.contains(&name.as_str()) {
            let text = part.text().await.map_err(bad_multipart)?;
            fields.insert(name, Value::String(text));
            continue;
        }
        if upload.is_some() {
            return Err(ApiError::validation(
                name,
                "only one file may be sent per message",
            ));
        }
        // The kind: the `type` field if it came first, else the part's name.
        let kind = fields
            .get("type")
            .and_then(Value::as_str)
            .and_then(MediaKind::parse)
            .or_else(|| MediaKind::parse(&name))
            .or_else(|| (name == "file").then_some(MediaKind::Document))
            .ok_or_else(|| {
                ApiError::validation(name.clone(), "is not a field of a send request")
            })?;
        if !fields.contains_key("type") {
            fields.insert("type".into(), Value::String(kind.as_str().into()));
        }
        let max = limits.of(kind);
        let mimetype = part.content_type().map(str::to_string);
        let file_name = part.file_name().map(str::to_string);
        let mut writer = state.outgoing.media.writer().await?;
        loop {
            let chunk = match part.chunk().await {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(e) => {
                    writer.discard().await;
                    return Err(bad_multipart(e));
                }
            };
            if writer.size() + chunk.len() as u64 > max {
                writer.discard().await;
                return Err(too_large(kind, max));
            }
            if let Err(e) = writer.write(&chunk).await {
                writer.discard().await;
                return Err(ApiError::Internal(format!("cannot store media: {e}")));
            }
        }
        let blob = writer
            .finish()
            .await
            .map_err(|e| ApiError::Internal(format!("cannot store media: {e}")))?;
        upload = Some((
            kind,
            UploadedPart {
                blob,
                mimetype,
                file_name,
            },
        ));
    }
    if let Some((kind, part)) = &upload
        && part.blob.1 > limits.of(*kind)
    {
        return Err(too_large(*kind, limits.of(*kind)));
    }
    // `mimetype` and `filename` fields name the file part's type and name
    // (for clients that cannot set them on the part itself).
    for (field, value) in [
        ("mimetype", fields.remove("mimetype")),
        ("filename", fields.remove("filename")),
    ] {
        let Some(Value::String(value)) = value else {
            continue;
        };
        let Some((_, part)) = upload.as_mut() else {
            return Err(ApiError::validation(field, "goes only with a file part"));
        };
        match field {
            "mimetype" => part.mimetype = Some(value),
            _ => part.file_name = Some(value),
        }
    }
    let req: SendMessageRequest = serde_json::from_value(Value::Object(fields))
        .map_err(|e| ApiError::BadRequest(format!("Invalid form field: {e}")))?;
    if let (Some(declared), Some((kind, _))) =
        (req.kind.as_deref().and_then(MediaKind::parse), &upload)
        && declared != *kind
    {
        return Err(ApiError::validation(
            "type",
            "does not match the uploaded file's field",
        ));
    }
    Ok((req, upload.map(|(_, p)| p)))
}
