//! The webhook bodies of seed 000, a Maytapi-style gateway built on
//! Baileys: `message_received`, `connected`, `disconnected`, `qr_code`.
//!
//! The fields are exactly the document's, with one addition: a message
//! with media also carries `mediaUrl`, the gateway URL of the file,
//! because `hasMedia: true` alone gives a client no way to fetch it.

use crate::SessionStatus;
use crate::events::{Event, EventData, InboundKind, InboundMessage};
use serde_json::{Value, json};

pub(super) fn render(event: &Event) -> Option<Value> {
    let session = event.session.as_str();
    match &event.data {
        EventData::MessageReceived(message) => Some(message_received(session, message)),
        EventData::SessionStatus(change) => match change.status {
            // Always a string, as documented; a connection without a known
            // number does not happen, but would read as empty, not null.
            SessionStatus::Connected => Some(json!({
                "event": "connected",
                "sessionId": session,
                "phoneNumber": change.phone.as_deref().unwrap_or(""),
            })),
            // Baileys' rule: reconnect after anything but a logout.
            SessionStatus::Disconnected => Some(disconnected(
                session,
                change.should_reconnect.unwrap_or(true),
            )),
            SessionStatus::LoggedOut => Some(disconnected(session, false)),
            SessionStatus::Connecting | SessionStatus::Qr => None,
        },
        EventData::SessionQr(qr) => Some(json!({
            "event": "qr_code",
            "sessionId": session,
            "qrCode": qr.qr,
        })),
        EventData::MessageStatus(_) | EventData::WebhookDisabled(_) => None,
    }
}

fn disconnected(session: &str, should_reconnect: bool) -> Value {
    json!({
        "event": "disconnected",
        "sessionId": session,
        "shouldReconnect": should_reconnect,
    })
}

fn message_received(session: &str, message: &InboundMessage) -> Value {
    // The sender's phone JID when the number is known (in a group too:
    // the document's `from` is a person); otherwise the JID as given.
    let from = match &message.from.phone {
        Some(phone) => format!("{phone}@s.whatsapp.net"),
        None => message.from.jid.clone(),
    };
    // Always a string, empty when there is none, as a Baileys gateway
    // that reads `conversation || caption || ''` sends it.
    let text = message
        .text
        .as_deref()
        .or(message.edit.as_ref().map(|e| e.text.as_str()))
        .unwrap_or("");
    let mut body = json!({
        "event": "message_received",
        "sessionId": session,
        "from": from,
        "messageId": message.id,
        "timestamp": message.timestamp,
        "type": proto_type(message),
        "text": text,
        "hasMedia": message.media.is_some(),
    });
    if let Some(media) = &message.media {
        body["mediaUrl"] = Value::from(media.url.as_str());
    }
    body
}

/// The message's field name in WhatsApp's protobuf, which Baileys reports
/// as the type.
fn proto_type(message: &InboundMessage) -> &'static str {
    match message.kind {
        // WhatsApp sends a text that quotes or previews something as an
        // extended text; a reply is the one case the event shows.
        InboundKind::Text if message.reply_to.is_some() => "extendedTextMessage",
        InboundKind::Text => "conversation",
        InboundKind::Image => "imageMessage",
        InboundKind::Video => "videoMessage",
        InboundKind::Audio | InboundKind::Voice => "audioMessage",
        InboundKind::Document => "documentMessage",
        InboundKind::Sticker => "stickerMessage",
        InboundKind::Location => "locationMessage",
        InboundKind::Contacts if message.contacts.as_ref().is_some_and(|c| c.len() > 1) => {
            "contactsArrayMessage"
        }
        InboundKind::Contacts => "contactMessage",
        InboundKind::Reaction => "reactionMessage",
        InboundKind::Poll => "pollCreationMessage",
        InboundKind::PollVote => "pollUpdateMessage",
        InboundKind::Edit => "editedMessage",
        InboundKind::Revoke => "protocolMessage",
        InboundKind::Unknown => "unknown",
    }
}
