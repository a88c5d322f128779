//! What the send tests share: a shop session linked to a simulated phone,
//! queueing over the API, waiting until the gateway has sent, and media
//! fixtures whose digests the contact's inbox can be checked against.

use super::TestApp;
use super::live::LIVE;
use base64::Engine as _;
use reqwest::Method;
use reqwest::multipart::Form;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The session every send test sends from, and the phone it is linked to.
pub const SHOP: &str = "shop";
pub const SHOP_PHONE: &str = "15550200001";
/// How the shop appears in a contact's chat, e.g. as the author of a quote.
pub const SHOP_JID: &str = "15550200001@s.whatsapp.net";
pub const MESSAGES: &str = "/api/v1/sessions/shop/messages";

/// Statuses that mean WhatsApp took the message.
const OUT: [&str; 4] = ["sent", "delivered", "read", "played"];

/// The app with the shop session linked and connected.
pub async fn linked_shop(app: &TestApp) {
    app.linked_session(&app.admin_key, SHOP, SHOP_PHONE).await;
}

/// The app with the shop linked and a receiver (on 127.0.0.1, allowed)
/// for its received messages, in the native shape.
pub async fn shop_with_receiver() -> (TestApp, super::receiver::Receiver) {
    let app = TestApp::spawn_with(&[("WAGATE_WEBHOOK_ALLOW", "127.0.0.1/32")]).await;
    linked_shop(&app).await;
    let receiver = super::receiver::Receiver::start(&[]).await;
    let (status, answer) = app
        .call(
            Method::POST,
            &format!("/api/v1/sessions/{SHOP}/webhooks"),
            Some(json!({"url": receiver.url, "shape": "native", "events": ["message.received"]})),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    (app, receiver)
}

/// Queues `body` on the shop session; returns the message id.
pub async fn queue(app: &TestApp, body: Value) -> String {
    let (status, answer) = app.call(Method::POST, MESSAGES, Some(body)).await;
    assert_eq!(status, 202, "{answer}");
    accepted(&answer)
}

/// Queues a multipart send on the shop session; returns the message id.
pub async fn queue_form(app: &TestApp, form: Form) -> String {
    let response = post_form(app, form).await;
    assert_eq!(response.status(), 202);
    accepted(&response.json().await.unwrap())
}

fn accepted(answer: &Value) -> String {
    assert_eq!(answer["status"], "queued", "{answer}");
    let id = answer["id"].as_str().expect("the message id");
    assert!(!id.is_empty(), "{answer}");
    id.to_string()
}

/// A multipart send on the shop session, as the admin.
pub async fn post_form(app: &TestApp, form: Form) -> reqwest::Response {
    app.request(Method::POST, MESSAGES, &app.admin_key)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// Message `id` of the shop session as the API shows it.
pub async fn message(app: &TestApp, id: &str) -> Value {
    app.read(&format!("{MESSAGES}/{id}"), &app.admin_key).await
}

/// Waits until the API shows message `id` as sent (or further along).
pub async fn sent(app: &TestApp, id: &str) -> Value {
    let deadline = tokio::time::Instant::now() + LIVE;
    loop {
        let m = message(app, id).await;
        if OUT.iter().any(|s| m["status"] == *s) {
            assert!(m["sentAt"].is_string(), "{m}");
            return m;
        }
        assert_ne!(m["status"], "failed", "{m}");
        assert!(
            tokio::time::Instant::now() < deadline,
            "message {id} never sent; last: {m}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The shop session's messages matching `query` (`batchId=…`), newest first.
pub async fn listed(app: &TestApp, query: &str) -> Vec<Value> {
    let page = app
        .read(&format!("{MESSAGES}?{query}"), &app.admin_key)
        .await;
    page["items"].as_array().expect("a page of items").clone()
}

/// The contact's inbox, as its phone shows it.
pub async fn inbox(app: &TestApp, phone: &str) -> Vec<Value> {
    let path = format!("/admin/contacts/{phone}/inbox");
    let (status, body) = app.sim_call(Method::GET, &path, None).await;
    assert_eq!(status, 200, "{body}");
    body.as_array().cloned().unwrap_or_default()
}

/// Checks that a received media entry is exactly `bytes`: the contact
/// downloaded and decrypted the file, and its digest and size match.
pub fn assert_same_file(entry: &Value, bytes: &[u8]) {
    assert!(entry.get("error").is_none(), "{entry}");
    assert_eq!(entry["sha256"], sha256_hex(bytes), "{entry}");
    assert_eq!(entry["size"], bytes.len(), "{entry}");
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A file of `len` bytes starting with the format's magic `header`, the
/// rest a pseudo-random run (so a shifted or truncated byte shows in the
/// digest). `seed` tells files of one test apart.
pub fn file_of(header: &[u8], len: usize, seed: u32) -> Vec<u8> {
    let mut bytes = header.to_vec();
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    while bytes.len() < len {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        bytes.push((state >> 24) as u8);
    }
    bytes
}

/// A 1×1 lossless WebP, a valid sticker image.
pub fn webp() -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")
        .unwrap()
}

pub const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0,
];
pub const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
pub const MP4: &[u8] = &[
    0, 0, 0, 0x18, b'f', b't', b'y', b'p', b'm', b'p', b'4', b'2',
];
pub const MP3: &[u8] = b"ID3\x04\x00\x00\x00\x00\x00\x00";
pub const OGG: &[u8] = b"OggS\x00\x02\x00\x00";
pub const PDF: &[u8] = b"%PDF-1.7\n";

/// A text body for the shop session, for the many tests that only need
/// some valid message.
pub fn text_to(to: &str, text: &str) -> Value {
    json!({"to": to, "text": text})
}

/// Serves `bytes` as `content_type` at `path` on 127.0.0.1, like a
/// tenant's own file server; returns the URL and a count of requests.
pub async fn serve_file(
    path: &'static str,
    content_type: &'static str,
    bytes: Vec<u8>,
) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let route = axum::routing::get(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        let bytes = bytes.clone();
        async move { ([(axum::http::header::CONTENT_TYPE, content_type)], bytes) }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}{path}", listener.local_addr().unwrap());
    let server = axum::Router::new().route(path, route);
    tokio::spawn(async move { axum::serve(listener, server).await });
    (url, hits)
}
