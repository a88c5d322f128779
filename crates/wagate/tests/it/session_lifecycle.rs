//! The foundation's end-to-end story: create → QR → scan → connected →
//! send → restart → connected again without a QR → logout from the phone.

use super::live::{LiveApp, linked_session, sim_call, sim_until};
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_lives_through_pairing_sending_restart_and_logout() {
    let sim = wasim::Sim::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let admin_key = "live-admin-key-0123456789";
    let app = LiveApp::start(&sim, dir.path(), admin_key).await;

    let (status, created) = app
        .call(
            Method::POST,
            "/api/v1/sessions",
            Some(json!({"sessionId": "shop", "name": "Shop"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let qr = app
        .session_until("shop", "a QR", |s| {
            s["status"] == "qr" && s["qrCode"].is_string()
        })
        .await;
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

    let (status, body) = sim_call(
        &sim,
        Method::POST,
        "/admin/scan",
        Some(json!({"qr": qr_text, "phone": "15557770001"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let connected = app
        .session_until("shop", "connected", |s| s["status"] == "connected")
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
    assert!(status == 200 || status == 201, "{status} {sent}");
    let id = sent["id"]
        .as_str()
        .expect("a WhatsApp message id")
        .to_string();
    let inbox = sim_until(
        &sim,
        "/admin/contacts/15558880002/inbox",
        "the message",
        |v| {
            v.as_array()
                .is_some_and(|a| a.iter().any(|m| m["id"] == id.as_str()))
        },
    )
    .await;
    let got = inbox
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(got["text"], "your order shipped");
    assert_eq!(got["from"], "15557770001");

    // Restart: the session comes back from the database, with no new QR.
    app.stop().await;
    let (_, before) = sim_call(&sim, Method::GET, "/admin/stats", None).await;
    let app = LiveApp::start(&sim, dir.path(), admin_key).await;
    let back = app
        .session_until("shop", "connected after restart", |s| {
            s["status"] == "connected"
        })
        .await;
    assert!(back["qrCode"].is_null(), "{back}");
    assert_eq!(back["phoneNumber"], "15557770001");
    let (_, after) = sim_call(&sim, Method::GET, "/admin/stats", None).await;
    assert_eq!(
        after["linkedDevices"], 1,
        "no second device was linked: {after}"
    );
    assert!(
        after["logins"].as_u64() > before["logins"].as_u64(),
        "it logged in again: {after}"
    );

    // The phone unlinks the device: the session ends logged out and stays so.
    let (status, _) = sim_call(
        &sim,
        Method::POST,
        "/admin/devices/15557770001/logout",
        None,
    )
    .await;
    assert_eq!(status, 200);
    let out = app
        .session_until("shop", "logged_out", |s| s["status"] == "logged_out")
        .await;
    assert!(out["qrCode"].is_null());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sending_needs_a_connected_session() {
    let sim = wasim::Sim::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let app = LiveApp::start(&sim, dir.path(), "live-admin-key-0123456789").await;
    let _ = linked_session(&app, &sim, "a", "15557770009").await;
    app.call(Method::POST, "/api/v1/sessions/a/logout", None)
        .await;
    app.session_until("a", "logged_out", |s| s["status"] == "logged_out")
        .await;
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
