//! Attachments the real client sends: places, contact cards, stickers and
//! voice notes reach the contact with their content.

mod common;

use common::*;
use serde_json::json;
use sha2::{Digest, Sha256};
use whatsapp_rust::buffa::MessageField;
use whatsapp_rust::download::MediaType;
use whatsapp_rust::waproto::whatsapp::{self as wa, message as m};

const ME: &str = "15550001111";
const CONTACT: &str = "15550002222";

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
