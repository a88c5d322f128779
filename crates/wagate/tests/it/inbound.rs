//! Received messages end to end: a contact on wasim writes to a linked
//! session, the gateway records the event and a local receiver gets it,
//! signed, in the endpoint's payload shape.

use super::TestApp;
use super::receiver::{Receiver, verify_signature};
use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};

/// Receivers on 127.0.0.1 are allowed for these tests.
const ALLOW_LOCAL: (&str, &str) = ("WAGATE_WEBHOOK_ALLOW", "127.0.0.1/32");

impl TestApp {
    /// Adds a webhook endpoint for session `id`; returns its secret.
    async fn webhook(&self, id: &str, url: &str, shape: &str, events: Value) -> String {
        let (status, answer) = self
            .call(
                Method::POST,
                &format!("/api/v1/sessions/{id}/webhooks"),
                Some(json!({ "url": url, "shape": shape, "events": events })),
            )
            .await;
        assert_eq!(status, 201, "{answer}");
        answer["secret"].as_str().unwrap().to_string()
    }

    /// Contact `from` sends `body` (wasim's contact send) to `to`.
    async fn contact_sends(&self, from: &str, to: &str, mut body: Value) -> String {
        body["to"] = to.into();
        let (status, answer) = self
            .sim_call(
                Method::POST,
                &format!("/admin/contacts/{from}/send"),
                Some(body),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        answer["id"].as_str().unwrap().to_string()
    }
}

#[tokio::test]
async fn a_contacts_text_reaches_the_webhook_signed() {
    let app = TestApp::spawn_with(&[ALLOW_LOCAL]).await;
    let admin = app.admin_key.clone();
    app.linked_session(&admin, "shop", "15550200001").await;
    let receiver = Receiver::start(&[]).await;
    let secret = app
        .webhook("shop", &receiver.url, "native", json!(["message.received"]))
        .await;
    let id = app
        .contact_sends(
            "15550200002",
            "15550200001",
            json!({"text": "is it open?", "pushName": "Ana"}),
        )
        .await;
    let hits = receiver.until("the message", |h| !h.is_empty()).await;
    let hit = &hits[0];
    assert!(verify_signature(&secret, hit), "signature does not verify");
    let body = hit.json();
    assert_eq!(hit.header("webhook-id"), body["id"].as_str().unwrap());
    assert_eq!(body["type"], "message.received");
    assert_eq!(body["sessionId"], "shop");
    let data = &body["data"];
    assert_eq!(data["id"], id.as_str());
    assert_eq!(data["type"], "text");
    assert_eq!(data["text"], "is it open?");
    assert_eq!(data["from"]["phone"], "15550200002");
    assert_eq!(data["from"]["pushName"], "Ana");
    assert_eq!(data["isGroup"], false);
}

#[tokio::test]
async fn media_arrives_in_each_shape_with_a_gateway_url() {
    let app = TestApp::spawn_with(&[ALLOW_LOCAL]).await;
    let admin = app.admin_key.clone();
    app.linked_session(&admin, "shop", "15550200011").await;
    let native = Receiver::start(&[]).await;
    let seed000 = Receiver::start(&[]).await;
    let seed003 = Receiver::start(&[]).await;
    let all = json!(["*"]);
    app.webhook("shop", &native.url, "native", all.clone())
        .await;
    app.webhook("shop", &seed000.url, "seed000", all.clone())
        .await;
    app.webhook("shop", &seed003.url, "seed003", all).await;
    let pdf = b"%PDF-1.4 a small report".to_vec();
    let content = base64::engine::general_purpose::STANDARD.encode(&pdf);
    let id = app
        .contact_sends(
            "15550200012",
            "15550200011",
            json!({"type": "document", "content": content, "mimetype": "application/pdf",
                   "filename": "report.pdf", "caption": "the report"}),
        )
        .await;
    let received = |hits: &[super::receiver::Hit], id: &str| -> Option<Value> {
        hits.iter()
            .map(|h| h.json())
            .find(|b| b["data"]["id"] == id || b["data"]["messageId"] == id || b["messageId"] == id)
    };
    let hits = native
        .until("the document", |h| received(h, &id).is_some())
        .await;
    let data = received(&hits, &id).unwrap()["data"].clone();
    assert_eq!(data["type"], "document");
    assert_eq!(data["text"], "the report");
    let media = &data["media"];
    assert_eq!(media["status"], "stored", "{media}");
    assert_eq!(media["fileName"], "report.pdf");
    assert_eq!(media["mimetype"], "application/pdf");
    assert_eq!(media["size"], pdf.len());
    // The gateway serves the file it downloaded, to the tenant's key.
    let url = media["url"].as_str().unwrap();
    let file = app.http.get(url).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(file.status(), 200);
    assert_eq!(file.bytes().await.unwrap().as_ref(), pdf.as_slice());
    let anonymous = app.http.get(url).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);

