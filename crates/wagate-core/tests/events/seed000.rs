//! Seed 000 (`message_received`, `connected`, `disconnected`, `qr_code`).

use super::{at, event, media, text_from};
use serde_json::{Value, json};
use wagate_core::events::{
    Edit, InboundKind, MessageStatusData, ReplyTo, SessionQrData, SessionStatusData,
    WebhookDisabledData, render,
};
use wagate_core::outbound::{MediaKind, OutboundStatus};
use wagate_core::{Event, EventData, SessionStatus, WebhookShape};

fn seed000(e: &Event) -> Option<Value> {
    render(WebhookShape::Maytapi, e, at("2024-01-15T10:35:00Z"))
}

fn status(status: SessionStatus, phone: Option<&str>, should_reconnect: Option<bool>) -> Event {
    event(
        "client-abc",
        EventData::SessionStatus(SessionStatusData {
            status,
            phone: phone.map(Into::into),
            should_reconnect,
            reason: None,
        }),
    )
}

#[test]
fn incoming_message_as_documented() {
    let e = event(
        "client-abc",
        text_from(
            "919876543210",
            "3EB0C7F8F2B1234567",
            1702987654,
            "Hello, I need help",
        ),
    );
    assert_eq!(
        seed000(&e),
        Some(json!({
            "event": "message_received",
            "sessionId": "client-abc",
            "from": "919876543210@s.whatsapp.net",
            "messageId": "3EB0C7F8F2B1234567",
            "timestamp": 1702987654,
            "type": "conversation",
            "text": "Hello, I need help",
            "hasMedia": false
        }))
    );
}

#[test]
fn connection_status_as_documented() {
    let connected = status(SessionStatus::Connected, Some("919876543210"), None);
    assert_eq!(
        seed000(&connected),
        Some(json!({
            "event": "connected",
            "sessionId": "client-abc",
            "phoneNumber": "919876543210"
        }))
    );
    let dropped = status(
        SessionStatus::Disconnected,
        Some("919876543210"),
        Some(true),
    );
    assert_eq!(
        seed000(&dropped),
        Some(json!({
            "event": "disconnected",
            "sessionId": "client-abc",
            "shouldReconnect": true
        }))
    );
}

#[test]
fn qr_code_as_documented() {
    let e = event(
        "client-abc",
        EventData::SessionQr(SessionQrData {
            qr: "2@abc123...".into(),
        }),
    );
    assert_eq!(
        seed000(&e),
        Some(json!({
            "event": "qr_code",
            "sessionId": "client-abc",
            "qrCode": "2@abc123..."
        }))
    );
}

#[test]
fn a_logout_is_a_disconnect_without_reconnecting() {
    let logged_out = status(SessionStatus::LoggedOut, Some("919876543210"), None);
    assert_eq!(seed000(&logged_out).unwrap()["shouldReconnect"], false);
    let given_up = status(SessionStatus::Disconnected, None, Some(false));
    assert_eq!(seed000(&given_up).unwrap()["shouldReconnect"], false);
    let unsaid = status(SessionStatus::Disconnected, None, None);
    assert_eq!(seed000(&unsaid).unwrap()["shouldReconnect"], true);
}

#[test]
fn media_adds_only_its_url() {
    let mut m = text_from("919876543210", "3EB0C7F8F2B1234568", 1702987655, "Invoice");
    m.kind = InboundKind::Image;
    m.media = Some(media(
        MediaKind::Image,
        "image/jpeg",
        "https://gw.example.com/api/v1/media/3EB0C7F8F2B1234568",
    ));
    assert_eq!(
        seed000(&event("client-abc", m)),
        Some(json!({
            "event": "message_received",
            "sessionId": "client-abc",
            "from": "919876543210@s.whatsapp.net",
            "messageId": "3EB0C7F8F2B1234568",
            "timestamp": 1702987655,
            "type": "imageMessage",
            "text": "Invoice",
            "hasMedia": true,
            "mediaUrl": "https://gw.example.com/api/v1/media/3EB0C7F8F2B1234568"
        }))
    );
}

#[test]
fn types_use_whatsapp_proto_names() {
    let mut reply = text_from("1555", "A", 1, "yes");
    reply.reply_to = Some(ReplyTo {
        id: "B".into(),
        participant: None,
        text: None,
    });
    assert_eq!(
        seed000(&event("s", reply)).unwrap()["type"],
        "extendedTextMessage"
    );

    let cases = [
        (InboundKind::Video, "videoMessage"),
        (InboundKind::Audio, "audioMessage"),
        (InboundKind::Voice, "audioMessage"),
        (InboundKind::Document, "documentMessage"),
        (InboundKind::Sticker, "stickerMessage"),
        (InboundKind::Location, "locationMessage"),
        (InboundKind::Contacts, "contactMessage"),
        (InboundKind::Reaction, "reactionMessage"),
        (InboundKind::Poll, "pollCreationMessage"),
        (InboundKind::PollVote, "pollUpdateMessage"),
        (InboundKind::Edit, "editedMessage"),
        (InboundKind::Revoke, "protocolMessage"),
        (InboundKind::Unknown, "unknown"),
    ];
    for (kind, proto) in cases {
        let mut m = text_from("1555", "A", 1, "x");
        m.kind = kind;
        m.text = None;
        let body = seed000(&event("s", m)).unwrap();
        assert_eq!(body["type"], proto, "{kind:?}");
        // Still a string when the message has no text.
        assert_eq!(body["text"], "", "{kind:?}");
    }
}

#[test]
fn an_edit_reports_its_new_text() {
    let mut m = text_from("1555", "A", 1, "");
    m.kind = InboundKind::Edit;
    m.text = None;
    m.edit = Some(Edit {
        target_id: "B".into(),
        text: "fixed typo".into(),
    });
    assert_eq!(seed000(&event("s", m)).unwrap()["text"], "fixed typo");
}

#[test]
fn the_sender_is_a_phone_jid_when_the_number_is_known() {
    let mut group = text_from("5511999999999", "A", 1, "hi all");
    group.chat_id = "120363025246125888@g.us".into();
    group.is_group = true;
    assert_eq!(
        seed000(&event("s", group)).unwrap()["from"],
        "5511999999999@s.whatsapp.net"
    );

    let mut hidden = text_from("1555", "A", 1, "hi");
    hidden.from.phone = None;
    hidden.from.jid = "203348221161649@lid".into();
    assert_eq!(
        seed000(&event("s", hidden)).unwrap()["from"],
        "203348221161649@lid"
    );
}

#[test]
fn other_events_have_no_seed000_form() {
    for s in [SessionStatus::Connecting, SessionStatus::Qr] {
        assert_eq!(seed000(&status(s, None, None)), None, "{s:?}");
    }
    let receipt = event(
        "s",
        EventData::MessageStatus(MessageStatusData {
            id: "A".into(),
            to: "1555@s.whatsapp.net".into(),
            status: OutboundStatus::Read,
            error: None,
            timestamp: 1,
        }),
    );
    assert_eq!(seed000(&receipt), None);
    let disabled = event(
        "s",
        EventData::WebhookDisabled(WebhookDisabledData {
            endpoint_id: "wh_1".into(),
            url: "https://example.com".into(),
            reason: "failing".into(),
        }),
    );
    assert_eq!(seed000(&disabled), None);
}
