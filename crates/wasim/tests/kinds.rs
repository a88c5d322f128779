//! Every kind of message the real client sends reaches the contact with
//! its content, as the contact's inbox shows it.

mod common;

use common::*;
use serde_json::{Value, json};
use whatsapp_rust::RevokeType;
use whatsapp_rust::buffa::MessageField;
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
            thumbnail_width: Some(300),
            thumbnail_height: Some(200),
            ..Default::default()
        }),
        ..Default::default()
    };
    let id = client.send(CONTACT, link).await;
    let entry = inbox_entry(&sim, CONTACT, &id).await;
    assert_eq!(entry["type"], "text");
    assert_eq!(entry["text"], "look at https://example.com/post");
    let thumbnail = json!({
        "size": 4, "jpeg": true, "width": 300, "height": 200,
        "sha256": "32461d5bd1773012acef0ba15636752949bd7c2ce50f9172159d9f56cf0dd9af"
    });
    assert_eq!(
        entry["linkPreview"],
        json!({"url": "https://example.com/post", "title": "A post",
               "description": "What the post says", "thumbnail": thumbnail})
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
