//! Health, the connect flow (init, QR, polling), init on a connected
//! session before and after a restart, a phone that logged the device
//! out, and delete.

use super::super::live::LIVE;
use super::super::{TestApp, eventually};
use super::{Gateway, assert_error_body, assert_iso_millis, scan};
use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

/// The document's session, its phone, and a contact of it.
const SESSION: &str = "my-session-01";
const PHONE: &str = "14155551234";

#[tokio::test]
async fn health_needs_no_key_with_the_profile_on_or_off() {
    for setting in ["true", "false"] {
        let app = TestApp::spawn_with(&[("WAGATE_PROFILE_SEED003", setting)]).await;
        // curl https://your-gateway.com/health
        let response = reqwest::get(app.url("/health")).await.unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        let fields: Vec<&String> = body.as_object().unwrap().keys().collect();
        assert_eq!(fields, ["status", "timestamp"], "{body}");
        assert_eq!(body["status"], "ok");
        assert_iso_millis(&body["timestamp"]);

        // On: the profile answers for the unknown session; off: the
        // path itself is unknown, in the native error shape.
        let (status, body) = Gateway::new(&app, &app.admin_key).status("x").await;
        let message = match setting {
            "true" => "Session 'x' not found",
            _ => "No such endpoint",
        };
        assert_eq!((status, &body["message"]), (404, &json!(message)), "{body}");
    }
}

/// The PNG inside a `data:image/png;base64,` URL.
fn png_of(data_url: &Value) -> Vec<u8> {
    let text = data_url.as_str().expect("qrCode is a string");
    let encoded = text
        .strip_prefix("data:image/png;base64,")
        .unwrap_or_else(|| panic!("not a PNG data URL: {text:.60}"));
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("base64")
}

#[tokio::test]
async fn init_shows_a_qr_polling_sees_the_scan_and_init_again_is_connected() {
    let app = TestApp::spawn().await;
    let (tenant, secret) = app.tenant_with_key("acme").await;
    let gateway = Gateway::new(&app, &secret);

    // connectWhatsApp(sessionId), step 1.
    let (status, init) = gateway.init(SESSION).await;
    assert_eq!(status, 200, "{init}");
    let fields: Vec<&String> = init.as_object().unwrap().keys().collect();
    assert_eq!(fields, ["qrCode", "sessionId", "status"], "{init}");
    assert_eq!(init["sessionId"], SESSION);
    assert_eq!(init["status"], "qr");
    let png = png_of(&init["qrCode"]);
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "PNG magic");
    let picture = image::load_from_memory_with_format(&png, image::ImageFormat::Png).unwrap();
    assert!(picture.width() >= 256 && picture.width() == picture.height());

    // Made in the key's tenant; the picture is the QR the native API
    // shows as text, the one to scan.
    eventually(LIVE, || async {
        let native = app
            .read(&format!("/api/v1/sessions/{SESSION}"), &secret)
            .await;
        assert_eq!(native["tenantId"], tenant);
        let (_, polled) = gateway.status(SESSION).await;
        (native["qrImage"] == polled["qrCode"]).then_some(())
    })
    .await;

    // Step 2: poll. Before the scan: the QR, never connected.
    let (status, polled) = gateway.status(SESSION).await;
    assert_eq!(status, 200);
    let fields: Vec<&String> = polled.as_object().unwrap().keys().collect();
    assert_eq!(
        fields,
        ["lastConnected", "qrCode", "sessionId", "status"],
        "{polled}"
    );
    assert_eq!(polled["sessionId"], SESSION);
    assert_eq!(polled["status"], "qr");
    png_of(&polled["qrCode"]);
    assert_eq!(polled["lastConnected"], Value::Null);

    scan(&app, &secret, SESSION, PHONE).await;
    let connected = gateway
        .status_until(SESSION, |s| s["status"] == "connected")
        .await;
    assert_eq!(connected["sessionId"], SESSION);
    assert_eq!(connected["qrCode"], Value::Null);
    assert_iso_millis(&connected["lastConnected"]);

    // "If credentials are still valid, status will be connected".
    let (status, again) = gateway.init(SESSION).await;
    assert_eq!(
        (status, again),
        (
            200,
            json!({"sessionId": SESSION, "status": "connected", "qrCode": null})
        )
    );

    // ... also after the gateway restarts.
    let app = app.restart().await;
    let gateway = Gateway::new(&app, &secret);
    let (status, after) = gateway.init(SESSION).await;
    assert_eq!(
        (status, after),
        (
            200,
            json!({"sessionId": SESSION, "status": "connected", "qrCode": null})
        )
    );
    let (_, info) = gateway.status(SESSION).await;
    assert_eq!(info["status"], "connected");
    assert_iso_millis(&info["lastConnected"]);
}

