//! Media messages. The message only describes the file; the gateway
//! fetches it after recording the event, so here it is always `pending`.

use super::map::Body;
use wagate_core::events::{InboundKind, InboundMedia, MediaStatus};
use wagate_core::outbound::MediaKind;
use whatsapp_rust::waproto::whatsapp as wa;

/// What the sender's phone declares about the file. Every media message
/// names these fields alike, but each is its own type.
struct Declared<'a> {
    mimetype: Option<&'a str>,
    file_sha256: Option<&'a [u8]>,
    file_length: Option<u64>,
}

macro_rules! declared {
    ($m:expr) => {
        Declared {
            mimetype: $m.mimetype.as_deref(),
            file_sha256: $m.file_sha256.as_deref(),
            file_length: $m.file_length,
        }
    };
}

/// Image, video, audio, voice note, document or sticker; `None` for any
/// other message. `url` is where the gateway will serve the file.
pub(super) fn media(msg: &wa::Message, url: &dyn Fn() -> String) -> Option<Body> {
    let (kind, declared, caption, file_name) = if let Some(m) = msg.image_message.as_option() {
        (MediaKind::Image, declared!(m), m.caption.as_deref(), None)
    } else if let Some(m) = msg
        .video_message
        .as_option()
        // A round video note travels as `ptv`, a video under another name.
        .or_else(|| msg.ptv_message.as_option())
    {
        (MediaKind::Video, declared!(m), m.caption.as_deref(), None)
    } else if let Some(m) = msg.audio_message.as_option() {
        // Push-to-talk is what makes audio a voice note.
        let kind = if m.ptt == Some(true) {
            MediaKind::Voice
        } else {
            MediaKind::Audio
        };
        (kind, declared!(m), None, None)
    } else if let Some(m) = msg.document_message.as_option() {
        let name = m.file_name.as_deref();
        (
            MediaKind::Document,
            declared!(m),
            m.caption.as_deref(),
            name,
        )
    } else if let Some(m) = msg.sticker_message.as_option() {
        (MediaKind::Sticker, declared!(m), None, None)
    } else {
        return None;
    };
    let media = InboundMedia {
        kind,
        mimetype: non_empty(declared.mimetype)
            .unwrap_or(kind.default_mimetype())
            .to_string(),
        file_name: non_empty(file_name).map(str::to_string),
        size: declared.file_length,
        sha256: declared
            .file_sha256
            .filter(|hash| !hash.is_empty())
            .map(hex::encode),
        url: url(),
        public_url: None,
        status: MediaStatus::Pending,
        error: None,
    };
    Some(Body {
        text: non_empty(caption).map(str::to_string),
        media: Some(media),
        ..Body::new(inbound_kind(kind))
    })
}

/// An empty string says no more than an absent field, and an empty
/// caption or file name is nothing to report.
fn non_empty(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.is_empty())
}

fn inbound_kind(kind: MediaKind) -> InboundKind {
    match kind {
        MediaKind::Image => InboundKind::Image,
        MediaKind::Video => InboundKind::Video,
        MediaKind::Audio => InboundKind::Audio,
        MediaKind::Voice => InboundKind::Voice,
        MediaKind::Document => InboundKind::Document,
        MediaKind::Sticker => InboundKind::Sticker,
    }
}
