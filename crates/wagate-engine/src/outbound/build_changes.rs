//! Messages about an earlier message: reactions, edits and deletions. The
//! send infers the stanza's `edit` attribute from their shape
//! (`EditAttribute::infer_from_message`), so they must match what
//! whatsapp-rust's own `edit_message` and `revoke_message` build.

use wagate_core::outbound::{MessageRef, SendFailure};
use whatsapp_rust::Jid;
use whatsapp_rust::buffa::MessageField;
use whatsapp_rust::wacore_binary::JidExt;
use whatsapp_rust::waproto::whatsapp::{self as wa, message as m};

/// The key of `target` in chat `to`. In a group the key names the author:
/// us for our own messages, otherwise the participant the caller gave.
fn key_of(to: &Jid, own: &Jid, target: &MessageRef) -> Result<wa::MessageKey, SendFailure> {
    let participant = match (to.is_group(), target.from_me) {
        (false, _) => None,
        (true, true) => Some(own.to_non_ad_string()),
        (true, false) => Some(target.participant.clone().ok_or_else(|| {
            SendFailure::Permanent("a message received in a group needs its participant".into())
        })?),
    };
    Ok(wa::MessageKey {
        remote_jid: Some(to.to_string()),
        from_me: Some(target.from_me),
        id: Some(target.id.clone()),
        participant,
    })
}

