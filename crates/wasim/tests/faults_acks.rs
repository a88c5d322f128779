//! Faults a sender's retry logic meets, with the real client: lost and
//! refused message acks, played receipts, numbers not on WhatsApp.

mod common;

use common::*;
use reqwest::Method;
use serde_json::json;
use whatsapp_rust::types::events::Event;
use whatsapp_rust::types::presence::ReceiptType;

const ME: &str = "15550001111";
const CONTACT: &str = "15550002222";

async fn set_acks(sim: &wasim::Sim, body: serde_json::Value) -> serde_json::Value {
    let (status, answer) = admin(sim, Method::POST, "/admin/acks", Some(body)).await;
    assert_eq!(status, 200, "{answer}");
    answer
}

/// Waits for the contact's receipt of type `kind` for message `id`.
async fn receipt(client: &TestClient, id: &str, kind: ReceiptType) {
    client
        .wait_for("the receipt", |e| match e {
            Event::Receipt(r) if r.r#type == kind && r.message_ids.iter().any(|m| m == id) => {
                Some(())
            }
            _ => None,
        })
        .await
}

/// After a fault the connection still works: a message is acked and
/// delivered, and the client never had to reconnect.
async fn still_connected(sim: &wasim::Sim, client: &TestClient) {
    let id = client.send_text(CONTACT, "after the fault").await;
    assert_eq!(client.server_ack(&id).await.error, None);
    inbox_entry(sim, CONTACT, &id).await;
    assert_eq!(client.count(|e| matches!(e, Event::Connected(_))), 1);
    assert_eq!(client.count(|e| matches!(e, Event::Disconnected(_))), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withheld_ack_still_delivers() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    let client = paired_client(&sim, ME).await;
    let answer = set_acks(&sim, json!({"mode": "withhold"})).await;
    assert_eq!(answer, json!({"mode": "withhold", "error": null}));

    let id = client.send_text(CONTACT, "ack lost").await;
    let entry = inbox_entry(&sim, CONTACT, &id).await;
    assert_eq!(entry["text"], "ack lost");
    // The server acks before it relays, and the contact's receipt comes
    // over the same socket after the relay: no ack by now means none.
    receipt(&client, &id, ReceiptType::Delivered).await;
    assert_eq!(client.acks_for(&id), 0, "a withheld ack must not arrive");

    set_acks(&sim, json!({"mode": "normal"})).await;
    still_connected(&sim, &client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nack_reports_the_error_and_delivers_nothing() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    let client = paired_client(&sim, ME).await;
    let answer = set_acks(&sim, json!({"mode": "nack"})).await;
    assert_eq!(answer, json!({"mode": "nack", "error": "503"}));

    // The send itself succeeds: the nack arrives afterwards, as an event.
    let id = client.send_text(CONTACT, "refused").await;
    let ack = client.server_ack(&id).await;
    assert_eq!(ack.error.as_deref(), Some("503"));
    assert_eq!(ack.class.as_deref(), Some("message"));

    let answer = set_acks(&sim, json!({"mode": "nack", "error": "479"})).await;
    assert_eq!(answer["error"], "479");
    let second = client.send_text(CONTACT, "refused again").await;
    assert_eq!(
        client.server_ack(&second).await.error.as_deref(),
        Some("479")
    );

    set_acks(&sim, json!({"mode": "normal"})).await;
    still_connected(&sim, &client).await;
    let (_, inbox) = admin(
        &sim,
        Method::GET,
        &format!("/admin/contacts/{CONTACT}/inbox"),
        None,
    )
    .await;
    let refused: Vec<_> = inbox
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["id"] == id.as_str() || e["id"] == second.as_str())
        .collect();
    assert!(
        refused.is_empty(),
        "nacked messages are not relayed: {inbox}"
    );

    let (status, _) = admin(
        &sim,
        Method::POST,
        "/admin/acks",
        Some(json!({"mode": "sometimes"})),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_played_voice_note_sends_read_and_played() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    let client = paired_client(&sim, ME).await;
    let id = client.send_text(CONTACT, "pretend I am a voice note").await;
    inbox_entry(&sim, CONTACT, &id).await;
    let (status, body) = admin(
        &sim,
        Method::POST,
        &format!("/admin/contacts/{CONTACT}/read"),
        Some(json!({"ids": [id], "type": "played"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"read": 1, "played": 1}));
    receipt(&client, &id, ReceiptType::Read).await;
    receipt(&client, &id, ReceiptType::Played).await;

    let (status, _) = admin(
        &sim,
        Method::POST,
        &format!("/admin/contacts/{CONTACT}/read"),
        Some(json!({"ids": [id], "type": "heard"})),
    )
    .await;
    assert_eq!(status, 400);
}