#[tokio::test]
async fn init_after_the_phone_logged_out_links_anew_with_a_qr() {
    let app = TestApp::spawn().await;
    let (_, secret) = app.tenant_with_key("acme").await;
    let gateway = Gateway::new(&app, &secret);
    gateway.connect(SESSION, PHONE).await;

    let (status, body) = app
        .sim_call(
            Method::POST,
            &format!("/admin/devices/{PHONE}/logout"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // The document has no "logged out": such a session is disconnected.
    let out = gateway
        .status_until(SESSION, |s| s["status"] == "disconnected")
        .await;
    assert_eq!(out["qrCode"], Value::Null);
    assert_iso_millis(&out["lastConnected"]);

    // "If credentials expired, a new QR code will be generated".
    let (status, init) = gateway.init(SESSION).await;
    assert_eq!((status, &init["status"]), (200, &json!("qr")), "{init}");
    png_of(&init["qrCode"]);
    scan(&app, &secret, SESSION, PHONE).await;
    gateway
        .status_until(SESSION, |s| s["status"] == "connected")
        .await;
}

#[tokio::test]
async fn delete_logs_out_of_whatsapp_and_forgets_the_session() {
    let app = TestApp::spawn().await;
    let (_, secret) = app.tenant_with_key("acme").await;
    let gateway = Gateway::new(&app, &secret);
    gateway.connect(SESSION, PHONE).await;
    assert_eq!(app.sim_stats().await["linkedDevices"], 1);

    // curl -X DELETE https://your-gateway.com/sessions/my-session-01
    let (status, body) = gateway.delete(SESSION).await;
    assert_eq!(
        (status, body),
        (
            200,
            json!({"success": true, "message": "Session 'my-session-01' deleted successfully"})
        )
    );
    // The phone no longer lists the device.
    app.sim_until("/admin/stats", "the device unlinked", |s| {
        s["linkedDevices"] == 0
    })
    .await;

    let (status, body) = gateway.status(SESSION).await;
    assert_error_body(
        status,
        &body,
        404,
        "Not Found",
        "Session 'my-session-01' not found",
    );
    let (status, body) = gateway.delete(SESSION).await;
    assert_error_body(
        status,
        &body,
        404,
        "Not Found",
        "Session 'my-session-01' not found",
    );

    // The id is free again: init starts from nothing, with a QR.
    let (status, init) = gateway.init(SESSION).await;
    assert_eq!((status, &init["status"]), (200, &json!("qr")), "{init}");
}

#[tokio::test]
async fn a_session_named_init_is_reached_like_any_other() {
    let app = TestApp::spawn().await;
    let gateway = Gateway::new(&app, &app.admin_key);
    let (status, body) = gateway.status("init").await;
    assert_error_body(status, &body, 404, "Not Found", "Session 'init' not found");
    let (status, init) = gateway.init("init").await;
    assert_eq!((status, &init["status"]), (200, &json!("qr")), "{init}");
    let (status, body) = gateway.status("init").await;
    assert_eq!(
        (status, &body["sessionId"]),
        (200, &json!("init")),
        "{body}"
    );
    let (status, body) = gateway.delete("init").await;
    assert_eq!(status, 200, "{body}");
    eventually(Duration::from_secs(5), || async {
        let (status, _) = gateway.status("init").await;
        (status == 404).then_some(())
    })
    .await;
}
