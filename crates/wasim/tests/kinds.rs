//! Every kind of message the real client sends reaches the contact with
//! its content, as the contact's inbox shows it.

mod common;

use common::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use whatsapp_rust::RevokeType;
use whatsapp_rust::buffa::MessageField;
use whatsapp_rust::download::MediaType;
use whatsapp_rust::waproto::whatsapp::{self as wa, message as m};

const ME: &str = "15550001111";
const CONTACT: &str = "15550002222";

/// The first entry in the contact's inbox that `pick` accepts, once there.
async fn entry_where(sim: &wasim::Sim, what: &str, pick: impl Fn(&Value) -> bool) -> Value {
    let inbox = admin_until(
        sim,
        &format!("/admin/contacts/{CONTACT}/inbox"),
        what,
        |v| v.as_array().is_some_and(|a| a.iter().any(&pick)),
    )
    .await;
    let found = inbox.as_array().unwrap().iter().find(|e| pick(e)).cloned();
    found.unwrap()
}

/// The key of a message this client sent to the contact.
fn my_key(id: &str) -> wa::MessageKey {
    wa::MessageKey {
        remote_jid: Some(format!("{CONTACT}@s.whatsapp.net")),
        from_me: Some(true),
        id: Some(id.into()),
        participant: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_link_preview_and_reply() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    let client = paired_client(&sim, ME).await;

    let first = client.send_text(CONTACT, "first").await;
    let plain = inbox_entry(&sim, CONTACT, &first).await;
    assert_eq!(plain["type"], "text");
    assert_eq!(plain["text"], "first");
    assert_eq!(plain["linkPreview"], Value::Null);
    assert_eq!(plain["copies"], 1);
    assert!(plain.get("quoted").is_none(), "{plain}");

    let link = wa::Message {
        extended_text_message: MessageField::some(m::ExtendedTextMessage {
            text: Some("look at https://example.com/post".into()),
            matched_text: Some("https://example.com/post".into()),
            title: Some("A post".into()),
            description: Some("What the post says".into()),
            jpeg_thumbnail: Some(vec![0xff, 0xd8, 0xff, 0xd9]),
            ..Default::default()
        }),
        ..Default::default()
    };
    let id = client.send(CONTACT, link).await;
    let entry = inbox_entry(&sim, CONTACT, &id).await;
    assert_eq!(entry["type"], "text");
    assert_eq!(entry["text"], "look at https://example.com/post");
    assert_eq!(
        entry["linkPreview"],
        json!({"url": "https://example.com/post", "title": "A post", "description": "What the post says"})
    );

    let reply = wa::Message {
        extended_text_message: MessageField::some(m::ExtendedTextMessage {
            text: Some("answering".into()),
            context_info: MessageField::some(wa::ContextInfo {
                stanza_id: Some(first.clone()),
                participant: Some(format!("{ME}@s.whatsapp.net")),
                quoted_message: MessageField::some(wa::Message {
                    conversation: Some("first".into()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let id = client.send(CONTACT, reply).await;
    let entry = inbox_entry(&sim, CONTACT, &id).await;
    assert_eq!(entry["text"], "answering");
    assert_eq!(entry["linkPreview"], Value::Null);
    assert_eq!(
        entry["quoted"],
        json!({"id": first, "participant": format!("{ME}@s.whatsapp.net"), "text": "first"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_and_revoke_name_the_earlier_message() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    let client = paired_client(&sim, ME).await;
    let original = client.send_text(CONTACT, "tpyo").await;
    inbox_entry(&sim, CONTACT, &original).await;

    let edited = wa::Message {
        conversation: Some("typo".into()),
        ..Default::default()
    };
    let target = client
        .client
        .edit_message(user_jid(CONTACT), original.clone(), edited)
        .await
        .expect("edit");
    assert_eq!(target, original);
    let edit = entry_where(&sim, "the edit", |e| e["type"] == "edit").await;
    assert_eq!(edit["targetId"], original.as_str(), "{edit}");
    assert_eq!(edit["text"], "typo", "{edit}");
    assert_ne!(
        edit["id"],
        original.as_str(),
        "an edit has an id of its own"
    );
    assert_eq!(edit["from"], ME);

    client
        .client
        .revoke_message(user_jid(CONTACT), original.clone(), RevokeType::Sender)
        .await
        .expect("revoke");
    let revoke = entry_where(&sim, "the revoke", |e| e["type"] == "revoke").await;
    assert_eq!(revoke["targetId"], original.as_str(), "{revoke}");
    assert_ne!(revoke["id"], original.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reaction_and_polls() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    let client = paired_client(&sim, ME).await;
    let target = client.send_text(CONTACT, "react to me").await;

    let sent = client
        .client
        .send_reaction(user_jid(CONTACT), my_key(&target), "👍")
        .await
        .expect("reaction");
    let entry = inbox_entry(&sim, CONTACT, &sent.message_id).await;
    assert_eq!(
        (
            &entry["type"],
            &entry["targetId"],
            &entry["targetFromMe"],
            &entry["emoji"]
        ),
        (
            &json!("reaction"),
            &json!(target),
            &json!(true),
            &json!("👍")
        ),
        "{entry}"
    );
    let removed = client
        .client
        .send_reaction(user_jid(CONTACT), my_key(&target), "")
        .await
        .expect("reaction removal");
    let entry = inbox_entry(&sim, CONTACT, &removed.message_id).await;
    assert_eq!(entry["type"], "reaction");
    assert_eq!(entry["emoji"], "", "an empty emoji takes the reaction back");

    let options = ["Pizza".to_string(), "Sushi".into(), "Salad".into()];
    for selectable in [1, 2] {
        let (sent, _secret) = client
            .client
            .polls()
            .create(user_jid(CONTACT), "Lunch?", &options, selectable)
            .await
            .expect("poll");
        let entry = inbox_entry(&sim, CONTACT, &sent.message_id).await;
        assert_eq!(entry["type"], "poll", "{entry}");
        assert_eq!(entry["name"], "Lunch?");
        assert_eq!(entry["options"], json!(["Pizza", "Sushi", "Salad"]));
        assert_eq!(entry["selectableCount"], selectable);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn location_and_contact_cards() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    let client = paired_client(&sim, ME).await;

    let place = wa::Message {
        location_message: MessageField::some(m::LocationMessage {
            degrees_latitude: Some(52.5163),
            degrees_longitude: Some(13.3777),
            name: Some("Brandenburg Gate".into()),
            address: Some("Pariser Platz, Berlin".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let id = client.send(CONTACT, place).await;
    let entry = inbox_entry(&sim, CONTACT, &id).await;
    assert_eq!(entry["type"], "location");
    assert_eq!(entry["latitude"], 52.5163);
    assert_eq!(entry["longitude"], 13.3777);
    assert_eq!(entry["name"], "Brandenburg Gate");
    assert_eq!(entry["address"], "Pariser Platz, Berlin");

    let card = |name: &str, phone: &str| m::ContactMessage {
        display_name: Some(name.into()),
        vcard: Some(format!(
            "BEGIN:VCARD\nVERSION:3.0\nFN:{name}\nTEL;type=CELL;waid={phone}:+{phone}\nEND:VCARD"
        )),
        ..Default::default()
    };
    let expect = |name: &str, phone: &str| {
        let c = card(name, phone);
        json!({"displayName": c.display_name, "vcard": c.vcard})
    };
    let one = wa::Message {
        contact_message: MessageField::some(card("Ada", "15550007777")),
        ..Default::default()
    };
    let id = client.send(CONTACT, one).await;
    let entry = inbox_entry(&sim, CONTACT, &id).await;
    assert_eq!(entry["type"], "contacts");
    assert_eq!(entry["contacts"], json!([expect("Ada", "15550007777")]));

    let several = wa::Message {
        contacts_array_message: MessageField::some(m::ContactsArrayMessage {
            display_name: Some("2 contacts".into()),
            contacts: vec![card("Ada", "15550007777"), card("Grace", "15550008888")],
            ..Default::default()
        }),
        ..Default::default()
    };
    let id = client.send(CONTACT, several).await;
    let entry = inbox_entry(&sim, CONTACT, &id).await;
    assert_eq!(entry["type"], "contacts");
    assert_eq!(
        entry["contacts"],
        json!([expect("Ada", "15550007777"), expect("Grace", "15550008888")])
    );
}

/// A minimal still WebP: RIFF header, a VP8L chunk and some payload.
fn webp() -> Vec<u8> {
    let payload: Vec<u8> = (0..2048u32).map(|i| (i * 31 % 251) as u8).collect();
    let mut chunk = b"VP8L".to_vec();
    chunk.extend((payload.len() as u32).to_le_bytes());
    chunk.extend(&payload);
    let mut out = b"RIFF".to_vec();
    out.extend(((chunk.len() + 4) as u32).to_le_bytes());
    out.extend(b"WEBP");
    out.extend(chunk);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sticker_and_voice_note() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    let client = paired_client(&sim, ME).await;
    let uploads = [
        ("sticker", MediaType::Sticker, webp()),
        ("audio", MediaType::Audio, vec![7u8; 9_000]),
    ];
    for (kind, media_type, data) in uploads {
        let up = client
            .client
            .upload(data.clone(), media_type, Default::default())
            .await
            .unwrap_or_else(|e| panic!("{kind} upload: {e:#}"));
        macro_rules! media {
            ($ty:ident { $($extra:tt)* }) => {
                MessageField::some(m::$ty {
                    url: Some(up.url),
                    direct_path: Some(up.direct_path),
                    media_key: Some(up.media_key.to_vec()),
                    file_sha256: Some(up.file_sha256.to_vec()),
                    file_enc_sha256: Some(up.file_enc_sha256.to_vec()),
                    file_length: Some(up.file_length),
                    media_key_timestamp: Some(up.media_key_timestamp),
                    $($extra)*
                    ..Default::default()
                })
            };
        }
        let mut msg = wa::Message::default();
        if kind == "sticker" {
            msg.sticker_message = media!(StickerMessage {
                mimetype: Some("image/webp".into()),
                is_animated: Some(false),
            });
        } else {
            msg.audio_message = media!(AudioMessage {
                mimetype: Some("audio/ogg; codecs=opus".into()),
                ptt: Some(true),
                seconds: Some(3),
            });
        }
        let id = client.send(CONTACT, msg).await;
        let entry = inbox_entry(&sim, CONTACT, &id).await;
        assert!(entry.get("error").is_none(), "{kind}: {entry}");
        assert_eq!(entry["type"], kind);
        assert_eq!(entry["sha256"], hex::encode(Sha256::digest(&data)));
        assert_eq!(entry["size"], data.len());
        if kind == "sticker" {
            assert_eq!(entry["mimetype"], "image/webp");
            assert_eq!(entry["animated"], false);
        } else {
            assert_eq!(entry["mimetype"], "audio/ogg; codecs=opus");
            assert_eq!(entry["ptt"], true);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resent_id_shows_once_with_two_copies() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    let client = paired_client(&sim, ME).await;
    let id = "3EB0D0D0D0D0D0D0D0D0D0".to_string();
    for _ in 0..2 {
        let msg = wa::Message {
            conversation: Some("once".into()),
            ..Default::default()
        };
        let options = whatsapp_rust::SendOptions::default().with_message_id(id.clone());
        let sent = client
            .client
            .send_message_with_options(user_jid(CONTACT), msg, options)
            .await
            .expect("send");
        assert_eq!(sent.message_id, id);
    }
    let inbox = admin_until(
        &sim,
        &format!("/admin/contacts/{CONTACT}/inbox"),
        "the second copy",
        |v| {
            v.as_array()
                .is_some_and(|a| a.iter().any(|e| e["copies"] == 2))
        },
    )
    .await;
    let shown: Vec<&Value> = inbox
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["id"] == id)
        .collect();
    assert_eq!(shown.len(), 1, "{inbox}");
    assert_eq!(shown[0]["text"], "once");
    let (_, stats) = admin(&sim, reqwest::Method::GET, "/admin/stats", None).await;
    assert_eq!(stats["duplicateMessages"], 1, "{stats}");
}
