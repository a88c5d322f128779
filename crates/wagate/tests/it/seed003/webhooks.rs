//! Received messages reach a seed 003 endpoint in the document's
//! envelope — the Express handler's `{ event, sessionId, data }` — and
//! messages sent more than 90 days before they arrive do not.

use super::super::TestApp;
use super::super::receiver::{Hit, Receiver, verify_signature};
use super::{Gateway, assert_iso_millis};
use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;

const SESSION: &str = "my-session-01";
const PHONE: &str = "14155551234";
const CONTACT: &str = "5511999999999";
const ALLOW_LOCAL: (&str, &str) = ("WAGATE_WEBHOOK_ALLOW", "127.0.0.1/32");

/// A webhook endpoint of `shape` for every session of the key's tenant,
/// set up through the native API; returns its id and secret.
async fn endpoint(app: &TestApp, key: &str, url: &str, shape: &str) -> (String, String) {
    let body = json!({"url": url, "events": ["message.received"], "shape": shape});
    let response = app.post("/api/v1/webhooks", key, body).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let field = |name: &str| created[name].as_str().unwrap().to_string();
    (field("id"), field("secret"))
}

/// The contact sends `body` to the session's phone; returns the id.
async fn contact_sends(app: &TestApp, mut body: Value) -> String {
    body["to"] = PHONE.into();
    let (status, answer) = app
        .sim_call(
            Method::POST,
            &format!("/admin/contacts/{CONTACT}/send"),
            Some(body),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    answer["id"].as_str().unwrap().to_string()
}

/// The request that carried message `id`, once the receiver has it.
async fn hit_for(receiver: &Receiver, id: &str) -> Hit {
    let find = |hits: &[Hit]| {
        hits.iter()
            .find(|h| h.json()["data"]["messageId"] == id)
            .cloned()
    };
    let hits = receiver
        .until(&format!("message {id}"), |h| find(h).is_some())
        .await;
    find(&hits).unwrap()
}

/// Checks the envelope; returns `data`.
fn envelope(hit: &Hit, secret: &str) -> Value {
    assert!(
        verify_signature(secret, hit),
        "signed with the endpoint's secret"
    );
    let body = hit.json();
    let fields: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(
        fields,
        ["data", "event", "sessionId", "timestamp"],
        "{body}"
    );
    assert_eq!(body["event"], "message.received");
    assert_eq!(body["sessionId"], SESSION);
    assert_iso_millis(&body["timestamp"]);
    body["data"].clone()
}

/// `data` with its send time checked and taken out.
fn without_timestamp(mut data: Value) -> Value {
    let sent = data["timestamp"].as_i64().expect("a Unix time in seconds");
    let now = chrono::Utc::now().timestamp();
    assert!((now - 120..=now).contains(&sent), "{data}");
    data.as_object_mut().unwrap().remove("timestamp");
    data
}

#[tokio::test]
async fn text_image_and_document_arrive_in_the_documented_envelope() {
    let app = TestApp::spawn_with(&[ALLOW_LOCAL, ("WAGATE_MEDIA_PUBLIC_URL_TTL_S", "600")]).await;
    let (_, key) = app.tenant_with_key("acme").await;
    Gateway::new(&app, &key).connect(SESSION, PHONE).await;
    let receiver = Receiver::start(&[]).await;
    let (_, secret) = endpoint(&app, &key, &receiver.url, "seed003").await;

    let text = contact_sends(&app, json!({"text": "Hello!", "pushName": "John Doe"})).await;
    let jpeg = super::super::sending::file_of(super::super::sending::JPEG, 20_000, 3);
    let image = contact_sends(
        &app,
        json!({"type": "image", "content": base64(&jpeg), "mimetype": "image/jpeg",
               "caption": "Check this out!", "pushName": "John Doe"}),
    )
    .await;
    let pdf = b"%PDF-1.4 the quarterly report".to_vec();
    let document = contact_sends(
        &app,
        json!({"type": "document", "content": base64(&pdf), "mimetype": "application/pdf",
               "filename": "report.pdf", "pushName": "John Doe"}),
    )
    .await;

    let data = envelope(&hit_for(&receiver, &text).await, &secret);
    assert_eq!(
        without_timestamp(data),
        json!({"messageId": text, "from": CONTACT, "pushName": "John Doe",
               "type": "text", "text": "Hello!"})
    );

    let mut data = without_timestamp(envelope(&hit_for(&receiver, &image).await, &secret));
    let url = take_url(&mut data);
    assert_eq!(
        data,
        json!({"messageId": image, "from": CONTACT, "pushName": "John Doe",
               "type": "image", "text": "Check this out!",
               "media": {"mimeType": "image/jpeg", "caption": "Check this out!"}})
    );
    assert_eq!(download(&url).await, jpeg);

    let mut data = without_timestamp(envelope(&hit_for(&receiver, &document).await, &secret));
    let url = take_url(&mut data);
    assert_eq!(
        data,
        json!({"messageId": document, "from": CONTACT, "pushName": "John Doe",
               "type": "document",
               "media": {"mimeType": "application/pdf", "fileName": "report.pdf"}})
    );
    assert_eq!(download(&url).await, pdf);
}

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Takes `media.url` out of `data`.
fn take_url(data: &mut Value) -> String {
    let media = data["media"].as_object_mut().expect("media");
    let url = media.remove("url").expect("media.url");
    url.as_str().unwrap().to_string()
}

/// "Public URL to download the media": no key sent.
async fn download(url: &str) -> Vec<u8> {
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    response.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn messages_sent_over_90_days_before_they_arrive_are_not_forwarded() {
    let app = TestApp::spawn_with(&[ALLOW_LOCAL]).await;
    let (_, key) = app.tenant_with_key("acme").await;
    Gateway::new(&app, &key).connect(SESSION, PHONE).await;
    let seed003 = Receiver::start(&[]).await;
    let native = Receiver::start(&[]).await;
    let (endpoint_id, _) = endpoint(&app, &key, &seed003.url, "seed003").await;
    endpoint(&app, &key, &native.url, "native").await;

    let day = 24 * 60 * 60;
    let now = chrono::Utc::now().timestamp();
    let mut sent = Vec::new();
    for (text, age_days) in [("last season", 91), ("this season", 80), ("today", 0)] {
        let body = json!({"text": text, "timestamp": now - age_days * day});
        sent.push(contact_sends(&app, body).await);
    }
    let [old, recent, today] = <[String; 3]>::try_from(sent).unwrap();

    // Native endpoints get every message, so all three events exist, each
    // with the deliveries it will ever have.
    let mut events = Vec::new();
    for id in [&old, &recent, &today] {
        let data = native.data_of(id).await;
        assert!(data["timestamp"].as_i64().is_some(), "{data}");
        let hit = native
            .hits()
            .into_iter()
            .find(|h| h.json()["data"]["id"] == **id);
        events.push(hit.unwrap().json()["id"].as_str().unwrap().to_string());
    }
    hit_for(&seed003, &recent).await;
    hit_for(&seed003, &today).await;

    let deliveries = app
        .read(&format!("/api/v1/webhooks/{endpoint_id}/deliveries"), &key)
        .await;
    let delivered: BTreeSet<&str> = deliveries["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["eventId"].as_str().unwrap())
        .collect();
    assert_eq!(
        delivered,
        BTreeSet::from([events[1].as_str(), events[2].as_str()]),
        "no delivery for the 91-day-old message"
    );
    let forwarded: BTreeSet<String> = seed003
        .hits()
        .iter()
        .map(|h| h.json()["data"]["messageId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(forwarded, BTreeSet::from([recent, today]));
}
