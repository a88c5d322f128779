//! Live state on both sides: waiting on a session in the app, driving and
//! reading the simulated phones and contacts in wasim.

use super::TestApp;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

/// How long a step that involves WhatsApp may take before the test fails.
pub const LIVE: Duration = Duration::from_secs(30);

/// Polls with `probe` until `check` accepts its answer or [`LIVE`] passes.
async fn poll_until<F, Fut>(what: &str, probe: F, check: impl Fn(&Value) -> bool) -> Value
where
    F: Fn() -> Fut,
    Fut: Future<Output = Value>,
{
    let deadline = tokio::time::Instant::now() + LIVE;
    loop {
        let value = probe().await;
        if check(&value) {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never saw {what}; last: {value}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

impl TestApp {
    /// Sends a request with the admin key; returns status and JSON body.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.request(method, path, &self.admin_key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Polls session `id`, read as `key`, until `check` accepts it.
    pub async fn session_until(
        &self,
        key: &str,
        id: &str,
        what: &str,
        check: impl Fn(&Value) -> bool,
    ) -> Value {
        let path = format!("/api/v1/sessions/{id}");
        let probe = || async { self.get(&path, key).await.json().await.unwrap() };
        poll_until(&format!("session {id} {what}"), probe, check).await
    }

    /// Waits for session `id` to show a QR; returns the session.
    pub async fn qr_of(&self, key: &str, id: &str) -> Value {
        self.session_until(key, id, "showing a QR", |s| {
            s["status"] == "qr" && s["qrCode"].is_string()
        })
        .await
    }

    /// Scans session `id`'s QR as `phone` and waits until it is connected;
    /// returns the connected session.
    pub async fn scan(&self, key: &str, id: &str, phone: &str) -> Value {
        let qr = self.qr_of(key, id).await;
        let (status, body) = self
            .sim_call(
                Method::POST,
                "/admin/scan",
                Some(json!({"qr": qr["qrCode"], "phone": phone})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        self.session_until(key, id, "connected", |s| s["status"] == "connected")
            .await
    }

    /// Creates session `id` as `key` and links it to `phone` through a QR
    /// scan; returns the 201 body of the creation (with the session key).
    pub async fn linked_session(&self, key: &str, id: &str, phone: &str) -> Value {
        let created = self.create_session(key, id).await;
        self.scan(key, id, phone).await;
        created
    }

    /// A call to the simulator's admin API.
    pub async fn sim_call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.sim.admin_url());
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The simulator's counters.
    pub async fn sim_stats(&self) -> Value {
        self.sim_call(Method::GET, "/admin/stats", None).await.1
    }

    /// Polls the simulator's `path` until `check` accepts the answer.
    pub async fn sim_until(&self, path: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let probe = || async { self.sim_call(Method::GET, path, None).await.1 };
        poll_until(what, probe, check).await
    }

    /// Waits until contact `phone` has received message `id`; returns it
    /// as the contact decrypted it.
    pub async fn received(&self, phone: &str, id: &str) -> Value {
        let inbox = self
            .sim_until(
                &format!("/admin/contacts/{phone}/inbox"),
                &format!("message {id} in {phone}'s inbox"),
                |v| {
                    v.as_array()
                        .is_some_and(|a| a.iter().any(|m| m["id"] == id))
                },
            )
            .await;
        let found = inbox.as_array().unwrap().iter().find(|m| m["id"] == id);
        found.unwrap().clone()
    }
}
