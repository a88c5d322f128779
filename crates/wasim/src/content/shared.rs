//! What a person shares besides text and media: places, contact cards,
//! reactions and polls.

use serde_json::{Value, json};
use waproto::whatsapp as wa;

pub fn summarize(msg: &wa::Message) -> Option<Value> {
    if let Some(m) = msg.location_message.as_option() {
        return Some(json!({
            "type": "location",
            "latitude": m.degrees_latitude,
            "longitude": m.degrees_longitude,
            "name": m.name,
            "address": m.address,
        }));
    }
    if let Some(m) = msg.contact_message.as_option() {
        return Some(json!({"type": "contacts", "contacts": [card(m)]}));
    }
    if let Some(m) = msg.contacts_array_message.as_option() {
        let cards: Vec<Value> = m.contacts.iter().map(card).collect();
        return Some(json!({
            "type": "contacts",
            "displayName": m.display_name,
            "contacts": cards,
        }));
    }
    if let Some(m) = msg.reaction_message.as_option() {
        let key = m.key.as_option();
        // An empty emoji is how a sender takes its reaction back.
        return Some(json!({
            "type": "reaction",
            "targetId": key.and_then(|k| k.id.clone()),
            "targetFromMe": key.and_then(|k| k.from_me),
            "emoji": m.text.clone().unwrap_or_default(),
        }));
    }
    // Single-choice polls travel as v3, multiple-choice ones as v1; v2 is
    // what older senders used. All three carry the same fields.
    let poll = [
        &msg.poll_creation_message,
        &msg.poll_creation_message_v2,
        &msg.poll_creation_message_v3,
    ]
    .into_iter()
    .find_map(|p| p.as_option())?;
    let options: Vec<&str> = poll
        .options
        .iter()
        .filter_map(|o| o.option_name.as_deref())
        .collect();
    Some(json!({
        "type": "poll",
        "name": poll.name,
        "options": options,
        "selectableCount": poll.selectable_options_count,
    }))
}

fn card(m: &wa::message::ContactMessage) -> Value {
    json!({"displayName": m.display_name, "vcard": m.vcard})
}
