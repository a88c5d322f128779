//! Seed 003 (`message.received` in an envelope with `data`).

use super::{at, event, media, text_from};
use serde_json::{Value, json};
use wagate_core::events::{InboundKind, InboundMessage, SessionQrData, SessionStatusData, render};
use wagate_core::outbound::MediaKind;
use wagate_core::{Event, EventData, SessionStatus, WebhookShape};

fn seed003(e: &Event) -> Option<Value> {
    render(WebhookShape::Microservice, e, at("2024-01-15T10:35:00Z"))
}

/// The sender of every example of the document.
fn from_john(id: &str, text: Option<&str>) -> InboundMessage {
    let mut m = text_from("5511999999999", id, 1705315200, "");
    m.from.push_name = Some("John Doe".into());
    m.text = text.map(Into::into);
    m
}

#[test]
fn text_message_as_documented() {
    let e = event(
        "my-session-01",
        from_john("3EB0B430A7C9D2F17E93", Some("Hello!")),
    );
    assert_eq!(
        seed003(&e),
        Some(json!({
            "event": "message.received",
            "sessionId": "my-session-01",
            "timestamp": "2024-01-15T10:35:00.000Z",
            "data": {
                "messageId": "3EB0B430A7C9D2F17E93",
                "from": "5511999999999",
                "pushName": "John Doe",
                "timestamp": 1705315200,
                "type": "text",
                "text": "Hello!"
            }
        }))
    );
}

#[test]
fn image_message_as_documented() {
    let url = "https://xxx.supabase.co/storage/v1/object/public/whatsapp-media/my-session-01/3EB0B430A7C9D2F17E94.jpg";
    let mut m = from_john("3EB0B430A7C9D2F17E94", Some("Check this out!"));
    m.kind = InboundKind::Image;
    m.media = Some(media(MediaKind::Image, "image/jpeg", url));
    assert_eq!(
        seed003(&event("my-session-01", m)),
        Some(json!({
            "event": "message.received",
            "sessionId": "my-session-01",
            "timestamp": "2024-01-15T10:35:00.000Z",
            "data": {
                "messageId": "3EB0B430A7C9D2F17E94",
                "from": "5511999999999",
                "pushName": "John Doe",
                "timestamp": 1705315200,
                "type": "image",
                "text": "Check this out!",
                "media": {
                    "mimeType": "image/jpeg",
                    "url": url,
                    "caption": "Check this out!"
                }
            }
        }))
    );
}

#[test]
fn document_message_as_documented() {
    let url = "https://xxx.supabase.co/storage/v1/object/public/whatsapp-media/my-session-01/3EB0B430A7C9D2F17E95_report.pdf.pdf";
    let mut m = from_john("3EB0B430A7C9D2F17E95", None);
    m.kind = InboundKind::Document;
    let mut file = media(MediaKind::Document, "application/pdf", url);
    file.file_name = Some("report.pdf".into());
    m.media = Some(file);
    assert_eq!(
        seed003(&event("my-session-01", m)),
        Some(json!({
            "event": "message.received",
            "sessionId": "my-session-01",
            "timestamp": "2024-01-15T10:35:00.000Z",
            "data": {
                "messageId": "3EB0B430A7C9D2F17E95",
                "from": "5511999999999",
                "pushName": "John Doe",
                "timestamp": 1705315200,
                "type": "document",
                "media": {
                    "mimeType": "application/pdf",
                    "fileName": "report.pdf",
                    "url": url
                }
            }
        }))
    );
}

#[test]
fn the_envelope_time_is_the_dispatch_time() {
    let e = event("s", from_john("A", Some("hi")));
    let retry = render(WebhookShape::Microservice, &e, at("2024-01-15T10:40:07.5Z")).unwrap();
    assert_eq!(retry["timestamp"], "2024-01-15T10:40:07.500Z");
}

#[test]
fn push_name_is_null_not_absent() {
    let e = event("s", text_from("5511999999999", "A", 1, "hi"));
    let data = &seed003(&e).unwrap()["data"];
    assert_eq!(data.get("pushName"), Some(&Value::Null));
}

