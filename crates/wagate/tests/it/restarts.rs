//! What a restart of the process keeps: linked sessions come back on their
//! own without a QR; sessions never linked wait for an explicit connect.

use super::TestApp;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linked_sessions_come_back_and_unlinked_ones_wait() {
    let app = TestApp::spawn().await;
    let admin = app.admin_key.clone();
    app.linked_session(&admin, "linked", "5511977776666").await;
    app.create_session(&admin, "waiting").await;
    app.qr_of(&admin, "waiting").await;

    let app = app.restart().await;
    let back = app
        .session_until(&admin, "linked", "connected again", |s| {
            s["status"] == "connected"
        })
        .await;
    assert_eq!(back["phoneNumber"], "5511977776666");
    assert!(back["qrCode"].is_null(), "{back}");
    let waiting = app.read("/api/v1/sessions/waiting", &admin).await;
    assert_eq!(waiting["status"], "disconnected", "{waiting}");
    assert!(waiting["qrCode"].is_null(), "{waiting}");
    let stats = app.sim_stats().await;
    assert_eq!(stats["linkedDevices"], 1, "{stats}");

    // The restored session sends; the waiting one links when asked to.
    let sent = app
        .post(
            "/api/v1/sessions/linked/messages",
            &admin,
            json!({ "to": "5511900001111", "message": "back online" }),
        )
        .await;
    assert_eq!(sent.status(), 202);
    let id = sent.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.received("5511900001111", &id).await["text"],
        "back online"
    );
    let response = app
        .post("/api/v1/sessions/waiting/connect", &admin, json!({}))
        .await;
    assert_eq!(response.status(), 202);
    app.scan(&admin, "waiting", "5511955554444").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_on_a_connected_session_keeps_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin_key.clone();
    app.linked_session(&admin, "s1", "5511933332222").await;
    let logins = app.sim_stats().await["logins"].clone();

    let response = app
        .post("/api/v1/sessions/s1/connect", &admin, json!({}))
        .await;
    assert_eq!(response.status(), 202);
    let session: Value = response.json().await.unwrap();
    assert_eq!(session["status"], "connected", "{session}");
    let stats = app.sim_stats().await;
    assert_eq!(stats["logins"], logins, "no new login: {stats}");
    assert_eq!(stats["connections"], 1, "{stats}");
    app.stop().await;
}
