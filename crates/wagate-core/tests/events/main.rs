//! The event model: native payloads, their JSON round trip, and every
//! webhook shape rendered from the examples of the seed documents.

mod seed000;
mod seed003;

use chrono::{DateTime, Utc};
use serde_json::json;
use wagate_core::events::{
    Edit, InboundKind, InboundMedia, InboundMessage, Location, MediaStatus, MessageStatusData,
    Poll, PollVote, Reaction, ReplyTo, Revoke, Sender, SessionQrData, SessionStatusData,
    WebhookDisabledData, render,
};
use wagate_core::outbound::{ContactCard, MediaKind, OutboundStatus};
use wagate_core::{
    Event, EventData, EventId, EventKind, SessionId, SessionStatus, TenantId, WebhookShape,
};

pub fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().into()
}

pub fn event(session: &str, data: impl Into<EventData>) -> Event {
    Event {
        id: "evt_0123456789abcdef01234567".into(),
        seq: 42,
        tenant: TenantId(7),
        session: SessionId::parse(session).unwrap(),
        created_at: at("2024-01-15T10:34:59.250Z"),
        data: data.into(),
    }
}

/// A text in a direct chat from `phone`, with nothing optional set.
pub fn text_from(phone: &str, id: &str, timestamp: i64, text: &str) -> InboundMessage {
    InboundMessage {
        id: id.into(),
        chat_id: format!("{phone}@s.whatsapp.net"),
        is_group: false,
        from: Sender {
            phone: Some(phone.into()),
            jid: format!("{phone}@s.whatsapp.net"),
            lid: None,
            push_name: None,
        },
        timestamp,
        kind: InboundKind::Text,
        text: Some(text.into()),
        media: None,
        location: None,
        contacts: None,
        reaction: None,
        poll: None,
        poll_vote: None,
        edit: None,
        revoke: None,
        reply_to: None,
    }
}

