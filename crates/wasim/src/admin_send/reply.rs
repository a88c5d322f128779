//! A reply: any kind that can carry a context names the message it answers.

use super::bad;
use crate::admin::{AdminError, phone};
use buffa::MessageField;
use serde::Deserialize;
use waproto::whatsapp as wa;

/// The `quoted` field of a send body.
#[derive(Deserialize)]
pub struct Quoted {
    id: String,
    /// Who wrote the quoted message: a phone number or a JID.
    participant: Option<String>,
    /// The quoted message's text, as the reply shows it.
    text: Option<String>,
}

/// Puts the reply context on `message`. A plain text cannot hold one, so
/// it becomes an extended text, as phones send replies.
pub fn attach(message: &mut wa::Message, quoted: &Quoted) -> Result<(), AdminError> {
    if quoted.id.is_empty() {
        return Err(bad("quoted.id: required for a reply".into()));
    }
    let participant = match quoted.participant.as_deref() {
        Some(p) if p.contains('@') => Some(p.to_string()),
        Some(p) => Some(super::user_jid(&phone(p, "quoted.participant")?)),
        None => None,
    };
    let context = wa::ContextInfo {
        stanza_id: Some(quoted.id.clone()),
        participant,
        quoted_message: quoted
            .text
            .as_ref()
            .map(|t| {
                MessageField::some(wa::Message {
                    conversation: Some(t.clone()),
                    ..Default::default()
                })
            })
            .unwrap_or_default(),
        ..Default::default()
    };
    if let Some(text) = message.conversation.take() {
        message.extended_text_message = MessageField::some(wa::message::ExtendedTextMessage {
            text: Some(text),
            ..Default::default()
        });
    }
    macro_rules! first_of {
        ($($field:ident),*) => {
            $(if let Some(m) = message.$field.as_option_mut() {
                m.context_info = MessageField::some(context);
                return Ok(());
            })*
        };
    }
    first_of!(
        extended_text_message,
        image_message,
        video_message,
        audio_message,
        document_message,
        sticker_message,
        location_message,
        contact_message,
        contacts_array_message,
        poll_creation_message,
        poll_creation_message_v3
    );
    // Reactions, edits, revokes and votes point at their target by key
    // and have no context to quote with.
    Err(bad(
        "quoted: this type of message cannot quote another".into()
    ))
}