/// An emoji on `target`; an empty one takes our reaction back.
pub(super) fn reaction(
    to: &Jid,
    own: &Jid,
    target: &MessageRef,
    emoji: &str,
    now_ms: i64,
) -> Result<wa::Message, SendFailure> {
    Ok(wa::Message {
        reaction_message: MessageField::some(m::ReactionMessage {
            key: MessageField::some(key_of(to, own, target)?),
            text: Some(emoji.to_string()),
            sender_timestamp_ms: Some(now_ms),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// New text for a message we sent, in WhatsApp Web's wire shape: a
/// top-level `protocol_message` of type MESSAGE_EDIT with the new content
/// under `edited_message`.
pub(super) fn edit(
    to: &Jid,
    own: &Jid,
    target: &MessageRef,
    text: &str,
    now_ms: i64,
) -> Result<wa::Message, SendFailure> {
    if !target.from_me {
        return Err(SendFailure::Permanent(
            "only messages this session sent can be edited".into(),
        ));
    }
    let new_content = wa::Message {
        conversation: Some(text.to_string()),
        ..Default::default()
    };
    Ok(wa::Message {
        protocol_message: MessageField::some(m::ProtocolMessage {
            key: MessageField::some(key_of(to, own, target)?),
            r#type: Some(m::protocol_message::Type::MESSAGE_EDIT),
            edited_message: MessageField::some(new_content),
            timestamp_ms: Some(now_ms),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// Delete for everyone, as the sender: a REVOKE keyed by the message id
/// alone (`from_me` identifies the author, so no participant even in a
/// group). Deleting someone else's message as a group admin needs the
/// client's `revoke_message` with `RevokeType::Admin`, which also forces
/// sender-key distribution; a plain send cannot, so it is refused here.
pub(super) fn revoke(to: &Jid, target: &MessageRef) -> Result<wa::Message, SendFailure> {
    if !target.from_me {
        return Err(SendFailure::Permanent(
            "only messages this session sent can be deleted for everyone".into(),
        ));
    }
    Ok(wa::Message {
        protocol_message: MessageField::some(m::ProtocolMessage {
            key: MessageField::some(wa::MessageKey {
                remote_jid: Some(to.to_string()),
                from_me: Some(true),
                id: Some(target.id.clone()),
                participant: None,
            }),
            r#type: Some(m::protocol_message::Type::REVOKE),
            ..Default::default()
        }),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use crate::outbound::build::assemble;
    use crate::outbound::build::tests::{build, me, target};
    use wagate_core::outbound::{Content, OutboundBody, SendFailure};
    use whatsapp_rust::Jid;
    use whatsapp_rust::types::message::EditAttribute;
    use whatsapp_rust::waproto::whatsapp::message::protocol_message::Type;

    #[test]
    fn a_reaction_keys_the_target_in_the_chat() {
        let content = Content::Reaction {
            target: target(false),
            emoji: "❤️".into(),
        };
        let msg = build(content, None).unwrap();
        let r = msg.reaction_message.as_option().unwrap();
        let key = r.key.as_option().unwrap();
        assert_eq!(
            key.remote_jid.as_deref(),
            Some("15550002222@s.whatsapp.net")
        );
        assert_eq!(key.from_me, Some(false));
        assert_eq!(key.id.as_deref(), Some("3EB0AAAA"));
        assert_eq!(key.participant, None);
        assert_eq!(r.text.as_deref(), Some("❤️"));
        assert!(r.sender_timestamp_ms.unwrap() > 1_600_000_000_000);
        assert_eq!(EditAttribute::infer_from_message(&msg), None);
    }

    #[test]
    fn an_empty_reaction_takes_it_back() {
        let content = Content::Reaction {
            target: target(true),
            emoji: String::new(),
        };
        let msg = build(content, None).unwrap();
        assert_eq!(
            EditAttribute::infer_from_message(&msg),
            Some(EditAttribute::SenderRevoke)
        );
    }

    #[test]
    fn in_a_group_the_key_names_the_author() {
        let group: Jid = "120363000000000001@g.us".parse().unwrap();
        let react = |target| {
            let content = Content::Reaction {
                target,
                emoji: "👍".into(),
            };
            let body = OutboundBody {
                content,
                reply_to: None,
            };
            assemble(&group, &me(), &body, None, None)
        };
        let participant = |msg: &whatsapp_rust::waproto::whatsapp::Message| {
            let key = msg
                .reaction_message
                .as_option()
                .unwrap()
                .key
                .as_option()
                .unwrap();
            key.participant.clone()
        };
        let ours = react(target(true)).unwrap();
        assert_eq!(
            participant(&ours).as_deref(),
            Some("15550001111@s.whatsapp.net")
        );
        let mut theirs = target(false);
        theirs.participant = Some("15550003333@s.whatsapp.net".into());
        assert_eq!(
            participant(&react(theirs).unwrap()).as_deref(),
            Some("15550003333@s.whatsapp.net")
        );
        assert!(matches!(
            react(target(false)),
            Err(SendFailure::Permanent(_))
        ));
    }

    #[test]
    fn an_edit_is_a_message_edit_protocol_message() {
        let content = Content::Edit {
            target: target(true),
            text: "fixed".into(),
        };
        let msg = build(content, Some(target(true))).unwrap();
        let pm = msg.protocol_message.as_option().unwrap();
        assert_eq!(pm.r#type, Some(Type::MESSAGE_EDIT));
        let key = pm.key.as_option().unwrap();
        assert_eq!(key.from_me, Some(true));
        assert_eq!(key.id.as_deref(), Some("3EB0AAAA"));
        assert_eq!(key.participant, None);
        let edited = pm.edited_message.as_option().unwrap();
        assert_eq!(edited.conversation.as_deref(), Some("fixed"));
        assert!(pm.timestamp_ms.is_some());
        assert_eq!(
            EditAttribute::infer_from_message(&msg),
            Some(EditAttribute::MessageEdit)
        );
    }

    #[test]
    fn a_delete_is_a_sender_revoke() {
        let msg = build(
            Content::Delete {
                target: target(true),
            },
            None,
        )
        .unwrap();
        let pm = msg.protocol_message.as_option().unwrap();
        assert_eq!(pm.r#type, Some(Type::REVOKE));
        let key = pm.key.as_option().unwrap();
        assert_eq!(
            (key.from_me, key.participant.as_deref()),
            (Some(true), None)
        );
        assert_eq!(
            EditAttribute::infer_from_message(&msg),
            Some(EditAttribute::SenderRevoke)
        );
    }

    #[test]
    fn received_messages_cannot_be_edited_or_deleted() {
        let edit = Content::Edit {
            target: target(false),
            text: "x".into(),
        };
        assert!(matches!(build(edit, None), Err(SendFailure::Permanent(_))));
        let delete = Content::Delete {
            target: target(false),
        };
        assert!(matches!(
            build(delete, None),
            Err(SendFailure::Permanent(_))
        ));
    }
}
