//! Summaries of the shapes the end-to-end tests cannot make the client
//! send: wrapped edits, housekeeping, disappearing-message envelopes.

use super::summarize;
use buffa::MessageField;
use serde_json::{Value, json};
use wa::message::protocol_message::Type;
use waproto::whatsapp as wa;

fn no_media(_: super::MediaRef<'_>) -> Value {
    panic!("no media in these messages")
}

fn text(t: &str) -> wa::Message {
    wa::Message {
        conversation: Some(t.into()),
        ..Default::default()
    }
}

fn protocol(kind: Type, edited: Option<wa::Message>) -> wa::Message {
    wa::Message {
        protocol_message: MessageField::some(wa::message::ProtocolMessage {
            key: MessageField::some(wa::MessageKey {
                id: Some("TARGET".into()),
                from_me: Some(true),
                ..Default::default()
            }),
            r#type: Some(kind),
            edited_message: edited.map(MessageField::some).unwrap_or_default(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn wrapped(inner: wa::Message) -> MessageField<wa::message::FutureProofMessage> {
    MessageField::some(wa::message::FutureProofMessage {
        message: MessageField::some(inner),
    })
}

#[test]
fn an_edit_inside_the_edited_message_envelope_is_an_edit() {
    let msg = wa::Message {
        edited_message: wrapped(protocol(Type::MESSAGE_EDIT, Some(text("fixed")))),
        ..Default::default()
    };
    assert_eq!(
        summarize(&msg, &no_media),
        Some(json!({"type": "edit", "targetId": "TARGET", "text": "fixed"}))
    );
}

#[test]
fn housekeeping_stays_out_of_the_inbox() {
    for kind in [
        Type::APP_STATE_SYNC_KEY_SHARE,
        Type::HISTORY_SYNC_NOTIFICATION,
    ] {
        assert_eq!(summarize(&protocol(kind, None), &no_media), None);
    }
    let revoke = summarize(&protocol(Type::REVOKE, None), &no_media);
    assert_eq!(
        revoke,
        Some(json!({"type": "revoke", "targetId": "TARGET"}))
    );
}

#[test]
fn a_disappearing_message_shows_what_it_wraps() {
    let msg = wa::Message {
        ephemeral_message: wrapped(text("gone soon")),
        ..Default::default()
    };
    let summary = summarize(&msg, &no_media).unwrap();
    assert_eq!(summary["text"], "gone soon");
}
