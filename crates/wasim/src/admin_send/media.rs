//! Media a contact sends: the bytes are encrypted onto the simulator's
//! media host and the message references the upload, as a phone's does.

use super::{SendBody, Sender, bad};
use crate::admin::AdminError;
use crate::media_glue::media_type;
use base64::Engine as _;
use base64::prelude::BASE64_STANDARD;
use waproto::whatsapp as wa;

/// An image, document, video, audio or sticker message carrying `content`.
pub fn build(sender: &Sender<'_>, body: &SendBody, kind: &str) -> Result<wa::Message, AdminError> {
    let encoded = body
        .content
        .as_deref()
        .ok_or_else(|| bad("content: base64 media is required".into()))?;
    let max_media = sender.max_media;
    // Judged from the encoded length, so oversized media is refused before
    // any of it is decoded.
    if decoded_len(encoded) > max_media {
        return Err(AdminError::TooLarge(format!(
            "content: media over the {max_media} byte limit"
        )));
    }
    let plain = BASE64_STANDARD
        .decode(encoded)
        .map_err(|e| bad(format!("content: not base64: {e}")))?;
    let host = sender
        .world
        .media
        .as_ref()
        .ok_or_else(|| bad("this simulator has no media host".into()))?;
    let up = host
        .upload_plain(&plain, media_type(kind))
        .map_err(|e| AdminError::TooLarge(format!("content: {e:#}")))?;
    // Phones send stickers as WebP; other media has no one type to assume.
    let default_mimetype = if kind == "sticker" {
        "image/webp"
    } else {
        "application/octet-stream"
    };
    let mimetype = body
        .mimetype
        .clone()
        .unwrap_or_else(|| default_mimetype.into());
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
        "sticker" => {
            m.sticker_message = media!(StickerMessage {
                is_animated: Some(body.animated.unwrap_or(false)),
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
