//! Media messages: the media hook fetches and checks the blob; the
//! summary adds the fields a phone shows with it.

use super::{MediaRef, media_ref};
use serde_json::{Value, json};
use waproto::whatsapp as wa;

pub fn summarize(msg: &wa::Message, media: &dyn Fn(MediaRef<'_>) -> Value) -> Option<Value> {
    if let Some(m) = msg.image_message.as_option() {
        let mut v = media(media_ref!("image", m));
        v["caption"] = json!(m.caption);
        v["mimetype"] = json!(m.mimetype);
        return Some(v);
    }
    if let Some(m) = msg.document_message.as_option() {
        let mut v = media(media_ref!("document", m));
        v["caption"] = json!(m.caption);
        v["mimetype"] = json!(m.mimetype);
        v["filename"] = json!(m.file_name);
        return Some(v);
    }
    if let Some(m) = msg.video_message.as_option() {
        let mut v = media(media_ref!("video", m));
        v["caption"] = json!(m.caption);
        v["mimetype"] = json!(m.mimetype);
        return Some(v);
    }
    if let Some(m) = msg.audio_message.as_option() {
        let mut v = media(media_ref!("audio", m));
        v["mimetype"] = json!(m.mimetype);
        v["ptt"] = json!(m.ptt.unwrap_or(false));
        return Some(v);
    }
    if let Some(m) = msg.sticker_message.as_option() {
        let mut v = media(media_ref!("sticker", m));
        v["mimetype"] = json!(m.mimetype);
        v["animated"] = json!(m.is_animated.unwrap_or(false));
        return Some(v);
    }
    None
}
