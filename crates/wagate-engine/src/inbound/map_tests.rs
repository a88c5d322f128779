//! Who sent what and where, the envelopes around a message, replies, and
//! the protocol messages: edits and deletions in, housekeeping out.

use super::map::inbound_message;
use wa::message::protocol_message::Type;
use wagate_core::events::{Edit, InboundKind, InboundMessage, ReplyTo, Revoke, Sender};
use whatsapp_rust::Jid;
use whatsapp_rust::buffa::MessageField;
use whatsapp_rust::chrono::{TimeZone, Utc};
use whatsapp_rust::types::message::{MessageInfo, MessageSource};
use whatsapp_rust::waproto::whatsapp::{self as wa, message as m};

pub const ID: &str = "3EB0C7F8F2B1234567";

fn jid(s: &str) -> Jid {
    s.parse().unwrap()
}

/// A direct message from a phone-number sender, as most arrive.
pub fn info() -> MessageInfo {
    info_from(
        "15550002222:3@s.whatsapp.net",
        None,
        "15550002222@s.whatsapp.net",
    )
}

fn info_from(sender: &str, alt: Option<&str>, chat: &str) -> MessageInfo {
    MessageInfo {
        source: MessageSource {
            chat: jid(chat),
            sender: jid(sender),
            is_group: chat.ends_with("@g.us"),
            sender_alt: alt.map(jid),
            ..Default::default()
        },
        id: ID.into(),
        push_name: "Ann".into(),
        timestamp: Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
        ..Default::default()
    }
}

pub fn media_url(id: &str) -> String {
    format!("https://gw.example/media/{id}")
}

/// `msg` mapped from [`info`]; panics when it is not reported.
pub fn map(msg: &wa::Message) -> InboundMessage {
    inbound_message(msg, &info(), media_url, None).expect("a reported message")
}

pub fn text(t: &str) -> wa::Message {
    wa::Message {
        conversation: Some(t.into()),
        ..Default::default()
    }
}

fn wrapped(inner: wa::Message) -> MessageField<m::FutureProofMessage> {
    MessageField::some(m::FutureProofMessage {
        message: MessageField::some(inner),
    })
}

