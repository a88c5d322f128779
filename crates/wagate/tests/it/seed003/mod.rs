//! The seed 003 profile (the internal microservice API) as its document's
//! clients use it: the curl commands and Node.js snippets translated into
//! requests with the same paths, headers and bodies, checked field by
//! field against what the document shows.

mod errors;
mod send;
mod sessions;
mod webhooks;

use super::TestApp;
use super::eventually;
use reqwest::Method;
use serde_json::{Value, json};

/// A client written for the document: `Authorization: Bearer <secret>`,
/// JSON bodies with `Content-Type: application/json`.
pub struct Gateway<'a> {
    app: &'a TestApp,
    secret: String,
}

impl<'a> Gateway<'a> {
    pub fn new(app: &'a TestApp, secret: &str) -> Self {
        Gateway {
            app,
            secret: secret.to_string(),
        }
    }

    /// Status and JSON body of one request.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .app
            .http
            .request(method, self.app.url(path))
            .header("Authorization", format!("Bearer {}", self.secret));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.expect("a JSON body"))
    }

    pub async fn init(&self, session_id: &str) -> (u16, Value) {
        let body = json!({ "sessionId": session_id });
        self.call(Method::POST, "/sessions/init", Some(body)).await
    }

    pub async fn status(&self, session_id: &str) -> (u16, Value) {
        self.call(Method::GET, &format!("/sessions/{session_id}"), None)
            .await
    }

    pub async fn send(&self, session_id: &str, to: &str, message: &str) -> (u16, Value) {
        let body = json!({ "sessionId": session_id, "to": to, "message": message });
        self.call(Method::POST, "/messages/send", Some(body)).await
    }

    pub async fn delete(&self, session_id: &str) -> (u16, Value) {
        self.call(Method::DELETE, &format!("/sessions/{session_id}"), None)
            .await
    }

    /// Polls `GET /sessions/:sessionId`, as the document's client does,
    /// until `check` accepts the answer.
    pub async fn status_until(&self, session_id: &str, check: impl Fn(&Value) -> bool) -> Value {
        eventually(super::live::LIVE, || async {
            let (status, body) = self.status(session_id).await;
            assert_eq!(status, 200, "{body}");
            check(&body).then_some(body)
        })
        .await
    }

    /// The document's connect flow with a phone: init shows a QR, the
    /// phone scans it, polling sees `connected`. Returns the last answer.
    pub async fn connect(&self, session_id: &str, phone: &str) -> Value {
        let (status, body) = self.init(session_id).await;
        assert_eq!((status, &body["status"]), (200, &json!("qr")), "{body}");
        scan(self.app, &self.secret, session_id, phone).await;
        self.status_until(session_id, |s| s["status"] == "connected")
            .await
    }
}

/// Has the simulated `phone` scan the QR the session shows now. The
/// profile gives the QR as a picture only; its text comes from the native
/// API, with the same key.
pub async fn scan(app: &TestApp, key: &str, session_id: &str, phone: &str) {
    let shown = app.qr_of(key, session_id).await;
    let (status, body) = app
        .sim_call(
            Method::POST,
            "/admin/scan",
            Some(json!({"qr": shown["qrCode"], "phone": phone})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// An error body is exactly `{"error", "message"}`.
pub fn assert_error_body(status: u16, body: &Value, want_status: u16, error: &str, message: &str) {
    assert_eq!(
        (status, body),
        (want_status, &json!({ "error": error, "message": message })),
    );
}

/// An error body has the document's two fields, one of its error types,
/// and a message; answers what the message says.
pub fn assert_error_shape(status: u16, body: &Value, want_status: u16, error: &str) -> String {
    assert_eq!(status, want_status, "{body}");
    let fields: Vec<&String> = body.as_object().expect("an object").keys().collect();
    assert_eq!(fields, ["error", "message"], "{body}");
    assert_eq!(body["error"], error, "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "{body}");
    message.to_string()
}

/// ISO 8601 with milliseconds and `Z`, as JavaScript's `toISOString`.
pub fn assert_iso_millis(value: &Value) {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"));
    let parsed = chrono::DateTime::parse_from_rfc3339(text).expect("an RFC 3339 time");
    assert_eq!(
        text,
        parsed
            .to_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    );
}