#[test]
fn types_fold_into_the_seven_documented() {
    let mut voice = from_john("A", None);
    voice.kind = InboundKind::Voice;
    voice.media = Some(media(
        MediaKind::Voice,
        "audio/ogg; codecs=opus",
        "https://gw/m/A",
    ));
    let data = seed003(&event("s", voice)).unwrap()["data"].clone();
    assert_eq!(data["type"], "audio");
    assert_eq!(
        data["media"],
        json!({"mimeType": "audio/ogg; codecs=opus", "url": "https://gw/m/A"})
    );
    assert!(data.get("text").is_none());

    for kind in [
        InboundKind::Location,
        InboundKind::Contacts,
        InboundKind::Reaction,
        InboundKind::Poll,
        InboundKind::PollVote,
        InboundKind::Edit,
        InboundKind::Revoke,
        InboundKind::Unknown,
    ] {
        let mut m = from_john("A", None);
        m.kind = kind;
        assert_eq!(seed003(&event("s", m)).unwrap()["data"]["type"], "unknown");
    }
    for kind in ["video", "audio", "sticker"] {
        let mut m = from_john("A", None);
        m.kind = InboundKind::parse(kind).unwrap();
        assert_eq!(seed003(&event("s", m)).unwrap()["data"]["type"], kind);
    }
}

#[test]
fn a_sender_without_a_known_number_keeps_its_jid() {
    let mut m = from_john("A", Some("hi"));
    m.from.phone = None;
    m.from.jid = "203348221161649@lid".into();
    assert_eq!(
        seed003(&event("s", m)).unwrap()["data"]["from"],
        "203348221161649@lid"
    );
}

#[test]
fn only_received_messages_have_a_seed003_form() {
    let qr = event(
        "s",
        EventData::SessionQr(SessionQrData { qr: "2@x".into() }),
    );
    assert_eq!(seed003(&qr), None);
    let connected = event(
        "s",
        EventData::SessionStatus(SessionStatusData {
            status: SessionStatus::Connected,
            phone: Some("5511999999999".into()),
            should_reconnect: None,
            reason: None,
        }),
    );
    assert_eq!(seed003(&connected), None);
}

#[test]
fn media_url_is_the_public_link_when_there_is_one() {
    let mut m = from_john("A", None);
    m.kind = InboundKind::Image;
    let mut image = media(
        MediaKind::Image,
        "image/jpeg",
        "https://gw/api/v1/media/evt_1",
    );
    image.public_url = Some("https://gw/media/evt_1?tenant=7&expires=9&sig=abc".into());
    m.media = Some(image.clone());
    let data = seed003(&event("s", m.clone())).unwrap()["data"].clone();
    assert_eq!(
        data["media"]["url"],
        "https://gw/media/evt_1?tenant=7&expires=9&sig=abc"
    );
    image.public_url = None;
    m.media = Some(image);
    let data = seed003(&event("s", m)).unwrap()["data"].clone();
    assert_eq!(data["media"]["url"], "https://gw/api/v1/media/evt_1");
}

#[test]
fn received_messages_over_90_days_old_leave_seed003_out() {
    let now = at("2024-04-15T00:00:00Z");
    let day = 24 * 60 * 60;
    let received = |sent: i64| {
        let m = text_from("5511999999999", "A", sent, "hi");
        serde_json::to_value(m).unwrap()
    };
    let kind = "message.received";
    let seed003 = WebhookShape::Microservice;
    assert!(seed003.leaves_out(kind, &received(now.timestamp() - 91 * day), now));
    assert!(!seed003.leaves_out(kind, &received(now.timestamp() - 89 * day), now));
    assert!(!seed003.leaves_out(kind, &received(now.timestamp()), now));
    // Other kinds and other shapes are never left out.
    let old = received(now.timestamp() - 400 * day);
    assert!(!seed003.leaves_out("message.status", &old, now));
    assert!(!WebhookShape::Native.leaves_out(kind, &old, now));
    assert!(!WebhookShape::Maytapi.leaves_out(kind, &old, now));
}
