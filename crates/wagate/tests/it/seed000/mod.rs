//! The seed 000 profile ("Maytapi alternative", `/api/v1/gateway`) end
//! to end: each example of its document sent with the same body and
//! headers, every field it shows checked, and every failure answered in
//! the profile's `{"success": false, "error", "message"}` shape.

mod axios;
mod create_errors;
mod lifecycle;
mod route_errors;

use super::TestApp;
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};

/// Where the profile is mounted.
const GATEWAY: &str = "/api/v1/gateway";

/// A request to the profile, with `x-api-key` when a key is given, as
/// the document sends it.
fn gateway(app: &TestApp, method: Method, path: &str, key: Option<&str>) -> RequestBuilder {
    let request = app
        .http
        .request(method, app.url(&format!("{GATEWAY}{path}")));
    match key {
        Some(key) => request.header("x-api-key", key),
        None => request,
    }
}

/// A JSON request to the profile as the document writes it.
async fn post_json(app: &TestApp, path: &str, key: &str, body: Value) -> Response {
    gateway(app, Method::POST, path, Some(key))
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

/// A successful answer: status 200 and `success: true`; returns the body.
async fn success(response: Response) -> Value {
    let url = response.url().to_string();
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("answers are JSON");
    assert_eq!(status, 200, "{url}: {body}");
    assert_eq!(body["success"], true, "{url}: {body}");
    body
}

/// A failure in the profile's shape: exactly `success: false`, the
/// error's kind and a message, with the status given.
async fn failure(response: Response, status: u16, kind: &str) -> Value {
    let url = response.url().to_string();
    assert_eq!(response.status().as_u16(), status, "status of {url}");
    let body: Value = response.json().await.expect("failures are JSON");
    assert_eq!(body["success"], false, "{url}: {body}");
    assert_eq!(body["error"], kind, "{url}: {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{url}: {body}"
    );
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 3, "only success, error and message: {body}");
    body
}

/// Creates a session through the profile as `key`; returns the answer.
async fn create(app: &TestApp, key: &str, body: Value) -> Value {
    success(post_json(app, "/sessions", key, body).await).await
}

/// Polls the profile's status of `id`, read with `key`, until `check`
/// accepts its `data`.
async fn status_until(app: &TestApp, id: &str, key: &str, check: impl Fn(&Value) -> bool) -> Value {
    let path = format!("/{id}/status");
    super::eventually(super::live::LIVE, || async {
        let response = gateway(app, Method::GET, &path, Some(key))
            .send()
            .await
            .unwrap();
        let body = success(response).await;
        check(&body["data"]).then_some(body)
    })
    .await
}

/// Links session `id` to `phone`: scans the QR the profile's `/qr`
/// route gives, and waits until its status says connected.
async fn scan(app: &TestApp, id: &str, key: &str, phone: &str) -> Value {
    let path = format!("/{id}/qr");
    let qr = super::eventually(super::live::LIVE, || async {
        let response = gateway(app, Method::GET, &path, Some(key))
            .send()
            .await
            .unwrap();
        let body = success(response).await;
        body["data"]["qrCode"].as_str().map(str::to_string)
    })
    .await;
    let (status, body) = app
        .sim_call(
            Method::POST,
            "/admin/scan",
            Some(json!({"qr": qr, "phone": phone})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    status_until(app, id, key, |d| d["connected"] == true).await
}

/// Contact `from` writes `text` to `to`; returns the message id.
async fn contact_writes(app: &TestApp, from: &str, to: &str, text: &str) -> String {
    let path = format!("/admin/contacts/{from}/send");
    let (status, answer) = app
        .sim_call(Method::POST, &path, Some(json!({"to": to, "text": text})))
        .await;
    assert_eq!(status, 200, "{answer}");
    answer["id"].as_str().unwrap().to_string()
}
