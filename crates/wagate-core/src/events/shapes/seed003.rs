//! The webhook body of seed 003, a small messaging microservice: only
//! `message.received`, in an envelope with `data`, following its
//! `WebhookPayload` and `InboundMessage` TypeScript interfaces.

use super::iso_millis;
use crate::events::{Event, EventData, EventKind, InboundKind, InboundMedia, InboundMessage};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

pub(super) fn render(event: &Event, dispatched_at: DateTime<Utc>) -> Option<Value> {
    let EventData::MessageReceived(message) = &event.data else {
        return None;
    };
    Some(json!({
        "event": "message.received",
        "sessionId": event.session.as_str(),
        "timestamp": iso_millis(dispatched_at),
        "data": data(message),
    }))
}

/// "Filters out messages older than 90 days to avoid processing
/// historical data on reconnection": the age is the message's own send
/// time against when the gateway recorded it.
const MAX_MESSAGE_AGE_S: i64 = 90 * 24 * 60 * 60;

pub(super) fn leaves_out(kind: &str, data: &Value, recorded_at: DateTime<Utc>) -> bool {
    kind == EventKind::MessageReceived.as_str()
        && data
            .get("timestamp")
            .and_then(Value::as_i64)
            .is_some_and(|sent| recorded_at.timestamp() - sent > MAX_MESSAGE_AGE_S)
}

fn data(message: &InboundMessage) -> Value {
    // A sender known only by a LID keeps its whole JID (`…@lid`), so it is
    // never taken for a phone number; the send endpoint accepts it back.
    let from = match &message.from.phone {
        Some(phone) => phone.clone(),
        None => {
            let jid = &message.from.jid;
            jid.strip_suffix("@s.whatsapp.net")
                .unwrap_or(jid)
                .to_string()
        }
    };
    let mut data = Map::new();
    data.insert("messageId".into(), message.id.clone().into());
    data.insert("from".into(), from.into());
    // `string | null`: present even when unknown.
    data.insert("pushName".into(), message.from.push_name.clone().into());
    data.insert("timestamp".into(), message.timestamp.into());
    data.insert("type".into(), message_type(message.kind).into());
    // `text?` and `media?`: left out, not null, when there is none.
    if let Some(text) = &message.text {
        data.insert("text".into(), text.clone().into());
    }
    if let Some(media) = &message.media {
        data.insert("media".into(), media_info(media, message.text.as_deref()));
    }
    Value::Object(data)
}

/// The document's `MessageType` has seven values; a voice note is audio,
/// and everything it does not list is `unknown`.
fn message_type(kind: InboundKind) -> &'static str {
    match kind {
        InboundKind::Text => "text",
        InboundKind::Image => "image",
        InboundKind::Video => "video",
        InboundKind::Audio | InboundKind::Voice => "audio",
        InboundKind::Document => "document",
        InboundKind::Sticker => "sticker",
        InboundKind::Location
        | InboundKind::Contacts
        | InboundKind::Reaction
        | InboundKind::Poll
        | InboundKind::PollVote
        | InboundKind::Edit
        | InboundKind::Revoke
        | InboundKind::Unknown => "unknown",
    }
}

/// `MediaInfo`: the caption repeats `text`, as in the document's example.
/// Its `url` is "public": the signed link that needs no API key when the
/// gateway hands those out, else the gateway's own media URL.
fn media_info(media: &InboundMedia, caption: Option<&str>) -> Value {
    let mut info = Map::new();
    info.insert("mimeType".into(), media.mimetype.clone().into());
    if let Some(name) = &media.file_name {
        info.insert("fileName".into(), name.clone().into());
    }
    let url = media.public_url.as_ref().unwrap_or(&media.url);
    info.insert("url".into(), url.clone().into());
    if let Some(caption) = caption {
        info.insert("caption".into(), caption.into());
    }
    Value::Object(info)
}
