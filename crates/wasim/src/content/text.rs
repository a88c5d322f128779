//! Text messages: plain, or extended with a link preview.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use waproto::whatsapp as wa;

/// `{"type":"text","text","linkPreview"}`, for either text kind.
pub fn summarize(msg: &wa::Message) -> Option<Value> {
    if let Some(text) = &msg.conversation {
        return Some(json!({"type": "text", "text": text, "linkPreview": null}));
    }
    let ext = msg.extended_text_message.as_option()?;
    Some(json!({
        "type": "text",
        "text": ext.text.clone().unwrap_or_default(),
        "linkPreview": link_preview(ext),
    }))
}

/// What the recipient's phone renders under the text: present once the
/// sender attached any part of a preview, `null` otherwise.
fn link_preview(ext: &wa::message::ExtendedTextMessage) -> Value {
    let has_preview = ext.matched_text.is_some()
        || ext.title.is_some()
        || ext.description.is_some()
        || ext.jpeg_thumbnail.is_some();
    if !has_preview {
        return Value::Null;
    }
    // The matched text is the link as the user typed it; the chat message's
    // schema has no separate canonical URL (only the consumer-app one does).
    let mut card =
        json!({"url": ext.matched_text, "title": ext.title, "description": ext.description});
    if let Some(jpeg) = &ext.jpeg_thumbnail {
        card["thumbnail"] = thumbnail(jpeg, ext);
    }
    card
}

/// The picture on the card, described rather than copied: phones show
/// only JPEG thumbnails, so whether it is one is part of the answer.
fn thumbnail(jpeg: &[u8], ext: &wa::message::ExtendedTextMessage) -> Value {
    json!({
        "size": jpeg.len(),
        "sha256": hex::encode(Sha256::digest(jpeg)),
        "jpeg": jpeg.starts_with(&[0xFF, 0xD8, 0xFF]),
        "width": ext.thumbnail_width,
        "height": ext.thumbnail_height,
    })
}

/// The text a person reads in a message: its body or its media caption.
/// What a reply quotes and what an edit changes a message to.
pub fn text_of(msg: &wa::Message) -> Option<String> {
    let msg = super::unwrap(msg);
    if let Some(text) = &msg.conversation {
        return Some(text.clone());
    }
    if let Some(ext) = msg.extended_text_message.as_option() {
        return ext.text.clone();
    }
    msg.image_message
        .as_option()
        .and_then(|m| m.caption.clone())
        .or_else(|| msg.video_message.as_option()?.caption.clone())
        .or_else(|| msg.document_message.as_option()?.caption.clone())
}
