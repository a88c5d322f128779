//! Every error answers in the API's shape with the right status, and names
//! the offending field where there is one.

use super::{TestApp, assert_error};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn missing_credentials_are_401() {
    let app = TestApp::spawn().await;
    let response = app
        .http
        .get(app.url("/api/v1/sessions"))
        .send()
        .await
        .unwrap();
    assert_error(response, 401, "Unauthorized").await;
    let basic = app
        .http
        .get(app.url("/api/v1/sessions"))
        .header("Authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .unwrap();
    assert_error(basic, 401, "Unauthorized").await;
}

#[tokio::test]
async fn unknown_key_is_403_with_either_header() {
    let app = TestApp::spawn().await;
    let bearer = app.get("/api/v1/sessions", "wgk_not_a_real_key").await;
    assert_error(bearer, 403, "Forbidden").await;
    let header = app
        .http
        .get(app.url("/api/v1/sessions"))
        .header("X-Api-Key", "wgk_not_a_real_key")
        .send()
        .await
        .unwrap();
    assert_error(header, 403, "Forbidden").await;
    let good = app
        .http
        .get(app.url("/api/v1/sessions"))
        .header("X-Api-Key", &app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(good.status(), 200);
}

#[tokio::test]
async fn invalid_session_ids_name_session_id() {
    let app = TestApp::spawn().await;
    for bad in ["has space", "", "ümlaut", &"a".repeat(65)] {
        let response = app
            .post(
                "/api/v1/sessions",
                &app.admin_key,
                json!({ "sessionId": bad }),
            )
            .await;
        let body = assert_error(response, 400, "Validation Error").await;
        assert_eq!(body["field"], "sessionId", "{body}");
        assert!(body["message"].as_str().unwrap().contains("sessionId"));
    }
    let in_path = app.get("/api/v1/sessions/bad%20id", &app.admin_key).await;
    let body = assert_error(in_path, 400, "Validation Error").await;
    assert_eq!(body["field"], "sessionId");
}

#[tokio::test]
async fn duplicate_session_is_409() {
    let app = TestApp::spawn().await;
    app.create_session(&app.admin_key, "dup").await;
    let again = app
        .post(
            "/api/v1/sessions",
            &app.admin_key,
            json!({ "sessionId": "dup" }),
        )
        .await;
    let body = assert_error(again, 409, "Conflict").await;
    assert!(body["message"].as_str().unwrap().contains("dup"));
}

#[tokio::test]
async fn malformed_bodies_are_400_and_name_fields() {
    let app = TestApp::spawn().await;
    app.create_session(&app.admin_key, "s1").await;
    let send = "/api/v1/sessions/s1/messages";

    let invalid = app
        .request(Method::POST, send, &app.admin_key)
        .header("Content-Type", "application/json")
        .body("{\"to\": ")
        .send()
        .await
        .unwrap();
    assert_error(invalid, 400, "Bad Request").await;

    let missing = app
        .post(send, &app.admin_key, json!({ "to": "5511999999999" }))
        .await;
    let body = assert_error(missing, 400, "Validation Error").await;
    assert_eq!(body["field"], "text");

    let wrong_type = app
        .post(
            send,
            &app.admin_key,
            json!({ "to": 5511999999999u64, "message": "hi" }),
        )
        .await;
    let body = assert_error(wrong_type, 400, "Validation Error").await;
    assert_eq!(body["field"], "to");

    let not_json = app
        .request(Method::POST, send, &app.admin_key)
        .header("Content-Type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_error(not_json, 415, "Unsupported Media Type").await;
}

#[tokio::test]
async fn oversized_body_is_413() {
    // A JSON body may carry the largest file in base64; with small file
    // limits, 2 MB is over the body limit.
    let small: Vec<(&str, &str)> = ["IMAGE", "VIDEO", "AUDIO", "DOCUMENT", "STICKER"]
        .iter()
        .map(|k| {
            (
                Box::leak(format!("WAGATE_MEDIA_MAX_{k}_BYTES").into_boxed_str()) as &str,
                "100000",
            )
        })
        .collect();
    let app = TestApp::spawn_with(&small).await;
    app.create_session(&app.admin_key, "s1").await;
    let huge = json!({ "to": "5511999999999", "message": "x".repeat(2 * 1024 * 1024) });
    let response = app
        .post("/api/v1/sessions/s1/messages", &app.admin_key, huge)
        .await;
    assert_error(response, 413, "Payload Too Large").await;
}

#[tokio::test]
async fn message_rules_name_to_and_message() {
    let app = TestApp::spawn().await;
    app.create_session(&app.admin_key, "s1").await;
    let send = "/api/v1/sessions/s1/messages";
    for to in ["abc", "12", "1@example.com"] {
        let response = app
            .post(send, &app.admin_key, json!({ "to": to, "message": "hi" }))
            .await;
        let body = assert_error(response, 400, "Validation Error").await;
        assert_eq!(body["field"], "to", "{to}: {body}");
    }
    for message in [String::new(), "   ".to_string(), "x".repeat(4097)] {
        let response = app
            .post(
                send,
                &app.admin_key,
                json!({ "to": "5511999999999", "message": message }),
            )
            .await;
        let body = assert_error(response, 400, "Validation Error").await;
        assert_eq!(body["field"], "message", "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sending_before_linking_queues_and_says_why() {
    let app = TestApp::spawn().await;
    app.create_session(&app.admin_key, "s1").await;
    app.qr_of(&app.admin_key, "s1").await;
    // Not linked yet: accepted into the queue, nothing goes to WhatsApp.
    let sent = app
        .post(
            "/api/v1/sessions/s1/messages",
            &app.admin_key,
            json!({ "to": "5511999999999", "message": "hi" }),
        )
        .await;
    assert_eq!(sent.status(), 202);
    let id = sent.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let m = app
        .read(
            &format!("/api/v1/sessions/s1/messages/{id}"),
            &app.admin_key,
        )
        .await;
    assert_eq!(m["status"], "queued", "{m}");
    assert_eq!(m["waitReason"], "session is qr", "{m}");
    assert_eq!(app.sim_stats().await["messagesRelayed"], 0);
    app.stop().await;
}

#[tokio::test]
async fn unknown_routes_and_methods_use_the_error_shape() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/v1/nothing-here", &app.admin_key).await;
    assert_error(response, 404, "Not Found").await;
    let response = app
        .request(Method::PUT, "/api/v1/sessions", &app.admin_key)
        .send()
        .await
        .unwrap();
    assert_error(response, 405, "Method Not Allowed").await;
}

#[tokio::test]
async fn session_keys_cannot_manage_the_account() {
    let app = TestApp::spawn().await;
    let created = app.create_session(&app.admin_key, "s1").await;
    let session_key = created["apiKey"].as_str().unwrap();
    let response = app
        .post(
            "/api/v1/sessions",
            session_key,
            json!({ "sessionId": "s2" }),
        )
        .await;
    assert_error(response, 403, "Forbidden").await;
    let response = app
        .post(
            "/api/v1/keys",
            session_key,
            json!({ "scope": "session", "sessionId": "s1" }),
        )
        .await;
    assert_error(response, 403, "Forbidden").await;
    let response = app.get("/api/v1/tenants", session_key).await;
    assert_error(response, 403, "Forbidden").await;
}
