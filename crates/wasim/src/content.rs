//! What a simulated phone makes of a decrypted `Message`: the inbox entry
//! the admin API shows.

use serde_json::{Value, json};
use waproto::whatsapp as wa;

/// The message inside device-sent and ephemeral wrappers.
pub fn unwrap(msg: &wa::Message) -> &wa::Message {
    if let Some(dsm) = msg.device_sent_message.as_option()
        && let Some(inner) = dsm.message.as_option()
    {
        return unwrap(inner);
    }
    msg
}

/// Reads where the blob is from any media message: they all name these
/// fields alike.
macro_rules! media_ref {
    ($kind:literal, $m:expr) => {
        MediaRef {
            kind: $kind,
            direct_path: $m.direct_path.as_deref(),
            media_key: $m.media_key.as_deref(),
            file_enc_sha256: $m.file_enc_sha256.as_deref(),
            file_sha256: $m.file_sha256.as_deref(),
            file_length: $m.file_length,
        }
    };
}

/// A JSON summary: `type` plus the fields that matter for that kind.
/// Media is described by the hooks in `media_summary`.
pub fn summarize(msg: &wa::Message, media: &dyn Fn(MediaRef<'_>) -> Value) -> Value {
    let msg = unwrap(msg);
    if let Some(text) = &msg.conversation {
        return json!({"type": "text", "text": text});
    }
    if let Some(ext) = msg.extended_text_message.as_option() {
        return json!({"type": "text", "text": ext.text.clone().unwrap_or_default()});
    }
    if let Some(m) = msg.image_message.as_option() {
        let mut v = media(media_ref!("image", m));
        v["caption"] = json!(m.caption);
        v["mimetype"] = json!(m.mimetype);
        return v;
    }
    if let Some(m) = msg.document_message.as_option() {
        let mut v = media(media_ref!("document", m));
        v["caption"] = json!(m.caption);
        v["mimetype"] = json!(m.mimetype);
        v["filename"] = json!(m.file_name);
        return v;
    }
    if let Some(m) = msg.video_message.as_option() {
        let mut v = media(media_ref!("video", m));
        v["caption"] = json!(m.caption);
        v["mimetype"] = json!(m.mimetype);
        return v;
    }
    if let Some(m) = msg.audio_message.as_option() {
        let mut v = media(media_ref!("audio", m));
        v["mimetype"] = json!(m.mimetype);
        v["ptt"] = json!(m.ptt.unwrap_or(false));
        return v;
    }
    if let Some(m) = msg.protocol_message.as_option() {
        return json!({"type": "protocol", "protocolType": m.r#type.map(|t| t as i32)});
    }
    json!({"type": "unknown"})
}

/// Where an encrypted media blob is and how to open it.
pub struct MediaRef<'a> {
    pub kind: &'static str,
    pub direct_path: Option<&'a str>,
    pub media_key: Option<&'a [u8]>,
    pub file_enc_sha256: Option<&'a [u8]>,
    /// What the sender claims about the plaintext; a phone checks them.
    pub file_sha256: Option<&'a [u8]>,
    pub file_length: Option<u64>,
}
