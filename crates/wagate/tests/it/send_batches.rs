//! One message for many recipients under one batch id, and a message held
//! back until the time it was scheduled for.

use super::TestApp;
use super::sending::{MESSAGES, inbox, linked_shop, listed, message, queue, sent};
use chrono::{DateTime, SubsecRound, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;

const CUSTOMERS: [&str; 3] = ["15550200011", "15550200012", "15550200013"];

fn jid(phone: &str) -> String {
    format!("{phone}@s.whatsapp.net")
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .unwrap_or_else(|| panic!("a time: {v}"))
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_send_reaches_every_recipient_under_one_batch() {
    let app = TestApp::spawn().await;
    linked_shop(&app).await;
    let (status, answer) = app
        .call(
            Method::POST,
            &format!("{MESSAGES}/bulk"),
            Some(json!({"recipients": CUSTOMERS,
                        "message": {"text": "We are closed on Monday"}})),
        )
        .await;
    assert_eq!(status, 202, "{answer}");
    let batch = answer["batchId"].as_str().expect("a batch id");
    let queued = answer["messages"].as_array().unwrap();
    assert_eq!(queued.len(), 3, "{answer}");
    let mut ids = BTreeSet::new();
    for (m, phone) in queued.iter().zip(CUSTOMERS) {
        assert_eq!(m["to"], jid(phone), "in request order: {answer}");
        assert_eq!(m["status"], "queued", "{answer}");
        ids.insert(m["id"].as_str().unwrap().to_string());
    }
    assert_eq!(ids.len(), 3, "one id per recipient: {answer}");

    for (m, phone) in queued.iter().zip(CUSTOMERS) {
        let got = app.received(phone, m["id"].as_str().unwrap()).await;
        assert_eq!(got["text"], "We are closed on Monday", "{got}");
    }
    for id in &ids {
        let m = sent(&app, id).await;
        assert_eq!(m["batchId"], batch, "{m}");
    }

    // A message outside the batch is not listed with it.
    let other = queue(&app, json!({"to": CUSTOMERS[0], "text": "Hi"})).await;
    let items = listed(&app, &format!("batchId={batch}")).await;
    let listed_ids: BTreeSet<String> = items
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed_ids, ids, "{items:?}");
    assert!(!listed_ids.contains(&other));
    for m in &items {
        assert_eq!(m["batchId"], batch, "{m}");
        assert_eq!(m["type"], "text", "{m}");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_message_waits_for_its_time() {
    let app = TestApp::spawn().await;
    linked_shop(&app).await;
    let customer = CUSTOMERS[0];
    // On a whole second: the contact's clock shows whole seconds, so a
    // receipt time at or after this one means the message was not early.
    let send_at = (Utc::now() + chrono::Duration::seconds(3)).trunc_subsecs(0);
    let id = queue(
        &app,
        json!({"to": customer, "text": "Your appointment is in one hour",
               "sendAt": send_at.to_rfc3339()}),
    )
    .await;

    let waiting = message(&app, &id).await;
    assert_eq!(waiting["status"], "queued", "{waiting}");
    assert_eq!(waiting["waitReason"], "scheduled", "{waiting}");
    assert_eq!(time(&waiting["sendAt"]), send_at, "{waiting}");
    assert!(waiting["sentAt"].is_null(), "{waiting}");
    // A message queued after it, due now, does not wait behind it.
    let now = queue(&app, json!({"to": customer, "text": "Booked!"})).await;
    app.received(customer, &now).await;
    // Seen in the inbox at a moment still before its time: early.
    let seen = inbox(&app, customer).await.iter().any(|m| m["id"] == id);
    assert!(
        !seen || Utc::now() >= send_at,
        "the scheduled message arrived early"
    );

    let got = app.received(customer, &id).await;
    assert_eq!(got["text"], "Your appointment is in one hour");
    let received_at = time(&got["receivedAt"]);
    assert!(received_at >= send_at, "{received_at} < {send_at}");
    let m = sent(&app, &id).await;
    assert!(time(&m["sentAt"]) >= send_at, "{m}");
    assert!(m["waitReason"].is_null(), "{m}");
    app.stop().await;
}
