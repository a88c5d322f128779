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
        let mut v = media(MediaRef::new(
            "image",
            &m.direct_path,
            &m.media_key,
            &m.file_enc_sha256,
            &m.file_sha256,
            m.file_length,
        ));
        v["caption"] = json!(m.caption);
        v["mimetype"] = json!(m.mimetype);
        return v;
    }
    if let Some(m) = msg.document_message.as_option() {
        let mut v = media(MediaRef::new(
            "document",
            &m.direct_path,
            &m.media_key,
            &m.file_enc_sha256,
            &m.file_sha256,
            m.file_length,
        ));
        v["caption"] = json!(m.caption);
        v["mimetype"] = json!(m.mimetype);
        v["filename"] = json!(m.file_name);
        return v;
    }
    if let Some(m) = msg.video_message.as_option() {
        let mut v = media(MediaRef::new(
            "video",
            &m.direct_path,
            &m.media_key,
            &m.file_enc_sha256,
            &m.file_sha256,
            m.file_length,
        ));
        v["caption"] = json!(m.caption);
        v["mimetype"] = json!(m.mimetype);
        return v;
    }
    if let Some(m) = msg.audio_message.as_option() {
        let mut v = media(MediaRef::new(
            "audio",
            &m.direct_path,
            &m.media_key,
            &m.file_enc_sha256,
            &m.file_sha256,
            m.file_length,
        ));
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

impl<'a> MediaRef<'a> {
    fn new(
        kind: &'static str,
        direct_path: &'a Option<String>,
        media_key: &'a Option<Vec<u8>>,
        file_enc_sha256: &'a Option<Vec<u8>>,
        file_sha256: &'a Option<Vec<u8>>,
        file_length: Option<u64>,
    ) -> Self {
        MediaRef {
            kind,
            direct_path: direct_path.as_deref(),
            media_key: media_key.as_deref(),
            file_enc_sha256: file_enc_sha256.as_deref(),
            file_sha256: file_sha256.as_deref(),
            file_length,
        }
    }
}
