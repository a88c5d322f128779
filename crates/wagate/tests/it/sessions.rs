//! A session's life through the API, over the fake engine.

use super::fake_engine::{FAKE_PAIR_CODE, FAKE_QR};
use super::{TestApp, assert_error};
use serde_json::{Value, json};
use wagate_core::{SessionId, SessionKey, TenantId};

fn key_of(session: &Value) -> SessionKey {
    SessionKey {
        tenant: TenantId(session["tenantId"].as_i64().unwrap()),
        session: SessionId::parse(session["sessionId"].as_str().unwrap()).unwrap(),
    }
}

#[tokio::test]
async fn create_link_send_and_delete() {
    let app = TestApp::spawn_with_fake_engine().await;
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
    // `connect` ran as part of creation, so the QR is already there.
    assert_eq!(session["status"], "qr");
    assert_eq!(session["qrCode"], FAKE_QR);
    assert!(
        session["qrImage"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,iVBORw0KGgo")
    );
    assert!(session["lastConnected"].is_null());

    // The session key reads its own session.
    let read: Value = app
        .get("/api/v1/sessions/shop", &session_key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["status"], "qr");

    let code = app
        .post(
            "/api/v1/sessions/shop/pair-code",
            &session_key,
            json!({ "phoneNumber": "+55 11 99999-9999" }),
        )
        .await;
    assert_eq!(code.status(), 200);
    assert_eq!(
        code.json::<Value>().await.unwrap()["pairCode"],
        FAKE_PAIR_CODE
    );
    let bad_phone = app
        .post(
            "/api/v1/sessions/shop/pair-code",
            &session_key,
            json!({ "phoneNumber": "x" }),
        )
        .await;
    assert_eq!(
        assert_error(bad_phone, 400, "Validation Error").await["field"],
        "phoneNumber"
    );

    app.engine().link(&key_of(session), "5511999999999").await;
    let read: Value = app
        .get("/api/v1/sessions/shop", &session_key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["status"], "connected");
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
    assert_eq!(sent.status(), 200);
    let sent: Value = sent.json().await.unwrap();
    assert_eq!(sent["status"], "sent");
    assert!(sent["id"].as_str().unwrap().starts_with("3EB0"));
    let recorded = app.engine().sent.lock().unwrap().clone();
    assert_eq!(recorded[0].1, "5511999990000@s.whatsapp.net");
    assert_eq!(recorded[0].2, "Olá!");

    let metrics = app.http.get(app.url("/metrics")).send().await.unwrap();
    let metrics = metrics.text().await.unwrap();
    assert!(
        metrics.contains("wagate_messages_sent_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("wagate_sessions{status=\"connected\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains(
        "wagate_http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/sessions/{id}/messages\",status=\"200\"} 1"
    ), "{metrics}");

    let deleted = app.delete("/api/v1/sessions/shop", &app.admin_key).await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(
        app.engine().removed.lock().unwrap().as_slice(),
        &[key_of(session)]
    );
    let gone = app.get("/api/v1/sessions/shop", &app.admin_key).await;
    assert_error(gone, 404, "Not Found").await;
    // Its session key went with it.
    let revoked = app.get("/api/v1/sessions", &session_key).await;
    assert_error(revoked, 403, "Forbidden").await;
    app.stop().await;
}

#[tokio::test]
async fn connect_and_logout() {
    let app = TestApp::spawn_with_fake_engine().await;
    let created = app.create_session(&app.admin_key, "s1").await;
    let response = app
        .post("/api/v1/sessions/s1/logout", &app.admin_key, json!({}))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap()["status"],
        "logged_out"
    );

    let response = app
        .post(
            "/api/v1/sessions/s1/connect",
            created["apiKey"].as_str().unwrap(),
            json!({}),
        )
        .await;
    assert_eq!(response.status(), 202);
    assert_eq!(response.json::<Value>().await.unwrap()["status"], "qr");
    app.stop().await;
}

#[tokio::test]
async fn created_without_an_id_gets_one() {
    let app = TestApp::spawn().await;
    let response = app
        .post("/api/v1/sessions", &app.admin_key, json!({}))
        .await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let id = created["session"]["sessionId"].as_str().unwrap();
    assert!(SessionId::parse(id).is_ok());
    // No engine is running, so the session waits, disconnected.
    assert_eq!(created["session"]["status"], "disconnected");
    let listed: Value = app
        .get("/api/v1/sessions", &app.admin_key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["sessions"][0]["sessionId"], id);
    app.stop().await;
}

#[tokio::test]
async fn delete_answers_503_while_the_engine_cannot_stop_the_session() {
    let app = TestApp::spawn().await;
    app.create_session(&app.admin_key, "s1").await;
    let response = app.delete("/api/v1/sessions/s1", &app.admin_key).await;
    assert_error(response, 503, "Service Unavailable").await;
    let still_there = app.get("/api/v1/sessions/s1", &app.admin_key).await;
    assert_eq!(still_there.status(), 200);
}
