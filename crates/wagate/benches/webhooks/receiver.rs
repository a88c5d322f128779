//! A webhook receiver that answers 204 at once and notes when each
//! message first arrived, by its WhatsApp id (`data.id`). It checks no
//! signatures: the tests do, and here it would only slow the receiver.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

#[derive(Default)]
struct Seen {
    /// Every request, repeats included.
    requests: AtomicUsize,
    first: Mutex<HashMap<String, Instant>>,
    last_body: Mutex<Option<Value>>,
}

pub struct Receiver {
    pub url: String,
    seen: Arc<Seen>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let seen = Arc::new(Seen::default());
        let app = axum::Router::new()
            .fallback(record)
            .with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, seen }
    }

    pub fn requests(&self) -> usize {
        self.seen.requests.load(Ordering::Relaxed)
    }

    /// How many of `ids` have arrived.
    pub fn arrived<'a>(&self, ids: impl IntoIterator<Item = &'a String>) -> usize {
        let first = self.seen.first.lock().unwrap();
        ids.into_iter().filter(|id| first.contains_key(*id)).count()
    }

    /// When each of `ids` first arrived (`None` for one that did not).
    pub fn arrivals<'a>(&self, ids: impl IntoIterator<Item = &'a String>) -> Vec<Option<Instant>> {
        let first = self.seen.first.lock().unwrap();
        ids.into_iter().map(|id| first.get(id).copied()).collect()
    }

    /// The latest request's body.
    pub fn last_body(&self) -> Option<Value> {
        self.seen.last_body.lock().unwrap().clone()
    }
}

async fn record(State(seen): State<Arc<Seen>>, body: Bytes) -> StatusCode {
    let at = Instant::now();
    seen.requests.fetch_add(1, Ordering::Relaxed);
    if let Ok(body) = serde_json::from_slice::<Value>(&body) {
        if let Some(id) = body["data"]["id"].as_str() {
            seen.first
                .lock()
                .unwrap()
                .entry(id.to_string())
                .or_insert(at);
        }
        *seen.last_body.lock().unwrap() = Some(body);
    }
    StatusCode::NO_CONTENT
}
