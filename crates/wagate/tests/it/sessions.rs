//! A session's life through the API, with the real engine linking it to a
//! simulated phone.

use super::{TestApp, assert_error, eventually};
use serde_json::{Value, json};
use std::time::Duration;
use wagate_core::SessionId;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_link_send_and_delete() {
    let app = TestApp::spawn().await;
    let response = app
        .post(
            "/api/v1/sessions",
            &app.admin_key,
            json!({ "sessionId": "shop", "name": "Shop", "webhook": "https://example.com/hook" }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let session_key = created["apiKey"].as_str().unwrap().to_string();
    assert!(session_key.starts_with("wgk_"));
    let session = &created["session"];
    assert_eq!(session["sessionId"], "shop");
    assert_eq!(session["name"], "Shop");
    assert_eq!(session["webhook"], "https://example.com/hook");
    // `connect` ran as part of creation: the client is on its way to a QR.
    assert!(
        session["status"] == "connecting" || session["status"] == "qr",
        "{session}"
    );
    assert!(session["lastConnected"].is_null());

    // The session key reads its own session, QR included.
    let qr = app.qr_of(&session_key, "shop").await;
    assert!(
        qr["qrImage"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,iVBORw0KGgo"),
        "{qr}"
    );

    let read = app.scan(&session_key, "shop", "5511999999999").await;
    assert_eq!(read["phoneNumber"], "5511999999999");
    assert!(read["qrCode"].is_null() && read["qrImage"].is_null());
    assert!(read["lastConnected"].as_str().unwrap().ends_with('Z'));

    let sent = app
        .post(
            "/api/v1/sessions/shop/messages",
            &session_key,
            json!({ "to": "+55 11 99999-0000", "message": "Olá!" }),
        )
        .await;
    assert_eq!(sent.status(), 202);
    let sent: Value = sent.json().await.unwrap();
    assert_eq!(sent["status"], "queued");
    let id = sent["id"].as_str().unwrap();
    let got = app.received("5511999990000", id).await;
    assert_eq!(got["text"], "Olá!");
    assert_eq!(got["from"], "5511999999999");

    // Counted once WhatsApp acks, which may come just after the contact
    // has it.
    let metrics = eventually(Duration::from_secs(10), || async {
        let text = app
            .http
            .get(app.url("/metrics"))
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        text.contains("wagate_messages_sent_total 1")
            .then_some(text)
    })
    .await;
    for line in [
        "wagate_messages_sent_total 1",
        "wagate_messages_failed_total 0",
        "wagate_sessions{status=\"connected\"} 1",
        "wagate_http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/sessions/{id}/messages\",status=\"202\"} 1",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
    }

    let deleted = app.delete("/api/v1/sessions/shop", &app.admin_key).await;
    assert_eq!(deleted.status(), 204);
    let gone = app.get("/api/v1/sessions/shop", &app.admin_key).await;
    assert_error(gone, 404, "Not Found").await;
    // Its session key went with it.
    let revoked = app.get("/api/v1/sessions", &session_key).await;
    assert_error(revoked, 403, "Forbidden").await;
    // Deleting logs the device out: the phone no longer lists it.
    app.sim_until("/admin/stats", "the device unlinked and gone", |s| {
        s["connectedDevices"] == 0 && s["linkedDevices"] == 0
    })
    .await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pair_code_links_by_phone_number() {
    let app = TestApp::spawn().await;
    let created = app.create_session(&app.admin_key, "shop").await;
    let session_key = created["apiKey"].as_str().unwrap();

    let bad_phone = app
        .post(
            "/api/v1/sessions/shop/pair-code",
            session_key,
            json!({ "phoneNumber": "x" }),
        )
        .await;
    assert_eq!(
        assert_error(bad_phone, 400, "Validation Error").await["field"],
        "phoneNumber"
    );

    let response = app
        .post(
            "/api/v1/sessions/shop/pair-code",
            session_key,
            json!({ "phoneNumber": "+55 11 99999-9999" }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let code = response.json::<Value>().await.unwrap()["pairCode"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(code.len(), 8, "{code}");

    // The phone's user types the code in: the session links to that number.
    let (status, body) = app
        .sim_call(
            reqwest::Method::POST,
            "/admin/pair-code",
            Some(json!({ "phone": "5511999999999", "code": code })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let linked = app
        .session_until(session_key, "shop", "connected", |s| {
            s["status"] == "connected"
        })
        .await;
    assert_eq!(linked["phoneNumber"], "5511999999999");

    // A linked session has nothing left to pair.
    let again = app
        .post(
            "/api/v1/sessions/shop/pair-code",
            session_key,
            json!({ "phoneNumber": "5511999999999" }),
        )
        .await;
    assert_error(again, 409, "Conflict").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_then_connect_shows_a_new_qr() {
    let app = TestApp::spawn().await;
    let created = app.create_session(&app.admin_key, "s1").await;
    let session_key = created["apiKey"].as_str().unwrap();
    let first_qr = app.qr_of(session_key, "s1").await["qrCode"].clone();
    app.scan(session_key, "s1", "5511988887777").await;

    let response = app
        .post("/api/v1/sessions/s1/logout", &app.admin_key, json!({}))
        .await;
    assert_eq!(response.status(), 200);
    let out: Value = response.json().await.unwrap();
    assert_eq!(out["status"], "logged_out");
    assert!(out["qrCode"].is_null());
    // The phone no longer lists the device.
    app.sim_until("/admin/stats", "the device unlinked", |s| {
        s["linkedDevices"] == 0 && s["connectedDevices"] == 0
    })
    .await;

    let response = app
        .post("/api/v1/sessions/s1/connect", session_key, json!({}))
        .await;
    assert_eq!(response.status(), 202);
    let status = response.json::<Value>().await.unwrap()["status"].clone();
    assert!(status == "connecting" || status == "qr", "{status}");
    // The credentials were forgotten: the new QR carries new keys
    // (ref,noise,identity,adv,platform).
    let second_qr = app.qr_of(session_key, "s1").await["qrCode"].clone();
    let keys = |qr: &Value| -> Vec<String> {
        let parts = qr.as_str().unwrap().split(',').map(str::to_string);
        parts.skip(1).take(2).collect()
    };
    let (old, new) = (keys(&first_qr), keys(&second_qr));
    assert!(old[0] != new[0] && old[1] != new[1], "{old:?} {new:?}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_while_waiting_for_a_scan_stops_the_client() {
    let app = TestApp::spawn().await;
    app.create_session(&app.admin_key, "s1").await;
    app.qr_of(&app.admin_key, "s1").await;
    let response = app
        .post("/api/v1/sessions/s1/logout", &app.admin_key, json!({}))
        .await;
    assert_eq!(response.status(), 200);
    let out: Value = response.json().await.unwrap();
    assert_eq!(out["status"], "logged_out", "{out}");
    assert!(out["qrCode"].is_null(), "{out}");
    app.sim_until("/admin/stats", "the client gone", |s| s["connections"] == 0)
        .await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn created_without_an_id_gets_one() {
    let app = TestApp::spawn().await;
    let response = app
        .post("/api/v1/sessions", &app.admin_key, json!({}))
        .await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let id = created["session"]["sessionId"].as_str().unwrap();
    assert!(SessionId::parse(id).is_ok());
    let listed = app.read("/api/v1/sessions", &app.admin_key).await;
    assert_eq!(listed["sessions"][0]["sessionId"], id);
    // It starts linking like any other.
    app.qr_of(&app.admin_key, id).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_session_waiting_for_a_scan_stops_its_client() {
    let app = TestApp::spawn().await;
    app.create_session(&app.admin_key, "s1").await;
    app.qr_of(&app.admin_key, "s1").await;
    assert_eq!(app.sim_stats().await["connections"], 1);

    let response = app.delete("/api/v1/sessions/s1", &app.admin_key).await;
    assert_eq!(response.status(), 204);
    let gone = app.get("/api/v1/sessions/s1", &app.admin_key).await;
    assert_error(gone, 404, "Not Found").await;
    app.sim_until("/admin/stats", "the client gone", |s| s["connections"] == 0)
        .await;

    // Nothing of it is left behind: the id starts over with a new QR.
    app.create_session(&app.admin_key, "s1").await;
    app.qr_of(&app.admin_key, "s1").await;
    app.stop().await;
}
