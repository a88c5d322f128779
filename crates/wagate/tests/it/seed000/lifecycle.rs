//! The document's endpoints 1-8 and its four webhook events, in the
//! order a client meets them: create, status, QR, scan, send text, image
//! and document, list, receive, drop and delete.

use super::{GATEWAY, contact_writes, create, gateway, post_json, scan, status_until, success};
use crate::it::TestApp;
use crate::it::receiver::{Hit, Receiver, verify_signature};
use crate::it::sending::{PDF, PNG, assert_same_file, file_of};
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

/// The session's key, as the document chooses it.
const KEY: &str = "abc-secret-key-123";
/// The number the document sends to (and receives from).
const CUSTOMER: &str = "919876543210";
/// The phone the session is linked to.
const LINKED: &str = "919876543299";

/// The receiver's seed 000 events named `event`, oldest first.
fn events(hits: &[Hit], event: &str) -> Vec<Value> {
    hits.iter()
        .map(Hit::json)
        .filter(|b| b["event"] == event)
        .collect()
}

async fn event_where(
    receiver: &Receiver,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> (Hit, Value) {
    let found = |hits: &[Hit]| hits.iter().find(|h| check(&h.json())).cloned();
    let hits = receiver.until(what, |h| found(h).is_some()).await;
    let hit = found(&hits).unwrap();
    let body = hit.json();
    (hit, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_lives_through_every_documented_endpoint_and_event() {
    let app = TestApp::spawn_with(&[("WAGATE_WEBHOOK_ALLOW", "127.0.0.1/32")]).await;
    let (_, reseller) = app.tenant_with_key("Reseller").await;
    let receiver = Receiver::start(&[]).await;

    // 1. Create: the document's body, with a webhook this test receives.
    let created = create(
        &app,
        &reseller,
        json!({
            "sessionId": "client-abc",
            "name": "Client ABC Company",
            "apiKey": KEY,
            "webhook": receiver.url,
        }),
    )
    .await;
    assert_eq!(created["sessionId"], "client-abc");
    assert_eq!(created["message"], "Session created successfully");
    let first_qr = created["qrCode"]
        .as_str()
        .expect("the first QR")
        .to_string();
    assert_eq!(
        first_qr.split(',').count(),
        5,
        "the raw QR string: {first_qr}"
    );
    assert!(
        created.get("apiKey").is_none(),
        "the key was given: {created}"
    );
    let secret = created["webhookSecret"].as_str().unwrap().to_string();

    // QR code generated: the same QR reaches the webhook, signed.
    let (hit, qr_event) = event_where(&receiver, "qr_code", |b| b["event"] == "qr_code").await;
    assert!(
        verify_signature(&secret, &hit),
        "signed with the endpoint's secret"
    );
    assert_eq!(
        qr_event,
        json!({"event": "qr_code", "sessionId": "client-abc", "qrCode": first_qr})
    );

    // 2. Status before the phone scans.
    let before = status_until(&app, "client-abc", KEY, |d| d["qrCode"].is_string()).await;
    assert_eq!(before["data"]["exists"], true);
    assert_eq!(before["data"]["connected"], false);
    assert_eq!(before["data"]["phoneNumber"], Value::Null);

    // 3. The QR code, for pairing.
    let qr = success(
        gateway(&app, Method::GET, "/client-abc/qr", Some(KEY))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(qr["data"]["qrCode"].is_string(), "{qr}");
    assert_eq!(qr["data"]["message"], "Scan this QR code with WhatsApp");

    let after = scan(&app, "client-abc", KEY, LINKED).await;
    assert_eq!(
        after,
        json!({"success": true, "data": {
            "exists": true, "connected": true, "phoneNumber": LINKED, "qrCode": null}})
    );
    let (_, connected) = event_where(&receiver, "connected", |b| b["event"] == "connected").await;
    assert_eq!(
        connected,
        json!({"event": "connected", "sessionId": "client-abc", "phoneNumber": LINKED})
    );
    let qr = success(
        gateway(&app, Method::GET, "/client-abc/qr", Some(KEY))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(qr["data"]["qrCode"], Value::Null, "connected: {qr}");

    // 4. Send text, to a number written with `+`.
    let sent = success(
        post_json(
            &app,
            "/client-abc/send",
            KEY,
            json!({"to": "+919876543210", "message": "Hello! Your meeting is confirmed."}),
        )
        .await,
    )
    .await;
    let text_id = sent["messageId"].as_str().unwrap();
    assert_eq!(sent, json!({"success": true, "messageId": text_id}));
    let got = app.received(CUSTOMER, text_id).await;
    assert_eq!(got["text"], "Hello! Your meeting is confirmed.");
    assert_eq!(got["from"], LINKED);

    // 5. Send image: multipart with to, caption and the image.
    let photo = file_of(PNG, 24_000, 31);
    let form = Form::new()
        .text("to", "+919876543210")
        .text("caption", "Here is your QR code")
        .part(
            "image",
            Part::bytes(photo.clone())
                .file_name("qr.png")
                .mime_str("image/png")
                .unwrap(),
        );
    let response = gateway(&app, Method::POST, "/client-abc/send-image", Some(KEY))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let image = success(response).await;
    let image_id = image["messageId"].as_str().unwrap();
    assert_eq!(image, json!({"success": true, "messageId": image_id}));
    let got = app.received(CUSTOMER, image_id).await;
    assert_eq!(got["type"], "image", "{got}");
    assert_same_file(&got, &photo);
    assert_eq!(got["mimetype"], "image/png");
    assert_eq!(got["caption"], "Here is your QR code");

    // 6. Send document: a PDF.
    let invitation = file_of(PDF, 18_000, 32);
    let form = Form::new()
        .text("to", "+919876543210")
        .text("caption", "Your meeting invitation")
        .part(
            "document",
            Part::bytes(invitation.clone())
                .file_name("invitation.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        );
    let response = gateway(&app, Method::POST, "/client-abc/send-document", Some(KEY))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let document = success(response).await;
    let document_id = document["messageId"].as_str().unwrap();
    assert_eq!(document, json!({"success": true, "messageId": document_id}));
    let got = app.received(CUSTOMER, document_id).await;
    assert_eq!(got["type"], "document", "{got}");
    assert_same_file(&got, &invitation);
    assert_eq!(got["mimetype"], "application/pdf");
    assert_eq!(got["filename"], "invitation.pdf");
    assert_eq!(got["caption"], "Your meeting invitation");

    // 8. List, with the reseller's key: the session key masked.
    let listed = success(
        gateway(&app, Method::GET, "/sessions/list", Some(&reseller))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        listed,
        json!({"success": true, "data": [{
            "sessionId": "client-abc",
            "name": "Client ABC Company",
            "phoneNumber": LINKED,
            "apiKey": "***-123",
            "isActive": true,
        }]})
    );

    // Incoming message.
    let incoming = contact_writes(&app, CUSTOMER, LINKED, "Hello, I need help").await;
    let (_, received) = event_where(&receiver, "message_received", |b| {
        b["messageId"] == incoming
    })
    .await;
    let timestamp = received["timestamp"].as_i64().expect("seconds since 1970");
    let now = chrono::Utc::now().timestamp();
    assert!((now - 120..=now + 5).contains(&timestamp), "{received}");
    assert_eq!(
        received,
        json!({
            "event": "message_received",
            "sessionId": "client-abc",
            "from": "919876543210@s.whatsapp.net",
            "messageId": incoming,
            "timestamp": timestamp,
            "type": "conversation",
            "text": "Hello, I need help",
            "hasMedia": false,
        })
    );

    // Connection status: dropped (it reconnects), then logged out.
    let (status, body) = app
        .sim_call(
            Method::POST,
            &format!("/admin/devices/{LINKED}/disconnect"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, dropped) =
        event_where(&receiver, "disconnected", |b| b["event"] == "disconnected").await;
    assert_eq!(
        dropped,
        json!({"event": "disconnected", "sessionId": "client-abc", "shouldReconnect": true})
    );
    receiver
        .until("connected again", |h| events(h, "connected").len() >= 2)
        .await;
    let (status, body) = app
        .sim_call(
            Method::POST,
            &format!("/admin/devices/{LINKED}/logout"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, logged_out) =
        event_where(&receiver, "logged out", |b| b["shouldReconnect"] == false).await;
    assert_eq!(
        logged_out,
        json!({"event": "disconnected", "sessionId": "client-abc", "shouldReconnect": false})
    );
    let every = receiver.hits();
    for hit in &every {
        assert!(verify_signature(&secret, hit), "every delivery is signed");
        let event = hit.json()["event"].as_str().unwrap_or_default().to_string();
        assert!(
            ["qr_code", "connected", "disconnected", "message_received"].contains(&event.as_str()),
            "only the document's events: {}",
            hit.json()
        );
    }

    // 7. Delete, with the session's own key.
    let deleted = success(
        gateway(&app, Method::DELETE, "/client-abc", Some(KEY))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        deleted,
        json!({"success": true, "message": "Session deleted"})
    );
    // Its key went with it, and so did its webhook.
    let gone = gateway(&app, Method::GET, "/client-abc/status", Some(KEY))
        .send()
        .await
        .unwrap();
    super::failure(gone, 403, "Forbidden").await;
    let gone = gateway(&app, Method::GET, "/client-abc/status", Some(&reseller))
        .send()
        .await
        .unwrap();
    super::failure(gone, 404, "Not Found").await;
    let listed = app
        .read(&format!("{GATEWAY}/sessions/list"), &reseller)
        .await;
    assert_eq!(listed, json!({"success": true, "data": []}));
    let endpoints = app.read("/api/v1/webhooks", &reseller).await;
    assert_eq!(endpoints["items"], json!([]), "{endpoints}");
    app.stop().await;
}