pub fn media(kind: MediaKind, mimetype: &str, url: &str) -> InboundMedia {
    InboundMedia {
        kind,
        mimetype: mimetype.into(),
        file_name: None,
        size: Some(48_213),
        sha256: Some("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into()),
        url: url.into(),
        public_url: None,
        status: MediaStatus::Stored,
        error: None,
    }
}

/// A group message that sets every optional field, for round trips.
fn everything() -> InboundMessage {
    let mut m = text_from("5511999999999", "3EB0B430A7C9D2F17E93", 1705315200, "look");
    m.chat_id = "120363025246125888@g.us".into();
    m.is_group = true;
    m.from.lid = Some("203348221161649@lid".into());
    m.from.push_name = Some("John Doe".into());
    m.kind = InboundKind::Image;
    m.media = Some(InboundMedia {
        file_name: Some("photo.jpg".into()),
        public_url: None,
        status: MediaStatus::Failed,
        error: Some("media expired on WhatsApp".into()),
        ..media(MediaKind::Image, "image/jpeg", "/api/v1/media/abc")
    });
    m.location = Some(Location {
        latitude: -23.55,
        longitude: -46.63,
        name: Some("Paulista".into()),
        address: Some("Av. Paulista, São Paulo".into()),
    });
    m.contacts = Some(vec![ContactCard {
        display_name: "Ana".into(),
        vcard: "BEGIN:VCARD\nVERSION:3.0\nFN:Ana\nEND:VCARD".into(),
    }]);
    m.reaction = Some(Reaction {
        target_id: "3EB0AA".into(),
        emoji: String::new(),
    });
    m.poll = Some(Poll {
        name: "Lunch?".into(),
        options: vec!["Yes".into(), "No".into()],
        selectable_count: 1,
    });
    m.poll_vote = Some(PollVote {
        poll_id: "3EB0BB".into(),
        selected_options: Some(vec!["Yes".into()]),
        selected_option_hashes: None,
        reason: None,
    });
    m.edit = Some(Edit {
        target_id: "3EB0CC".into(),
        text: "fixed".into(),
    });
    m.revoke = Some(Revoke {
        target_id: "3EB0DD".into(),
    });
    m.reply_to = Some(ReplyTo {
        id: "3EB0EE".into(),
        participant: Some("5511888888888@s.whatsapp.net".into()),
        text: Some("earlier".into()),
    });
    m
}

fn every_payload() -> Vec<EventData> {
    vec![
        everything().into(),
        text_from("15550001111", "3EB0FF", 1, "hi").into(),
        EventData::MessageStatus(MessageStatusData {
            id: "3EB0AA".into(),
            to: "15550001111@s.whatsapp.net".into(),
            status: OutboundStatus::Failed,
            error: Some("not on WhatsApp".into()),
            timestamp: 1705315201,
        }),
        EventData::SessionStatus(SessionStatusData {
            status: SessionStatus::Disconnected,
            phone: Some("15550001111".into()),
            should_reconnect: Some(true),
            reason: Some("connection closed".into()),
        }),
        EventData::SessionStatus(SessionStatusData {
            status: SessionStatus::Connecting,
            phone: None,
            should_reconnect: None,
            reason: None,
        }),
        EventData::SessionQr(SessionQrData {
            qr: "2@abc123,xyz,456".into(),
        }),
        EventData::WebhookDisabled(WebhookDisabledData {
            endpoint_id: "wh_1".into(),
            url: "https://example.com/hook".into(),
            reason: "failing for 5 days".into(),
        }),
    ]
}

#[test]
fn every_payload_round_trips_through_json() {
    for data in every_payload() {
        let json = serde_json::to_value(&data).unwrap();
        assert!(json.get("kind").is_none() && json.is_object(), "{json}");
        let back = EventData::from_json(data.kind(), json.clone()).unwrap();
        assert_eq!(back, data, "{json}");
    }
}

#[test]
fn payloads_are_camel_case_and_skip_what_is_unset() {
    let json = serde_json::to_value(EventData::from(everything())).unwrap();
    assert_eq!(json["chatId"], "120363025246125888@g.us");
    assert_eq!(json["isGroup"], true);
    assert_eq!(json["type"], "image");
    assert_eq!(json["from"]["pushName"], "John Doe");
    assert_eq!(json["media"]["fileName"], "photo.jpg");
    assert_eq!(json["media"]["status"], "failed");
    assert_eq!(json["pollVote"]["selectedOptions"], json!(["Yes"]));
    assert!(json["pollVote"].get("reason").is_none());
    assert_eq!(json["poll"]["selectableCount"], 1);
    assert_eq!(
        json["replyTo"]["participant"],
        "5511888888888@s.whatsapp.net"
    );

    let plain = serde_json::to_value(EventData::from(text_from("1555", "X", 1, "hi"))).unwrap();
    assert_eq!(
        plain,
        json!({
            "id": "X",
            "chatId": "1555@s.whatsapp.net",
            "isGroup": false,
            "from": {"phone": "1555", "jid": "1555@s.whatsapp.net"},
            "timestamp": 1,
            "type": "text",
            "text": "hi",
        })
    );
}

#[test]
fn reading_needs_the_right_kind() {
    let qr =
        serde_json::to_value(EventData::SessionQr(SessionQrData { qr: "2@x".into() })).unwrap();
    assert!(EventData::from_json(EventKind::MessageStatus, qr.clone()).is_err());
    assert!(EventData::from_json(EventKind::SessionQr, qr).is_ok());
}

#[test]
fn message_types_added_later_read_back_as_unknown() {
    let mut json = serde_json::to_value(EventData::from(text_from("1555", "X", 1, "hi"))).unwrap();
    json["type"] = json!("viewOnceFuture");
    let EventData::MessageReceived(m) =
        EventData::from_json(EventKind::MessageReceived, json).unwrap()
    else {
        panic!("not a message");
    };
    assert_eq!(m.kind, InboundKind::Unknown);
    for kind in InboundKind::ALL {
        assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        assert_eq!(InboundKind::parse(kind.as_str()), Some(kind));
    }
}

#[test]
fn native_shape_wraps_the_payload() {
    let e = event(
        "client-abc",
        text_from("919876543210", "3EB0C7", 1702987654, "Hello"),
    );
    let dispatched = at("2024-01-16T00:00:00Z");
    assert_eq!(
        render(WebhookShape::Native, &e, dispatched),
        Some(json!({
            "id": "evt_0123456789abcdef01234567",
            "type": "message.received",
            "timestamp": "2024-01-15T10:34:59.250Z",
            "sessionId": "client-abc",
            "data": {
                "id": "3EB0C7",
                "chatId": "919876543210@s.whatsapp.net",
                "isGroup": false,
                "from": {"phone": "919876543210", "jid": "919876543210@s.whatsapp.net"},
                "timestamp": 1702987654,
                "type": "text",
                "text": "Hello",
            },
        }))
    );
    // Every kind has a native form.
    for data in every_payload() {
        let kind = data.kind();
        let body = render(WebhookShape::Native, &event("s1", data), dispatched).unwrap();
        assert_eq!(body["type"], kind.as_str());
    }
}

#[test]
fn shapes_and_ids_by_name() {
    for shape in WebhookShape::ALL {
        assert_eq!(WebhookShape::parse(shape.as_str()), Some(shape));
        assert_eq!(serde_json::to_value(shape).unwrap(), shape.as_str());
    }
    assert_eq!(WebhookShape::parse("seed000"), Some(WebhookShape::Maytapi));
    assert_eq!(
        WebhookShape::parse("seed003"),
        Some(WebhookShape::Microservice)
    );
    assert_eq!(WebhookShape::parse("maytapi"), None);
    assert!(EventId::parse(EventId::generate().as_str()).is_ok());
}
