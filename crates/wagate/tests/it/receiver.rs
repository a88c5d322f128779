//! A local webhook receiver: records every request and answers with the
//! statuses a test scripts (then 200).
//!
//! Also used by the inbound crash test (`#[path]`).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as the receiver got it.
#[derive(Debug, Clone)]
pub struct Hit {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Hit {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

#[derive(Default)]
struct Script {
    hits: Vec<Hit>,
    answers: VecDeque<u16>,
}

pub struct Receiver {
    pub url: String,
    script: Arc<Mutex<Script>>,
}

impl Receiver {
    /// Listens on 127.0.0.1; the first requests get `answers`, the rest 200.
    pub async fn start(answers: &[u16]) -> Receiver {
        Receiver::start_on(0, answers).await
    }

    /// Like [`start`](Self::start), on `port` of 127.0.0.1: a receiver that
    /// was down comes back where its endpoint points.
    pub async fn start_on(port: u16, answers: &[u16]) -> Receiver {
        let script = Arc::new(Mutex::new(Script {
            hits: Vec::new(),
            answers: answers.iter().copied().collect(),
        }));
        let app = axum::Router::new()
            .fallback(record)
            .with_state(script.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, script }
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.script.lock().unwrap().hits.clone()
    }

    /// Waits until `check` accepts the hits so far; returns them.
    /// The native payload's `data` for received message `id`, once it
    /// has come.
    pub async fn data_of(&self, id: &str) -> Value {
        let find = |hits: &[Hit]| {
            hits.iter()
                .map(|h| h.json()["data"].clone())
                .find(|d| d["id"] == id)
        };
        let hits = self
            .until(&format!("message {id}"), |h| find(h).is_some())
            .await;
        find(&hits).unwrap()
    }

    pub async fn until(&self, what: &str, check: impl Fn(&[Hit]) -> bool) -> Vec<Hit> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let hits = self.hits();
            if check(&hits) {
                return hits;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the receiver never got {what}; got {} requests",
                hits.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn record(
    State(script): State<Arc<Mutex<Script>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut s = script.lock().unwrap();
    s.hits.push(Hit { headers, body });
    let answer = s.answers.pop_front().unwrap_or(200);
    StatusCode::from_u16(answer).unwrap_or(StatusCode::OK)
}

/// Checks a Standard Webhooks signature the way a receiver would, with
/// HMAC-SHA256 computed here rather than by the gateway's code.
pub fn verify_signature(secret: &str, hit: &Hit) -> bool {
    use base64::Engine as _;
    use hmac::{Hmac, Mac};
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .expect("a whsec_ secret");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(hit.header("webhook-id").as_bytes());
    mac.update(b".");
    mac.update(hit.header("webhook-timestamp").as_bytes());
    mac.update(b".");
    mac.update(&hit.body);
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    hit.header("webhook-signature")
        .split(' ')
        .any(|s| s == expected)
}
