//! Every kind a contact can send reaches the real client with its content:
//! stickers, places, contact cards, reactions, edits, revokes and replies,
//! under an id and push name the test chooses.

mod common;

use common::*;
use reqwest::Method;
use serde_json::json;
use whatsapp_rust::types::message::EditAttribute;
use whatsapp_rust::waproto::whatsapp::message::protocol_message::Type;

const ME: &str = "15550001111";
const CONTACT: &str = "15550002222";

/// A minimal animated WebP: RIFF header, an ANIM chunk and some payload.
fn animated_webp() -> Vec<u8> {
    let payload: Vec<u8> = (0..3000u32).map(|i| (i * 17 % 253) as u8).collect();
    let mut chunk = b"ANIM".to_vec();
    chunk.extend((payload.len() as u32).to_le_bytes());
    chunk.extend(&payload);
    let mut file = b"RIFF".to_vec();
    file.extend((4 + chunk.len() as u32).to_le_bytes());
    file.extend(b"WEBP");
    file.extend(chunk);
    file
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sticker_location_and_contact_cards() {
    use base64::Engine as _;
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    let client = paired_client(&sim, ME).await;

    let webp = animated_webp();
    let content = base64::prelude::BASE64_STANDARD.encode(&webp);
    let id = contact_send(
        &sim,
        CONTACT,
        ME,
        json!({"type": "sticker", "content": content, "animated": true}),
    )
    .await;
    let got = client.received(&id).await;
    let sticker = got.message.sticker_message.as_option().expect("a sticker");
    assert_eq!(sticker.mimetype.as_deref(), Some("image/webp"));
    assert_eq!(sticker.is_animated, Some(true));
    let bytes = client.client.download(sticker).await.expect("download");
    assert!(bytes == webp, "the sticker's bytes differ");

    let id = contact_send(
        &sim,
        CONTACT,
        ME,
        json!({"type": "location", "latitude": -33.8568, "longitude": 151.2153,
               "name": "Opera House", "address": "Bennelong Point, Sydney"}),
    )
    .await;
    let got = client.received(&id).await;
    let place = got.message.location_message.as_option().expect("a place");
    assert_eq!(place.degrees_latitude, Some(-33.8568));
    assert_eq!(place.degrees_longitude, Some(151.2153));
    assert_eq!(place.name.as_deref(), Some("Opera House"));
    assert_eq!(place.address.as_deref(), Some("Bennelong Point, Sydney"));

    let card = |name: &str| json!({"displayName": name, "vcard": format!("BEGIN:VCARD\nFN:{name}\nEND:VCARD")});
    let id = contact_send(
        &sim,
        CONTACT,
        ME,
        json!({"type": "contacts", "contacts": [card("Ada")]}),
    )
    .await;
    let got = client.received(&id).await;
    let one = got.message.contact_message.as_option().expect("a card");
    assert_eq!(one.display_name.as_deref(), Some("Ada"));
    assert_eq!(one.vcard.as_deref(), Some("BEGIN:VCARD\nFN:Ada\nEND:VCARD"));

    let id = contact_send(
        &sim,
        CONTACT,
        ME,
        json!({"type": "contacts", "displayName": "Pioneers",
               "contacts": [card("Ada"), card("Grace")]}),
    )
    .await;
    let got = client.received(&id).await;
    let several = got.message.contacts_array_message.as_option();
    let several = several.expect("a contacts array");
    assert_eq!(several.display_name.as_deref(), Some("Pioneers"));
    let names: Vec<_> = several
        .contacts
        .iter()
        .map(|c| c.display_name.as_deref())
        .collect();
    assert_eq!(names, [Some("Ada"), Some("Grace")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reactions_edits_and_revokes_name_their_target() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    let client = paired_client(&sim, ME).await;
    let mine = client.send_text(CONTACT, "react to this").await;

    let id = contact_send(
        &sim,
        CONTACT,
        ME,
        json!({"type": "reaction", "targetId": mine, "emoji": "🎉"}),
    )
    .await;
    let got = client.received(&id).await;
    let reaction = got.message.reaction_message.as_option().expect("reaction");
    let key = reaction.key.as_option().expect("target key");
    assert_eq!(key.id.as_deref(), Some(mine.as_str()));
    assert_eq!(key.from_me, Some(false), "the client's own message");
    assert_eq!(reaction.text.as_deref(), Some("🎉"));

    let id = contact_send(
        &sim,
        CONTACT,
        ME,
        json!({"type": "reaction", "targetId": mine, "emoji": ""}),
    )
    .await;
    let got = client.received(&id).await;
    let removed = got.message.reaction_message.as_option().expect("reaction");
    assert_eq!(removed.text.as_deref(), Some(""));
    assert_eq!(got.info.edit, EditAttribute::SenderRevoke);

    let original = contact_send(&sim, CONTACT, ME, json!({"text": "tpyo"})).await;
    client.received(&original).await;
    let id = contact_send(
        &sim,
        CONTACT,
        ME,
        json!({"type": "edit", "targetId": original, "text": "typo"}),
    )
    .await;
    assert_ne!(id, original, "an edit has an id of its own");
    let got = client.received(&id).await;
    assert_eq!(got.info.edit, EditAttribute::MessageEdit);
    let edit = got.message.protocol_message.as_option().expect("protocol");
    assert_eq!(edit.r#type, Some(Type::MESSAGE_EDIT));
    let key = edit.key.as_option().expect("target key");
    assert_eq!(key.id.as_deref(), Some(original.as_str()));
    assert_eq!(key.from_me, Some(true), "the contact edits its own message");
    let edited = edit.edited_message.as_option().expect("edited_message");
    assert_eq!(edited.conversation.as_deref(), Some("typo"));

    let id = contact_send(
        &sim,
        CONTACT,
        ME,
        json!({"type": "revoke", "targetId": original}),
    )
    .await;
    let got = client.received(&id).await;
    assert_eq!(got.info.edit, EditAttribute::SenderRevoke);
    let revoke = got.message.protocol_message.as_option().expect("protocol");
    assert_eq!(revoke.r#type, Some(Type::REVOKE));
    let key = revoke.key.as_option().expect("target key");
    assert_eq!(key.id.as_deref(), Some(original.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_chosen_ids_and_push_names() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    let client = paired_client(&sim, ME).await;
    let mine = client.send_text(CONTACT, "question?").await;

    let id = contact_send(
        &sim,
        CONTACT,
        ME,
        json!({"text": "answer", "pushName": "Ada L.",
               "quoted": {"id": mine, "participant": ME, "text": "question?"}}),
    )
    .await;
    let got = client.received(&id).await;
    assert_eq!(got.info.push_name, "Ada L.");
    let text = got.message.extended_text_message.as_option();
    let text = text.expect("a reply is an extended text");
    assert_eq!(text.text.as_deref(), Some("answer"));
    let context = text.context_info.as_option().expect("reply context");
    assert_eq!(context.stanza_id.as_deref(), Some(mine.as_str()));
    assert_eq!(
        context.participant.as_deref(),
        Some(format!("{ME}@s.whatsapp.net").as_str())
    );
    let quoted = context.quoted_message.as_option().expect("quoted message");
    assert_eq!(quoted.conversation.as_deref(), Some("question?"));

    // Any kind with a context can reply; without a push name the contact's
    // own is used.
    let id = contact_send(
        &sim,
        CONTACT,
        ME,
        json!({"type": "location", "latitude": 1.5, "longitude": 2.5,
               "quoted": {"id": mine}}),
    )
    .await;
    let got = client.received(&id).await;
    assert_eq!(got.info.push_name, format!("Contact {CONTACT}"));
    let place = got.message.location_message.as_option().expect("a place");
    let context = place.context_info.as_option().expect("reply context");
    assert_eq!(context.stanza_id.as_deref(), Some(mine.as_str()));
    assert_eq!(context.participant, None);

    let chosen = "3EB0CHOSEN0000000001";
    for _ in 0..2 {
        let id = contact_send(&sim, CONTACT, ME, json!({"id": chosen, "text": "twice"})).await;
        assert_eq!(id, chosen);
    }
    let got = client.received(chosen).await;
    assert_eq!(got.message.conversation.as_deref(), Some("twice"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_kind_fields_are_named() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    let send = format!("/admin/contacts/{CONTACT}/send");
    let cases = [
        (
            json!({"type": "location", "latitude": 91.0, "longitude": 0.0}),
            "latitude",
        ),
        (json!({"type": "location", "latitude": 0.0}), "longitude"),
        (json!({"type": "contacts", "contacts": []}), "contacts"),
        (
            json!({"type": "contacts", "contacts": [{"displayName": "A"}]}),
            "contacts[0].vcard",
        ),
        (json!({"type": "reaction", "targetId": "X"}), "emoji"),
        (json!({"type": "reaction", "emoji": "👍"}), "targetId"),
        (json!({"type": "edit", "targetId": "X"}), "text"),
        (json!({"type": "revoke"}), "targetId"),
        (
            json!({"type": "poll", "name": "Q", "options": ["only"]}),
            "options",
        ),
        (
            json!({"type": "poll", "name": "Q", "options": ["a", "a"]}),
            "options",
        ),
        (
            json!({"type": "poll", "name": "Q", "options": ["a", "b"], "selectableCount": 3}),
            "selectableCount",
        ),
        (json!({"type": "pollVote", "targetId": "X"}), "options"),
        (
            json!({"type": "reaction", "targetId": "X", "emoji": "👍", "quoted": {"id": "Y"}}),
            "quoted",
        ),
        (
            json!({"text": "hi", "quoted": {"id": "Y", "participant": "nobody"}}),
            "quoted.participant",
        ),
        (json!({"text": "hi", "id": "has space"}), "id"),
        (json!({"text": "hi", "pushName": ""}), "pushName"),
    ];
    for (mut body, field) in cases {
        body["to"] = json!(ME);
        let (status, answer) = admin(&sim, Method::POST, &send, Some(body.clone())).await;
        assert_eq!(status, 400, "{body}: {answer}");
        let message = answer["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with(field),
            "{body}: '{message}' should name {field}"
        );
    }
}
