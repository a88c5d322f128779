//! What a contact shares besides text and media: a place, contact cards,
//! and reactions to earlier messages.

use super::{SendBody, Sender, bad, now_ms, required};
use crate::admin::AdminError;
use buffa::MessageField;
use serde::Deserialize;
use waproto::whatsapp as wa;

/// A contact card in a `contacts` send.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Card {
    display_name: Option<String>,
    vcard: Option<String>,
}

pub fn location(body: &SendBody) -> Result<wa::Message, AdminError> {
    let coordinate = |value: Option<f64>, field: &str, limit: f64| {
        let v = value.ok_or_else(|| bad(format!("{field}: required for a location")))?;
        if v.is_finite() && v.abs() <= limit {
            Ok(v)
        } else {
            Err(bad(format!("{field}: {v} is not within ±{limit} degrees")))
        }
    };
    Ok(wa::Message {
        location_message: MessageField::some(wa::message::LocationMessage {
            degrees_latitude: Some(coordinate(body.latitude, "latitude", 90.0)?),
            degrees_longitude: Some(coordinate(body.longitude, "longitude", 180.0)?),
            name: body.name.clone(),
            address: body.address.clone(),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// One card travels as a contact message; several as a contacts array,
/// which phones title with how many it holds unless told otherwise.
pub fn contacts(body: &SendBody) -> Result<wa::Message, AdminError> {
    let cards = body
        .contacts
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| bad("contacts: at least one {\"displayName\", \"vcard\"}".into()))?;
    let mut messages = Vec::with_capacity(cards.len());
    for (i, card) in cards.iter().enumerate() {
        let field = |name: &str| format!("contacts[{i}].{name}");
        let display_name = required(&card.display_name, &field("displayName"), "a contact card")?;
        let vcard = required(&card.vcard, &field("vcard"), "a contact card")?;
        messages.push(wa::message::ContactMessage {
            display_name: Some(display_name.into()),
            vcard: Some(vcard.into()),
            ..Default::default()
        });
    }
    if messages.len() == 1 {
        return Ok(wa::Message {
            contact_message: MessageField::some(messages.remove(0)),
            ..Default::default()
        });
    }
    let title = body
        .display_name
        .clone()
        .unwrap_or_else(|| format!("{} contacts", messages.len()));
    Ok(wa::Message {
        contacts_array_message: MessageField::some(wa::message::ContactsArrayMessage {
            display_name: Some(title),
            contacts: messages,
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// A reaction to a message in the chat with the account: one the account
/// sent (`targetFromMe` false, the default) or one the contact sent.
pub fn reaction(sender: &Sender<'_>, body: &SendBody) -> Result<wa::Message, AdminError> {
    let target = required(&body.target_id, "targetId", "a reaction")?;
    // An empty emoji is how a phone takes its reaction back, so only a
    // missing one is an error.
    let emoji = body
        .emoji
        .as_deref()
        .ok_or_else(|| bad("emoji: required for a reaction (\"\" removes one)".into()))?;
    let key = wa::MessageKey {
        remote_jid: Some(sender.chat()),
        from_me: Some(body.target_from_me.unwrap_or(false)),
        id: Some(target.into()),
        participant: None,
    };
    Ok(wacore::proto_helpers::build_reaction_message(
        key,
        emoji,
        now_ms(),
    ))
}
