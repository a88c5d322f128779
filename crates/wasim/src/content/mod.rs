//! What a simulated phone makes of a decrypted `Message`: the inbox entry
//! the admin API shows. Each kind has its own summary (`text`, `media`,
//! `shared`, `protocol`); a reply's context is added to any of them.

mod media;
mod protocol;
mod shared;
mod text;

use serde_json::{Value, json};
use waproto::whatsapp as wa;

pub use text::text_of;

/// The message inside the wrappers a phone looks through: device-sent
/// copies, disappearing and view-once envelopes, documents with captions
/// and the `edited_message` envelope around an edit.
pub fn unwrap(msg: &wa::Message) -> &wa::Message {
    if let Some(dsm) = msg.device_sent_message.as_option()
        && let Some(inner) = dsm.message.as_option()
    {
        return unwrap(inner);
    }
    let envelopes = [
        &msg.ephemeral_message,
        &msg.view_once_message,
        &msg.view_once_message_v2,
        &msg.view_once_message_v2_extension,
        &msg.document_with_caption_message,
        &msg.edited_message,
    ];
    for envelope in envelopes {
        if let Some(inner) = envelope.as_option().and_then(|f| f.message.as_option()) {
            return unwrap(inner);
        }
    }
    msg
}

/// Reads where the blob is from any media message: they all name these
/// fields alike.
macro_rules! media_ref {
    ($kind:literal, $m:expr) => {
        $crate::content::MediaRef {
            kind: $kind,
            direct_path: $m.direct_path.as_deref(),
            media_key: $m.media_key.as_deref(),
            file_enc_sha256: $m.file_enc_sha256.as_deref(),
            file_sha256: $m.file_sha256.as_deref(),
            file_length: $m.file_length,
        }
    };
}
pub(crate) use media_ref;

/// A JSON summary: `type` plus the fields that matter for that kind, and
/// `quoted` when the message replies to another. Media is described by the
/// `media` hook. `None` for what a phone never shows in a chat: the
/// protocol housekeeping between a user's own devices.
pub fn summarize(msg: &wa::Message, media: &dyn Fn(MediaRef<'_>) -> Value) -> Option<Value> {
    let msg = unwrap(msg);
    let shown = text::summarize(msg)
        .or_else(|| media::summarize(msg, media))
        .or_else(|| shared::summarize(msg));
    let mut summary = match shown {
        Some(summary) => summary,
        None => protocol::summarize(msg).unwrap_or_else(|| Some(json!({"type": "unknown"})))?,
    };
    if let Some(quoted) = context_info(msg).and_then(quoted) {
        summary["quoted"] = quoted;
    }
    Some(summary)
}

/// The reply context any kind may carry: which message it answers, whose
/// it was, and its text when the sender quoted it.
fn quoted(ctx: &wa::ContextInfo) -> Option<Value> {
    let id = ctx.stanza_id.as_deref()?;
    let text = ctx.quoted_message.as_option().and_then(text_of);
    Some(json!({"id": id, "participant": ctx.participant, "text": text}))
}

/// The first kind-specific `context_info` the message has.
fn context_info(msg: &wa::Message) -> Option<&wa::ContextInfo> {
    macro_rules! first_of {
        ($($field:ident),*) => {
            None$(.or_else(|| {
                msg.$field.as_option().and_then(|m| m.context_info.as_option())
            }))*
        };
    }
    first_of!(
        extended_text_message,
        image_message,
        video_message,
        audio_message,
        document_message,
        sticker_message,
        location_message,
        contact_message,
        contacts_array_message,
        poll_creation_message,
        poll_creation_message_v2,
        poll_creation_message_v3
    )
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

#[cfg(test)]
mod tests;
