//! The outbound queue end to end: statuses from WhatsApp's acks and
//! receipts, messages that wait for a connection, retries that do not
//! show twice, idempotent requests.

use super::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

impl TestApp {
    /// Queues `body` on session `id`; returns the message id.
    pub async fn queue_message(&self, id: &str, body: Value) -> String {
        let (status, answer) = self
            .call(
                Method::POST,
                &format!("/api/v1/sessions/{id}/messages"),
                Some(body),
            )
            .await;
        assert_eq!(status, 202, "{answer}");
        assert_eq!(answer["status"], "queued", "{answer}");
        answer["id"].as_str().unwrap().to_string()
    }

    /// Polls message `mid` of session `id` until `check` accepts it.
    pub async fn message_until(
        &self,
        id: &str,
        mid: &str,
        what: &str,
        check: impl Fn(&Value) -> bool,
    ) -> Value {
        let path = format!("/api/v1/sessions/{id}/messages/{mid}");
        let deadline = tokio::time::Instant::now() + super::live::LIVE;
        loop {
            let (_, m) = self.call(Method::GET, &path, None).await;
            if check(&m) {
                return m;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "message {mid} never {what}; last: {m}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test]
async fn status_follows_acks_and_receipts() {
    let app = TestApp::spawn().await;
    let admin = app.admin_key.clone();
    app.linked_session(&admin, "shop", "15550100001").await;
    let mid = app
        .queue_message("shop", json!({"to": "15550100002", "text": "your order"}))
        .await;
    assert_eq!(
        app.received("15550100002", &mid).await["text"],
        "your order"
    );
    // The contact's phone answers with a delivery receipt on its own.
    let m = app
        .message_until("shop", &mid, "delivered", |m| m["status"] == "delivered")
        .await;
    assert!(
        m["sentAt"].is_string() && m["deliveredAt"].is_string(),
        "{m}"
    );
    assert_eq!(m["attempts"], 1, "{m}");
    let (status, _) = app
        .sim_call(
            Method::POST,
            "/admin/contacts/15550100002/read",
            Some(json!({"ids": [mid]})),
        )
        .await;
    assert_eq!(status, 200);
    let m = app
        .message_until("shop", &mid, "read", |m| m["status"] == "read")
        .await;
    assert!(m["readAt"].is_string(), "{m}");

    // A voice note goes on to `played`.
    let voice = app
        .queue_message(
            "shop",
            json!({"to": "15550100002", "type": "voice",
                   "media": {"base64": "T2dnUwACAAAAAAAAAAA=", "mimetype": "audio/ogg; codecs=opus"}}),
        )
        .await;
    assert_eq!(app.received("15550100002", &voice).await["ptt"], true);
    app.sim_call(
        Method::POST,
        "/admin/contacts/15550100002/read",
        Some(json!({"ids": [voice], "type": "played"})),
    )
    .await;
    let m = app
        .message_until("shop", &voice, "played", |m| m["status"] == "played")
        .await;
    assert!(m["playedAt"].is_string(), "{m}");
    app.stop().await;
}

#[tokio::test]
async fn messages_wait_for_the_session_to_connect() {
    let app = TestApp::spawn().await;
    let admin = app.admin_key.clone();
    app.create_session(&admin, "later").await;
    // Queued before the session is even linked: it waits, and says why.
    let early = app
        .queue_message("later", json!({"to": "15550200002", "text": "first"}))
        .await;
    let m = app
        .message_until("later", &early, "waiting", |m| m["status"] == "queued")
        .await;
    assert!(
        m["waitReason"]
            .as_str()
            .is_some_and(|r| r.starts_with("session is")),
        "{m}"
    );
    app.scan(&admin, "later", "15550200001").await;
    assert_eq!(app.received("15550200002", &early).await["text"], "first");

    // Queued while the connection is down: out after the reconnect.
    let logins = app.sim_stats().await["logins"].as_u64().unwrap();
    let (status, _) = app
        .sim_call(Method::POST, "/admin/devices/15550200001/disconnect", None)
        .await;
    assert_eq!(status, 200);
    let late = app
        .queue_message("later", json!({"to": "15550200002", "text": "second"}))
        .await;
    assert_eq!(app.received("15550200002", &late).await["text"], "second");
    app.sim_until("/admin/stats", "a new login", |s| {
        s["logins"].as_u64() > Some(logins)
    })
    .await;
    app.message_until("later", &late, "sent", |m| m["sentAt"].is_string())
        .await;
    app.stop().await;
}

#[tokio::test]
async fn a_refused_message_is_retried_and_the_contact_sees_it_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_key.clone();
    app.linked_session(&admin, "s", "15550300001").await;
    app.sim_call(
        Method::POST,
        "/admin/acks",
        Some(json!({"mode": "nack", "error": "503"})),
    )
    .await;
    let mid = app
        .queue_message("s", json!({"to": "15550300002", "text": "once"}))
        .await;
    // WhatsApp said "try later": the message waits for another try.
    let m = app
        .message_until("s", &mid, "refused", |m| {
            m["lastError"].as_str().is_some_and(|e| e.contains("503"))
        })
        .await;
    assert!(m["status"] == "queued" || m["status"] == "sending", "{m}");
    app.sim_call(Method::POST, "/admin/acks", Some(json!({"mode": "normal"})))
        .await;
    let m = app
        .message_until("s", &mid, "sent", |m| m["sentAt"].is_string())
        .await;
    assert!(m["attempts"].as_u64().unwrap() >= 2, "{m}");
    let entry = app.received("15550300002", &mid).await;
    assert_eq!(entry["copies"], 1, "{entry}");

    // An ack that never comes, after the contact got the message: the
    // same id goes again, and the contact still shows it once.
    app.sim_call(
        Method::POST,
        "/admin/acks",
        Some(json!({"mode": "withhold"})),
    )
    .await;
    let lost = app
        .queue_message("s", json!({"to": "15550300002", "text": "lost ack"}))
        .await;
    app.received("15550300002", &lost).await;
    let m = app
        .message_until("s", &lost, "delivered", |m| m["status"] == "delivered")
        .await;
    assert!(m["deliveredAt"].is_string(), "{m}");
    let (_, inbox) = app
        .sim_call(Method::GET, "/admin/contacts/15550300002/inbox", None)
        .await;
    let entries = inbox
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["id"] == lost.as_str())
        .count();
    assert_eq!(entries, 1, "{inbox}");
    app.stop().await;
}

#[tokio::test]
async fn a_number_not_on_whatsapp_fails_with_a_reason() {
    let app = TestApp::spawn().await;
    let admin = app.admin_key.clone();
    app.linked_session(&admin, "s", "15550400001").await;
    app.sim_call(
        Method::POST,
        "/admin/unregistered",
        Some(json!({"phones": ["15550400009"]})),
    )
    .await;
    let mid = app
        .queue_message("s", json!({"to": "15550400009", "text": "hello?"}))
        .await;
    let m = app
        .message_until("s", &mid, "failed", |m| m["status"] == "failed")
        .await;
    assert!(m["lastError"].as_str().unwrap().contains("404"), "{m}");
    assert!(m["failedAt"].is_string(), "{m}");
    app.stop().await;
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_answer() {
    let app = TestApp::spawn().await;
    let admin = app.admin_key.clone();
    app.create_session(&admin, "s").await;
    let send = |key: &'static str, text: &'static str| {
        app.request(Method::POST, "/api/v1/sessions/s/messages", &admin)
            .header("Idempotency-Key", key)
            .json(&json!({"to": "15550500002", "text": text}))
            .send()
    };
    let first = send("order-1", "hi").await.unwrap();
    assert_eq!(first.status(), 202);
    let first: Value = first.json().await.unwrap();
    let again = send("order-1", "hi").await.unwrap();
    assert_eq!(again.status(), 202);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let other = send("order-1", "something else").await.unwrap();
    super::assert_error(other, 409, "Conflict").await;
    let (_, list) = app
        .call(Method::GET, "/api/v1/sessions/s/messages", None)
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    app.stop().await;
}
