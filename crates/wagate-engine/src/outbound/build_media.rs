//! Media messages: the upload through the client, and the message that
//! points the recipient at the encrypted blob.

use super::build::MediaSource;
use wagate_core::outbound::{MediaBlob, MediaKind, SendFailure};
use whatsapp_rust::buffa::MessageField;
use whatsapp_rust::download::MediaType;
use whatsapp_rust::upload::{UploadOptions, UploadResponse};
use whatsapp_rust::waproto::whatsapp::{self as wa, message as m};
use whatsapp_rust::{Client, ErrorChainExt};

/// Where an uploaded file is and how to open it: what every media message
/// carries. Our own copy of the client's `UploadResponse`, which cannot be
/// built outside the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    pub url: String,
    pub direct_path: String,
    pub media_key: Vec<u8>,
    pub file_enc_sha256: Vec<u8>,
    pub file_sha256: Vec<u8>,
    pub file_length: u64,
    pub media_key_timestamp: i64,
    /// Seek table for progressive playback; audio and video only.
    pub streaming_sidecar: Option<Vec<u8>>,
}

impl From<UploadResponse> for Uploaded {
    fn from(r: UploadResponse) -> Self {
        Uploaded {
            url: r.url,
            direct_path: r.direct_path,
            media_key: r.media_key.to_vec(),
            file_enc_sha256: r.file_enc_sha256.to_vec(),
            file_sha256: r.file_sha256.to_vec(),
            file_length: r.file_length,
            media_key_timestamp: r.media_key_timestamp,
            streaming_sidecar: r.streaming_sidecar,
        }
    }
}

/// Reads the blob and uploads it encrypted for `kind`.
pub(super) async fn upload(
    client: &Client,
    kind: MediaKind,
    blob: &MediaBlob,
    media: &dyn MediaSource,
) -> Result<Uploaded, SendFailure> {
    let bytes = media.read(blob).await.map_err(|e| read_failure(blob, e))?;
    let response = client
        .upload(bytes, media_type(kind), UploadOptions::default())
        .await
        .map_err(|e| upload_failure(&e))?;
    let uploaded = Uploaded::from(response);
    // The store names blobs by digest: other bytes under that name mean
    // the store is damaged, and sending them would deliver the wrong file.
    if hex::encode(&uploaded.file_sha256) != blob.sha256.to_ascii_lowercase() {
        return Err(SendFailure::Permanent(format!(
            "media {} does not match its digest",
            blob.sha256
        )));
    }
    Ok(uploaded)
}

/// Voice notes are audio on the media host; stickers have their own type
/// (image keys, image upload path).
fn media_type(kind: MediaKind) -> MediaType {
    match kind {
        MediaKind::Image => MediaType::Image,
        MediaKind::Video => MediaType::Video,
        MediaKind::Audio | MediaKind::Voice => MediaType::Audio,
        MediaKind::Document => MediaType::Document,
        MediaKind::Sticker => MediaType::Sticker,
    }
}

fn read_failure(blob: &MediaBlob, e: std::io::Error) -> SendFailure {
    if e.kind() == std::io::ErrorKind::NotFound {
        SendFailure::Permanent(format!("media {} is missing", blob.sha256))
    } else {
        SendFailure::Transient(format!("media {} could not be read: {e}", blob.sha256))
    }
}

