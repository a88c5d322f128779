//! A real whatsapp-rust client linked to a phone in the simulator, media
//! for it to send, and the simulator's view of what a contact received.

#![allow(dead_code)]

use async_trait::async_trait;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use wagate_core::outbound::MediaBlob;
use wagate_engine::outbound::build::MediaSource;
use wasim::Sim;
use wasim::media::SimHttpClient;
use whatsapp_rust::Client;
use whatsapp_rust::bot::{Bot, BotHandle};
use whatsapp_rust::transport::TokioWebSocketTransportFactory;
use whatsapp_rust::types::events::Event;

pub const DEADLINE: Duration = Duration::from_secs(30);

pub struct Linked {
    pub client: Arc<Client>,
    handle: Option<BotHandle>,
}

impl Linked {
    pub async fn stop(mut self) {
        if let Some(handle) = self.handle.take() {
            handle.shutdown().await;
        }
    }
}

/// A fresh client linked to `phone` by QR, once it is connected.
pub async fn linked_client(sim: &Sim, phone: &str) -> Linked {
    let events: Arc<Mutex<Vec<Arc<Event>>>> = Arc::default();
    let changed = Arc::new(Notify::new());
    let (seen, notify) = (events.clone(), changed.clone());
    let backend = Arc::new(whatsapp_rust::wacore::store::InMemoryBackend::new());
    let bot = Bot::builder()
        .with_backend_arc(backend)
        .with_transport_factory(TokioWebSocketTransportFactory::new().with_url(sim.ws_url()))
        .with_http_client(SimHttpClient::new(sim.media().ca_pem()).expect("media client"))
        .with_version((2, 3000, 1_023_456_789))
        .on_event(move |event, _client| {
            let (seen, notify) = (seen.clone(), notify.clone());
            async move {
                seen.lock().unwrap().push(event);
                notify.notify_waiters();
            }
        })
        .build()
        .await
        .expect("client builds");
    let handle = bot.spawn();
    let client = handle.client();

    let wait_for = |what: &'static str, pick: fn(&Event) -> Option<String>| {
        let (events, changed) = (events.clone(), changed.clone());
        async move {
            let deadline = tokio::time::Instant::now() + DEADLINE;
            loop {
                let notified = changed.notified();
                if let Some(found) = events.lock().unwrap().iter().find_map(|e| pick(e)) {
                    return found;
                }
                if tokio::time::timeout_at(deadline, notified).await.is_err() {
                    panic!("timed out waiting for {what}");
                }
            }
        }
    };
    let qr = wait_for("a QR code", |e| match e {
        Event::PairingQrCode(q) => Some(q.code.clone()),
        _ => None,
    })
    .await;
    let answer = reqwest::Client::new()
        .post(format!("{}/admin/scan", sim.admin_url()))
        .json(&serde_json::json!({"qr": qr, "phone": phone}))
        .send()
        .await
        .expect("scan request");
    assert!(answer.status().is_success(), "scan: {}", answer.status());
    wait_for("the connection", |e| {
        matches!(e, Event::Connected(_)).then(String::new)
    })
    .await;
    Linked {
        client,
        handle: Some(handle),
    }
}

/// Entry `id` in `contact`'s inbox, or `None` if it has not shown up by
/// the deadline.
pub async fn inbox_entry(sim: &Sim, contact: &str, id: &str) -> Option<Value> {
    let url = format!("{}/admin/contacts/{contact}/inbox", sim.admin_url());
    let http = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let inbox: Value = http.get(&url).send().await.ok()?.json().await.ok()?;
        let found = inbox
            .as_array()
            .and_then(|a| a.iter().find(|e| e["id"] == id));
        if let Some(entry) = found {
            return Some(entry.clone());
        }
        if tokio::time::Instant::now() > deadline {
            return None;
        }
        // The admin API has no change feed; poll it briefly.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Blobs by digest, as the gateway's store names them.
#[derive(Default)]
pub struct Blobs(HashMap<String, Vec<u8>>);

impl Blobs {
    pub fn add(&mut self, bytes: Vec<u8>, mimetype: &str, file_name: Option<&str>) -> MediaBlob {
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let blob = MediaBlob {
            sha256: sha256.clone(),
            size: bytes.len() as u64,
            mimetype: mimetype.into(),
            file_name: file_name.map(str::to_string),
        };
        self.0.insert(sha256, bytes);
        blob
    }
}

#[async_trait]
impl MediaSource for Blobs {
    async fn read(&self, blob: &MediaBlob) -> std::io::Result<Vec<u8>> {
        self.0
            .get(&blob.sha256)
            .cloned()
            .ok_or_else(|| std::io::ErrorKind::NotFound.into())
    }
}

/// Pseudo-random bytes (xorshift), distinct per seed.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}
