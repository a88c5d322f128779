//! The external API of seed 001 (`/api/v1/external`): its curl examples
//! sent with the same headers and bodies, and every failure answered in
//! its `{"success": false, "error", "message"}` shape.

use super::TestApp;
use super::live::LIVE;
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};

const SEND: &str = "/api/v1/external/send";

/// A request with `X-API-Key`, as the document's curl commands send it.
fn external(app: &TestApp, method: Method, path: &str, key: Option<&str>) -> RequestBuilder {
    let request = app.http.request(method, app.url(path));
    match key {
        Some(key) => request.header("X-API-Key", key),
        None => request,
    }
}

async fn answer(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.expect("answers are JSON"))
}

async fn failure(response: Response, status: u16, kind: &str) -> Value {
    let url = response.url().to_string();
    let (got, body) = answer(response).await;
    assert_eq!(got, status, "{url}: {body}");
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["error"], kind, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert_eq!(body.as_object().unwrap().len(), 3, "{body}");
    body
}

/// The status route's `data` once `check` accepts it.
async fn status_until(app: &TestApp, id: &str, key: &str, check: impl Fn(&Value) -> bool) -> Value {
    let path = format!("/api/v1/external/session/{id}/status");
    super::eventually(LIVE, || async {
        let (status, body) = answer(
            external(app, Method::GET, &path, Some(key))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["success"], true, "{body}");
        check(&body["data"]).then(|| body["data"].clone())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_send_and_status_requests() {
    let app = TestApp::spawn().await;
    let (_, tenant_key) = app.tenant_with_key("Platform user").await;
    let created = app.create_session(&tenant_key, "my-session-001").await;
    let session_key = created["apiKey"].as_str().unwrap().to_string();

    // Get Session Status, before and after the phone scans.
    let waiting = status_until(&app, "my-session-001", &session_key, |d| {
        d["status"] == "qr"
    })
    .await;
    assert_eq!(waiting["sessionId"], "my-session-001");
    assert_eq!(waiting["connected"], false);
    assert_eq!(waiting["phoneNumber"], Value::Null);
    assert!(waiting["qrCode"].is_string(), "{waiting}");
    app.scan(&tenant_key, "my-session-001", "15550400001").await;
    let connected = status_until(&app, "my-session-001", &session_key, |d| {
        d["connected"] == true
    })
    .await;
    assert_eq!(connected["status"], "connected");
    assert_eq!(connected["phoneNumber"], "15550400001");
    assert_eq!(connected["qrCode"], Value::Null);
    let since = connected["lastConnected"].as_str().unwrap();
    assert!(since.ends_with('Z') && since.contains('.'), "{connected}");

    // Send Message: JSON with a JID recipient and an explicit type.
    let response = external(&app, Method::POST, SEND, Some(&session_key))
        .header("Content-Type", "application/json")
        .body(
            r#"{
    "sessionId": "my-session-001",
    "to": "6281234567890@s.whatsapp.net",
    "type": "text",
    "message": "Hello from API!"
  }"#,
        )
        .send()
        .await
        .unwrap();
    let (status, body) = answer(response).await;
    assert_eq!(status, 202, "{body}");
    let id = body["data"]["messageId"].as_str().unwrap().to_string();
    assert_eq!(
        body,
        json!({"success": true, "data": {
            "messageId": id, "status": "queued", "sessionId": "my-session-001",
            "to": "6281234567890@s.whatsapp.net"}})
    );
    let got = app.received("6281234567890", &id).await;
    assert_eq!(got["text"], "Hello from API!");
    assert_eq!(got["from"], "15550400001");

    // API Key Authentication: `curl -H "X-API-Key: …" -d '{…}'`, which
    // curl sends as a form type; here with the tenant's key.
    app.create_session(&tenant_key, "session-id").await;
    app.scan(&tenant_key, "session-id", "15550400002").await;
    let response = external(&app, Method::POST, SEND, Some(&tenant_key))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(r#"{"sessionId":"session-id","to":"1234567890","message":"Hello"}"#)
        .send()
        .await
        .unwrap();
    let (status, body) = answer(response).await;
    assert_eq!(status, 202, "{body}");
    let id = body["data"]["messageId"].as_str().unwrap();
    let got = app.received("1234567890", id).await;
    assert_eq!(got["text"], "Hello");
    assert_eq!(got["from"], "15550400002");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_come_in_the_express_shape() {
    let app = TestApp::spawn().await;
    let (_, first) = app.tenant_with_key("First").await;
    let (_, second) = app.tenant_with_key("Second").await;
    let created = app.create_session(&first, "my-session-001").await;
    let session_key = created["apiKey"].as_str().unwrap().to_string();
    let other = app.create_session(&first, "other").await;
    let other_key = other["apiKey"].as_str().unwrap().to_string();
    let good = json!({"sessionId": "my-session-001", "to": "6281234567890", "type": "text", "message": "Hi"});
    let send = |key: Option<&str>, content_type: &str, body: String| {
        external(&app, Method::POST, SEND, key)
            .header("Content-Type", content_type.to_string())
            .body(body)
            .send()
    };
    let json_type = "application/json";

    failure(
        send(None, json_type, good.to_string()).await.unwrap(),
        401,
        "Unauthorized",
    )
    .await;
    failure(
        send(Some("nope"), json_type, good.to_string())
            .await
            .unwrap(),
        403,
        "Forbidden",
    )
    .await;
    // Another tenant's key, or another session's, finds no such session.
    failure(
        send(Some(&second), json_type, good.to_string())
            .await
            .unwrap(),
        404,
        "Not Found",
    )
    .await;
    failure(
        send(Some(&other_key), json_type, good.to_string())
            .await
            .unwrap(),
        404,
        "Not Found",
    )
    .await;
    for (change, field) in [
        (json!({"sessionId": null}), "sessionId"),
        (json!({"sessionId": 7}), "sessionId"),
        (json!({"to": "12"}), "to"),
        (json!({"to": "someone@example.com"}), "to"),
        (json!({"type": "carrier-pigeon"}), "type"),
        (json!({"message": ""}), "message"),
        (json!({"colour": "red"}), "colour"),
    ] {
        let mut body = good.clone();
        for (k, v) in change.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        let response = send(Some(&session_key), json_type, body.to_string())
            .await
            .unwrap();
        let answer = failure(response, 400, "Validation Error").await;
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains(field), "{body}: {answer}");
    }
    let malformed = send(Some(&session_key), json_type, "{\"sessionId\":".into());
    failure(malformed.await.unwrap(), 400, "Bad Request").await;
    let form = send(
        Some(&session_key),
        "application/x-www-form-urlencoded",
        "sessionId=my-session-001&to=1".into(),
    );
    failure(form.await.unwrap(), 400, "Bad Request").await;
    let text = send(Some(&session_key), "text/plain", good.to_string());
    failure(text.await.unwrap(), 415, "Unsupported Media Type").await;

    let status = |key: &str, id: &str| {
        let path = format!("/api/v1/external/session/{id}/status");
        external(&app, Method::GET, &path, Some(key)).send()
    };
    failure(
        status(&second, "my-session-001").await.unwrap(),
        404,
        "Not Found",
    )
    .await;
    failure(
        status(&other_key, "my-session-001").await.unwrap(),
        404,
        "Not Found",
    )
    .await;
    failure(status(&first, "nobody").await.unwrap(), 404, "Not Found").await;
    failure(
        status(&first, "not valid!").await.unwrap(),
        400,
        "Validation Error",
    )
    .await;
    let unauthenticated = external(
        &app,
        Method::GET,
        "/api/v1/external/session/my-session-001/status",
        None,
    );
    failure(unauthenticated.send().await.unwrap(), 401, "Unauthorized").await;

    for (method, path, code, kind) in [
        (Method::GET, SEND, 405, "Method Not Allowed"),
        (
            Method::DELETE,
            "/api/v1/external/session/my-session-001/status",
            405,
            "Method Not Allowed",
        ),
        (Method::GET, "/api/v1/external/sessions", 404, "Not Found"),
        (Method::GET, "/api/v1/external", 404, "Not Found"),
    ] {
        let response = external(&app, method, path, Some(&first))
            .send()
            .await
            .unwrap();
        failure(response, code, kind).await;
    }
    let queued = app
        .read("/api/v1/sessions/my-session-001/messages", &first)
        .await;
    assert_eq!(queued["items"], json!([]), "nothing was queued: {queued}");
    app.stop().await;
}
