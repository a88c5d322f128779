//! A contact's burst of texts reaches the client whole, each text under
//! the id answered for it, live or from the offline queue.

mod common;

use common::*;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use whatsapp_rust::types::events::Event;

const ME: &str = "15550001111";
const CONTACT: &str = "15550002222";

async fn send_many(sim: &wasim::Sim, body: Value) -> (u16, Value) {
    let path = format!("/admin/contacts/{CONTACT}/send-many");
    admin(sim, Method::POST, &path, Some(body)).await
}

/// The text the client received under each id of the burst, in the
/// order of `ids`. The client hands its events to the test concurrently,
/// so the order they are recorded in says nothing about the wire.
async fn texts_of(client: &TestClient, ids: &[String]) -> Vec<String> {
    let by_id: HashMap<String, String> = client
        .wait_all("every message of the burst", |events| {
            let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
            let seen: HashMap<String, String> = events
                .iter()
                .filter_map(|e| match &**e {
                    Event::Messages(batch) => Some(batch.messages.iter()),
                    _ => None,
                })
                .flatten()
                .filter(|m| wanted.contains(m.info.id.as_str()))
                .filter_map(|m| Some((m.info.id.to_string(), m.message.conversation.clone()?)))
                .collect();
            (seen.len() == ids.len()).then_some(seen)
        })
        .await;
    ids.iter().map(|id| by_id[id].clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_arrives_whole_under_the_answered_ids() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    let client = paired_client(&sim, ME).await;
    let (status, body) = send_many(&sim, json!({"to": ME, "count": 300})).await;
    assert_eq!(status, 200, "{body}");
    let ids: Vec<String> = serde_json::from_value(body["ids"].clone()).unwrap();
    assert_eq!(ids.len(), 300);
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        300,
        "distinct ids"
    );
    let want: Vec<String> = (1..=300).map(|n| format!("msg {n}")).collect();
    assert_eq!(texts_of(&client, &ids).await, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_for_an_offline_device_waits_for_its_return() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    let mut client = paired_client(&sim, ME).await;
    let backend = client.backend.clone();
    client.stop().await;
    admin_until(&sim, "/admin/stats", "the device to go offline", |v| {
        v["connectedDevices"] == 0
    })
    .await;
    let (status, body) = send_many(&sim, json!({"to": ME, "count": 50, "text": "queued"})).await;
    assert_eq!(status, 200, "{body}");
    let ids: Vec<String> = serde_json::from_value(body["ids"].clone()).unwrap();
    let back = TestClient::start(&sim, backend).await;
    let want: Vec<String> = (1..=50).map(|n| format!("queued {n}")).collect();
    assert_eq!(texts_of(&back, &ids).await, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bursts_are_refused() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    let cases = [
        (json!({"to": ME, "count": 0}), "count"),
        (json!({"to": ME, "count": 10_001}), "count"),
        (json!({"to": ME}), "count"),
        (json!({"to": ME, "count": 3, "text": ""}), "text"),
        (json!({"to": "12ab", "count": 3}), "to"),
    ];
    for (body, field) in cases {
        let (status, answer) = send_many(&sim, body.clone()).await;
        assert_eq!(status, 400, "{body}: {answer}");
        let message = answer["message"].as_str().unwrap_or_default();
        assert!(message.starts_with(field), "{body}: '{message}'");
    }
}
