//! The real whatsapp-rust client against wasim, end to end.

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qr_pairing_then_login_connects() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    let client = paired_client(&sim, "15550001111").await;
    let pn = client.client.pn().expect("own number after pairing");
    assert_eq!(pn.user, "15550001111");
    let (_, stats) = admin(&sim, reqwest::Method::GET, "/admin/stats", None).await;
    assert_eq!(stats["pairedAccounts"], 1);
    assert_eq!(stats["connectedDevices"], 1);
}

fn text_of(e: &whatsapp_rust::types::events::Event) -> Option<(String, String)> {
    match e {
        whatsapp_rust::types::events::Event::Messages(batch) => {
            batch.messages.iter().find_map(|m| {
                let text = m.message.conversation.clone().or_else(|| {
                    m.message
                        .extended_text_message
                        .as_option()
                        .and_then(|x| x.text.clone())
                })?;
                Some((m.info.source.sender.user.to_string(), text))
            })
        }
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_out_is_decrypted_by_the_contact() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    let client = paired_client(&sim, "15550001111").await;
    let id = client.send_text("15550002222", "hello contact").await;
    let entry = inbox_entry(&sim, "15550002222", &id).await;
    assert_eq!(entry["text"], "hello contact");
    assert_eq!(entry["type"], "text");
    assert_eq!(entry["from"], "15550001111");
    assert_eq!(entry["id"], id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_in_reaches_the_client() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    let client = paired_client(&sim, "15550001111").await;
    let (status, body) = admin(
        &sim,
        reqwest::Method::POST,
        "/admin/contacts/15550003333/send",
        Some(serde_json::json!({"to": "15550001111", "text": "hi there"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (from, text) = client.wait_for("the inbound text", text_of).await;
    assert_eq!(text, "hi there");
    assert!(from == "15550003333" || !from.is_empty(), "sender {from}");
    // A second message rides the established session (msg, not pkmsg).
    admin(
        &sim,
        reqwest::Method::POST,
        "/admin/contacts/15550003333/send",
        Some(serde_json::json!({"to": "15550001111", "text": "again"})),
    )
    .await;
    client
        .wait_for("the second text", |e| {
            text_of(e).filter(|(_, t)| t == "again")
        })
        .await;
}

use whatsapp_rust::types::events::Event;

fn stat(v: &serde_json::Value, path: &[&str]) -> u64 {
    path.iter().fold(v, |v, k| &v[*k]).as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_socket_reconnects_over_ik() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    let client = paired_client(&sim, "15550001111").await;
    let (_, before) = admin(&sim, reqwest::Method::GET, "/admin/stats", None).await;
    let (status, _) = admin(
        &sim,
        reqwest::Method::POST,
        "/admin/devices/15550001111/disconnect",
        None,
    )
    .await;
    assert_eq!(status, 200);
    client
        .wait_all("a second Connected", |events| {
            (events
                .iter()
                .filter(|e| matches!(***e, Event::Connected(_)))
                .count()
                >= 2)
                .then_some(())
        })
        .await;
    let (_, after) = admin(&sim, reqwest::Method::GET, "/admin/stats", None).await;
    assert_eq!(
        stat(&after, &["handshakes", "ik"]),
        stat(&before, &["handshakes", "ik"]) + 1,
        "{after}"
    );
    assert_eq!(
        stat(&after, &["handshakes", "xx"]),
        stat(&before, &["handshakes", "xx"]),
        "{after}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_flow_both_ways() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    let client = paired_client(&sim, "15550001111").await;
    // Client → contact: the contact's phone answers with a delivery receipt,
    // and a read receipt once it "reads" the message.
    let id = client.send_text("15550002222", "read me").await;
    let delivered = |kind: whatsapp_rust::types::presence::ReceiptType| {
        let id = id.clone();
        move |e: &Event| match e {
            Event::Receipt(r)
                if r.r#type == kind && r.message_ids.iter().any(|m| m.as_str() == id) =>
            {
                Some(())
            }
            _ => None,
        }
    };
    client
        .wait_for(
            "delivery receipt",
            delivered(whatsapp_rust::types::presence::ReceiptType::Delivered),
        )
        .await;
    inbox_entry(&sim, "15550002222", &id).await;
    let (status, body) = admin(
        &sim,
        reqwest::Method::POST,
        "/admin/contacts/15550002222/read",
        Some(serde_json::json!({"ids": [id]})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    client
        .wait_for(
            "read receipt",
            delivered(whatsapp_rust::types::presence::ReceiptType::Read),
        )
        .await;

    // Contact → client: the client's delivery receipt reaches the contact.
    let (_, sent) = admin(
        &sim,
        reqwest::Method::POST,
        "/admin/contacts/15550002222/send",
        Some(serde_json::json!({"to": "15550001111", "text": "ping"})),
    )
    .await;
    let sent_id = sent["id"].as_str().unwrap().to_string();
    admin_until(
        &sim,
        "/admin/contacts/15550002222/receipts",
        "the client's receipt",
        |v| {
            v.as_array()
                .is_some_and(|a| a.iter().any(|r| r["id"] == sent_id.as_str()))
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_wait_offline_until_the_device_returns() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    let mut client = paired_client(&sim, "15550001111").await;
    let backend = client.backend.clone();
    client.stop().await;
    admin_until(&sim, "/admin/stats", "the device to go offline", |v| {
        v["connectedDevices"] == 0
    })
    .await;
    let (status, body) = admin(
        &sim,
        reqwest::Method::POST,
        "/admin/contacts/15550004444/send",
        Some(serde_json::json!({"to": "15550001111", "text": "while you were away"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let back = TestClient::start(&sim, backend).await;
    let offline = back
        .wait_for("the queued message", |e| match e {
            Event::Messages(b) => b
                .messages
                .iter()
                .find(|m| m.message.conversation.as_deref() == Some("while you were away"))
                .map(|m| m.info.is_offline),
            _ => None,
        })
        .await;
    assert!(offline, "delivered from the offline queue");
    back.connected().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_from_the_phone_ends_the_session() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    let client = paired_client(&sim, "15550001111").await;
    let (status, body) = admin(
        &sim,
        reqwest::Method::POST,
        "/admin/devices/15550001111/logout",
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    client
        .wait_for("LoggedOut", |e| {
            matches!(e, Event::LoggedOut(_)).then_some(())
        })
        .await;
    let (_, stats) = admin(&sim, reqwest::Method::GET, "/admin/stats", None).await;
    assert_eq!(stats["linkedDevices"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_login_does_not_connect() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    let mut client = paired_client(&sim, "15550001111").await;
    let backend = client.backend.clone();
    client.stop().await;
    admin(
        &sim,
        reqwest::Method::POST,
        "/admin/devices/15550001111/refuse-login",
        Some(serde_json::json!({"refuse": true})),
    )
    .await;
    let again = TestClient::start(&sim, backend).await;
    again
        .wait_for("LoggedOut after a refused login", |e| {
            matches!(e, Event::LoggedOut(_)).then_some(())
        })
        .await;
    assert_eq!(again.count(|e| matches!(e, Event::Connected(_))), 0);
}