/// Only a media host's clear refusal of the file is final. The client has
/// already renewed its media auth on 401/403 and tried every host; 408
/// and 429 ask to come back later; anything else may pass.
pub(super) fn upload_failure(e: &whatsapp_rust::anyhow::Error) -> SendFailure {
    let cause: &(dyn std::error::Error + 'static) = e.as_ref();
    match cause.http_status() {
        Some(status)
            if (400..500).contains(&status) && !matches!(status, 401 | 403 | 408 | 429) =>
        {
            SendFailure::Permanent(format!("media rejected: {e:#}"))
        }
        _ => SendFailure::Transient(format!("media upload failed: {e:#}")),
    }
}

/// A media message of type `$ty` pointing at `$up`, plus the fields only
/// that type has.
macro_rules! pointing_at {
    ($ty:ident, $up:expr, { $($field:ident: $value:expr),* $(,)? }) => {{
        let up: Uploaded = $up;
        MessageField::some(m::$ty {
            url: Some(up.url),
            direct_path: Some(up.direct_path),
            media_key: Some(up.media_key),
            file_sha256: Some(up.file_sha256),
            file_enc_sha256: Some(up.file_enc_sha256),
            file_length: Some(up.file_length),
            media_key_timestamp: Some(up.media_key_timestamp),
            $($field: $value,)*
            ..Default::default()
        })
    }};
}

/// The message for an uploaded file of `kind`. Audio, voice notes and
/// stickers have no caption in WhatsApp, so theirs is dropped.
pub(super) fn media_message(
    kind: MediaKind,
    blob: &MediaBlob,
    caption: Option<&str>,
    up: Uploaded,
) -> wa::Message {
    let mimetype = match blob.mimetype.trim() {
        "" => kind.default_mimetype().to_string(),
        given => given.to_string(),
    };
    let caption = caption.filter(|c| !c.is_empty()).map(str::to_string);
    let sidecar = up.streaming_sidecar.clone();
    let mut msg = wa::Message::default();
    match kind {
        MediaKind::Image => {
            msg.image_message = pointing_at!(ImageMessage, up, {
                mimetype: Some(mimetype), caption: caption,
            });
        }
        MediaKind::Video => {
            msg.video_message = pointing_at!(VideoMessage, up, {
                mimetype: Some(mimetype), caption: caption, streaming_sidecar: sidecar,
            });
        }
        MediaKind::Audio | MediaKind::Voice => {
            let ptt = (kind == MediaKind::Voice).then_some(true);
            msg.audio_message = pointing_at!(AudioMessage, up, {
                mimetype: Some(mimetype), ptt: ptt, streaming_sidecar: sidecar,
            });
        }
        MediaKind::Document => {
            let captioned = caption.is_some();
            msg.document_message = pointing_at!(DocumentMessage, up, {
                mimetype: Some(mimetype), caption: caption, file_name: blob.file_name.clone(),
            });
            // WhatsApp Web sends a captioned document inside this wrapper;
            // older phones show the caption only then.
            if captioned {
                msg = wa::Message {
                    document_with_caption_message: MessageField::some(m::FutureProofMessage {
                        message: MessageField::some(msg),
                    }),
                    ..Default::default()
                };
            }
        }
        MediaKind::Sticker => {
            msg.sticker_message = pointing_at!(StickerMessage, up, {
                mimetype: Some("image/webp".into()),
            });
        }
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::build::assemble;
    use crate::outbound::build::tests::{chat, me, target};
    use wagate_core::outbound::{Content, OutboundBody};

    fn uploaded() -> Uploaded {
        Uploaded {
            url: "https://mmg.example/u".into(),
            direct_path: "/v/t62/abc".into(),
            media_key: vec![1; 32],
            file_enc_sha256: vec![2; 32],
            file_sha256: vec![3; 32],
            file_length: 4096,
            media_key_timestamp: 1_700_000_000,
            streaming_sidecar: Some(vec![9, 9]),
        }
    }

    fn blob(mimetype: &str, file_name: Option<&str>) -> MediaBlob {
        MediaBlob {
            sha256: "03".repeat(32),
            size: 4096,
            mimetype: mimetype.into(),
            file_name: file_name.map(str::to_string),
        }
    }

    fn media(kind: MediaKind, blob: MediaBlob, caption: Option<&str>) -> wa::Message {
        let content = Content::Media {
            kind,
            blob,
            caption: caption.map(str::to_string),
        };
        let body = OutboundBody {
            content,
            reply_to: None,
        };
        assemble(&chat(), &me(), &body, Some(uploaded()), None).unwrap()
    }

    #[test]
    fn an_image_carries_the_upload_and_caption() {
        let msg = media(MediaKind::Image, blob("image/png", None), Some("look"));
        let img = msg.image_message.as_option().unwrap();
        assert_eq!(img.url.as_deref(), Some("https://mmg.example/u"));
        assert_eq!(img.direct_path.as_deref(), Some("/v/t62/abc"));
        assert_eq!(img.media_key.as_deref(), Some(&[1; 32][..]));
        assert_eq!(img.file_enc_sha256.as_deref(), Some(&[2; 32][..]));
        assert_eq!(img.file_sha256.as_deref(), Some(&[3; 32][..]));
        assert_eq!(img.file_length, Some(4096));
        assert_eq!(img.media_key_timestamp, Some(1_700_000_000));
        assert_eq!(img.mimetype.as_deref(), Some("image/png"));
        assert_eq!(img.caption.as_deref(), Some("look"));
    }

    #[test]
    fn a_voice_note_is_push_to_talk_audio() {
        let msg = media(MediaKind::Voice, blob("", None), Some("dropped"));
        let audio = msg.audio_message.as_option().unwrap();
        assert_eq!(audio.ptt, Some(true));
        assert_eq!(audio.mimetype.as_deref(), Some("audio/ogg; codecs=opus"));
        assert_eq!(audio.streaming_sidecar.as_deref(), Some(&[9, 9][..]));

        let msg = media(MediaKind::Audio, blob("audio/mpeg", None), None);
        assert_eq!(msg.audio_message.as_option().unwrap().ptt, None);
    }

    #[test]
    fn a_video_keeps_its_seek_table() {
        let msg = media(MediaKind::Video, blob("video/mp4", None), Some("clip"));
        let video = msg.video_message.as_option().unwrap();
        assert_eq!(video.streaming_sidecar.as_deref(), Some(&[9, 9][..]));
        assert_eq!(video.caption.as_deref(), Some("clip"));
    }

    #[test]
    fn a_document_has_its_name_and_a_caption_wraps_it() {
        let msg = media(
            MediaKind::Document,
            blob("application/pdf", Some("r.pdf")),
            None,
        );
        let doc = msg.document_message.as_option().unwrap();
        assert_eq!(doc.file_name.as_deref(), Some("r.pdf"));
        assert_eq!(doc.caption, None);

        let msg = media(
            MediaKind::Document,
            blob("application/pdf", Some("r.pdf")),
            Some("Q3"),
        );
        assert!(msg.document_message.as_option().is_none());
        let inner = msg.document_with_caption_message.as_option().unwrap();
        let doc = inner
            .message
            .as_option()
            .unwrap()
            .document_message
            .as_option()
            .unwrap();
        assert_eq!(doc.caption.as_deref(), Some("Q3"));
        assert_eq!(doc.file_name.as_deref(), Some("r.pdf"));
    }

    #[test]
    fn a_sticker_is_webp() {
        let msg = media(MediaKind::Sticker, blob("image/webp", None), None);
        let sticker = msg.sticker_message.as_option().unwrap();
        assert_eq!(sticker.mimetype.as_deref(), Some("image/webp"));
        assert_eq!(sticker.direct_path.as_deref(), Some("/v/t62/abc"));
    }

    #[test]
    fn a_reply_reaches_the_document_inside_its_wrapper() {
        let content = Content::Media {
            kind: MediaKind::Document,
            blob: blob("application/pdf", Some("r.pdf")),
            caption: Some("Q3".into()),
        };
        let body = OutboundBody {
            content,
            reply_to: Some(target(false)),
        };
        let msg = assemble(&chat(), &me(), &body, Some(uploaded()), None).unwrap();
        let inner = msg.document_with_caption_message.as_option().unwrap();
        let doc = inner
            .message
            .as_option()
            .unwrap()
            .document_message
            .as_option()
            .unwrap();
        let ctx = doc.context_info.as_option().unwrap();
        assert_eq!(ctx.stanza_id.as_deref(), Some("3EB0AAAA"));
        assert_eq!(
            ctx.participant.as_deref(),
            Some("15550002222@s.whatsapp.net")
        );
    }

    #[test]
    fn media_without_an_upload_is_refused() {
        let content = Content::Media {
            kind: MediaKind::Image,
            blob: blob("image/jpeg", None),
            caption: None,
        };
        let body = OutboundBody {
            content,
            reply_to: None,
        };
        let err = assemble(&chat(), &me(), &body, None, None).unwrap_err();
        assert!(matches!(err, SendFailure::Permanent(_)), "{err:?}");
    }

    #[test]
    fn only_a_clear_refusal_is_permanent() {
        let with_status = |status: u16| {
            whatsapp_rust::anyhow::Error::new(whatsapp_rust::http::HttpStatusError { status })
                .context(format!("Upload failed {status}"))
        };
        assert!(
            matches!(upload_failure(&with_status(413)), SendFailure::Permanent(r) if r.starts_with("media rejected"))
        );
        for status in [401, 403, 408, 429, 500, 503] {
            assert!(
                matches!(
                    upload_failure(&with_status(status)),
                    SendFailure::Transient(_)
                ),
                "{status}"
            );
        }
        let no_answer = whatsapp_rust::anyhow::anyhow!("connection reset");
        assert!(matches!(
            upload_failure(&no_answer),
            SendFailure::Transient(_)
        ));
    }

    #[test]
    fn a_lost_blob_is_permanent() {
        let b = blob("image/jpeg", None);
        let lost = read_failure(&b, std::io::ErrorKind::NotFound.into());
        assert!(matches!(lost, SendFailure::Permanent(_)));
        let busy = read_failure(&b, std::io::ErrorKind::Interrupted.into());
        assert!(matches!(busy, SendFailure::Transient(_)));
    }
}
