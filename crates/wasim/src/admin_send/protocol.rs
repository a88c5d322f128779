//! A contact edits or deletes for everyone a message it sent earlier. Both
//! are protocol messages naming the target by key, as phones send them.

use super::{SendBody, Sender, now_ms, required};
use crate::admin::AdminError;
use buffa::MessageField;
use wa::message::protocol_message::Type;
use waproto::whatsapp as wa;

/// The new text travels whole in `edited_message`; receivers replace the
/// target's text with it.
pub fn edit(sender: &Sender<'_>, body: &SendBody) -> Result<wa::Message, AdminError> {
    let target = required(&body.target_id, "targetId", "an edit")?;
    let text = required(&body.text, "text", "an edit")?;
    let edited = wa::Message {
        conversation: Some(text.into()),
        ..Default::default()
    };
    Ok(own_message_op(
        sender,
        target,
        Type::MESSAGE_EDIT,
        Some(edited),
    ))
}

pub fn revoke(sender: &Sender<'_>, body: &SendBody) -> Result<wa::Message, AdminError> {
    let target = required(&body.target_id, "targetId", "a revoke")?;
    Ok(own_message_op(sender, target, Type::REVOKE, None))
}

/// A protocol message about the contact's own message `target` in its chat
/// with the account: `from_me` is what makes it the sender's edit or
/// revoke rather than an admin's.
fn own_message_op(
    sender: &Sender<'_>,
    target: &str,
    kind: Type,
    edited: Option<wa::Message>,
) -> wa::Message {
    wa::Message {
        protocol_message: MessageField::some(wa::message::ProtocolMessage {
            key: MessageField::some(wa::MessageKey {
                remote_jid: Some(sender.chat()),
                from_me: Some(true),
                id: Some(target.into()),
                participant: None,
            }),
            r#type: Some(kind),
            edited_message: edited.map(MessageField::some).unwrap_or_default(),
            timestamp_ms: Some(now_ms()),
            ..Default::default()
        }),
        ..Default::default()
    }
}
