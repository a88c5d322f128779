//! Pacing: one recipient's messages in order and spaced out, caps that
//! hold messages in the queue (saying why) instead of dropping them.

use super::TestApp;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

async fn set_policy(app: &TestApp, id: &str, policy: Value) {
    let (status, body) = app
        .call(
            Method::PUT,
            &format!("/api/v1/sessions/{id}/send-policy"),
            Some(policy),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn one_recipients_messages_go_out_in_order_and_spaced() {
    let app = TestApp::spawn().await;
    let admin = app.admin_key.clone();
    app.linked_session(&admin, "s", "15550600001").await;
    set_policy(&app, "s", json!({"minIntervalMs": 300, "jitterPercent": 0})).await;
    let started = Instant::now();
    let mut ids = Vec::new();
    for n in 0..4 {
        ids.push(
            app.queue_message(
                "s",
                json!({"to": "15550600002", "text": format!("part {n}")}),
            )
            .await,
        );
    }
    app.received("15550600002", ids.last().unwrap()).await;
    // Three gaps of 300 ms at least.
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    let (_, inbox) = app
        .sim_call(Method::GET, "/admin/contacts/15550600002/inbox", None)
        .await;
    let order: Vec<&str> = inbox
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["id"].as_str())
        .collect();
    assert_eq!(order, ids.iter().map(String::as_str).collect::<Vec<_>>());
    let (status, policy) = app
        .call(Method::GET, "/api/v1/sessions/s/send-policy", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(policy["effective"]["minIntervalMs"], 300, "{policy}");
    assert_eq!(policy["overrides"]["jitterPercent"], 0, "{policy}");
    app.stop().await;
}

#[tokio::test]
async fn the_gap_holds_after_the_queue_ran_dry() {
    let app = TestApp::spawn().await;
    let admin = app.admin_key.clone();
    app.linked_session(&admin, "s", "15550600011").await;
    set_policy(
        &app,
        "s",
        json!({"minIntervalMs": 3000, "jitterPercent": 0}),
    )
    .await;
    let sent_at =
        |m: &Value| chrono::DateTime::parse_from_rfc3339(m["sentAt"].as_str().unwrap()).unwrap();
    let first = app
        .queue_message("s", json!({"to": "15550600012", "text": "one"}))
        .await;
    let first = app
        .message_until("s", &first, "sent", |m| m["sentAt"].is_string())
        .await;
    // The queue is empty now and its sender stops; the next message, to
    // another recipient, still waits out the gap after the first. (Sent
    // times are the server's acks, a few ms after each send.)
    let second = app
        .queue_message("s", json!({"to": "15550600013", "text": "two"}))
        .await;
    let second = app
        .message_until("s", &second, "sent", |m| m["sentAt"].is_string())
        .await;
    let gap = sent_at(&second) - sent_at(&first);
    assert!(gap >= chrono::Duration::milliseconds(2500), "{gap:?}");
    app.stop().await;
}

#[tokio::test]
async fn caps_hold_messages_in_the_queue_and_say_why() {
    let app = TestApp::spawn().await;
    let admin = app.admin_key.clone();
    app.linked_session(&admin, "s", "15550700001").await;
    set_policy(&app, "s", json!({"hourlyCap": 2})).await;
    let a = app
        .queue_message("s", json!({"to": "15550700002", "text": "a"}))
        .await;
    let b = app
        .queue_message("s", json!({"to": "15550700002", "text": "b"}))
        .await;
    app.received("15550700002", &b).await;
    app.message_until("s", &a, "sent", |m| m["sentAt"].is_string())
        .await;
    let c = app
        .queue_message("s", json!({"to": "15550700002", "text": "c"}))
        .await;
    let held = app
        .message_until("s", &c, "held by the hourly cap", |m| {
            m["waitReason"]
                .as_str()
                .is_some_and(|r| r.contains("hourly cap of 2"))
        })
        .await;
    assert_eq!(held["status"], "queued", "{held}");
    // Lifting the cap lets it go.
    set_policy(
        &app,
        "s",
        json!({"hourlyCap": 0, "firstContactDailyCap": 2}),
    )
    .await;
    app.received("15550700002", &c).await;

    // Two new recipients a day (15550700002 was the first): the third
    // waits, a known one does not.
    let first = app
        .queue_message("s", json!({"to": "15550700003", "text": "hi 3"}))
        .await;
    app.received("15550700003", &first).await;
    let second = app
        .queue_message("s", json!({"to": "15550700004", "text": "hi 4"}))
        .await;
    let held = app
        .message_until("s", &second, "held by the first-contact cap", |m| {
            m["waitReason"]
                .as_str()
                .is_some_and(|r| r.contains("first-contact"))
        })
        .await;
    assert_eq!(held["status"], "queued", "{held}");
    let known = app
        .queue_message("s", json!({"to": "15550700002", "text": "again"}))
        .await;
    app.received("15550700002", &known).await;
    let still = app
        .message_until("s", &second, "still held", |_| true)
        .await;
    assert_eq!(still["status"], "queued", "{still}");
    // Lifting the first-contact cap sends it now, not when the day is up.
    set_policy(
        &app,
        "s",
        json!({"hourlyCap": 0, "firstContactDailyCap": 0}),
    )
    .await;
    app.received("15550700004", &second).await;
    app.stop().await;
}
