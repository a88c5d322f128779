//! `POST /messages/send`: answered after WhatsApp's server took the
//! message, with the id the contact sees; refused for an unknown or
//! unconnected session.

use super::super::TestApp;
use super::{Gateway, assert_error_body, assert_error_shape};
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};

const SESSION: &str = "my-session";
const PHONE: &str = "14155551234";
const CONTACT: &str = "5511999999999";

#[tokio::test]
async fn a_sent_text_reaches_the_contact_under_the_answered_id() {
    let app = TestApp::spawn().await;
    let (_, secret) = app.tenant_with_key("acme").await;
    let gateway = Gateway::new(&app, &secret);
    gateway.connect(SESSION, PHONE).await;

    // await sendMessage('my-session', '5511999999999', 'Hello from Node.js!')
    let (status, sent) = gateway.send(SESSION, CONTACT, "Hello from Node.js!").await;
    assert_eq!(status, 200, "{sent}");
    let fields: Vec<&String> = sent.as_object().unwrap().keys().collect();
    assert_eq!(fields, ["messageId", "success"], "{sent}");
    assert_eq!(sent["success"], true);
    let id = sent["messageId"].as_str().expect("a messageId");
    assert!(!id.is_empty());

    // The answer came after the server's ack, not merely once queued.
    let queued = app
        .read(
            &format!("/api/v1/sessions/{SESSION}/messages/{id}"),
            &secret,
        )
        .await;
    let status = queued["status"].as_str().unwrap();
    assert!(["sent", "delivered", "read"].contains(&status), "{queued}");

    let received = app.received(CONTACT, id).await;
    assert_eq!(received["type"], "text", "{received}");
    assert_eq!(received["text"], "Hello from Node.js!");

    // A text of exactly 4096 characters is allowed.
    let long = "é".repeat(4096);
    let (status, sent) = gateway.send(SESSION, CONTACT, &long).await;
    assert_eq!(status, 200, "{sent}");
    let received = app
        .received(CONTACT, sent["messageId"].as_str().unwrap())
        .await;
    assert_eq!(received["text"], long.as_str());
}

#[tokio::test]
async fn unknown_and_unconnected_sessions_are_refused_as_documented() {
    let app = TestApp::spawn().await;
    let (_, secret) = app.tenant_with_key("acme").await;
    let gateway = Gateway::new(&app, &secret);

    let (status, body) = gateway.send("my-session-01", CONTACT, "Hello!").await;
    assert_error_body(
        status,
        &body,
        404,
        "Not Found",
        "Session 'my-session-01' not found",
    );

    // Initialised, showing its QR: not connected yet.
    let (status, init) = gateway.init("my-session-01").await;
    assert_eq!((status, &init["status"]), (200, &json!("qr")), "{init}");
    let (status, body) = gateway.send("my-session-01", CONTACT, "Hello!").await;
    assert_error_body(
        status,
        &body,
        400,
        "Bad Request",
        "Session 'my-session-01' is not connected",
    );
    // Nothing was queued for later.
    let listed = app
        .read("/api/v1/sessions/my-session-01/messages", &secret)
        .await;
    assert_eq!(listed["items"], json!([]), "{listed}");
}

#[tokio::test]
async fn a_send_that_fails_for_good_is_a_bad_request_with_the_reason() {
    let app = TestApp::spawn().await;
    let (_, secret) = app.tenant_with_key("acme").await;
    let gateway = Gateway::new(&app, &secret);
    gateway.connect(SESSION, PHONE).await;
    let (status, body) = app
        .sim_call(
            Method::POST,
            "/admin/unregistered",
            Some(json!({"phones": ["5511888888888"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let (status, body) = gateway.send(SESSION, "5511888888888", "Hello?").await;
    let message = assert_error_shape(status, &body, 400, "Bad Request");
    assert!(
        message.starts_with("Message could not be sent: "),
        "{message}"
    );
    assert!(message.contains("404"), "WhatsApp's refusal: {message}");
}

#[tokio::test]
async fn a_message_held_past_the_wait_is_answered_as_queued_for_sending() {
    let app = TestApp::spawn().await;
    let (_, secret) = app.tenant_with_key("acme").await;
    let gateway = Gateway::new(&app, &secret);
    gateway.connect(SESSION, PHONE).await;
    // The session's hourly cap holds a second message for an hour.
    let policy = json!({"hourlyCap": 1});
    let response = app
        .request(
            Method::PUT,
            &format!("/api/v1/sessions/{SESSION}/send-policy"),
            &secret,
        )
        .json(&policy)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (status, first) = gateway.send(SESSION, CONTACT, "first").await;
    assert_eq!(status, 200, "{first}");

    let started = Instant::now();
    let (status, second) = gateway.send(SESSION, CONTACT, "second").await;
    let waited = started.elapsed();
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["success"], true);
    assert!(
        (Duration::from_secs(15)..Duration::from_secs(25)).contains(&waited),
        "answered after {waited:?}"
    );
    // Durably queued under the answered id, to go out when pacing allows.
    let id = second["messageId"].as_str().unwrap();
    let queued = app
        .read(
            &format!("/api/v1/sessions/{SESSION}/messages/{id}"),
            &secret,
        )
        .await;
    assert_eq!(queued["status"], "queued", "{queued}");
}
