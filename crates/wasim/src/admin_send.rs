//! Admin API: a contact sends a message (text or media) to an account, or
//! marks messages it received as read.

use crate::admin::{AdminError, phone};
use crate::media_glue::media_type;
use crate::world::World;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::routing::{MethodRouter, post};
use base64::Engine as _;
use base64::prelude::BASE64_STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use wacore_binary::builder::NodeBuilder;
use waproto::whatsapp as wa;

/// Room in a send body for everything but the media: `to`, `caption`,
/// `filename` and the JSON around them.
const BODY_SLACK: usize = 64 * 1024;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendBody {
    to: String,
    /// `text` (default), `image`, `document`, `video` or `audio`.
    #[serde(default, rename = "type")]
    kind: Option<String>,
    text: Option<String>,
    /// Base64 media bytes.
    content: Option<String>,
    mimetype: Option<String>,
    filename: Option<String>,
    caption: Option<String>,
    /// Audio only: a voice note rather than a music file.
    ptt: Option<bool>,
}

/// `POST /admin/contacts/{phone}/send`, taking media of up to `max_media`
/// decoded bytes. The body limit sits just above that media's base64 size,
/// so a far larger body is refused (413) while it is still being read.
pub fn route(max_media: usize) -> MethodRouter<Arc<World>> {
    let body_limit = max_media.div_ceil(3) * 4 + BODY_SLACK;
    post(
        move |world: State<Arc<World>>,
              from: Path<String>,
              body: Result<Json<SendBody>, JsonRejection>| {
            send(world, from, body, max_media)
        },
    )
    .layer(DefaultBodyLimit::max(body_limit))
}

async fn send(
    State(world): State<Arc<World>>,
    Path(from): Path<String>,
    body: Result<Json<SendBody>, JsonRejection>,
    max_media: usize,
) -> Result<Json<Value>, AdminError> {
    let Json(body) = body?;
    let from = phone(&from, "contactPhone")?;
    let to = phone(&body.to, "to")?;
    let message = build_message(&world, &body, max_media)?;
    let id = crate::phone::send(&world, &from, &to, &message)
        .await
        .map_err(|e| AdminError::BadRequest(format!("could not send: {e:#}")))?;
    Ok(Json(json!({"id": id})))
}

fn build_message(
    world: &World,
    body: &SendBody,
    max_media: usize,
) -> Result<wa::Message, AdminError> {
    let kind = body.kind.as_deref().unwrap_or("text");
    if kind == "text" {
        let text =
            body.text.clone().filter(|t| !t.is_empty()).ok_or_else(|| {
                AdminError::BadRequest("text: required for a text message".into())
            })?;
        return Ok(wa::Message {
            conversation: Some(text),
            ..Default::default()
        });
    }
    if !matches!(kind, "image" | "document" | "video" | "audio") {
        return Err(AdminError::BadRequest(format!(
            "type: unknown message type '{kind}'"
        )));
    }
    let encoded = body
        .content
        .as_deref()
        .ok_or_else(|| AdminError::BadRequest("content: base64 media is required".into()))?;
    // Judged from the encoded length, so oversized media is refused before
    // any of it is decoded.
    if decoded_len(encoded) > max_media {
        return Err(AdminError::TooLarge(format!(
            "content: media over the {max_media} byte limit"
        )));
    }
    let plain = BASE64_STANDARD
        .decode(encoded)
        .map_err(|e| AdminError::BadRequest(format!("content: not base64: {e}")))?;
    let host = world
        .media
        .as_ref()
        .ok_or_else(|| AdminError::BadRequest("this simulator has no media host".into()))?;
    let up = host
        .upload_plain(&plain, media_type(kind))
        .map_err(|e| AdminError::TooLarge(format!("content: {e:#}")))?;
    let mimetype = body
        .mimetype
        .clone()
        .unwrap_or_else(|| "application/octet-stream".into());
    // Every media message references the upload the same way; only the
    // kind-specific fields differ.
    macro_rules! media {
        ($ty:ident { $($extra:tt)* }) => {
            buffa::MessageField::some(wa::message::$ty {
                url: Some(up.url),
                direct_path: Some(up.direct_path),
                media_key: Some(up.media_key),
                file_sha256: Some(up.file_sha256),
                file_enc_sha256: Some(up.file_enc_sha256),
                file_length: Some(up.file_length),
                media_key_timestamp: Some(up.media_key_timestamp),
                mimetype: Some(mimetype),
                $($extra)*
                ..Default::default()
            })
        };
    }
    let mut m = wa::Message::default();
    match kind {
        "image" => {
            m.image_message = media!(ImageMessage {
                caption: body.caption.clone(),
            })
        }
        "video" => {
            m.video_message = media!(VideoMessage {
                caption: body.caption.clone(),
                streaming_sidecar: up.streaming_sidecar,
            })
        }
        "audio" => {
            m.audio_message = media!(AudioMessage {
                streaming_sidecar: up.streaming_sidecar,
                ptt: body.ptt,
            })
        }
        _ => {
            m.document_message = media!(DocumentMessage {
                file_name: body.filename.clone(),
                caption: body.caption.clone(),
            })
        }
    }
    Ok(m)
}

/// Bytes that base64 `encoded` decodes to, if it is valid: three per four
/// characters, less the padding.
fn decoded_len(encoded: &str) -> usize {
    let padding = encoded.bytes().rev().take_while(|&b| b == b'=').count();
    let len = encoded.len() - padding;
    len / 4 * 3 + len % 4 * 3 / 4
}

#[derive(Deserialize)]
pub struct ReadBody {
    ids: Vec<String>,
    /// `read` (default) or `played`: a voice note or video was played.
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

/// The contact reads messages it received: read receipts go to the devices
/// that sent them. Playing a voice note reads it too, so `played` sends a
/// read receipt and then a played one, as a phone does.
pub async fn read(
    State(world): State<Arc<World>>,
    Path(contact): Path<String>,
    body: Result<Json<ReadBody>, JsonRejection>,
) -> Result<Json<Value>, AdminError> {
    let Json(body) = body?;
    let contact = phone(&contact, "contactPhone")?;
    let kinds: &[&str] = match body.kind.as_deref().unwrap_or("read") {
        "read" => &["read"],
        "played" => &["read", "played"],
        other => {
            return Err(AdminError::BadRequest(format!(
                "type: '{other}' is not read or played"
            )));
        }
    };
    let senders: Vec<(String, String, u16)> = {
        let st = world.lock();
        let account = st
            .accounts
            .get(&contact)
            .ok_or_else(|| AdminError::NotFound(format!("no contact {contact}")))?;
        account
            .inbox
            .iter()
            .filter_map(|e| {
                let id = e["id"].as_str()?;
                let from = e["from"].as_str()?.to_string();
                let device = e["fromDevice"].as_u64()? as u16;
                body.ids
                    .iter()
                    .any(|w| w == id)
                    .then(|| (id.to_string(), from, device))
            })
            .collect()
    };
    if senders.is_empty() {
        return Err(AdminError::NotFound(
            "none of those message ids is in this contact's inbox".into(),
        ));
    }
    for (id, from, device) in &senders {
        for kind in kinds {
            let receipt = NodeBuilder::new("receipt")
                .attr("from", format!("{contact}@s.whatsapp.net"))
                .attr("id", id.clone())
                .attr("type", *kind)
                .attr("t", crate::nodes::now().to_string())
                .build();
            world.deliver(&(from.clone(), *device), receipt);
        }
    }
    let mut answer = json!({"read": senders.len()});
    if kinds.contains(&"played") {
        answer["played"] = json!(senders.len());
    }
    Ok(Json(answer))
}