    let hits = seed000
        .until("the document", |h| received(h, &id).is_some())
        .await;
    let maytapi = received(&hits, &id).unwrap();
    assert_eq!(maytapi["event"], "message_received");
    assert_eq!(maytapi["from"], "15550200012@s.whatsapp.net");
    assert_eq!(maytapi["type"], "documentMessage");
    assert_eq!(maytapi["hasMedia"], true);
    assert_eq!(maytapi["mediaUrl"], url);

    let hits = seed003
        .until("the document", |h| received(h, &id).is_some())
        .await;
    let micro = received(&hits, &id).unwrap();
    assert_eq!(micro["event"], "message.received");
    assert_eq!(micro["data"]["from"], "15550200012");
    assert_eq!(micro["data"]["type"], "document");
    assert_eq!(micro["data"]["media"]["fileName"], "report.pdf");
    assert_eq!(micro["data"]["media"]["url"], url);
}

#[tokio::test]
async fn a_failing_receiver_gets_the_event_again_with_the_same_id() {
    let app = TestApp::spawn_with(&[
        ALLOW_LOCAL,
        ("WAGATE_WEBHOOK_RETRY_DELAYS_MS", "0,50,50,50,50"),
    ])
    .await;
    let admin = app.admin_key.clone();
    app.linked_session(&admin, "shop", "15550200021").await;
    let receiver = Receiver::start(&[500, 500, 500]).await;
    app.webhook("shop", &receiver.url, "native", json!(["message.received"]))
        .await;
    app.contact_sends("15550200022", "15550200021", json!({"text": "hello"}))
        .await;
    let hits = receiver.until("a fourth try", |h| h.len() >= 4).await;
    let ids: Vec<&str> = hits.iter().map(|h| h.header("webhook-id")).collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");
    // Delivered on the fourth try: no fifth.
    let endpoints = app.read("/api/v1/webhooks", &admin).await;
    let wh = endpoints["items"][0]["id"].as_str().unwrap().to_string();
    let attempts = app
        .read(&format!("/api/v1/webhooks/{wh}/attempts"), &admin)
        .await;
    let codes: Vec<i64> = attempts["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["statusCode"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, [200, 500, 500, 500], "newest first");
    assert_eq!(receiver.hits().len(), 4);
}

#[tokio::test]
async fn a_gone_receiver_disables_its_endpoint() {
    let app = TestApp::spawn_with(&[ALLOW_LOCAL]).await;
    let admin = app.admin_key.clone();
    app.linked_session(&admin, "shop", "15550200031").await;
    let receiver = Receiver::start(&[410]).await;
    app.webhook("shop", &receiver.url, "native", json!(["*"]))
        .await;
    app.contact_sends("15550200032", "15550200031", json!({"text": "one"}))
        .await;
    receiver.until("the message", |h| !h.is_empty()).await;
    let endpoints = app.read("/api/v1/webhooks", &admin).await;
    let wh = endpoints["items"][0]["id"].as_str().unwrap().to_string();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let endpoint = loop {
        let e = app.read(&format!("/api/v1/webhooks/{wh}"), &admin).await;
        if e["enabled"] == false {
            break e;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never disabled: {e}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert!(endpoint["disabledReason"].as_str().unwrap().contains("410"));
    let hits_before = receiver.hits().len();
    app.contact_sends("15550200032", "15550200031", json!({"text": "two"}))
        .await;
    // Another endpoint sees the second message; the disabled one must not.
    let witness = Receiver::start(&[]).await;
    app.webhook("shop", &witness.url, "native", json!(["message.received"]))
        .await;
    app.contact_sends("15550200032", "15550200031", json!({"text": "three"}))
        .await;
    witness.until("the third message", |h| !h.is_empty()).await;
    assert_eq!(receiver.hits().len(), hits_before);
}

#[tokio::test]
async fn media_links_start_with_the_configured_public_url() {
    let public = "https://wa.example.com/gw";
    let app = TestApp::spawn_with(&[
        ALLOW_LOCAL,
        ("WAGATE_PUBLIC_URL", "https://wa.example.com/gw/"),
    ])
    .await;
    let admin = app.admin_key.clone();
    app.linked_session(&admin, "shop", "15550200021").await;
    let receiver = Receiver::start(&[]).await;
    app.webhook("shop", &receiver.url, "native", json!(["message.received"]))
        .await;
    let content = base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4 x");
    app.contact_sends(
        "15550200022",
        "15550200021",
        json!({"type": "document", "content": content, "mimetype": "application/pdf",
               "filename": "x.pdf"}),
    )
    .await;
    let hits = receiver.until("the document", |h| !h.is_empty()).await;
    let media = hits[0].json()["data"]["media"].clone();
    let url = media["url"].as_str().unwrap();
    // Behind a proxy the link names the proxy; the path is the gateway's.
    let path = url
        .strip_prefix(public)
        .unwrap_or_else(|| panic!("{url} does not start with {public}"));
    assert!(path.starts_with("/api/v1/media/evt_"), "{url}");
    let (status, _) = app.call(Method::GET, path, None).await;
    assert_eq!(status, 200);
}