fn protocol(kind: Type, edited: Option<wa::Message>) -> wa::Message {
    wa::Message {
        protocol_message: MessageField::some(m::ProtocolMessage {
            key: MessageField::some(wa::MessageKey {
                id: Some("TARGET".into()),
                from_me: Some(false),
                ..Default::default()
            }),
            r#type: Some(kind),
            edited_message: edited.map(MessageField::some).unwrap_or_default(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn a_direct_text_names_sender_chat_and_time() {
    let msg = map(&text("hello"));
    assert_eq!(msg.id, ID);
    assert_eq!(msg.chat_id, "15550002222@s.whatsapp.net");
    assert!(!msg.is_group);
    assert_eq!(msg.timestamp, 1_700_000_000);
    assert_eq!(
        (msg.kind, msg.text.as_deref()),
        (InboundKind::Text, Some("hello"))
    );
    assert_eq!(
        msg.from,
        Sender {
            phone: Some("15550002222".into()),
            jid: "15550002222@s.whatsapp.net".into(),
            lid: None,
            push_name: Some("Ann".into()),
        }
    );
    assert!(msg.media.is_none() && msg.reply_to.is_none());
}

#[test]
fn a_lid_sender_takes_its_phone_from_the_alternative() {
    let group = "120363000000000001@g.us";
    let info = info_from(
        "98765432101234:7@lid",
        Some("15550003333@s.whatsapp.net"),
        group,
    );
    let msg = inbound_message(&text("hi"), &info, media_url, None).unwrap();
    assert!(msg.is_group);
    assert_eq!(msg.chat_id, group);
    assert_eq!(msg.from.jid, "98765432101234@lid");
    assert_eq!(msg.from.lid.as_deref(), Some("98765432101234@lid"));
    assert_eq!(msg.from.phone.as_deref(), Some("15550003333"));
}

#[test]
fn a_lid_without_a_number_has_no_phone() {
    let mut info = info_from("98765432101234@lid", None, "98765432101234@lid");
    info.push_name = String::new();
    let msg = inbound_message(&text("hi"), &info, media_url, None).unwrap();
    assert_eq!(msg.from.phone, None);
    assert_eq!(msg.from.push_name, None);
    assert_eq!(msg.from.lid.as_deref(), Some("98765432101234@lid"));
}

#[test]
fn the_lid_comes_from_the_alternative_or_the_caller() {
    let info = info_from(
        "15550003333@s.whatsapp.net",
        Some("98765432101234@lid"),
        "15550003333@s.whatsapp.net",
    );
    let known = Some("11111111111111@lid".to_string());
    let msg = inbound_message(&text("hi"), &info, media_url, known.clone()).unwrap();
    assert_eq!(msg.from.lid.as_deref(), Some("98765432101234@lid"));

    let msg = inbound_message(&text("hi"), &self::info(), media_url, known).unwrap();
    assert_eq!(msg.from.lid.as_deref(), Some("11111111111111@lid"));
}

#[test]
fn envelopes_are_opened() {
    let ephemeral = wa::Message {
        ephemeral_message: wrapped(text("gone soon")),
        ..Default::default()
    };
    let device_sent = wa::Message {
        device_sent_message: MessageField::some(m::DeviceSentMessage {
            destination_jid: Some("15550002222@s.whatsapp.net".into()),
            message: MessageField::some(ephemeral.clone()),
            ..Default::default()
        }),
        ..Default::default()
    };
    // Nested in an order wacore's single pass does not expect.
    let ephemeral_in_view_once = wa::Message {
        view_once_message_v2_extension: wrapped(wa::Message {
            ephemeral_message: wrapped(text("gone soon")),
            ..Default::default()
        }),
        ..Default::default()
    };
    for msg in [ephemeral, device_sent, ephemeral_in_view_once] {
        assert_eq!(map(&msg).text.as_deref(), Some("gone soon"));
    }
}

#[test]
fn a_reply_says_what_it_quotes() {
    let quoted = wa::Message {
        image_message: MessageField::some(m::ImageMessage {
            caption: Some("the original".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let msg = wa::Message {
        extended_text_message: MessageField::some(m::ExtendedTextMessage {
            text: Some("yes".into()),
            context_info: MessageField::some(wa::ContextInfo {
                stanza_id: Some("3EB0AAAA".into()),
                participant: Some("15550003333@s.whatsapp.net".into()),
                quoted_message: MessageField::some(quoted),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let msg = map(&msg);
    assert_eq!(
        (msg.kind, msg.text.as_deref()),
        (InboundKind::Text, Some("yes"))
    );
    assert_eq!(
        msg.reply_to,
        Some(ReplyTo {
            id: "3EB0AAAA".into(),
            participant: Some("15550003333@s.whatsapp.net".into()),
            text: Some("the original".into()),
        })
    );
}

#[test]
fn a_forward_is_no_reply() {
    let msg = wa::Message {
        extended_text_message: MessageField::some(m::ExtendedTextMessage {
            text: Some("fwd".into()),
            context_info: MessageField::some(wa::ContextInfo {
                is_forwarded: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert_eq!(map(&msg).reply_to, None);
}

#[test]
fn an_edit_is_reported_bare_or_in_its_envelope() {
    let bare = protocol(Type::MESSAGE_EDIT, Some(text("fixed")));
    let enveloped = wa::Message {
        edited_message: wrapped(bare.clone()),
        ..Default::default()
    };
    for msg in [bare, enveloped] {
        let msg = map(&msg);
        assert_eq!(msg.kind, InboundKind::Edit);
        let edit = Edit {
            target_id: "TARGET".into(),
            text: "fixed".into(),
        };
        assert_eq!((msg.edit, msg.text), (Some(edit), None));
    }
}

#[test]
fn a_deletion_for_everyone_is_a_revoke() {
    let msg = map(&protocol(Type::REVOKE, None));
    assert_eq!(msg.kind, InboundKind::Revoke);
    let revoke = Revoke {
        target_id: "TARGET".into(),
    };
    assert_eq!(msg.revoke, Some(revoke));
}

#[test]
fn housekeeping_is_not_reported() {
    for kind in [
        Type::APP_STATE_SYNC_KEY_SHARE,
        Type::APP_STATE_SYNC_KEY_REQUEST,
        Type::HISTORY_SYNC_NOTIFICATION,
        Type::EPHEMERAL_SETTING,
        Type::PEER_DATA_OPERATION_REQUEST_RESPONSE_MESSAGE,
        Type::LID_MIGRATION_MAPPING_SYNC,
    ] {
        let msg = protocol(kind, None);
        assert_eq!(
            inbound_message(&msg, &info(), media_url, None),
            None,
            "{kind:?}"
        );
    }
    let sender_keys = wa::Message {
        sender_key_distribution_message: MessageField::some(m::SenderKeyDistributionMessage {
            group_id: Some("120363000000000001@g.us".into()),
            axolotl_sender_key_distribution_message: Some(vec![1, 2, 3]),
        }),
        message_context_info: MessageField::some(wa::MessageContextInfo {
            message_secret: Some(vec![7; 32]),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert_eq!(
        inbound_message(&sender_keys, &info(), media_url, None),
        None
    );
    assert_eq!(
        inbound_message(&wa::Message::default(), &info(), media_url, None),
        None
    );
}

#[test]
fn sender_keys_riding_along_do_not_hide_the_content() {
    let mut msg = text("first in the group");
    msg.sender_key_distribution_message = MessageField::some(Default::default());
    assert_eq!(map(&msg).text.as_deref(), Some("first in the group"));
}

#[test]
fn other_content_is_unknown() {
    let msg = wa::Message {
        group_invite_message: MessageField::some(m::GroupInviteMessage {
            group_jid: Some("120363000000000001@g.us".into()),
            invite_code: Some("AbCd".into()),
            context_info: MessageField::some(wa::ContextInfo {
                stanza_id: Some("3EB0AAAA".into()),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let msg = map(&msg);
    assert_eq!(msg.kind, InboundKind::Unknown);
    assert_eq!(msg.reply_to.map(|r| r.id).as_deref(), Some("3EB0AAAA"));
}
