//! The foundation's end-to-end story: create → QR → scan → connected →
//! send → restart → connected again without a QR → logout from the phone.

use super::TestApp;
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_lives_through_pairing_sending_restart_and_logout() {
    let app = TestApp::spawn().await;
    let admin = app.admin_key.clone();

    let (status, created) = app
        .call(
            Method::POST,
            "/api/v1/sessions",
            Some(json!({"sessionId": "shop", "name": "Shop"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let qr = app.qr_of(&admin, "shop").await;
    assert!(
        qr["qrImage"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,"),
        "{qr}"
    );
    let qr_text = qr["qrCode"].as_str().unwrap().to_string();
    assert_eq!(
        qr_text.split(',').count(),
        5,
        "ref,noise,identity,adv,platform: {qr_text}"
    );

    let (status, body) = app
        .sim_call(
            Method::POST,
            "/admin/scan",
            Some(json!({"qr": qr_text, "phone": "15557770001"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let connected = app
        .session_until(&admin, "shop", "connected", |s| s["status"] == "connected")
        .await;
    assert_eq!(connected["phoneNumber"], "15557770001");
    assert!(connected["lastConnected"].is_string());
    assert!(connected["qrCode"].is_null());

    let (status, sent) = app
        .call(
            Method::POST,
            "/api/v1/sessions/shop/messages",
            Some(json!({"to": "+1 555 888 0002", "message": "your order shipped"})),
        )
        .await;
    assert_eq!(status, 202, "{sent}");
    let id = sent["id"].as_str().expect("a WhatsApp message id");
    let got = app.received("15558880002", id).await;
    assert_eq!(got["text"], "your order shipped");
    assert_eq!(got["from"], "15557770001");

    // Restart: the session comes back from the database, with no new QR.
    let before = app.sim_stats().await;
    let app = app.restart().await;
    let back = app
        .session_until(&admin, "shop", "connected after restart", |s| {
            s["status"] == "connected"
        })
        .await;
    assert!(back["qrCode"].is_null(), "{back}");
    assert_eq!(back["phoneNumber"], "15557770001");
    let after = app.sim_stats().await;
    assert_eq!(
        after["linkedDevices"], 1,
        "no second device was linked: {after}"
    );
    assert!(
        after["logins"].as_u64() > before["logins"].as_u64(),
        "it logged in again: {after}"
    );

    // The phone unlinks the device: the session ends logged out and stays so.
    let (status, _) = app
        .sim_call(Method::POST, "/admin/devices/15557770001/logout", None)
        .await;
    assert_eq!(status, 200);
    let out = app
        .session_until(&admin, "shop", "logged_out", |s| {
            s["status"] == "logged_out"
        })
        .await;
    assert!(out["qrCode"].is_null());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sending_needs_a_connected_session() {
    let app = TestApp::spawn().await;
    let admin = app.admin_key.clone();
    app.linked_session(&admin, "a", "15557770009").await;
    // Scheduled for later: still queued when the session logs out.
    let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let waiting = app
        .queue_message(
            "a",
            json!({"to": "15550000001", "text": "tomorrow's offer", "sendAt": later}),
        )
        .await;
    let (status, body) = app
        .call(Method::POST, "/api/v1/sessions/a/logout", None)
        .await;
    assert_eq!(status, 200, "{body}");
    app.session_until(&admin, "a", "logged_out", |s| s["status"] == "logged_out")
        .await;
    // It cannot go out from this number any more, nor from the next one
    // linked as "a": it fails, saying why.
    let failed = app
        .message_until("a", &waiting, "failed by the logout", |m| {
            m["status"] == "failed"
        })
        .await;
    assert!(
        failed["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("logged out")),
        "{failed}"
    );
    let (status, body) = app
        .call(
            Method::POST,
            "/api/v1/sessions/a/messages",
            Some(json!({"to": "15550000001", "message": "x"})),
        )
        .await;
    assert_eq!(status, 503, "{body}");
    app.stop().await;
}
